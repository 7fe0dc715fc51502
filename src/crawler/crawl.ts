/**
 * The discovery crawl: visit every node we hear of once, straight over the discv4 transport (not
 * through its Kademlia table, which would keep only 16 nodes a bucket).
 *
 * Each node goes through: ping (bond) → its own ping back (it now holds our pong, so it will answer)
 * → ENRRequest and, alongside, the table read. The table read asks FINDNODE for a target at log
 * distance d = 256, 255, … from the node: a geth-shaped table answers with exactly bucket d when that
 * bucket is full, or with bucket d plus the closest entries below it, so the walk stops as soon as an
 * answer holds fewer than 16 entries at distance ≤ d (everything below was in it), or after three
 * answers with nothing new. Tables that are not shaped like geth's (bigger buckets) show it when a
 * second probe of the nearest full bucket, with another preimage, brings new nodes; then the full
 * buckets are probed again until they bring nothing new.
 *
 * Nothing waits on a slot: every step is a request handed to the schedule (schedule.ts), which sends
 * at the configured datagram rate with many requests in flight at once, so a crawl over a network
 * with 150 ms round trips runs as fast as one over loopback. Lost datagrams are retried: a node is
 * unanswered only after `attempts` pings spread over seconds; an ENRRequest or FINDNODE that times
 * out is retried after bonding again (the node may have missed our pong). Nodes from an earlier
 * crawl share the budget with those heard of now, and the ones that were dead then go last.
 *
 * Per-node state is packed (nodes.ts); per-request state lives only while the request does. Every
 * node found is reported exactly once: when its record and table are read, when it is given up on,
 * or when the crawl ends (duration, abort, nothing left).
 */
import { EventEmitter } from 'node:events'
import { hex } from '../crypto/bytes.js'
import { backend as defaultBackend } from '../crypto/backend.js'
import type { CryptoBackend } from '../crypto/types.js'
import { ENR } from '../enode/enr.js'
import { Node } from '../enode/node.js'
import type { LookupTarget } from '../discover/table.js'
import type { RequestOptions } from '../discover/common.js'
import type { NeighborsAnswer } from '../discover/udp-options.js'
import { PacketType, type Packet } from '../discover/wire.js'
import { clientEntry, consensusInfo, quicPorts, type ConsensusInfo } from '../eth/consensus.js'
import { matchForkHash } from '../eth/networks.js'
import { CrawlNodes, F, Origin, State, V5, type RecordExtras } from './nodes.js'
import { DelayQueue, Schedule, type ClassShare } from './schedule.js'
import { logDistance } from '../discover/kademlia.js'
import { TargetTable } from './targets.js'

/** What the crawler needs of the discovery transport (Discv4 provides it). */
export interface CrawlTransport {
  readonly self: Node
  /** PING `n`; resolves with the record sequence its PONG carries */
  ping(n: Node, opts: RequestOptions): Promise<{ seq?: bigint }>
  /** `n`'s signed record */
  enrRequest(n: Node, opts: RequestOptions): Promise<ENR>
  /** FINDNODE `target` at `n`: what it answers, and whether the answer ended as the sender meant it to */
  neighbors(n: Node, target: LookupTarget, opts: RequestOptions): Promise<NeighborsAnswer>
  /** every verified packet: the crawl learns from a node's own pings that it holds our pong */
  on(event: 'packet', listener: (p: Packet, from: Node) => void): unknown
  /** stops listening for packets (when the crawl ends) */
  off(event: 'packet', listener: (p: Packet, from: Node) => void): unknown
  /** the transport's reply timeout (the crawl's default) */
  readonly replyTimeoutMs?: number
  /** datagrams received and not yet verified */
  readonly backlog?: number
  readonly stats?: { packetsIn: number; packetsOut: number }
  /** discv5 on the same socket, for crawls that walk that DHT too (Discv4's `v5`) */
  readonly v5?: CrawlV5 | undefined
}

/** What the crawler needs of discv5 (Discv5 provides it). */
export interface CrawlV5 {
  /** PING `n` (a handshake first when there is no session); resolves with its record sequence */
  ping(n: ENR | Node): Promise<{ enrSeq: bigint }>
  /** FINDNODE at the given log distances: the records `n` answers with */
  findnode(n: ENR | Node, distances: number[]): Promise<ENR[]>
  readonly stats: { packetsIn: number; packetsOut: number }
}

/** the discovery protocols a crawl walks */
export type CrawlProtocol = 'v4' | 'v5'

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
  /** it answered our ping (or pinged us) */
  answered: boolean
  /** pings sent before it answered, or before we gave up on it */
  attempts?: number
  /** the lowest round trip measured to it, ms */
  rttMs?: number
  /** the network its `eth` ENR entry names (fork hash of a known chain), 'unknown' for other chains */
  network?: string
  /** the fork state that hash belongs to */
  fork?: string
  /** it announces a consensus-layer (`eth2`) entry */
  eth2: boolean
  /**
   * which client it is, when it answered: `execution` (it answered discv4, or its record has an
   * `eth` entry) or `consensus` (an `eth2` entry and no `eth`: a libp2p node, not dialled over RLPx)
   */
  layer?: 'execution' | 'consensus'
  /** the discovery protocols it answered on (those tried, when it answered none) */
  protocols?: CrawlProtocol[]
  /** what its `eth2`, `attnets`, `syncnets` and `cgc` entries say */
  consensus?: ConsensusInfo
  /** its record's EIP-7636 `client` entry */
  enrClient?: string
  /** the IPv6 endpoint and QUIC ports its record announces */
  ip6?: string
  udp6?: number
  quic?: number
  quic6?: number
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
  /** it answered in that crawl; nodes that did not are checked after everything else */
  answered?: boolean
}

/** Counters of a crawl so far; {@link Crawler.run} resolves to the final ones. */
export interface CrawlProgress {
  found: number
  answered: number
  unanswered: number
  /** steps waiting to be sent */
  queued: number
  /** requests in flight */
  inFlight: number
  /** nodes waiting for another ping */
  retrying: number
  /** nodes not kept because the node bound was reached */
  dropped: number
  packetsIn: number
  packetsOut: number
  /** datagrams per second in force: --rate, or less while replies queue up */
  sendRate: number
  elapsedMs: number
}

