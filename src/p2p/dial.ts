/**
 * The dial scheduler (geth's p2p/dial.go idea): keeps outbound connections at the configured count.
 * Static nodes are dialled first and redialled with backoff while disconnected; dynamic candidates
 * come from discovery and are drawn uniformly from a buffer, so whoever answers first or sits at the
 * head of a bucket gets no advantage (an eclipse defence). Every dialled node enters a history and
 * is not dialled again until it expires, which keeps one node from being hammered.
 */
import { EventEmitter } from 'node:events'
import { randomInt } from 'node:crypto'
import type { Node } from '../enode/node.js'

/** geth: inbound throttle (30 s) + 5 s */
export const DIAL_HISTORY_MS = 35_000
/** dials in flight at most (geth's default) */
export const MAX_ACTIVE_DIALS = 50
/** backoff before a failed candidate source is started again */
const CANDIDATE_RETRY_MIN_MS = 1000
const CANDIDATE_RETRY_MAX_MS = 30_000
/** candidates read before a uniform draw: one bucket's worth */
const CANDIDATE_BATCH = 16
const STATIC_BACKOFF_MIN_MS = 5_000
const STATIC_BACKOFF_MAX_MS = 10 * 60_000

/** Why a candidate is not dialled. */
export type DialSkip = 'self' | 'connected' | 'dialing' | 'restricted' | 'recent' | 'no-port'

/** What the {@link DialScheduler} dials, how many, and where candidates come from. */
export interface DialerOptions {
  /** our node ID (hex) */
  selfId: string
  /** outbound peers wanted: MaxPeers / DialRatio */
  maxDialPeers: number
  maxActiveDials?: number
  historyMs?: number
  /** connect, handshake and add the peer; rejects when any step fails */
  dial(node: Node, kind: 'static' | 'dynamic', signal: AbortSignal): Promise<void>
  /** true while `idHex` is a connected peer or has an inbound handshake in progress */
  busy(idHex: string): boolean
  /** false for addresses NetRestrict forbids */
  allowed?(ip: string): boolean
  /**
   * dynamic candidates (discovery); read only while slots are free. A factory lets the scheduler start
   * a fresh source after one fails (with backoff); a plain iterable is read once.
   */
  candidates?: AsyncIterable<Node> | (() => AsyncIterable<Node>)
  /** first and longest static redial backoff */
  staticBackoffMs?: { min: number; max: number }
}

/** The events a {@link DialScheduler} emits. */
export interface DialerEvents {
  dialStart: [node: Node, kind: 'static' | 'dynamic']
  dialEnd: [node: Node, kind: 'static' | 'dynamic', error: Error | undefined]
  /** the candidate source threw; `retryMs` is when a fresh one starts (undefined: dynamic dialling ended) */
  candidatesError: [error: Error, retryMs: number | undefined]
}

interface StaticEntry {
  node: Node
  fails: number
  /** not before this time (ms) */
  next: number
}

/**
 * The server's outbound dials (geth's dialScheduler): static nodes with backoff, and discovery
 * candidates until MaxPeers / DialRatio peers are ours, skipping recent, busy and restricted nodes.
 */
export class DialScheduler extends EventEmitter<DialerEvents> {
  private readonly opts: DialerOptions
  private readonly maxActive: number
  private readonly historyMs: number
  private readonly statics = new Map<string, StaticEntry>()
  /** idHex → expiry time */
  private readonly history = new Map<string, number>()
  private readonly dialing = new Map<string, 'static' | 'dynamic'>()
  /** outbound peers currently connected (dialled by us) */
  private readonly dialedPeers = new Set<string>()
  private readonly buffer: Node[] = []
  private readonly abort = new AbortController()
  private timer: NodeJS.Timeout | undefined
  private reading = false
  private drawPending = false
  private iterator: AsyncIterator<Node> | undefined
  /** wait before restarting a failed candidate source; doubles per failure, reset by a good read */
  private candidateRetryMs = CANDIDATE_RETRY_MIN_MS
  private candidateRetry: NodeJS.Timeout | undefined
  private running = false
  readonly stats = { attempted: 0, succeeded: 0, failed: 0 }

  constructor(opts: DialerOptions) {
    super()
    this.opts = opts
    this.maxActive = opts.maxActiveDials ?? MAX_ACTIVE_DIALS
    this.historyMs = opts.historyMs ?? DIAL_HISTORY_MS
  }

  start(): void {
    if (this.running) return
    this.running = true
    this.iterator = this.openCandidates()
    this.schedule()
  }

  private openCandidates(): AsyncIterator<Node> | undefined {
    const c = this.opts.candidates
    return (typeof c === 'function' ? c() : c)?.[Symbol.asyncIterator]()
  }

  stop(): void {
    this.running = false
    this.abort.abort()
    clearTimeout(this.timer)
    clearTimeout(this.candidateRetry)
    // the iterator may be mid-read; its pending read fails on its own, and so may this
    this.iterator?.return?.(undefined).catch(() => undefined)
  }

  get activeDials(): number {
    return this.dialing.size
  }

  addStatic(node: Node): void {
    if (node.idHex === this.opts.selfId) return
    this.statics.set(node.idHex, { node, fails: 0, next: 0 })
    this.schedule()
  }

  removeStatic(node: Node): void {
    this.statics.delete(node.idHex)
  }

  /** The server reports every peer that joins; `dialed` when we initiated it. */
  peerAdded(node: Node, dialed: boolean): void {
    if (dialed) this.dialedPeers.add(node.idHex)
    const s = this.statics.get(node.idHex)
    if (s) s.fails = 0
  }

