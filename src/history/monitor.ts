/**
 * The monitor loop: one crawl after another, each stored whole in the history when it ends, and the
 * loop goes on while the database is away.
 *
 * Every finished crawl is first put in the spool (a file in the datadir, written atomically), then
 * written to the database in one transaction, then taken out of the spool. When the database cannot
 * be reached (server down, SQLite file locked, disk full: transient.ts), the crawl stays spooled, the
 * outage is logged once, and the spool is tried again with backoff between crawls (never during one,
 * so a crawl runs at the speed `ethp2p crawl` has), oldest crawl first. Each crawl carries a UUID
 * stored with it, so a write whose commit was not acknowledged is recognised on retry and skipped. A
 * failure that is not transient (a constraint or syntax error: a bug) stops the monitor loudly, its
 * crawl left in the spool.
 *
 * The schedule lives in the database: the next crawl is due `every` after the vantage point's last
 * crawl started (the spool's newest crawl while the database cannot say), so a restarted monitor
 * continues where the last one left off; it stores what the last one spooled first. Aborting
 * (SIGINT) stops the crawl under way; what it found is spooled, marked interrupted, and written
 * unless the database is away, in which case it waits in the spool for the next start.
 */
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import type { PreviousNode } from '../crawler/record.js'
import type { Logger } from '../util/log.js'
import { HistoryError, type History } from './db.js'
import { EdgeList } from './edges.js'
import { Outage, type Backoff } from './outage.js'
import { lastCrawlStart, recentNodes } from './query.js'
import { applyRetention } from './retention.js'
import type { Spool, SpoolEntry } from './spool.js'
import { SpoolFormatError, type SpooledCrawl } from './spooled.js'
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
  /** stop: the crawl under way is cut short and spooled (and written if the database is there), then the loop returns */
  signal: AbortSignal
  log: Logger
  /** where finished crawls wait for the database (what an earlier run left there is written first) */
  spool: Spool
  /** called before each use of the database until it succeeds once (openHistoryWhenReachable's `ready`: the migration) */
  ready?: () => Promise<void>
  /** how tries are spaced while the database is unreachable (default 1 s doubling to 60 s, jittered) */
  backoff?: Backoff
  /** stop after this many crawls, once they are all stored (default: run until aborted) */
  maxCrawls?: number
  /** each crawl once it is committed (or found committed already) */
  onCrawl?: (written: WrittenCrawl, meta: SpooledCrawl['meta']) => void
  /** nodes that answered within this window are re-checked by the next crawl (default 24 h) */
  recheckMs?: number
  /** store each crawl's edges (monitor --neighbors), held as compact numbers until the crawl is written */
  edges?: boolean
  /** after each stored crawl, prune this vantage point's crawls older than this (monitor --retain) */
  retainMs?: number
}

const DAY = 24 * 3600_000
/** nodes to re-check at most (as recentNodes reads them) */
const MAX_PREVIOUS = 500_000

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const done = (): void => {
      clearTimeout(t)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const t = setTimeout(done, Math.max(0, ms))
    signal.addEventListener('abort', done, { once: true })
  })
}

const latest = (...ts: (number | undefined)[]): number | undefined => ts.reduce<number | undefined>((a, b) => (b === undefined ? a : a === undefined ? b : Math.max(a, b)), undefined)

/**
 * The nodes to re-check when the database cannot be asked: the last answer it gave, plus the nodes
 * that answered in the crawls run since (bounded as recentNodes is).
 */
class KnownNodes {
  private nodes = new Map<string, PreviousNode>()

  get size(): number {
    return this.nodes.size
  }

  replace(rows: PreviousNode[]): void {
    this.nodes = new Map(rows.map((r) => [r.id, r]))
  }

  addAnswered(records: Iterable<HistoryRecord>, startedAt: number): void {
    for (const r of records) {
      if (!r.answered || r.udp <= 0 || (this.nodes.size >= MAX_PREVIOUS && !this.nodes.has(r.id))) continue
      this.nodes.set(r.id, { id: r.id, ip: r.ip, udp: r.udp, tcp: r.tcp, firstSeen: this.nodes.get(r.id)?.firstSeen ?? startedAt })
    }
  }

  list(): PreviousNode[] {
    return [...this.nodes.values()]
  }
}

