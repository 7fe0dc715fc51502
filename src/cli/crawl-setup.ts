/**
 * What one crawl needs, built the same way for `ethp2p crawl` (one crawl) and `ethp2p monitor` (one
 * crawl after another): the parts that live as long as the process (an in-process testnet, the node
 * database, the crawler's key, the seeds) and, per crawl, the discovery transport, the optional RLPx
 * dialer, the crawler and its DNS sources.
 *
 * A crawl's transport and dialer are closed when the crawl ends (the dialer cannot be restarted once
 * its records are merged), so each crawl gets fresh ones; the next crawl asks for the same port so the
 * endpoint other nodes know us by stays put.
 */
import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { InvalidArgumentError } from 'commander'
import { loadOrCreateNodeKey } from '../config/nodekey.js'
import { randomPrivateKey } from '../crypto/backend.js'
import { bootnodes as networkBootnodes, consensusBootnodes, isCrawlNetwork } from '../crawler/bootnodes.js'
import { Crawler } from '../crawler/crawl.js'
import type { CrawlProtocol, PreviousNode } from '../crawler/record.js'
import type { ENR } from '../enode/enr.js'
import { Dialer } from '../crawler/dialer.js'
import { withDials } from '../crawler/output.js'
import type { CrawlRecord } from '../crawler/record.js'
import type { NodeDB } from '../discover/nodedb.js'
import { listenDiscovery, type Discovery } from '../discover/both.js'
import { DnsClient } from '../dnsdisc/client.js'
import { enrichRecord } from '../geo/enrich.js'
import { ASN_PACKAGE, COUNTRY_PACKAGE, GeoError, GeoResolver } from '../geo/resolver.js'
import { Node } from '../enode/node.js'
import { startTestnet, type Testnet } from '../testnet/testnet.js'
import { simulated } from './testnet.js'
import type { Logger } from '../util/log.js'
import { logDiscoveryEvents, openNodeDB } from './discovery-log.js'
import { cryptoThreads } from '../crawler/capacity.js'

/** The options of `ethp2p crawl` that shape the crawl itself (not its outputs). */
export interface CrawlSetupOptions {
  bootnodes?: (Node | ENR)[]
  network?: string
  dns?: string[]
  /** DNS servers for --dns, "ip" or "ip:port" (default: the system's) */
  dnsServer?: string[]
  testnet?: number
  /** with --testnet: simulated round trips, loss and dead nodes */
  rtt?: number
  loss?: number
  dead?: number
  /** with --testnet: geth's liveness filter on the tables (share checked at the start), discv4-only nodes */
  youngTables?: number
  v4Only?: number
  /** the DHTs to walk (see crawlProtocols) */
  protocols?: CrawlProtocol[]
  discv5?: boolean
  duration?: number
  /** requests in flight at most */
  concurrency?: number
  /** datagrams sent per second */
  rate?: number
  /** threads that sign and verify discv4 datagrams (1: the event loop; default: the cores) */
  workers?: number
  dial?: boolean
  dialConcurrency?: number
  /** node key and node database live here; in memory and random without one */
  datadir?: string
  /** MaxMind-layout MMDB files (`*Country*.mmdb`, `*ASN*.mmdb`) to use before the packaged databases */
  geoipDir?: string
}

/**
 * The geography databases for records' `country`, `asn` and `asOrg`: `--geoip-dir`'s files, then the
 * packaged ones. A bad `--geoip-dir` is a bad argument; a missing package is said once and the crawl
 * goes on without that part.
 */
export async function openGeo(opts: CrawlSetupOptions, log: Logger): Promise<GeoResolver> {
  const geo = await GeoResolver.open(opts.geoipDir !== undefined ? { dir: opts.geoipDir } : {}).catch((err: unknown) => {
    throw err instanceof GeoError ? new InvalidArgumentError(`--geoip-dir: ${err.message}`) : err
  })
  if (geo.missing.length > 0) {
    const parts = [...(geo.missing.includes(COUNTRY_PACKAGE) ? ['country'] : []), ...(geo.missing.includes(ASN_PACKAGE) ? ['asn/asOrg'] : [])]
    log.warn({ missing: geo.missing }, `records get no ${parts.join(' or ')}: npm install ${geo.missing.join(' ')} (or give --geoip-dir)`)
  }
  else log.debug({ sources: geo.sources }, 'geography databases loaded')
  return geo
}

async function* enriched(records: AsyncIterable<CrawlRecord>, geo: GeoResolver): AsyncGenerator<CrawlRecord> {
  for await (const r of records) yield enrichRecord(geo, r)
}

