/**
 * The node set library: every filter alone and combined gives exactly the nodes the generator made
 * to match, every format parses back with the house's own parsers, --limit ranks by score, and bad
 * filters and bad input are refused with a reason.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { backend } from '../../src/crypto/backend.js'
import { hex } from '../../src/crypto/bytes.js'
import { ENR } from '../../src/enode/enr.js'
import { parseEnode } from '../../src/enode/url.js'
import { checkFilterFor, NodeSetError, parseNodeFilter, selectNodes, type FilterParam } from '../../src/nodeset/filter.js'
import { formatNodeSet, usableIn } from '../../src/nodeset/format.js'
import { crawlRecordOf, crawlSource, nodesJsonSource } from '../../src/nodeset/read.js'
import { FILTER_CASES as CASES, generate, generateCrawl, T0, type Truth } from './fixtures.js'

const crawl = generateCrawl(60)
const source = crawlSource(crawl.map((g) => structuredClone(g.record)))

const params = (p: Partial<Record<FilterParam, string>>) => (name: FilterParam) => p[name]
/** ids passing `p`, as the library selects them */
const selected = (p: Partial<Record<FilterParam, string>>, src = source): string[] => selectNodes(src, parseNodeFilter(params(p))).items.map((i) => i.record.id).sort()
/** ids whose truth passes `pred` */
const expected = (pred: (t: Truth) => boolean): string[] =>
  crawl
    .filter((g) => pred(g.truth))
    .map((g) => g.record.id)
    .sort()
describe('nodeset filters on a crawl', () => {
  for (const [name, p, pred] of CASES) {
    it(`${name}: exactly the matching nodes`, () => {
      const want = expected(pred)
      assert.ok(want.length > 0 && want.length < crawl.length, `the case cuts the set (${want.length})`)
      assert.deepEqual(selected(p), want)
    })
  }

  it('no filter keeps every node; a combination nobody matches keeps none', () => {
    assert.equal(selected({}).length, crawl.length)
    assert.deepEqual(selected({ network: 'hoodi', country: 'DE', asn: '3320', client: 'erigon', protocol: 'v5', fork: 'bpo1' }), expected((t) => t.net === 'hoodi' && t.country === 'DE' && t.asn === 3320 && t.client === 'erigon' && t.answeredOn.includes('v5') && t.fork === 'bpo1'))
  })

  it('synced is judged over the crawl when the records do not carry it (the streamed JSONL)', () => {
    const heads = [1000, 1000, 1000, 990, 100].map((head, i) => {
      const r = structuredClone(generate(i).record)
      delete r.synced
      return { ...r, chain: 'mainnet', headNumber: head }
    })
    const src = crawlSource(heads)
    assert.deepEqual(selected({ synced: '1' }, src), heads.slice(0, 4).map((r) => r.id).sort())
    assert.deepEqual(selected({ synced: '0' }, src), [heads[4]!.id])
  })
})

