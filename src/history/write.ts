/**
 * Writing one crawl: the crawl row, its nodes, its visits, the uptime sessions it extends, opens and
 * closes, and its counts, in ONE transaction. A process killed mid-write leaves the database as it
 * was before the crawl; nothing half-written is ever visible to a query.
 *
 * A crawl with a key (CrawlMeta.key, unique in the table) is written at most once: the transaction
 * first looks the key up, and a writer that loses a race to the unique index finds the row after.
 *
 * Several monitors may write to one PostgreSQL at once. Nodes are upserted by public key (a unique
 * key), so two crawls that meet the same node share one row; rows are locked in public-key order in
 * every transaction, so two writers wait for each other instead of deadlocking. Should the server
 * still abort one (deadlock, serialization failure), the whole transaction is retried.
 */
import { sql, type Kysely, type Transaction } from 'kysely'
import { backend } from '../crypto/backend.js'
import { hex } from '../crypto/bytes.js'
import { referenceHeads, syncedOf } from '../crawler/head.js'
import type { History } from './db.js'
import type { Edge } from './edges.js'
import type { HistorySchema, NodesTable } from './schema.js'
import { tally, visitRow, type CrawlTally, type HistoryRecord, type VisitRow } from './visit.js'

/** What is known about a crawl besides its records. */
export interface CrawlMeta {
  vantage: string
  /** epoch ms */
  startedAt: number
  endedAt: number
  /** the crawl options, stored as JSON */
  options: Record<string, unknown>
  /** stopped early (SIGINT): kept, but left out of series, churn and uptime sessions */
  interrupted?: boolean
  /**
   * a key unique to this crawl (the monitor's UUID): a crawl whose key is stored already is not
   * written again, so a retry after a commit whose acknowledgement was lost is a no-op
   */
  key?: string
}

/** What writing a crawl produced. */
export interface WrittenCrawl {
  id: number
  found: number
  answered: number
  newNodes: number
  returningNodes: number
  goneNodes: number
  /** answering nodes over v4 only, v5 only and both, and by layer (the monitor's per-crawl summary) */
  protocols: CrawlTally['protocols']
  layers: CrawlTally['layers']
  /** the crawl's counts by dimension, as crawl_counts holds them (the monitor's line ranks countries and ASes from them) */
  counts: CrawlTally['counts']
  /** edges between stored nodes handed to the database (monitor --neighbors) */
  edges?: number
  /** the crawl's key was stored already: nothing was written, the figures are the stored crawl's */
  alreadyStored?: true
}

/** bound parameters per statement: under SQLite's 32,766 and PostgreSQL's 65,535 */
const MAX_PARAMS = 30_000
/** PostgreSQL's codes for "deadlock detected" and "could not serialize": the transaction may be retried */
const RETRYABLE = new Set(['40P01', '40001'])
const MAX_TRIES = 5

function chunks<T>(xs: T[], columns: number): T[][] {
  const size = Math.max(1, Math.floor(MAX_PARAMS / columns))
  const out: T[][] = []
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size))
  return out
}

type NodeRow = Omit<NodesTable, 'id'>

/**
 * Write a crawl and its records; resolves once committed. Records with the same public key (a node
 * reported twice) are merged, the answering one kept.
 */
export async function writeCrawl(h: History, meta: CrawlMeta, all: Iterable<HistoryRecord>, edges?: Iterable<Edge>): Promise<WrittenCrawl> {
  const byKey = new Map<string, { pubkey: string; visit: VisitRow }>()
  // synced is judged over the whole crawl; a record that already says it (from the crawl) keeps it
  const records = [...all]
  const refs = referenceHeads(records)
  for (const r0 of records) {
    const judged = r0.synced === undefined ? syncedOf(r0, refs) : undefined
    const r = judged === undefined ? r0 : { ...r0, synced: judged }
    if (!/^[0-9a-f]{128}$/.test(r.id)) continue
    const prev = byKey.get(r.id)
    if (prev && prev.visit.answered && !r.answered) continue
    byKey.set(r.id, { pubkey: r.id, visit: visitRow(r) })
  }
  // one lock order for every writer: by public key
  const rows = [...byKey.values()].sort((a, b) => (a.pubkey < b.pubkey ? -1 : a.pubkey > b.pubkey ? 1 : 0))
  const counts = tally(rows.map((r) => r.visit))
  for (let attempt = 1; ; attempt++) {
    try {
      return await h.db.transaction().execute(async (trx) => (meta.key !== undefined ? await storedCrawl(trx, meta.key, counts, edges !== undefined) : undefined) ?? writeIn(trx, meta, rows, counts, edges))
    } catch (err) {
      // the same key committed by another writer meanwhile: the unique index refused ours
      const stored = meta.key !== undefined ? await storedCrawl(h.db, meta.key, counts, edges !== undefined).catch(() => undefined) : undefined
      if (stored !== undefined) return stored
      const code = (err as { code?: string }).code
      if (attempt >= MAX_TRIES || code === undefined || !RETRYABLE.has(code)) throw err
      await new Promise((r) => setTimeout(r, 50 * attempt * Math.random()))
    }
  }
}

