/**
 * The crawl's topology: every table entry a FINDNODE answer names is an `edge` event (answering node,
 * listed node, log distance), once per pair, checked against the testnet's tables (ground truth);
 * the edges CSV; the pair set that de-duplicates them; and a crawl without a listener builds nothing.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { backend, randomPrivateKey } from '../../src/crypto/backend.js'
import { hex } from '../../src/crypto/bytes.js'
import { Crawler } from '../../src/crawler/crawl.js'
import { PairSet } from '../../src/crawler/edges.js'
import { EdgeCsvWriter } from '../../src/crawler/output.js'
import type { CrawlRecord } from '../../src/crawler/record.js'
import { TargetTable } from '../../src/crawler/targets.js'
import { listenDiscovery } from '../../src/discover/both.js'
import { logDistance } from '../../src/discover/kademlia.js'
import type { Node } from '../../src/enode/node.js'
import { startTestnet, type Testnet, type TestnetOptions } from '../../src/testnet/testnet.js'
import { REPLY_TIMEOUT_MS } from '../timing.js'

const targets = TargetTable.build(backend, new Uint8Array(56).fill(5))
const open: { close(): Promise<void> }[] = []
const dir = mkdtempSync(join(tmpdir(), 'ethp2p-edges-'))
after(async () => {
  for (const o of open.reverse()) await o.close()
  rmSync(dir, { recursive: true, force: true })
})

interface Edge {
  from: string
  to: string
  distance: number
}

async function crawl(netOpts: TestnetOptions, protocols: ('v4' | 'v5')[], listen = true): Promise<{ net: Testnet; records: Map<string, CrawlRecord>; edges: Edge[]; crawler: Crawler }> {
  const net = await startTestnet(netOpts)
  open.push(net)
  const v5 = protocols.includes('v5')
  const disc = await listenDiscovery({ privateKey: randomPrivateKey(), host: '127.0.0.1', port: 0, batchVerify: true, refreshIntervalMs: 3600_000, replyTimeoutMs: REPLY_TIMEOUT_MS }, v5 && { replyTimeoutMs: REPLY_TIMEOUT_MS })
  open.push(disc)
  const crawler = new Crawler({ transport: disc, seeds: v5 ? net.bootENRs : net.bootnodes, protocols, targets, retryDelayMs: 100, attempts: 3 })
  const records = new Map<string, CrawlRecord>()
  const edges: Edge[] = []
  crawler.on('record', (r) => records.set(r.id, r))
  if (listen) crawler.on('edge', (from, to, distance) => edges.push({ from, to, distance }))
  await crawler.run()
  return { net, records, edges, crawler }
}

/** the testnet's tables by public key: listed node → its log distance from the table's owner */
function groundTruth(net: Testnet, which: 'table' | 'table5'): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>()
  for (const m of net.nodes) {
    const t = new Map<string, number>()
    for (const x of (m[which] ?? []) as Node[]) t.set(hex(x.pubkey), logDistance(x.id, m.node.id))
    out.set(hex(m.node.pubkey), t)
  }
  return out
}

function assertNoDuplicates(edges: Edge[]): void {
  const pairs = new Set(edges.map((e) => `${e.from}${e.to}`))
  assert.equal(pairs.size, edges.length, 'one edge per (from, to)')
}

