/**
 * The node database (geth's p2p/enode/nodedb.go): known node records, per-endpoint liveness data
 * (last ping and pong received, FINDNODE failures) keyed by node ID *and* IP so an endpoint proof
 * never carries over to another address, our local ENR sequence number and a small local key-value
 * area. Nodes that have not answered a ping for 24 h expire in a background pass.
 *
 * Two stores behind one logic layer: LMDB on disk when a path is given (lmdb-js, msgpack values), or
 * an in-memory sorted map otherwise. The in-memory store avoids a temp directory and its cleanup for
 * crawlers and tests that run many nodes in one process; both share every line of record handling,
 * so they cannot drift.
 *
 * Writes resolve once committed: LMDB's commit is in the OS page cache and survives the process being
 * killed. `flush()` additionally waits for fsync (survives power loss).
 *
 * Key layout (ordered, so one node's data is contiguous):
 *   n:<id hex>                        node record
 *   n:<id hex>:<ip as 16-byte hex>:<field>   ping | pong | fails
 *   local:<key>                       our own values (seq, …)
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { open as openLmdb, type RootDatabase } from 'lmdb'
import { hex } from '../crypto/bytes.js'
import { Node } from '../enode/node.js'
import { lockDatadir, type DatadirLock } from './datadir-lock.js'
import { InvalidIPError, parseIPInto } from '../util/netutil.js'
import type { TableDB } from './table.js'

/** bumped when the layout changes; an older database is wiped on open */
const DB_VERSION = 1
/** a node or endpoint not heard from in this long is dropped by the expiry pass (geth: 24 h) */
export const NODE_EXPIRATION_MS = 24 * 3600_000
/** period of the expiry pass */
export const CLEANUP_INTERVAL_MS = 3600_000
/** bound on the in-memory store; the oldest keys go first */
const DEFAULT_MEMORY_ENTRIES = 100_000

const NODE_PREFIX = 'n:'
const NODE_END = 'n;' // ';' follows ':' so [NODE_PREFIX, NODE_END) holds every node key
const NODE_KEY_LEN = NODE_PREFIX.length + 64

type Field = 'ping' | 'pong' | 'fails'

interface NodeRecord {
  pubkey: Uint8Array
  ip: string
  udp: number
  tcp: number
  enr?: Uint8Array
  /** when the record was written, ms since epoch: the age of a node that never answered a ping */
  stored: number
}

/** An operation on a {@link NodeDB} after close(). */
export class NodeDBClosedError extends Error {
  override readonly name = 'NodeDBClosedError'
  constructor() {
    super('node database closed')
  }
}

/** What the logic layer needs from storage: ordered string keys, structured values. */
interface Store {
  get(key: string): unknown
  put(key: string, value: unknown): Promise<void>
  remove(key: string): Promise<void>
  /** entries with start <= key < end, ascending */
  range(start: string, end: string): Iterable<{ key: string; value: unknown }>
  clear(): void
  flushed(): Promise<void>
  close(): Promise<void>
}

class LmdbStore implements Store {
  /**
   * Writes not yet committed, newest per key. LMDB commits asynchronously in batches and its reads
   * see committed data only, but an endpoint proof must count the moment the pong is handled: the
   * peer's FINDNODE may arrive in the very next datagram.
   */
  private readonly inflight = new Map<string, { value: unknown }>()
  constructor(private readonly db: RootDatabase<unknown, string>) {}
  get(key: string): unknown {
    const w = this.inflight.get(key)
    return w ? w.value : this.db.get(key)
  }
  private async write(key: string, value: unknown, commit: Promise<unknown>): Promise<void> {
    const w = { value }
    this.inflight.set(key, w)
    try {
      await commit
    } finally {
      if (this.inflight.get(key) === w) this.inflight.delete(key)
    }
  }
  put(key: string, value: unknown): Promise<void> {
    return this.write(key, value, this.db.put(key, value))
  }
  remove(key: string): Promise<void> {
    return this.write(key, undefined, this.db.remove(key))
  }
  range(start: string, end: string): Iterable<{ key: string; value: unknown }> {
    return this.db.getRange({ start, end })
  }
  clear(): void {
    this.db.clearSync()
  }
  async flushed(): Promise<void> {
    await this.db.flushed
  }
  close(): Promise<void> {
    return this.db.close()
  }
}

