/**
 * The monitor's spool: every finished crawl is put here, durably, before the database is asked to
 * store it, and removed only once the database has committed it. While the database is unreachable
 * the crawls wait here, oldest first; a monitor killed meanwhile finds them at its next start.
 *
 * One file per crawl, named `<start ms, 15 digits>-<key>.crawl.gz` so names sort in start order,
 * written atomically: to a temp file, fsync'd, renamed, and the directory fsync'd so the rename itself
 * survives a power cut. A temp file left by a kill mid-write is removed at open.
 *
 * Bounded: at most `maxCrawls` crawls and `maxBytes` bytes. When a new crawl would pass a bound, the
 * oldest spooled crawls are dropped first (each logged as an error): a long outage loses its oldest
 * crawls, never the newest. A single crawl bigger than `maxBytes` is still kept, alone.
 * Should the disk refuse the file (full, read-only), the crawl is held in memory under the same bounds
 * until it is written or the process ends.
 */
import { closeSync, fsyncSync, openSync } from 'node:fs'
import { mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from '../util/log.js'
import { decodeSpooled, encodeSpooled, type SpooledCrawl } from './spooled.js'

/** How much the spool holds at most. */
export interface SpoolLimits {
  /** spooled crawls at most */
  maxCrawls: number
  /** bytes of spooled (gzipped) crawls at most */
  maxBytes: number
}

/** The defaults: 1000 crawls (three weeks of `--every 30m`) or 1 GiB, whichever is reached first. */
export const DEFAULT_SPOOL_LIMITS: SpoolLimits = { maxCrawls: 1000, maxBytes: 2 ** 30 }

/** One crawl in the spool. */
export interface SpoolEntry {
  /** its file name (also its place in the order) */
  readonly name: string
  readonly startedAt: number
  readonly bytes: number
  /** the bytes, when the disk refused them and they are held in memory */
  readonly held?: Buffer
}

const SUFFIX = '.crawl.gz'
const NAME = /^(\d{15})-([0-9a-f-]{36})\.crawl\.gz$/

/** The directory of one vantage point's spool under a data directory: `DATADIR/spool/VANTAGE` (the name escaped for a file system). */
export function spoolDir(datadir: string, vantage: string): string {
  return join(datadir, 'spool', encodeURIComponent(vantage).replace(/\./g, '%2E').replace(/\*/g, '%2A'))
}

function fsyncDir(dir: string): void {
  // directories cannot be fsync'd on some platforms (Windows); the rename is still atomic there
  try {
    const fd = openSync(dir, 'r')
    try {
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
  } catch {
    // best effort, see above
  }
}

/** A directory of crawls waiting for the database, oldest first. */
export class Spool {
  private readonly entries: SpoolEntry[]
  private held = false

  private constructor(
    /** where the files live */
    readonly dir: string,
    private readonly limits: SpoolLimits,
    private readonly log: Logger,
    entries: SpoolEntry[],
  ) {
    this.entries = entries
  }

  /** Open (creating) the spool in `dir`: the crawls found there are the first to be written. */
  static async open(dir: string, log: Logger, limits: SpoolLimits = DEFAULT_SPOOL_LIMITS): Promise<Spool> {
    await mkdir(dir, { recursive: true })
    const entries: SpoolEntry[] = []
    for (const name of (await readdir(dir)).sort()) {
      if (name.endsWith('.tmp')) {
        // a put cut short by a kill: its crawl was never spooled (the put had not returned)
        await unlink(join(dir, name)).catch(() => {})
        continue
      }
      const m = NAME.exec(name)
      if (!m) continue
      entries.push({ name, startedAt: Number(m[1]), bytes: (await stat(join(dir, name))).size })
    }
    return new Spool(dir, limits, log, entries)
  }

  /** crawls waiting */
  get size(): number {
    return this.entries.length
  }

  /** bytes waiting */
  get bytes(): number {
    return this.entries.reduce((n, e) => n + e.bytes, 0)
  }

  /** the start of the newest crawl waiting (the schedule's fallback while the database cannot say) */
  newestStart(): number | undefined {
    return this.entries.at(-1)?.startedAt
  }

  /** the oldest crawl waiting: the next to write */
  oldest(): SpoolEntry | undefined {
    return this.entries[0]
  }

  /** the newest crawl waiting */
  newest(): SpoolEntry | undefined {
    return this.entries.at(-1)
  }

  /** Put a finished crawl in the spool; resolves once it is on disk (or, the disk refusing, held in memory). */
  async put(crawl: SpooledCrawl): Promise<SpoolEntry> {
    const data = encodeSpooled(crawl)
    const name = `${String(crawl.meta.startedAt).padStart(15, '0')}-${crawl.meta.key}${SUFFIX}`
    await this.makeRoom(data.length)
    let entry: SpoolEntry = { name, startedAt: crawl.meta.startedAt, bytes: data.length }
    try {
      await this.writeAtomically(name, data)
      this.held = false
    } catch (err) {
      if (!this.held) this.log.error({ err: (err as Error).message, dir: this.dir }, 'cannot write the spool: crawls are held in memory until they are stored')
      this.held = true
      entry = { ...entry, held: data }
    }
    this.entries.push(entry)
    return entry
  }

  /** Read a spooled crawl back; throws SpoolFormatError when its file is damaged. */
  async read(e: SpoolEntry): Promise<SpooledCrawl> {
    return decodeSpooled(e.held ?? (await readFile(join(this.dir, e.name))))
  }

  /** Take a crawl out of the spool (it is stored). */
  async remove(e: SpoolEntry): Promise<void> {
    const i = this.entries.indexOf(e)
    if (i >= 0) this.entries.splice(i, 1)
    if (e.held === undefined) await unlink(join(this.dir, e.name)).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)))
  }

  /** Set a damaged file aside as NAME.corrupt (for a person to look at) and out of the queue. */
  async setAside(e: SpoolEntry): Promise<string> {
    const i = this.entries.indexOf(e)
    if (i >= 0) this.entries.splice(i, 1)
    const to = join(this.dir, `${e.name}.corrupt`)
    if (e.held === undefined) await rename(join(this.dir, e.name), to)
    return to
  }

  private async makeRoom(incoming: number): Promise<void> {
    let bytes = this.bytes
    while (this.entries.length > 0 && (this.entries.length + 1 > this.limits.maxCrawls || bytes + incoming > this.limits.maxBytes)) {
      const old = this.entries[0]!
      bytes -= old.bytes
      await this.remove(old)
      this.log.error({ dropped: old.name, startedAt: new Date(old.startedAt).toISOString(), maxCrawls: this.limits.maxCrawls, maxBytes: this.limits.maxBytes }, 'spool full: the oldest spooled crawl is dropped')
    }
  }

  private async writeAtomically(name: string, data: Buffer): Promise<void> {
    const tmp = join(this.dir, `${name}.tmp`)
    const fh = await open(tmp, 'w')
    try {
      await fh.writeFile(data)
      await fh.sync()
    } catch (err) {
      await fh.close().catch(() => {})
      await unlink(tmp).catch(() => {})
      throw err
    }
    await fh.close()
    await rename(tmp, join(this.dir, name))
    fsyncDir(this.dir)
  }
}
