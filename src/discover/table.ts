/**
 * The Kademlia node table (geth's p2p/discover table.go + table_reval.go), independent of the wire
 * format: it reaches the network only through {@link TableTransport}, so discv4 and discv5 share it.
 *
 * 17 buckets cover log distances 240..256 from our ID (anything closer lands in the first bucket),
 * each holding 16 entries and 10 replacements, with at most 2 addresses per /24 in a bucket and 10 per
 * /24 in the table. Entries are re-pinged on two randomised schedules: new or failing nodes on the fast
 * list, proven ones on a slower one; a dead entry is replaced by a random replacement. The table
 * refreshes itself with a self lookup plus three random lookups at start and every ~30 minutes.
 */
import { EventEmitter } from 'node:events'
import { randomInt } from 'node:crypto'
import { backend } from '../crypto/backend.js'
import { hex } from '../crypto/bytes.js'
import type { Node } from '../enode/node.js'
import { DistinctNetSet, isLAN, isUnspecified, parseIP } from '../util/netutil.js'
import { BUCKET_MIN_DISTANCE, BUCKET_SIZE, logDistance, MAX_REPLACEMENTS, N_BUCKETS } from './kademlia.js'

/** addresses per /24 in one bucket */
export const BUCKET_IP_LIMIT = 2
/** addresses per /24 in the whole table */
export const TABLE_IP_LIMIT = 10
/** prefix length of the subnet the IP limits count in */
export const IP_SUBNET = 24
/** failed FINDNODEs after which a node is dropped from the table */
export const MAX_FINDNODE_FAILURES = 5
/** nodes read from the node DB at start */
export const SEED_COUNT = 30
/** a DB node older than this is no seed */
export const SEED_MAX_AGE_MS = 5 * 24 * 3600_000
/** mean revalidation period of the fast list */
export const DEFAULT_PING_INTERVAL_MS = 3_000
/** table refresh period */
export const DEFAULT_REFRESH_INTERVAL_MS = 30 * 60_000
/** the slow revalidation list is pinged this many times less often than the fast one */
const SLOW_REVALIDATION_FACTOR = 3
/** a node proven live this many times is worth keeping as a seed in the node DB */
const SEED_LIVENESS_CHECKS = 5

/**
 * What a lookup asks for. discv4 puts a 64-byte public-key-shaped `key` on the wire and measures
 * distance to keccak256(key); discv5 would use the 32-byte ID as both. The table never reads `key`.
 */
export interface LookupTarget {
  readonly key: Uint8Array
  /** 32-byte ID distances are measured to */
  readonly id: Uint8Array
}

/**
 * Everything the table and lookups need from the network. Requests reject on timeout or any failure;
 * `signal` aborts a request when the table closes or a lookup is cancelled.
 */
export interface TableTransport {
  /** our own node; its ID decides bucket placement */
  readonly self: Node
  /** liveness check; resolves with the peer's ENR sequence number when it reported one */
  ping(n: Node, signal?: AbortSignal): Promise<{ seq?: bigint }>
  /** ask `n` for the nodes it knows closest to `target` (one FINDNODE round trip, all reply packets) */
  findnode(n: Node, target: LookupTarget, signal?: AbortSignal): Promise<Node[]>
  /** a fresh random lookup target for refresh and random walks */
  randomTarget(): LookupTarget
  /** the target whose lookup finds our own neighbours */
  selfTarget(): LookupTarget
  /**
   * an iterative lookup over this table (discover/lookup.ts's `lookup`), run for refreshes: the
   * transport owns it so the table never imports the lookup that walks it
   */
  lookup(target: LookupTarget, signal?: AbortSignal): Promise<Node[]>
  /** fetch `n`'s current record; called when a pong announces a higher sequence number than known */
  requestENR?(n: Node, signal?: AbortSignal): Promise<{ node: Node; seq: bigint }>
}

/** The part of the node database the table uses (implemented by NodeDB). */
export interface TableDB {
  /** up to `n` random nodes proven live within `maxAgeMs` */
  querySeeds(n: number, maxAgeMs: number): Node[]
  /** FINDNODE failures counted for the node at `ip` */
  findFails(id: Uint8Array, ip: string): number
  /** store that count */
  updateFindFails(id: Uint8Array, ip: string, fails: number): Promise<void>
  /** remember a node (seeds come from these) */
  updateNode(n: Node): Promise<void>
}