/** Crawl on schedule until aborted (or `maxCrawls` are done and stored). Throws when the history refuses a crawl for good. */
export async function runMonitor(o: MonitorOptions): Promise<void> {
  const { history, vantage, log, signal, spool } = o
  const outage = new Outage(log, o.backoff)
  const known = new KnownNodes()
  let lastStart: number | undefined
  /** the last read failed: the next one that works means the server is back */
  let readsFailing = false
  /** the crawl just spooled, still in memory: written without reading its file back */
  let fresh: { entry: SpoolEntry; crawl: SpooledCrawl } | undefined

  /** THE place a crawl lands once the database has committed it */
  const committed = async (written: WrittenCrawl, meta: SpooledCrawl['meta']): Promise<void> => {
    // counts leave the log: one row per client version, country and AS would swell the line
    const { counts: _counts, ...figures } = written
    log.info({ ...figures, vantage, interrupted: meta.interrupted ?? false, seconds: (meta.endedAt - meta.startedAt) / 1000, spooled: spool.size }, written.alreadyStored ? 'crawl was stored already' : 'crawl stored')
    o.onCrawl?.(written, meta)
    if (o.retainMs !== undefined) await applyRetention(history, vantage, o.retainMs, log, signal)
  }

  /** Write the spool to the database, oldest first, until it is empty or the database fails. */
  const flush = async (): Promise<void> => {
    for (let e = spool.oldest(); e !== undefined; e = spool.oldest()) {
      let crawl: SpooledCrawl
      try {
        crawl = fresh?.entry === e ? fresh.crawl : await spool.read(e)
      } catch (err) {
        if (!(err instanceof SpoolFormatError)) throw err
        log.error({ file: await spool.setAside(e), err: err.message }, 'a spooled crawl is damaged: set aside, not stored')
        continue
      }
      let written: WrittenCrawl
      try {
        await o.ready?.()
        written = await writeCrawl(history, crawl.meta, crawl.records, crawl.edges)
      } catch (err) {
        try {
          outage.failed(err, { op: 'write', spooled: spool.size })
        } catch {
          throw new HistoryError('WRITE_FAILED', `storing the crawl spooled as ${join(spool.dir, e.name)} failed: ${(err as Error).message}`, { cause: err })
        }
        return
      }
      outage.up({ spooled: spool.size })
      await spool.remove(e)
      if (fresh?.entry === e) fresh = undefined
      await committed(written, crawl.meta)
    }
  }

  /** Sleep until `due`, trying the spool again whenever a retry falls due meanwhile. */
  const waitUntil = async (due: number): Promise<void> => {
    while (!signal.aborted && Date.now() < due) {
      const retry = outage.down && spool.size > 0 ? outage.nextTryAt : Infinity
      if (retry <= Date.now()) await flush()
      else await sleep(Math.min(due, retry) - Date.now(), signal)
    }
  }

  /**
   * A read worked. It ends the outage only with nothing spooled (a locked SQLite file reads fine and
   * refuses writes); after failed reads it means the server is back, so the spool is tried at once.
   */
  const readWorked = (): void => {
    if (spool.size === 0) outage.up()
    else if (readsFailing) outage.retryNow()
    readsFailing = false
  }
  const readFailed = (err: unknown, op: string): void => {
    outage.failed(err, { op, spooled: spool.size })
    readsFailing = true
  }

  /** the start of the vantage's last crawl: the database's, or what the spool and this run know */
  const lastStartOf = async (): Promise<number | undefined> => {
    let stored: number | undefined
    try {
      await o.ready?.()
      stored = await lastCrawlStart(history, vantage)
      readWorked()
    } catch (err) {
      readFailed(err, 'read the schedule')
    }
    return latest(stored, spool.newestStart(), lastStart)
  }

  /** the nodes up since `since`, to re-check: the database's, or the last known ones */
  const previousNodes = async (since: number): Promise<PreviousNode[]> => {
    try {
      await o.ready?.()
      const rows = await recentNodes(history, since)
      readWorked()
      known.replace(rows)
      return rows
    } catch (err) {
      readFailed(err, 'read the nodes to re-check')
      const newest = spool.newest()
      // a restart during the outage knows nothing yet: the newest spooled crawl's answering nodes
      if (known.size === 0 && newest !== undefined) known.addAnswered((await spool.read(newest).catch(() => undefined))?.records ?? [], newest.startedAt)
      return known.list()
    }
  }

  const crawlOnce = async (): Promise<SpooledCrawl> => {
    const startedAt = Date.now()
    const previous = await previousNodes(startedAt - (o.recheckMs ?? DAY))
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
    const meta = { vantage, startedAt, endedAt: Date.now(), options: o.options, interrupted: signal.aborted, key: randomUUID() }
    return { meta, records, ...(edges ? { edges } : {}) }
  }

  // what an earlier run spooled goes first, in order
  if (spool.size > 0) log.info({ spooled: spool.size, dir: spool.dir }, 'storing the crawls an earlier run spooled')
  await flush()
  let done = 0
  while (!signal.aborted && (o.maxCrawls === undefined || done < o.maxCrawls)) {
    const last = await lastStartOf()
    const due = last === undefined ? Date.now() : last + o.everyMs
    if (due > Date.now()) {
      log.info({ vantage, due: new Date(due).toISOString() }, 'next crawl scheduled')
      await waitUntil(due)
      if (signal.aborted) break
    }
    const crawl = await crawlOnce()
    lastStart = crawl.meta.startedAt
    fresh = { entry: await spool.put(crawl), crawl }
    known.addAnswered(crawl.records, crawl.meta.startedAt)
    done++
    if (!outage.down || Date.now() >= outage.nextTryAt) await flush()
  }
  // --crawls N: every crawl stored before returning; SIGINT: one try unless the database is away
  while (!signal.aborted && spool.size > 0) {
    await sleep(outage.nextTryAt - Date.now(), signal)
    if (!signal.aborted) await flush()
  }
  if (signal.aborted && !outage.down) await flush()
  if (spool.size > 0) log.info({ spooled: spool.size, dir: spool.dir }, 'crawls wait in the spool for the next start')
}
