/** `ethp2p crawl` and `ethp2p testnet` as a user runs them: child processes, output lines, exit codes. */
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { after, describe, it } from 'node:test'
import { parseEnode } from '../../src/enode/url.js'
import { backend, randomPrivateKey } from '../../src/crypto/backend.js'
import { hex } from '../../src/crypto/bytes.js'

const MAIN = join(import.meta.dirname, '../../src/cli/main.ts')
const children: ChildProcess[] = []
const dir = mkdtempSync(join(tmpdir(), 'ethp2p-crawl-cli-'))
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
})

function run(args: string[]): { child: ChildProcess; stdout: () => string; stderr: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  let out = ''
  let err = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()))
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  return { child, stdout: () => out, stderr: () => err, exit }
}

describe('ethp2p crawl', () => {
  it('--testnet 50: one JSON line per node on stdout, a summary on stderr, exit 0; a second run resumes', async () => {
    const datadir = join(dir, 'data')
    const r = run(['crawl', '--testnet', '50', '--duration', '120', '--datadir', datadir, '--csv', join(dir, 'c.csv'), '--nodes-json', join(dir, 'nodes.json')])
    assert.equal(await r.exit, 0, r.stderr())
    const lines = r.stdout().trim().split('\n').map((l) => JSON.parse(l) as { id: string; answered: boolean; enr?: string; seq?: number })
    assert.equal(lines.length, 50)
    assert.equal(new Set(lines.map((l) => l.id)).size, 50)
    assert.equal(lines.filter((l) => l.answered).length, 45)
    assert.ok(lines.filter((l) => l.answered).every((l) => l.enr?.startsWith('enr:') && typeof l.seq === 'number'))
    assert.match(r.stderr(), /crawl: 50 found, 45 answered, 5 unanswered/)
    assert.equal(readFileSync(join(dir, 'c.csv'), 'utf8').trim().split('\n').length, 51)
    // loopback nodes: the geography databases are read but give nothing; the CSV still has the columns
    assert.ok(lines.every((l) => !('country' in l) && !('asn' in l) && !('asOrg' in l)))
    assert.match(readFileSync(join(dir, 'c.csv'), 'utf8').split('\n')[0]!, /,country,asn,asOrg,headNumber,headHash,headTime$/)
    assert.equal(Object.keys(JSON.parse(readFileSync(join(dir, 'nodes.json'), 'utf8')) as object).length, 45)

    // a new testnet (new keys) crawled into the same datadir, compared with what it held before: the old
    // nodes are re-checked and gone, the new ones new; nothing reported twice
    const again = run(['crawl', '--testnet', '50', '--duration', '120', '--datadir', datadir, '--since', datadir, '--out', join(dir, 'b.jsonl')])
    assert.equal(await again.exit, 0, again.stderr())
    const ids = readFileSync(join(dir, 'b.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id)
    assert.equal(new Set(ids).size, ids.length)
    assert.equal(ids.length, 100)
    assert.match(again.stderr(), /since: 45 new, 45 gone, 0 changed, 0 same/)
  })

  it('--testnet 40 --dial: RLPx fields on dialled nodes, clients by name in the summary', async () => {
    const r = run(['crawl', '--testnet', '40', '--dial', '--dial-concurrency', '8', '--duration', '120'])
    assert.equal(await r.exit, 0, r.stderr())
    const lines = r.stdout().trim().split('\n').map((l) => JSON.parse(l) as { id: string; answered: boolean; clientId?: string; caps?: string[]; chain?: string; dialError?: string })
    assert.equal(lines.length, 40)
    assert.equal(new Set(lines.map((l) => l.id)).size, 40)
    const hellos = lines.filter((l) => l.clientId !== undefined)
    assert.ok(hellos.length > 0, 'some nodes answered Hello')
    assert.ok(hellos.every((l) => l.caps?.includes('eth/68')))
    // every answering node was dialled: a Hello, a refusal or a goodbye is on its record
    assert.ok(lines.filter((l) => l.answered).every((l) => l.clientId !== undefined || /rlpx:|hello:/.test(l.dialError ?? '')))
    assert.match(r.stderr(), /dialled: 36, hello \d+, status \d+, inbound 0/)
    assert.match(r.stderr(), /clients by name: geth \d+/)
  })

  it('--testnet 60 --rtt 60 --loss 0.05 --dead 0.2 --workers 1 (crypto on the event loop): every live node answers; records carry attempts and round trips', async () => {
    const r = run(['crawl', '--testnet', '60', '--rtt', '60', '--loss', '0.05', '--dead', '0.2', '--workers', '1', '--duration', '120'])
    assert.equal(await r.exit, 0, r.stderr())
    const lines = r.stdout().trim().split('\n').map((l) => JSON.parse(l) as { answered: boolean; attempts?: number; rttMs?: number })
    assert.equal(lines.length, 60)
    const answered = lines.filter((l) => l.answered)
    assert.equal(answered.length, 48)
    // each node's round trip lies in 0.5–1.5 × 60 ms, less jitter
    assert.ok(answered.every((l) => l.rttMs !== undefined && l.rttMs >= 25), JSON.stringify(answered.map((l) => l.rttMs)))
    assert.ok(lines.filter((l) => !l.answered).every((l) => l.attempts === 4))
  })

  it('--testnet 80 --protocols v4,v5: both DHTs, consensus nodes over discv5 only, one line per node; --discv5 alone', async () => {
    const r = run(['crawl', '--testnet', '80', '--protocols', 'v4,v5', '--duration', '120'])
    assert.equal(await r.exit, 0, r.stderr())
    const lines = r.stdout().trim().split('\n').map((l) => JSON.parse(l) as { id: string; answered: boolean; protocols?: string[]; consensus?: { network: string } })
    assert.equal(lines.length, 80)
    assert.equal(new Set(lines.map((l) => l.id)).size, 80)
    const answered = lines.filter((l) => l.answered)
    assert.equal(answered.length, 72)
    assert.ok(answered.some((l) => l.protocols?.join() === 'v5' && l.consensus !== undefined))
    assert.ok(answered.some((l) => l.protocols?.join() === 'v4,v5'))
    assert.match(r.stderr(), /protocols: v4 only \d+, v5 only [1-9]\d*, both [1-9]\d*/)
    const v5 = run(['crawl', '--testnet', '60', '--discv5', '--duration', '120'])
    assert.equal(await v5.exit, 0, v5.stderr())
    const v5lines = v5.stdout().trim().split('\n').map((l) => JSON.parse(l) as { answered: boolean; protocols?: string[] })
    assert.ok(v5lines.filter((l) => l.answered).every((l) => l.protocols?.join() === 'v5'))
    assert.equal(v5lines.filter((l) => l.answered).length, 54)
  })

  it('--testnet 120 --young-tables 0 --v4-only 0.2 --protocols v4,v5: geth-shaped tables and discv4-only nodes, every live node answers on what it speaks; the flags need a testnet', async () => {
    const r = run(['crawl', '--testnet', '120', '--dead', '0', '--young-tables', '0', '--v4-only', '0.2', '--protocols', 'v4,v5', '--duration', '120'])
    assert.equal(await r.exit, 0, r.stderr())
    const lines = r.stdout().trim().split('\n').map((l) => JSON.parse(l) as { answered: boolean; protocols?: string[] })
    assert.equal(lines.length, 120)
    assert.ok(lines.every((l) => l.answered))
    assert.ok(lines.filter((l) => l.protocols?.join() === 'v4').length >= 15, 'discv4-only nodes answer discv4 only')
    assert.match(r.stderr(), /protocols: v4 only [1-9]\d*, v5 only [1-9]\d*, both [1-9]\d*/)
    const bad = run(['crawl', '--bootnodes', `enode://${hex(backend.publicKey(randomPrivateKey()))}@127.0.0.1:30303`, '--young-tables', '0.1'])
    assert.equal(await bad.exit, 2)
    assert.match(bad.stderr(), /describe a --testnet/)
  })

  it('--neighbors FILE --protocols v4,v5: the edges as CSV, an edge out of every node that answered with nodes, none twice; the report gets an in-degree panel', async () => {
    const file = join(dir, 'edges.csv')
    const report = join(dir, 'topology.html')
    const r = run(['crawl', '--testnet', '80', '--protocols', 'v4,v5', '--duration', '120', '--neighbors', file, '--report', report])
    assert.equal(await r.exit, 0, r.stderr())
    const records = r.stdout().trim().split('\n').map((l) => JSON.parse(l) as { id: string; answered: boolean; neighbors?: number; protocols?: string[] })
    const ids = new Set(records.map((l) => l.id))
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n')
    assert.equal(lines[0], 'from,to,distance')
    const edges = lines.slice(1).map((l) => l.split(','))
    assert.ok(edges.length > 500, `${edges.length} edges`)
    assert.equal(new Set(edges.map(([f, t]) => `${f},${t}`)).size, edges.length, 'no duplicate edges')
    for (const [f, t, d] of edges) {
      assert.ok(ids.has(f!) && ids.has(t!), 'edges name crawled nodes by their JSONL id')
      assert.ok(Number(d) >= 1 && Number(d) <= 256)
    }
    const from = new Set(edges.map(([f]) => f))
    for (const l of records) if (l.answered && (l.neighbors ?? 0) > 0) assert.ok(from.has(l.id), `an edge out of ${l.id.slice(0, 8)}`)
    assert.ok(records.some((l) => l.protocols?.join() === 'v5' && from.has(l.id)), 'discv5-only nodes give edges')
    assert.match(r.stderr(), new RegExp(`edges: ${edges.length} table entries from \\d+ tables naming \\d+ nodes`))
    const html = readFileSync(report, 'utf8')
    assert.match(html, /In-degree: how many tables list each answering node/)
    assert.match(html, new RegExp(`${edges.length.toLocaleString('en-US')} table entries`))
  })

  it('bad arguments exit 2 with a one-line reason', async () => {
    for (const args of [['crawl', '--testnet', '5', '--protocols', 'v6'], ['crawl', '--bootnodes', 'enr:-notarecord'], ['crawl', '--testnet', '5', '--loss', '1'], ['crawl', '--testnet', '5', '--rtt', 'fast'], ['crawl', '--bootnodes', 'enode://' + 'ab'.repeat(64) + '@127.0.0.1:30303', '--rtt', '100'], ['testnet', '--nodes', '5', '--dead', '2'], ['crawl', '--testnet', '5', '--rate', '0'], ['crawl', '--testnet', '5', '--workers', '0'], ['crawl', '--dial-concurrency', '0'], ['crawl'], ['crawl', '--network', 'ropsten'], ['crawl', '--dns', 'http://x'], ['crawl', '--testnet', '0'], ['crawl', '--bootnodes', 'enode://zz'], ['crawl', '--testnet', '5', '--since', join(dir, 'nope')], ['crawl', '--testnet', '5', '--geoip-dir', join(dir, 'no-geoip')], ['testnet']]) {
      const r = run(args)
      assert.equal(await r.exit, 2, args.join(' '))
      assert.equal(r.stderr().trim().split('\n').length, 1, r.stderr())
    }
  })
})

describe('ethp2p testnet', () => {
  it('prints its bootnode enodes first and exits 0 on SIGINT', async () => {
    const r = run(['testnet', '--nodes', '20', '--duration', '60'])
    const first = await new Promise<string>((resolve) => createInterface({ input: r.child.stdout! }).once('line', resolve))
    const boot = first.split(',').map((u) => parseEnode(u))
    assert.equal(boot.length, 3)
    assert.ok(boot.every((n) => n.ip.startsWith('127.')))
    r.child.kill('SIGINT')
    assert.equal(await r.exit, 0)
  })
})
