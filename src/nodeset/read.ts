/**
 * Node sets from text, pure: a crawl's JSON lines (`ethp2p crawl --out`) and geth's `nodes.json`
 * (cmd/devp2p's layout, as `crawl --nodes-json` writes it). Files are untrusted: a record whose
 * required fields are missing or mistyped is refused with a reason, and the optional fields the
 * filters read are dropped when mistyped, so nothing later trips over them.
 */
import { backend } from '../crypto/backend.js'
import { hex } from '../crypto/bytes.js'
import { ENR } from '../enode/enr.js'
import { clientEntry } from '../eth/consensus.js'
import { matchForkHash } from '../eth/networks.js'
import { markSynced } from '../crawler/head.js'
import type { CrawlRecord } from '../crawler/record.js'
import { NodeSetError, type NodeSetItem, type NodeSource } from './filter.js'

/** Nodes one source may hold: a mainnet crawl finds tens of thousands; beyond this the input is not a crawl. */
export const MAX_NODES = 1_000_000

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const isPort = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65535
const isTime = (v: unknown): v is string => typeof v === 'string' && Number.isFinite(Date.parse(v))

/** optional fields the filters and formats read, each with the check its value must pass */
const OPTIONAL: Record<string, (v: unknown) => boolean> = {
  enr: (v) => typeof v === 'string',
  seq: (v) => Number.isSafeInteger(v) && (v as number) >= 0,
  network: (v) => typeof v === 'string',
  fork: (v) => typeof v === 'string',
  chain: (v) => typeof v === 'string',
  genesis: (v) => typeof v === 'string',
  clientId: (v) => typeof v === 'string',
  enrClient: (v) => typeof v === 'string',
  client: (v) => isObject(v) && typeof v['name'] === 'string' && (v['version'] === undefined || typeof v['version'] === 'string'),
  forkId: (v) => isObject(v) && typeof v['hash'] === 'string',
  protocols: (v) => Array.isArray(v) && v.every((p) => p === 'v4' || p === 'v5'),
  country: (v) => typeof v === 'string',
  asn: (v) => Number.isInteger(v),
  synced: (v) => typeof v === 'boolean',
  headNumber: (v) => Number.isSafeInteger(v),
}

/** A parsed JSON value as a crawl record, or why it is not one. */
export function crawlRecordOf(v: unknown): CrawlRecord | string {
  if (!isObject(v)) return 'not a JSON object'
  if (typeof v['id'] !== 'string' || !/^[0-9a-fA-F]{128}$/.test(v['id'])) return 'id is not a 128-hex public key'
  if (typeof v['ip'] !== 'string' || v['ip'].length > 64) return 'ip is not an address'
  if (!isPort(v['udp']) || !isPort(v['tcp'])) return 'udp or tcp is not a port'
  if (!isTime(v['firstSeen']) || !isTime(v['lastSeen'])) return 'firstSeen or lastSeen is not a time'
  const r: Record<string, unknown> = { ...v, id: v['id'].toLowerCase(), answered: v['answered'] === true, eth2: v['eth2'] === true }
  for (const [k, ok] of Object.entries(OPTIONAL)) if (r[k] !== undefined && !ok(r[k])) delete r[k]
  return r as unknown as CrawlRecord
}

/**
 * One crawl's records as a node set: a crawl checked each node once, so its score is 1 when it
 * answered, else 0, and it answered at its `lastSeen`. A later record of the same node replaces an
 * earlier one. Records that carry no `synced` (the streamed JSONL never does) are judged here, over the
 * whole crawl, as the crawl's summary judges them.
 */
