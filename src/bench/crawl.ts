/**
 * Crawls of a loopback testnet under real-network conditions, ours against @ethereumjs/devp2p's DPT.
 *
 * Each scenario runs the testnet (N responders; above 8,000 nodes in shards of their own) in a child
 * process, and each crawler in a child of its own, one after the other, against that same testnet: the
 * crawler has a core to itself while the testnet has the other, as a crawler facing a real network
 * would; peak RSS is the crawler child's alone. This module is also the children's entry point
 * (`node crawl.ts ROLE …`).
 *
 * A live node counts as confirmed when it first answers (ours: the crawler's `answer` event; DPT:
 * `peer:new`, which it emits after a pong). DPT has no crawl mode: it is bootstrapped from the
 * testnet's bootnodes and left to discover with its refresh every 10 s (six times its default pace,
 * in its favour) until it reaches 99 % or the time cap. DPT does not fetch records (no EIP-868), so
 * its record coverage is "—".
 *
 * Scenarios (ETHP2P_BENCH_CRAWL_SCENARIOS=a,b,… picks; ETHP2P_BENCH_CRAWL_NODES sets N, default 10,000):
 *   loopback  no delay, 10 % dead (the regression row)
 *   rtt       150 ms round trips, 10 % dead
 *   loss      150 ms, 10 % dead, 5 % of datagrams lost each way
 *   dead50    no delay, 50 % dead
 *   resumed   no delay, 10 % dead, plus N stored nodes of a network that is gone (an earlier crawl's
 *             datadir): compared with the same crawl without them
 *   v5        a discv5 testnet crawled over discv5, against @chainsafe/discv5's lookups
 *   both      geth-shaped: both protocols on one port, young discv4 tables that serve revalidated
 *             entries only (geth's liveness filter), a fifth consensus clients (discv5 only), a tenth
 *             execution clients without discv5; crawled over both: every node found either way is
 *             checked on the other
 *   memory    peak RSS at N and at 5 N nodes (sharded testnet), and the bytes per node between them
 */
import { spawn } from 'node:child_process'
import { createSocket, type Socket } from 'node:dgram'
import { createInterface } from 'node:readline'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { backend, randomPrivateKey } from '../crypto/backend.js'
import { hex } from '../crypto/bytes.js'
import type { BackendName } from '../crypto/types.js'
import { cryptoThreads } from '../crawler/capacity.js'
import { Crawler } from '../crawler/crawl.js'
import type { CrawlProtocol, PreviousNode } from '../crawler/record.js'
import { ENR } from '../enode/enr.js'
import { listenDiscovery } from '../discover/both.js'
import { formatEnode, parseEnode } from '../enode/url.js'
import { startTestnet, type TestnetOptions } from '../testnet/testnet.js'
import type { Row, Target } from './harness.js'
import { ethereumjs } from './partner.js'
import { threadCpu, threadCpuSince, type ThreadCpu } from './threads.js'

const NODES = Number(process.env['ETHP2P_BENCH_CRAWL_NODES'] ?? 10_000)
/** DPT's time cap, s (ours ends by itself) */
const DPT_CAP_S = Number(process.env['ETHP2P_BENCH_DPT_SECONDS'] ?? 60)
/** the memory scenario's large crawl stops here, s: its peak is long past by then */
const MEMORY_CAP_S = Number(process.env['ETHP2P_BENCH_MEMORY_SECONDS'] ?? 150)

/** What a testnet child reports. */
export interface Net {
  bootnodes: string[]
  /** the bootnodes' records (discv5 crawls start from these) */
  bootENRs: string[]
  live: number
  /** live nodes that speak discv4 */
  liveV4: number
}

/** What a crawler child is asked to do. */
export interface CrawlJob {
  net: Net
  /** the DHTs to walk (default discv4) */
  protocols?: CrawlProtocol[]
  /** stored nodes of a vanished network to resume from */
  previous?: number
  capS?: number
  /** threads for the crawler's signatures and verifications (1: on the event loop); default: the cores, as `ethp2p crawl` */
  workers?: number
  /** datagrams per second (default: the crawler's) */
  rate?: number
}

