/**
 * `ethp2p crawl`: crawl the discv4 network from bootnodes, a network's public bootnodes, DNS trees, the
 * datadir's earlier results or an in-process testnet. Records go to --out (stdout by default), --csv
 * and --nodes-json; progress and the summary go to stderr. SIGINT/SIGTERM end the crawl, the outputs
 * are completed and the exit code is 0.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { InvalidArgumentError } from 'commander'
import { SingleBar } from 'cli-progress'
import { loadOrCreateNodeKey } from '../config/nodekey.js'
import { randomPrivateKey } from '../crypto/backend.js'
import { Crawler, type CrawlProgress } from '../crawler/crawl.js'
import { Dialer } from '../crawler/dialer.js'
import { bootnodes as networkBootnodes, isCrawlNetwork } from '../crawler/bootnodes.js'
import { CsvWriter, formatSummary, JsonlWriter, nodeSet, summarize, withDials, writeNodesJson, type CrawlRecord } from '../crawler/output.js'
import { renderReport, type TimelinePoint } from '../crawler/report.js'
import { compareCrawls, CrawlStore, CrawlStoreError, snapshotCrawl, type EarlierNode } from '../crawler/store.js'
import { logDiscoveryEvents, openNodeDB } from './discovery-log.js'
import { Discv4 } from '../discover/udp.js'
import { DnsClient } from '../dnsdisc/client.js'
import { Node } from '../enode/node.js'
import { startTestnet, type Testnet } from '../testnet/testnet.js'
import { createLogger } from '../util/log.js'

/** `ethp2p crawl`'s parsed options. */
export interface CrawlCliOptions {
  bootnodes?: Node[]
  network?: string
  dns?: string[]
  testnet?: number
  duration?: number
  concurrency?: number
  out?: string
  csv?: string
  nodesJson?: string
  datadir?: string
  since?: string
  report?: string
  dial?: boolean
  dialConcurrency?: number
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
    return `found ${p.found} answered ${p.answered} unanswered ${p.unanswered} queued ${p.queued} in-flight ${p.inFlight}${dial} rate ${Math.round((p.answered + p.unanswered) / s)} nodes/s ${Math.round((p.packetsIn + p.packetsOut) / s)} packets/s`
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
  const seeds: Node[] = [...(opts.bootnodes ?? [])]
  if (opts.network !== undefined && isCrawlNetwork(opts.network)) seeds.push(...networkBootnodes(opts.network))

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
  if (seeds.length === 0 && previous.length === 0 && (opts.dns ?? []).length === 0 && opts.testnet === undefined) {
    await store?.close()
    throw new InvalidArgumentError('nothing to crawl from: give --bootnodes, --network, --dns or --testnet (or a --datadir with earlier results)')
  }

