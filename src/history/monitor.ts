/**
 * The monitor loop: one crawl after another, each written whole into the history when it ends.
 *
 * The schedule lives in the database: the next crawl is due `every` after the vantage point's last
 * crawl started, so a restarted monitor continues where the last one left off (and crawls at once when
 * that time has passed). Aborting (SIGINT) stops the crawl under way; what it found is still written,
 * marked interrupted, before the loop returns. A crawl's records are held in memory until it ends
 * (as `ethp2p crawl` holds them for its outputs) and written in one transaction: a kill -9 loses the
 * crawl under way and nothing else.
 */
import type { PreviousNode } from '../crawler/record.js'
import type { Logger } from '../util/log.js'
import type { History } from './db.js'
import { EdgeList } from './edges.js'
import { lastCrawlStart, recentNodes } from './query.js'
import { applyRetention } from './retention.js'
import type { HistoryRecord } from './visit.js'
import { writeCrawl, type WrittenCrawl } from './write.js'

/** One crawl as the monitor drives it (cli/crawl-setup's CrawlRun fits). */
export interface MonitoredCrawl {
  /** the crawler, for its table entries (`edge` events) when edges are stored */
  readonly crawler?: { on(event: 'edge', listener: (from: string, to: string, distance: number) => void): unknown }
  records(): AsyncIterable<HistoryRecord>
  stop(): void
  close(): Promise<void>
}

/** Options of {@link runMonitor}. */
export interface MonitorOptions {
  history: History
  vantage: string
  everyMs: number
  /** the crawl options, stored with each crawl */
  options: Record<string, unknown>
  /** start one crawl; `previous` are nodes up in the last day, to be re-checked */
  startCrawl: (previous: PreviousNode[]) => Promise<MonitoredCrawl>
  /** stop: the crawl under way is cut short and written, then the loop returns */
  signal: AbortSignal
  log: Logger
  /** stop after this many crawls (default: run until aborted) */
  maxCrawls?: number
  /** each crawl once it is committed */
  onCrawl?: (written: WrittenCrawl) => void
  /** nodes that answered within this window are re-checked by the next crawl (default 24 h) */
  recheckMs?: number
  /** store each crawl's edges (monitor --neighbors), held as compact numbers until the crawl is written */
  edges?: boolean
  /** after each stored crawl, prune this vantage point's crawls older than this (monitor --retain) */
  retainMs?: number
}

const DAY = 24 * 3600_000
/** a failed write is tried again this often, this far apart, before the monitor gives up */
const WRITE_TRIES = 3
const WRITE_RETRY_MS = 5_000

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const done = (): void => {
      clearTimeout(t)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const t = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}

/** Crawl on schedule until aborted (or `maxCrawls` are done). Throws when the history cannot be written. */
export async function runMonitor(o: MonitorOptions): Promise<void> {
  const { history, vantage, log, signal } = o
  let done = 0
  while (!signal.aborted && (o.maxCrawls === undefined || done < o.maxCrawls)) {
    const last = await lastCrawlStart(history, vantage)
    const due = last === undefined ? Date.now() : last + o.everyMs
    if (due > Date.now()) {
      log.info({ vantage, due: new Date(due).toISOString() }, 'next crawl scheduled')
      await sleep(due - Date.now(), signal)
      if (signal.aborted) break
    }
    const startedAt = Date.now()
    const previous = await recentNodes(history, startedAt - (o.recheckMs ?? DAY))
    log.info({ vantage, previous: previous.length }, 'crawl started')
    const crawl = await o.startCrawl(previous)
    const onAbort = (): void => crawl.stop()
    signal.addEventListener('abort', onAbort, { once: true })
    const records: HistoryRecord[] = []
    const edges = o.edges ? new EdgeList() : undefined
    if (edges) crawl.crawler?.on('edge', (from, to, distance) => edges.add(from, to, distance))
    try {
      for await (const r of crawl.records()) records.push(r)
    } finally {
      signal.removeEventListener('abort', onAbort)
      await crawl.close()
    }
    const meta = { vantage, startedAt, endedAt: Date.now(), options: o.options, interrupted: signal.aborted }
    const written = await writeWithRetries(history, meta, records, log, edges)
    done++
    log.info({ ...written, vantage, interrupted: meta.interrupted, seconds: (meta.endedAt - startedAt) / 1000 }, 'crawl stored')
    o.onCrawl?.(written)
    if (o.retainMs !== undefined) await applyRetention(history, vantage, o.retainMs, log, signal)
  }
}

async function writeWithRetries(h: History, meta: Parameters<typeof writeCrawl>[1], records: HistoryRecord[], log: Logger, edges: EdgeList | undefined): Promise<WrittenCrawl> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await writeCrawl(h, meta, records, edges)
    } catch (err) {
      if (attempt >= WRITE_TRIES) throw err
      log.error({ err: (err as Error).message, attempt }, `writing the crawl failed; trying again in ${WRITE_RETRY_MS / 1000} s`)
      // not cut short by SIGINT: the crawl is finished and worth the wait
      await new Promise((r) => setTimeout(r, WRITE_RETRY_MS))
    }
  }
}
