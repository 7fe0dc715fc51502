/**
 * Opening the crawl history: `sqlite:FILE` (embedded, better-sqlite3) or `postgres://…` (pg), both
 * behind one Kysely instance so every query is written once. The schema is migrated on open.
 */
import { mkdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import type BetterSqlite3 from 'better-sqlite3'
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely'
import type Pg from 'pg'
import type { Engine } from './engine.js'
import { migrate } from './migrations.js'
import type { HistorySchema } from './schema.js'
import { isTransient } from './transient.js'

/** A parsed `--db` value. */
export type DbSpec = { engine: 'sqlite'; file: string } | { engine: 'postgres'; url: string }

/**
 * Why a history could not be used: a bad `--db`, a database that would not open, its driver missing,
 * or a crawl the database refused for a reason retrying will not mend (the monitor stops on it).
 */
export type HistoryErrorCode = 'BAD_DB_SPEC' | 'OPEN_FAILED' | 'NO_DRIVER' | 'WRITE_FAILED'

/** Opening or reading the history failed; `code` says how. */
export class HistoryError extends Error {
  override readonly name = 'HistoryError'
  constructor(
    readonly code: HistoryErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options)
  }
}

/** the database file `monitor` and `stats` use under --datadir when no --db is given */
export const DEFAULT_DB_FILE = 'history.sqlite'

/** `sqlite:FILE`, `postgres://…` / `postgresql://…`; throws HistoryError('BAD_DB_SPEC') otherwise. */
export function parseDbSpec(spec: string): DbSpec {
  if (spec.startsWith('sqlite:')) {
    const file = spec.slice('sqlite:'.length)
    if (file === '') throw new HistoryError('BAD_DB_SPEC', 'sqlite: needs a file name, e.g. sqlite:history.sqlite')
    return { engine: 'sqlite', file }
  }
  if (/^postgres(ql)?:\/\//.test(spec)) {
    let host = ''
    try {
      host = new URL(spec).hostname
    } catch {
      // reported below
    }
    if (host === '') throw new HistoryError('BAD_DB_SPEC', `${spec}: not a valid postgres:// URL (want postgres://user@host:port/db)`)
    return { engine: 'postgres', url: spec }
  }
  throw new HistoryError('BAD_DB_SPEC', `${spec}: want sqlite:FILE or postgres://user@host:port/db`)
}

/** The spec `monitor` and `stats` use: --db when given, else the SQLite file under --datadir (default '.'). */
export function dbSpecFor(db: string | undefined, datadir: string | undefined): DbSpec {
  return db !== undefined ? parseDbSpec(db) : { engine: 'sqlite', file: join(datadir ?? '.', DEFAULT_DB_FILE) }
}

/** An open history: the query builder, its engine, and close(). */
export interface History {
  readonly db: Kysely<HistorySchema>
  readonly engine: Engine
  close(): Promise<void>
}

const INT8_OID = 20
const NUMERIC_OID = 1700

/**
 * The drivers are optional peer dependencies, loaded on first use: a library user who never opens a
 * history installs neither (better-sqlite3 needs an install script or a compiler).
 */
async function driver<T>(name: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load()
  } catch (err) {
    throw new HistoryError('NO_DRIVER', `the history needs ${name}: npm install ${name}`, { cause: err })
  }
}

/**
 * pg returns 64-bit integers and numerics as strings (they may not fit a double); ours are ms
 * timestamps, counts and sums of counts, all far below 2^53, so they are read as numbers.
 */
function pgTypes(pg: typeof Pg) {
  return {
    getTypeParser(oid: number, format?: 'text' | 'binary') {
      if (oid === INT8_OID || oid === NUMERIC_OID) return (v: string) => Number(v)
      return pg.types.getTypeParser(oid, format as 'text')
    },
  }
}

/** Options of {@link openHistory}. */
export interface OpenHistoryOptions {
  /** PostgreSQL connections at most (default 4) */
  poolSize?: number
  /** SQLite: how long a write waits for another writer's lock before SQLITE_BUSY (default 10 s) */
  busyTimeoutMs?: number
}

/** a server that does not answer a connection attempt within this is reported as unreachable */
const PG_CONNECT_TIMEOUT_MS = 10_000
/** TCP keepalive on idle PostgreSQL connections, so a vanished server is noticed, not waited on */
const PG_KEEPALIVE_MS = 10_000