/**
 * The DHTs to walk: as asked; discv5 alone with --discv5; otherwise both, except that a testnet
 * speaks discv4 only unless asked for discv5 too.
 */
export function crawlProtocols(opts: CrawlSetupOptions): CrawlProtocol[] {
  return opts.protocols ?? (opts.discv5 ? ['v5'] : opts.testnet !== undefined ? ['v4'] : ['v4', 'v5'])
}

/** The seeds named on the command line: --bootnodes and --network's public bootnodes (consensus ones too when walking discv5). */
export function crawlSeeds(opts: CrawlSetupOptions): (Node | ENR)[] {
  const seeds: (Node | ENR)[] = [...(opts.bootnodes ?? [])]
  if (opts.network !== undefined && isCrawlNetwork(opts.network)) {
    seeds.push(...networkBootnodes(opts.network))
    if (crawlProtocols(opts).includes('v5')) seeds.push(...consensusBootnodes(opts.network))
  }
  return seeds
}

/**
 * Why these crawl options cannot run (simulated conditions without a testnet, nowhere to start from,
 * counting `previous` nodes of earlier crawls), or undefined when they can.
 */
export function crawlOptionsProblem(opts: CrawlSetupOptions, previous: number): string | undefined {
  if (opts.testnet === undefined && [opts.rtt, opts.loss, opts.dead, opts.youngTables, opts.v4Only].some((x) => x !== undefined)) return '--rtt, --loss, --dead, --young-tables and --v4-only describe a --testnet'
  if (opts.dnsServer !== undefined && (opts.dns ?? []).length === 0) return '--dns-server says where to resolve --dns trees: give --dns'
  if (opts.geoipDir !== undefined && !(existsSync(opts.geoipDir) && statSync(opts.geoipDir).isDirectory())) return `--geoip-dir: ${opts.geoipDir}: not a directory`
  const source = crawlSeeds(opts).length > 0 || previous > 0 || (opts.dns ?? []).length > 0 || opts.testnet !== undefined
  if (!source) return 'nothing to crawl from: give --bootnodes, --network, --dns or --testnet'
  return undefined
}

/** One crawl under way: its records (merged with dial results under --dial), stop and close. */
export interface CrawlRun {
  readonly crawler: Crawler
  readonly dialer: Dialer | undefined
  readonly disc: Discovery
  /** every node once; ends when the crawl (and its dials) are over */
  records(): AsyncGenerator<CrawlRecord>
  /** end the crawl early: records still come for every node found */
  stop(): void
  /** release the transport, the dialer and the DNS walk */
  close(): Promise<void>
}

/** The long-lived parts of crawling; `start()` runs one crawl. */
export class CrawlSetup {
  private port = 0

  private constructor(
    private readonly opts: CrawlSetupOptions,
    private readonly log: Logger,
    /** seeds: the command line's, plus the testnet's bootnodes */
    readonly seeds: (Node | ENR)[],
    readonly testnet: Testnet | undefined,
    private readonly db: NodeDB,
    private readonly privateKey: Uint8Array,
    /** adds each record's country and AS where records are written */
    readonly geo: GeoResolver,
  ) {}

  /** Start the testnet (--testnet), open the node database and load the key. */
  static async open(opts: CrawlSetupOptions, log: Logger): Promise<CrawlSetup> {
    const seeds = crawlSeeds(opts)
    // sizes libuv's pool before anything starts it (reading the geography databases does)
    cryptoThreads(opts.workers)
    // read before the crawl starts: parsing the databases would stall the event loop mid-crawl
    const geo = await openGeo(opts, log)
    let testnet: Testnet | undefined
    if (opts.testnet !== undefined) {
      testnet = await startTestnet({ nodes: opts.testnet, ...simulated(opts), ...(crawlProtocols(opts).includes('v5') ? { discv5: true } : {}) })
      seeds.push(...testnet.bootnodes)
      log.info({ nodes: opts.testnet, bootnodes: testnet.bootnodes.length }, 'testnet started')
    }
    try {
      const db = openNodeDB(log, opts.datadir !== undefined ? join(opts.datadir, 'nodes') : undefined)
      try {
        const privateKey = opts.datadir !== undefined ? loadOrCreateNodeKey(join(opts.datadir, 'nodekey')) : randomPrivateKey()
        return new CrawlSetup(opts, log, seeds, testnet, db, privateKey, geo)
      } catch (err) {
        await db.close()
        throw err
      }
    } catch (err) {
      await testnet?.close()
      throw err
    }
  }

