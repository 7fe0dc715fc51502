/**
 * `ethp2p monitor`: crawl on a schedule (`--every`, the first crawl at once) with the options of
 * `ethp2p crawl`, each crawl written into the SQL history (`--db`, SQLite under --datadir by default);
 * optionally the dashboard (`--http`) and Prometheus gauges (`--metrics`). Finished crawls wait in the
 * spool, DATADIR/spool/VANTAGE (DATADIR defaults to '.', as for history.sqlite), until the database
 * has them. One JSON line per stored crawl goes to stdout; logs go to stderr. SIGINT/SIGTERM: the
 * crawl under way stops, what it found is spooled and written (marked interrupted), exit 0.
 */
import { hostname } from 'node:os'
import { InvalidArgumentError } from 'commander'
import { dbSpecFor, describe, HistoryError, openHistoryWhenReachable } from '../history/db.js'
import { runMonitor } from '../history/monitor.js'
import { Spool, spoolDir } from '../history/spool.js'
import { geoOfCounts, latestCounts } from '../history/query.js'
import type { WrittenCrawl } from '../history/write.js'
import { CrawlMetrics, GAUGE_DIMENSIONS } from '../metrics/crawl.js'
import { MetricsServerError, serveMetrics } from '../metrics/serve.js'
import { DashboardError, serveDashboard } from '../web/server.js'
import { createLogger } from '../util/log.js'
import { CrawlSetup, crawlOptionsProblem, type CrawlSetupOptions } from './crawl-setup.js'

/** `ethp2p monitor`'s parsed options: a crawl's, plus how often and where the history goes. */
export interface MonitorCliOptions extends CrawlSetupOptions {
  every: number
  db?: string
  vantage?: string
  http?: string
  metrics?: string
  crawls?: number
  /** store each crawl's edges (table entries) in the history */
  neighbors?: boolean
  /** ms: prune this vantage point's crawls older than this after each crawl */
  retain?: number
}

/** countries and ASes each stored crawl's line names: a few, so the line stays one short line */
export const LINE_GEO_TOP = 3

/**
 * The JSON line printed for a stored crawl: its counts, churn, protocols and layers, its largest
 * countries and ASes (shaped as `stats --json`'s `geo`), and the share of answering nodes with a known
 * AS that are on hosting ASes: null when no AS is known (a loopback testnet), which 0 would misstate.
 */
export function crawlLine(w: WrittenCrawl, vantage: string, interrupted: boolean): Record<string, unknown> {
  const geo = geoOfCounts(w.counts, LINE_GEO_TOP)
  return {
    crawl: w.id,
    vantage,
    found: w.found,
    answered: w.answered,
    new: w.newNodes,
    returning: w.returningNodes,
    gone: w.goneNodes,
    protocols: w.protocols,
    layers: w.layers,
    countries: geo.countries,
    ases: geo.ases,
    // three decimals: the summary's 0.1 %
    hostingShare: geo.withAsn === 0 ? null : Math.round(geo.hostingShare * 1000) / 1000,
    ...(w.edges !== undefined ? { edges: w.edges } : {}),
    interrupted,
  }
}

/** `ethp2p monitor`: crawls every `every` ms into the history until stopped (or `crawls` crawls). */
export async function runMonitorCli(opts: MonitorCliOptions): Promise<void> {
  const log = createLogger()
  const problem = crawlOptionsProblem(opts, 0)
  if (problem !== undefined) throw new InvalidArgumentError(problem)
  let spec
  try {
    spec = dbSpecFor(opts.db, opts.datadir)
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message)
  }
  const vantage = opts.vantage ?? hostname().slice(0, 64)
  // a database that is away at start is waited for as in any outage (its crawls spooled meanwhile)
  const { history, ready } = await openHistoryWhenReachable(spec).catch((err: unknown) => {
    throw err instanceof HistoryError && err.code === 'BAD_DB_SPEC' ? new InvalidArgumentError(err.message) : err
  })
  const stopping = new AbortController()
  const onSignal = (sig: NodeJS.Signals): void => {
    if (stopping.signal.aborted) return
    log.info({ signal: sig }, 'stopping: the crawl under way is cut short and written')
    stopping.abort()
  }
  const onInt = (): void => onSignal('SIGINT')
  const onTerm = (): void => onSignal('SIGTERM')
  process.on('SIGINT', onInt)
  process.on('SIGTERM', onTerm)
  const closers: (() => Promise<void>)[] = [() => history.close()]
  try {
    const spool = await Spool.open(spoolDir(opts.datadir ?? '.', vantage), log)
    log.info({ db: describe(spec), vantage, everySeconds: opts.every / 1000, spool: spool.dir, spooled: spool.size }, 'monitor started')
    if (opts.http !== undefined) {
      const dash = await serveDashboard(opts.http, history, { signal: stopping.signal, vantage, onError: (err) => log.error({ err }, 'dashboard query failed') }).catch((err: unknown) => {
        throw err instanceof DashboardError ? new InvalidArgumentError(`--http: ${err.message}`) : err
      })
      closers.push(() => dash.close())
      log.info({ url: dash.url }, `dashboard on ${dash.url}`)
    }
    if (opts.metrics !== undefined) {
      const metrics = new CrawlMetrics(() => latestCounts(history, GAUGE_DIMENSIONS, { vantage }))
      const m = await serveMetrics(opts.metrics, metrics.registry, stopping.signal).catch((err: unknown) => {
        throw err instanceof MetricsServerError ? new InvalidArgumentError(`--metrics: ${err.message}`) : err
      })
      closers.push(() => m.close())
      log.info({ url: `http://${opts.metrics}/metrics`, port: m.port }, 'Prometheus metrics served')
    }
    const setup = await CrawlSetup.open(opts, log)
    closers.push(() => setup.close())
    const { bootnodes: _b, datadir: _d, db: _db, http: _h, metrics: _m, ...rest } = opts
    const options = { ...rest, seeds: setup.seeds.length }
    await runMonitor({
      history,
      vantage,
      everyMs: opts.every,
      options,
      startCrawl: (previous) => setup.start(previous),
      signal: stopping.signal,
      log,
      spool,
      ready,
      ...(opts.crawls !== undefined ? { maxCrawls: opts.crawls } : {}),
      ...(opts.neighbors ? { edges: true } : {}),
      ...(opts.retain !== undefined ? { retainMs: opts.retain } : {}),
      onCrawl: (w, meta) => process.stdout.write(JSON.stringify(crawlLine(w, vantage, meta.interrupted ?? false)) + '\n'),
    })
  } finally {
    process.off('SIGINT', onInt)
    process.off('SIGTERM', onTerm)
    for (const c of closers.reverse()) await c().catch((err: unknown) => log.error({ err }, 'closing failed'))
  }
}
