/**
 * The crawl of a loopback testnet, ours against @ethereumjs/devp2p's DPT on the same network.
 *
 * Three processes, so that each measures alone: the testnet (N responders) runs in one child, and each
 * crawler in a child of its own, one after the other, against that same testnet. The crawler has a
 * core to itself while the testnet has the other, as a crawler facing a real network would; peak RSS
 * is that child's alone. This module is also the children's entry point (`node crawl.ts ROLE …`).
 *
 * Recall counts live nodes a crawler has confirmed (they answered its ping), over the testnet's live
 * nodes: "found" in the sense of known to be there. DPT has no crawl mode; it is bootstrapped from the
 * testnet's bootnodes and left to discover with its refresh every second (refreshInterval 10 s, six
 * times its default pace, in its favour) until it reaches 99 % or the time cap.
 */
import { spawn } from 'node:child_process'
import { createSocket, type Socket } from 'node:dgram'
import { createInterface } from 'node:readline'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { backend, randomPrivateKey } from '../crypto/backend.js'
import { hex } from '../crypto/bytes.js'
import type { BackendName } from '../crypto/types.js'
import { Crawler } from '../crawler/crawl.js'
import { Discv4 } from '../discover/udp.js'
import { formatEnode, parseEnode } from '../enode/url.js'
import { startTestnet } from '../testnet/testnet.js'
import type { Row, Target } from './harness.js'
import { ethereumjs } from './partner.js'

const NODES = Number(process.env['ETHP2P_BENCH_CRAWL_NODES'] ?? 2000)
/** DPT's time cap, s (ours ends by itself) */
const DPT_CAP_S = Number(process.env['ETHP2P_BENCH_DPT_SECONDS'] ?? 60)
const RECALL = 0.99

interface Net {
  bootnodes: string[]
  live: number
}

/** what a crawler child reports */
interface Run {
  /** ms from the start at which each live node was confirmed, ascending */
  confirmed: number[]
  /** ms until the crawl ended (ours: everything visited; DPT: 99 % or the cap) */
  ms: number
  packets: number
  rssMB: number
}

// ---- children -----------------------------------------------------------------------------------

async function serveTestnet(nodes: number): Promise<void> {
  const net = await startTestnet({ nodes })
  const live = net.nodes.filter((n) => n.behaviour === 'live').length
  process.stdout.write(JSON.stringify({ bootnodes: net.bootnodes.map((n) => formatEnode(n)), live } satisfies Net) + '\n')
  // runs until the parent closes our stdin
  process.stdin.resume()
  await new Promise((resolve) => process.stdin.once('end', resolve))
  await net.close()
}

async function crawlOurs(net: Net): Promise<Run> {
  const disc = await Discv4.listen({ privateKey: randomPrivateKey(), host: '127.0.0.1', port: 0, batchVerify: true, refreshIntervalMs: 24 * 3600_000 })
  const confirmed: number[] = []
  const start = Date.now()
  const crawler = new Crawler({ transport: disc, seeds: net.bootnodes.map((e) => parseEnode(e)), onNode: () => confirmed.push(Date.now() - start) })
  await crawler.run()
  const ms = Date.now() - start
  const packets = disc.stats.packetsIn + disc.stats.packetsOut
  await disc.close()
  return { confirmed, ms, packets, rssMB: process.resourceUsage().maxRSS / 1024 }
}

async function crawlDPT(net: Net): Promise<Run> {
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
  const goal = Math.ceil(RECALL * net.live)
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
    for (const e of net.bootnodes) {
      const n = parseEnode(e)
      void dpt.bootstrap({ address: n.ip, udpPort: n.udp, tcpPort: n.tcp })
    }
  })
  const ms = Date.now() - start
  dpt.destroy()
  return { confirmed, ms, packets, rssMB: process.resourceUsage().maxRSS / 1024 }
}

// ---- parent -------------------------------------------------------------------------------------

const SELF = fileURLToPath(import.meta.url)

