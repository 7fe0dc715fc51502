/**
 * Retention (issue 23): `ethp2p history prune --before DATE` and `monitor --retain 30d`. Pruning deletes
 * the visits and edges of the crawls that started before the cut and marks those crawls pruned; it keeps
 * every crawl row (the churn), its per-crawl counts (the series), the nodes (first and last seen) and the
 * uptime sessions, and sums the counts of each whole UTC day before the cut into `daily_counts`, so a
 * year of series stays one row per day and key.
 *
 * Nothing is held open for long: every day's rollup is one transaction, and the deletes go a bounded
 * batch of rows at a time, each its own transaction, so a monitor writing meanwhile waits for one batch
 * at most. A prune cut short (a kill, SIGINT) leaves the database consistent, and the next prune carries
 * on: it repeats nothing done and gives the same result (a crawl is marked pruned once nothing of it is
 * left; a day's rollup is redone whenever its crawl count does not match the crawls stored for it).
 */
import { sql, type Kysely } from 'kysely'
import type { Logger } from '../util/log.js'
import type { History } from './db.js'
import type { HistorySchema } from './schema.js'

/** A UTC day in ms. */
export const DAY_MS = 24 * 3600_000

/** What to prune. */
export interface PruneOptions {
  /** epoch ms: crawls that started before it lose their visits and edges */
  before: number
  /** only this vantage point's crawls (all of them when absent) */
  vantage?: string
  /** stop between batches; what was done stays done */
  signal?: AbortSignal
  /** rows per delete (default 5,000): a bound on how long one transaction holds the writer's lock */
  batchRows?: number
}

/** What a prune did. */
export interface PruneResult {
  /** crawls whose visits and edges are now gone (marked pruned by this run) */
  crawls: number
  visits: number
  edges: number
  /** (vantage point, day) rollups written */
  days: number
  /** stopped by the signal before the end */
  aborted: boolean
}

const DEFAULT_BATCH = 5_000
/** bound parameters per insert: under SQLite's 32,766 */
const MAX_PARAMS = 30_000

/** the start of the UTC day of `t` (ms) */
export function dayOf(t: number): number {
  return t - (((t % DAY_MS) + DAY_MS) % DAY_MS)
}

/** The start of a crawl's UTC day, in SQL (integer division in both engines). */
export const crawlDay = sql<number>`(crawls.started_at / ${sql.lit(DAY_MS)}) * ${sql.lit(DAY_MS)}`

/**
 * Prune the history: roll up every whole day before `before`, then delete the visits and edges of the
 * crawls that started before it, oldest first. Safe to run again and to interrupt.
 */
export async function pruneHistory(h: History, o: PruneOptions): Promise<PruneResult> {
  const out: PruneResult = { crawls: 0, visits: 0, edges: 0, days: 0, aborted: false }
  const batch = Math.max(1, Math.floor(o.batchRows ?? DEFAULT_BATCH))
  out.days = await rollUp(h, dayOf(o.before), o)
  let q = h.db.selectFrom('crawls').select('id').where('started_at', '<', o.before).where('pruned', '=', 0)
  if (o.vantage !== undefined) q = q.where('vantage', '=', o.vantage)
  const crawls = await q.orderBy('started_at').orderBy('id').execute()
  for (const { id } of crawls) {
    for (;;) {
      if (o.signal?.aborted) return { ...out, aborted: true }
      const n = await deleteBatch(h.db, 'visits', 'node', id, batch)
      out.visits += n
      if (n < batch) break
    }
    for (;;) {
      if (o.signal?.aborted) return { ...out, aborted: true }
      // edges go by lister: a table lists at most 17 × 16 nodes, tens to a hundred in practice
      const n = await deleteBatch(h.db, 'edges', 'from_node', id, Math.ceil(batch / 64))
      out.edges += n
      if (n === 0) break
    }
    await h.db.updateTable('crawls').set({ pruned: 1 }).where('id', '=', id).execute()
    out.crawls++
  }
  return out
}

/**
 * Delete one batch of a crawl's rows: those of the first `limit` values of `col` (visits: nodes,
 * edges: listers), one statement and so one transaction; the rows deleted.
 */
