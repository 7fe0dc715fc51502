/**
 * The topology questions of the history (crawls stored by `monitor --neighbors`): in the latest crawl
 * with edges, how many tables list each node (its in-degree), which nodes are listed most, which
 * answering nodes no table lists; and which nodes tables listed in an earlier crawl of the same
 * vantage point but none lists any more. Counted in the database; only per-node numbers come back.
 */
import type { History } from './db.js'
import type { Window } from './query.js'

/** in-degree bands, doubling; '0' is answering nodes no table lists */
export const IN_DEGREE_BANDS = ['0', '1', '2-3', '4-7', '8-15', '16-31', '32-63', '64+'] as const

/** the band of an in-degree */
export function inDegreeBand(n: number): (typeof IN_DEGREE_BANDS)[number] {
  return IN_DEGREE_BANDS[Math.min(IN_DEGREE_BANDS.length - 1, n <= 0 ? 0 : 1 + Math.floor(Math.log2(n)))]!
}

/** A node as the topology lists it. */
export interface ListedNode {
  pubkey: string
  ip: string
  /** tables that list it (in the latest crawl with edges) */
  inDegree: number
}

/** A node tables listed before and no table lists in the latest crawl. */
export interface UnlistedNode {
  pubkey: string
  ip: string
  /** the last crawl whose edges listed it */
  lastListedCrawl: number
  /** it answered in the latest crawl all the same */
  answered: boolean
}

/** The answer of {@link topology}. */
export interface Topology {
  /** the latest (not interrupted) crawl of the window with edges; absent when none has any */
  crawl?: { id: number; vantage: string; startedAt: number }
  edges: number
  /** nodes whose table gave edges */
  tables: number
  /** nodes listed by at least one table */
  listed: number
  /** answering nodes of that crawl no table lists */
  answeredUnlisted: number
  /** the crawl's answering nodes by in-degree band ('0': no table lists it) */
  inDegree: { band: string; nodes: number }[]
  /** the most listed nodes, most first */
  top: ListedNode[]
  /** listed in an earlier crawl's edges (same vantage point, within the window), in no table now */
  unlisted: { nodes: number; stillAnswering: number; sample: UnlistedNode[] }
}

/** In-degree and unlisted nodes of the latest crawl with edges in the window (`top` rows per list). */
export async function topology(h: History, w: Window = {}, opts: { top?: number } = {}): Promise<Topology> {
  const top = opts.top ?? 10
  let q = h.db
    .selectFrom('crawls')
    .select(['id', 'vantage', 'started_at'])
    .where('interrupted', '=', 0)
    .where((eb) => eb.exists(eb.selectFrom('edges').select('edges.crawl_id').whereRef('edges.crawl_id', '=', 'crawls.id')))
  if (w.vantage !== undefined) q = q.where('vantage', '=', w.vantage)
  if (w.since !== undefined) q = q.where('started_at', '>=', w.since)
  const latest = await q.orderBy('started_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst()
  const empty: Topology = { edges: 0, tables: 0, listed: 0, answeredUnlisted: 0, inDegree: [], top: [], unlisted: { nodes: 0, stillAnswering: 0, sample: [] } }
  if (!latest) return empty
  const crawlId = latest.id
  const startedAt = Number(latest.started_at)

  const degrees = await h.db.selectFrom('edges').select(['to_node', (eb) => eb.fn.countAll().as('n')]).where('crawl_id', '=', crawlId).groupBy('to_node').execute()
  const tables = await h.db.selectFrom('edges').select((eb) => eb.fn.count('from_node').distinct().as('n')).where('crawl_id', '=', crawlId).executeTakeFirstOrThrow()
  const answered = await h.db.selectFrom('visits').select('node').where('crawl_id', '=', crawlId).where('answered', '=', 1).execute()
  const isAnswered = new Set(answered.map((r) => r.node))
  const degreeOf = new Map<number, number>()
  let edges = 0
  for (const r of degrees) {
    const n = Number(r.n)
    degreeOf.set(r.to_node, n)
    edges += n
  }
  const bands = new Map<string, number>(IN_DEGREE_BANDS.map((b) => [b, 0]))
  for (const node of isAnswered) {
    const b = inDegreeBand(degreeOf.get(node) ?? 0)
    bands.set(b, bands.get(b)! + 1)
  }
  const answeredUnlisted = bands.get('0')!
  const most = [...degreeOf].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, top)
  const named = await nodesById(h, most.map(([id]) => id))

  // listed in an earlier crawl of this vantage point (within the window), by no table now
  let earlier = h.db
    .selectFrom('edges')
    .innerJoin('crawls', 'crawls.id', 'edges.crawl_id')
    .select(['edges.to_node as node', (eb) => eb.fn.max('edges.crawl_id').as('last')])
    .where('crawls.vantage', '=', latest.vantage)
    .where('crawls.started_at', '<', startedAt)
    .where('crawls.interrupted', '=', 0)
    .where('edges.to_node', 'not in', (eb) => eb.selectFrom('edges as now').select('now.to_node').where('now.crawl_id', '=', crawlId))
  if (w.since !== undefined) earlier = earlier.where('crawls.started_at', '>=', w.since)
  const gone = (await earlier.groupBy('edges.to_node').execute()).map((r) => ({ node: r.node, last: Number(r.last) }))
  // answering ones first (alive, yet in no table: the interesting ones), then the most recently listed
  gone.sort((a, b) => Number(isAnswered.has(b.node)) - Number(isAnswered.has(a.node)) || b.last - a.last || a.node - b.node)
  const sample = gone.slice(0, top)
  const goneNamed = await nodesById(h, sample.map((g) => g.node))

  return {
    crawl: { id: crawlId, vantage: latest.vantage, startedAt },
    edges,
    tables: Number(tables.n),
    listed: degreeOf.size,
    answeredUnlisted,
    inDegree: [...bands].map(([band, nodes]) => ({ band, nodes })),
    top: most.map(([id, n]) => ({ pubkey: named.get(id)?.pubkey ?? '', ip: named.get(id)?.ip ?? '', inDegree: n })),
    unlisted: {
      nodes: gone.length,
      stillAnswering: gone.filter((g) => isAnswered.has(g.node)).length,
      sample: sample.map((g) => ({ pubkey: goneNamed.get(g.node)?.pubkey ?? '', ip: goneNamed.get(g.node)?.ip ?? '', lastListedCrawl: g.last, answered: isAnswered.has(g.node) })),
    },
  }
}

async function nodesById(h: History, ids: number[]): Promise<Map<number, { pubkey: string; ip: string }>> {
  if (ids.length === 0) return new Map()
  const rows = await h.db.selectFrom('nodes').select(['id', 'pubkey', 'ip']).where('id', 'in', ids).execute()
  return new Map(rows.map((r) => [r.id, { pubkey: r.pubkey, ip: r.ip }]))
}
