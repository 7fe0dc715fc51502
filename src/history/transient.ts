/**
 * Which database failures pass by themselves (the server is down or restarting, the SQLite file is
 * locked by another writer, the disk is full) and which are bugs (a constraint or syntax error, a
 * wrong type): the monitor spools and retries the first kind and stops loudly on the second. Pure:
 * it reads the error's `code` (Node's errno names, PostgreSQL's SQLSTATE, SQLite's result codes), the
 * few messages pg throws without one, and the causes and aggregated errors underneath.
 */

/**
 * How a database call failed: `unreachable` (no connection, or the server went away), `busy` (another
 * writer holds a lock; the server asked for a retry), `resources` (disk full, out of memory, I/O
 * error), or `fatal`: anything else, which retrying will not mend.
 */
export type DbErrorClass = 'unreachable' | 'busy' | 'resources' | 'fatal'

/**
 * Node's socket errno names: the server cannot be reached now. Not ENOTFOUND: a host name that does
 * not resolve is a mistake in --db more often than an outage (EAI_AGAIN is the resolver's "try again").
 */
const NET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH', 'ENETDOWN', 'EAI_AGAIN', 'EADDRNOTAVAIL'])
/** pg's own errors carry no code; these messages all mean the connection is gone or never came */
const PG_CONNECTION_MESSAGES = /^(Connection terminated|timeout exceeded when trying to connect|timeout expired|Query read timeout|Client has encountered a connection error|Client was closed and is not queryable)/

/** SQLSTATE classes and codes: 08 connection exception, 57P01–57P03 shutdown / not yet up */
function pgClass(code: string): DbErrorClass | undefined {
  if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '57P05') return 'unreachable'
  // serialization failure, deadlock, lock not available, too many connections, statement timeout
  if (code === '40001' || code === '40P01' || code === '55P03' || code === '53300' || code === '57014') return 'busy'
  // 53: insufficient resources (disk full 53100, out of memory 53200); 58: system error (I/O)
  if (code.startsWith('53') || code.startsWith('58')) return 'resources'
  return undefined
}

function sqliteClass(code: string): DbErrorClass | undefined {
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED') || code === 'SQLITE_PROTOCOL') return 'busy'
  if (code === 'SQLITE_FULL' || code === 'SQLITE_NOMEM' || code.startsWith('SQLITE_IOERR')) return 'resources'
  return undefined
}

function classOf(err: unknown, depth: number): DbErrorClass {
  if (typeof err !== 'object' || err === null || depth > 8) return 'fatal'
  const { code, message, cause, errors } = err as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown }
  if (typeof code === 'string') {
    if (NET_CODES.has(code)) return 'unreachable'
    if (code === 'ENOSPC' || code === 'EIO' || code === 'ENOMEM') return 'resources'
    const known = code.startsWith('SQLITE_') ? sqliteClass(code) : /^[0-9A-Z]{5}$/.test(code) ? pgClass(code) : undefined
    if (known !== undefined) return known
  }
  if (typeof message === 'string' && PG_CONNECTION_MESSAGES.test(message)) return 'unreachable'
  // wrappers (Kysely's migration error, pg-pool's timeout, Node's AggregateError of IPv4 and IPv6 tries)
  if (cause !== undefined) {
    const c = classOf(cause, depth + 1)
    if (c !== 'fatal') return c
  }
  if (Array.isArray(errors)) for (const e of errors) if (classOf(e, depth + 1) !== 'fatal') return classOf(e, depth + 1)
  return 'fatal'
}

/** Classify a failed database call. */
export function classifyDbError(err: unknown): DbErrorClass {
  return classOf(err, 0)
}

/** Will trying the same call again later likely succeed? (every class but `fatal`) */
export function isTransient(err: unknown): boolean {
  return classifyDbError(err) !== 'fatal'
}