/** The crawl stored under `key`, as writing it returned, or undefined when there is none. */
async function storedCrawl(db: Kysely<HistorySchema>, key: string, t: CrawlTally, withEdges: boolean): Promise<WrittenCrawl | undefined> {
  const c = await db.selectFrom('crawls').select(['id', 'found', 'answered', 'new_nodes', 'returning_nodes', 'gone_nodes']).where('crawl_key', '=', key).executeTakeFirst()
  if (c === undefined) return undefined
  const edges = withEdges ? await db.selectFrom('edges').select((eb) => eb.fn.countAll<number>().as('n')).where('crawl_id', '=', c.id).executeTakeFirstOrThrow() : undefined
  const churn = { newNodes: c.new_nodes, returningNodes: c.returning_nodes, goneNodes: c.gone_nodes }
  return { id: c.id, found: c.found, answered: c.answered, ...churn, protocols: t.protocols, layers: t.layers, counts: t.counts, ...(edges !== undefined ? { edges: Number(edges.n) } : {}), alreadyStored: true }
}

async function writeIn(trx: Transaction<HistorySchema>, meta: CrawlMeta, rows: { pubkey: string; visit: VisitRow }[], t: CrawlTally, edges?: Iterable<Edge>): Promise<WrittenCrawl> {
  const started = meta.startedAt
  const crawl = await trx
    .insertInto('crawls')
    .values({
      vantage: meta.vantage,
      started_at: started,
      ended_at: meta.endedAt,
      options: JSON.stringify(meta.options),
      interrupted: meta.interrupted ? 1 : 0,
      crawl_key: meta.key ?? null,
      found: t.found,
      answered: t.answered,
      dialled: t.dialled,
      hello: t.hello,
      status: t.status,
      new_nodes: 0,
      returning_nodes: 0,
      gone_nodes: 0,
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  const crawlId = crawl.id

  // nodes: inserted, or brought up to date where this crawl is the newer view
  const ids = new Map<string, number>()
  const nodeRows: NodeRow[] = rows.map(({ pubkey, visit: v }) => ({
    pubkey,
    node_id: hex(backend.keccak256(Buffer.from(pubkey, 'hex'))),
    first_seen: started,
    last_seen: v.answered ? started : null,
    last_crawl: crawlId,
    last_visit: started,
    ip: v.ip,
    udp: v.udp,
    tcp: v.tcp,
    client_id: v.client_id,
    client_name: v.client_name,
  }))
  const newer = <T>(col: 'last_crawl' | 'ip' | 'udp' | 'tcp') => sql<T>`CASE WHEN excluded.last_visit >= nodes.last_visit THEN excluded.${sql.ref(col)} ELSE nodes.${sql.ref(col)} END`
  const newerKnown = (col: 'client_id' | 'client_name') =>
    sql<string | null>`CASE WHEN excluded.last_visit >= nodes.last_visit AND excluded.${sql.ref(col)} IS NOT NULL THEN excluded.${sql.ref(col)} ELSE nodes.${sql.ref(col)} END`
  for (const chunk of chunks(nodeRows, 11)) {
    const out = await trx
      .insertInto('nodes')
      .values(chunk)
      .onConflict((oc) =>
        oc.column('pubkey').doUpdateSet({
          first_seen: sql`CASE WHEN excluded.first_seen < nodes.first_seen THEN excluded.first_seen ELSE nodes.first_seen END`,
          last_seen: sql`CASE WHEN nodes.last_seen IS NULL OR excluded.last_seen > nodes.last_seen THEN excluded.last_seen ELSE nodes.last_seen END`,
          last_crawl: newer<number>('last_crawl'),
          ip: newer<string>('ip'),
          udp: newer<number>('udp'),
          tcp: newer<number>('tcp'),
          client_id: newerKnown('client_id'),
          client_name: newerKnown('client_name'),
          // last: the CASEs above compare with the old value
          last_visit: sql`CASE WHEN excluded.last_visit > nodes.last_visit THEN excluded.last_visit ELSE nodes.last_visit END`,
        }),
      )
      .returning(['id', 'pubkey'])
      .execute()
    for (const r of out) ids.set(r.pubkey, r.id)
  }

  const visits = rows.map(({ pubkey, visit }) => ({ crawl_id: crawlId, node: ids.get(pubkey)!, ...visit }))
  // columns counted from the row, so a migration that adds one cannot push a chunk past the parameter bound
  for (const chunk of chunks(visits, Object.keys(visits[0] ?? {}).length)) await trx.insertInto('visits').values(chunk).execute()
  const edgeCount = edges ? await writeEdges(trx, crawlId, ids, edges) : undefined
  if (t.counts.length > 0) for (const chunk of chunks(t.counts, 4)) await trx.insertInto('crawl_counts').values(chunk.map((c) => ({ crawl_id: crawlId, ...c }))).execute()

  const answered = rows.filter((r) => r.visit.answered === 1).map((r) => ids.get(r.pubkey)!)
  const churn = meta.interrupted ? { new: 0, returning: 0, gone: 0 } : await updateSessions(trx, meta.vantage, crawlId, started, answered)
  await trx.updateTable('crawls').set({ new_nodes: churn.new, returning_nodes: churn.returning, gone_nodes: churn.gone }).where('id', '=', crawlId).execute()
  return { id: crawlId, found: t.found, answered: t.answered, newNodes: churn.new, returningNodes: churn.returning, goneNodes: churn.gone, protocols: t.protocols, layers: t.layers, counts: t.counts, ...(edgeCount !== undefined ? { edges: edgeCount } : {}) }
}

/**
 * The crawl's edges between nodes it stored (an edge naming a node without a record, which the crawl
 * did not keep, is left out), once per (from, to), in batches so a million edges never sit in memory
 * as rows at once.
 */
async function writeEdges(trx: Transaction<HistorySchema>, crawlId: number, ids: Map<string, number>, edges: Iterable<Edge>): Promise<number> {
  let written = 0
  const size = Math.floor(MAX_PARAMS / 4)
  let batch: HistorySchema['edges'][] = []
  // a pair given twice keeps its first distance (the crawler gives each once; other callers may not)
  const insert = (rows: HistorySchema['edges'][]) => trx.insertInto('edges').values(rows).onConflict((oc) => oc.doNothing()).execute()
  for (const e of edges) {
    const from = ids.get(e.from)
    const to = ids.get(e.to)
    if (from === undefined || to === undefined || from === to) continue
    batch.push({ crawl_id: crawlId, from_node: from, to_node: to, distance: e.distance })
    written++
    if (batch.length >= size) {
      await insert(batch)
      batch = []
    }
  }
  if (batch.length > 0) await insert(batch)
  return written
}

/**
 * Uptime sessions of this vantage point: every open session whose node answered now is extended,
 * every other open one is closed at this crawl's start (the node was not up), and nodes that answered
 * without an open session start one: returning when they had one before (kept, or folded by a prune),
 * new otherwise. Which nodes start one is worked out here from the open sessions, not with correlated
 * subqueries, whose plans PostgreSQL gets wrong on freshly written rows it has no statistics for yet.
 */
async function updateSessions(trx: Kysely<HistorySchema>, vantage: string, crawlId: number, started: number, answered: number[]): Promise<{ new: number; returning: number; gone: number }> {
  const open = await trx.selectFrom('sessions').select('node').where('vantage', '=', vantage).where('ended_at', 'is', null).execute()
  const isOpen = new Set(open.map((r) => r.node))
  await trx
    .updateTable('sessions')
    .set((eb) => ({ last_crawl: crawlId, last_seen: started, crawls: eb('crawls', '+', 1) }))
    .where('vantage', '=', vantage)
    .where('ended_at', 'is', null)
    .where('node', 'in', trx.selectFrom('visits').select('node').where('crawl_id', '=', crawlId).where('answered', '=', 1))
    .execute()
  const closed = await trx.updateTable('sessions').set({ ended_at: started }).where('vantage', '=', vantage).where('ended_at', 'is', null).where('last_crawl', '<>', crawlId).executeTakeFirst()
  const starting = answered.filter((n) => !isOpen.has(n))
  let returning = 0
  // the chunk is bound twice (sessions, totals)
  for (const chunk of chunks(starting, 2)) {
    // seen before: a session kept, or one `history prune` folded into the node's totals
    const seen = await trx
      .selectFrom('sessions')
      .select('node')
      .where('vantage', '=', vantage)
      .where('node', 'in', chunk)
      .union(trx.selectFrom('uptime_totals').select('node').where('vantage', '=', vantage).where('node', 'in', chunk))
      .execute()
    returning += seen.length
  }
  const rows = starting.map((node) => ({ node, vantage, first_crawl: crawlId, last_crawl: crawlId, started_at: started, last_seen: started, crawls: 1 }))
  for (const chunk of chunks(rows, 7)) await trx.insertInto('sessions').values(chunk).execute()
  return { new: starting.length - returning, returning, gone: Number(closed.numUpdatedRows) }
}