class MemoryStore implements Store {
  private readonly map = new Map<string, unknown>()
  /** sorted keys for range(), rebuilt after a key is added or removed */
  private sorted: string[] | undefined
  constructor(private readonly maxEntries: number) {}

  get(key: string): unknown {
    return this.map.get(key)
  }
  put(key: string, value: unknown): Promise<void> {
    if (!this.map.has(key)) {
      this.sorted = undefined
      if (this.map.size >= this.maxEntries) this.evictOldestNodeKey()
    }
    this.map.set(key, value)
    return Promise.resolve()
  }
  /** local values are few and must survive; node data is what grows */
  private evictOldestNodeKey(): void {
    for (const key of this.map.keys()) {
      if (key.startsWith(NODE_PREFIX)) {
        this.map.delete(key)
        return
      }
    }
  }
  remove(key: string): Promise<void> {
    if (this.map.delete(key)) this.sorted = undefined
    return Promise.resolve()
  }
  *range(start: string, end: string): Iterable<{ key: string; value: unknown }> {
    const keys = (this.sorted ??= [...this.map.keys()].sort())
    let lo = 0
    let hi = keys.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (keys[mid]! < start) lo = mid + 1
      else hi = mid
    }
    for (let i = lo; i < keys.length && keys[i]! < end; i++) {
      const key = keys[i]!
      if (this.map.has(key)) yield { key, value: this.map.get(key) }
    }
  }
  clear(): void {
    this.map.clear()
    this.sorted = undefined
  }
  flushed(): Promise<void> {
    return Promise.resolve()
  }
  close(): Promise<void> {
    this.clear()
    return Promise.resolve()
  }
}

/** Where a {@link NodeDB} keeps its data and how it expires it. */
export interface NodeDBOptions {
  /** directory of the database; in-memory when absent */
  path?: string
  /** period of the expiry pass (default 1 h) */
  cleanupIntervalMs?: number
  /** age after which an endpoint or node without a pong is dropped (default 24 h) */
  nodeExpirationMs?: number
  /** bound on the in-memory store (entries, default 100 000) */
  maxMemoryEntries?: number
  /** a background expiry pass failed (the next one runs as scheduled) */
  onExpiryError?: (err: unknown) => void
}

/** scratch for ipKey, which runs several times a datagram (bond checks, ping and pong times) */
const IP_BYTES = new Uint8Array(16)

function ipKey(ip: string): string | undefined {
  return parseIPInto(ip, IP_BYTES) ? hex(IP_BYTES) : undefined
}

/**
 * Discovery's memory across restarts (geth's p2p/enode nodedb): nodes and their records, per-endpoint
 * liveness (last ping, last pong, FINDNODE failures), our ENR sequence number and other local values.
 * LMDB on disk, or a bounded map in memory.
 */
export class NodeDB implements TableDB {
  private readonly store: Store
  private readonly lock: DatadirLock | undefined
  private readonly expiration: number
  private readonly timer: NodeJS.Timeout
  private closed = false

  /**
   * Open (or create) the database. With a path, the directory is locked for this process: a second
   * opener gets DatadirLockedError.
   */
  constructor(opts: NodeDBOptions = {}) {
    this.expiration = opts.nodeExpirationMs ?? NODE_EXPIRATION_MS
    if (opts.path === undefined) {
      this.store = new MemoryStore(opts.maxMemoryEntries ?? DEFAULT_MEMORY_ENTRIES)
    } else {
      mkdirSync(opts.path, { recursive: true })
      this.lock = lockDatadir(opts.path)
      try {
        this.store = new LmdbStore(openLmdb<unknown, string>({ path: join(opts.path, 'nodes.mdb'), encoding: 'msgpack' }))
      } catch (err) {
        this.lock.release()
        throw err
      }
    }
    if (opts.path !== undefined && this.store.get('version') !== DB_VERSION) {
      this.store.clear()
      void this.store.put('version', DB_VERSION)
    }
    // one pass at a time: a slow pass must not pile up behind a short interval
    let running = false
    this.timer = setInterval(() => {
      if (running) return
      running = true
      this.expire()
        .catch((err: unknown) => {
          if (!this.closed) opts.onExpiryError?.(err)
        })
        .finally(() => (running = false))
    }, opts.cleanupIntervalMs ?? CLEANUP_INTERVAL_MS)
    this.timer.unref()
  }