/** what a crawler child reports */
export interface Run {
  /** ms from the start at which each live node was confirmed, ascending */
  confirmed: number[]
  /** ms until the crawl ended (ours: everything visited; DPT: 99 % or the cap) */
  ms: number
  packets: number
  rssMB: number
  /** ours only: answering nodes, those with their record, those that answered discv4, CPU seconds used */
  answered?: number
  withRecord?: number
  answeredV4?: number
  cpuS?: number
  /** ours only: CPU seconds by thread name (Linux), user and system seconds, datagrams in and out */
  threads?: ThreadCpu
  userS?: number
  sysS?: number
  packetsIn?: number
  packetsOut?: number
  /** ours only: the datagram rate the crawl started with (its default unless the job set one) */
  rate?: number
}

// ---- children -----------------------------------------------------------------------------------

async function serveTestnet(opts: TestnetOptions): Promise<void> {
  const net = await startTestnet(opts)
  const live = net.nodes.filter((n) => n.behaviour === 'live').length
  const liveV4 = net.nodes.filter((n) => n.behaviour === 'live' && n.protocols.includes('v4')).length
  process.stdout.write(JSON.stringify({ bootnodes: net.bootnodes.map((n) => formatEnode(n)), bootENRs: net.bootENRs.map((r) => r.toText()), live, liveV4 } satisfies Net) + '\n')
  // runs until the parent closes our stdin
  process.stdin.resume()
  await new Promise((resolve) => process.stdin.once('end', resolve))
  await net.close()
}

/**
 * An earlier crawl's nodes that are gone now: addresses nobody listens on (127.200+, outside the
 * testnet's plan), spread over /24s as a real network's are (a few dozen per /24).
 */
function vanished(n: number): PreviousNode[] {
  return Array.from({ length: n }, (_, i) => ({
    id: hex(backend.publicKey(randomPrivateKey())),
    ip: `127.${200 + (i >> 16)}.${i & 255}.${((i >> 8) & 255) + 1}`,
    udp: 30303,
    tcp: 30303,
    firstSeen: Date.now() - 86_400_000,
    answered: true,
  }))
}

async function crawlOurs(job: CrawlJob): Promise<Run> {
  const protocols = job.protocols ?? ['v4']
  // as `ethp2p crawl --workers N` sets it up
  const disc = await listenDiscovery({ privateKey: randomPrivateKey(), host: '127.0.0.1', port: 0, cryptoThreads: cryptoThreads(job.workers), refreshIntervalMs: 24 * 3600_000 }, protocols.includes('v5'))
  const confirmed: number[] = []
  let answered = 0
  let withRecord = 0
  let answeredV4 = 0
  const crawler = new Crawler({
    transport: disc,
    seeds: protocols.includes('v4') ? job.net.bootnodes.map((e) => parseEnode(e)) : job.net.bootENRs.map((t) => ENR.parseText(t)),
    protocols,
    previous: vanished(job.previous ?? 0),
    ...(job.capS !== undefined ? { durationMs: job.capS * 1000 } : {}),
    ...(job.rate !== undefined ? { rate: job.rate } : {}),
  })
  const rate = crawler.progress().sendRate
  const start = Date.now()
  const cpu0 = process.cpuUsage()
  const threads0 = threadCpu()
  crawler.on('answer', () => confirmed.push(Date.now() - start))
  crawler.on('record', (r) => {
    if (!r.answered) return
    answered++
    if (r.enr) withRecord++
    if (r.protocols?.includes('v4') ?? true) answeredV4++
  })
  await crawler.run()
  const ms = Date.now() - start
  const cpu = process.cpuUsage(cpu0)
  const threads = threadCpuSince(threads0)
  const packetsIn = disc.stats.packetsIn + (disc.v5?.stats.packetsIn ?? 0)
  const packetsOut = disc.stats.packetsOut + (disc.v5?.stats.packetsOut ?? 0)
  await disc.close()
  return {
    confirmed, ms, packets: packetsIn + packetsOut, rssMB: process.resourceUsage().maxRSS / 1024, answered, withRecord, answeredV4,
    cpuS: (cpu.user + cpu.system) / 1e6, userS: cpu.user / 1e6, sysS: cpu.system / 1e6, threads, packetsIn, packetsOut, rate,
  }
}

