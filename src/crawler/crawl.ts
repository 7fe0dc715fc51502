/**
 * The discovery crawl: visit every node we hear of once, over discv4 and discv5 on one socket, straight
 * over the transports (not through a Kademlia table, which would keep only 16 nodes a bucket). A node
 * is one node whichever protocol found it: it is checked on every protocol the crawl walks and it may
 * speak, and reported once.
 *
 * This module is the core: the node set, the schedule glue, dial hand-over, late reads of thin tables
 * and finishing. What each protocol asks of a node lives in its walker (walk-v4.ts, walk-v5.ts), which
 * sees the crawl only through context.ts; what a record says is built in record-builder.ts.
 *
 * Nothing waits on a slot: every step is a request handed to the schedule (schedule.ts), which sends
 * at the configured datagram rate with many requests in flight at once, so a crawl over a network
 * with 150 ms round trips runs as fast as one over loopback. Nodes from an earlier crawl share the
 * budget with those heard of now, and the ones that were dead then go last.
 *
 * Per-node state is packed (nodes.ts); per-request state lives only while the request does. Every
 * node found is reported exactly once: when every protocol is done with it, when it is given up on,
 * or when the crawl ends (duration, abort, nothing left).
 */
import { EventEmitter } from 'node:events'
import { hex } from '../crypto/bytes.js'
import { backend as defaultBackend } from '../crypto/backend.js'
import type { CryptoBackend } from '../crypto/types.js'
import { BUCKET_SIZE } from '../discover/kademlia.js'
import { PacketType, type Packet } from '../discover/wire.js'
import { ENR } from '../enode/enr.js'
import { Node } from '../enode/node.js'
import { C, CLASSES, Later, Step, type Settings, type WalkContext } from './context.js'
import { PairSet } from './edges.js'
import { CrawlNodes, F, Origin, State, V5 } from './nodes.js'
import { CrawlError, type CrawlerEvents, type CrawlerOptions, type CrawlProgress } from './options.js'
import type { CrawlProtocol, DiscoveryRecord } from './record.js'
import { buildRecord, isAlive, takeRecord } from './record-builder.js'
import { defaultRate } from './capacity.js'
import { DelayQueue, Schedule } from './schedule.js'
import { TargetTable } from './targets.js'
import type { CrawlTransport, CrawlV5 } from './transport.js'
import { V4Walk } from './walk-v4.js'
import { V5Walk } from './walk-v5.js'

/**
 * Datagrams sent per second by backend over a transport that does not say where its crypto runs, so
 * that the crawl stays within one core: each datagram sent brings ~1.7 back, and a datagram in or out
 * costs ~110 µs of CPU in all on native. When the transport says (Discv4's cryptoThreads, as `ethp2p
 * crawl` sets it) the default follows the measured capacity instead (capacity.ts).
 */
const DEFAULT_RATE: Readonly<Record<CryptoBackend['name'], number>> = { native: 3000, wasm: 1500, js: 250 }
/** verification backlog beyond which nothing new is sent */
const MAX_BACKLOG = 2048
/**
 * What the rate charges a discv5 handshake beyond its datagram, in datagrams: an ephemeral key, an
 * ECDH and an ID signature (or, answering one, an ECDH and a signature check), where any other
 * datagram costs one signature or recovery. Charged as one, a walk of fresh nodes paid three times
 * the crypto the rate allows.
 */
const HANDSHAKE_EXTRA = 2

/**
 * Enumerates the discv4 and discv5 networks on one socket: bonds with every node it hears of, fetches
 * its record, reads its tables, and reports each public key exactly once.
 */
export class Crawler extends EventEmitter<CrawlerEvents> {
  private readonly t: CrawlTransport
  private readonly v5: CrawlV5 | undefined
  private readonly useV4: boolean
  private readonly settings: Settings
  private readonly rereads: number
  private readonly rereadDelay: number
  /** thin tables: late reads left and what the last read gave, per protocol (few nodes: a map) */
  private readonly thin = new Map<number, { left: [number, number]; last: [number, number] }>()
  private readonly maxNodes: number
  private readonly nodes = new CrawlNodes()
  private readonly schedule: Schedule
  private readonly later: DelayQueue
  private readonly v4: V4Walk
  private readonly v5walk: V5Walk
  /** edges reported so far, as (from, to) row pairs; built with the first edge a listener takes */
  private edgeSet: PairSet | undefined
  /** external node sources (a DNS walk) still producing: the crawl waits for them */
  private sources = 0
  private answeredCount = 0
  private unansweredCount = 0
  private retryingCount = 0
  private dropped = 0
  private lateReads = 0
  private ownSends = 0
  private started = 0
  private stopped = false
  private wake: (() => void) | undefined
  private readonly onPacket = (p: Packet, from: Node): void => {
    if (p.type !== PacketType.Ping) return
    this.v4.theirPing(from)
    this.signal()
  }

