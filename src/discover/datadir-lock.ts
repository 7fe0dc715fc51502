/**
 * An exclusive, process-lifetime lock on a directory: a `LOCK` file holding the owner's pid. Creation
 * is atomic (the pid is written to a private temp file, then hard-linked into place, so nobody ever
 * sees an empty lock). A lock whose pid is no longer running (the owner was killed) is stale and
 * taken over; a live owner makes acquisition fail with {@link DatadirLockedError}.
 *
 * Known limit: two processes taking over the same stale lock at the same instant can both succeed.
 */
import { closeSync, linkSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs'
import { join, resolve } from 'node:path'

/** The data directory is held by another live process (or by this one, opened twice). */
export class DatadirLockedError extends Error {
  override readonly name = 'DatadirLockedError'
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(`data directory ${dir} is in use by process ${pid} (remove ${join(dir, 'LOCK')} if that is not an ethp2p process)`)
  }
}

/** A held data directory lock. */
export interface DatadirLock {
  readonly path: string
  /** remove the lock file; idempotent */
  release(): void
}

/** lock paths this process holds, so a second lock in the same process fails like any other */
const held = new Set<string>()

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it exists but belongs to someone else
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Take the lock on `dir` (created if missing) or throw DatadirLockedError. */
export function lockDatadir(dir: string): DatadirLock {
  mkdirSync(dir, { recursive: true })
  const path = join(resolve(dir), 'LOCK')
  const tmp = join(resolve(dir), `LOCK.${process.pid}.tmp`)
  const fd = openSync(tmp, 'w')
  try {
    writeSync(fd, `${process.pid}\n`)
  } finally {
    closeSync(fd)
  }
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(tmp, path)
        break
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
      let owner: number
      try {
        owner = Number.parseInt(readFileSync(path, 'utf8'), 10)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue // released meanwhile
        throw err
      }
      // our own pid in a lock we do not hold: left by an earlier process that had the same pid
      const ours = owner === process.pid && !held.has(path)
      if (!ours && Number.isInteger(owner) && owner > 0 && alive(owner)) throw new DatadirLockedError(dir, owner)
      if (attempt > 2) throw new DatadirLockedError(dir, owner)
      try {
        unlinkSync(path) // stale: its owner is gone
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      }
    }
  } finally {
    unlinkSync(tmp)
  }
  held.add(path)
  return {
    path,
    release() {
      if (!held.delete(path)) return
      try {
        unlinkSync(path)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      }
    },
  }
}
