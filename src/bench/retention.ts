/**
 * Retention (issue 23): a year of crawls written twice into SQLite, once kept whole and once pruned as
 * `monitor --retain 30d` prunes (after every crawl), then the database sizes and every `stats` question
 * timed on both.
 *
 * A year of half-hourly 10,000-node crawls is 175 M visit rows and hours of writing, more than a bench
 * run can take; by default the year here is one crawl every 6 hours of 2,000 nodes (1,460 crawls), and
 * ETHP2P_BENCH_RETENTION_NODES / _EVERY_MIN / _DAYS / _RETAIN_DAYS change that. What a year of the real
 * schedule takes is then extrapolated from per-row sizes measured here (SQLite's dbstat: each table
 * with its indexes, over its rows): visits, sessions and nodes grow with the nodes, counts and crawls
 * with the crawls, rollups with the days. The report says which figures are measured and which derived.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import type { BackendName } from '../crypto/types.js'
import { dailySeries } from '../history/daily.js'
import { openHistory, type History } from '../history/db.js'
import { adoption, churn, forkReadiness, geoCounts, headCounts, nodeHistory, protocolCounts, searchNodes, series, uptime } from '../history/query.js'
import { pruneHistory } from '../history/retention.js'
import { syntheticCrawl, syntheticNodes, type SyntheticNode } from '../history/synthetic.js'
import { topology } from '../history/topology.js'
import { writeCrawl } from '../history/write.js'
import type { Row, Target } from './harness.js'

const env = (name: string, dflt: number): number => Number(process.env[`ETHP2P_BENCH_RETENTION_${name}`] ?? dflt)
const NODES = env('NODES', 2_000)
const EVERY = env('EVERY_MIN', 360) * 60_000
const DAYS = env('DAYS', 365)
const RETAIN = env('RETAIN_DAYS', 30) * 86_400_000
const CRAWLS = Math.floor((DAYS * 86_400_000) / EVERY)
const T0 = Date.UTC(2025, 0, 1)
const RUNS = 3
/** the schedule the figures are extrapolated to */
const REAL = { nodes: 10_000, crawls: 365 * 48, days: 365, retained: 30 * 48 }

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now()
  await fn()
  return performance.now() - t
}

/** the file's size on disk once the WAL is folded in, and the bytes its pages in use take */
async function sizes(h: History, file: string): Promise<{ file: number; used: number; tables: Map<string, number> }> {
  await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(h.db)
  const pragma = async (name: string): Promise<number> => Number(Object.values((await sql.raw(`PRAGMA ${name}`).execute(h.db)).rows[0] as object)[0])
  const used = ((await pragma('page_count')) - (await pragma('freelist_count'))) * (await pragma('page_size'))
  // each table with its indexes (SQLite names an index's table in sqlite_master)
  const rows = await sql<{ tbl: string; bytes: number }>`SELECT m.tbl_name AS tbl, SUM(s.pgsize) AS bytes FROM dbstat s JOIN sqlite_master m ON m.name = s.name GROUP BY m.tbl_name`.execute(h.db)
  return { file: statSync(file).size, used, tables: new Map(rows.rows.map((r) => [r.tbl, Number(r.bytes)])) }
}

