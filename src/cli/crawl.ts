/**
 * `ethp2p crawl`: crawl the discv4 network from bootnodes, a network's public bootnodes, DNS trees, the
 * datadir's earlier results or an in-process testnet. Records go to --out (stdout by default), --csv
 * and --nodes-json; progress and the summary go to stderr. SIGINT/SIGTERM end the crawl, the outputs
 * are completed and the exit code is 0.
 */
import { writeFileSync } from 'node:fs'
import { InvalidArgumentError } from 'commander'
import { SingleBar } from 'cli-progress'
import type { Crawler } from '../crawler/crawl.js'
import type { CrawlProgress } from '../crawler/options.js'
import type { Dialer } from '../crawler/dialer.js'
import { isCrawlNetwork } from '../crawler/bootnodes.js'
import { CsvWriter, EdgeCsvWriter, formatSummary, JsonlWriter, nodeSet, summarize, writeNodesJson } from '../crawler/output.js'
import { markSynced } from '../crawler/head.js'
import type { CrawlRecord } from '../crawler/record.js'
import { renderReport, type TimelinePoint } from '../crawler/report.js'
import { compareCrawls, CrawlStore, CrawlStoreError, snapshotCrawl, type EarlierNode } from '../crawler/store.js'
import { CrawlSetup, crawlOptionsProblem, type CrawlSetupOptions } from './crawl-setup.js'
import { createLogger } from '../util/log.js'

/** `ethp2p crawl`'s parsed options. */
export interface CrawlCliOptions extends CrawlSetupOptions {
  out?: string
  csv?: string
  nodesJson?: string
  since?: string
  report?: string
  /** every table entry found, as CSV (from,to,distance) */
  neighbors?: string
}

/** `--dns` values: comma-separated enrtree:// URLs */
export function enrtreeArg(v: string, prev: string[] = []): string[] {
  const urls = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  for (const u of urls) if (!/^enrtree:\/\/[A-Z2-7]+@[^\s@]+$/.test(u)) throw new InvalidArgumentError(`${u}: want enrtree://KEY@domain`)
  return [...prev, ...urls]
}

/** commander parser: a network the crawler has bootnodes for */
export function networkArg(v: string): string {
  if (!isCrawlNetwork(v)) throw new InvalidArgumentError('must be mainnet, sepolia, holesky or hoodi')
  return v
}

/** progress on stderr: a live bar on a terminal, a plain line every few seconds otherwise */
function progressReporter(crawler: Crawler, dialer?: Dialer): () => void {
  const line = (p: CrawlProgress): string => {
    const s = p.elapsedMs / 1000 || 1
    const d = dialer?.progress()
    const dial = d ? ` dialled ${d.dialled} (hello ${d.hello}, status ${d.status}, inbound ${d.inbound}) dial-queue ${d.queued + d.inFlight}` : ''
    return `found ${p.found} answered ${p.answered} unanswered ${p.unanswered} queued ${p.queued} in-flight ${p.inFlight}${dial} rate ${Math.round((p.answered + p.unanswered) / s)} nodes/s ${Math.round((p.packetsIn + p.packetsOut) / s)} packets/s (sending ≤ ${p.sendRate}/s)`
  }
  if (process.stderr.isTTY) {
    const bar = new SingleBar({ format: 'crawl [{bar}] {value}/{total} checked | {info}', stream: process.stderr, hideCursor: true })
    bar.start(1, 0, { info: '' })
    const timer = setInterval(() => {
      const p = crawler.progress()
      bar.setTotal(Math.max(1, p.found))
      bar.update(p.answered + p.unanswered, { info: line(p) })
    }, 250)
    return () => {
      clearInterval(timer)
      bar.stop()
    }
  }
  const timer = setInterval(() => process.stderr.write(`crawl: ${line(crawler.progress())}\n`), 5000)
  return () => clearInterval(timer)
}

