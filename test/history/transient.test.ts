/**
 * The classifier of database failures, fed the errors the drivers really throw: a refused connection,
 * a server that terminates its connections (57P01), a locked and a full SQLite file, and the bugs
 * that must stop the monitor (constraint, syntax) from both engines.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import Database from 'better-sqlite3'
import pg from 'pg'
import { classifyDbError, isTransient } from '../../src/history/transient.js'
import { stopTestDatabases, testDatabase } from './pg.js'

const dir = mkdtempSync(join(tmpdir(), 'ethp2p-transient-'))
after(async () => {
  await stopTestDatabases()
  rmSync(dir, { recursive: true, force: true })
})

/** the error a call throws (the test fails when it does not throw) */
async function thrown(f: () => unknown): Promise<unknown> {
  try {
    await f()
  } catch (err) {
    return err
  }
  return assert.fail('expected the call to throw')
}

/** a loopback port nobody listens on */
async function closedPort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1')
  await new Promise((r) => s.once('listening', r))
  const port = (s.address() as { port: number }).port
  await new Promise((r) => s.close(r))
  return port
}

describe('classifyDbError', () => {
  it('a refused connection (pg, localhost over IPv4 and IPv6 too) is unreachable', async () => {
    const port = await closedPort()
    for (const host of ['127.0.0.1', 'localhost']) {
      const pool = new pg.Pool({ connectionString: `postgres://postgres@${host}:${port}/x`, max: 1 })
      try {
        const err = await thrown(() => pool.query('SELECT 1'))
        assert.equal(classifyDbError(err), 'unreachable', String(err))
      } finally {
        await pool.end()
      }
    }
  })

  it('a server terminating the connection (57P01, then "Connection terminated") is unreachable; a syntax or constraint error is fatal', async () => {
    const url = await testDatabase()
    const victim = new pg.Client({ connectionString: url })
    const admin = new pg.Client({ connectionString: url })
    await victim.connect()
    await admin.connect()
    victim.on('error', () => {})
    try {
      const pid = (await victim.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid
      const pending = thrown(() => victim.query('SELECT pg_sleep(30)'))
      // the sleep is under way before the backend is terminated
      for (let i = 0; i < 100; i++) {
        const r = await admin.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND query LIKE 'SELECT pg_sleep%'", [pid])
        if (r.rowCount) break
        await new Promise((res) => setTimeout(res, 20))
      }
      await admin.query('SELECT pg_terminate_backend($1)', [pid])
      const err = (await pending) as { code?: string; message: string }
      assert.equal(err.code, '57P01')
      assert.equal(classifyDbError(err), 'unreachable')
      const after = await thrown(() => victim.query('SELECT 1'))
      assert.equal(classifyDbError(after), 'unreachable', String(after))

      const syntax = await thrown(() => admin.query('SELEC 1'))
      assert.equal((syntax as { code: string }).code, '42601')
      assert.equal(classifyDbError(syntax), 'fatal')
      await admin.query('CREATE TABLE u (k int PRIMARY KEY)')
      await admin.query('INSERT INTO u VALUES (1)')
      const dup = await thrown(() => admin.query('INSERT INTO u VALUES (1)'))
      assert.equal((dup as { code: string }).code, '23505')
      assert.equal(isTransient(dup), false)
    } finally {
      await admin.end()
      await victim.end().catch(() => {})
    }
  })

  it('SQLite: a file locked by another connection is busy, a full one short of resources; constraint and syntax errors are fatal', () => {
    const file = join(dir, 'a.sqlite')
    const a = new Database(file)
    const b = new Database(file)
    try {
      a.pragma('journal_mode = WAL')
      a.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)')
      b.pragma('busy_timeout = 0')
      a.exec('BEGIN EXCLUSIVE')
      const busy = (() => {
        try {
          b.exec("INSERT INTO t (v) VALUES ('x')")
        } catch (err) {
          return err
        }
        return assert.fail('the locked file took the write')
      })()
      a.exec('COMMIT')
      assert.equal((busy as { code: string }).code, 'SQLITE_BUSY')
      assert.equal(classifyDbError(busy), 'busy')

      const pages = Number(b.pragma('page_count', { simple: true }))
      b.pragma(`max_page_count = ${pages}`)
      const full = (() => {
        try {
          b.prepare('INSERT INTO t (v) VALUES (?)').run('y'.repeat(100_000))
        } catch (err) {
          return err
        }
        return assert.fail('the full file took the write')
      })()
      assert.equal((full as { code: string }).code, 'SQLITE_FULL')
      assert.equal(classifyDbError(full), 'resources')

      b.exec('INSERT INTO t (k, v) VALUES (1, null)')
      const constraint = (() => {
        try {
          b.exec('INSERT INTO t (k, v) VALUES (1, null)')
        } catch (err) {
          return err
        }
        return assert.fail('a duplicate key went in')
      })()
      assert.match((constraint as { code: string }).code, /^SQLITE_CONSTRAINT/)
      assert.equal(classifyDbError(constraint), 'fatal')
      assert.equal(classifyDbError((() => {
        try {
          b.exec('SELEC 1')
        } catch (err) {
          return err
        }
        return undefined
      })()), 'fatal')
    } finally {
      b.close()
      a.close()
    }
  })

  it('looks through causes and aggregated errors; anything without a known code or message is fatal', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })
    assert.equal(classifyDbError(new Error('migration failed', { cause: refused })), 'unreachable')
    assert.equal(classifyDbError(new AggregateError([new Error('x'), refused])), 'unreachable')
    assert.equal(classifyDbError(Object.assign(new Error('disk full'), { code: '53100' })), 'resources')
    assert.equal(classifyDbError(Object.assign(new Error('could not serialize'), { code: '40001' })), 'busy')
    assert.equal(classifyDbError(Object.assign(new Error('no space'), { code: 'ENOSPC' })), 'resources')
    assert.equal(classifyDbError(Object.assign(new Error('getaddrinfo EAI_AGAIN db'), { code: 'EAI_AGAIN' })), 'unreachable')
    assert.equal(classifyDbError(Object.assign(new Error('getaddrinfo ENOTFOUND db.typo'), { code: 'ENOTFOUND' })), 'fatal')
    for (const bug of [new TypeError('x is undefined'), 'a string', undefined, null, 42, { code: 42 }, Object.assign(new Error('no column'), { code: '42703' })]) assert.equal(classifyDbError(bug), 'fatal', String(bug))
    // a cause chain that loops ends
    const a: Error & { cause?: unknown } = new Error('a')
    a.cause = a
    assert.equal(classifyDbError(a), 'fatal')
  })
})