describe('nodeset formats', () => {
  const sel = selectNodes(source, parseNodeFilter(params({ network: 'mainnet' })))
  const want = expected((t) => t.net === 'mainnet')

  it('enodes: one URL per line, each parsing back to a matching node', () => {
    const text = formatNodeSet(sel.items, 'enodes')
    const nodes = text.trimEnd().split('\n').map(parseEnode)
    assert.deepEqual(nodes.map((n) => hex(n.pubkey)).sort(), want)
    for (const n of nodes) assert.equal(n.tcp, crawl.find((g) => g.record.id === hex(n.pubkey))!.record.tcp)
  })

  it('enrs: one record per line, each verifying and naming a matching node', () => {
    const text = formatNodeSet(sel.items, 'enrs')
    const ids = text.trimEnd().split('\n').map((l) => hex(ENR.parseText(l).pubkey))
    assert.deepEqual(ids.sort(), want)
  })

  it("nodes.json: geth's layout (keyed by sorted node ID, seq, record, score, times; four-space indent) and read back alike", () => {
    const text = formatNodeSet(sel.items, 'nodes.json')
    assert.match(text, /^\{\n {4}"[0-9a-f]{64}": \{\n {8}"seq": \d+,\n {8}"record": "enr:/)
    const doc = JSON.parse(text) as Record<string, { seq: number; record: string; score?: number; firstResponse?: string; lastResponse?: string; lastCheck: string }>
    const keys = Object.keys(doc)
    assert.deepEqual(keys, [...keys].sort())
    for (const [id, e] of Object.entries(doc)) {
      const enr = ENR.parseText(e.record)
      assert.equal(hex(enr.nodeId), id)
      assert.equal(BigInt(e.seq), enr.seq)
      assert.ok(Number.isFinite(Date.parse(e.lastCheck)))
    }
    assert.deepEqual(keys, want.map((id) => hex(backend.keccak256(Buffer.from(id, 'hex')))).sort())
    // read back, the network comes from each record's eth entry: the same nodes pass
    const back = nodesJsonSource(text)
    assert.deepEqual(selected({ network: 'mainnet', fork: 'bpo2' }, back), expected((t) => t.net === 'mainnet' && t.fork === 'bpo2'))
  })

  it('jsonl and csv: one record a line (after the CSV header); json: matched, then the nodes with their scores', () => {
    const jsonl = formatNodeSet(sel.items, 'jsonl').trimEnd().split('\n')
    assert.deepEqual(jsonl.map((l) => (JSON.parse(l) as { id: string }).id).sort(), want)
    const csv = formatNodeSet(sel.items, 'csv').trimEnd().split('\n')
    assert.equal(csv[0]!.split(',')[0], 'id')
    assert.deepEqual(csv.slice(1).map((l) => l.split(',')[0]).sort(), want)
    const lim = selectNodes(source, parseNodeFilter(params({ network: 'mainnet', limit: '2' })))
    const json = JSON.parse(formatNodeSet(lim.items, 'json', { crawl: 7 }, lim.matched)) as { crawl: number; matched: number; nodes: { id: string; score: number; nodeId: string }[] }
    assert.equal(json.crawl, 7)
    assert.equal(json.matched, want.length)
    assert.equal(json.nodes.length, 2)
    for (const n of json.nodes) assert.equal(n.nodeId, hex(backend.keccak256(Buffer.from(n.id, 'hex'))))
  })

  it('formats that need a record or an address leave out nodes without one', () => {
    const bare = { ...structuredClone(generate(1).record), enr: undefined, seq: undefined }
    delete bare.enr
    delete bare.seq
    const src = crawlSource([bare, structuredClone(generate(2).record)])
    assert.equal(selectNodes(src, {}, usableIn('enrs')).items.length, 1)
    assert.equal(selectNodes(src, {}, usableIn('nodes.json')).items.length, 1)
    assert.equal(selectNodes(src, {}, usableIn('enodes')).items.length, 2)
  })
})

describe('nodeset --limit', () => {
  it('keeps the best-scored nodes: score, then the latest response, then node ID', () => {
    const gens = [0, 1, 2, 3, 4, 5].map(generate)
    const nodeId = (g: (typeof gens)[number]): string => hex(backend.keccak256(Buffer.from(g.record.id, 'hex')))
    const at = (h: number): string => new Date(T0 - h * 3600_000).toISOString()
    const scores = [3, 9, 9, 1, 0, 9]
    const doc: Record<string, unknown> = {}
    gens.forEach((g, i) => {
      doc[nodeId(g)] = { seq: g.record.seq, record: g.record.enr, score: scores[i], firstResponse: at(20), lastResponse: at(i === 5 ? 1 : 2), lastCheck: at(1) }
    })
    const src = nodesJsonSource(JSON.stringify(doc))
    const ids = (limit: string): string[] => selectNodes(src, parseNodeFilter(params({ limit }))).items.map((i) => i.nodeId)
    // score 9 thrice: node 5 answered last; nodes 1 and 2 tie and go by node ID
    const tie = [nodeId(gens[1]!), nodeId(gens[2]!)].sort()
    assert.deepEqual(ids('3'), [nodeId(gens[5]!), ...tie])
    assert.deepEqual(ids('5'), [nodeId(gens[5]!), ...tie, nodeId(gens[0]!), nodeId(gens[3]!)])
    assert.equal(ids('100').length, 6)
    // geth keeps its score: written back as read
    const out = JSON.parse(formatNodeSet(selectNodes(src, { limit: 1 }).items, 'nodes.json')) as Record<string, { score: number }>
    assert.deepEqual(Object.values(out).map((e) => e.score), [9])
  })
})

describe('nodeset refusals', () => {
  const BAD: [FilterParam, string][] = [
    ['network', 'goerli'],
    ['fork', 'shanghaii'],
    ['client', 'has space'],
    ['min-version', 'latest'],
    ['protocol', 'v6'],
    ['country', 'DEU'],
    ['asn', 'AS-1'],
    ['synced', 'yes'],
    ['answered-within', '1week'],
    ['limit', '0'],
  ]
  for (const [name, value] of BAD) {
    it(`${name}=${value} is a bad filter`, () => {
      const p: Partial<Record<FilterParam, string>> = { [name]: value }
      if (name === 'min-version') p.client = 'geth'
      assert.throws(() => parseNodeFilter(params(p)), (e: unknown) => e instanceof NodeSetError && e.code === 'BAD_FILTER' && e.message.startsWith(`${name}: `))
    })
  }

  it('min-version without client, and filters a nodes.json cannot answer, are refused', () => {
    assert.throws(() => parseNodeFilter(params({ 'min-version': '1.14' })), /min-version: needs client/)
    assert.throws(() => checkFilterFor('nodes.json', { protocol: 'v4' }), /protocol: a nodes.json/)
    assert.throws(() => checkFilterFor('nodes.json', { synced: true }), /synced: a nodes.json/)
    checkFilterFor('crawl', { protocol: 'v4', synced: true })
  })

  it('records with missing or mistyped fields are refused or cleaned; bad nodes.json entries are left out with a reason', () => {
    const good = structuredClone(generate(3).record)
    assert.equal(crawlRecordOf([1]), 'not a JSON object')
    assert.match(String(crawlRecordOf({ ...good, id: 'ab' })), /id/)
    assert.match(String(crawlRecordOf({ ...good, udp: 70000 })), /port/)
    assert.match(String(crawlRecordOf({ ...good, lastSeen: 'yesterday' })), /time/)
    const cleaned = crawlRecordOf({ ...good, fork: 7, protocols: ['v9'], client: 'geth', forkId: null, asn: '1' })
    assert.ok(typeof cleaned === 'object')
    assert.deepEqual([cleaned.fork, cleaned.protocols, cleaned.client, cleaned.forkId, cleaned.asn], [undefined, undefined, undefined, undefined, undefined])
    // mistyped fields are gone, so filtering the record cannot throw
    assert.deepEqual(selectNodes(crawlSource([cleaned]), { fork: 'bpo2', protocol: 'v4', client: 'geth', asn: 1 }).items, [])

    const g = generate(4)
    const id = hex(backend.keccak256(Buffer.from(g.record.id, 'hex')))
    const bad: string[] = []
    const src = nodesJsonSource(
      JSON.stringify({
        [id]: { seq: g.record.seq, record: g.record.enr },
        ['0'.repeat(64)]: { seq: g.record.seq, record: g.record.enr },
        [id.slice(0, 63) + (id.endsWith('0') ? '1' : '0')]: { record: 'enr:garbage' },
        nothex: {},
      }),
      (k, reason) => bad.push(`${k.slice(0, 6)} ${reason}`),
    )
    assert.equal(src.items.length, 1)
    assert.equal(src.items[0]!.record.answered, false)
    assert.deepEqual(bad.map((b) => b.split(' ').slice(1).join(' ').split(':')[0]), ['the record is signed by another node', 'record', 'key is not a 64-hex node ID'])
    assert.throws(() => nodesJsonSource('[1]'), (e: unknown) => e instanceof NodeSetError && e.code === 'BAD_SOURCE')
    assert.throws(() => nodesJsonSource('{'), /not JSON/)
  })
})
