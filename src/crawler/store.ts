/**
 * Crawl results in the datadir (LMDB, msgpack values, one entry per node keyed by its public key), so
 * a later crawl starts from what this one found and `--since DIR` can compare two crawls.
 * Each node keeps geth's node-set bookkeeping: a score that grows by one per crawl the node answers
 * and halves when it does not, first and last response, last check. With --dial it also keeps what the
 * node's latest RLPx dial learnt (client, caps, Status, how it ended), so `--since` sees client upgrades.
 */
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { open as openLmdb, type RootDatabase } from 'lmdb'
import { notDialled, type DialInfo } from './dialer.js'
import type { CrawlDiff, CrawlRecord, PreviousNode, StoredDial, StoredNode } from './record.js'

const FILE = 'crawl.mdb'

/** A crawl store that cannot be opened or read. */
export class CrawlStoreError extends Error {
  override readonly name = 'CrawlStoreError'
}

/** the DialInfo fields taken over as they are; the dial's error comes as the record's dialError */
const DIAL_FIELDS = [
  'clientId',
  'client',
  'caps',
  'listenPort',
  'p2pVersion',
  'ethVersion',
  'networkId',
  'forkId',
  'chain',
  'genesis',
  'head',
  'latestBlock',
  'earliestBlock',
  'td',
  'headNumber',
  'headHash',
  'headTime',
  'headError',
  'disconnect',
  'inbound',
] as const satisfies readonly (keyof DialInfo)[]

// a field added to DialInfo and not to DIAL_FIELDS would silently never be stored: fail the build instead
type Unlisted = Exclude<keyof DialInfo, (typeof DIAL_FIELDS)[number] | 'error'>
const allListed: [Unlisted] extends [never] ? true : Unlisted = true
void allListed

function copyField<K extends keyof DialInfo>(from: DialInfo, to: DialInfo, k: K): void {
  const v = from[k]
  if (v !== undefined) to[k] = v
}

/**
 * What a record says about its node's dial, or undefined when it was not dialled. "not dialled" alone
 * (queue full, crawl over) learnt nothing about the node, so it does not replace an earlier dial.
 */
function dialOf(r: CrawlRecord, dialledAt: number): StoredDial | undefined {
  const error = r.dialError
  const failed = error !== undefined && !notDialled(error)
  if (!failed && !DIAL_FIELDS.some((k) => r[k] !== undefined)) return undefined
  const d: StoredDial = { dialledAt }
  for (const k of DIAL_FIELDS) copyField(r, d, k)
  if (error !== undefined) d.error = error
  return d
}

/** The crawl results of a `--datadir` in LMDB: each node's latest record and dial, kept across crawls. */
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

  /** seeds for a resumed crawl, saying whether each answered last time (those that did not go last) */
  previous(): PreviousNode[] {
    const out: PreviousNode[] = []
    for (const s of this.all()) out.push({ id: s.id, ip: s.ip, udp: s.udp, tcp: s.tcp, firstSeen: s.firstSeen, answered: s.answered })
    return out
  }

  /** Merge one crawl's record (with --dial, its dial's fields too) in (the write is queued; `flush()` waits for it). */
  put(r: CrawlRecord): Promise<boolean> {
    const old = this.db.get(r.id)
    const now = Date.parse(r.lastSeen)
    // records reach the store as soon as their dial is over: the put time is the dial's, lastSeen is discovery's
    const checked = Date.now()
    const s: StoredNode = {
      id: r.id,
      ip: r.ip,
      udp: r.udp,
      tcp: r.tcp,
      firstSeen: Math.min(old?.firstSeen ?? Infinity, Date.parse(r.firstSeen)),
      lastCheck: checked,
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
    // a node not dialled this time keeps its last dial; a new dial replaces it whole, so no stale field outlives it
    const dial = dialOf(r, checked) ?? old?.dial
    if (dial !== undefined) s.dial = dial
    return this.db.put(r.id, s)
  }

  async flush(): Promise<void> {
    await this.db.flushed
  }

  async close(): Promise<void> {
    await this.db.close()
  }
}

/** a client upgrade is what `--since` should show; a crawl that got no Hello says nothing about it */
function clientChanged(before: string | undefined, now: string | undefined): boolean {
  return before !== undefined && now !== undefined && before !== now
}

/** what `--since` needs of a node from the earlier crawl */
export type EarlierNode = Pick<StoredNode, 'answered' | 'seq' | 'ip' | 'udp' | 'tcp'> & { clientId?: string }

/**
 * An earlier crawl's store, copied into memory. The copy is what makes `--since` safe when it names
 * the datadir this crawl writes into: compared live, the crawl would be compared with itself.
 */
export function snapshotCrawl(earlier: CrawlStore): Map<string, EarlierNode> {
  const snap = new Map<string, EarlierNode>()
  for (const s of earlier.all()) {
    const e: EarlierNode = { answered: s.answered, ip: s.ip, udp: s.udp, tcp: s.tcp }
    if (s.seq !== undefined) e.seq = s.seq
    if (s.dial?.clientId !== undefined) e.clientId = s.dial.clientId
    snap.set(s.id, e)
  }
  return snap
}

/** Compare this crawl's records against a snapshot of an earlier crawl. */
export function compareCrawls(current: Iterable<CrawlRecord>, earlier: ReadonlyMap<string, EarlierNode>): CrawlDiff {
  const diff: CrawlDiff = { new: [], gone: [], changed: [], same: 0 }
  const answeredNow = new Set<string>()
  for (const r of current) {
    if (!r.answered) continue
    answeredNow.add(r.id)
    const old = earlier.get(r.id)
    if (!old?.answered) diff.new.push(r.id)
    else if (old.seq !== r.seq || old.ip !== r.ip || old.udp !== r.udp || old.tcp !== r.tcp || clientChanged(old.clientId, r.clientId)) diff.changed.push(r.id)
    else diff.same++
  }
  for (const [id, old] of earlier) if (old.answered && !answeredNow.has(id)) diff.gone.push(id)
  return diff
}
