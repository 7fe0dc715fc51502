/**
 * The discovery crawl: visit every node we hear of once, straight over the discv4 transport (not
 * through its Kademlia table, which would keep only 16 nodes a bucket).
 *
 * Work runs in two lanes. The confirm lane bonds with a node (ping/pong, done inside the ENRRequest)
 * and fetches its record: a handful of packets that say the node is alive, so it never waits behind
 * table reads. An answering node then joins the table lane, which reads its routing table bucket by
 * bucket: a FINDNODE whose target lies at log distance d from the node is answered, by a geth-shaped
 * table, with exactly bucket d when that bucket is full, or with bucket d plus the closest entries
 * below it. So we walk d = 256, 255, … and stop as soon as an answer holds fewer than 16 entries at
 * distance ≤ d: everything below was in it. Tables that are not shaped like geth's (bigger buckets)
 * show it when a second probe of the nearest full bucket, with another preimage, brings new nodes;
 * then the full buckets are probed again until they bring nothing new.
 *
 * Bounds: tasks in flight (--concurrency, shared by the lanes), tasks in flight per IP and lane (politeness
 * towards hosts that run many nodes), nodes kept (each a compact entry), retries per node. Nodes
 * found by a table read join the confirm lane; the crawl ends when nothing is queued, in flight or
 * waiting for a retry, at the duration limit, or on abort; every node found is reported exactly once.
 */
import { EventEmitter, setMaxListeners } from 'node:events'
import { hex } from '../crypto/bytes.js'
import { backend as defaultBackend } from '../crypto/backend.js'
import type { CryptoBackend } from '../crypto/types.js'
import { ENR } from '../enode/enr.js'
import { Node } from '../enode/node.js'
import type { LookupTarget } from '../discover/table.js'
import { matchForkHash } from '../eth/networks.js'
import { Lane } from './lane.js'
import { logDistance, TargetTable } from './targets.js'

/** What the crawler needs of the discovery transport (Discv4 provides it). */
export interface CrawlTransport {
  readonly self: Node
  /** FINDNODE `target` at `n`: the nodes it answers with (bonding first when needed). */
  findnode(n: Node, target: LookupTarget, signal?: AbortSignal): Promise<Node[]>
  /** `n`'s signed record (bonding first when needed). */
  enrRequest(n: Node, signal?: AbortSignal): Promise<ENR>
  readonly db: {
    /** when `n` last answered a ping of ours (ms since the epoch, 0 never): tells a dead node from a lost reply */
    lastPongReceived(id: Uint8Array, ip: string): number
  }
  readonly stats?: { packetsIn: number; packetsOut: number }
}

/** One node as the crawl saw it: the --out line. */
export interface CrawlRecord {
  /** 128-hex public key */
  id: string
  ip: string
  udp: number
  tcp: number
  /** the signed record (enr:…) when the node sent one */
  enr?: string
  seq?: number
  /** ISO times: first heard of (carried over from earlier crawls), last answered (or last listed, if never) */
  firstSeen: string
  lastSeen: string
  /** it answered our ping */
  answered: boolean
  /** the network its `eth` ENR entry names (fork hash of a known chain), 'unknown' for other chains */
  network?: string
  /** the fork state that hash belongs to */
  fork?: string
  /** it announces a consensus-layer (`eth2`) entry */
  eth2: boolean
  /** distinct nodes its table gave us */
  neighbors?: number
  /** why it did not answer, or what failed after it did */
  error?: string
}

/** A node carried over from an earlier crawl (the store): re-checked, its first sighting kept. */
export interface PreviousNode {
  id: string
  ip: string
  udp: number
  tcp: number
  firstSeen: number
}

/** Counters of a crawl so far; {@link Crawler.run} resolves to the final ones. */
export interface CrawlProgress {
  found: number
  answered: number
  unanswered: number
  queued: number
  inFlight: number
  /** waiting for a retry */
  retrying: number
  /** nodes not kept because the node bound was reached */
  dropped: number
  packetsIn: number
  packetsOut: number
  elapsedMs: number
}