async function crawlDPT(job: CrawlJob): Promise<Run> {
  const ejs = await ethereumjs()
  if (!ejs) throw new Error('@ethereumjs/devp2p is not installed')
  let packets = 0
  const sock: Socket = createSocket('udp4')
  sock.on('message', () => packets++)
  const send = sock.send.bind(sock) as (...args: unknown[]) => void
  ;(sock as unknown as { send: (...args: unknown[]) => void }).send = (...args) => {
    packets++
    send(...args)
  }
  const listening = new Promise<void>((resolve) => sock.once('listening', () => resolve()))
  const dpt = new ejs.DPT(randomPrivateKey(), { createSocket: () => sock, refreshInterval: 10_000, endpoint: { address: '127.0.0.1', udpPort: null, tcpPort: null } })
  // unreachable peers and timeouts surface as errors; they are its normal life on a network
  dpt.events.on('error', () => undefined)
  dpt.bind(0, '127.0.0.1')
  await listening
  const seen = new Set<string>()
  const confirmed: number[] = []
  const start = Date.now()
  const goal = Math.ceil(0.99 * job.net.live)
  await new Promise<void>((resolve) => {
    const cap = setTimeout(resolve, DPT_CAP_S * 1000)
    dpt.events.on('peer:new', (p) => {
      const id = p.id ? hex(p.id) : undefined
      if (id === undefined || seen.has(id)) return
      seen.add(id)
      confirmed.push(Date.now() - start)
      if (confirmed.length >= goal) {
        clearTimeout(cap)
        resolve()
      }
    })
    for (const e of job.net.bootnodes) {
      const n = parseEnode(e)
      void dpt.bootstrap({ address: n.ip, udpPort: n.udp, tcpPort: n.tcp })
    }
  })
  const ms = Date.now() - start
  dpt.destroy()
  return { confirmed, ms, packets, rssMB: process.resourceUsage().maxRSS / 1024 }
}

/**
 * @chainsafe/discv5 has no crawl mode either: its lookups (findRandomNode, three at a time, as a
 * beacon node runs them) until 99 % of the live nodes were discovered or the cap. A node counts when
 * the partner first reports it discovered (heard of, not necessarily answering: in its favour).
 */
async function crawlChainsafe(job: CrawlJob): Promise<Run> {
  const cs = await import('@chainsafe/discv5')
  const enrMod = await import('@chainsafe/enr')
  const keys = await import('@libp2p/crypto/keys')
  const ma = await import('@multiformats/multiaddr')
  const probe = createSocket('udp4')
  await new Promise<void>((r) => probe.bind(0, '127.0.0.1', r))
  const port = probe.address().port
  await new Promise<void>((r) => probe.close(() => r()))
  const key = (await keys.generateKeyPair('secp256k1')) as unknown as Parameters<typeof enrMod.SignableENR.createFromPrivateKey>[0]
  const enr = enrMod.SignableENR.createFromPrivateKey(key)
  enr.ip = '127.0.0.1'
  enr.udp = port
  const d = cs.Discv5.create({ enr, privateKey: key, bindAddrs: { ip4: ma.multiaddr(`/ip4/127.0.0.1/udp/${port}`) }, config: { enrUpdate: false } })
  await d.start()
  for (const t of job.net.bootENRs) d.addEnr(enrMod.ENR.decodeTxt(t))
  const seen = new Set<string>()
  const confirmed: number[] = []
  const start = Date.now()
  const goal = Math.ceil(0.99 * job.net.live)
  ;(d as unknown as import('node:events').EventEmitter).on('discovered', (r: { nodeId: string }) => {
    if (seen.has(r.nodeId)) return
    seen.add(r.nodeId)
    confirmed.push(Date.now() - start)
  })
  const deadline = start + DPT_CAP_S * 1000
  await Promise.all(
    Array.from({ length: 3 }, async () => {
      while (confirmed.length < goal && Date.now() < deadline) await d.findRandomNode().catch(() => undefined)
    }),
  )
  const ms = Date.now() - start
  await d.stop()
  // its datagrams are not counted (its transport is its own)
  return { confirmed, ms, packets: Number.NaN, rssMB: process.resourceUsage().maxRSS / 1024 }
}

// ---- parent -------------------------------------------------------------------------------------

const SELF = fileURLToPath(import.meta.url)