/** What a {@link Table} reaches the network and the node DB through, and its schedules. */
export interface TableOptions {
  transport: TableTransport
  db: TableDB
  /** fallback contacts when the table and the DB have nothing */
  bootnodes?: Node[]
  /** mean fast-list revalidation period (default 3 s); the slow list uses 3× this */
  pingIntervalMs?: number
  /** refresh period (default 30 min; each run is scheduled at a random point in [½, 1] of it) */
  refreshIntervalMs?: number
  /** apply the /24 limits to loopback and LAN addresses too (geth exempts them; tests enforce them) */
  ipLimitsOnLAN?: boolean
}

/** The events a {@link Table} emits. */
export interface TableEvents {
  /** a node became a bucket entry (not a replacement) */
  added: [node: Node, bucket: number]
  /** a node left the bucket entries */
  removed: [node: Node, bucket: number]
  /** a background DB write failed; the table keeps running */
  dbError: [err: unknown]
}

/** A lookup or refresh asked of a table that was closed. */
export class TableClosedError extends Error {
  override readonly name = 'TableClosedError'
  constructor() {
    super('table closed')
  }
}

/** A bucket entry (or replacement) with its liveness bookkeeping. */
interface Entry {
  node: Node
  seq: bigint
  livenessChecks: number
  isValidatedLive: boolean
  revalList: RevalList | null
}

interface Bucket {
  readonly index: number
  entries: Entry[]
  replacements: Entry[]
  readonly ips: DistinctNetSet
}

/** One revalidation schedule: a set of entries and the time of its next ping. */
class RevalList {
  nodes: Entry[] = []
  nextTime = Infinity
  constructor(readonly intervalMs: number) {}

  schedule(now: number): void {
    this.nextTime = now + Math.random() * this.intervalMs
  }
  push(e: Entry, now: number): void {
    this.nodes.push(e)
    if (this.nextTime === Infinity) this.schedule(now)
    e.revalList = this
  }
  remove(e: Entry): void {
    const i = this.nodes.indexOf(e)
    if (i >= 0) this.nodes.splice(i, 1)
    if (this.nodes.length === 0) this.nextTime = Infinity
    e.revalList = null
  }
  /** a random entry not already being pinged; a few tries only, so a busy list yields nothing */
  pick(busy: Set<string>): Entry | undefined {
    for (let i = 0; i < this.nodes.length * 3; i++) {
      const e = this.nodes[randomInt(this.nodes.length)]!
      if (!busy.has(e.node.idHex)) return e
    }
    return undefined
  }
}

/**
 * The Kademlia node table, as geth keeps it: 17 buckets of 16 entries and 10 replacements over log
 * distances 240–256, at most 2 addresses per /24 in a bucket and 10 in the table, entries re-pinged on a
 * fast and a slow schedule, a self lookup and three random ones at start and every ~30 minutes; it
 * reaches the network through any {@link TableTransport}.
 */
export class Table extends EventEmitter<TableEvents> {
  readonly transport: TableTransport
  private readonly db: TableDB
  private readonly nursery: Node[]
  private readonly buckets: Bucket[] = []
  private readonly ips = new DistinctNetSet(IP_SUBNET, TABLE_IP_LIMIT)
  private readonly ipLimitsOnLAN: boolean
  private readonly refreshIntervalMs: number
  private readonly fast: RevalList
  private readonly slow: RevalList
  /** IDs with a revalidation ping in flight */
  private readonly revalBusy = new Set<string>()
  private readonly abort = new AbortController()
  private revalTimer: NodeJS.Timeout | undefined
  private refreshTimer: NodeJS.Timeout | undefined
  private refreshing: Promise<void> | undefined
  private initDone = false
  private readonly initWaiters: (() => void)[] = []
  private started = false
  /** packed IDs for closest(): rebuilt lazily after any change of entries or liveness */
  private packed: { all: Entry[]; allIds: Uint8Array; live: Entry[]; liveIds: Uint8Array } | undefined

