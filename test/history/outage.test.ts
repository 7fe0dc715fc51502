/**
 * The monitor (library runMonitor) outliving its database, with real loopback crawls into real SQLite:
 * a file locked by another connection's exclusive transaction, a full file (max_page_count), a crash
 * between spooling and committing, a commit whose acknowledgement was lost, and a bug (a trigger that
 * refuses every crawl), which must stop it loudly.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import Database from 'better-sqlite3'
import { sql } from 'kysely'
import { pino } from 'pino'
import { CrawlSetup } from '../../src/cli/crawl-setup.js'
import { HistoryError, openHistory, type History } from '../../src/history/db.js'
import { runMonitor, type MonitorOptions } from '../../src/history/monitor.js'
import { Spool } from '../../src/history/spool.js'
import type { SpooledCrawl } from '../../src/history/spooled.js'
import { writeCrawl, type WrittenCrawl } from '../../src/history/write.js'
import { key, rec, T0 } from './fixtures.js'

const dir = mkdtempSync(join(tmpdir(), 'ethp2p-outage-'))
let setup: CrawlSetup
const quiet = pino({ level: 'silent' })
before(async () => {
  // one loopback network of 12 live nodes for every crawl of this file
  setup = await CrawlSetup.open({ testnet: 12, dead: 0 }, quiet)
})
after(async () => {
  await setup.close()
  rmSync(dir, { recursive: true, force: true })
})

interface Logged {
  log: MonitorOptions['log']
  count: (msg: string) => number
  /** resolves once `pred` holds (checked on every log line); bounded by the test's own timeout */
  until: (pred: () => boolean) => Promise<void>
}

function logged(): Logged {
  const lines: { msg: string; level: number }[] = []
  const waiters = new Set<() => void>()
  const log = pino({ level: 'info', base: undefined }, {
    write: (s: string) => {
      lines.push(JSON.parse(s) as { msg: string; level: number })
      for (const w of waiters) w()
    },
  })
  const count = (msg: string): number => lines.filter((l) => l.msg.startsWith(msg)).length
  const until = (pred: () => boolean): Promise<void> =>
    new Promise((resolve) => {
      const check = (): void => {
        if (pred()) {
          waiters.delete(check)
          resolve()
        }
      }
      waiters.add(check)
      check()
    })
  return { log, count, until }
}

const BACKOFF = { initialMs: 50, maxMs: 400 }

/** a monitor on the file's testnet; `stop` aborts it (SIGINT) and waits for it, for a test that failed half-way */
function monitor(h: History, spool: Spool, l: Logged, extra: Partial<MonitorOptions> & { stored: WrittenCrawl[] }): Promise<void> & { stop: () => Promise<void> } {
  const { stored, ...rest } = extra
  const ctl = new AbortController()
  const run = runMonitor({
    history: h,
    vantage: 'lab',
    everyMs: 200,
    options: { testnet: 12 },
    startCrawl: (previous) => setup.start(previous),
    signal: ctl.signal,
    log: l.log,
    spool,
    backoff: BACKOFF,
    onCrawl: (w) => stored.push(w),
    ...rest,
  })
  return Object.assign(run, { stop: () => (ctl.abort(), run.catch(() => {})) })
}

/** every crawl of the history, oldest first, with the checks every test makes: one row per key, ids in start order */
async function crawlsOf(h: History): Promise<{ id: number; started_at: number; crawl_key: string | null; found: number }[]> {
  const rows = await h.db.selectFrom('crawls').select(['id', 'started_at', 'crawl_key', 'found']).orderBy('id').execute()
  for (let i = 1; i < rows.length; i++) assert.ok(rows[i]!.started_at > rows[i - 1]!.started_at, `crawl ${rows[i]!.id} started after crawl ${rows[i - 1]!.id}`)
  const keys = rows.map((r) => r.crawl_key)
  assert.equal(new Set(keys).size, keys.length)
  return rows
}

