/**
 * CPU per datagram of a crawl against the crypto it must do: every datagram sent is signed, every
 * one received is recovered, so the floor is the mean of one native signature and one native
 * recovery, measured here in the same run. Each crawl runs as the crawl suite's do (a 10,000-node
 * testnet child, the crawler in a child of its own; CPU is the crawler process's, all its threads,
 * from process.cpuUsage() in that child), once with its crypto on the event loop (--workers 1) and
 * once on as many threads as there are cores, each at the default rate that follows from it.
 *
 * ETHP2P_BENCH_CPU_SCENARIOS=loopback,rtt picks; ETHP2P_BENCH_CRAWL_NODES sets N (default 10,000).
 */
import { availableParallelism } from 'node:os'
import { loadBackend } from '../crypto/backend.js'
import type { BackendName } from '../crypto/types.js'
import type { TestnetOptions } from '../testnet/testnet.js'
import { child, timeTo, withTestnet, type CrawlJob, type Run } from './crawl.js'
import type { Row, Target } from './harness.js'

const NODES = Number(process.env['ETHP2P_BENCH_CRAWL_NODES'] ?? 10_000)

/** CPU µs of one native signature and one native recovery, the best of a few rounds. */
function floor(): { signUs: number; recoverUs: number } {
  const b = loadBackend('native')
  const key = new Uint8Array(32).fill(7)
  const hash = b.keccak256(key)
  let signUs = Infinity
  let recoverUs = Infinity
  for (let round = 0; round < 5; round++) {
    const n = 2000
    let t = process.cpuUsage()
    let s = b.sign(hash, key)
    for (let i = 1; i < n; i++) {
      hash[0] = i & 255
      s = b.sign(hash, key)
    }
    let d = process.cpuUsage(t)
    signUs = Math.min(signUs, (d.user + d.system) / n)
    t = process.cpuUsage()
    for (let i = 0; i < n; i++) b.recover(hash, s.sig, s.recovery)
    d = process.cpuUsage(t)
    recoverUs = Math.min(recoverUs, (d.user + d.system) / n)
  }
  return { signUs, recoverUs }
}

interface Measured {
  scenario: string
  workers: number
  run: Run
  live: number
}

const SCENARIOS: { name: string; title: string; testnet: TestnetOptions }[] = [
  { name: 'loopback', title: 'loopback', testnet: { nodes: NODES } },
  { name: 'rtt', title: '150 ms RTT', testnet: { nodes: NODES, rttMs: 150 } },
]

/** CPU suite: µs of CPU per datagram in 10k crawls (loopback, 150 ms RTT; 1 and all workers) against the native crypto floor. */
export async function cpuBench(_names: readonly BackendName[]): Promise<{ rows: Row[]; targets: Target[] }> {
  const pick = process.env['ETHP2P_BENCH_CPU_SCENARIOS']?.split(',')
  const all = Math.max(2, availableParallelism())
  const results: Measured[] = []
  for (const sc of SCENARIOS) {
    if (pick && !pick.includes(sc.name)) continue
    await withTestnet(sc.testnet, async (net) => {
      for (const workers of [1, all]) {
        const run = await child<Run>('ours', { net, workers } satisfies CrawlJob).result
        results.push({ scenario: sc.title, workers, run, live: net.live })
      }
    })
  }
  // after the crawls, on a quiet process: the floor is this machine's, in this run
  const f = floor()
  const floorUs = (f.signUs + f.recoverUs) / 2
  console.log(`crypto floor (native, this run): sign ${f.signUs.toFixed(1)} µs, recover ${f.recoverUs.toFixed(1)} µs, mean ${floorUs.toFixed(1)} µs of CPU`)
  console.log(`crawls of ${NODES} nodes (10 % dead), each crawler in its own child; CPU = that process, every thread`)
  const lines = [['crawl', 'workers', 'rate', 'datagrams', 'CPU s', 'main/other', 'µs/datagram', '÷ floor', 'ms/answered', 'to 99 %', 'datagrams/s', 'recall', 'peak RSS']]
  const rows: Row[] = []
  const targets: Target[] = []
  for (const m of results) {
    const r = m.run
    const us = ((r.cpuS ?? 0) * 1e6) / r.packets
    const t99 = timeTo(r, m.live, 0.99)
    lines.push([
      m.scenario,
      String(m.workers),
      `${r.rate ?? '–'}/s`,
      String(r.packets),
      (r.cpuS ?? 0).toFixed(1),
      r.threads ? `${r.threads.main.toFixed(1)}/${r.threads.others.toFixed(1)}` : '–',
      us.toFixed(1),
      `${(us / floorUs).toFixed(2)}×`,
      (((r.cpuS ?? 0) * 1000) / Math.max(1, r.answered ?? 0)).toFixed(2),
      Number.isFinite(t99) ? `${(t99 / 1000).toFixed(1)} s` : '—',
      String(Math.round(r.packets / (r.ms / 1000))),
      `${((100 * r.confirmed.length) / m.live).toFixed(2)} %`,
      `${r.rssMB.toFixed(0)} MB`,
    ])
    const tag = `${m.scenario}, ${m.workers} worker${m.workers > 1 ? 's' : ''}`
    rows.push({ op: `cpu ${tag}: datagrams per CPU second`, impl: 'native', hz: 1e6 / us, rme: 0 })
    rows.push({ op: `cpu ${tag}: live nodes confirmed/s to 99 %`, impl: 'native', hz: (0.99 * m.live) / (t99 / 1000), rme: 0 })
    if (m.scenario === '150 ms RTT') targets.push({ what: `150 ms RTT, ${m.workers} worker(s): 1.5 × floor ÷ CPU per datagram`, value: (1.5 * floorUs) / us, min: 1 })
  }
  const w = lines[0]!.map((_, c) => Math.max(...lines.map((l) => l[c]!.length)))
  for (const l of lines) console.log('  ' + l.map((x, c) => (c === 0 ? x.padEnd(w[c]!) : x.padStart(w[c]!))).join('  '))
  rows.push({ op: 'cpu floor: native sign + recover pairs', impl: 'native', hz: 1e6 / (f.signUs + f.recoverUs), rme: 0 })
  return { rows, targets }
}