  constructor(opts: TableOptions) {
    super()
    this.transport = opts.transport
    this.db = opts.db
    this.ipLimitsOnLAN = opts.ipLimitsOnLAN ?? false
    this.refreshIntervalMs = opts.refreshIntervalMs ?? DEFAULT_REFRESH_INTERVAL_MS
    const ping = opts.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS
    this.fast = new RevalList(ping)
    this.slow = new RevalList(ping * SLOW_REVALIDATION_FACTOR)
    for (const n of opts.bootnodes ?? []) {
      if (!parseIP(n.ip)) throw new TypeError(`bootnode ${n.idHex} has an invalid IP ${n.ip}`)
    }
    this.nursery = [...(opts.bootnodes ?? [])]
    for (let i = 0; i < N_BUCKETS; i++) {
      this.buckets.push({ index: i, entries: [], replacements: [], ips: new DistinctNetSet(IP_SUBNET, BUCKET_IP_LIMIT) })
    }
  }

  /** this node, as the transport announces it */
  get self(): Node {
    return this.transport.self
  }

  /** close() was called */
  get closed(): boolean {
    return this.abort.signal.aborted
  }

  /** aborted when the table closes; lookups started by the table use it */
  get signal(): AbortSignal {
    return this.abort.signal
  }

  /** Load seeds and begin the first refresh; revalidation and periodic refresh run until close(). */
  start(): void {
    if (this.started || this.closed) return
    this.started = true
    void this.refresh()
  }

  /** Stop timers and abort in-flight pings and lookups. */
  close(): void {
    if (this.closed) return
    this.abort.abort(new TableClosedError())
    clearTimeout(this.revalTimer)
    clearTimeout(this.refreshTimer)
    this.markInitDone() // release waiters
  }

  /** whether the first refresh has completed (inbound nodes are refused until then) */
  get ready(): boolean {
    return this.initDone
  }

  /** resolves once the first refresh has completed (or the table closed) */
  waitInit(): Promise<void> {
    if (this.initDone) return Promise.resolve()
    return new Promise((resolve) => this.initWaiters.push(resolve))
  }

