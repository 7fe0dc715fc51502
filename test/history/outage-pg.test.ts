/**
 * `ethp2p monitor` on a real PostgreSQL that the test stops and starts again (a cluster of its own,
 * scripts/pg-cluster.sh pause/resume: same port, same data), as issue 23's target has it: an outage
 * of a minute, every crawl stored once and in order, the outage warned once, nothing left in the
 * spool; SIGINT during an outage leaves the spool for the next start, which stores it first. And the
 * crawl key against a real race: two writers committing the same crawl at once store it once.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import { sql } from 'kysely'
import pg from 'pg'
import { openHistory, type History } from '../../src/history/db.js'
import { spoolDir } from '../../src/history/spool.js'
import { classifyDbError } from '../../src/history/transient.js'
import { writeCrawl } from '../../src/history/write.js'
import { count, killChildren, lines, run } from './cli.js'
import { key, rec, T0 } from './fixtures.js'

const SCRIPT = join(import.meta.dirname, '../../scripts/pg-cluster.sh')
const dir = mkdtempSync(join(tmpdir(), 'ethp2p-outage-pg-'))
const cluster = mkdtempSync(join(tmpdir(), 'ethp2p-outage-cluster-'))
let server = ''
const pgctl = (cmd: 'start' | 'stop' | 'pause' | 'resume'): string => execFileSync('bash', [SCRIPT, cmd, cluster], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim()

before(() => {
  // never the shared ETHP2P_TEST_PG server: this one is stopped under the monitor's feet
  server = pgctl('start')
})
after(() => {
  killChildren()
  pgctl('stop')
  rmSync(dir, { recursive: true, force: true })
})

let databases = 0
async function database(): Promise<string> {
  const name = `outage_${databases++}`
  const c = new pg.Client({ connectionString: server })
  await c.connect()
  try {
    await c.query(`CREATE DATABASE ${name}`)
  } finally {
    await c.end()
  }
  const u = new URL(server)
  u.pathname = `/${name}`
  return u.toString()
}

/** the crawls stored, oldest first; each key once and ids in start order, or the assertion fails */
async function stored(url: string): Promise<{ id: number; started_at: number; crawl_key: string | null }[]> {
  const h: History = await openHistory({ engine: 'postgres', url })
  try {
    const rows = await h.db.selectFrom('crawls').select(['id', 'started_at', 'crawl_key']).orderBy('id').execute()
    for (let i = 1; i < rows.length; i++) assert.ok(Number(rows[i]!.started_at) > Number(rows[i - 1]!.started_at), `crawl ${rows[i]!.id} started after crawl ${rows[i - 1]!.id}`)
    assert.equal(new Set(rows.map((r) => r.crawl_key)).size, rows.length)
    return rows
  } finally {
    await h.close()
  }
}

/** how long the first test keeps the server down: issue 23's target, "an outage of a minute" */
const OUTAGE_MS = 60_000
const UNREACHABLE = 'history unreachable: crawls go on and wait in the spool; retrying with backoff'

const monitorArgs = (url: string, datadir: string, crawls: number): string[] => ['monitor', '--testnet', '12', '--dead', '0', '--every', '1s', '--crawls', String(crawls), '--db', url, '--datadir', datadir, '--vantage', 'pg']