  peerRemoved(node: Node): void {
    this.dialedPeers.delete(node.idHex)
    this.schedule()
  }

  /** why `node` would not be dialled now, or undefined when it would */
  check(node: Node, now = Date.now()): DialSkip | undefined {
    if (node.idHex === this.opts.selfId) return 'self'
    if (node.tcp === 0) return 'no-port'
    if (this.dialing.has(node.idHex)) return 'dialing'
    if (this.opts.busy(node.idHex)) return 'connected'
    if (this.opts.allowed && !this.opts.allowed(node.ip)) return 'restricted'
    const until = this.history.get(node.idHex)
    if (until !== undefined && until > now) return 'recent'
    return undefined
  }

  /** geth lets dials overshoot the wanted count twice over, since many fail */
  private freeSlots(): number {
    const wanted = Math.min((this.opts.maxDialPeers - this.dialedPeers.size) * 2, this.maxActive)
    return Math.max(0, wanted - this.dialing.size)
  }

  private schedule(): void {
    if (!this.running) return
    clearTimeout(this.timer)
    this.timer = undefined
    const now = Date.now()
    for (const [id, until] of this.history) if (until <= now) this.history.delete(id)
    let slots = this.freeSlots()
    // statics first; they also get a dial slot when dynamic dials are all taken
    let nextStatic = Infinity
    for (const s of this.statics.values()) {
      if (this.dialing.size >= this.maxActive) break
      if (s.next > now) {
        nextStatic = Math.min(nextStatic, s.next)
        continue
      }
      if (this.check(s.node, now) !== undefined) continue
      this.startDial(s.node, 'static')
      slots--
    }
    while (slots > 0 && this.buffer.length > 0) {
      const i = randomInt(this.buffer.length)
      const node = this.buffer[i]!
      this.buffer[i] = this.buffer[this.buffer.length - 1]!
      this.buffer.pop()
      if (this.check(node, now) !== undefined) continue
      this.startDial(node, 'dynamic')
      slots--
    }
    if (slots > 0) this.fill()
    // wake for the next static due, or the next history expiry that may free a static
    const wake = Math.min(nextStatic, ...this.history.values())
    if (Number.isFinite(wake)) {
      this.timer = setTimeout(() => this.schedule(), Math.max(10, wake - now))
      this.timer.unref()
    }
  }

  /**
   * Read candidates while dial slots are free. Discovery yields nodes in bursts (one FINDNODE answer
   * at a time); the draw waits for the current burst to land, then picks uniformly among it.
   */
  private fill(): void {
    if (this.reading || !this.iterator) return
    this.reading = true
    const it = this.iterator
    void (async () => {
      try {
        while (this.running && this.freeSlots() > 0 && this.buffer.length < CANDIDATE_BATCH) {
          const r = await it.next()
          if (r.done) {
            this.iterator = undefined
            break
          }
          this.candidateRetryMs = CANDIDATE_RETRY_MIN_MS
          if (this.check(r.value) !== undefined || this.buffer.some((n) => n.idHex === r.value.idHex)) continue
          this.buffer.push(r.value)
          if (!this.drawPending) {
            this.drawPending = true
            setImmediate(() => {
              this.drawPending = false
              this.schedule()
            })
          }
        }
      } catch (err) {
        this.iterator = undefined
        // stop() ends the pending read itself: that is no failure to report
        if (!this.running) return
        // statics go on; dynamic dialling resumes from a fresh source when there is a factory for one
        const retry = typeof this.opts.candidates === 'function' ? this.candidateRetryMs : undefined
        this.emit('candidatesError', err instanceof Error ? err : new Error(String(err)), retry)
        if (retry !== undefined) {
          this.candidateRetryMs = Math.min(CANDIDATE_RETRY_MAX_MS, retry * 2)
          this.candidateRetry = setTimeout(() => {
            if (!this.running) return
            this.iterator = this.openCandidates()
            this.schedule()
          }, retry)
          this.candidateRetry.unref()
        }
      } finally {
        this.reading = false
      }
    })()
  }

  private startDial(node: Node, kind: 'static' | 'dynamic'): void {
    this.dialing.set(node.idHex, kind)
    this.history.set(node.idHex, Date.now() + this.historyMs)
    this.stats.attempted++
    this.emit('dialStart', node, kind)
    this.opts.dial(node, kind, this.abort.signal).then(
      () => this.endDial(node, kind, undefined),
      (err: unknown) => this.endDial(node, kind, err instanceof Error ? err : new Error(String(err))),
    )
  }

  private endDial(node: Node, kind: 'static' | 'dynamic', err: Error | undefined): void {
    this.dialing.delete(node.idHex)
    if (err) this.stats.failed++
    else this.stats.succeeded++
    const s = kind === 'static' ? this.statics.get(node.idHex) : undefined
    if (s && err) {
      s.fails++
      const { min, max } = this.opts.staticBackoffMs ?? { min: STATIC_BACKOFF_MIN_MS, max: STATIC_BACKOFF_MAX_MS }
      const backoff = Math.min(max, min * 2 ** Math.min(s.fails - 1, 20))
      // jitter so that many statics failing together do not retry in lockstep
      s.next = Date.now() + backoff / 2 + Math.random() * (backoff / 2)
      // the backoff, not the history, decides when a static node is retried
      this.history.delete(node.idHex)
    }
    this.emit('dialEnd', node, kind, err)
    this.schedule()
  }
}
