/** `ethp2p probe` as a user runs it: a child process against nodes of an in-process testnet. */
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { formatEnode } from '../../src/enode/url.js'
import { forkHashes } from '../../src/eth/forkid.js'
import { startTestnet, type Testnet, type TestnetNode } from '../../src/testnet/testnet.js'

const MAIN = join(import.meta.dirname, '../../src/cli/main.ts')
const children: ChildProcess[] = []
let net: Testnet
before(async () => {
  net = await startTestnet({ nodes: 20, deadFraction: 0.2, rlpxFraction: 0.5 })
})
after(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
  await net.close()
})

interface StepJson {
  ok: boolean
  ms: number
  error?: string
  [k: string]: unknown
}

function probe(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'probe', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })))
}

function find(pred: (m: TestnetNode) => boolean): TestnetNode {
  const m = net.nodes.find(pred)
  assert.ok(m, 'the testnet has such a node')
  return m
}

describe('ethp2p probe', () => {
  it('a node with RLPx: bond, ENR, Hello and Status, each timed; exit 0', async () => {
    const m = find((n) => n.rlpx?.behaviour === 'ok')
    const r = await probe([formatEnode(m.node)])
    assert.equal(r.code, 0, r.stderr)
    const j = JSON.parse(r.stdout) as Record<string, StepJson> & { reachable: boolean; totalMs: number }
    assert.equal(j.reachable, true)
    for (const step of ['bond', 'enr', 'rlpx', 'hello', 'status']) {
      assert.equal(j[step]!.ok, true, `${step}: ${j[step]!.error}`)
      assert.equal(typeof j[step]!.ms, 'number')
    }
    assert.equal(j['enr']!['record'], m.enr.toText())
    assert.equal(j['hello']!['clientId'], m.rlpx!.clientId)
    assert.equal(j['status']!['chain'], m.rlpx!.chain.name)
    assert.deepEqual(j['status']!['forkId'], { hash: Buffer.from(forkHashes(m.rlpx!.chain).at(-1)!).toString('hex'), next: 0 })
    assert.match(r.stderr, /verdict reachable over discovery \+ RLPx/)
  })

  it('a busy node: Hello, then TooManyPeers instead of a Status; still reachable', async () => {
    const m = find((n) => n.rlpx?.behaviour === 'busy-after-hello')
    const r = await probe([formatEnode(m.node)])
    assert.equal(r.code, 0, r.stderr)
    const j = JSON.parse(r.stdout) as Record<string, StepJson>
    assert.equal(j['hello']!.ok, true)
    assert.equal(j['status']!.ok, false)
    assert.match(j['status']!.error ?? '', /too many peers/)
    assert.deepEqual(j['disconnect'], { reason: 'too many peers', code: 4, by: 'remote' })
  })

  it('a node that answers nothing: exit 1, every step failed', async () => {
    const m = find((n) => n.behaviour === 'dead')
    const r = await probe([formatEnode(m.node), '--timeout', '1'])
    assert.equal(r.code, 1, r.stderr)
    const j = JSON.parse(r.stdout) as Record<string, StepJson> & { reachable: boolean }
    assert.equal(j.reachable, false)
    for (const step of ['bond', 'enr', 'rlpx', 'hello', 'status']) assert.equal(j[step]!.ok, false, step)
    assert.match(r.stderr, /nothing answered/)
  })

  it('bad arguments exit 2 with a one-line reason', async () => {
    for (const args of [[], ['enode://zz'], [formatEnode(net.nodes[0]!.node), '--timeout', '-1']]) {
      const r = await probe(args)
      assert.equal(r.code, 2, args.join(' '))
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
    }
  })
})