describe('monitor through a PostgreSQL outage', () => {
  it('the server stopped for a minute mid-run: crawls go on, every crawl is stored once and in order, the outage is warned once', { timeout: 150_000 }, async (t) => {
    const url = await database()
    const datadir = join(dir, 'a')
    const spooled = (): number => readdirSync(spoolDir(datadir, 'pg')).length
    // debug: each try against the database is a line of its own ('history still unreachable'), the warning one line
    const r = run(monitorArgs(url, datadir, 1000), { ETHP2P_LOG: 'debug' })
    await r.until((o) => lines(o).length >= 1, 'the first crawl was stored', 30_000)
    pgctl('pause')
    const downAt = Date.now()
    const storedBefore = lines(r.stdout()).length
    const startedBefore = count(r.stderr(), 'crawl started')
    let upAt: number
    let spooledAtResume: number
    let startedDuring: number
    try {
      const stop = new AbortController()
      const state = await Promise.race([r.exit.then((code) => `exited (${code})`), delay(OUTAGE_MS, 'running', { signal: stop.signal })])
      stop.abort()
      assert.equal(state, 'running', r.stderr().slice(-2000))
      // a crawl a second or two all the while: spooled, none stored, one warning for many tries
      startedDuring = count(r.stderr(), 'crawl started') - startedBefore
      assert.ok(startedDuring >= 20, `${startedDuring} crawls started in the outage`)
      spooledAtResume = spooled()
      assert.ok(spooledAtResume >= startedDuring - 1, `${spooledAtResume} crawls spooled of ${startedDuring} started`)
      assert.equal(lines(r.stdout()).length, storedBefore, 'no crawl reported stored with the server down')
      assert.equal(count(r.stderr(), UNREACHABLE), 1)
      assert.ok(count(r.stderr(), 'history still unreachable') >= 10, 'the database was tried again and again')
    } finally {
      pgctl('resume')
      upAt = Date.now()
    }
    assert.ok(upAt - downAt >= OUTAGE_MS)
    // the next crawl's read finds the server back and the spool goes at once, not at the end of the backoff (up to 60 s)
    await r.until((o) => lines(o).length >= storedBefore + spooledAtResume, 'the crawls spooled in the outage were stored', 30_000)
    t.diagnostic(`server down ${(upAt - downAt) / 1000} s: ${startedDuring} crawls started, ${spooledAtResume} spooled, ${count(r.stderr(), 'history still unreachable')} tries; all stored ${(Date.now() - upAt) / 1000} s after the restart`)
    r.child.kill('SIGINT')
    const stop = new AbortController()
    const code = await Promise.race([r.exit, delay(30_000, 'still running after SIGINT', { signal: stop.signal })])
    stop.abort()
    assert.equal(code, 0, r.stderr().slice(-2000))

    // every crawl the monitor started (SIGINT may have cut the last one short) was reported once and stored once, in order
    const out = lines(r.stdout())
    const rows = await stored(url)
    assert.equal(rows.length, count(r.stderr(), 'crawl started'))
    assert.equal(out.length, rows.length)
    assert.deepEqual(out.map((l) => l['crawl']), rows.map((c) => c.id))
    const inOutage = rows.filter((c) => Number(c.started_at) > downAt && Number(c.started_at) < upAt).length
    assert.ok(inOutage >= spooledAtResume - 1, `${inOutage} crawls stored that started in the outage`)
    assert.deepEqual(readdirSync(spoolDir(datadir, 'pg')), [])
    assert.equal(count(r.stderr(), UNREACHABLE), 1)
    const back = r
      .stderr()
      .split('\n')
      .filter((l) => l.includes('"msg":"history reachable again"'))
      .map((l) => JSON.parse(l) as { downSeconds: number })
    assert.equal(back.length, 1)
    assert.ok(back[0]!.downSeconds >= OUTAGE_MS / 1000 - 5, `the monitor saw the server away for ${back[0]!.downSeconds} s`)
  })

  it('SIGINT during an outage leaves the spool on disk; the next start stores it first, in order, then crawls on', async () => {
    const url = await database()
    const datadir = join(dir, 'b')
    const r = run(monitorArgs(url, datadir, 100))
    await r.until((o) => lines(o).length >= 1, 'the first crawl was stored')
    pgctl('pause')
    try {
      await r.until((_, e) => count(e, 'crawl started') >= 3, 'two more crawls started')
      r.child.kill('SIGINT')
      assert.equal(await r.exit, 0, r.stderr())
    } finally {
      pgctl('resume')
    }
    assert.equal(lines(r.stdout()).length, 1)
    assert.equal(count(r.stderr(), 'crawls wait in the spool for the next start'), 1)
    const waiting = readdirSync(spoolDir(datadir, 'pg')).sort()
    // the crawl that finished during the outage and the one SIGINT cut short
    assert.equal(waiting.length, 2)

    const again = run(monitorArgs(url, datadir, 1))
    assert.equal(await again.exit, 0, again.stderr())
    assert.equal(count(again.stderr(), 'storing the crawls an earlier run spooled'), 1)
    const out = lines(again.stdout())
    assert.equal(out.length, 3)
    // the spooled crawl that ended by itself, the one SIGINT cut short (unless it ended before SIGINT came), the new one
    assert.deepEqual([out[0]!['interrupted'], out[2]!['interrupted']], [false, false])
    const rows = await stored(url)
    assert.equal(rows.length, 4)
    assert.deepEqual(rows.slice(1, 3).map((c) => `${String(c.started_at).padStart(15, '0')}-${c.crawl_key}.crawl.gz`), waiting)
    assert.ok(!existsSync(join(spoolDir(datadir, 'pg'), waiting[0]!)))
    assert.deepEqual(readdirSync(spoolDir(datadir, 'pg')), [])
  })

  it('a monitor started while the server is down crawls into the spool, migrates the schema when it comes, and stores every crawl', async () => {
    const url = await database()
    const datadir = join(dir, 'c')
    pgctl('pause')
    let r
    try {
      r = run(monitorArgs(url, datadir, 3))
      await r.until((_, e) => count(e, 'crawl started') >= 3, 'three crawls started with the server down')
      assert.equal(lines(r.stdout()).length, 0)
    } finally {
      pgctl('resume')
    }
    assert.equal(await r.exit, 0, r.stderr())
    assert.equal(lines(r.stdout()).length, 3)
    assert.equal((await stored(url)).length, 3)
    assert.deepEqual(readdirSync(spoolDir(datadir, 'pg')), [])
    assert.equal(count(r.stderr(), UNREACHABLE), 1)
    assert.equal(count(r.stderr(), 'history reachable again'), 1)

    // a database that does not exist is no outage: exit 1 at once
    const missing = new URL(url)
    missing.pathname = '/no_such_database'
    const bad = run(monitorArgs(missing.toString(), join(dir, 'd'), 1))
    assert.equal(await bad.exit, 1, bad.stderr())
    assert.match(bad.stderr(), /does not exist/)
  })

  it('the server shutting down under an open pool: queries fail as transient, the process goes on, and works once it is back', async () => {
    const url = await database()
    const h = await openHistory({ engine: 'postgres', url })
    try {
      // idle connections in the pool when the server goes
      await Promise.all([1, 2, 3].map(() => sql`SELECT pg_sleep(0.05)`.execute(h.db)))
      pgctl('pause')
      try {
        for (let i = 0; i < 4; i++) {
          const err = await sql`SELECT 1`.execute(h.db).then(
            () => assert.fail('a query answered with the server down'),
            (e: unknown) => e,
          )
          assert.equal(classifyDbError(err), 'unreachable', String(err))
        }
        // the dead connections' 'error' events came and went without taking the process down
        await new Promise((r) => setTimeout(r, 200))
      } finally {
        pgctl('resume')
      }
      assert.equal((await sql<{ one: number }>`SELECT 1 AS one`.execute(h.db)).rows[0]!.one, 1)
    } finally {
      await h.close()
    }
  })

  it('the same crawl committed by two writers at once is stored once; both get its id', async () => {
    const url = await database()
    const a = await openHistory({ engine: 'postgres', url })
    const b = await openHistory({ engine: 'postgres', url })
    try {
      const meta = { vantage: 'race', startedAt: T0, endedAt: T0 + 1000, options: {}, key: randomUUID() }
      const records = Array.from({ length: 200 }, (_, i) => rec(i.toString(16).padStart(128, '0'), i % 3 !== 0))
      const [x, y] = await Promise.all([writeCrawl(a, meta, records), writeCrawl(b, meta, records)])
      assert.equal(x.id, y.id)
      assert.equal([x.alreadyStored, y.alreadyStored].filter(Boolean).length, 1)
      assert.deepEqual([y.found, y.answered, y.newNodes], [x.found, x.answered, x.newNodes])
      const again = await writeCrawl(a, meta, [rec(key('e'), true)])
      assert.equal(again.alreadyStored, true)
      const crawls = await a.db.selectFrom('crawls').select(['id']).execute()
      assert.equal(crawls.length, 1)
      const visits = await a.db.selectFrom('visits').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
      assert.equal(Number(visits.n), 200)
    } finally {
      await a.close()
      await b.close()
    }
  })
})