/** How a {@link Crawler} starts and what bounds it. */
export interface CrawlerOptions {
  transport: CrawlTransport
  /** where to start: nodes (crawled over every protocol in `protocols`) and records (over discv5, and discv4 too when they carry an `eth` entry) */
  seeds?: Iterable<Node | ENR>
  /** the DHTs to walk (default: discv4, and discv5 when the transport has it) */
  protocols?: CrawlProtocol[]
  previous?: Iterable<PreviousNode>
  /** datagrams sent per second, requests and replies (default by backend: native 3000, wasm 1500, js 250) */
  rate?: number
  /** requests in flight at most (default 4096) */
  maxPending?: number
  /** requests in flight to one IP (default 4) and to one /24 or /48 (default 16): politeness */
  perIP?: number
  perNet?: number
  /** pings before a node counts as unanswered (default 4) */
  attempts?: number
  /**
   * pings over one protocol to a node that answered the other (default 3): it is alive and near, so
   * silence means it does not speak this protocol more likely than that a datagram was lost
   */
  crossAttempts?: number
  /** first retry delay; doubles each attempt (default 500 ms) */
  retryDelayMs?: number
  /**
   * ENRRequest attempts once a node answered (default 6). Each attempt rides on a fresh bond, and a
   * bond fails silently when its ping back or our pong is lost, so under loss a few more attempts
   * than pings are needed to fetch every record.
   */
  enrAttempts?: number
  /** attempts per FINDNODE target (default 3) */
  findnodeAttempts?: number
  /** reply timeout before any round trip to the node is measured (default: the transport's, 500 ms) */
  replyTimeoutMs?: number
  /** table reads in progress at once (default 2048) */
  maxReads?: number
  /** extra probes per full bucket when a table turns out bigger than geth's (default 2; 0: none) */
  reprobes?: number
  /**
   * Late reads of a table that answered thin (fewer than 16 nodes in all while the crawl knows many
   * more): geth serves only entries it has revalidated, one every 1.5 s on average, so a young table
   * shows more a little later. Each waits `rereadDelayMs` (default 10 s) and is one request (FINDNODE
   * far from the node, or every distance at once over discv5); they stop when one brings no more than
   * the read before (default 2; 0: none). The node's record does not wait for them.
   */
  rereads?: number
  rereadDelayMs?: number
  /** lowest log distance asked (default 240: geth's last bucket holds everything at ≤ 240) */
  lowestDistance?: number
  /** nodes kept; further ones are counted as dropped (default 1 000 000) */
  maxNodes?: number
  durationMs?: number
  signal?: AbortSignal
  targets?: TargetTable
  backend?: CryptoBackend
  /**
   * Called once per node worth an RLPx dial, with its record, as soon as that is known (before its
   * table is read): a node that answered discv4 once its ENR is in (or given up), and a node that
   * answered discv5 whose record has an `eth` entry and a TCP port. Consensus clients (`eth2`, no
   * `eth`) speak libp2p and are never handed over. The hook an RLPx dial queue plugs into to run in
   * parallel with discovery.
   */
  onNode?: (record: CrawlRecord) => void
}

/** The events a {@link Crawler} emits. */
export interface CrawlerEvents {
  /** a node answered for the first time (public key, 128 hex): it is alive; its record follows later */
  answer: [id: string]
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
 * Datagrams sent per second by backend, so that the crawl stays within one core: each datagram sent
 * brings ~1.7 back, and a datagram in or out costs ~110 µs of CPU in all on native (signing, hashing,
 * verifying in the pool, decoding). WASM verifies at half native's speed, JS at a thirtieth.
 */
const DEFAULT_RATE: Readonly<Record<CryptoBackend['name'], number>> = { native: 3000, wasm: 1500, js: 250 }
/** consecutive answers without anything new after which a table is taken as read */
const STALE_ANSWERS = 3
/** FINDNODE failures after which a node's table is given up (geth drops a node after 5) */
const MAX_FINDNODE_FAILURES = 5
/** verification backlog beyond which nothing new is sent */
const MAX_BACKLOG = 2048

/** what a queued step asks of its node (the low two bits of a schedule item) */
const Step = { ping: 0, enr: 1, findnode: 2, v5: 3 } as const
/** delayed events (the low two bits of a delay item) */
const Later = { retry: 0, bondWait: 1, v5retry: 2, reread: 3 } as const
/** discv5 FINDNODE failures after which a node's walk ends */
const V5_MAX_FAILURES = 3

/** schedule classes, in the order of `CLASSES` */
const C = { bond: 0, enr: 1, fresh: 2, table: 3, retry: 4, stored: 5, storedDead: 6 } as const
/**
 * Bonding again and record requests finish work already begun: first. Fresh nodes (likely alive),
 * table reads (how nodes are found), retries (mostly dead, sometimes lost) and nodes from an earlier
 * crawl share the rest by weight; nodes that were dead in the earlier crawl take what is left.
 */
const CLASSES: readonly ClassShare[] = ['first', 'first', 4, 3, 2, 1, 'last']

/** one table read in progress */
interface Read {
  /** rows this table gave us */
  seen: Set<number>
  /** full buckets seen, by distance */
  full: number[]
  d: number
  target: Uint8Array
  stale: number
  /** reprobing the full buckets: index into `full` (nearest first), probe number, whether it grew */
  reprobe: boolean
  fi: number
  k: number
  grew: boolean
  /** retries of the current target: after an incomplete answer, after a timeout */
  partial: number
  tries: number
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined
}

/**
 * Enumerates a discv4 network (and discv5's on the same socket when asked): bonds with every node it
 * hears of, fetches its record, reads its table bucket by bucket with FINDNODE targets at each log
 * distance, and reports each public key exactly once.
 */
export class Crawler extends EventEmitter<CrawlerEvents> {
  private readonly t: CrawlTransport
  private readonly v5: CrawlV5 | undefined
  private readonly useV4: boolean
  private readonly b: CryptoBackend
  private readonly targets: TargetTable
  private readonly attempts: number
  private readonly crossAttempts: number
  private readonly retryDelay: number
  private readonly enrAttempts: number
  private readonly findnodeAttempts: number
  private readonly baseTimeout: number
  private readonly maxReads: number
  private readonly reprobes: number
  private readonly rereads: number
  private readonly rereadDelay: number
  /** thin tables: late reads left and what the last read gave, per protocol (few nodes: a map) */
  private readonly thin = new Map<number, { left: [number, number]; last: [number, number] }>()
  private readonly lowest: number
  private readonly maxNodes: number
  private readonly nodes = new CrawlNodes()
  private readonly schedule: Schedule
  private readonly later: DelayQueue
  private readonly reads = new Map<number, Read>()
  /** answered nodes waiting for a table-read slot */
  private readonly readQueue: number[] = []
  private readQueueHead = 0
  /** external node sources (a DNS walk) still producing: the crawl waits for them */
  private sources = 0
  private answeredCount = 0
  private unansweredCount = 0
  private retrying = 0
  private dropped = 0
  private ownSends = 0
  private started = 0
  private stopped = false
  private wake: (() => void) | undefined
  private readonly onPacket = (p: Packet, from: Node): void => {
    if (p.type === PacketType.Ping) this.theirPing(from)
  }

