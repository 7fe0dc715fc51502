/**
 * A stored crawl as a node set (`ethp2p nodeset filter sqlite:FILE`, the dashboard's `/api/nodeset`):
 * its visits as crawl records, and each node's liveness replayed over its vantage point's crawls up to
 * that one, as geth's crawler keeps it: +1 for a crawl the node answered, halved for one it was
 * listed in and did not. Crawls stopped early are left out of the replay (their misses are not
 * checks); the crawl asked for counts whatever it is.
 */
import type { CrawlRecord } from '../crawler/record.js'
import { NodeSetError, type NodeSetItem, type NodeSource } from '../nodeset/filter.js'
import type { History } from './db.js'
import { crawlById, listCrawls, type CrawlPoint } from './query.js'
import type { VisitsTable } from './schema.js'

/** A stored visit with its node's keys and first sighting, as a crawl record seen at `when` (ISO). */
export function visitRecord(v: VisitsTable & { pubkey: string; first_seen: number }, when: string): CrawlRecord {
  const r: CrawlRecord = { id: v.pubkey, ip: v.ip, udp: v.udp, tcp: v.tcp, firstSeen: new Date(Number(v.first_seen)).toISOString(), lastSeen: when, answered: v.answered === 1, eth2: v.eth2 === 1 }
  if (v.attempts !== null) r.attempts = v.attempts
  if (v.rtt_ms !== null) r.rttMs = v.rtt_ms
  if (v.enr !== null) r.enr = v.enr
  if (v.enr_seq !== null) r.seq = Number(v.enr_seq)
  if (v.network !== null) r.network = v.network
  if (v.fork !== null) r.fork = v.fork
  if (v.neighbors !== null) r.neighbors = v.neighbors
  if (v.error !== null) r.error = v.error
  if (v.client_id !== null) {
    r.clientId = v.client_id
    r.client = { name: v.client_name ?? '' }
    if (v.client_version !== null) r.client.version = v.client_version
    if (v.client_os !== null) r.client.os = v.client_os
    if (v.client_arch !== null) r.client.arch = v.client_arch
    if (v.client_runtime !== null) r.client.runtime = v.client_runtime
  }
  if (v.caps !== null) r.caps = v.caps.split(' ').filter(Boolean)
  if (v.network_id !== null) r.networkId = Number(v.network_id)
  if (v.fork_hash !== null) r.forkId = { hash: v.fork_hash, next: Number(v.fork_next ?? 0) }
  if (v.chain !== null) r.chain = v.chain
  if (v.disconnect !== null) r.disconnect = { reason: v.disconnect, code: 0, by: v.disconnect_by === 'remote' ? 'remote' : 'local' }
  if (v.inbound === 1) r.inbound = true
  if (v.dial_error !== null) r.dialError = v.dial_error
  // only the values the crawl writes: a stored row is not trusted to hold a valid one
  if (v.protocols !== null) r.protocols = v.protocols.split('+').filter((p): p is NonNullable<CrawlRecord['protocols']>[number] => p === 'v4' || p === 'v5')
  if (v.layer === 'execution' || v.layer === 'consensus') r.layer = v.layer
  if (v.country !== null) r.country = v.country
  if (v.asn !== null) r.asn = Number(v.asn)
  if (v.as_org !== null) r.asOrg = v.as_org
  if (v.head_number !== null) r.headNumber = Number(v.head_number)
  if (v.head_hash !== null) r.headHash = v.head_hash
  if (v.head_time !== null) r.headTime = new Date(Number(v.head_time)).toISOString()
  if (v.synced !== null) r.synced = v.synced === 1
  return r
}

/** Which stored crawl: `crawl` by id, else the latest complete one (of `vantage`, when given). */
export interface CrawlChoice {
  crawl?: number
  vantage?: string
}

/** The crawl a choice names; NodeSetError('NO_CRAWL') when there is none. */
export async function chooseCrawl(h: History, c: CrawlChoice): Promise<CrawlPoint> {
  if (c.crawl !== undefined) {
    const p = await crawlById(h, c.crawl)
    if (!p) throw new NodeSetError('NO_CRAWL', `no crawl ${c.crawl} in the history`)
    return p
  }
  const [latest] = await listCrawls(h, { ...(c.vantage !== undefined ? { vantage: c.vantage } : {}), limit: 1 })
  if (!latest) throw new NodeSetError('NO_CRAWL', c.vantage !== undefined ? `no complete crawl of vantage ${c.vantage} in the history` : 'no complete crawl in the history')
  return latest
}

/** The visits of `crawl` as a node set, scores and responses replayed as the file comment says. */
export async function crawlNodeSet(h: History, crawl: CrawlPoint): Promise<NodeSource> {
  const visits = await h.db
    .selectFrom('visits as v')
    .innerJoin('nodes as n', 'n.id', 'v.node')
    .selectAll('v')
    .select(['n.pubkey', 'n.node_id', 'n.first_seen'])
    .where('v.crawl_id', '=', crawl.id)
    .execute()
  // every earlier check of these nodes by the same vantage point, oldest first
  const checks = await h.db
    .selectFrom('visits as v')
    .innerJoin('crawls as c', 'c.id', 'v.crawl_id')
    .select(['v.node', 'v.answered', 'c.started_at'])
    .where('c.vantage', '=', crawl.vantage)
    .where((eb) => eb.or([eb.and([eb('c.started_at', '<', crawl.startedAt), eb('c.interrupted', '=', 0)]), eb('c.id', '=', crawl.id)]))
    .where('v.node', 'in', (eb) => eb.selectFrom('visits').select('node').where('crawl_id', '=', crawl.id))
    .orderBy('c.started_at')
    .orderBy('c.id')
    .execute()
  const live = new Map<number, { score: number; first?: number; last?: number }>()
  for (const c of checks) {
    const s = live.get(c.node) ?? { score: 0 }
    if (c.answered === 1) {
      s.score++
      s.first ??= Number(c.started_at)
      s.last = Number(c.started_at)
    } else s.score = Math.floor(s.score / 2)
    live.set(c.node, s)
  }
  const when = new Date(crawl.startedAt).toISOString()
  const items = visits.map((v): NodeSetItem => {
    const s = live.get(v.node)
    const item: NodeSetItem = { record: visitRecord(v, when), nodeId: v.node_id, score: s?.score ?? 0, lastCheck: crawl.startedAt }
    if (s?.first !== undefined) item.firstResponse = s.first
    if (s?.last !== undefined) item.lastResponse = s.last
    return item
  })
  return { kind: 'history', items, asOf: crawl.startedAt }
}