  private put(key: string, value: unknown): Promise<void> {
    if (this.closed) return Promise.reject(new NodeDBClosedError())
    return this.store.put(key, value)
  }

  private itemKey(id: Uint8Array, ip: string, field: Field): string | undefined {
    const k = ipKey(ip)
    return k && `${NODE_PREFIX}${hex(id)}:${k}:${field}`
  }

  private getNumber(id: Uint8Array, ip: string, field: Field): number {
    const key = this.itemKey(id, ip, field)
    const v = key === undefined ? undefined : this.store.get(key)
    return typeof v === 'number' ? v : 0
  }

  private setNumber(id: Uint8Array, ip: string, field: Field, v: number): Promise<void> {
    const key = this.itemKey(id, ip, field)
    if (key === undefined) return Promise.reject(new InvalidIPError(ip))
    return this.put(key, v)
  }

  // ---- node records ----------------------------------------------------------------------------

  /** Store a node (and its signed ENR, if known); resolves once committed. */
  updateNode(n: Node, enr?: Uint8Array): Promise<void> {
    const rec: NodeRecord = { pubkey: n.pubkey, ip: n.ip, udp: n.udp, tcp: n.tcp, stored: Date.now() }
    if (enr) rec.enr = enr
    return this.put(NODE_PREFIX + n.idHex, rec)
  }

  /** the stored node with ID `id` and its ENR bytes, if any */
  node(id: Uint8Array): { node: Node; enr?: Uint8Array } | undefined {
    const rec = this.store.get(NODE_PREFIX + hex(id)) as NodeRecord | undefined
    if (!rec) return undefined
    const node = new Node(new Uint8Array(rec.pubkey), rec.ip, rec.udp, rec.tcp)
    return rec.enr ? { node, enr: new Uint8Array(rec.enr) } : { node }
  }

  /** Remove a node and all its endpoint data. */
  async deleteNode(id: Uint8Array): Promise<void> {
    const prefix = NODE_PREFIX + hex(id)
    const keys = Array.from(this.store.range(prefix, prefix + ';'), (e) => e.key)
    await Promise.all(keys.map((k) => this.store.remove(k)))
  }

  // ---- endpoint liveness (per ID + IP) ---------------------------------------------------------

  /** when `id` at `ip` last pinged us (ms since epoch, 0 if never) */
  lastPingReceived(id: Uint8Array, ip: string): number {
    return this.getNumber(id, ip, 'ping')
  }
  /** record when `id` at `ip` last pinged us */
  updateLastPingReceived(id: Uint8Array, ip: string, at: number): Promise<void> {
    return this.setNumber(id, ip, 'ping', at)
  }
  /** when `id` at `ip` last answered our ping (ms since epoch, 0 if never): its endpoint proof */
  lastPongReceived(id: Uint8Array, ip: string): number {
    return this.getNumber(id, ip, 'pong')
  }
  /** record when `id` at `ip` last answered our ping */
  updateLastPongReceived(id: Uint8Array, ip: string, at: number): Promise<void> {
    return this.setNumber(id, ip, 'pong', at)
  }
  /** consecutive FINDNODE failures of `id` at `ip` */
  findFails(id: Uint8Array, ip: string): number {
    return this.getNumber(id, ip, 'fails')
  }
  /** store the FINDNODE failure count of `id` at `ip` */
  updateFindFails(id: Uint8Array, ip: string, fails: number): Promise<void> {
    return this.setNumber(id, ip, 'fails', fails)
  }

  // ---- local values ----------------------------------------------------------------------------

  /** our ENR sequence number (0 if never stored) */
  localSeq(): bigint {
    const v = this.store.get('local:seq')
    return typeof v === 'string' ? BigInt(v) : 0n
  }
  /** stored as decimal text: msgpack integers stop at 64 bits and JS numbers at 53 */
  storeLocalSeq(seq: bigint): Promise<void> {
    return this.put('local:seq', seq.toString())
  }
  /** a value stored under `key` by {@link NodeDB.localPut} */
  localGet(key: string): unknown {
    return this.store.get(`local:${key}`)
  }
  /** store a value of our own (msgpack-encodable) under `key` */
  localPut(key: string, value: unknown): Promise<void> {
    return this.put(`local:${key}`, value)
  }

