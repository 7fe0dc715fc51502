/**
 * The crawl history: writing a 10,000-node crawl with dial results into SQLite and PostgreSQL, the
 * stats questions over 100 stored crawls of 10,000 nodes (a generated history, history/synthetic.ts),
 * and the dashboard's first paint over that history in headless chromium; and the monitor's spool:
 * putting a 10,000-node crawl in it (gzip, fsync, rename) and reading it back, what every crawl pays
 * before its database write.
 *
 * Each write of the 100 is timed (the history grows as it goes; the median is reported, the slowest
 * too). Each question runs five times on the full history, the median kept. PostgreSQL is the server
 * of ETHP2P_BENCH_PG (a database URL; the tables are created there) or a cluster started for the run
 * with scripts/pg-cluster.sh. ETHP2P_BENCH_HISTORY_CRAWLS / _NODES shrink the history for a quick look.
 */
import { execFileSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { BackendName } from '../crypto/types.js'
import { openHistory, type DbSpec, type History } from '../history/db.js'
import { adoption, churn, forkReadiness, nodeHistory, searchNodes, series } from '../history/query.js'
import { uptime } from '../history/uptime.js'
import { chooseCrawl, crawlNodeSet } from '../history/nodeset.js'
import { Spool, type SpoolEntry } from '../history/spool.js'
import { syntheticCrawl, syntheticNodes, type SyntheticNode } from '../history/synthetic.js'
import { writeCrawl } from '../history/write.js'
import { createLogger } from '../util/log.js'
import { serveDashboard } from '../web/server.js'
import type { Row, Target } from './harness.js'

const CRAWLS = Number(process.env['ETHP2P_BENCH_HISTORY_CRAWLS'] ?? 100)
const NODES = Number(process.env['ETHP2P_BENCH_HISTORY_NODES'] ?? 10_000)
const EVERY = 30 * 60_000
const T0 = Date.UTC(2025, 0, 1)
const RUNS = 5

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

async function timed<T>(fn: () => Promise<T>): Promise<number> {
  const t = performance.now()
  await fn()
  return performance.now() - t
}

/** write the generated history; returns each write's ms */
async function fill(h: History, nodes: SyntheticNode[]): Promise<number[]> {
  const ms: number[] = []
  for (let k = 0; k < CRAWLS; k++) {
    const t = T0 + k * EVERY
    const records = syntheticCrawl(nodes, k, t)
    ms.push(await timed(() => writeCrawl(h, { vantage: 'bench', startedAt: t, endedAt: t + 60_000, options: { dial: true } }, records)))
    if ((k + 1) % 25 === 0) console.error(`  ${k + 1}/${CRAWLS} crawls written`)
  }
  return ms
}

/** median ms of putting one crawl in the spool and of reading it back, over RUNS crawls, and its bytes */
async function spoolCost(dir: string, nodes: SyntheticNode[]): Promise<{ put: number; read: number; bytes: number }> {
  const spool = await Spool.open(join(dir, 'spool'), createLogger('error'))
  const put: number[] = []
  const read: number[] = []
  let bytes = 0
  for (let k = 0; k < RUNS; k++) {
    const t = T0 + k * EVERY
    const crawl = { meta: { vantage: 'bench', startedAt: t, endedAt: t + 60_000, options: { dial: true }, key: randomUUID() }, records: syntheticCrawl(nodes, k, t) }
    let e: SpoolEntry | undefined
    put.push(await timed(async () => {
      e = await spool.put(crawl)
    }))
    read.push(await timed(() => spool.read(e!)))
    bytes = e!.bytes
    await spool.remove(e!)
  }
  return { put: median(put), read: median(read), bytes }
}

/** each question's median ms over RUNS runs */
async function questions(h: History, nodes: SyntheticNode[]): Promise<Record<string, number>> {
  const node = nodes.find((n) => n.joins === 0)!
  const qs: Record<string, () => Promise<unknown>> = {
    'nodes per client over time': () => series(h, 'client'),
    'nodes per version over time': () => series(h, 'version'),
    'nodes per OS over time': () => series(h, 'os'),
    'nodes per network over time': () => series(h, 'network'),
    'nodes per fork id over time': () => series(h, 'forkid'),
    'adoption of a version': () => adoption(h, 'geth', '1.15.0'),
    'churn per crawl': () => churn(h),
    'uptime distribution': () => uptime(h),
    'fork readiness': () => forkReadiness(h),
    'node search (key prefix)': () => searchNodes(h, node.id.slice(0, 10)),
    'node search (client text)': () => searchNodes(h, 'nethermind'),
    "a node's history": () => nodeHistory(h, node.id),
    // nodeset filter / /api/nodeset: the latest crawl's visits and every earlier check of its nodes
    'node set of the latest crawl (scores replayed)': async () => crawlNodeSet(h, await chooseCrawl(h, {})),
  }
  const out: Record<string, number> = {}
  for (const [name, q] of Object.entries(qs)) {
    await q() // warm the caches once, as a dashboard that has been open a while would
    const ms: number[] = []
    for (let i = 0; i < RUNS; i++) ms.push(await timed(q))
    out[name] = median(ms)
  }
  return out
}

/** the dashboard's first paint (navigation start → every panel drawn), median of RUNS fresh loads */
async function firstPaint(h: History): Promise<number | string> {
  let launch: typeof import('./browser.js').launchBrowser
  try {
    launch = (await import('./browser.js')).launchBrowser
    await import('playwright-core')
  } catch {
    return 'skipped: playwright-core is not installed (a devDependency)'
  }
  const { CHROMIUM } = await import('./browser.js')
  if (!existsSync(CHROMIUM)) return `skipped: no chromium at ${CHROMIUM} (apt-get install -y chromium)`
  const dash = await serveDashboard('127.0.0.1:0', h)
  const browser = await launch()
  try {
    const ms: number[] = []
    for (let i = 0; i <= RUNS; i++) {
      const page = await browser.context.newPage()
      await page.goto(dash.url)
      await page.waitForSelector('body[data-ready="1"]', { timeout: 120_000 })
      const t = Number(await page.evaluate('document.body.dataset.firstPaintMs'))
      await page.close()
      if (i > 0) ms.push(t) // the first load starts the browser's own machinery
    }
    return median(ms)
  } finally {
    await browser.close()
    await dash.close()
  }
}

/** The PostgreSQL the history benchmarks use: ETHP2P_BENCH_PG's, or a cluster started for the run (stop() stops it). */
export function pgServer(): { spec: DbSpec & { engine: 'postgres' }; stop: () => void } {
  const env = process.env['ETHP2P_BENCH_PG']
  if (env) return { spec: { engine: 'postgres', url: env }, stop: () => {} }
  const script = fileURLToPath(new URL('../../scripts/pg-cluster.sh', import.meta.url))
  const dir = mkdtempSync(join(tmpdir(), 'ethp2p-bench-pg-'))
  const url = execFileSync('bash', [script, 'start', dir], { encoding: 'utf8' }).trim()
  return { spec: { engine: 'postgres', url }, stop: () => execFileSync('bash', [script, 'stop', dir], { stdio: 'ignore' }) }
}

/** History suite: writing crawls into SQLite and answering the dashboard's questions over them. */
export async function historyBench(_names: readonly BackendName[]): Promise<{ rows: Row[]; targets: Target[] }> {
  const nodes = syntheticNodes(NODES, CRAWLS)
  const rows: Row[] = []
  const targets: Target[] = []
  const label = `${CRAWLS} crawls × ${NODES / 1000}k nodes`
  const report = (impl: string, writes: number[], qs: Record<string, number>, writeLimitS: number): void => {
    const w = median(writes)
    console.log(`${impl}: write a ${NODES}-node crawl with dial results: median ${w.toFixed(0)} ms, slowest ${Math.max(...writes).toFixed(0)} ms (of ${writes.length})`)
    rows.push({ op: `write a ${NODES / 1000}k-node crawl (crawls/s)`, impl, hz: 1000 / w, rme: 0 })
    targets.push({ what: `${impl}: ${NODES / 1000}k-node crawls written per second (≤ ${writeLimitS} s each)`, value: 1000 / w, min: 1 / writeLimitS })
    for (const [q, ms] of Object.entries(qs)) {
      console.log(`${impl}: ${q} over ${label}: ${ms.toFixed(1)} ms`)
      rows.push({ op: `${q} (answers/s)`, impl, hz: 1000 / ms, rme: 0 })
      targets.push({ what: `${impl}: ${q} over ${label}, answers per second (≤ 1 s each)`, value: 1000 / ms, min: 1 })
    }
  }

  const dir = mkdtempSync(join(tmpdir(), 'ethp2p-bench-history-'))
  try {
    const sp = await spoolCost(dir, nodes)
    console.log(`spool: put a ${NODES}-node crawl (gzip, fsync, rename): median ${sp.put.toFixed(0)} ms, ${(sp.bytes / 1e6).toFixed(2)} MB; read it back: ${sp.read.toFixed(0)} ms`)
    rows.push({ op: `spool a ${NODES / 1000}k-node crawl (crawls/s)`, impl: 'spool', hz: 1000 / sp.put, rme: 0 })
    targets.push({ what: `spool: ${NODES / 1000}k-node crawls put per second (≤ 1 s each)`, value: 1000 / sp.put, min: 1 })
    console.error(`generating ${label} into SQLite…`)
    const sqlite = await openHistory({ engine: 'sqlite', file: join(dir, 'history.sqlite') })
    try {
      const writes = await fill(sqlite, nodes)
      report('sqlite', writes, await questions(sqlite, nodes), 2)
      const paint = await firstPaint(sqlite)
      if (typeof paint === 'number') {
        console.log(`dashboard first paint over ${label} (sqlite, chromium): ${paint.toFixed(0)} ms`)
        rows.push({ op: 'dashboard first paint (paints/s)', impl: 'sqlite', hz: 1000 / paint, rme: 0 })
        targets.push({ what: `dashboard first paints per second over ${label} (≤ 1 s)`, value: 1000 / paint, min: 1 })
      } else console.log(`dashboard first paint: ${paint}`)
    } finally {
      await sqlite.close()
    }

    console.error(`generating ${label} into PostgreSQL…`)
    let pg: ReturnType<typeof pgServer>
    try {
      pg = pgServer()
    } catch (err) {
      console.log(`postgres: skipped, no server (${(err as Error).message.split('\n')[0]}); set ETHP2P_BENCH_PG or install postgresql`)
      return { rows, targets }
    }
    try {
      const h = await openHistory(pg.spec)
      try {
        const writes = await fill(h, nodes)
        report('postgres', writes, await questions(h, nodes), 5)
      } finally {
        await h.close()
      }
    } finally {
      pg.stop()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  return { rows, targets }
}
