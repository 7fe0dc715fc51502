/**
 * Every program in examples/ runs as an embedder would run it (`ethp2p` resolves to src/ through
 * tsconfig's paths here, to the installed package in scripts/consumer-test.mjs) and prints what it
 * promises. They use the active backend, like everything an embedder writes.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'

const root = join(import.meta.dirname, '..')

function run(name: string): Promise<string[]> {
  return new Promise((resolve, reject) =>
    execFile(process.execPath, ['--import', 'tsx', join('examples', `${name}.ts`)], { cwd: root, timeout: 120_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${name}: ${err.message}\n${stderr}`)) : resolve(stdout.trim().split('\n')),
    ),
  )
}

describe('examples', () => {
  it('every example has a test here', () => {
    const files = readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.ts')).sort()
    assert.deepEqual(files, ['crawl.ts', 'custom-protocol.ts', 'discovery.ts', 'verify-batch.ts'])
  })

  it('crawl: every node of the loopback network found, every live one answered', async () => {
    const [head, ...networks] = await run('crawl')
    const m = /^found (\d+) of (\d+) nodes; (\d+) of the (\d+) live ones answered$/.exec(head!)
    assert.ok(m, head)
    const [found, total, answered, live] = m.slice(1).map(Number)
    assert.equal(total, 200)
    assert.equal(found, total)
    assert.equal(live, 180) // startTestnet's default: a tenth of the nodes never answer
    assert.equal(answered, live)
    const perNetwork = networks.map((l) => Number(/^ {2}.+: (\d+)$/.exec(l)?.[1]))
    assert.equal(
      perNetwork.reduce((a, b) => a + b, 0),
      answered,
    )
  })

  it('custom-protocol: kv/1 answers known and unknown keys, then the asker hangs up', async () => {
    const out = await run('custom-protocol')
    assert.match(out[0]!, /^holder listening as enode:\/\/[0-9a-f]{128}@127\.0\.0\.1:\d+$/)
    assert.deepEqual(out.slice(1), ['greeting = "hello"', 'answer = "42"', 'missing = ""', 'peer left: disconnect requested (its request)'])
  })

  it('discovery: twenty distinct nodes of the network, each with its signed record', async () => {
    const out = await run('discovery')
    assert.match(out[0]!, /^listening as enode:\/\/[0-9a-f]{128}@127\.0\.0\.1:\d+$/)
    const nodes = out.slice(1, -1)
    assert.equal(nodes.length, 20)
    for (const l of nodes) assert.match(l, /^[0-9a-f]{16}… seq [1-9]\d* at 127\.\d+\.\d+\.\d+:\d+$/)
    assert.equal(new Set(nodes.map((l) => l.slice(0, 16))).size, 20)
    const table = Number(/^20 nodes with records; the table holds (\d+)$/.exec(out.at(-1)!)?.[1])
    assert.ok(table > 0, out.at(-1))
  })

  it('verify-batch: the spoiled datagrams are told apart, the rest attributed to their 20 signers', async () => {
    const out = await run('verify-batch')
    assert.match(out[0]!, /^(native|wasm|js) backend: 2000 datagrams checked in [\d.]+ ms$/)
    assert.deepEqual(out.slice(1), [
      'valid: 1997, from 20 signers',
      'rejected bad-hash: 1',
      'rejected bad-signature: 1',
      'rejected too-short: 1',
      'first: ping version 4 from 127.0.0.1',
    ])
  })
})
