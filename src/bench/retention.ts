/**
 * Retention (issue 23): a year of crawls written twice, once kept whole and once pruned as `monitor
 * --retain 30d` prunes (after every crawl), then the database sizes and every `stats` question timed on
 * both: into SQLite, then into PostgreSQL (ETHP2P_BENCH_PG's server or a cluster started for the run;
 * skipped when there is neither, or with ETHP2P_BENCH_RETENTION_PG=0).
 *
 * A year of half-hourly 10,000-node crawls is 175 M visit rows and hours of writing, more than a bench
 * run can take; by default the year here is one crawl every 6 hours of 2,000 nodes (1,460 crawls), and
 * ETHP2P_BENCH_RETENTION_NODES / _EVERY_MIN / _DAYS / _RETAIN_DAYS change that. What a year of the real
 * schedule takes is then extrapolated from per-row sizes measured here (each table with its indexes,
 * over its rows: SQLite's dbstat, PostgreSQL's pg_total_relation_size): visits, sessions, uptime totals
 * and nodes grow with the nodes, counts and crawls with the crawls, rollups with the days. The report
 * says which figures are measured and which derived.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import type { BackendName } from '../crypto/types.js'
import { dailySeries } from '../history/daily.js'
import { openHistory, type History } from '../history/db.js'
import { adoption, churn, forkReadiness, geoCounts, headCounts, nodeHistory, protocolCounts, searchNodes, series } from '../history/query.js'
import { uptime } from '../history/uptime.js'
import { pruneHistory } from '../history/retention.js'
import { syntheticCrawl, syntheticNodes, type SyntheticNode } from '../history/synthetic.js'
import { topology } from '../history/topology.js'
import { writeCrawl } from '../history/write.js'
import type { Row, Target } from './harness.js'
import { pgServer } from './history.js'

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

type Table = 'visits' | 'sessions' | 'uptime_totals' | 'crawl_counts' | 'daily_counts' | 'nodes' | 'crawls'

/** A history under test and how to weigh it: its bytes on disk and each table's with its indexes. */
interface Store {
  h: History
  size(): Promise<{ total: number; tables: Map<string, number> }>
  /** what the database does by itself between two real crawls, run after each crawl of the bench */
  between?(): Promise<void>
}

/** a SQLite file, weighed once the WAL is folded in (dbstat: each table with its indexes) */
async function sqliteStore(file: string): Promise<Store> {
  const h = await openHistory({ engine: 'sqlite', file })
  return {
    h,
    async size() {
      await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(h.db)
      // SQLite names an index's table in sqlite_master
      const rows = await sql<{ tbl: string; bytes: number }>`SELECT m.tbl_name AS tbl, SUM(s.pgsize) AS bytes FROM dbstat s JOIN sqlite_master m ON m.name = s.name GROUP BY m.tbl_name`.execute(h.db)
      return { total: statSync(file).size, tables: new Map(rows.rows.map((r) => [r.tbl, Number(r.bytes)])) }
    },
  }
}

/**
 * A PostgreSQL database of its own on the bench server, weighed as it stands. Deleted and updated rows
 * become reusable only once vacuumed: a monitor crawling every 30 minutes leaves autovacuum (1-minute
 * naptime) time between crawls, while the bench writes a crawl every second; so the bench vacuums
 * (plain VACUUM: reuse, never return) after each crawl, both databases alike.
 */