  // ---- seeds and expiry ------------------------------------------------------------------------

  /**
   * Up to `n` distinct random nodes that answered a ping within `maxAgeMs`. Each try seeks to a
   * random ID and walks on (wrapping at the end) to the first such node not yet taken, so the cost
   * does not grow with the database; all tries together look at no more than 5·n records. Walking on
   * matters in a small database: one record whose ID follows another's closely is rarely the first
   * after a random point, and a recent seed must not be left out by bad luck.
   */
  querySeeds(n: number, maxAgeMs: number): Node[] {
    const now = Date.now()
    const out = new Map<string, Node>()
    let budget = n * 5
    for (let tries = 0; out.size < n && budget > 0 && tries < n; tries++) {
      const start = NODE_PREFIX + randomBytes(32).toString('hex')
      let examined = 0
      for (const rec of this.nodesFrom(start)) {
        examined++
        budget--
        if (!out.has(rec.idHex) && now - this.lastPongReceived(rec.id, rec.ip) <= maxAgeMs) {
          out.set(rec.idHex, rec)
          break
        }
        if (budget <= 0) break
      }
      if (examined === 0) break // empty
    }
    return [...out.values()]
  }

  /** node records from key `start` to the end, then from the beginning up to `start` */
  private *nodesFrom(start: string): Generator<Node> {
    for (const [from, to] of [[start, NODE_END], [NODE_PREFIX, start]] as const) {
      for (const { key } of this.store.range(from, to)) {
        if (key.length !== NODE_KEY_LEN) continue
        const rec = this.node(Buffer.from(key.slice(NODE_PREFIX.length), 'hex'))?.node
        if (rec) yield rec
      }
    }
  }

  /**
   * One expiry pass: drop endpoints with neither ping nor pong within the expiration period, and
   * nodes whose newest pong (or, never ponged, their storing) is older than that. Resolves to the
   * number of keys removed.
   */
  async expire(now = Date.now()): Promise<number> {
    const threshold = now - this.expiration
    const doomed: string[] = []
    // per node: its keys, whether it has a record, the newest of pongs and record time;
    // per endpoint: its keys and newest ping or pong
    let node = ''
    let keys: string[] = []
    let hasRecord = false
    let stored = 0
    let lastPong = 0
    let endpoints = new Map<string, { keys: string[]; last: number }>()
    const finish = (): void => {
      for (const ep of endpoints.values()) if (ep.last < threshold) doomed.push(...ep.keys)
      // a node that ever answered is judged by its newest pong; one that never did, by its storing
      if (hasRecord && (lastPong || stored) < threshold) doomed.push(...keys)
    }
    for (const { key, value } of this.store.range(NODE_PREFIX, NODE_END)) {
      const id = key.slice(NODE_PREFIX.length, NODE_KEY_LEN)
      if (id !== node) {
        finish()
        node = id
        keys = []
        hasRecord = false
        stored = 0
        lastPong = 0
        endpoints = new Map()
      }
      keys.push(key)
      if (key.length === NODE_KEY_LEN) {
        hasRecord = true
        stored = (value as NodeRecord).stored
        continue
      }
      const [, ip = '', field] = key.slice(NODE_PREFIX.length).split(':')
      const ep = endpoints.get(ip) ?? { keys: [], last: 0 }
      endpoints.set(ip, ep)
      ep.keys.push(key)
      if (field === 'ping' || field === 'pong') ep.last = Math.max(ep.last, value as number)
      if (field === 'pong') lastPong = Math.max(lastPong, value as number)
    }
    finish()
    const unique = [...new Set(doomed)]
    await Promise.all(unique.map((k) => this.store.remove(k)))
    return unique.length
  }

  /** wait until every committed write is also fsynced */
  flush(): Promise<void> {
    return this.store.flushed()
  }

  /** Stop the expiry cycle, close the store and release the directory lock. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearInterval(this.timer)
    try {
      await this.store.close()
    } finally {
      this.lock?.release()
    }
  }
}