describe('monitor outage (SQLite)', () => {
  it('a file locked by another connection: crawls go on into the spool, warned once, all stored in order once the lock goes', async () => {
    const file = join(dir, 'locked.sqlite')
    const h = await openHistory({ engine: 'sqlite', file }, { busyTimeoutMs: 50 })
    const locker = new Database(file)
    const spool = await Spool.open(join(dir, 'spool-locked'), quiet)
    const l = logged()
    const stored: WrittenCrawl[] = []
    locker.exec('BEGIN EXCLUSIVE')
    const run = monitor(h, spool, l, { maxCrawls: 4, stored })
    try {
      // three crawls finished while the file was locked
      await l.until(() => l.count('crawl started') >= 4)
      assert.equal(stored.length, 0)
      assert.ok(spool.size >= 3, `${spool.size} spooled`)
      assert.equal(l.count('history unreachable'), 1)
      locker.exec('COMMIT')
      await run
      assert.equal(stored.length, 4)
      const rows = await crawlsOf(h)
      assert.equal(rows.length, 4)
      assert.deepEqual(stored.map((w) => w.id), rows.map((r) => r.id))
      for (const r of rows) assert.equal(r.found, 12)
      assert.equal(spool.size, 0)
      assert.deepEqual(readdirSync(spool.dir), [])
      assert.equal(l.count('history unreachable'), 1)
      assert.equal(l.count('history reachable again'), 1)
    } finally {
      await run.stop()
      locker.close()
      await h.close()
    }
  })

  it('a full file (SQLITE_FULL: max_page_count): crawls wait in the spool and are stored in order once there is room', async () => {
    const h = await openHistory({ engine: 'sqlite', file: join(dir, 'full.sqlite') })
    const spool = await Spool.open(join(dir, 'spool-full'), quiet)
    const l = logged()
    const stored: WrittenCrawl[] = []
    // no page may be added: the first crawl fits in the tables' first pages, the next ones do not
    const pages = (await sql<{ page_count: number }>`PRAGMA page_count`.execute(h.db)).rows[0]!.page_count
    await sql.raw(`PRAGMA max_page_count = ${pages}`).execute(h.db)
    const run = monitor(h, spool, l, { maxCrawls: 4, stored })
    try {
      await l.until(() => spool.size >= 2)
      const before = stored.length
      assert.ok(before <= 1, `${before} crawls stored into a full file`)
      assert.equal(l.count('history unreachable'), 1)
      await sql.raw('PRAGMA max_page_count = 1073741823').execute(h.db)
      await run
      const rows = await crawlsOf(h)
      assert.equal(rows.length, 4)
      assert.deepEqual(stored.map((w) => w.id), rows.map((r) => r.id))
      assert.equal(spool.size, 0)
      assert.equal(l.count('history unreachable'), 1)
      assert.equal(l.count('history reachable again'), 1)
    } finally {
      await run.stop()
      await h.close()
    }
  })

  it('a crash after spooling and before the commit loses nothing: the next start stores the spooled crawl first, then crawls on', async () => {
    const h = await openHistory({ engine: 'sqlite', file: join(dir, 'crash.sqlite') })
    const spoolAt = join(dir, 'spool-crash')
    try {
      // the run that crashed: its crawl reached the spool, never the database
      const before = await Spool.open(spoolAt, quiet)
      const started = Date.now() - 60_000
      const spooled: SpooledCrawl = { meta: { vantage: 'lab', startedAt: started, endedAt: started + 1000, options: {}, interrupted: false, key: randomUUID() }, records: [rec(key('a'), false), rec(key('b'), false)] }
      await before.put(spooled)
      // the restart: a new process opens the same directory
      const spool = await Spool.open(spoolAt, quiet)
      assert.equal(spool.size, 1)
      const l = logged()
      const stored: WrittenCrawl[] = []
      // --every 30s: the spooled crawl started a minute ago, so the next one is due at once
      await monitor(h, spool, l, { maxCrawls: 1, stored, everyMs: 30_000 })
      const rows = await crawlsOf(h)
      assert.equal(rows.length, 2)
      assert.equal(rows[0]!.crawl_key, spooled.meta.key)
      assert.equal(rows[0]!.started_at, started)
      assert.equal(rows[0]!.found, 2)
      assert.equal(rows[1]!.found, 12)
      assert.equal(spool.size, 0)
      assert.equal(l.count('history unreachable'), 0)
    } finally {
      await h.close()
    }
  })

  it('a crawl committed but still spooled (the acknowledgement lost) is recognised by its key and not written twice', async () => {
    const h = await openHistory({ engine: 'sqlite', file: join(dir, 'twice.sqlite') })
    try {
      const spool = await Spool.open(join(dir, 'spool-twice'), quiet)
      const c: SpooledCrawl = { meta: { vantage: 'lab', startedAt: T0, endedAt: T0 + 1000, options: {}, key: randomUUID() }, records: [rec(key('a'), true), rec(key('c'), true)] }
      await spool.put(c)
      const first = await writeCrawl(h, c.meta, c.records)
      assert.equal(first.alreadyStored, undefined)
      const l = logged()
      const stored: WrittenCrawl[] = []
      // no crawl of its own: only what the spool holds
      await monitor(h, spool, l, { maxCrawls: 0, stored })
      assert.equal(stored.length, 1)
      assert.equal(stored[0]!.alreadyStored, true)
      assert.deepEqual([stored[0]!.id, stored[0]!.found, stored[0]!.answered, stored[0]!.newNodes], [first.id, 2, 2, 2])
      assert.equal(l.count('crawl was stored already'), 1)
      assert.equal((await crawlsOf(h)).length, 1)
      const visits = await h.db.selectFrom('visits').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
      assert.equal(Number(visits.n), 2)
      assert.equal(spool.size, 0)
    } finally {
      await h.close()
    }
  })

  it('a failure that is not transient (a trigger refusing crawls) stops the monitor loudly; the crawl stays in the spool', async () => {
    const file = join(dir, 'bug.sqlite')
    const h = await openHistory({ engine: 'sqlite', file })
    try {
      await sql`CREATE TRIGGER refuse BEFORE INSERT ON crawls BEGIN SELECT RAISE(ABORT, 'crawls refused'); END`.execute(h.db)
      const spool = await Spool.open(join(dir, 'spool-bug'), quiet)
      const l = logged()
      const err = await monitor(h, spool, l, { maxCrawls: 2, stored: [] }).then(
        () => assert.fail('the monitor went on'),
        (e: unknown) => e,
      )
      assert.ok(err instanceof HistoryError, String(err))
      assert.equal(err.code, 'WRITE_FAILED')
      assert.match(err.message, /crawls refused/)
      assert.ok(err.message.includes(spool.dir), err.message)
      assert.equal(l.count('crawl started'), 1)
      assert.equal(l.count('history unreachable'), 0)
      assert.equal(spool.size, 1)
      assert.equal(readdirSync(spool.dir).length, 1)
    } finally {
      await h.close()
    }
  })
})
