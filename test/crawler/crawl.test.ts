/** The crawl engine against an in-process loopback testnet: recall, records, outputs, resume, bad peers. */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { backend, randomPrivateKey } from '../../src/crypto/backend.js'
import { hex } from '../../src/crypto/bytes.js'
import { Crawler } from '../../src/crawler/crawl.js'
import type { CrawlError } from '../../src/crawler/options.js'
import type { CrawlRecord } from '../../src/crawler/record.js'
import { CsvWriter, JsonlWriter, nodeSet, summarize, writeNodesJson } from '../../src/crawler/output.js'
import { compareCrawls, CrawlStore, snapshotCrawl } from '../../src/crawler/store.js'
import { TargetTable } from '../../src/crawler/targets.js'
import { Discv4 } from '../../src/discover/udp.js'
import { REPLY_TIMEOUT_MS } from '../timing.js'
import { ENR } from '../../src/enode/enr.js'
import { Node } from '../../src/enode/node.js'
import { startTestnet, type Testnet } from '../../src/testnet/testnet.js'

const targets = TargetTable.build(backend, new Uint8Array(56).fill(9))
const dirs: string[] = []
const open: { close(): Promise<void> }[] = []
after(async () => {
  for (const o of open.reverse()) await o.close()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

async function crawler(net: Testnet, extra: Partial<ConstructorParameters<typeof Crawler>[0]> = {}): Promise<{ c: Crawler; records: Map<string, CrawlRecord> }> {
  const disc = await Discv4.listen({ privateKey: randomPrivateKey(), host: '127.0.0.1', port: 0, batchVerify: true, refreshIntervalMs: 3600_000, replyTimeoutMs: REPLY_TIMEOUT_MS })
  open.push(disc)
  const c = new Crawler({ transport: disc, seeds: net.bootnodes, targets, retryDelayMs: 100, attempts: 2, ...extra })
  const records = new Map<string, CrawlRecord>()
  c.on('record', (r) => records.set(r.id, r))
  return { c, records }
}

describe('crawl of a 300-node testnet', () => {
  let net: Testnet
  let first: Map<string, CrawlRecord>
  const dir = mkdtempSync(join(tmpdir(), 'ethp2p-crawl-'))
  dirs.push(dir)
  before(async () => {
    net = await startTestnet({ nodes: 300, deadFraction: 0.1 })
    open.push(net)
  })

  it('finds every node once; live ones answered with their exact record, dead ones unanswered', async () => {
    const answeredEarly: string[] = []
    const { c, records } = await crawler(net, { onNode: (r) => answeredEarly.push(r.id) })
    let dup = 0
    const seen = new Set<string>()
    c.on('record', (r) => (seen.has(r.id) ? dup++ : seen.add(r.id)))
    const p = await c.run()
    assert.equal(dup, 0)
    assert.equal(p.found, 300)
    assert.equal(records.size, 300)
    for (const m of net.nodes) {
      const r = records.get(hex(m.node.pubkey))
      assert.ok(r, 'every node found')
      if (m.behaviour === 'live') {
        assert.equal(r.answered, true)
        assert.equal(r.enr, m.enr.toText())
        assert.equal(r.seq, Number(m.enr.seq))
        assert.deepEqual([r.ip, r.udp, r.tcp], [m.node.ip, m.node.udp, m.node.tcp])
        assert.equal(r.eth2, m.enr.isEth2)
        assert.equal(r.network, m.enr.ethForkId ? m.rlpx?.chain.name ?? 'mainnet' : undefined)
        assert.ok((r.neighbors ?? 0) > 0)
      } else {
        assert.equal(r.answered, false)
        assert.match(r.error ?? '', /timed out/)
      }
    }
    assert.equal(answeredEarly.length, 270, 'the dial hook saw every answering node once')
    first = records
  })

  it('outputs parse: JSON lines, CSV, geth nodes.json', async () => {
    const recs = [...first.values()]
    const jl = JsonlWriter.toFile(join(dir, 'out.jsonl'))
    const csv = await CsvWriter.toFile(join(dir, 'out.csv'))
    for (const r of recs) {
      await jl.write(r)
      await csv.write(r)
    }
    await jl.close()
    await csv.close()
    const lines = readFileSync(join(dir, 'out.jsonl'), 'utf8').trim().split('\n')
    assert.equal(lines.length, 300)
    for (const l of lines) {
      const o = JSON.parse(l) as CrawlRecord
      assert.match(o.id, /^[0-9a-f]{128}$/)
      for (const k of ['ip', 'udp', 'tcp', 'firstSeen', 'lastSeen', 'answered'] as const) assert.ok(k in o, k)
    }
    const rows = readFileSync(join(dir, 'out.csv'), 'utf8').trim().split('\n')
    assert.equal(rows.length, 301)
    assert.equal(rows[0]!.split(',')[0], 'id')
    assert.ok(rows.slice(1).every((r) => r.split(',').length === rows[0]!.split(',').length))

    writeNodesJson(join(dir, 'nodes.json'), nodeSet(recs))
    const set = JSON.parse(readFileSync(join(dir, 'nodes.json'), 'utf8')) as Record<string, { seq: number; record: string; score?: number }>
    assert.equal(Object.keys(set).length, 270)
    for (const [id, e] of Object.entries(set)) {
      const enr = ENR.parseText(e.record)
      assert.equal(hex(enr.nodeId), id, 'keyed by node ID')
      assert.equal(BigInt(e.seq), enr.seq)
      assert.equal(e.score, 1)
    }
    const s = summarize(recs, 1)
    assert.equal(s.answered, 270)
    assert.equal(s.unanswered, 30)
  })

  it('a resumed crawl starts from the store, reports each node once and keeps first sightings', async () => {
    const store = CrawlStore.open(join(dir, 'data'))
    for (const r of first.values()) await store.put(r)
    await store.flush()
    const previous = store.previous()
    assert.equal(previous.length, 300)
    // no seeds at all: the store alone must carry the crawl
    const disc = await Discv4.listen({ privateKey: randomPrivateKey(), host: '127.0.0.1', port: 0, batchVerify: true, refreshIntervalMs: 3600_000, replyTimeoutMs: REPLY_TIMEOUT_MS })
    open.push(disc)
    const c = new Crawler({ transport: disc, previous, targets, retryDelayMs: 100, attempts: 2 })
    const again = new Map<string, CrawlRecord>()
    let dup = 0
    c.on('record', (r) => {
      if (again.has(r.id)) dup++
      again.set(r.id, r)
    })
    await c.run()
    assert.equal(dup, 0)
    assert.equal(again.size, 300)
    for (const [id, r] of again) assert.equal(r.firstSeen, first.get(id)!.firstSeen)
    const diff = compareCrawls(again.values(), snapshotCrawl(store))
    assert.deepEqual([diff.new.length, diff.gone.length, diff.changed.length, diff.same], [0, 0, 0, 270])
    for (const r of again.values()) await store.put(r)
    await store.flush()
    assert.equal(store.size, 300)
    assert.equal(store.get([...again.values()].find((r) => r.answered)!.id)!.score, 2)
    await store.close()
  })
})

describe('crawl with bad peers', () => {
  it('unreachable and impostor bootnodes and garbage replies: clear errors, the crawl goes on', async () => {
    const net = await startTestnet({ nodes: 120, deadFraction: 0.1, garbageFraction: 0.1 })
    open.push(net)
    const live = net.nodes.filter((m) => m.behaviour === 'live')
    // nobody listens there
    const unreachable = new Node(backend.publicKey(randomPrivateKey()), '127.0.0.1', 9, 9)
    // a live node's address under another identity: its replies are signed by the wrong key
    const impostor = new Node(backend.publicKey(randomPrivateKey()), live[5]!.node.ip, live[5]!.node.udp, live[5]!.node.udp)
    const disc = await Discv4.listen({ privateKey: randomPrivateKey(), host: '127.0.0.1', port: 0, batchVerify: true, refreshIntervalMs: 3600_000, replyTimeoutMs: REPLY_TIMEOUT_MS })
    open.push(disc)
    const c = new Crawler({ transport: disc, seeds: [unreachable, impostor, ...net.bootnodes], targets, retryDelayMs: 100, attempts: 2 })
    const errors: CrawlError[] = []
    const records = new Map<string, CrawlRecord>()
    c.on('nodeError', (e) => errors.push(e))
    c.on('record', (r) => records.set(r.id, r))
    await c.run()
    for (const m of live) assert.equal(records.get(hex(m.node.pubkey))?.answered, true)
    for (const bad of [unreachable, impostor]) {
      const e = errors.find((x) => x.endpoint === `${bad.ip}:${bad.udp}`)
      assert.ok(e, 'an error names the endpoint')
      assert.equal(e.code, 'UNANSWERED')
      assert.match(e.message, /no answer after 2 attempts: ping to .* timed out/)
      assert.equal(records.get(hex(bad.pubkey))?.answered, false)
    }
    for (const m of net.nodes.filter((x) => x.behaviour === 'garbage')) assert.equal(records.get(hex(m.node.pubkey))?.answered, false)
    assert.ok(disc.stats.dropped.verify > 0, 'garbage was dropped by the transport')
  })

  it('a duration limit ends the crawl and still reports every node found', async () => {
    const net = await startTestnet({ nodes: 200, deadFraction: 0.5 })
    open.push(net)
    const disc = await Discv4.listen({ privateKey: randomPrivateKey(), host: '127.0.0.1', port: 0, batchVerify: true, refreshIntervalMs: 3600_000, replyTimeoutMs: REPLY_TIMEOUT_MS })
    open.push(disc)
    // one visit at a time and long backoffs: the limit always comes first
    const c = new Crawler({ transport: disc, seeds: net.bootnodes, targets, maxPending: 1, retryDelayMs: 60_000, durationMs: 1500 })
    const ids = new Set<string>()
    let dup = 0
    for await (const r of c.records()) (ids.has(r.id) ? dup++ : ids.add(r.id))
    assert.equal(dup, 0)
    assert.equal(ids.size, c.progress().found)
    assert.ok(c.progress().found > net.bootnodes.length)
  })
})
