/**
 * The uptime distribution: for each node that answered in a window of crawls, the crawls in which it
 * answered over the window's crawls since it first answered in it. Read from the uptime sessions and,
 * for the old ones `history prune` folded, from the per-node totals (fold.ts), so old visits are
 * never read and a prune does not change the answer (see {@link uptime} for a window that begins
 * inside a node's folded span).
 */
import type { History } from './db.js'
import { countBetween } from './fold.js'
import { listCrawls, type Window } from './query.js'

/** How many nodes were up what share of the crawls since they first appeared in the window. */
export interface UptimeDistribution {
  /** crawls in the window */
  crawls: number
  /** nodes that answered at least once */
  nodes: number
  /** bucket labels and node counts: '<10 %', '10–50 %', '50–90 %', '90–99 %', '≥99 %' */
  buckets: { label: string; min: number; max: number; nodes: number }[]
  /** nodes seen in only one crawl so far (their uptime says nothing yet) */
  single: number
}

const BUCKETS: [string, number, number][] = [
  ['<10 %', 0, 0.1],
  ['10–50 %', 0.1, 0.5],
  ['50–90 %', 0.5, 0.9],
  ['90–99 %', 0.9, 0.99],
  ['≥99 %', 0.99, 1.0001],
]

/**
 * Uptime over the window's crawls. A session that began in the window adds its crawls; one that began
 * before adds those of its crawls in the window, counted here from the crawl starts. A node's folded
 * totals (one vantage point's sessions that ended before a prune's cut) add their answered crawls
 * whole when the window begins at or before the first of them, and nothing when it begins after the
 * last; a window that begins inside that span counts the node as first answering at the window's
 * start, up for the folded share (answered over the span's crawls) of the span's crawls inside the
 * window: the one answer that is an estimate, since the sessions that told exactly are gone.
 */
export async function uptime(h: History, w: Window = {}): Promise<UptimeDistribution> {
  const crawls = await listCrawls(h, w)
  const out: UptimeDistribution = { crawls: crawls.length, nodes: 0, buckets: BUCKETS.map(([label, min, max]) => ({ label, min, max, nodes: 0 })), single: 0 }
  if (crawls.length === 0) return out
  const starts = crawls.map((c) => c.startedAt).sort((a, b) => a - b)
  const from = starts[0]!
  const byVantage = new Map<string, number[]>()
  for (const c of crawls) {
    const xs = byVantage.get(c.vantage)
    if (xs) xs.push(c.startedAt)
    else byVantage.set(c.vantage, [c.startedAt])
  }
  for (const xs of byVantage.values()) xs.sort((a, b) => a - b)
  const vantages = [...byVantage.keys()]
  // the window's crawls of a vantage point up to t (all of them start at or after `from`)
  const upTo = (vantage: string, t: number): number => countBetween(byVantage.get(vantage)!, from, t)
  const q = h.db.selectFrom('sessions').where('last_seen', '>=', from).where('vantage', 'in', vantages)
  // materialized: read by last_seen, then grouped (grouping first would walk every session ever, by node)
  const inside = await h.db
    .with((cte) => cte('recent').materialized(), () => q.where('started_at', '>=', from).select(['node', 'started_at', 'crawls']))
    .selectFrom('recent')
    .select(['node', (eb) => eb.fn.min('started_at').as('first'), (eb) => eb.fn.sum<number>('crawls').as('up')])
    .groupBy('node')
    .execute()
  const up = new Map(inside.map((r) => [r.node, { first: Number(r.first), up: Number(r.up) }]))
  // sessions under way when the window began: the window's crawls of their vantage point up to their last
  for (const s of await q.where('started_at', '<', from).select(['node', 'vantage', 'last_seen']).execute()) {
    const e = up.get(s.node)
    up.set(s.node, { first: from, up: (e?.up ?? 0) + upTo(s.vantage, Number(s.last_seen)) })
  }
  const totals = await h.db.selectFrom('uptime_totals').select(['node', 'vantage', 'answered', 'crawls', 'first_seen', 'last_seen']).where('last_seen', '>=', from).where('vantage', 'in', vantages).execute()
  for (const t of totals) {
    const first = Number(t.first_seen)
    const e = up.get(t.node)
    if (first >= from) up.set(t.node, { first: Math.min(e?.first ?? first, first), up: (e?.up ?? 0) + t.answered })
    else up.set(t.node, { first: from, up: (e?.up ?? 0) + (t.answered * upTo(t.vantage, Number(t.last_seen))) / Math.max(1, t.crawls) })
  }
  for (const r of up.values()) {
    const total = countBetween(starts, r.first, Infinity)
    out.nodes++
    if (total <= 1) {
      out.single++
      continue
    }
    const share = Math.min(1, r.up / total)
    const b = out.buckets.find((x) => share >= x.min && share < x.max)!
    b.nodes++
  }
  return out
}