/** a child running this module as ROLE; resolves with its first stdout line as JSON */
export function child<T>(role: string, arg: unknown): { result: Promise<T>; stop: () => void; exited: Promise<void> } {
  const p = spawn(process.execPath, [...process.execArgv, SELF, role, JSON.stringify(arg)], { stdio: ['pipe', 'pipe', 'inherit'] })
  const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()))
  const result = new Promise<T>((resolve, reject) => {
    const lines = createInterface({ input: p.stdout! })
    lines.once('line', (l) => resolve(JSON.parse(l) as T))
    p.once('exit', (code) => reject(new Error(`bench child ${role} exited with ${code} before reporting`)))
  })
  return { result, stop: () => p.stdin!.end(), exited }
}

/** run `f` against a testnet child started with `opts` */
export async function withTestnet<T>(opts: TestnetOptions, f: (net: Net) => Promise<T>): Promise<T> {
  const testnet = child<Net>('testnet', opts)
  try {
    return await f(await testnet.result)
  } finally {
    testnet.stop()
    await testnet.exited
  }
}

/** ms at which share r of the live nodes was confirmed, or Infinity */
export function timeTo(run: Run, live: number, r: number): number {
  const k = Math.ceil(r * live)
  return k >= 1 && run.confirmed.length >= k ? run.confirmed[k - 1]! : Infinity
}

const sec = (ms: number): string => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : '—')

function printRuns(title: string, live: number, runs: [string, Run | undefined][]): void {
  console.log(`\n${title}`)
  const lines = [['crawler', 'recall', 'to 90 %', 'to 99 %', 'run time', 'records', 'live unanswered', 'packets/s', 'CPU', 'peak RSS']]
  for (const [name, r] of runs) {
    if (!r) continue
    lines.push([
      name,
      `${((100 * r.confirmed.length) / live).toFixed(2)} %`,
      sec(timeTo(r, live, 0.9)),
      sec(timeTo(r, live, 0.99)),
      sec(r.ms),
      r.answered !== undefined ? `${((100 * (r.withRecord ?? 0)) / Math.max(1, r.answered)).toFixed(2)} %` : '—',
      r.answered !== undefined ? String(live - r.answered) : '—',
      Number.isFinite(r.packets) ? String(Math.round(r.packets / (r.ms / 1000))) : '—',
      r.cpuS !== undefined ? `${(r.cpuS / (r.ms / 1000)).toFixed(2)} cores` : '—',
      `${r.rssMB.toFixed(0)} MB`,
    ])
  }
  const w = lines[0]!.map((_, c) => Math.max(...lines.map((l) => l[c]!.length)))
  for (const l of lines) console.log('  ' + l.map((x, c) => (c === 0 ? x.padEnd(w[c]!) : x.padStart(w[c]!))).join('  '))
}

interface Scenario {
  name: string
  title: string
  testnet: TestnetOptions
  /** DPT runs too (it cannot resume from a datadir) */
  dpt: boolean
}

const SCENARIOS: Scenario[] = [
  { name: 'loopback', title: 'loopback, 10 % dead', testnet: { nodes: NODES }, dpt: true },
  { name: 'rtt', title: '150 ms round trips, 10 % dead', testnet: { nodes: NODES, rttMs: 150 }, dpt: true },
  { name: 'loss', title: '150 ms round trips, 10 % dead, 5 % loss each way', testnet: { nodes: NODES, rttMs: 150, lossRate: 0.05 }, dpt: true },
  { name: 'dead50', title: 'loopback, 50 % dead', testnet: { nodes: NODES, deadFraction: 0.5 }, dpt: true },
]

