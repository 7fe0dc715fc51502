/**
 * Folding old uptime sessions (issue 23): `history prune` turns the closed sessions that ended before
 * its cut into one row per node and vantage point (`uptime_totals`) and deletes them, so a year of
 * churn no longer leaves a year of sessions. The uptime questions read the totals with the sessions
 * left (uptime.ts, query.ts' nodeHistory).
 *
 * Each batch is one transaction that deletes its sessions and adds exactly the rows it deleted to the
 * totals (the delete returns them, and the upsert adds in SQL), so a prune cut short repeats nothing,
 * and two prunes at once on PostgreSQL never fold a session twice or lose an addition.
 */
import { sql, type Transaction } from 'kysely'
import type { History } from './db.js'
import type { HistorySchema, UptimeTotalsTable } from './schema.js'

/** What to fold, and how much per transaction. */
export interface FoldOptions {
  /** epoch ms: closed sessions that ended before it are folded */
  before: number
  /** only this vantage point's sessions (all of them when absent) */
  vantage?: string
  /** sessions per transaction */
  batchRows: number
  /** stop between batches; what was folded stays folded */
  signal?: AbortSignal
}

/** bound parameters per insert: under SQLite's 32,766 */
const MAX_PARAMS = 30_000

/** how many of the sorted `xs` lie in [a, b] */
export function countBetween(xs: readonly number[], a: number, b: number): number {
  const firstAtOrAfter = (t: number): number => {
    let lo = 0
    let hi = xs.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (xs[mid]! < t) lo = mid + 1
      else hi = mid
    }
    return lo
  }
  return Math.max(0, firstAtOrAfter(b + 1) - firstAtOrAfter(a))
}

/** Fold the closed sessions that ended before `o.before`, oldest first; the sessions folded. */
export async function foldSessions(h: History, o: FoldOptions): Promise<{ sessions: number; aborted: boolean }> {
  // the vantage points' crawl starts before the cut, which every folded session lies within: a total's
  // `crawls` is counted from them (sessions leave interrupted crawls out, and so do these)
  let q = h.db.selectFrom('crawls').select(['vantage', 'started_at']).where('interrupted', '=', 0).where('started_at', '<', o.before)
  if (o.vantage !== undefined) q = q.where('vantage', '=', o.vantage)
  const starts = new Map<string, number[]>()
  for (const r of await q.orderBy('started_at').execute()) {
    const xs = starts.get(r.vantage)
    if (xs) xs.push(Number(r.started_at))
    else starts.set(r.vantage, [Number(r.started_at)])
  }
  let sessions = 0
  for (;;) {
    if (o.signal?.aborted) return { sessions, aborted: true }
    const n = await h.db.transaction().execute((trx) => foldBatch(trx, o, starts))
    sessions += n
    if (n < o.batchRows) return { sessions, aborted: false }
  }
}

/** Fold one batch in the caller's transaction; the sessions folded. */
async function foldBatch(trx: Transaction<HistorySchema>, o: FoldOptions, starts: Map<string, number[]>): Promise<number> {
  // ended before the cut means last seen before it too: the last_seen index walks the old ones first
  let pick = trx.selectFrom('sessions').select('id').where('last_seen', '<', o.before).where('ended_at', 'is not', null).where('ended_at', '<', o.before)
  if (o.vantage !== undefined) pick = pick.where('vantage', '=', o.vantage)
  const gone = await trx
    .deleteFrom('sessions')
    .where('id', 'in', pick.orderBy('last_seen').limit(o.batchRows))
    .returning(['node', 'vantage', 'started_at', 'last_seen', 'ended_at', 'crawls'])
    .execute()
  const crawlsIn = (t: { vantage: string; first_seen: number; last_seen: number }): number => countBetween(starts.get(t.vantage) ?? [], t.first_seen, t.last_seen)
  const byKey = new Map<string, UptimeTotalsTable>()
  for (const s of gone) {
    const k = `${s.node}\n${s.vantage}`
    const first = Number(s.started_at)
    const last = Number(s.last_seen)
    const ended = Number(s.ended_at)
    const t = byKey.get(k)
    if (!t) byKey.set(k, { node: s.node, vantage: s.vantage, sessions: 1, answered: s.crawls, crawls: 0, first_seen: first, last_seen: last, ended_at: ended })
    else {
      t.sessions++
      t.answered += s.crawls
      t.first_seen = Math.min(t.first_seen, first)
      t.last_seen = Math.max(t.last_seen, last)
      t.ended_at = Math.max(t.ended_at, ended)
    }
  }
  const rows = [...byKey.values()].map((t) => ({ ...t, crawls: crawlsIn(t) }))
  const min = (c: 'first_seen') => sql<number>`CASE WHEN excluded.${sql.ref(c)} < uptime_totals.${sql.ref(c)} THEN excluded.${sql.ref(c)} ELSE uptime_totals.${sql.ref(c)} END`
  const max = (c: 'last_seen' | 'ended_at') => sql<number>`CASE WHEN excluded.${sql.ref(c)} > uptime_totals.${sql.ref(c)} THEN excluded.${sql.ref(c)} ELSE uptime_totals.${sql.ref(c)} END`
  const size = Math.floor(MAX_PARAMS / 8)
  // totals that already held sessions span more than this batch: their crawls are counted again over the whole span
  const widened: UptimeTotalsTable[] = []
  for (let i = 0; i < rows.length; i += size) {
    const merged = await trx
      .insertInto('uptime_totals')
      .values(rows.slice(i, i + size))
      .onConflict((oc) =>
        oc.columns(['node', 'vantage']).doUpdateSet({
          sessions: sql`uptime_totals.sessions + excluded.sessions`,
          answered: sql`uptime_totals.answered + excluded.answered`,
          first_seen: min('first_seen'),
          last_seen: max('last_seen'),
          ended_at: max('ended_at'),
        }),
      )
      .returning(['node', 'vantage', 'sessions', 'answered', 'crawls', 'first_seen', 'last_seen', 'ended_at'])
      .execute()
    for (const m of merged) {
      const t = { ...m, first_seen: Number(m.first_seen), last_seen: Number(m.last_seen), ended_at: Number(m.ended_at) }
      const b = byKey.get(`${m.node}\n${m.vantage}`)!
      if (t.first_seen !== b.first_seen || t.last_seen !== b.last_seen) widened.push({ ...t, crawls: crawlsIn(t) })
    }
  }
  for (let i = 0; i < widened.length; i += size) {
    await trx
      .insertInto('uptime_totals')
      .values(widened.slice(i, i + size))
      .onConflict((oc) => oc.columns(['node', 'vantage']).doUpdateSet({ crawls: sql`excluded.crawls` }))
      .execute()
  }
  return gone.length
}