  constructor(private readonly opts: CrawlerOptions) {
    super()
    this.t = opts.transport
    const protocols = opts.protocols ?? (this.t.v5 ? ['v4', 'v5'] : ['v4'])
    if (protocols.includes('v5') && !this.t.v5) throw new RangeError('a discv5 crawl needs a transport with discv5')
    this.useV4 = protocols.includes('v4')
    this.v5 = protocols.includes('v5') ? this.t.v5 : undefined
    const b = opts.backend ?? defaultBackend
    const attempts = opts.attempts ?? 4
    this.settings = {
      attempts,
      crossAttempts: Math.min(attempts, opts.crossAttempts ?? 3),
      retryDelay: opts.retryDelayMs ?? 500,
      enrAttempts: opts.enrAttempts ?? 6,
      findnodeAttempts: opts.findnodeAttempts ?? 3,
      baseTimeout: opts.replyTimeoutMs ?? this.t.replyTimeoutMs ?? 500,
      maxReads: opts.maxReads ?? 2048,
      reprobes: opts.reprobes ?? 2,
      lowest: Math.max(1, Math.min(256, opts.lowestDistance ?? 240)),
    }
    this.rereads = opts.rereads ?? 2
    this.rereadDelay = opts.rereadDelayMs ?? 10_000
    this.maxNodes = opts.maxNodes ?? 1_000_000
    const threads = this.t.cryptoThreads
    const rate = opts.rate ?? (threads !== undefined ? defaultRate(b, threads) : DEFAULT_RATE[b.name])
    if (!(rate > 0)) throw new RangeError('rate must be positive')
    this.schedule = new Schedule(
      { rate, maxPending: opts.maxPending ?? 4096, perIP: opts.perIP ?? 4, perNet: opts.perNet ?? 16, maxBacklog: MAX_BACKLOG, replyTimeoutMs: this.settings.baseTimeout, classes: CLASSES },
      {
        wanted: (item) => this.wanted(item >>> 2, item & 3),
        ipKey: (item) => this.nodes.ipKey(item >>> 2),
        netKey: (item) => this.nodes.netKey(item >>> 2),
        send: (item) => this.send(item),
        sent: () => (this.t.stats?.packetsOut ?? this.ownSends) + (this.v5 ? this.v5.stats.packetsOut + HANDSHAKE_EXTRA * this.v5.stats.handshakes : 0),
        backlog: () => this.t.backlog ?? 0,
        pumped: () => this.signal(),
      },
    )
    // a stale event (its node moved on) may be the last thing the crawl waited for: look again after each
    this.later = new DelayQueue((item, gen) => {
      this.fire(item, gen)
      this.signal()
    })
    const ctx = this.context(b, opts.targets ?? TargetTable.build(b))
    this.v4 = new V4Walk(ctx)
    this.v5walk = new V5Walk(ctx)
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

  /** what the walkers may use of the crawl */
  private context(backend: CryptoBackend, targets: TargetTable): WalkContext {
    return {
      nodes: this.nodes,
      transport: this.t,
      v5: this.v5,
      backend,
      targets,
      settings: this.settings,
      stopped: () => this.stopped,
      push: (cls, item) => this.schedule.push(cls, item),
      pump: () => this.pump(),
      ended: (i, item) => this.ended(i, item),
      delay: (i, kind, ms) => this.delay(i, kind, ms),
      retrying: (delta) => (this.retryingCount += delta),
      timeout: (i) => this.timeout(i),
      measured: (i, since) => this.measured(i, since),
      node: (i) => this.node(i),
      alive: (i) => isAlive(this.nodes, i),
      markAlive: (i, flag) => this.markAlive(i, flag),
      add: (n, firstSeen, origin, via, record) => this.addNode(n, firstSeen, origin, via, record),
      takeRecord: (i, r) => takeRecord(this.nodes, i, r),
      report: (i) => this.report(i),
      finish: (i) => this.finish(i),
      complete: (i) => this.complete(i),
      // an Error (with its stack) per dead node only when someone listens
      nodeError: (i, code, message) => this.listenerCount('nodeError') > 0 && this.emit('nodeError', new CrawlError(code, `${this.nodes.ip(i)}:${this.nodes.udp[i]}`, message)),
      planReread: (i, p, served) => this.planReread(i, p, served),
      settledDepth: () => this.settledDepth(),
      wantsEdges: () => this.listenerCount('edge') > 0,
      edge: (from, to, distance) => this.edge(from, to, distance),
    }
  }

  /**
   * Queue a node (a seed, a DNS record, a node that dialled in, a table entry) on every protocol the
   * crawl walks and the node may speak, whichever protocol it was heard of on: a node is one node. A
   * record with `eth2` and no `eth` (a consensus client, which runs discv5 only) is not tried over
   * discv4 unless a discv4 table lists it. Known nodes are only updated; a signed record that came
   * with the node is kept when it is newer. Returns the node's row, or -1 when it is not kept.
   */
  add(n: Node, firstSeen = Date.now(), origin: number = Origin.heard, via: CrawlProtocol = 'v4', record?: ENR): number {
    const i = this.addNode(n, firstSeen, origin, via, record)
    this.pump()
    return i
  }

  /** {@link add} without sending: the walkers add a whole answer, then pump once */
  private addNode(n: Node, firstSeen: number, origin: number, via: CrawlProtocol, record?: ENR): number {
    const nodes = this.nodes
    if (via === 'v4' ? !this.useV4 : !this.v5) return -1
    // by public key: a node listed again (most entries of a NEIGHBORS) needs no keccak into its ID
    let i = nodes.findByPubkey(n.pubkey)
    if (i < 0) {
      if (this.isSelf(n.id)) return -1
      if (this.stopped || nodes.size >= this.maxNodes) {
        this.dropped++
        return -1
      }
      i = nodes.add(n.pubkey, n.id, n.ip, n.udp, n.tcp, origin, firstSeen)
      // not (yet) a discv4 node: its discv4 part counts as over until something says it speaks discv4
      nodes.state[i] = State.done
      nodes.flags[i]! |= F.v4na
      if (record) takeRecord(nodes, i, record)
    } else {
      if (!isAlive(nodes, i)) nodes.lastSeen[i] = Date.now()
      if (record && record.seq > BigInt(nodes.seq[i]!) && !(nodes.flags[i]! & F.complete)) takeRecord(nodes, i, record)
      if (nodes.flags[i]! & F.complete) return i
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
      this.schedule.push(cls, i * 4 + Step.v5)
    }
    return i
  }

  /** node `from`'s table lists `to`: an `edge` event, once per pair, when anyone listens */
  private edge(from: number, to: number, distance: number): void {
    if (from === to || this.stopped || this.listenerCount('edge') === 0) return
    if (!(this.edgeSet ??= new PairSet()).add(from, to)) return
    this.emit('edge', hex(this.nodes.pubkey(from)), hex(this.nodes.pubkey(to)), distance)
  }

  /** its record names a consensus client (`eth2`, no `eth`): libp2p and discv5 only */
  private consensusOnly(i: number): boolean {
    const fl = this.nodes.flags[i]!
    return (fl & F.eth2) !== 0 && (fl & F.eth) === 0
  }

  /** first sign of life on either protocol: counted once */
  private markAlive(i: number, flag: number): void {
    const n = this.nodes
    const was = isAlive(n, i)
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
      queued: this.schedule.queued + this.v4.waitingReads,
      inFlight: this.schedule.pending,
      retrying: this.retryingCount,
      dropped: this.dropped,
      lateReads: this.lateReads,
      // discv4's counters leave out the datagrams it hands to discv5, which counts its own
      packetsIn: (this.t.stats?.packetsIn ?? 0) + (this.v5?.stats.packetsIn ?? 0),
      packetsOut: this.t.stats ? this.t.stats.packetsOut + (this.v5?.stats.packetsOut ?? 0) : this.ownSends,
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
      if (!isAlive(nodes, i) && nodes.error[i] === 0) {
        const tried = nodes.pings[i]! + nodes.v5pings[i]!
        nodes.error[i] = nodes.errors.code(tried === 0 ? 'not checked before the crawl ended' : 'no answer before the crawl ended')
      }
      const v5 = nodes.v5st[i]
      if (v5 !== V5.none && v5 !== V5.done) {
        if (v5 === V5.retrying) this.retryingCount--
        nodes.v5st[i] = V5.done
      }
      if (nodes.state[i] !== State.done) this.finish(i)
      else this.complete(i)
    }
    return this.progress()
  }

