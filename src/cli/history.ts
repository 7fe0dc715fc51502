/**
 * `ethp2p history prune --before DATE`: delete the visits and edges of the crawls that started before
 * DATE, keeping every crawl's summary and counts and the nodes, folding the uptime sessions that ended
 * before DATE into per-node totals (history/fold.ts), and rolling each whole day up into `daily_counts`
 * (history/retention.ts). DATE is an ISO date or date-time (UTC unless it names a zone) or a duration
 * ago (`30d`, `12h`, `1d12h`). One JSON line on stdout says what was done; SIGINT stops between
 * batches, what was done stays done.
 */
import { dbSpecFor } from '../history/db.js'
import { openExistingHistory } from './history-open.js'
import { pruneHistory } from '../history/retention.js'

/** `ethp2p history prune`'s parsed options. */
export interface PruneCliOptions {
  /** epoch ms */
  before: number
  db?: string
  datadir?: string
  vantage?: string
}

/** `ethp2p history prune`: prunes and prints `{ before, crawls, visits, edges, sessions, days, aborted }`. */
export async function runPrune(opts: PruneCliOptions): Promise<void> {
  const h = await openExistingHistory(() => dbSpecFor(opts.db, opts.datadir))
  const stop = new AbortController()
  const onSignal = (): void => stop.abort()
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    const r = await pruneHistory(h, { before: opts.before, ...(opts.vantage !== undefined ? { vantage: opts.vantage } : {}), signal: stop.signal })
    process.stdout.write(JSON.stringify({ before: new Date(opts.before).toISOString(), ...r }) + '\n')
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await h.close()
  }
}