  /** Set up a transport (and dialer) and start a crawl from the seeds and `previous`. */
  async start(previous: Iterable<PreviousNode> = []): Promise<CrawlRun> {
    const { opts, log, seeds } = this
    const closers: (() => Promise<void>)[] = []
    const close = async (): Promise<void> => {
      for (const c of closers.splice(0).reverse()) await c().catch((err: unknown) => log.error({ err }, 'closing failed'))
    }
    try {
      // a testnet lives on loopback; a real crawl answers from every interface
      const host = this.testnet ? '127.0.0.1' : '0.0.0.0'
      // with --dial the crawler also listens on TCP (nodes behind NAT only show up by dialling in),
      // on the discovery port number, which is what our pings announce
      let dialer: Dialer | undefined
      let tcpPort = 0
      if (opts.dial) {
        const d = new Dialer({ privateKey: this.privateKey, ...(opts.dialConcurrency !== undefined ? { concurrency: opts.dialConcurrency } : {}) })
        dialer = d
        closers.push(() => d.stop())
        tcpPort = await d.listen(host, this.port).catch(() => d.listen(host, 0))
      }
      const discOpts = {
        privateKey: this.privateKey,
        host,
        db: this.db,
        cryptoThreads: cryptoThreads(opts.workers),
        // the crawler reads tables itself: its own table needs no refresh lookups
        refreshIntervalMs: 24 * 3600_000,
        ...(dialer ? { tcpPort } : {}),
      }
      const v5 = crawlProtocols(opts).includes('v5')
      // the same port number for UDP when it is free; any port otherwise (pings still announce the TCP one)
      const want = dialer ? tcpPort : this.port
      const disc = await listenDiscovery({ ...discOpts, port: want }, v5).catch(() => listenDiscovery({ ...discOpts, port: 0 }, v5))
      closers.push(() => disc.close())
      this.port = dialer ? tcpPort : disc.self.udp
      logDiscoveryEvents(log, disc)

      const seedEndpoints = new Set(seeds.map((n) => `${n.ip}:${n.udp}`))
      const crawler = new Crawler({
        transport: disc,
        seeds,
        previous,
        protocols: crawlProtocols(opts),
        ...(opts.concurrency !== undefined ? { maxPending: opts.concurrency } : {}),
        ...(opts.rate !== undefined ? { rate: opts.rate } : {}),
        ...(opts.duration !== undefined ? { durationMs: opts.duration * 1000 } : {}),
        ...(dialer
          ? {
              onNode: (r: { id: string; ip: string; udp: number; tcp: number }) => {
                if (r.tcp > 0) dialer.add(new Node(Buffer.from(r.id, 'hex'), r.ip, r.udp, r.tcp))
              },
            }
          : {}),
      })
      // the duration bounds the dials too: what is still queued then is reported as not dialled
      const dialDeadline = dialer && opts.duration !== undefined ? setTimeout(() => void dialer.stop(), opts.duration * 1000) : undefined
      closers.push(async () => clearTimeout(dialDeadline))
      crawler.on('nodeError', (err) => {
        // a seed that fails deserves a word; the thousands of dead entries out there do not
        if (seedEndpoints.has(err.endpoint)) log.warn({ endpoint: err.endpoint, code: err.code }, `bootnode ${err.endpoint}: ${err.message}`)
        else log.debug({ endpoint: err.endpoint, code: err.code }, err.message)
      })
      if ((opts.dns ?? []).length > 0) {
        const dnsAbort = new AbortController()
        closers.push(async () => dnsAbort.abort())
        const client = new DnsClient({ signal: dnsAbort.signal, ...(opts.dnsServer ? { servers: opts.dnsServer } : {}), onError: (err) => log.warn({ code: err.code }, `DNS discovery: ${err.message}`) })
        crawler.addSource(client.nodes(opts.dns!), (err) => log.warn(`DNS discovery failed: ${(err as Error).message}`))
      }
      return {
        crawler,
        dialer,
        disc,
        records: () => enriched(dialer ? withDials(crawler.records(), dialer) : crawler.records(), this.geo),
        stop: () => {
          crawler.stop()
          void dialer?.stop()
        },
        close,
      }
    } catch (err) {
      await close()
      throw err
    }
  }

  /** Stop the testnet and close the node database. */
  async close(): Promise<void> {
    await this.db.close().catch((err: unknown) => this.log.error({ err }, 'closing the node database failed'))
    await this.testnet?.close().catch((err: unknown) => this.log.error({ err }, 'stopping the testnet failed'))
  }
}
