/**
 * `ethp2p nodeset filter` as a user runs it: a crawl's JSONL, a nodes.json and a SQLite history in,
 * the matching nodes out in the format asked; exit 2 for bad arguments, 1 for a source that cannot be read.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { randomPrivateKey } from '../../src/crypto/backend.js'
import { hex } from '../../src/crypto/bytes.js'
import { ENR } from '../../src/enode/enr.js'
import { parseEnode } from '../../src/enode/url.js'
import { openHistory } from '../../src/history/db.js'
import { writeCrawl } from '../../src/history/write.js'
import { generateCrawl, T0 } from './fixtures.js'

const MAIN = join(import.meta.dirname, '../../src/cli/main.ts')
const dir = mkdtempSync(join(tmpdir(), 'ethp2p-nodeset-cli-'))
after(() => rmSync(dir, { recursive: true, force: true }))

function run(args: string[], stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  child.stdin.end(stdin)
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })))
}

const nodes = generateCrawl(40)
const jsonl = join(dir, 'crawl.jsonl')
const db = join(dir, 'history.sqlite')
const ids = (pred: (t: (typeof nodes)[number]['truth']) => boolean): string[] =>
  nodes
    .filter((g) => pred(g.truth))
    .map((g) => g.record.id)
    .sort()

before(async () => {
  // a streamed crawl file carries no synced; two bad lines are left out with a word on stderr
  const lines = nodes.map((g) => JSON.stringify({ ...g.record, synced: undefined }))
  lines.splice(3, 0, '{"id": "broken"', JSON.stringify({ id: 'ab', ip: '1.2.3.4' }))
  writeFileSync(jsonl, lines.join('\n') + '\n')
  const h = await openHistory({ engine: 'sqlite', file: db })
  try {
    await writeCrawl(h, { vantage: 'lab', startedAt: T0, endedAt: T0 + 60_000, options: {} }, nodes.map((g) => g.record))
  } finally {
    await h.close()
  }
})

describe('ethp2p nodeset filter', () => {
  it('a crawl JSONL to enode URLs on stdout: exactly the matching nodes, bad lines reported', async () => {
    const r = await run(['nodeset', 'filter', jsonl, '--network', 'mainnet', '--client', 'geth', '--format', 'enodes'])
    assert.equal(r.code, 0, r.stderr)
    const got = r.stdout.trimEnd().split('\n').map((l) => hex(parseEnode(l).pubkey))
    assert.deepEqual(got.sort(), ids((t) => t.net === 'mainnet' && t.client === 'geth'))
    assert.match(r.stderr, /line 4: not JSON/)
    assert.match(r.stderr, /line 5: id is not a 128-hex public key/)
    assert.match(r.stderr, new RegExp(`nodeset: ${got.length} of 40 nodes of .*crawl\\.jsonl as enodes; 2 bad entries left out`))
  })

  it("nodes.json by default, readable by the command again (geth's layout); -o FILE.jsonl picks JSONL", async () => {
    const set = join(dir, 'set.json')
    const r = await run(['nodeset', 'filter', jsonl, '--protocol', 'v5', '-o', set])
    assert.equal(r.code, 0, r.stderr)
    const doc = JSON.parse(readFileSync(set, 'utf8')) as Record<string, { record: string }>
    const want = ids((t) => t.answeredOn.includes('v5'))
    assert.deepEqual(Object.values(doc).map((e) => hex(ENR.parseText(e.record).pubkey)).sort(), want)
    // the set filtered again, from stdin, as ENRs: the network comes from the records' eth entries
    const again = await run(['nodeset', 'filter', '-', '--network', 'sepolia', '--format', 'enrs'], readFileSync(set, 'utf8'))
    assert.equal(again.code, 0, again.stderr)
    assert.deepEqual(again.stdout.trimEnd().split('\n').map((l) => hex(ENR.parseText(l).pubkey)).sort(), ids((t) => t.answeredOn.includes('v5') && t.net === 'sepolia'))
    const out = join(dir, 'out.jsonl')
    const j = await run(['nodeset', 'filter', jsonl, '--country', 'FR', '--limit', '3', '-o', out])
    assert.equal(j.code, 0, j.stderr)
    const recs = readFileSync(out, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { id: string; country: string; answered: boolean })
    assert.equal(recs.length, 3)
    assert.ok(recs.every((x) => x.country === 'FR' && x.answered))
    assert.match(j.stderr, /\(\d+ matched, --limit 3\)/)
  })

  it('--synced on a streamed crawl judges heads over the file; a history answers from its stored verdicts', async () => {
    const r = await run(['nodeset', 'filter', `sqlite:${db}`, '--synced', '--format', 'jsonl'])
    assert.equal(r.code, 0, r.stderr)
    const got = r.stdout.trimEnd().split('\n').map((l) => (JSON.parse(l) as { id: string }).id)
    assert.deepEqual(got.sort(), ids((t) => t.synced === true))
    assert.match(r.stderr, /of sqlite:.*history\.sqlite crawl 1/)
    // the generated records carry no heads: the file has no verdict, so nothing is synced there
    const f = await run(['nodeset', 'filter', jsonl, '--synced', '--format', 'jsonl'])
    assert.equal(f.code, 0, f.stderr)
    assert.equal(f.stdout, '')
    const c = await run(['nodeset', 'filter', `sqlite:${db}`, '--crawl', '1', '--asn', '3320', '--format', 'csv'])
    assert.equal(c.code, 0, c.stderr)
    assert.deepEqual(c.stdout.trimEnd().split('\n').slice(1).map((l) => l.split(',')[0]).sort(), ids((t) => t.asn === 3320))
  })

  it('--country and --asn look up records that have neither (a nodes.json) in the offline databases', async () => {
    const doc: Record<string, unknown> = {}
    const keys: Record<string, string> = {}
    for (const ip of ['8.8.8.8', '1.1.1.1', '10.1.2.3']) {
      const enr = ENR.sign(randomPrivateKey(), { ip, udp: 30303, tcp: 30303 })
      doc[hex(enr.nodeId)] = { seq: 1, record: enr.toText(), score: 1, lastResponse: new Date(T0).toISOString(), lastCheck: new Date(T0).toISOString() }
      keys[ip] = hex(enr.pubkey)
    }
    const file = join(dir, 'geo.json')
    writeFileSync(file, JSON.stringify(doc))
    const us = await run(['nodeset', 'filter', file, '--country', 'US', '--format', 'enodes'])
    assert.equal(us.code, 0, us.stderr)
    assert.deepEqual(us.stdout.trimEnd().split('\n').map((l) => hex(parseEnode(l).pubkey)), [keys['8.8.8.8']])
    const cf = await run(['nodeset', 'filter', file, '--asn', 'AS13335', '--format', 'enodes'])
    assert.equal(cf.code, 0, cf.stderr)
    assert.deepEqual(cf.stdout.trimEnd().split('\n').map((l) => hex(parseEnode(l).pubkey)), [keys['1.1.1.1']])
  })

  it('bad arguments exit 2 with a one-line reason; a source that cannot be read exits 1', async () => {
    const two: [string[], RegExp][] = [
      [['nodeset', 'filter', jsonl, '--network', 'goerli'], /--network: one of mainnet/],
      [['nodeset', 'filter', jsonl, '--min-version', '1.14'], /--min-version: needs client/],
      [['nodeset', 'filter', jsonl, '--answered-within', 'soon'], /--answered-within: a duration/],
      [['nodeset', 'filter', jsonl, '--format', 'xml'], /--format: one of nodes.json/],
      [['nodeset', 'filter', join(dir, 'missing.jsonl')], /missing\.jsonl: no such file/],
      [['nodeset', 'filter', jsonl, '--crawl', '1'], /--crawl and --vantage choose a crawl of a history/],
      [['nodeset', 'filter', `sqlite:${db}`, '--crawl', '9'], /no crawl 9 in the history/],
      [['nodeset', 'filter', `sqlite:${join(dir, 'none.sqlite')}`], /none\.sqlite: no such file/],
      [['nodeset', 'filter', 'postgres:///db'], /not a valid postgres:\/\/ URL/],
      [['nodeset', 'filter', join(dir, 'set.json'), '--protocol', 'v4'], /--protocol: a nodes.json does not say/],
      [['nodeset', 'filter'], /missing required argument/],
    ]
    for (const [args, reason] of two) {
      const r = await run(args)
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, reason)
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr)
    }
    const broken = join(dir, 'broken.json')
    writeFileSync(broken, `{"${'a'.repeat(64)}": {"seq": 1,`)
    const r = await run(['nodeset', 'filter', broken])
    assert.equal(r.code, 1, r.stderr)
    assert.match(r.stderr, /not JSON/)
  })
})