  constructor(private readonly opts: CrawlerOptions) {
    super()
    this.t = opts.transport
    const protocols = opts.protocols ?? (this.t.v5 ? ['v4', 'v5'] : ['v4'])
    if (protocols.includes('v5') && !this.t.v5) throw new RangeError('a discv5 crawl needs a transport with discv5')
    this.useV4 = protocols.includes('v4')
    this.v5 = protocols.includes('v5') ? this.t.v5 : undefined
    this.b = opts.backend ?? defaultBackend
    this.targets = opts.targets ?? TargetTable.build(this.b)
    this.attempts = opts.attempts ?? 4
    this.crossAttempts = Math.min(this.attempts, opts.crossAttempts ?? 3)
    this.retryDelay = opts.retryDelayMs ?? 500
    this.enrAttempts = opts.enrAttempts ?? 6
    this.findnodeAttempts = opts.findnodeAttempts ?? 3
    this.baseTimeout = opts.replyTimeoutMs ?? this.t.replyTimeoutMs ?? 500
    this.maxReads = opts.maxReads ?? 2048
    this.reprobes = opts.reprobes ?? 2
    this.rereads = opts.rereads ?? 2
    this.rereadDelay = opts.rereadDelayMs ?? 10_000
    this.lowest = Math.max(1, Math.min(256, opts.lowestDistance ?? 240))
    this.maxNodes = opts.maxNodes ?? 1_000_000
    const rate = opts.rate ?? DEFAULT_RATE[this.b.name]
    if (!(rate > 0)) throw new RangeError('rate must be positive')
    this.schedule = new Schedule(
      { rate, maxPending: opts.maxPending ?? 4096, perIP: opts.perIP ?? 4, perNet: opts.perNet ?? 16, maxBacklog: MAX_BACKLOG, replyTimeoutMs: this.baseTimeout, classes: CLASSES },
      {
        wanted: (item) => this.wanted(item >>> 2, item & 3),
        ipKey: (item) => this.nodes.ipKey(item >>> 2),
        netKey: (item) => this.nodes.netKey(item >>> 2),
        send: (item) => this.send(item),
        sent: () => (this.t.stats?.packetsOut ?? this.ownSends) + (this.v5?.stats.packetsOut ?? 0),
        backlog: () => this.t.backlog ?? 0,
        pumped: () => this.signal(),
      },
    )
    // a stale event (its node moved on) may be the last thing the crawl waited for: look again after each
    this.later = new DelayQueue((item, gen) => {
      this.fire(item, gen)
      this.signal()
    })
    const now = Date.now()
    for (const p of opts.previous ?? []) {
      try {
        const pub = Buffer.from(p.id, 'hex')
        if (pub.length !== 64) continue
        this.add(new Node(pub, p.ip, p.udp, p.tcp), p.firstSeen, p.answered === false ? Origin.storedDead : Origin.stored)
      } catch {
        // a record the store kept from a broken run: skip it, the rest still seeds
      }
    }
    // each seed goes on every protocol it may speak (add's rules), records on discv5 first
    for (const n of opts.seeds ?? []) {
      const node = n instanceof ENR ? n.toNode() : n
      if (node) this.add(node, now, Origin.heard, (n instanceof ENR && this.v5) || !this.useV4 ? 'v5' : 'v4', n instanceof ENR ? n : undefined)
    }
  }

  /**
   * Queue a node (a seed, a DNS record, a node that dialled in, a table entry) on every protocol the
   * crawl walks and the node may speak, whichever protocol it was heard of on: a node is one node. A
   * record with `eth2` and no `eth` (a consensus client, which runs discv5 only) is not tried over
   * discv4 unless a discv4 table lists it. Known nodes are only updated; a signed record that came
   * with the node is kept when it is newer.
   */
  add(n: Node, firstSeen = Date.now(), origin: number = Origin.heard, via: CrawlProtocol = 'v4', record?: ENR): void {
    const nodes = this.nodes
    if (this.isSelf(n.id)) return
    if (via === 'v4' ? !this.useV4 : !this.v5) return
    let i = nodes.find(n.id)
    if (i < 0) {
      if (this.stopped || nodes.size >= this.maxNodes) {
        this.dropped++
        return
      }
      i = nodes.add(n.pubkey, n.id, n.ip, n.udp, n.tcp, origin, firstSeen)
      // not (yet) a discv4 node: its discv4 part counts as over until something says it speaks discv4
      nodes.state[i] = State.done
      nodes.flags[i]! |= F.v4na
      if (record) this.takeRecord(i, record)
    } else {
      if (!this.alive(i)) nodes.lastSeen[i] = Date.now()
      if (record && record.seq > BigInt(nodes.seq[i]!) && !(nodes.flags[i]! & F.complete)) this.takeRecord(i, record)
      if (nodes.flags[i]! & F.complete) return
    }
    const cls = origin === Origin.heard ? C.fresh : origin === Origin.stored ? C.stored : C.storedDead
    // discv4: heard of there, or (in a crawl of both) anything whose record is not a consensus client's
    const v4 = this.useV4 && (via === 'v4' || (this.v5 !== undefined && !this.consensusOnly(i)))
    if (v4 && nodes.flags[i]! & F.v4na) {
      nodes.flags[i]! &= ~F.v4na
      nodes.state[i] = State.queued
      this.schedule.push(cls, i * 4 + Step.ping)
    } else if (v4 && origin === Origin.heard && nodes.origin[i] !== Origin.heard && nodes.state[i] === State.queued) {
      // listed by a live node now: an earlier crawl's node is as likely alive as any fresh one
      nodes.origin[i] = Origin.heard
      this.schedule.push(C.fresh, i * 4 + Step.ping)
    }
    if (this.v5 && nodes.v5st[i] === V5.none) {
      nodes.v5st[i] = V5.queued
      this.schedule.push(origin === Origin.heard ? C.fresh : C.stored, i * 4 + Step.v5)
    }
    this.pump()
  }

  /** its record names a consensus client (`eth2`, no `eth`): libp2p and discv5 only */
  private consensusOnly(i: number): boolean {
    const fl = this.nodes.flags[i]!
    return (fl & F.eth2) !== 0 && (fl & F.eth) === 0
  }

  /** answered on any protocol */
  private alive(i: number): boolean {
    return (this.nodes.flags[i]! & (F.answered | F.v5answered)) !== 0
  }