/** How a {@link Crawler} starts and what bounds it. */
export interface CrawlerOptions {
  transport: CrawlTransport
  seeds?: Iterable<Node>
  previous?: Iterable<PreviousNode>
  /** tasks in flight, confirmations first (default by backend: native 64, wasm 32, js 4) */
  concurrency?: number
  /** visits in flight towards one IP, per lane (default 2) */
  perIP?: number
  /** bond attempts before a node counts as unanswered (default 3) */
  attempts?: number
  /** first retry delay; doubles each attempt (default 1000 ms) */
  retryDelayMs?: number
  /** ENRRequest and FINDNODE attempts per question once a node answered (default 2) */
  findnodeAttempts?: number
  /** extra probes per full bucket when a table turns out bigger than geth's (default 2; 0: none) */
  reprobes?: number
  /** lowest log distance asked (default 240: geth's last bucket holds everything at ≤ 240) */
  lowestDistance?: number
  /** nodes kept; further ones are counted as dropped (default 500 000) */
  maxNodes?: number
  durationMs?: number
  signal?: AbortSignal
  targets?: TargetTable
  backend?: CryptoBackend
  /**
   * Called once per node that answered, with its record, as soon as its ENR is in (before its table
   * is read): the hook an RLPx dial queue plugs into to run in parallel with discovery.
   */
  onNode?: (record: CrawlRecord) => void
}

/** The events a {@link Crawler} emits. */
export interface CrawlerEvents {
  /** a node's final record; exactly once per node found */
  record: [record: CrawlRecord]
  /** something went wrong with one node; the crawl goes on */
  nodeError: [error: CrawlError]
}

/** What a {@link CrawlError} is about. */
export type CrawlErrorCode = 'UNANSWERED' | 'BAD_RECORD' | 'FINDNODE_FAILED' | 'ENR_FAILED'

/** Something that went wrong with one node; the crawl goes on (a `nodeError` event). */
export class CrawlError extends Error {
  override readonly name = 'CrawlError'
  constructor(
    readonly code: CrawlErrorCode,
    /** `ip:udp` of the node */
    readonly endpoint: string,
    message: string,
  ) {
    super(message)
  }
}

const BUCKET_SIZE = 16
/**
 * Tasks in flight by backend: every reply must be verified within the 500 ms reply timeout, and the
 * backends verify ~15k (native), ~7k (wasm) and ~650 (js) packets per second on one core.
 */
const DEFAULT_CONCURRENCY: Readonly<Record<CryptoBackend['name'], number>> = { native: 64, wasm: 32, js: 4 }
/** consecutive answers without anything new after which a table is taken as read */
const STALE_ANSWERS = 3

const enum State {
  Queued,
  InFlight,
  Retrying,
  Done,
}