  /** every record as it is final; ends when the crawl does */
  async *records(): AsyncGenerator<DiscoveryRecord, CrawlProgress> {
    const buffered: DiscoveryRecord[] = []
    let notify: (() => void) | undefined
    const onRecord = (r: DiscoveryRecord): void => {
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
    return this.schedule.pending === 0 && this.schedule.queued === 0 && this.later.size === 0 && this.sources === 0 && !this.v4.pullRead()
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
    const base = this.settings.baseTimeout
    return rtt === 0 ? base : Math.max(base, 2 * (rtt - 1) + 100)
  }

  private measured(i: number, since: number): void {
    const ms = Math.min(65534, Math.max(0, Math.round(performance.now() - since)))
    const cur = this.nodes.rtt[i]!
    if (cur === 0 || ms + 1 < cur) this.nodes.rtt[i] = ms + 1
    else this.schedule.observe(ms + 1 - cur)
  }

  // ---- the schedule's side ---------------------------------------------------------------------

  private wanted(i: number, step: number): boolean {
    if (this.nodes.flags[i]! & (step === Step.findnode ? F.late4 : step === Step.v5 ? F.late5 : 0)) return !this.stopped
    return step === Step.v5 ? this.v5walk.wanted(i) : this.v4.wanted(i, step)
  }

  private send(item: number): void {
    const i = item >>> 2
    const step = item & 3
    const n = this.nodes
    if (!this.t.stats) this.ownSends++
    n.out[i]!++
    if (step === Step.findnode && n.flags[i]! & F.late4) {
      n.flags[i]! &= ~F.late4
      this.lateReads++
      this.v4.sendLate(i, item)
    } else if (step === Step.v5 && n.flags[i]! & F.late5) {
      n.flags[i]! &= ~F.late5
      this.lateReads++
      this.v5walk.sendLate(i, item)
    } else if (step === Step.v5) this.v5walk.send(i, item)
    else this.v4.send(i, item, step)
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
    const kind = item & 3
    if (kind === Later.reread) this.reread(i, gen)
    else if (kind === Later.v5retry) this.v5walk.fire(i)
    else this.v4.fire(i, kind, gen)
  }

  private delay(i: number, kind: number, ms: number): void {
    const n = this.nodes
    // discv5 retries and re-reads have their own state; the generation guards discv4's events
    if (kind === Later.retry || kind === Later.bondWait) n.gen[i] = (n.gen[i]! + 1) & 0xffff
    this.later.push(Date.now() + ms, i * 4 + kind, n.gen[i]!)
  }


  // ---- late reads of thin tables ----------------------------------------------------------------

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

  // ---- reporting -----------------------------------------------------------------------------

  /** Hand the node to `onNode` once, as soon as it is worth a dial (see {@link CrawlerOptions.onNode}). */
  private report(i: number): void {
    const n = this.nodes
    const fl = n.flags[i]!
    if (!this.opts.onNode || fl & (F.reported | F.complete) || this.stopped) return
    const v4 = (fl & F.answered) !== 0 && (fl & F.enrDone) !== 0
    const v5 = (fl & F.v5answered) !== 0 && (fl & F.eth) !== 0 && (n.announced(i)?.tcp ?? n.tcp[i]!) > 0
    if (!v4 && !v5) return
    n.flags[i]! |= F.reported
    this.opts.onNode(buildRecord(n, i, this.v5 !== undefined))
  }

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
    if (n.state[i] === State.retrying) this.retryingCount--
    n.state[i] = State.done
    n.gen[i] = (n.gen[i]! + 1) & 0xffff
    this.v4.dropRead(i)
    this.complete(i)
  }

  /** Report the node, exactly once, when every protocol it is crawled on is done with it. */
  private complete(i: number): void {
    const n = this.nodes
    if (n.flags[i]! & F.complete || n.state[i] !== State.done) return
    const v5 = n.v5st[i]!
    if (v5 !== V5.none && v5 !== V5.done) return
    n.flags[i]! |= F.complete
    if (!isAlive(n, i)) this.unansweredCount++
    this.emit('record', buildRecord(n, i, this.v5 !== undefined))
  }

  /**
   * The log distance down to which a table in a network of the size found so far holds entries: a
   * node's bucket at 256 − k holds about found ÷ 2^(k+1) of them, so below 256 − log2(found) they thin
   * out to none.
   */
  private settledDepth(): number {
    return 256 - Math.floor(Math.log2(Math.max(2, this.nodes.size)))
  }
}
