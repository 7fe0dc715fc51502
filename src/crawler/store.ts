/**
 * Crawl results in the datadir (LMDB, msgpack values, one entry per node keyed by its public key), so
 * a later crawl starts from what this one found and `--since DIR` can compare two crawls.
 * Each node keeps geth's node-set bookkeeping: a score that grows by one per crawl the node answers
 * and halves when it does not, first and last response, last check.
 */
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { open as openLmdb, type RootDatabase } from 'lmdb'
import type { CrawlRecord, PreviousNode } from './crawl.js'

const FILE = 'crawl.mdb'

export class CrawlStoreError extends Error {
  override readonly name = 'CrawlStoreError'
}

/** what the store keeps of a node across crawls */
export interface StoredNode {
  id: string
  ip: string
  udp: number
  tcp: number
  enr?: string
  seq?: number
  /** ms since the epoch */
  firstSeen: number
  firstResponse?: number
  lastResponse?: number
  lastCheck: number
  score: number
  answered: boolean
}

export class CrawlStore {
  private constructor(private readonly db: RootDatabase<StoredNode, string>) {}

  /** Open (create unless read-only) the store of `datadir`. */
  static open(datadir: string, opts: { readOnly?: boolean } = {}): CrawlStore {
    const path = join(datadir, FILE)
    if (opts.readOnly && !existsSync(path)) throw new CrawlStoreError(`no crawl results in ${datadir}`)
    if (!opts.readOnly) mkdirSync(datadir, { recursive: true })
    try {
      return new CrawlStore(openLmdb<StoredNode, string>({ path, encoding: 'msgpack', readOnly: opts.readOnly ?? false }))
    } catch (err) {
      throw new CrawlStoreError(`cannot open ${path}: ${(err as Error).message}`)
    }
  }

  get size(): number {
    return this.db.getCount()
  }

  get(id: string): StoredNode | undefined {
    return this.db.get(id)
  }

  *all(): Generator<StoredNode> {
    for (const { value } of this.db.getRange()) yield value
  }

  /** seeds for a resumed crawl: nodes that answered once first, the rest after */
  previous(): PreviousNode[] {
    const answered: PreviousNode[] = []
    const rest: PreviousNode[] = []
    for (const s of this.all()) (s.answered ? answered : rest).push({ id: s.id, ip: s.ip, udp: s.udp, tcp: s.tcp, firstSeen: s.firstSeen })
    return [...answered, ...rest]
  }

  /** Merge one crawl's record in (the write is queued; `flush()` waits for it). */
  put(r: CrawlRecord): Promise<boolean> {
    const old = this.db.get(r.id)
    const now = Date.parse(r.lastSeen)
    const s: StoredNode = {
      id: r.id,
      ip: r.ip,
      udp: r.udp,
      tcp: r.tcp,
      firstSeen: Math.min(old?.firstSeen ?? Infinity, Date.parse(r.firstSeen)),
      lastCheck: Date.now(),
      score: r.answered ? (old?.score ?? 0) + 1 : Math.floor((old?.score ?? 0) / 2),
      answered: r.answered,
    }
    // a node that did not answer this time keeps the record it sent before
    const enr = r.enr ?? old?.enr
    const seq = r.seq ?? old?.seq
    if (enr !== undefined) s.enr = enr
    if (seq !== undefined) s.seq = seq
    const firstResponse = old?.firstResponse ?? (r.answered ? now : undefined)
    const lastResponse = r.answered ? now : old?.lastResponse
    if (firstResponse !== undefined) s.firstResponse = firstResponse
    if (lastResponse !== undefined) s.lastResponse = lastResponse
    return this.db.put(r.id, s)
  }

  async flush(): Promise<void> {
    await this.db.flushed
  }

  async close(): Promise<void> {
    await this.db.close()
  }
}

export interface CrawlDiff {
  /** answered now, unknown to the earlier crawl or unanswered there */
  new: string[]
  /** answered in the earlier crawl, not now */
  gone: string[]
  /** answered in both, with another record sequence number or endpoint */
  changed: string[]
  /** answered in both, unchanged */
  same: number
}

/** Compare this crawl's records against an earlier crawl's store. */
export function compareCrawls(current: Iterable<CrawlRecord>, earlier: CrawlStore): CrawlDiff {
  const diff: CrawlDiff = { new: [], gone: [], changed: [], same: 0 }
  const answeredNow = new Set<string>()
  for (const r of current) {
    if (!r.answered) continue
    answeredNow.add(r.id)
    const old = earlier.get(r.id)
    if (!old?.answered) diff.new.push(r.id)
    else if (old.seq !== r.seq || old.ip !== r.ip || old.udp !== r.udp || old.tcp !== r.tcp) diff.changed.push(r.id)
    else diff.same++
  }
  for (const old of earlier.all()) if (old.answered && !answeredNow.has(old.id)) diff.gone.push(old.id)
  return diff
}