/** compact per-node state: the Node, the raw record, times as numbers */
class Entry {
  state = State.Queued
  attempts = 0
  answered = false
  enr: Uint8Array | undefined
  seq: bigint | undefined
  lastSeen: number
  neighbors = 0
  error: string | undefined
  /** the endpoint the node's record announces, when it differs from the one we reached */
  recordEndpoint: { ip: string; udp: number; tcp: number } | undefined
  network: string | undefined
  fork: string | undefined
  eth2 = false
  constructor(
    public node: Node,
    readonly firstSeen: number,
  ) {
    this.lastSeen = firstSeen
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/**
 * Enumerates a discv4 network: bonds with every node it hears of, fetches its record, reads its table
 * bucket by bucket with FINDNODE targets at each log distance, and reports each node exactly once.
 */
export class Crawler extends EventEmitter<CrawlerEvents> {
  private readonly t: CrawlTransport
  private readonly b: CryptoBackend
  private readonly targets: TargetTable
  private readonly concurrency: number
  private readonly perIP: number
  private readonly attempts: number
  private readonly retryDelay: number
  private readonly findnodeAttempts: number
  private readonly reprobes: number
  private readonly lowest: number
  private readonly maxNodes: number
  private readonly entries = new Map<string, Entry>()
  /** FIFO of queued entries; `head` spares the O(n) shift */
  /** entries held back because their IP already has `perIP` visits in flight */
  /** bond + record: cheap, and what says a node is alive, so it never waits behind table reads */
  private readonly confirm: Lane<Entry>
  /** FINDNODE walks of answering nodes' tables */
  private readonly tables: Lane<Entry>
  private readonly retryTimers = new Set<NodeJS.Timeout>()
  /** external node sources (a DNS walk) still producing: the crawl waits for them */
  private sources = 0
  private answeredCount = 0
  private unansweredCount = 0
  private dropped = 0
  private started = 0
  private stopped = false
  private readonly abort = new AbortController()
  private wake: (() => void) | undefined

  constructor(private readonly opts: CrawlerOptions) {
    super()
    this.t = opts.transport
    this.b = opts.backend ?? defaultBackend
    this.targets = opts.targets ?? TargetTable.build(this.b)
    this.concurrency = opts.concurrency ?? DEFAULT_CONCURRENCY[this.b.name]
    this.perIP = opts.perIP ?? 2
    this.attempts = opts.attempts ?? 3
    this.retryDelay = opts.retryDelayMs ?? 1000
    this.findnodeAttempts = opts.findnodeAttempts ?? 2
    this.reprobes = opts.reprobes ?? 2
    this.lowest = Math.max(1, Math.min(256, opts.lowestDistance ?? 240))
    this.maxNodes = opts.maxNodes ?? 500_000
    const settled = (): void => {
      this.pump()
      this.signal()
    }
    const stopped = (): boolean => this.stopped
    // One budget of `concurrency` tasks, confirmations first: while nodes wait to be confirmed, table
    // reads (dozens of packets each) keep only a small share, so replies are still read in time on a
    // slow backend; the share guarantees discovery goes on meanwhile.
    const tableShare = Math.max(2, Math.floor(this.concurrency / 8))
    this.confirm = new Lane<Entry>(() => this.concurrency, this.perIP, (e) => this.visit(e), settled, stopped)
    this.tables = new Lane<Entry>(
      () => Math.max(tableShare, this.concurrency - this.confirm.inFlight),
      this.perIP,
      (e) => this.readTableOf(e),
      settled,
      stopped,
    )
    // every visit in flight listens on the one crawl-wide signal
    setMaxListeners(0, this.abort.signal)
    const now = Date.now()
    for (const p of opts.previous ?? []) {
      try {
        this.add(new Node(Buffer.from(p.id, 'hex'), p.ip, p.udp, p.tcp), p.firstSeen)
      } catch {
        // a record the store kept from a broken run: skip it, the rest still seeds
      }
    }
    for (const n of opts.seeds ?? []) this.add(n, now)
  }

  /** Queue a node (a seed, a DNS record, a node that dialled in); known nodes are ignored. */
  add(n: Node, firstSeen = Date.now()): void {
    if (n.idHex === this.t.self.idHex) return
    const known = this.entries.get(n.idHex)
    if (known) {
      if (!known.answered) known.lastSeen = Date.now()
      return
    }
    if (this.stopped || this.entries.size >= this.maxNodes) {
      this.dropped++
      return
    }
    const e = new Entry(n, firstSeen)
    this.entries.set(n.idHex, e)
    this.confirm.push(e)
    this.pump()
  }

  /**
   * Feed nodes from an outside source (a DNS tree walk) while crawling; the crawl does not end before
   * the source does. A failing source is reported through `onError` and otherwise ignored.
   */
  addSource(nodes: AsyncIterable<Node>, onError: (err: unknown) => void = () => undefined): void {
    this.sources++
    void (async () => {
      try {
        for await (const n of nodes) {
          if (this.stopped) break
          this.add(n)
        }
      } catch (err) {
        if (!this.stopped) onError(err)
      } finally {
        this.sources--
        this.signal()
      }
    })()
  }

  /** The counters right now. */
  progress(): CrawlProgress {
    return {
      found: this.entries.size,
      answered: this.answeredCount,
      unanswered: this.unansweredCount,
      queued: this.confirm.queued + this.tables.queued,
      inFlight: this.confirm.inFlight + this.tables.inFlight,
      retrying: this.retryTimers.size,
      dropped: this.dropped,
      packetsIn: this.t.stats?.packetsIn ?? 0,
      packetsOut: this.t.stats?.packetsOut ?? 0,
      elapsedMs: this.started === 0 ? 0 : Date.now() - this.started,
    }
  }

  /**
   * Crawl until there is nothing left to visit, the duration elapses or the signal aborts; then
   * report every node not reported yet. Resolves with the final counters.
   */
  async run(): Promise<CrawlProgress> {
    this.started = Date.now()
    const onAbort = (): void => this.stop()
    this.opts.signal?.addEventListener('abort', onAbort, { once: true })
    if (this.opts.signal?.aborted) this.stop()
    const timer = this.opts.durationMs !== undefined ? setTimeout(() => this.stop(), this.opts.durationMs) : undefined
    try {
      this.pump()
      while (!this.finished()) await new Promise<void>((resolve) => (this.wake = resolve))
    } finally {
      clearTimeout(timer)
      this.opts.signal?.removeEventListener('abort', onAbort)
    }
    for (const e of this.entries.values()) {
      if (e.state === State.Done) continue
      if (!e.answered && e.error === undefined) e.error = e.attempts === 0 ? 'not checked before the crawl ended' : 'no answer before the crawl ended'
      this.finish(e)
    }
    return this.progress()
  }

  /** every record as it is final; ends when the crawl does */
  async *records(): AsyncGenerator<CrawlRecord, CrawlProgress> {
    const buffered: CrawlRecord[] = []
    let notify: (() => void) | undefined
    const onRecord = (r: CrawlRecord): void => {
      buffered.push(r)
      notify?.()
    }
    this.on('record', onRecord)
    let done = false
    const result = this.run().finally(() => {
      done = true
      notify?.()
    })
    try {
      for (;;) {
        while (buffered.length > 0) yield buffered.shift()!
        if (done) break
        await new Promise<void>((resolve) => (notify = resolve))
        notify = undefined
      }
      return await result
    } finally {
      this.off('record', onRecord)
      this.stop()
    }
  }

  /** end the crawl: visits in flight are cancelled, queued nodes are reported unchecked */
  stop(): void {
    if (this.stopped) return
    this.stopped = true
    this.abort.abort(new Error('crawl stopped'))
    for (const t of this.retryTimers) clearTimeout(t)
    this.retryTimers.clear()
    this.signal()
  }

  private finished(): boolean {
    if (this.stopped) return this.confirm.inFlight === 0 && this.tables.inFlight === 0
    return this.confirm.idle && this.tables.idle && this.retryTimers.size === 0 && this.sources === 0
  }

  private signal(): void {
    const w = this.wake
    this.wake = undefined
    w?.()
  }

  private pump(): void {
    if (this.started === 0) return
    this.confirm.pump()
    this.tables.pump()
  }

  /** Bond and fetch the record; an answering node then waits in the table lane. */
  private async visit(e: Entry): Promise<void> {
    e.state = State.InFlight
    const n = e.node
    const signal = this.abort.signal
    const start = Date.now()
    e.attempts++
    let record: ENR | undefined
    try {
      for (let i = 0; record === undefined && i < this.findnodeAttempts; i++) {
        try {
          record = await this.t.enrRequest(n, signal)
        } catch (err) {
          if (this.t.db.lastPongReceived(n.id, n.ip) < start) return this.unanswered(e, err)
          if (signal.aborted || i + 1 < this.findnodeAttempts) continue
          // it answered the ping but not the ENRRequest (pre-EIP-868 clients): still a live node
          e.error = `ENRRequest failed: ${errorText(err)}`
          this.emit('nodeError', new CrawlError('ENR_FAILED', `${n.ip}:${n.udp}`, e.error))
        }
      }
    } catch (err) {
      e.error ??= errorText(err)
      return this.finish(e)
    }
    e.answered = true
    e.lastSeen = Date.now()
    this.answeredCount++
    if (record) this.takeRecord(e, record)
    this.opts.onNode?.(this.toRecord(e))
    this.tables.push(e)
  }

  private async readTableOf(e: Entry): Promise<void> {
    try {
      await this.readTable(e, this.abort.signal)
    } catch (err) {
      e.error ??= errorText(err)
    } finally {
      this.finish(e)
    }
  }

  private unanswered(e: Entry, err: unknown): void {
    if (this.stopped) return
    if (e.attempts < this.attempts) {
      // back off, without holding a visit slot while waiting
      e.state = State.Retrying
      const timer = setTimeout(
        () => {
          this.retryTimers.delete(timer)
          e.state = State.Queued
          this.confirm.push(e)
          this.pump()
          this.signal()
        },
        this.retryDelay * 2 ** (e.attempts - 1),
      )
      this.retryTimers.add(timer)
      return
    }
    e.error = errorText(err)
    this.emit('nodeError', new CrawlError('UNANSWERED', `${e.node.ip}:${e.node.udp}`, `no answer after ${e.attempts} attempts: ${e.error}`))
    this.finish(e)
  }

  /**
   * Keep the raw record and what the output needs of it (decoding again would verify it again). The
   * record's endpoint wins for the output; we keep talking to the address that answered.
   */
  private takeRecord(e: Entry, r: ENR): void {
    e.enr = r.raw
    e.seq = r.seq
    e.eth2 = r.isEth2
    const n = r.toNode()
    if (n && (n.ip !== e.node.ip || n.udp !== e.node.udp || n.tcp !== e.node.tcp)) e.recordEndpoint = { ip: n.ip, udp: n.udp, tcp: n.tcp }
    try {
      const fid = r.ethForkId
      if (fid) {
        const m = matchForkHash(fid.hash)
        e.network = m?.network ?? 'unknown'
        e.fork = m?.fork
      }
    } catch {
      // an `eth` entry that is not a fork id: some other chain's convention
      e.network = 'unknown'
    }
  }

  private async findnode(n: Node, target: Uint8Array, signal: AbortSignal): Promise<Node[]> {
    let last: unknown
    for (let i = 0; i < this.findnodeAttempts; i++) {
      try {
        return await this.t.findnode(n, { key: target, id: this.b.keccak256(target) }, signal)
      } catch (err) {
        last = err
        if (signal.aborted) break
      }
    }
    throw last
  }

  /** Read `e`'s table from the farthest bucket down; see the file comment for the stop rule. */
  private async readTable(e: Entry, signal: AbortSignal): Promise<void> {
    const n = e.node
    const got = new Set<string>()
    const fullBuckets: number[] = []
    const ask = async (target: Uint8Array, d: number): Promise<{ fresh: number; within: number; atD: number; size: number }> => {
      const ans = await this.findnode(n, target, signal)
      let fresh = 0
      let within = 0
      let atD = 0
      for (const x of ans) {
        const ld = logDistance(x.id, n.id)
        if (ld <= d) within++
        if (ld === d) atD++
        if (!got.has(x.idHex)) {
          got.add(x.idHex)
          fresh++
          this.add(x)
        }
      }
      e.neighbors = got.size
      return { fresh, within, atD, size: ans.length }
    }
    try {
      let stale = 0
      for (let d = 256; d >= this.lowest; d--) {
        const a = await ask(this.targets.targetAt(n.id, d), d)
        if (a.atD >= BUCKET_SIZE) fullBuckets.push(d)
        // fewer than 16 at ≤ d: every entry at ≤ d was in this answer
        if (a.size < BUCKET_SIZE || a.within < BUCKET_SIZE) break
        stale = a.fresh === 0 ? stale + 1 : 0
        if (stale >= STALE_ANSWERS) break
      }
      // nearest full bucket first: a geth table answers it the same way twice and we stop there
      for (const d of fullBuckets.reverse()) {
        let grew = false
        for (let k = 1; k <= this.reprobes; k++) {
          const target = this.variant(n.id, d, k)
          if (!target) break
          const a = await ask(target, d)
          if (a.fresh === 0) break
          grew = true
        }
        if (!grew) break
      }
    } catch (err) {
      if (signal.aborted) return
      e.error = `FINDNODE failed: ${errorText(err)}`
      this.emit('nodeError', new CrawlError('FINDNODE_FAILED', `${n.ip}:${n.udp}`, e.error))
    }
  }

  /**
   * Another target at distance `d` from `id`: flip prefix bits below the first differing one, so the
   * target stays in the same bucket but sorts its entries differently. None when no bit is free.
   */
  private variant(id: Uint8Array, d: number, k: number): Uint8Array | undefined {
    const bit = 15 - (256 - d)
    if (k > bit) return undefined
    // flipping the highest free bit first puts the other half of the bucket in front; the bits below
    // the flipped one are free
    const prefix = ((id[0]! << 8) | id[1]!) ^ (1 << bit) ^ (1 << (bit - k))
    return this.targets.withPrefix(prefix >>> (bit - k), 16 - (bit - k))
  }

  private finish(e: Entry): void {
    if (e.state === State.Done) return
    e.state = State.Done
    if (!e.answered) this.unansweredCount++
    this.emit('record', this.toRecord(e))
  }

  private toRecord(e: Entry): CrawlRecord {
    const ep = e.recordEndpoint ?? e.node
    const r: CrawlRecord = {
      id: hex(e.node.pubkey),
      ip: ep.ip,
      udp: ep.udp,
      tcp: ep.tcp,
      firstSeen: new Date(e.firstSeen).toISOString(),
      lastSeen: new Date(e.lastSeen).toISOString(),
      answered: e.answered,
      eth2: e.eth2,
    }
    if (e.enr) {
      r.enr = 'enr:' + Buffer.from(e.enr).toString('base64url')
      r.seq = Number(e.seq)
    }
    if (e.network !== undefined) r.network = e.network
    if (e.fork !== undefined) r.fork = e.fork
    if (e.answered) r.neighbors = e.neighbors
    if (e.error !== undefined) r.error = e.error
    return r
  }
}
