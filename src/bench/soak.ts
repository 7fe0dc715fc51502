/**
 * `npm run soak`: a loopback testnet (1,000 nodes, in a child process) crawled over and over for SOAK_MINUTES (default 10)
 * by one discv4 transport, the way a long-running crawler uses it. Every 10 s it samples RSS, heap,
 * event-loop delay (perf_hooks histogram, p50/p99 over the interval) and open handles; at the end it
 * prints an ASCII chart and a JSON summary, and exits 1 when
 *   - the event-loop delay p99 over the whole run exceeds 50 ms, or
 *   - RSS grows faster than SOAK_MAX_SLOPE MiB/min (default 2) over the second half of the run, i.e.
 *     the linear-regression slope once start-up allocation has settled.
 * Env: SOAK_MINUTES, SOAK_NODES, SOAK_MAX_SLOPE, SOAK_SAMPLE_S (default 10).
 */
import { spawn } from 'node:child_process'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { randomPrivateKey } from '../crypto/backend.js'
import { Crawler } from '../crawler/crawl.js'
import { TargetTable } from '../crawler/targets.js'
import { Discv4 } from '../discover/udp.js'
import { parseEnode } from '../enode/url.js'

const MiB = 2 ** 20
const minutes = Number(process.env['SOAK_MINUTES'] ?? 10)
const nodes = Number(process.env['SOAK_NODES'] ?? 1000)
const maxSlope = Number(process.env['SOAK_MAX_SLOPE'] ?? 2)
const sampleMs = Number(process.env['SOAK_SAMPLE_S'] ?? 10) * 1000
const MAX_P99_MS = 50
if (!(minutes > 0) || !(nodes >= 10) || !(maxSlope > 0) || !(sampleMs >= 1000)) {
  process.stderr.write('soak: SOAK_MINUTES > 0, SOAK_NODES ≥ 10, SOAK_MAX_SLOPE > 0, SOAK_SAMPLE_S ≥ 1\n')
  process.exit(2)
}

interface Sample {
  /** seconds since the crawl started */
  t: number
  rssMiB: number
  heapMiB: number
  p50ms: number
  p99ms: number
  handles: number
  rounds: number
  visited: number
}

/**
 * The testnet runs in a child process (`ethp2p testnet`), so what is sampled here — RSS, event-loop
 * delay, handles — is the crawler's alone, not the thousand responders' verifying and signing.
 */
const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../cli/main.ts', import.meta.url)), 'testnet', '--nodes', String(nodes), '--duration', String(minutes * 60 + 120)], {
  stdio: ['ignore', 'pipe', 'inherit'],
})
const bootLine = await new Promise<string>((resolve, reject) => {
  createInterface({ input: child.stdout! }).once('line', resolve)
  child.once('exit', (code) => reject(new Error(`testnet exited (${code}) before printing its bootnodes`)))
})
const bootnodes = bootLine.split(',').map((u) => parseEnode(u))
const disc = await Discv4.listen({
  privateKey: randomPrivateKey(),
  host: '127.0.0.1',
  port: 0,
  batchVerify: true,
  // the crawler reads tables itself (as `ethp2p crawl` does): no refresh lookups of our own
  refreshIntervalMs: 24 * 3600_000,
})

// FINDNODE preimages: built once (seconds of hashing) and shared by every round, as one crawler would
const targets = TargetTable.build()

/**
 * The histogram records the time between its timer's ticks, so an idle loop reads as the resolution
 * itself; the delay is what lies beyond it.
 */
const RESOLUTION_MS = 5
const delayMs = (h: { percentile(p: number): number }, p: number): number => Math.max(0, h.percentile(p) / 1e6 - RESOLUTION_MS)
const interval = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
const whole = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
interval.enable()
whole.enable()
const started = Date.now()
const deadline = started + minutes * 60_000
const samples: Sample[] = []
let rounds = 0
let visited = 0
let answered = 0
let current: Crawler | undefined