  /**
   * Run a refresh (seeds, a self lookup, three random lookups) unless one is already running, whose
   * promise is then shared.
   */
  refresh(): Promise<void> {
    if (this.closed) return Promise.resolve()
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = undefined
      this.markInitDone()
      this.scheduleRefresh()
    })
    return this.refreshing
  }

  private async doRefresh(): Promise<void> {
    this.loadSeedNodes()
    const signal = this.abort.signal
    try {
      await this.transport.lookup(this.transport.selfTarget(), signal)
      // Kademlia would refresh the least recently used bucket, but a target inside a chosen bucket
      // needs a preimage of its ID; random targets spread over the buckets instead.
      for (let i = 0; i < 3; i++) await this.transport.lookup(this.transport.randomTarget(), signal)
    } catch (err) {
      if (!signal.aborted) throw err
    }
  }

  private scheduleRefresh(): void {
    if (this.closed) return
    clearTimeout(this.refreshTimer)
    const half = this.refreshIntervalMs / 2
    this.refreshTimer = setTimeout(() => void this.refresh(), half + Math.random() * half)
    this.refreshTimer.unref()
  }

  private markInitDone(): void {
    this.initDone = true
    for (const w of this.initWaiters.splice(0)) w()
  }

  private loadSeedNodes(): void {
    for (const n of [...this.db.querySeeds(SEED_COUNT, SEED_MAX_AGE_MS), ...this.nursery]) this.addSeenNode(n)
  }

  // ---- queries ---------------------------------------------------------------------------------

  /** number of bucket entries */
  get size(): number {
    let n = 0
    for (const b of this.buckets) n += b.entries.length
    return n
  }

  /** all bucket entries, bucket by bucket */
  nodes(): Node[] {
    return this.buckets.flatMap((b) => b.entries.map((e) => e.node))
  }

  /** entries and replacements of one bucket (for inspection and tests) */
  bucketContents(index: number): { entries: Node[]; replacements: Node[] } {
    const b = this.buckets[index]
    if (!b) throw new RangeError(`bucket index ${index} out of range`)
    return { entries: b.entries.map((e) => e.node), replacements: b.replacements.map((e) => e.node) }
  }

  /** the bucket index a node ID belongs to */
  bucketIndex(id: Uint8Array): number {
    const d = logDistance(this.self.id, id)
    return d <= BUCKET_MIN_DISTANCE ? 0 : d - BUCKET_MIN_DISTANCE - 1
  }

  /** The bucket entry with node ID `id` (32 bytes), if any. */
  getNode(id: Uint8Array): Node | undefined {
    return this.find(this.buckets[this.bucketIndex(id)]!, hex(id))?.node
  }

  /**
   * The `k` entries closest to `target` (32-byte ID), nearest first. With `preferLive`, only entries
   * that answered a revalidation ping, unless there are none yet.
   */
  closest(target: Uint8Array, k: number, preferLive = false): Node[] {
    const p = this.packIds()
    const [set, ids] = preferLive && p.live.length > 0 ? [p.live, p.liveIds] : [p.all, p.allIds]
    return Array.from(backend.closest(target, ids, k), (i) => set[i]!.node)
  }

  private packIds(): NonNullable<Table['packed']> {
    if (this.packed) return this.packed
    const all = this.buckets.flatMap((b) => b.entries)
    const live = all.filter((e) => e.isValidatedLive)
    const pack = (es: Entry[]): Uint8Array => {
      const ids = new Uint8Array(es.length * 32)
      es.forEach((e, i) => ids.set(e.node.id, i * 32))
      return ids
    }
    this.packed = { all, allIds: pack(all), live, liveIds: pack(live) }
    return this.packed
  }

  // ---- insertion -------------------------------------------------------------------------------

  /**
   * Add a node learned from a lookup, the DB or the bootnodes, which may or may not be live: it goes
   * to the end of its bucket, or to the replacements when the bucket is full. Returns whether it became
   * a bucket entry.
   */
  addSeenNode(n: Node): boolean {
    return this.handleAdd(n, false, 0n)
  }

  /**
   * Add a node that just proved itself (it pinged us and we completed the bond). Refused until the
   * first refresh is done, so a flood of pings cannot fill an empty table. If the node is known, its
   * endpoint is updated. `seq` is the ENR sequence number its ping carried. Returns whether it became
   * a new bucket entry.
   */
  addVerifiedNode(n: Node, seq = 0n): boolean {
    if (!this.initDone) return false
    return this.handleAdd(n, true, seq)
  }

  private handleAdd(n: Node, inbound: boolean, seq: bigint): boolean {
    if (this.closed || n.idHex === this.self.idHex) return false
    const b = this.buckets[this.bucketIndex(n.id)]!
    const existing = this.find(b, n.idHex)
    if (existing) {
      if (inbound) this.updateEndpoint(b, existing, n, seq)
      return false
    }
    if (b.entries.length >= BUCKET_SIZE) {
      this.addReplacement(b, n)
      return false
    }
    // a replacement being promoted keeps its counted address
    const ri = b.replacements.findIndex((e) => e.node.idHex === n.idHex)
    if (ri >= 0) this.removeIP(b, b.replacements.splice(ri, 1)[0]!.node.ip)
    if (!this.addIP(b, n.ip)) return false
    const e: Entry = { node: n, seq, livenessChecks: 0, isValidatedLive: false, revalList: null }
    b.entries.push(e)
    this.entryAdded(b, e)
    return true
  }

  private addReplacement(b: Bucket, n: Node): void {
    if (b.replacements.some((e) => e.node.idHex === n.idHex)) return
    if (!this.addIP(b, n.ip)) return
    b.replacements.unshift({ node: n, seq: 0n, livenessChecks: 0, isValidatedLive: false, revalList: null })
    if (b.replacements.length > MAX_REPLACEMENTS) this.removeIP(b, b.replacements.pop()!.node.ip)
  }

  /** Move an entry to a new endpoint (if the IP limits allow); it must then prove itself again. */
  private updateEndpoint(b: Bucket, e: Entry, n: Node, seq: bigint): void {
    if (seq > e.seq) e.seq = seq
    const ipChanged = n.ip !== e.node.ip
    if (ipChanged) {
      this.removeIP(b, e.node.ip)
      if (!this.addIP(b, n.ip)) {
        this.addIP(b, e.node.ip)
        return
      }
    }
    const portChanged = n.udp !== e.node.udp
    e.node = n
    this.packed = undefined
    if (ipChanged || portChanged) {
      e.isValidatedLive = false
      this.moveTo(this.fast, e)
    }
  }

  private entryAdded(b: Bucket, e: Entry): void {
    this.packed = undefined
    this.fast.push(e, Date.now())
    this.scheduleRevalidation()
    this.emit('added', e.node, b.index)
  }

  /** Remove an entry; a random replacement, if any, takes its place. */
  private deleteEntry(b: Bucket, e: Entry): void {
    const i = b.entries.indexOf(e)
    if (i < 0) return
    b.entries.splice(i, 1)
    this.removeIP(b, e.node.ip)
    e.revalList?.remove(e)
    this.packed = undefined
    this.emit('removed', e.node, b.index)
    if (b.replacements.length === 0) return
    const r = b.replacements.splice(randomInt(b.replacements.length), 1)[0]!
    b.entries.push(r)
    this.entryAdded(b, r)
  }

  private find(b: Bucket, idHex: string): Entry | undefined {
    return b.entries.find((e) => e.node.idHex === idHex)
  }

  private addIP(b: Bucket, ip: string): boolean {
    const a = parseIP(ip)
    if (!a || isUnspecified(a)) return false
    if (!this.ipLimitsOnLAN && isLAN(ip)) return true
    if (!this.ips.add(ip)) return false
    if (!b.ips.add(ip)) {
      this.ips.remove(ip)
      return false
    }
    return true
  }

  private removeIP(b: Bucket, ip: string): void {
    if (!this.ipLimitsOnLAN && isLAN(ip)) return
    this.ips.remove(ip)
    b.ips.remove(ip)
  }

  // ---- findnode accounting ---------------------------------------------------------------------

  /**
   * Record the outcome of a FINDNODE to `n` (success = it returned nodes) and add what it returned.
   * After 5 consecutive failures the node is dropped, unless its bucket is nearly empty: a node
   * that stopped answering FINDNODE may still be our only contact in that range.
   */
  trackRequest(n: Node, success: boolean, found: Node[]): void {
    if (this.closed) return
    const fails = success ? 0 : this.db.findFails(n.id, n.ip) + 1
    this.db.updateFindFails(n.id, n.ip, fails).catch((err: unknown) => this.emit('dbError', err))
    const b = this.buckets[this.bucketIndex(n.id)]!
    if (fails >= MAX_FINDNODE_FAILURES && b.entries.length >= BUCKET_SIZE / 4) {
      const e = this.find(b, n.idHex)
      if (e) this.deleteEntry(b, e)
    }
    for (const f of found) this.addSeenNode(f)
  }

  // ---- revalidation ----------------------------------------------------------------------------

  private moveTo(list: RevalList, e: Entry): void {
    if (e.revalList === list) return
    e.revalList?.remove(e)
    list.push(e, Date.now())
    this.scheduleRevalidation()
  }

  private scheduleRevalidation(): void {
    if (this.closed) return
    clearTimeout(this.revalTimer)
    const next = Math.min(this.fast.nextTime, this.slow.nextTime)
    if (next === Infinity) return
    this.revalTimer = setTimeout(() => this.runRevalidation(), Math.max(0, next - Date.now()))
    this.revalTimer.unref()
  }

  private runRevalidation(): void {
    const now = Date.now()
    for (const list of [this.fast, this.slow]) {
      if (list.nextTime > now) continue
      const e = list.pick(this.revalBusy)
      if (e) void this.revalidate(e)
      list.schedule(now)
    }
    this.scheduleRevalidation()
  }

  private async revalidate(e: Entry): Promise<void> {
    const id = e.node.idHex
    this.revalBusy.add(id)
    const signal = this.abort.signal
    let responded = false
    let update: { node: Node; seq: bigint } | undefined
    try {
      const { seq } = await this.transport.ping(e.node, signal)
      responded = true
      if (seq !== undefined && seq > e.seq && this.transport.requestENR) {
        update = await this.transport.requestENR(e.node, signal).catch(() => undefined)
      }
    } catch {
      // no pong: handled below
    } finally {
      this.revalBusy.delete(id)
    }
    // closed meanwhile, or the entry left the table while we waited
    if (this.closed || e.revalList === null) return
    const b = this.buckets[this.bucketIndex(e.node.id)]!
    if (!responded) {
      e.livenessChecks = Math.floor(e.livenessChecks / 3)
      if (e.livenessChecks <= 0) this.deleteEntry(b, e)
      else this.moveTo(this.fast, e)
      return
    }
    e.livenessChecks++
    if (!e.isValidatedLive) this.packed = undefined
    e.isValidatedLive = true
    if (update) this.updateEndpoint(b, e, update.node, update.seq)
    if (e.isValidatedLive) this.moveTo(this.slow, e) // still live unless the endpoint just changed
    if (e.isValidatedLive && e.livenessChecks > SEED_LIVENESS_CHECKS) {
      this.db.updateNode(e.node).catch((err: unknown) => this.emit('dbError', err))
    }
  }
}