/** a child running this module as ROLE; resolves with its first stdout line as JSON */
function child<T>(role: string, arg: string): { result: Promise<T>; stop: () => void; exited: Promise<void> } {
  const p = spawn(process.execPath, [...process.execArgv, SELF, role, arg], { stdio: ['pipe', 'pipe', 'inherit'] })
  const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()))
  const result = new Promise<T>((resolve, reject) => {
    const lines = createInterface({ input: p.stdout! })
    lines.once('line', (l) => resolve(JSON.parse(l) as T))
    p.once('exit', (code) => reject(new Error(`bench child ${role} exited with ${code} before reporting`)))
  })
  return { result, stop: () => p.stdin!.end(), exited }
}

/** ms at which recall r was reached, or Infinity */
function timeTo(run: Run, live: number, r: number): number {
  const k = Math.ceil(r * live)
  return k >= 1 && run.confirmed.length >= k ? run.confirmed[k - 1]! : Infinity
}

const s = (ms: number): string => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : '—')

/** Crawl suite: ethp2p's crawler and @ethereumjs/devp2p's DPT, each in its own process, against one testnet process. */
export async function crawlBench(_names: readonly BackendName[]): Promise<{ rows: Row[]; targets: Target[] }> {
  const testnet = child<Net>('testnet', String(NODES))
  try {
    const net = await testnet.result
    const ours = await child<Run>('ours', JSON.stringify(net)).result
    const ejs = (await ethereumjs()) ? await child<Run>('dpt', JSON.stringify(net)).result : undefined

    const recall = (r: Run): number => r.confirmed.length / net.live
    console.log(`testnet: ${NODES} nodes, ${net.live} live, in a child process; each crawler in its own child`)
    const detail = [['crawler', 'recall', `time to ${RECALL * 100} %`, 'run time', 'packets/s', 'peak RSS']]
    for (const [name, r] of [[`ethp2p (${backend.name})`, ours], ['@ethereumjs/devp2p DPT', ejs]] as const) {
      if (!r) continue
      detail.push([name, `${(100 * recall(r)).toFixed(2)} %`, s(timeTo(r, net.live, RECALL)), s(r.ms), String(Math.round(r.packets / (r.ms / 1000))), `${r.rssMB.toFixed(0)} MB`])
    }
    const w = detail[0]!.map((_, c) => Math.max(...detail.map((l) => l[c]!.length)))
    for (const l of detail) console.log(l.map((x, c) => (c === 0 ? x.padEnd(w[c]!) : x.padStart(w[c]!))).join('  '))

    // speed at the same recall: the highest both reached (DPT's, when it stops short)
    const common = ejs ? Math.min(recall(ours), recall(ejs)) : recall(ours)
    const rate = (r: Run): number => (common * net.live) / (timeTo(r, net.live, common) / 1000)
    const op = `live nodes confirmed/s to ${(100 * common).toFixed(1)} % recall`
    const rows: Row[] = [
      { op, impl: backend.name, hz: rate(ours), rme: 0 },
      { op: 'crawl packets/s', impl: backend.name, hz: ours.packets / (ours.ms / 1000), rme: 0 },
    ]
    if (ejs) rows.push({ op, impl: 'ethereumjs', hz: rate(ejs), rme: 0 }, { op: 'crawl packets/s', impl: 'ethereumjs', hz: ejs.packets / (ejs.ms / 1000), rme: 0 })
    const t99 = timeTo(ours, net.live, RECALL)
    const targets: Target[] = [
      { what: `60 s ÷ time to 99 % of ${net.live} live nodes`, value: 60_000 / t99, min: 1 },
      { what: '400 MB ÷ peak RSS', value: 400 / ours.rssMB, min: 1 },
    ]
    if (ejs) targets.push({ what: `speed-up over @ethereumjs/devp2p DPT at ${(100 * common).toFixed(1)} % recall`, value: rate(ours) / rate(ejs), min: 10 })
    return { rows, targets }
  } finally {
    testnet.stop()
    await testnet.exited
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [role, arg = ''] = process.argv.slice(2)
  if (role === 'testnet') await serveTestnet(Number(arg))
  else {
    const run = role === 'ours' ? await crawlOurs(JSON.parse(arg) as Net) : await crawlDPT(JSON.parse(arg) as Net)
    process.stdout.write(JSON.stringify(run) + '\n')
    // DPT leaves timers behind (its ban list, pending pings): the report is all the parent needs
    process.exit(0)
  }
}
