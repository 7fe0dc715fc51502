/**
 * Opening a history the commands only read or maintain (`stats`, `history prune`, `nodeset filter
 * sqlite:…`): a bad spec is a bad argument (exit 2), and a SQLite file that is not there is a wrong
 * path, not an empty history to create.
 */
import { existsSync } from 'node:fs'
import { InvalidArgumentError } from 'commander'
import { HistoryError, openHistory, type DbSpec, type History } from '../history/db.js'

/** `spec()` parses the user's words (throwing HistoryError on bad ones); the history it names must exist. */
export async function openExistingHistory(spec: () => DbSpec, opts: { poolSize?: number } = {}): Promise<History> {
  let s: DbSpec
  try {
    s = spec()
  } catch (err) {
    throw err instanceof HistoryError ? new InvalidArgumentError(err.message) : err
  }
  if (s.engine === 'sqlite' && !existsSync(s.file)) throw new InvalidArgumentError(`no history at ${s.file} (give --db or --datadir)`)
  return openHistory(s, opts).catch((err: unknown) => {
    throw err instanceof HistoryError && err.code === 'BAD_DB_SPEC' ? new InvalidArgumentError(err.message) : err
  })
}