/** Crawl suite: ethp2p's crawler and @ethereumjs/devp2p's DPT, each in its own process, against testnet processes under each scenario (loopback, round trips, loss, dead nodes, discv5, a resumed datadir, memory). */
export async function crawlBench(_names: readonly BackendName[]): Promise<{ rows: Row[]; targets: Target[] }> {
  const pick = process.env['ETHP2P_BENCH_CRAWL_SCENARIOS']?.split(',')
  const want = (name: string): boolean => !pick || pick.includes(name)
  const ejs = (await ethereumjs()) !== null
  const rows: Row[] = []
  const targets: Target[] = []
  const ours = `ethp2p (${backend.name})`
  console.log(`testnet of ${NODES} nodes in a child process (shards above 8,000); each crawler in its own child`)

  for (const sc of SCENARIOS) {
    if (!want(sc.name)) continue
    const [live, mine, dpt] = await withTestnet(sc.testnet, async (net) => {
      const mine = await child<Run>('ours', { net } satisfies CrawlJob).result
      const dpt = sc.dpt && ejs ? await child<Run>('dpt', { net } satisfies CrawlJob).result : undefined
      return [net.live, mine, dpt] as const
    })
    printRuns(sc.title, live, [
      [ours, mine],
      ['@ethereumjs/devp2p DPT', dpt],
    ])
    const t99 = timeTo(mine, live, 0.99)
    rows.push({ op: `${sc.name}: live nodes confirmed/s to 99 %`, impl: backend.name, hz: (0.99 * live) / (t99 / 1000), rme: 0 })
    if (dpt) {
      // speed at the same recall: the highest both reached (DPT's, when it stops short)
      const common = Math.min(mine.confirmed.length, dpt.confirmed.length) / live
      const rate = (r: Run): number => (common * live) / (timeTo(r, live, common) / 1000)
      const op = `${sc.name}: live nodes confirmed/s to ${(100 * common).toFixed(1)} %`
      rows.push({ op, impl: backend.name, hz: rate(mine), rme: 0 }, { op, impl: 'ethereumjs', hz: rate(dpt), rme: 0 })
      // the standing claim is for loopback; elsewhere the ratio is printed, DPT reaching ~40 % at most
      if (sc.name === 'loopback') targets.push({ what: `loopback: speed-up over DPT at ${(100 * common).toFixed(1)} % recall`, value: rate(mine) / rate(dpt), min: 10 })
    }
    const coverage = (mine.withRecord ?? 0) / Math.max(1, mine.answered ?? 1)
    if (sc.name === 'loopback') {
      targets.push({ what: 'loopback: 20 s ÷ time to 99 %', value: 20_000 / t99, min: 1 })
      targets.push({ what: 'loopback: 250 MB ÷ peak RSS', value: 250 / mine.rssMB, min: 1 })
    }
    if (sc.name === 'rtt') targets.push({ what: '150 ms RTT: 25 s ÷ time to 99 %', value: 25_000 / t99, min: 1 })
    if (sc.name === 'loss') {
      targets.push({ what: '150 ms RTT + 5 % loss: 30 s ÷ time to 99 % (issue 20)', value: 30_000 / t99, min: 1 })
      targets.push({ what: '150 ms RTT + 5 % loss: record coverage of answering nodes (≥ 0.99)', value: coverage, min: 0.99 })
      targets.push({ what: '150 ms RTT + 5 % loss: live nodes answered (share, ≥ 1)', value: (mine.answered ?? 0) / live, min: 1 })
    }
    if (sc.name === 'dead50') targets.push({ what: '50 % dead: 20 s ÷ time to 99 %', value: 20_000 / t99, min: 1 })
  }

  if (want('v5')) {
    const [live, mine, theirs] = await withTestnet({ nodes: NODES, discv5: true }, async (net) => {
      const mine = await child<Run>('ours', { net, protocols: ['v5'] } satisfies CrawlJob).result
      const theirs = await child<Run>('chainsafe', { net } satisfies CrawlJob)
        .result.catch(() => undefined)
      return [net.live, mine, theirs] as const
    })
    printRuns('discv5 testnet (a fifth of the nodes discv5-only), loopback, 10 % dead', live, [
      [`${ours}, discv5`, mine],
      ['@chainsafe/discv5 lookups (discovered, not confirmed)', theirs],
    ])
    const t99 = timeTo(mine, live, 0.99)
    rows.push({ op: 'v5: live nodes confirmed/s to 99 %', impl: backend.name, hz: (0.99 * live) / (t99 / 1000), rme: 0 })
    targets.push({ what: 'discv5 10k: 30 s ÷ time to 99 %', value: 30_000 / t99, min: 1 })
    targets.push({ what: 'discv5 10k: 300 MB ÷ peak RSS', value: 300 / mine.rssMB, min: 1 })
    if (theirs) {
      const common = Math.min(mine.confirmed.length, theirs.confirmed.length) / live
      const r = (x: Run): number => (common * live) / (timeTo(x, live, common) / 1000)
      const op = `v5: live nodes found/s to ${(100 * common).toFixed(1)} %`
      rows.push({ op, impl: backend.name, hz: r(mine), rme: 0 }, { op, impl: 'chainsafe', hz: r(theirs), rme: 0 })
    }
  }

  if (want('both')) {
    const shape: TestnetOptions = { nodes: NODES, discv5: true, v5OnlyFraction: 0.2, v4OnlyFraction: 0.1, liveness: { checked: 0.02, paceMs: 3_600_000, protocols: ['v4'] } }
    const [net, v4only, mine] = await withTestnet(shape, async (net) => {
      const v4only = await child<Run>('ours', { net } satisfies CrawlJob).result
      const mine = await child<Run>('ours', { net, protocols: ['v4', 'v5'] } satisfies CrawlJob).result
      return [net, v4only, mine] as const
    })
    printRuns('geth-shaped testnet: both protocols on one port, young discv4 tables (revalidated entries only), loopback, 10 % dead', net.live, [
      [`${ours}, discv4 only`, v4only],
      [`${ours}, both protocols`, mine],
    ])
    const v4share = (r: Run): string => `${((100 * (r.answeredV4 ?? 0)) / net.liveV4).toFixed(1)} %`
    console.log(`  discv4 confirmed on ${v4share(mine)} of the live discv4 nodes crawling both (${v4share(v4only)} walking discv4 alone)`)
    const t99 = timeTo(mine, net.live, 0.99)
    rows.push({ op: 'both: live nodes confirmed/s to 99 %', impl: backend.name, hz: (0.99 * net.live) / (t99 / 1000), rme: 0 })
    targets.push({ what: 'geth-shaped 10k, both: discv4 confirmed on live discv4 nodes (share, ≥ 0.99)', value: (mine.answeredV4 ?? 0) / net.liveV4, min: 0.99 })
    targets.push({ what: 'geth-shaped 10k, both: 30 s ÷ time to 99 %', value: 30_000 / t99, min: 1 })
  }

  if (want('resumed')) {
    const [live, fresh, resumed] = await withTestnet({ nodes: NODES }, async (net) => {
      const fresh = await child<Run>('ours', { net } satisfies CrawlJob).result
      const resumed = await child<Run>('ours', { net, previous: NODES } satisfies CrawlJob).result
      return [net.live, fresh, resumed] as const
    })
    printRuns(`resuming from a datadir of ${NODES} nodes that are gone (DPT keeps no datadir: not run)`, live, [
      [`${ours}, fresh`, fresh],
      [`${ours}, resumed`, resumed],
    ])
    const extra = timeTo(resumed, live, 0.99) - timeTo(fresh, live, 0.99)
    console.log(`  the stored nodes added ${(extra / 1000).toFixed(1)} s to 99 %`)
    targets.push({ what: `resumed: 5 s ÷ seconds the ${NODES} dead stored nodes add to 99 % (≥ 1)`, value: 5000 / Math.max(1, extra), min: 1 })
  }

  if (want('memory')) {
    const big = NODES * 5
    const small = await withTestnet({ nodes: NODES }, (net) => child<Run>('ours', { net } satisfies CrawlJob).result)
    const large = await withTestnet({ nodes: big }, (net) => child<Run>('ours', { net, capS: MEMORY_CAP_S } satisfies CrawlJob).result)
    const perNode = ((large.rssMB - small.rssMB) * 1024 * 1024) / (big - NODES)
    console.log(`\npeak RSS: ${small.rssMB.toFixed(0)} MB at ${NODES} nodes, ${large.rssMB.toFixed(0)} MB at ${big} (${large.confirmed.length} confirmed within ${MEMORY_CAP_S} s): ${(perNode / 1024).toFixed(2)} KB per node between them`)
    targets.push({ what: 'memory: 3 KB ÷ marginal bytes per node found', value: 3072 / perNode, min: 1 })
  }
  return { rows, targets }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [role, arg = '{}'] = process.argv.slice(2)
  if (role === 'testnet') await serveTestnet(JSON.parse(arg) as TestnetOptions)
  else {
    const job = JSON.parse(arg) as CrawlJob
    const run = role === 'ours' ? await crawlOurs(job) : role === 'chainsafe' ? await crawlChainsafe(job) : await crawlDPT(job)
    // DPT leaves timers behind (its ban list, pending pings): the report is all the parent needs, so
    // exit once it is written (a pipe takes a large report in several writes)
    process.stdout.write(JSON.stringify(run) + '\n', () => process.exit(0))
  }
}