  /** first sign of life on either protocol: counted once */
  private markAlive(i: number, flag: number): void {
    const n = this.nodes
    const was = this.alive(i)
    n.flags[i]! |= flag
    n.lastSeen[i] = Date.now()
    if (was) return
    // the only error a node can have before its first answer is the other protocol's silence
    n.error[i] = 0
    this.answeredCount++
    if (this.listenerCount('answer') > 0) this.emit('answer', hex(n.pubkey(i)))
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
      found: this.nodes.size,
      answered: this.answeredCount,
      unanswered: this.unansweredCount,
      queued: this.schedule.queued + this.readQueue.length - this.readQueueHead,
      inFlight: this.schedule.pending,
      retrying: this.retrying,
      dropped: this.dropped,
      packetsIn: this.t.stats?.packetsIn ?? 0,
      packetsOut: this.t.stats?.packetsOut ?? this.ownSends,
      sendRate: Math.round(this.schedule.rate),
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
    this.t.on('packet', this.onPacket)
    try {
      this.pump()
      while (!this.finished()) await new Promise<void>((resolve) => (this.wake = resolve))
    } finally {
      clearTimeout(timer)
      this.opts.signal?.removeEventListener('abort', onAbort)
      this.t.off('packet', this.onPacket)
      this.schedule.stop()
      this.later.clear()
    }
    const nodes = this.nodes
    for (let i = 0; i < nodes.size; i++) {
      if (nodes.flags[i]! & F.complete) continue
      if (!this.alive(i) && nodes.error[i] === 0) {
        const tried = nodes.pings[i]! + nodes.v5pings[i]!
        nodes.error[i] = nodes.errors.code(tried === 0 ? 'not checked before the crawl ended' : 'no answer before the crawl ended')
      }
      const v5 = nodes.v5st[i]
      if (v5 !== V5.none && v5 !== V5.done) {
        if (v5 === V5.retrying) this.retrying--
        nodes.v5st[i] = V5.done
      }
      if (nodes.state[i] !== State.done) this.finish(i)
      else this.complete(i)
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

  /**
   * End the crawl: nothing new is sent, requests in flight run out (within one reply timeout), and
   * every node not reported yet is reported as it stands.
   */
  stop(): void {
    if (this.stopped) return
    this.stopped = true
    this.schedule.stop()
    this.later.clear()
    this.signal()
  }

  private finished(): boolean {
    if (this.stopped) return this.schedule.pending === 0
    return this.schedule.pending === 0 && this.schedule.queued === 0 && this.later.size === 0 && this.sources === 0 && !this.pullRead()
  }

  private signal(): void {
    const w = this.wake
    this.wake = undefined
    w?.()
  }

  private pump(): void {
    if (this.started === 0 || this.stopped) return
    this.schedule.pump()
  }

  private isSelf(id: Uint8Array): boolean {
    const s = this.t.self.id
    for (let k = 0; k < 32; k++) if (s[k] !== id[k]) return false
    return true
  }

  private node(i: number): Node {
    const n = this.nodes
    return new Node(n.pubkey(i).slice(), n.ip(i), n.udp[i]!, n.tcp[i]!, n.nodeId(i).slice())
  }

  /** the reply timeout for `i`: geth's, unless its measured round trip asks for more */
  private timeout(i: number): number {
    const rtt = this.nodes.rtt[i]!
    return rtt === 0 ? this.baseTimeout : Math.max(this.baseTimeout, 2 * (rtt - 1) + 100)
  }

  private measured(i: number, since: number): void {
    const ms = Math.min(65534, Math.max(0, Math.round(performance.now() - since)))
    const cur = this.nodes.rtt[i]!
    if (cur === 0 || ms + 1 < cur) this.nodes.rtt[i] = ms + 1
    else this.schedule.observe(ms + 1 - cur)
  }

  // ---- the schedule's side ---------------------------------------------------------------------

  private wanted(i: number, step: number): boolean {
    const n = this.nodes
    if (n.flags[i]! & (step === Step.findnode ? F.late4 : step === Step.v5 ? F.late5 : 0)) return !this.stopped
    if (step === Step.v5) return !this.stopped && (n.v5st[i] === V5.queued || n.v5st[i] === V5.active)
    const st = n.state[i]!
    if (st === State.done || this.stopped) return false
    const fl = n.flags[i]!
    switch (step) {
      case Step.ping:
        if (!(fl & F.answered)) return st === State.queued
        // a bonding round of an answered node (not once its pong is in and its ping awaited)
        return (fl & F.bonding) !== 0 && (fl & F.bondWait) === 0
      case Step.enr:
        return (fl & F.enrDone) === 0
      default:
        if (fl & F.walkDone) return false
        // a read begins only when there is room for it; otherwise it waits its turn
        if (!this.reads.has(i) && this.reads.size >= this.maxReads) {
          this.readQueue.push(i)
          return false
        }
        return true
    }
  }

  private send(item: number): void {
    const i = item >>> 2
    const step = item & 3
    if (!this.t.stats) this.ownSends++
    this.nodes.out[i]!++
    if (step === Step.ping) this.sendPing(i, item)
    else if (step === Step.enr) this.sendENR(i, item)
    else if (this.nodes.flags[i]! & (step === Step.findnode ? F.late4 : F.late5)) this.sendLate(i, item, step === Step.findnode ? 0 : 1)
    else if (step === Step.findnode) this.sendFindnode(i, item)
    else this.sendV5(i, item)
  }

  /** a request ended: free its schedule slot, see whether the node is done, send more */
  private ended(i: number, item: number): void {
    this.nodes.out[i]!--
    this.schedule.completed(item)
    this.maybeFinish(i)
    this.pump()
    this.signal()
  }

  private fire(item: number, gen: number): void {
    const i = item >>> 2
    const n = this.nodes
    if ((item & 3) === Later.reread) return this.reread(i, gen)
    if ((item & 3) === Later.v5retry) {
      if (n.v5st[i] !== V5.retrying || this.stopped) return
      this.retrying--
      n.v5st[i] = V5.queued
      this.schedule.push(n.origin[i] === Origin.heard ? C.retry : C.stored, i * 4 + Step.v5)
      this.pump()
      return
    }
    if (n.gen[i] !== (gen & 0xffff) || n.state[i] === State.done || this.stopped) return
    if ((item & 3) === Later.retry) {
      this.retrying--
      n.state[i] = State.queued
      this.schedule.push(n.origin[i] === Origin.heard ? C.retry : n.origin[i] === Origin.stored ? C.stored : C.storedDead, i * 4 + Step.ping)
    } else if (n.flags[i]! & F.bondWait) {
      // it did not ping back: it may hold our pong from before; ask anyway
      this.bonded(i)
    }
    this.pump()
  }

  private delay(i: number, kind: number, ms: number): void {
    const n = this.nodes
    // discv5 retries and re-reads have their own state; the generation guards discv4's events
    if (kind === Later.retry || kind === Later.bondWait) n.gen[i] = (n.gen[i]! + 1) & 0xffff
    this.later.push(Date.now() + ms, i * 4 + kind, n.gen[i]!)
  }

  // ---- ping and bond -------------------------------------------------------------------------

  private sendPing(i: number, item: number): void {
    const n = this.nodes
    const first = !(n.flags[i]! & F.answered)
    if (first) {
      n.state[i] = State.pinging
      n.pings[i]!++
      n.flags[i]! |= F.bonding
    } else {
      // bonding again: its next ping says it has our fresh pong
      n.flags[i]! &= ~F.pingedUs
    }
    const since = performance.now()
    this.t.ping(this.node(i), { timeoutMs: this.timeout(i), bond: false }).then(
      () => {
        this.measured(i, since)
        this.answered(i)
        this.ended(i, item)
      },
      (err: unknown) => {
        this.pingFailed(i, err)
        this.ended(i, item)
      },
    )
  }

  /** a pong, or the node's own ping: it is alive */
  private answered(i: number): void {
    const n = this.nodes
    if (n.state[i] === State.done) return
    n.lastSeen[i] = Date.now()
    if (!(n.flags[i]! & F.answered)) {
      this.markAlive(i, F.answered)
      if (n.state[i] === State.retrying) {
        this.retrying--
        n.gen[i] = (n.gen[i]! + 1) & 0xffff
      }
      n.state[i] = State.active
      n.flags[i]! |= F.bonding
    }
    if (!(n.flags[i]! & F.bonding) || n.flags[i]! & F.bondWait) return
    if (n.flags[i]! & F.pingedUs) return this.bonded(i)
    // Its ping follows its pong at once, but a busy peer may take a while to send it, and asking
    // before our pong to it arrived gets nothing. A node that does not ping back (it holds our pong
    // from before) only waits here: no datagram or slot is spent.
    const rtt = n.rtt[i]! - 1
    n.flags[i]! |= F.bondWait
    this.delay(i, Later.bondWait, Math.min(this.baseTimeout, Math.max(100, rtt)))
  }

  private pingFailed(i: number, err: unknown): void {
    const n = this.nodes
    if (n.state[i] === State.done || this.stopped) return
    if (n.flags[i]! & F.answered) {
      // a bonding round of an answered node went unanswered: the retried request will tell
      if (n.flags[i]! & F.bonding && !(n.flags[i]! & F.bondWait)) this.bonded(i)
      return
    }
    if (n.state[i] !== State.pinging) return
    const alive = this.alive(i)
    if (n.pings[i]! < (alive ? this.crossAttempts : this.attempts)) {
      n.state[i] = State.retrying
      this.retrying++
      this.delay(i, Later.retry, this.retryDelay * 2 ** (n.pings[i]! - 1))
      return
    }
    // alive over discv5: it does not speak discv4, which its record's `protocols` says
    if (!alive) {
      const e = new CrawlError('UNANSWERED', `${n.ip(i)}:${n.udp[i]}`, `no answer after ${n.pings[i]} attempts: ${errorText(err)}`)
      n.error[i] = n.errors.code(`no answer after ${n.pings[i]} attempts (${errorCode(err) === 'TIMEOUT' ? 'ping timed out' : errorText(err)})`)
      this.emit('nodeError', e)
    }
    this.finish(i)
  }

  /** the node pinged us: it is alive, and it holds our pong (the transport answered at once) */
  private theirPing(from: Node): void {
    const i = this.nodes.find(from.id)
    if (i < 0 || this.nodes.ip(i) !== from.ip) return
    const n = this.nodes
    n.flags[i]! |= F.pingedUs
    if (n.state[i] === State.done || this.stopped) return
    if (!(n.flags[i]! & F.answered)) {
      // its own ping answers for it (our pong to it may be what got lost)
      this.answered(i)
    } else if (n.flags[i]! & F.bondWait) {
      this.bonded(i)
    }
    this.pump()
    this.signal()
  }

  /** Bonded (both sides hold a pong): send the record request and the table read, or resume them. */
  private bonded(i: number): void {
    const n = this.nodes
    n.flags[i]! &= ~(F.bonding | F.bondWait)
    n.gen[i] = (n.gen[i]! + 1) & 0xffff
    const fl = n.flags[i]!
    if (!(fl & F.enrDone) && (!(fl & F.enrBusy) || fl & F.enrWaits)) {
      n.flags[i] = (n.flags[i]! | F.enrBusy) & ~F.enrWaits
      this.schedule.push(C.enr, i * 4 + Step.enr)
    }
    if (!(fl & F.walkDone) && (!(fl & F.walkBusy) || fl & F.walkWaits)) {
      n.flags[i] = (n.flags[i]! | F.walkBusy) & ~F.walkWaits
      this.schedule.push(C.table, i * 4 + Step.findnode)
    }
  }

  /** A request to an answered node timed out: bond again (it may have missed our pong), then retry. */
  private rebond(i: number, waits: number): void {
    const n = this.nodes
    n.flags[i]! |= waits
    if (n.flags[i]! & F.bonding) return
    n.flags[i]! |= F.bonding
    this.schedule.push(C.bond, i * 4 + Step.ping)
  }

  // ---- the record ----------------------------------------------------------------------------

  private sendENR(i: number, item: number): void {
    const since = performance.now()
    this.t.enrRequest(this.node(i), { timeoutMs: this.timeout(i), bond: false }).then(
      (r) => {
        this.measured(i, since)
        this.takeRecord(i, r)
        this.enrDone(i)
        this.ended(i, item)
      },
      (err: unknown) => {
        this.enrFailed(i, err)
        this.ended(i, item)
      },
    )
  }

  private enrFailed(i: number, err: unknown): void {
    const n = this.nodes
    if (n.state[i] === State.done || this.stopped) return
    const code = errorCode(err)
    if (code === 'TIMEOUT' && ++n.enrFails[i]! < this.enrAttempts) {
      // The node holds our pong for a day: a first silence is a lost datagram more often than a lost
      // bond, so ask again at once; after that, bond again first.
      if (n.enrFails[i] === 1) return this.schedule.push(C.enr, i * 4 + Step.enr)
      return this.rebond(i, F.enrWaits)
    }
    // it answered the ping but not the ENRRequest (pre-EIP-868 clients), or sent a bad record: still a live node
    const msg = `ENRRequest failed: ${code === 'TIMEOUT' ? 'timed out' : errorText(err)}`
    n.error[i] = n.errors.code(msg)
    this.emit('nodeError', new CrawlError(code === 'BAD_RECORD' ? 'BAD_RECORD' : 'ENR_FAILED', `${n.ip(i)}:${n.udp[i]}`, msg))
    this.enrDone(i)
  }

  private enrDone(i: number): void {
    const n = this.nodes
    n.flags[i] = (n.flags[i]! | F.enrDone) & ~(F.enrBusy | F.enrWaits)
    if (n.state[i] !== State.done) this.report(i)
  }

  /** Hand the node to `onNode` once, as soon as it is worth a dial (see {@link CrawlerOptions.onNode}). */
  private report(i: number): void {
    const n = this.nodes
    const fl = n.flags[i]!
    if (!this.opts.onNode || fl & (F.reported | F.complete) || this.stopped) return
    const v4 = (fl & F.answered) !== 0 && (fl & F.enrDone) !== 0
    const v5 = (fl & F.v5answered) !== 0 && (fl & F.eth) !== 0 && (n.announced(i)?.tcp ?? n.tcp[i]!) > 0
    if (!v4 && !v5) return
    n.flags[i]! |= F.reported
    this.opts.onNode(this.toRecord(i))
  }

  /**
   * Keep the raw record and what the output needs of it (decoding again would verify it again). The
   * record's endpoint wins for the output; we keep talking to the address that answered.
   */
  private takeRecord(i: number, r: ENR): void {
    const n = this.nodes
    n.setRecord(i, r.raw)
    n.seq[i] = Number(r.seq)
    // a newer record says afresh what the node is
    n.flags[i] = (n.flags[i]! & ~(F.eth | F.eth2)) | (r.isEth2 ? F.eth2 : 0) | (r.entries.has('eth') ? F.eth : 0)
    n.network[i] = 0
    n.fork[i] = 0
    const ep = r.toNode()
    if (ep && (ep.ip !== n.ip(i) || ep.udp !== n.udp[i] || ep.tcp !== n.tcp[i])) n.setRecordEndpoint(i, { ip: ep.ip, udp: ep.udp, tcp: ep.tcp })
    if (n.flags[i]! & F.eth) {
      // an `eth` entry that is no fork id of a known chain (or none at all) is some other chain's
      const fid = r.ethForkId
      const m = fid && matchForkHash(fid.hash)
      n.network[i] = n.networks.code(m?.network ?? 'unknown')
      if (m?.fork !== undefined) n.fork[i] = n.forks.code(m.fork)
    }
    // consensus entries, a client entry, IPv6 and QUIC: kept only for the records that have them
    const x: RecordExtras = { ...quicPorts(r.entries) }
    const consensus = consensusInfo(r.entries)
    if (consensus) x.consensus = consensus
    const client = clientEntry(r.entries)
    if (client !== undefined) x.client = client
    if (r.ip6 !== undefined) x.ip6 = r.ip6
    if (r.udp6 !== undefined) x.udp6 = r.udp6
    if (Object.keys(x).length > 0) n.setExtras(i, x)
  }

  // ---- the table -----------------------------------------------------------------------------

  private sendFindnode(i: number, item: number): void {
    let r = this.reads.get(i)
    if (!r) {
      r = { seen: new Set(), full: [], d: 256, target: this.targets.targetAt(this.nodes.nodeId(i), 256), stale: 0, reprobe: false, fi: 0, k: 1, grew: false, partial: 0, tries: 0 }
      this.reads.set(i, r)
    }
    const read = r
    const target = read.target
    this.t.neighbors(this.node(i), { key: target, id: this.b.keccak256(target) }, { timeoutMs: this.timeout(i), bond: false }).then(
      (a) => {
        // no round trip from NEIGHBORS: they echo nothing, so a late answer to an earlier FINDNODE
        // would pass for a fast answer to this one (pongs and ENR responses name their request)
        this.neighborsAnswer(i, read, a)
        this.ended(i, item)
      },
      (err: unknown) => {
        this.findnodeFailed(i, read, err)
        this.ended(i, item)
      },
    )
  }

  private neighborsAnswer(i: number, r: Read, a: NeighborsAnswer): void {
    const n = this.nodes
    if (n.state[i] === State.done || this.stopped) return
    n.lastSeen[i] = Date.now()
    const self = n.nodeId(i)
    let fresh = 0
    let within = 0
    let atD = 0
    for (const x of a.nodes) {
      const ld = logDistance(x.id, self)
      if (ld <= r.d) within++
      if (ld === r.d) atD++
      this.add(x)
      const row = n.find(x.id)
      if (row >= 0 && !r.seen.has(row)) {
        r.seen.add(row)
        fresh++
      }
    }
    n.neighbors[i] = Math.min(65535, r.seen.size)
    r.tries = 0
    // the rest of a split answer was lost: ask the same once more
    if (!a.complete && r.partial < 1) {
      r.partial++
      return this.ask(i)
    }
    r.partial = 0
    if (!r.reprobe) {
      if (atD >= BUCKET_SIZE) r.full.push(r.d)
      r.stale = fresh === 0 ? r.stale + 1 : 0
      // fewer than 16 at ≤ d: every entry at ≤ d was in this answer
      const end = a.nodes.length < BUCKET_SIZE || within < BUCKET_SIZE || r.stale >= STALE_ANSWERS || r.d <= this.lowest
      if (!end) {
        r.d--
        r.target = this.targets.targetAt(self, r.d)
        return this.ask(i)
      }
      // nearest full bucket first: a geth table answers it the same way twice and we stop there
      r.reprobe = true
      r.full.reverse()
      r.fi = 0
      r.k = 1
      r.grew = false
    } else if (fresh === 0) {
      if (!r.grew) return this.walkDone(i, r.seen.size)
      r.fi++
      r.k = 1
      r.grew = false
    } else {
      r.grew = true
      r.k++
    }
    this.nextProbe(i, r)
  }

  /** the next reprobe of a full bucket, or the end of the read */
  private nextProbe(i: number, r: Read): void {
    const id = this.nodes.nodeId(i)
    while (r.fi < r.full.length) {
      const target = r.k <= this.reprobes ? this.variant(id, r.full[r.fi]!, r.k) : undefined
      if (target) {
        r.d = r.full[r.fi]!
        r.target = target
        return this.ask(i)
      }
      if (!r.grew) break
      r.fi++
      r.k = 1
      r.grew = false
    }
    this.walkDone(i, r.seen.size)
  }

  private ask(i: number): void {
    this.schedule.push(C.table, i * 4 + Step.findnode)
  }

  private findnodeFailed(i: number, r: Read, err: unknown): void {
    const n = this.nodes
    if (n.state[i] === State.done || this.stopped) return
    const timeout = errorCode(err) === 'TIMEOUT'
    if (timeout && ++r.tries < this.findnodeAttempts && ++n.fnFails[i]! < MAX_FINDNODE_FAILURES) return this.rebond(i, F.walkWaits)
    const msg = `FINDNODE failed: ${timeout ? 'timed out' : errorText(err)}`
    n.error[i] = n.errors.code(msg)
    this.emit('nodeError', new CrawlError('FINDNODE_FAILED', `${n.ip(i)}:${n.udp[i]}`, msg))
    this.walkDone(i)
  }

  /** The table read ended: read through (with the distinct nodes it `served`) or given up. */
  private walkDone(i: number, served?: number): void {
    const n = this.nodes
    n.flags[i] = (n.flags[i]! | F.walkDone) & ~(F.walkBusy | F.walkWaits)
    if (this.reads.delete(i)) this.pullRead()
    if (served !== undefined) this.planReread(i, 0, served)
  }

  /**
   * Read a thin table again later (see {@link CrawlerOptions.rereads}): protocol `p` (0 discv4, 1
   * discv5) of node `i` served this many nodes.
   */
  private planReread(i: number, p: 0 | 1, served: number): void {
    if (this.rereads === 0 || this.stopped || served >= BUCKET_SIZE || this.nodes.size < 4 * BUCKET_SIZE) return
    let t = this.thin.get(i)
    if (!t) this.thin.set(i, (t = { left: [this.rereads, this.rereads], last: [-1, -1] }))
    const grew = served > t.last[p]
    t.last[p] = served
    if (!grew || t.left[p] === 0) return
    t.left[p]--
    // the generation slot carries the protocol
    this.later.push(Date.now() + this.rereadDelay, i * 4 + Later.reread, p)
  }

  /** A late read is due: queue its one request. */
  private reread(i: number, p: number): void {
    if (this.stopped) return
    this.nodes.flags[i]! |= p === 0 ? F.late4 : F.late5
    this.schedule.push(C.table, i * 4 + (p === 0 ? Step.findnode : Step.v5))
    this.pump()
  }

  /** The late read of node `i`'s table over protocol `p`: what it adds is crawled, and it may be planned again. */
  private sendLate(i: number, item: number, p: 0 | 1): void {
    const n = this.nodes
    n.flags[i]! &= ~(p === 0 ? F.late4 : F.late5)
    const node = this.node(i)
    const took = (found: Node[], records?: ENR[]): void => {
      const now = Date.now()
      found.forEach((x, k) => this.add(x, now, Origin.heard, p === 0 ? 'v4' : 'v5', records?.[k]))
      this.planReread(i, p, found.length)
      this.ended(i, item)
    }
    const failed = (): void => this.ended(i, item)
    if (p === 0) {
      const target = this.targets.targetAt(n.nodeId(i), 256)
      this.t.neighbors(node, { key: target, id: this.b.keccak256(target) }, { timeoutMs: this.timeout(i), bond: false }).then((a) => took(a.nodes), failed)
      return
    }
    const ds: number[] = []
    for (let d = 256; d >= this.lowest && ds.length < BUCKET_SIZE && d > this.settledDepth() - 2; d--) ds.push(d)
    this.v5!.findnode(node, ds).then((records) => {
      const ok = records.flatMap((r) => {
        const x = r.toNode()
        return x ? [{ x, r }] : []
      })
      took(
        ok.map((o) => o.x),
        ok.map((o) => o.r),
      )
    }, failed)
  }

  /** Give a free read slot to the longest-waiting node; false when nobody waits. */
  private pullRead(): boolean {
    const n = this.nodes
    while (this.readQueueHead < this.readQueue.length) {
      const next = this.readQueue[this.readQueueHead++]!
      if (this.readQueueHead > 4096 && this.readQueueHead * 2 > this.readQueue.length) {
        this.readQueue.splice(0, this.readQueueHead)
        this.readQueueHead = 0
      }
      if (n.state[next] !== State.done && !(n.flags[next]! & F.walkDone)) {
        this.schedule.push(C.table, next * 4 + Step.findnode)
        this.pump()
        return true
      }
    }
    return false
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

  // ---- reporting -----------------------------------------------------------------------------

  private maybeFinish(i: number): void {
    const n = this.nodes
    const fl = n.flags[i]!
    if (n.state[i] === State.done || !(fl & F.answered)) return
    if (fl & F.enrDone && fl & F.walkDone && !(fl & (F.bonding | F.bondWait)) && n.out[i] === 0) this.finish(i)
  }

  /** The node's discv4 part is over; its record goes out once its discv5 part is too. */
  private finish(i: number): void {
    const n = this.nodes
    if (n.state[i] === State.done) return
    if (n.state[i] === State.retrying) this.retrying--
    n.state[i] = State.done
    n.gen[i] = (n.gen[i]! + 1) & 0xffff
    if (this.reads.delete(i)) n.flags[i]! |= F.walkDone
    this.complete(i)
  }

  /** Report the node, exactly once, when every protocol it is crawled on is done with it. */
  private complete(i: number): void {
    const n = this.nodes
    if (n.flags[i]! & F.complete || n.state[i] !== State.done) return
    const v5 = n.v5st[i]!
    if (v5 !== V5.none && v5 !== V5.done) return
    n.flags[i]! |= F.complete
    if (!this.alive(i)) this.unansweredCount++
    this.emit('record', this.toRecord(i))
  }

  // ---- discv5 --------------------------------------------------------------------------------

  /** The next discv5 request of a node: a PING (with the handshake) first, then its record and its table by distance. */
  private sendV5(i: number, item: number): void {
    const n = this.nodes
    const node = this.node(i)
    const since = performance.now()
    if (n.v5st[i] === V5.queued) {
      n.v5st[i] = V5.pinging
      n.v5pings[i]!++
      this.v5!.ping(node).then(
        (pong) => {
          this.measured(i, since)
          this.v5Answered(i, pong.enrSeq)
          this.ended(i, item)
        },
        (err: unknown) => {
          this.v5PingFailed(i, err)
          this.ended(i, item)
        },
      )
      return
    }
    const d = n.v5d[i]!
    this.v5!.findnode(node, [d]).then(
      (records) => {
        this.measured(i, since)
        this.v5Nodes(i, d, records)
        this.ended(i, item)
      },
      (err: unknown) => {
        this.v5FindFailed(i, d, err)
        this.ended(i, item)
      },
    )
  }

  private v5Answered(i: number, enrSeq: bigint): void {
    const n = this.nodes
    if (n.v5st[i] !== V5.pinging || this.stopped) return
    this.markAlive(i, F.v5answered)
    n.v5st[i] = V5.active
    // its record first when we have none or an older one than it announces
    const stale = n.enrLen[i] === 0 || enrSeq > BigInt(n.seq[i]!)
    n.v5d[i] = stale ? 0 : 256
    this.schedule.push(stale ? C.enr : C.table, i * 4 + Step.v5)
    if (!stale) this.report(i)
  }

  private v5PingFailed(i: number, err: unknown): void {
    const n = this.nodes
    if (n.v5st[i] !== V5.pinging || this.stopped) return
    if (n.v5pings[i]! < (n.flags[i]! & F.answered ? this.crossAttempts : this.attempts)) {
      n.v5st[i] = V5.retrying
      this.retrying++
      this.delay(i, Later.v5retry, this.retryDelay * 2 ** (n.v5pings[i]! - 1))
      return
    }
    if (n.flags[i]! & F.v4na) {
      n.error[i] = n.errors.code(`no answer after ${n.v5pings[i]} attempts (${errorCode(err) === 'TIMEOUT' ? 'discv5 ping timed out' : errorText(err)})`)
      this.emit('nodeError', new CrawlError('UNANSWERED', `${n.ip(i)}:${n.udp[i]}`, `no discv5 answer after ${n.v5pings[i]} attempts: ${errorText(err)}`))
    }
    this.v5Done(i)
  }

  /** A NODES answer: its own record at distance 0, else the nodes of one bucket. */
  private v5Nodes(i: number, d: number, records: ENR[]): void {
    const n = this.nodes
    if (n.v5st[i] !== V5.active || this.stopped) return
    n.v5fails[i] = 0
    if (d === 0) {
      const own = records.find((r) => this.sameId(r.nodeId, i))
      if (own) this.takeRecord(i, own)
      this.report(i)
      n.v5d[i] = 256
      this.schedule.push(C.table, i * 4 + Step.v5)
      return
    }
    const now = Date.now()
    for (const r of records) {
      const node = r.toNode()
      if (node) this.add(node, now, Origin.heard, 'v5', r)
    }
    n.neighbors[i] = Math.min(65535, n.neighbors[i]! + records.length)
    n.v5got[i] = Math.min(65535, n.v5got[i]! + records.length)
    n.v5empty[i] = records.length === 0 ? n.v5empty[i]! + 1 : 0
    // Two empty buckets in a row: the rest of the table, nearer still, is as empty — once the walk is
    // as deep as the network's size says tables reach. Above that an empty answer may only mean the
    // node has not yet checked that bucket's entries (geth serves checked entries only).
    if ((n.v5empty[i]! >= 2 && d <= this.settledDepth()) || d - 1 < this.lowest) {
      this.planReread(i, 1, n.v5got[i]!)
      return this.v5Done(i)
    }
    n.v5d[i] = d - 1
    this.schedule.push(C.table, i * 4 + Step.v5)
  }

  private v5FindFailed(i: number, d: number, err: unknown): void {
    const n = this.nodes
    if (n.v5st[i] !== V5.active || this.stopped) return
    if (++n.v5fails[i]! < V5_MAX_FAILURES) {
      this.schedule.push(C.table, i * 4 + Step.v5)
      return
    }
    if (n.error[i] === 0) n.error[i] = n.errors.code(`discv5 FINDNODE ${d === 0 ? '(record)' : ''} failed: ${errorCode(err) === 'TIMEOUT' ? 'timed out' : errorText(err)}`.replace('  ', ' '))
    this.v5Done(i)
  }

  private v5Done(i: number): void {
    this.nodes.v5st[i] = V5.done
    this.report(i)
    this.complete(i)
  }

  /**
   * The log distance down to which a table in a network of the size found so far holds entries: a
   * node's bucket at 256 − k holds about found ÷ 2^(k+1) of them, so below 256 − log2(found) they thin
   * out to none.
   */
  private settledDepth(): number {
    return 256 - Math.floor(Math.log2(Math.max(2, this.nodes.size)))
  }

  private sameId(id: Uint8Array, i: number): boolean {
    const o = i * 32
    const a = this.nodes.id
    for (let k = 0; k < 32; k++) if (a[o + k] !== id[k]) return false
    return true
  }

  private toRecord(i: number): CrawlRecord {
    const n = this.nodes
    const ep = n.announced(i) ?? { ip: n.ip(i), udp: n.udp[i]!, tcp: n.tcp[i]! }
    const answered = this.alive(i)
    const fl = n.flags[i]!
    const r: CrawlRecord = {
      id: hex(n.pubkey(i)),
      ip: ep.ip,
      udp: ep.udp,
      tcp: ep.tcp,
      firstSeen: new Date(n.firstSeen[i]!).toISOString(),
      lastSeen: new Date(n.lastSeen[i]!).toISOString(),
      answered,
      eth2: (fl & F.eth2) !== 0,
    }
    if (answered && (fl & (F.answered | F.eth)) !== 0) r.layer = 'execution'
    else if (answered && fl & F.eth2) r.layer = 'consensus'
    // a discv4-only crawl keeps its records as they were; with discv5 each says where it answered
    if (this.v5) {
      const tried: CrawlProtocol[] = [...(fl & F.v4na ? [] : ['v4' as const]), ...(n.v5st[i] !== V5.none ? ['v5' as const] : [])]
      const on = tried.filter((p) => (p === 'v4' ? fl & F.answered : fl & F.v5answered))
      r.protocols = on.length > 0 ? on : tried
    }
    const x = n.extras(i)
    if (x) Object.assign(r, { ...(x.consensus ? { consensus: x.consensus } : {}), ...(x.client !== undefined ? { enrClient: x.client } : {}), ...(x.ip6 !== undefined ? { ip6: x.ip6, ...(x.udp6 !== undefined ? { udp6: x.udp6 } : {}) } : {}), ...(x.quic !== undefined ? { quic: x.quic } : {}), ...(x.quic6 !== undefined ? { quic6: x.quic6 } : {}) })
    const raw = n.record(i)
    if (raw) {
      r.enr = 'enr:' + Buffer.from(raw).toString('base64url')
      r.seq = n.seq[i]!
    }
    const pings = n.flags[i]! & F.v4na ? n.v5pings[i]! : n.pings[i]!
    if (pings > 0) r.attempts = pings
    if (n.rtt[i]! > 0) r.rttMs = n.rtt[i]! - 1
    const network = n.networks.text(n.network[i]!)
    if (network !== undefined) r.network = network
    const fork = n.forks.text(n.fork[i]!)
    if (fork !== undefined) r.fork = fork
    if (answered) r.neighbors = n.neighbors[i]!
    const error = n.errors.text(n.error[i]!)
    if (error !== undefined) r.error = error
    return r
  }
}
