/**
 * `ethp2p history prune --before DATE`: delete the visits and edges of the crawls that started before
 * DATE, keeping every crawl's summary and counts, the nodes and the uptime sessions, and rolling each
 * whole day up into `daily_counts` (history/retention.ts). DATE is an ISO date or date-time (UTC
 * unless it names a zone) or a duration ago (`30d`, `12h`, `1d12h`). One JSON line on stdout says
 * what was done; SIGINT stops between batches, what was done stays done.
 */
import { existsSync } from 'node:fs'
import { InvalidArgumentError } from 'commander'
import { dbSpecFor, HistoryError, openHistory } from '../history/db.js'
import { pruneHistory } from '../history/retention.js'

/** `ethp2p history prune`'s parsed options. */
export interface PruneCliOptions {
  /** epoch ms */
  before: number
  db?: string
  datadir?: string
  vantage?: string
}

/** `ethp2p history prune`: prunes and prints `{ before, crawls, visits, edges, days, aborted }`. */
export async function runPrune(opts: PruneCliOptions): Promise<void> {
  let spec
  try {
    spec = dbSpecFor(opts.db, opts.datadir)
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message)
  }
  if (spec.engine === 'sqlite' && !existsSync(spec.file)) throw new InvalidArgumentError(`no history at ${spec.file} (give --db or --datadir)`)
  const h = await openHistory(spec).catch((err: unknown) => {
    throw err instanceof HistoryError && err.code === 'BAD_DB_SPEC' ? new InvalidArgumentError(err.message) : err
  })
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