async function pgStore(server: string, name: string): Promise<Store> {
  const pg = (await import('pg')).default
  const admin = new pg.Client({ connectionString: server })
  await admin.connect()
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name}`)
    await admin.query(`CREATE DATABASE ${name}`)
  } finally {
    await admin.end()
  }
  const url = new URL(server)
  url.pathname = `/${name}`
  const h = await openHistory({ engine: 'postgres', url: url.toString() })
  return {
    h,
    async size() {
      const total = await sql<{ n: number }>`SELECT pg_database_size(current_database()) AS n`.execute(h.db)
      const rows = await sql<{ tbl: string; bytes: number }>`SELECT c.relname AS tbl, pg_total_relation_size(c.oid) AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname = 'public'`.execute(h.db)
      return { total: Number(total.rows[0]!.n), tables: new Map(rows.rows.map((r) => [r.tbl, Number(r.bytes)])) }
    },
    async between() {
      await sql`VACUUM`.execute(h.db)
    },
  }
}

async function rowCount(h: History, table: Table): Promise<number> {
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

/** The year written into `full` and `kept` (pruned after each crawl), then weighed, extrapolated and asked every question. */
async function year(engine: string, full: Store, kept: Store, nodes: SyntheticNode[], rows: Row[], targets: Target[]): Promise<void> {
  const label = `${CRAWLS} crawls (every ${EVERY / 60_000} min over ${DAYS} days) × ${NODES} nodes`
  console.error(`${engine}: writing ${label} twice, one pruned to ${RETAIN / 86_400_000} days after each crawl…`)
  const prunes: number[] = []
  for (let k = 0; k < CRAWLS; k++) {
    const t = T0 + k * EVERY
    const records = syntheticCrawl(nodes, k, t)
    const meta = { vantage: 'bench', startedAt: t, endedAt: t + 60_000, options: { dial: true } }
    await writeCrawl(full.h, meta, records)
    await writeCrawl(kept.h, meta, records)
    prunes.push(await timed(() => pruneHistory(kept.h, { before: t - RETAIN, vantage: 'bench' })))
    await full.between?.()
    await kept.between?.()
    if ((k + 1) % 200 === 0) console.error(`  ${k + 1}/${CRAWLS} crawls`)
  }
  const sFull = await full.size()
  const sKept = await kept.size()
  console.log(`measured, ${engine}, ${label}: without retention ${mb(sFull.total)}; with --retain ${RETAIN / 86_400_000}d ${mb(sKept.total)}: ${(sFull.total / sKept.total).toFixed(1)}× smaller`)
  console.log(`measured, ${engine}: pruning after each crawl took ${median(prunes).toFixed(1)} ms (median), ${Math.max(...prunes).toFixed(0)} ms at most`)
  rows.push({ op: 'prune after a crawl (prunes/s)', impl: engine, hz: 1000 / median(prunes), rme: 0 })
  targets.push({ what: `${engine}: a year with --retain ${RETAIN / 86_400_000}d is at least 10× smaller than without (measured, ${label})`, value: sFull.total / sKept.total, min: 10 })

  // per-row sizes, measured; row counts of the real schedule, derived. Sessions are weighed in the
  // history that keeps them all; the kept one holds those of the last 30 days, the open ones and the totals
  const per = async (s: Store, sz: typeof sFull, table: Table): Promise<number> => (sz.tables.get(table) ?? 0) / Math.max(1, await rowCount(s.h, table))
  const visitB = await per(full, sFull, 'visits')
  const sessionB = await per(full, sFull, 'sessions')
  const totalB = await per(kept, sKept, 'uptime_totals')
  const countB = await per(kept, sKept, 'crawl_counts')
  const rollupB = await per(kept, sKept, 'daily_counts')
  const nodeB = await per(kept, sKept, 'nodes')
  const crawlB = await per(kept, sKept, 'crawls')
  const sessionsPerNodeCrawl = (await rowCount(full.h, 'sessions')) / (NODES * CRAWLS)
  const open = Number((await kept.h.db.selectFrom('sessions').select((eb) => eb.fn.countAll().as('n')).where('ended_at', 'is', null).executeTakeFirstOrThrow()).n)
  const openPerNode = open / NODES
  const totalsPerNode = (await rowCount(kept.h, 'uptime_totals')) / (await rowCount(kept.h, 'nodes'))
  const countsPerCrawl = (await rowCount(kept.h, 'crawl_counts')) / CRAWLS
  const rollupsPerDay = (await rowCount(kept.h, 'daily_counts')) / Math.max(1, DAYS - RETAIN / 86_400_000)
  const common = REAL.crawls * (countsPerCrawl * countB + crawlB) + REAL.nodes * nodeB
  const yearFull = common + REAL.nodes * REAL.crawls * (visitB + sessionsPerNodeCrawl * sessionB)
  const yearKept =
    common +
    REAL.nodes * REAL.retained * visitB +
    REAL.nodes * (REAL.retained * sessionsPerNodeCrawl + openPerNode) * sessionB +
    REAL.nodes * totalsPerNode * totalB +
    REAL.days * rollupsPerDay * rollupB
  console.log(
    `measured per row, ${engine} (with indexes): visit ${visitB.toFixed(0)} B, session ${sessionB.toFixed(0)} B (${sessionsPerNodeCrawl.toFixed(3)} per node and crawl, ${openPerNode.toFixed(2)} open per node), ` +
      `uptime total ${totalB.toFixed(0)} B (${totalsPerNode.toFixed(2)} per node), count ${countB.toFixed(0)} B (${countsPerCrawl.toFixed(0)} per crawl), rollup ${rollupB.toFixed(0)} B, node ${nodeB.toFixed(0)} B`,
  )
  console.log(`extrapolated, ${engine}, a year of half-hourly 10k-node crawls: ${gb(yearFull)} without retention, ${gb(yearKept)} with --retain 30d (${(yearFull / yearKept).toFixed(1)}× smaller)`)
  targets.push({ what: `${engine}: a year of half-hourly 10k-node crawls with --retain 30d at least 10× smaller (extrapolated from measured row sizes)`, value: yearFull / yearKept, min: 10 })

  for (const [impl, s] of [['without retention', full], ['--retain 30d', kept]] as const) {
    const qs = await questions(s.h, nodes)
    const [slowest, ms] = Object.entries(qs).sort((a, b) => b[1] - a[1])[0]!
    for (const [q, t] of Object.entries(qs)) console.log(`${engine} ${impl}: ${q}: ${t.toFixed(1)} ms`)
    console.log(`measured, ${engine} ${impl}, ${label}: the slowest question is "${slowest}": ${ms.toFixed(1)} ms`)
    rows.push({ op: `slowest stats question, ${impl} (answers/s)`, impl: engine, hz: 1000 / ms, rme: 0 })
    targets.push({ what: `${engine} ${impl}: every stats question ≤ 1 s over ${label} (slowest: ${slowest})`, value: 1000 / ms, min: 1 })
  }
}

/** Retention suite: a year with and without `--retain 30d` on SQLite, then on PostgreSQL when one can be had; sizes and the slowest question. */
export async function retentionBench(_names: readonly BackendName[]): Promise<{ rows: Row[]; targets: Target[] }> {
  const rows: Row[] = []
  const targets: Target[] = []
  const nodes = syntheticNodes(NODES, CRAWLS)
  const dir = mkdtempSync(join(tmpdir(), 'ethp2p-bench-retention-'))
  try {
    const full = await sqliteStore(join(dir, 'full.sqlite'))
    const kept = await sqliteStore(join(dir, 'kept.sqlite'))
    try {
      await year('sqlite', full, kept, nodes, rows, targets)
    } finally {
      await full.h.close()
      await kept.h.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  if (process.env['ETHP2P_BENCH_RETENTION_PG'] === '0') return { rows, targets }
  let server: ReturnType<typeof pgServer>
  try {
    server = pgServer()
  } catch (err) {
    console.log(`postgres: skipped, no server (${(err as Error).message.split('\n')[0]}); set ETHP2P_BENCH_PG or install postgresql`)
    return { rows, targets }
  }
  try {
    const full = await pgStore(server.spec.url, 'ethp2p_bench_retention_full')
    const kept = await pgStore(server.spec.url, 'ethp2p_bench_retention_kept')
    try {
      await year('postgres', full, kept, nodes, rows, targets)
    } finally {
      await full.h.close()
      await kept.h.close()
    }
  } finally {
    server.stop()
  }
  return { rows, targets }
}