/** `ethp2p crawl`: seeds, the crawl (and dials), the outputs, the summary. */
export async function runCrawl(opts: CrawlCliOptions): Promise<void> {
  const log = createLogger()

  // --since names an earlier crawl; a missing one is a bad argument, caught before anything starts
  let earlier: Map<string, EarlierNode> | undefined
  if (opts.since !== undefined) {
    let since: CrawlStore
    try {
      since = CrawlStore.open(opts.since, { readOnly: true })
    } catch (err) {
      throw new InvalidArgumentError(`--since ${opts.since}: ${(err as Error).message}`)
    }
    // copied before this crawl writes anything: --since may name the datadir itself
    earlier = snapshotCrawl(since)
    await since.close()
  }
  const store = opts.datadir !== undefined ? CrawlStore.open(opts.datadir) : undefined
  const previous = store?.previous() ?? []
  const problem = crawlOptionsProblem(opts, previous.length)
  if (problem !== undefined) {
    await store?.close()
    throw new InvalidArgumentError(problem.startsWith('nothing') ? `${problem} (or a --datadir with earlier results)` : problem)
  }

  const closers: (() => Promise<void>)[] = []
  const closeAll = async (): Promise<void> => {
    for (const c of closers.reverse()) await c().catch((err: unknown) => log.error({ err }, 'closing failed'))
  }
  try {
    if (store) closers.push(() => store.close())
    const setup = await CrawlSetup.open(opts, log)
    closers.push(() => setup.close())
    const seeds = setup.seeds
    const run = await setup.start(previous)
    closers.push(() => run.close())
    const { crawler, dialer, disc } = run
    let nodeErrors = 0
    crawler.on('nodeError', () => nodeErrors++)

    const stopOn = (sig: NodeJS.Signals): void => {
      log.info({ signal: sig }, 'stopping the crawl; writing what it found')
      run.stop()
    }
    const onInt = (): void => stopOn('SIGINT')
    const onTerm = (): void => stopOn('SIGTERM')
    process.on('SIGINT', onInt)
    process.on('SIGTERM', onTerm)
    closers.push(async () => {
      process.off('SIGINT', onInt)
      process.off('SIGTERM', onTerm)
    })

    const jsonl = opts.out !== undefined ? JsonlWriter.toFile(opts.out) : JsonlWriter.toStream(process.stdout)
    const csv = opts.csv !== undefined ? await CsvWriter.toFile(opts.csv) : undefined
    // --neighbors: the edges as they come, and each listed node's in-degree for the summary and the
    // report (one number per node; the edges themselves are only in the file)
    const edges = opts.neighbors !== undefined ? EdgeCsvWriter.toFile(opts.neighbors) : undefined
    const inDegree = new Map<string, number>()
    const listers = new Set<string>()
    if (edges) {
      crawler.on('edge', (from, to, distance) => {
        edges.write(from, to, distance)
        listers.add(from)
        inDegree.set(to, (inDegree.get(to) ?? 0) + 1)
      })
    }
    const records: CrawlRecord[] = []
    const stopProgress = progressReporter(crawler, dialer)
    const started = Date.now()
    // the report's "found over time" chart: one sample a second, thinned to half past 2 h of samples
    const timeline: TimelinePoint[] = [{ t: 0, found: crawler.progress().found, answered: 0 }]
    const sampler = setInterval(() => {
      const p = crawler.progress()
      timeline.push({ t: Date.now() - started, found: p.found, answered: p.answered })
      if (timeline.length > 7200) timeline.splice(0, timeline.length, ...timeline.filter((_, i) => i % 2 === 0))
    }, 1000)
    try {
      for await (const r of run.records()) {
        records.push(r)
        await jsonl.write(r)
        await csv?.write(r)
        void store?.put(r)
      }
    } finally {
      clearInterval(sampler)
      stopProgress()
      await jsonl.close()
      await csv?.close()
      await edges?.close()
    }
    await store?.flush()
    // synced needs every node's head, so it is known only now: the JSONL and CSV above were streamed
    // without it; the summary and the report below have it (crawler/head.ts)
    markSynced(records)
    if (opts.nodesJson !== undefined) writeNodesJson(opts.nodesJson, nodeSet(records, store ? (id) => store.get(id) : undefined))
    const diff = earlier ? compareCrawls(records, earlier) : undefined
    const summary = summarize(records, (Date.now() - started) / 1000, diff)
    process.stderr.write(formatSummary(summary) + '\n')
    if (edges) {
      const unlisted = records.filter((r) => r.answered && !inDegree.has(r.id)).length
      process.stderr.write(`edges: ${edges.count} table entries from ${listers.size} tables naming ${inDegree.size} nodes (${unlisted} answering nodes in no table) written to ${opts.neighbors}\n`)
    }
    if (opts.report !== undefined) {
      const p = crawler.progress()
      timeline.push({ t: Date.now() - started, found: p.found, answered: p.answered })
      const meta = { started, ended: Date.now(), seeds: seeds.length, packetsIn: p.packetsIn, packetsOut: p.packetsOut }
      writeFileSync(opts.report, renderReport(records, meta, timeline, edges ? { edges: edges.count, inDegree } : undefined))
    }
    const end = crawler.progress()
    log.info({ ...summary, nodeErrors, packets: { in: end.packetsIn, out: end.packetsOut } }, 'crawl finished')
  } catch (err) {
    if (err instanceof CrawlStoreError) throw new InvalidArgumentError(err.message)
    throw err
  } finally {
    await closeAll()
  }
}