export function crawlSource(records: Iterable<CrawlRecord>): NodeSource {
  const byId = new Map<string, CrawlRecord>()
  for (const r of records) {
    byId.set(r.id, r)
    if (byId.size > MAX_NODES) throw new NodeSetError('TOO_LARGE', `more than ${MAX_NODES} nodes`)
  }
  const all = [...byId.values()]
  if (!all.some((r) => r.synced !== undefined)) markSynced(all)
  let asOf = 0
  const items = all.map((r): NodeSetItem => {
    const seen = Date.parse(r.lastSeen)
    asOf = Math.max(asOf, seen)
    const item: NodeSetItem = { record: r, nodeId: hex(backend.keccak256(Buffer.from(r.id, 'hex'))), score: r.answered ? 1 : 0, lastCheck: seen }
    if (r.answered) item.firstResponse = item.lastResponse = seen
    return item
  })
  return { kind: 'crawl', items, asOf }
}

/** an ISO time of a nodes.json entry as ms; absent, empty or Go's zero time is undefined */
function entryTime(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined
  const t = Date.parse(v)
  return Number.isFinite(t) && t > 0 ? t : undefined
}

/** A nodes.json entry as a node, or why it is not one (geth's own checks: the ID and seq must be the record's). */
function nodesJsonItem(id: string, v: unknown): NodeSetItem | string {
  if (!/^[0-9a-f]{64}$/.test(id)) return 'key is not a 64-hex node ID'
  if (!isObject(v) || typeof v['record'] !== 'string') return 'no record'
  let enr: ENR
  try {
    enr = ENR.parseText(v['record'])
  } catch (err) {
    return `record: ${(err as Error).message}`
  }
  if (hex(enr.nodeId) !== id) return 'the record is signed by another node'
  if (v['seq'] !== undefined && v['seq'] !== Number(enr.seq)) return "seq is not the record's"
  const ep = enr.toNode()
  const firstResponse = entryTime(v['firstResponse'])
  const lastResponse = entryTime(v['lastResponse'])
  const lastCheck = entryTime(v['lastCheck']) ?? lastResponse ?? 0
  const when = new Date(lastResponse ?? lastCheck).toISOString()
  const r: CrawlRecord = {
    id: hex(enr.pubkey),
    ip: ep?.ip ?? '',
    udp: ep?.udp ?? 0,
    tcp: ep?.tcp ?? 0,
    enr: enr.toText(),
    seq: Number(enr.seq),
    firstSeen: new Date(firstResponse ?? lastCheck).toISOString(),
    lastSeen: when,
    // a node geth keeps answered at some check: a set only holds nodes with a score above 0
    answered: lastResponse !== undefined,
    eth2: enr.isEth2,
  }
  const fid = enr.ethForkId
  if (fid) {
    const m = matchForkHash(fid.hash)
    r.network = m?.network ?? 'unknown'
    if (m) r.fork = m.fork
  }
  const client = clientEntry(enr.entries)
  if (client !== undefined) r.enrClient = client
  const score = v['score']
  const item: NodeSetItem = { record: r, nodeId: id, score: Number.isSafeInteger(score) && (score as number) > 0 ? (score as number) : 0, lastCheck }
  if (firstResponse !== undefined) item.firstResponse = firstResponse
  if (lastResponse !== undefined) item.lastResponse = lastResponse
  return item
}

/**
 * geth's `nodes.json` as a node set; `onBad(id, reason)` hears of each entry left out. Throws
 * NodeSetError('BAD_SOURCE') when the text is not a JSON object.
 */
export function nodesJsonSource(text: string, onBad: (id: string, reason: string) => void = () => {}): NodeSource {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (err) {
    throw new NodeSetError('BAD_SOURCE', `not JSON: ${(err as Error).message}`)
  }
  if (!isObject(doc)) throw new NodeSetError('BAD_SOURCE', 'a nodes.json is a JSON object keyed by node ID')
  const entries = Object.entries(doc)
  if (entries.length > MAX_NODES) throw new NodeSetError('TOO_LARGE', `more than ${MAX_NODES} nodes`)
  const items: NodeSetItem[] = []
  let asOf = 0
  for (const [id, v] of entries) {
    const item = nodesJsonItem(id, v)
    if (typeof item === 'string') onBad(id, item)
    else {
      items.push(item)
      asOf = Math.max(asOf, item.lastCheck)
    }
  }
  return { kind: 'nodes.json', items, asOf }
}
