/**
 * Series per UTC day: for a window longer than the per-crawl series show (a year of half-hourly crawls
 * is 17,520 points a key), the mean count per crawl of each day. Days rolled up by `history prune`
 * (`daily_counts`) are read from the rollup; the days after a vantage point's last rolled-up day are
 * summed here from the per-crawl counts, the same sums the rollup would hold, so the answer is the
 * same before and after a prune. A day's crawls are counted from the crawl rows, which prune keeps.
 */
import type { History } from './db.js'
import { OTHERS, type Window } from './query.js'
import { crawlDay, DAY_MS, dayOf } from './retention.js'
import type { Dimension } from './visit.js'

/** Counts of `dim` per UTC day: `values[key][i]` is the mean per crawl of `days[i]`. */
export interface DailySeries {
  dim: Dimension
  /** each day: its start (epoch ms, 00:00 UTC) and the crawls (not interrupted) its means are over */
  days: { day: number; crawls: number }[]
  /** the keys largest on the latest day first; the rest are summed into '(others)' */
  keys: string[]
  values: Record<string, number[]>
}

/** days a daily series covers by default (and at most) */
const DEFAULT_DAYS = 400
const MAX_DAYS = 10_000
const DEFAULT_TOP = 10

/**
 * The series of `dim` per day over the window: `since` is taken to the start of its day, `limit` counts
 * days (the latest ones, 400 by default). Means over every vantage point's crawls of the day when no
 * vantage point is given.
 */
export async function dailySeries(h: History, dim: Dimension, w: Window = {}, opts: { top?: number } = {}): Promise<DailySeries> {
  const from = w.since !== undefined ? dayOf(w.since) : undefined
  // per vantage point, the first day not rolled up
  let rolledQ = h.db.selectFrom('daily_counts').select(['vantage', (eb) => eb.fn.max('day').as('last')])
  if (w.vantage !== undefined) rolledQ = rolledQ.where('vantage', '=', w.vantage)
  const horizon = new Map((await rolledQ.groupBy('vantage').execute()).map((r) => [r.vantage, Number(r.last) + DAY_MS]))

  const crawls = new Map<number, number>()
  const sums = new Map<string, Map<number, number>>()
  const add = (key: string, day: number, n: number): void => {
    let m = sums.get(key)
    if (!m) sums.set(key, (m = new Map()))
    m.set(day, (m.get(day) ?? 0) + n)
  }

  // every day's crawls from the crawl rows, which prune keeps
  let inWindow = h.db.selectFrom('crawls').where('interrupted', '=', 0)
  if (w.vantage !== undefined) inWindow = inWindow.where('vantage', '=', w.vantage)
  if (from !== undefined) inWindow = inWindow.where('started_at', '>=', from)
  for (const r of await inWindow.select([crawlDay.as('day'), (eb) => eb.fn.countAll<number>().as('n')]).groupBy(crawlDay).execute()) crawls.set(Number(r.day), Number(r.n))

  // the rolled-up days' sums
  let rq = h.db.selectFrom('daily_counts').select(['day', 'key', 'n']).where('dim', '=', dim)
  if (w.vantage !== undefined) rq = rq.where('vantage', '=', w.vantage)
  if (from !== undefined) rq = rq.where('day', '>=', from)
  for (const r of await rq.execute()) add(r.key, Number(r.day), Number(r.n))

  // the other days' sums, from the per-crawl counts of the crawls past each vantage point's horizon
  let cq = inWindow
  if (horizon.size > 0) {
    cq = cq.where((eb) => eb.or([eb('vantage', 'not in', [...horizon.keys()]), ...[...horizon].map(([v, t]) => eb.and([eb('vantage', '=', v), eb('started_at', '>=', t)]))]))
  }
  const live = await h.db
    .selectFrom('crawl_counts')
    .innerJoin('crawls', 'crawls.id', 'crawl_counts.crawl_id')
    .select([crawlDay.as('day'), 'crawl_counts.key', (eb) => eb.fn.sum<number>('crawl_counts.n').as('n')])
    .where('crawl_counts.dim', '=', dim)
    .where('crawls.id', 'in', cq.select('crawls.id'))
    .groupBy([crawlDay, 'crawl_counts.key'])
    .execute()
  for (const r of live) add(r.key, Number(r.day), Number(r.n))

  const limit = Math.max(1, Math.min(MAX_DAYS, w.limit ?? DEFAULT_DAYS))
  const days = [...crawls.keys()].sort((a, b) => a - b).slice(-limit)
  const out: DailySeries = { dim, days: days.map((day) => ({ day, crawls: crawls.get(day)! })), keys: [], values: {} }
  if (days.length === 0) return out
  const all = [...sums].map(([key, m]) => [key, days.map((d) => (m.get(d) ?? 0) / crawls.get(d)!)] as const)
  // rank by the latest day, then by the whole window, as the per-crawl series do
  const last = days.length - 1
  const total = (v: readonly number[]): number => v.reduce((a, b) => a + b, 0)
  const ranked = all.filter(([, v]) => v.some((x) => x > 0)).sort((a, b) => b[1][last]! - a[1][last]! || total(b[1]) - total(a[1]) || (a[0] < b[0] ? -1 : 1))
  const top = Math.max(1, opts.top ?? DEFAULT_TOP)
  for (const [k, v] of ranked.slice(0, top)) {
    out.keys.push(k)
    out.values[k] = [...v]
  }
  if (ranked.length > top) {
    const others = new Array<number>(days.length).fill(0)
    for (const [, v] of ranked.slice(top)) for (let i = 0; i < v.length; i++) others[i]! += v[i]!
    out.keys.push(OTHERS)
    out.values[OTHERS] = others
  }
  return out
}