  const closers: (() => Promise<void>)[] = []
  const closeAll = async (): Promise<void> => {
    for (const c of closers.reverse()) await c().catch((err: unknown) => log.error({ err }, 'closing failed'))
  }
  try {
    if (store) closers.push(() => store.close())
    let testnet: Testnet | undefined
    if (opts.testnet !== undefined) {
      testnet = await startTestnet({ nodes: opts.testnet })
      closers.push(() => testnet!.close())
      seeds.push(...testnet.bootnodes)
      log.info({ nodes: opts.testnet, bootnodes: testnet.bootnodes.length }, 'testnet started')
    }
    const db = openNodeDB(log, opts.datadir !== undefined ? join(opts.datadir, 'nodes') : undefined)
    closers.push(() => db.close())
    const privateKey = opts.datadir !== undefined ? loadOrCreateNodeKey(join(opts.datadir, 'nodekey')) : randomPrivateKey()
    // a testnet lives on loopback; a real crawl answers from every interface
    const host = testnet ? '127.0.0.1' : '0.0.0.0'
    // with --dial the crawler also listens on TCP (nodes behind NAT only show up by dialling in),
    // on the discovery port number, which is what our pings announce
    let dialer: Dialer | undefined
    let tcpPort = 0
    if (opts.dial) {
      dialer = new Dialer({ privateKey, ...(opts.dialConcurrency !== undefined ? { concurrency: opts.dialConcurrency } : {}) })
      closers.push(() => dialer!.stop())
      tcpPort = await dialer.listen(host, 0)
    }
    const discOpts = {
      privateKey,
      host,
      db,
      batchVerify: true,
      // the crawler reads tables itself: its own table needs no refresh lookups
      refreshIntervalMs: 24 * 3600_000,
      ...(dialer ? { tcpPort } : {}),
    }
    // the same port number for UDP when it is free; any port otherwise (pings still announce the TCP one)
    const disc = await Discv4.listen({ ...discOpts, port: tcpPort }).catch(() => Discv4.listen({ ...discOpts, port: 0 }))
    closers.push(() => disc.close())
    logDiscoveryEvents(log, disc)

    const seedIds = new Set(seeds.map((n) => n.idHex))
    const crawler = new Crawler({
      transport: disc,
      seeds,
      previous,
      ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
      ...(opts.duration !== undefined ? { durationMs: opts.duration * 1000 } : {}),
      ...(dialer
        ? {
            onNode: (r: { id: string; ip: string; udp: number; tcp: number }) => {
              if (r.tcp > 0) dialer!.add(new Node(Buffer.from(r.id, 'hex'), r.ip, r.udp, r.tcp))
            },
          }
        : {}),
    })
    // the duration bounds the dials too: what is still queued then is reported as not dialled
    const dialDeadline = dialer && opts.duration !== undefined ? setTimeout(() => void dialer!.stop(), opts.duration * 1000) : undefined
    closers.push(async () => clearTimeout(dialDeadline))
    let nodeErrors = 0
    crawler.on('nodeError', (err) => {
      nodeErrors++
      // a seed that fails deserves a word; the thousands of dead entries out there do not
      const seed = seeds.find((n) => `${n.ip}:${n.udp}` === err.endpoint && seedIds.has(n.idHex))
      if (seed) log.warn({ endpoint: err.endpoint, code: err.code }, `bootnode ${err.endpoint}: ${err.message}`)
      else log.debug({ endpoint: err.endpoint, code: err.code }, err.message)
    })
    if ((opts.dns ?? []).length > 0) {
      const dnsAbort = new AbortController()
      closers.push(async () => dnsAbort.abort())
      const client = new DnsClient({ signal: dnsAbort.signal, onError: (err) => log.warn({ code: err.code }, `DNS discovery: ${err.message}`) })
      crawler.addSource(client.nodes(opts.dns!), (err) => log.warn(`DNS discovery failed: ${(err as Error).message}`))
    }

    const stopOn = (sig: NodeJS.Signals): void => {
      log.info({ signal: sig }, 'stopping the crawl; writing what it found')
      crawler.stop()
      void dialer?.stop()
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
      for await (const r of dialer ? withDials(crawler.records(), dialer) : crawler.records()) {
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
    }
    await store?.flush()
    if (opts.nodesJson !== undefined) writeNodesJson(opts.nodesJson, nodeSet(records, store ? (id) => store.get(id) : undefined))
    const diff = earlier ? compareCrawls(records, earlier) : undefined
    const summary = summarize(records, (Date.now() - started) / 1000, diff)
    process.stderr.write(formatSummary(summary) + '\n')
    if (opts.report !== undefined) {
      const p = crawler.progress()
      timeline.push({ t: Date.now() - started, found: p.found, answered: p.answered })
      const meta = { started, ended: Date.now(), seeds: seeds.length, packetsIn: disc.stats.packetsIn, packetsOut: disc.stats.packetsOut }
      writeFileSync(opts.report, renderReport(records, meta, timeline))
    }
    log.info({ ...summary, nodeErrors, packets: { in: disc.stats.packetsIn, out: disc.stats.packetsOut } }, 'crawl finished')
  } catch (err) {
    if (err instanceof CrawlStoreError) throw new InvalidArgumentError(err.message)
    throw err
  } finally {
    await closeAll()
  }
}