describe('edges of a crawl', () => {
  it('discv4: an edge out of every node that answered FINDNODE with nodes, each in its table at that distance, no duplicates', async () => {
    const { net, records, edges } = await crawl({ nodes: 200, deadFraction: 0.1 }, ['v4'])
    const truth = groundTruth(net, 'table')
    assert.ok(edges.length > 1000, `${edges.length} edges`)
    assertNoDuplicates(edges)
    for (const e of edges) {
      const t = truth.get(e.from)
      assert.ok(t, `${e.from.slice(0, 8)} is a testnet node`)
      assert.equal(t.get(e.to), e.distance, `${e.to.slice(0, 8)} is in ${e.from.slice(0, 8)}'s table at distance ${e.distance}`)
      assert.ok(records.has(e.to), 'the listed node was crawled')
    }
    const from = new Set(edges.map((e) => e.from))
    const answeredWithNodes = [...records.values()].filter((r) => r.answered && (r.neighbors ?? 0) > 0)
    assert.ok(answeredWithNodes.length >= 150, `${answeredWithNodes.length} answered with nodes`)
    for (const r of answeredWithNodes) assert.ok(from.has(r.id), `an edge out of ${r.id.slice(0, 8)}`)
    // dead nodes answer nothing: no edge leaves them
    for (const m of net.nodes) if (m.behaviour === 'dead') assert.ok(!from.has(hex(m.node.pubkey)))
  })

  it('discv4 and discv5: discv5 tables give edges too (discv5-only nodes included)', async () => {
    const { net, records, edges } = await crawl({ nodes: 200, discv5: true, v5OnlyFraction: 0.2, deadFraction: 0.1 }, ['v4', 'v5'])
    const t4 = groundTruth(net, 'table')
    const t5 = groundTruth(net, 'table5')
    assertNoDuplicates(edges)
    for (const e of edges) {
      const d = t4.get(e.from)?.get(e.to) ?? t5.get(e.from)?.get(e.to)
      assert.equal(d, e.distance, `${e.to.slice(0, 8)} is in a table of ${e.from.slice(0, 8)} at distance ${e.distance}`)
    }
    const from = new Set(edges.map((e) => e.from))
    const v5only = net.nodes.filter((m) => m.behaviour === 'live' && m.protocols.join() === 'v5')
    assert.ok(v5only.length >= 20)
    for (const m of v5only) {
      const r = records.get(hex(m.node.pubkey))
      if (r?.answered && (r.neighbors ?? 0) > 0) assert.ok(from.has(r.id), `an edge out of discv5-only ${r.id.slice(0, 8)}`)
    }
    assert.ok(v5only.some((m) => from.has(hex(m.node.pubkey))), 'discv5-only nodes list their tables')
    for (const r of records.values()) if (r.answered && (r.neighbors ?? 0) > 0) assert.ok(from.has(r.id), `an edge out of ${r.id.slice(0, 8)}`)
  })

  it('without an edge listener the crawl keeps no edges', async () => {
    const { crawler, records } = await crawl({ nodes: 60, deadFraction: 0 }, ['v4'], false)
    assert.equal(records.size, 60)
    assert.equal((crawler as unknown as { edgeSet: unknown }).edgeSet, undefined)
  })
})

describe('PairSet', () => {
  it('holds each pair once, as a Set of the same pairs does, through growth', () => {
    const s = new PairSet()
    const ref = new Set<number>()
    let x = 12345
    for (let k = 0; k < 50_000; k++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0
      const from = x % 3000
      const to = (x >>> 12) % 2_000_000
      assert.equal(s.add(from, to), !ref.has(from * 2 ** 21 + to))
      ref.add(from * 2 ** 21 + to)
    }
    assert.equal(s.size, ref.size)
    assert.ok(s.has(0, 0) === ref.has(0))
    assert.ok(s.bytes <= 32 * s.size, `${s.bytes} bytes for ${s.size} pairs`)
    assert.throws(() => s.add(2 ** 21, 0), RangeError)
  })
})

describe('EdgeCsvWriter', () => {
  it('writes the header and one line per edge, all of them by close', async () => {
    const file = join(dir, 'e.csv')
    const w = EdgeCsvWriter.toFile(file)
    const a = 'a'.repeat(128)
    for (let k = 0; k < 20_000; k++) w.write(a, k.toString(16).padStart(128, '0'), 256 - (k % 17))
    await w.close()
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n')
    assert.equal(lines[0], 'from,to,distance')
    assert.equal(lines.length, 20_001)
    assert.equal(lines[5], `${a},${(4).toString(16).padStart(128, '0')},252`)
    assert.equal(w.count, 20_000)
  })
})