async function rowCount(h: History, table: 'visits' | 'sessions' | 'crawl_counts' | 'daily_counts' | 'nodes' | 'crawls'): Promise<number> {
  return Number((await h.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)
}

/** each `stats` question (and the dashboard's daily series over the year): median ms of RUNS */
async function questions(h: History, nodes: SyntheticNode[]): Promise<Record<string, number>> {
  const node = nodes.find((n) => n.joins === 0)!
  const qs: Record<string, () => Promise<unknown>> = {
    'series: client': () => series(h, 'client'),
    'series: version': () => series(h, 'version'),
    'series: os': () => series(h, 'os'),
    'series: network': () => series(h, 'network'),
    'series: fork id': () => series(h, 'forkid'),
    'daily series over the year: version': () => dailySeries(h, 'version'),
    'adoption of a version': () => adoption(h, 'geth', '1.15.0'),
    churn: () => churn(h),
    'uptime distribution': () => uptime(h),
    'fork readiness': () => forkReadiness(h),
    protocols: () => protocolCounts(h),
    geography: () => geoCounts(h),
    heads: () => headCounts(h),
    topology: () => topology(h),
    'node search': () => searchNodes(h, node.id.slice(0, 10)),
    "a node's history": () => nodeHistory(h, node.id),
  }
  const out: Record<string, number> = {}
  for (const [name, q] of Object.entries(qs)) {
    await q()
    const ms: number[] = []
    for (let i = 0; i < RUNS; i++) ms.push(await timed(q))
    out[name] = median(ms)
  }
  return out
}

const mb = (b: number): string => `${(b / 1e6).toFixed(1)} MB`
const gb = (b: number): string => `${(b / 1e9).toFixed(2)} GB`

/** Retention suite: a year with and without `--retain 30d`, sizes and the slowest question. */
export async function retentionBench(_names: readonly BackendName[]): Promise<{ rows: Row[]; targets: Target[] }> {
  const rows: Row[] = []
  const targets: Target[] = []
  const label = `${CRAWLS} crawls (every ${EVERY / 60_000} min over ${DAYS} days) × ${NODES} nodes`
  const nodes = syntheticNodes(NODES, CRAWLS)
  const dir = mkdtempSync(join(tmpdir(), 'ethp2p-bench-retention-'))
  const files = { full: join(dir, 'full.sqlite'), kept: join(dir, 'kept.sqlite') }
  const full = await openHistory({ engine: 'sqlite', file: files.full })
  const kept = await openHistory({ engine: 'sqlite', file: files.kept })
  try {
    console.error(`writing ${label} twice, one pruned to ${RETAIN / 86_400_000} days after each crawl…`)
    const prunes: number[] = []
    for (let k = 0; k < CRAWLS; k++) {
      const t = T0 + k * EVERY
      const records = syntheticCrawl(nodes, k, t)
      const meta = { vantage: 'bench', startedAt: t, endedAt: t + 60_000, options: { dial: true } }
      await writeCrawl(full, meta, records)
      await writeCrawl(kept, meta, records)
      prunes.push(await timed(() => pruneHistory(kept, { before: t - RETAIN, vantage: 'bench' })))
      if ((k + 1) % 200 === 0) console.error(`  ${k + 1}/${CRAWLS} crawls`)
    }
    const sFull = await sizes(full, files.full)
    const sKept = await sizes(kept, files.kept)
    console.log(`measured, ${label}: without retention ${mb(sFull.file)} on disk; with --retain ${RETAIN / 86_400_000}d ${mb(sKept.file)} on disk (${mb(sKept.used)} in use): ${(sFull.file / sKept.file).toFixed(1)}× smaller`)
    console.log(`measured: pruning after each crawl took ${median(prunes).toFixed(1)} ms (median), ${Math.max(...prunes).toFixed(0)} ms at most`)
    rows.push({ op: 'prune after a crawl (prunes/s)', impl: 'sqlite', hz: 1000 / median(prunes), rme: 0 })
    targets.push({ what: `sqlite: a year with --retain ${RETAIN / 86_400_000}d is at least 10× smaller than without (measured, ${label})`, value: sFull.file / sKept.file, min: 10 })

    // per-row sizes, measured; row counts of the real schedule, derived
    const per = async (h: History, s: typeof sFull, table: 'visits' | 'sessions' | 'crawl_counts' | 'daily_counts' | 'nodes' | 'crawls'): Promise<number> => (s.tables.get(table) ?? 0) / Math.max(1, await rowCount(h, table))
    const visitB = await per(full, sFull, 'visits')
    const sessionB = await per(kept, sKept, 'sessions')
    const countB = await per(kept, sKept, 'crawl_counts')
    const rollupB = await per(kept, sKept, 'daily_counts')
    const nodeB = await per(kept, sKept, 'nodes')
    const crawlB = await per(kept, sKept, 'crawls')
    const sessionsPerNodeCrawl = (await rowCount(kept, 'sessions')) / (NODES * CRAWLS)
    const countsPerCrawl = (await rowCount(kept, 'crawl_counts')) / CRAWLS
    const rollupsPerDay = (await rowCount(kept, 'daily_counts')) / Math.max(1, DAYS - RETAIN / 86_400_000)
    const common = REAL.nodes * REAL.crawls * sessionsPerNodeCrawl * sessionB + REAL.crawls * (countsPerCrawl * countB + crawlB) + REAL.nodes * nodeB
    const yearFull = common + REAL.nodes * REAL.crawls * visitB
    const yearKept = common + REAL.nodes * REAL.retained * visitB + REAL.days * rollupsPerDay * rollupB
    console.log(
      `measured per row (with indexes): visit ${visitB.toFixed(0)} B, session ${sessionB.toFixed(0)} B (${sessionsPerNodeCrawl.toFixed(3)} per node and crawl), ` +
        `count ${countB.toFixed(0)} B (${countsPerCrawl.toFixed(0)} per crawl), rollup ${rollupB.toFixed(0)} B, node ${nodeB.toFixed(0)} B`,
    )
    console.log(`extrapolated, a year of half-hourly 10k-node crawls: ${gb(yearFull)} without retention, ${gb(yearKept)} with --retain 30d (${(yearFull / yearKept).toFixed(1)}× smaller)`)
    targets.push({ what: 'sqlite: a year of half-hourly 10k-node crawls with --retain 30d at least 10× smaller (extrapolated from measured row sizes)', value: yearFull / yearKept, min: 10 })

    for (const [impl, h] of [['without retention', full], ['--retain 30d', kept]] as const) {
      const qs = await questions(h, nodes)
      const [slowest, ms] = Object.entries(qs).sort((a, b) => b[1] - a[1])[0]!
      for (const [q, t] of Object.entries(qs)) console.log(`sqlite ${impl}: ${q}: ${t.toFixed(1)} ms`)
      console.log(`measured, sqlite ${impl}, ${label}: the slowest question is "${slowest}": ${ms.toFixed(1)} ms`)
      rows.push({ op: `slowest stats question, ${impl} (answers/s)`, impl: 'sqlite', hz: 1000 / ms, rme: 0 })
      targets.push({ what: `sqlite ${impl}: every stats question ≤ 1 s over ${label} (slowest: ${slowest})`, value: 1000 / ms, min: 1 })
    }
  } finally {
    await full.close()
    await kept.close()
    rmSync(dir, { recursive: true, force: true })
  }
  return { rows, targets }
}