async function deleteBatch(db: Kysely<HistorySchema>, table: 'visits' | 'edges', col: 'node' | 'from_node', crawlId: number, limit: number): Promise<number> {
  // a sub-select with its own alias, so both engines read the inner crawl_id as the inner table's
  const first = sql<number>`(SELECT DISTINCT b.${sql.ref(col)} FROM ${sql.table(table)} b WHERE b.crawl_id = ${crawlId} ORDER BY b.${sql.ref(col)} LIMIT ${limit})`
  const r = await db
    .deleteFrom(table)
    .where('crawl_id', '=', crawlId)
    .where(sql.ref(col), 'in', first)
    .executeTakeFirst()
  return Number(r.numDeletedRows)
}

/**
 * Sum the per-crawl counts of every whole day before `until` (a day start) into `daily_counts`, per
 * vantage point, where the rollup is missing or was made over other crawls than those stored now (a
 * crawl written late). The days are found by comparing two small grouped reads; each one is rewritten
 * in a transaction of its own. Returns the days written.
 */
async function rollUp(h: History, until: number, o: PruneOptions): Promise<number> {
  let stored = h.db
    .selectFrom('crawls')
    .select(['vantage', crawlDay.as('day'), (eb) => eb.fn.countAll<number>().as('n')])
    .where('interrupted', '=', 0)
    .where('started_at', '<', until)
  if (o.vantage !== undefined) stored = stored.where('vantage', '=', o.vantage)
  const want = await stored.groupBy(['vantage', crawlDay]).execute()
  let rolled = h.db.selectFrom('daily_counts').select(['vantage', 'day', (eb) => eb.fn.max('crawls').as('n')]).where('day', '<', until)
  if (o.vantage !== undefined) rolled = rolled.where('vantage', '=', o.vantage)
  const have = new Map((await rolled.groupBy(['vantage', 'day']).execute()).map((r) => [`${r.vantage}\n${Number(r.day)}`, Number(r.n)]))
  let days = 0
  for (const d of want) {
    const day = Number(d.day)
    if (have.get(`${d.vantage}\n${day}`) === Number(d.n)) continue
    if (o.signal?.aborted) break
    await rollUpDay(h, d.vantage, day)
    days++
  }
  return days
}

/** Rewrite the rollup of one vantage point's day from its crawls' counts, in one transaction. */
async function rollUpDay(h: History, vantage: string, day: number): Promise<void> {
  await h.db.transaction().execute(async (trx) => {
    const inDay = trx.selectFrom('crawls').where('vantage', '=', vantage).where('interrupted', '=', 0).where('started_at', '>=', day).where('started_at', '<', day + DAY_MS)
    const { n: crawls } = await inDay.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
    const sums = await trx
      .selectFrom('crawl_counts')
      .select(['dim', 'key', (eb) => eb.fn.sum<number>('n').as('n')])
      .where('crawl_id', 'in', inDay.select('id'))
      .groupBy(['dim', 'key'])
      .execute()
    await trx.deleteFrom('daily_counts').where('vantage', '=', vantage).where('day', '=', day).execute()
    const rows = sums.map((s) => ({ vantage, day, dim: s.dim, key: s.key, crawls: Number(crawls), n: Number(s.n) }))
    const size = Math.floor(MAX_PARAMS / 6)
    for (let i = 0; i < rows.length; i += size) await trx.insertInto('daily_counts').values(rows.slice(i, i + size)).execute()
  })
}

/**
 * `monitor --retain`: after a stored crawl, prune this vantage point's crawls older than `retainMs`.
 * A failure is logged and left for the next crawl to retry: retention must not stop the monitor.
 */
export async function applyRetention(h: History, vantage: string, retainMs: number, log: Logger, signal?: AbortSignal): Promise<PruneResult | undefined> {
  const before = Date.now() - retainMs
  try {
    const r = await pruneHistory(h, { before, vantage, ...(signal ? { signal } : {}) })
    if (r.crawls > 0 || r.days > 0) log.info({ ...r, vantage, before: new Date(before).toISOString() }, 'history pruned')
    return r
  } catch (err) {
    log.error({ err: (err as Error).message, vantage }, 'pruning the history failed; trying again after the next crawl')
    return undefined
  }
}
