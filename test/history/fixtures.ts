/**
 * What the history tests share: both engines (SQLite in a temp file removed after the file's tests, a
 * real PostgreSQL from pg.ts), a raw Kysely to lay down an older schema, and a record factory.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after } from 'node:test'
import Database from 'better-sqlite3'
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely'
import pg from 'pg'
import type { DbSpec } from '../../src/history/db.js'
import type { HistoryRecord } from '../../src/history/visit.js'
import { stopTestDatabases, testDatabase } from './pg.js'

/** the engines to run a history test on: [name, a fresh database of it] */
export function historyEngines(prefix: string): [string, () => Promise<DbSpec>][] {
  const dir = mkdtempSync(join(tmpdir(), `ethp2p-${prefix}-`))
  after(async () => {
    await stopTestDatabases()
    rmSync(dir, { recursive: true, force: true })
  })
  let files = 0
  return [
    ['sqlite', async () => ({ engine: 'sqlite', file: join(dir, `${files++}.sqlite`) })],
    ['postgres', async () => ({ engine: 'postgres', url: await testDatabase() })],
  ]
}

/** a Kysely straight on the database, no migrations run: to build the schema an older release left */
export function rawDb(s: DbSpec): Kysely<unknown> {
  return s.engine === 'sqlite'
    ? new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(s.file) }) })
    : new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: s.url, max: 1 }) }) })
}

/** the tests' first crawl time */
export const T0 = Date.UTC(2025, 0, 1)
/** a 128-hex public key of one repeated character */
export const key = (c: string): string => c.repeat(128)

/** a record as the crawl writes it, seen at T0 */
export function rec(id: string, answered: boolean, extra: Partial<HistoryRecord> = {}): HistoryRecord {
  const when = new Date(T0).toISOString()
  return { id, ip: '10.0.0.1', udp: 30303, tcp: 30303, firstSeen: when, lastSeen: when, answered, eth2: false, ...extra }
}