/** the query builder on the database named by `spec`, schema not yet migrated */
async function connect(spec: DbSpec, opts: OpenHistoryOptions): Promise<Kysely<HistorySchema>> {
  if (spec.engine === 'sqlite') {
    const Database = (await driver('better-sqlite3', () => import('better-sqlite3'))).default
    let sqlite: BetterSqlite3.Database
    try {
      if (spec.file !== ':memory:') mkdirSync(dirname(resolve(spec.file)), { recursive: true })
      sqlite = new Database(spec.file)
      // WAL: a reader (stats, the dashboard) never blocks the monitor's write, and a commit is durable
      // once it returns; NORMAL sync is crash-safe in WAL mode (a power cut may lose the last commit only)
      sqlite.pragma('journal_mode = WAL')
      sqlite.pragma('synchronous = NORMAL')
      sqlite.pragma('foreign_keys = ON')
      // another process writing (a second monitor, a stats run) waits up to 10 s instead of failing at once
      sqlite.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? 10_000))}`)
    } catch (err) {
      throw new HistoryError('OPEN_FAILED', `cannot open ${spec.file}: ${(err as Error).message}`, { cause: err })
    }
    return new Kysely<HistorySchema>({ dialect: new SqliteDialect({ database: sqlite }) })
  }
  const pg = (await driver('pg', () => import('pg'))).default
  const pool = new pg.Pool({
    connectionString: spec.url,
    max: opts.poolSize ?? 4,
    types: pgTypes(pg),
    connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS,
    keepAlive: true,
    keepAliveInitialDelayMillis: PG_KEEPALIVE_MS,
  })
  // a client losing its server must not crash the process, idle in the pool (the pool's 'error') or
  // checked out between a failed query and its release (the client's own): the query reports it
  pool.on('error', () => {})
  pool.on('connect', (client) => client.on('error', () => {}))
  return new Kysely<HistorySchema>({ dialect: new PostgresDialect({ pool }) })
}

/** a failed first migration, said plainly when it is the server that cannot be reached */
function openFailure(spec: DbSpec, err: unknown): unknown {
  if (err instanceof Error && err.name === 'MigrationError') {
    const cause = (err as Error & { cause?: Error }).cause
    if (cause && /ECONNREFUSED|ENOTFOUND|password|does not exist|timeout/i.test(cause.message)) {
      return new HistoryError('OPEN_FAILED', `cannot open ${describe(spec)}: ${cause.message}`, { cause })
    }
  }
  return err
}

/** Open (creating when needed) and migrate the history named by `spec`. */
export async function openHistory(spec: DbSpec, opts: OpenHistoryOptions = {}): Promise<History> {
  const db = await connect(spec, opts)
  try {
    await migrate(db as Kysely<unknown>, spec.engine)
  } catch (err) {
    await db.destroy().catch(() => {})
    throw openFailure(spec, err)
  }
  return { db, engine: spec.engine, close: () => db.destroy() }
}

/**
 * Open the history for a daemon that may start while its database is away (the monitor): as
 * {@link openHistory}, except that a transient failure of the migration (transient.ts: server down,
 * file locked) does not throw. `ready` migrates then, once: the monitor calls it before each use of
 * the database until it has succeeded. Anything else (a bad password, a missing database) throws here.
 */
export async function openHistoryWhenReachable(spec: DbSpec, opts: OpenHistoryOptions = {}): Promise<{ history: History; ready: () => Promise<void> }> {
  const db = await connect(spec, opts)
  let migrated: Promise<void> | undefined
  const ready = (): Promise<void> =>
    (migrated ??= migrate(db as Kysely<unknown>, spec.engine).catch((err: unknown) => {
      migrated = undefined
      throw err
    }))
  try {
    await ready()
  } catch (err) {
    if (!isTransient(err)) {
      await db.destroy().catch(() => {})
      throw openFailure(spec, err)
    }
  }
  return { history: { db, engine: spec.engine, close: () => db.destroy() }, ready }
}

/** the spec without a password, for messages */
export function describe(spec: DbSpec): string {
  if (spec.engine === 'sqlite') return `sqlite:${spec.file}`
  const u = new URL(spec.url)
  if (u.password) u.password = '***'
  return u.toString()
}