function sample(): void {
  const m = process.memoryUsage()
  samples.push({
    t: Math.round((Date.now() - started) / 1000),
    rssMiB: +(m.rss / MiB).toFixed(1),
    heapMiB: +(m.heapUsed / MiB).toFixed(1),
    p50ms: +delayMs(interval, 50).toFixed(2),
    p99ms: +delayMs(interval, 99).toFixed(2),
    handles: process.getActiveResourcesInfo().length,
    rounds,
    visited: visited + (current?.progress().found ?? 0),
  })
  interval.reset()
  const s = samples.at(-1)!
  process.stderr.write(`soak t=${s.t}s rss=${s.rssMiB}MiB heap=${s.heapMiB}MiB eld p50=${s.p50ms}ms p99=${s.p99ms}ms handles=${s.handles} rounds=${s.rounds}\n`)
}
sample()
const sampler = setInterval(sample, sampleMs)

// one crawl visits every node once and ends; a new one revisits them all (fresh bonds are not needed
// twice, so later rounds are the steady state of a crawler re-checking a known network)
while (Date.now() < deadline) {
  current = new Crawler({ transport: disc, seeds: bootnodes, targets, durationMs: deadline - Date.now() })
  const p = await current.run()
  rounds++
  visited += p.found
  answered += p.answered
  current = undefined
}
clearInterval(sampler)
sample()
interval.disable()
whole.disable()
await disc.close()
child.kill('SIGINT')

/** least-squares slope of y over x */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length
  if (n < 2) return 0
  const mx = xs.reduce((a, b) => a + b, 0) / n
  const my = ys.reduce((a, b) => a + b, 0) / n
  let num = 0
  let den = 0
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my)
    den += (xs[i]! - mx) ** 2
  }
  return den === 0 ? 0 : num / den
}

/** a small column chart of `values`, one column per sample */
function chart(title: string, values: number[], unit: string, height = 8): string {
  const max = Math.max(...values)
  const min = Math.min(...values)
  const span = max - min || 1
  const rows: string[] = [`${title} (${min.toFixed(1)}–${max.toFixed(1)} ${unit})`]
  for (let r = height - 1; r >= 0; r--) {
    const label = (min + (span * (r + 1)) / height).toFixed(1).padStart(8)
    rows.push(`${label} |` + values.map((v) => ((v - min) / span >= r / height && (v > min || r === 0) ? '█' : ' ')).join(''))
  }
  rows.push(`${' '.repeat(8)} +${'-'.repeat(values.length)}> ${samples.at(-1)!.t}s`)
  return rows.join('\n')
}

const second = samples.slice(Math.floor(samples.length / 2))
const rssSlope = slope(
  second.map((s) => s.t / 60),
  second.map((s) => s.rssMiB),
)
const heapSlope = slope(
  second.map((s) => s.t / 60),
  second.map((s) => s.heapMiB),
)
const p99 = delayMs(whole, 99)
const summary = {
  minutes,
  nodes,
  samples: samples.length,
  crawlRounds: rounds,
  nodesVisited: visited,
  nodesAnswered: answered,
  rssMiB: { start: samples[0]!.rssMiB, end: samples.at(-1)!.rssMiB, max: Math.max(...samples.map((s) => s.rssMiB)) },
  rssSlopeMiBPerMinSecondHalf: +rssSlope.toFixed(3),
  heapSlopeMiBPerMinSecondHalf: +heapSlope.toFixed(3),
  eventLoopDelayMs: { p50: +delayMs(whole, 50).toFixed(2), p99: +p99.toFixed(2), max: +Math.max(0, whole.max / 1e6 - RESOLUTION_MS).toFixed(2), worstIntervalP99: Math.max(...samples.map((s) => s.p99ms)) },
  handles: { start: samples[0]!.handles, end: samples.at(-1)!.handles, max: Math.max(...samples.map((s) => s.handles)) },
  bounds: { maxP99Ms: MAX_P99_MS, maxRssSlopeMiBPerMin: maxSlope },
  ok: p99 <= MAX_P99_MS && rssSlope <= maxSlope,
}
process.stdout.write(chart('RSS', samples.map((s) => s.rssMiB), 'MiB') + '\n\n')
process.stdout.write(chart('event-loop delay p99 per interval', samples.map((s) => s.p99ms), 'ms') + '\n\n')
process.stdout.write(JSON.stringify(summary, null, 2) + '\n')
if (!summary.ok) {
  process.stderr.write(`soak FAILED: p99 ${p99.toFixed(2)} ms (bound ${MAX_P99_MS}), RSS slope ${rssSlope.toFixed(2)} MiB/min (bound ${maxSlope})\n`)
  process.exitCode = 1
}
