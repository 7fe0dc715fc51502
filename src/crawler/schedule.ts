/**
 * The crawl's scheduler: what to send next, and when.
 *
 * A crawl facing the internet waits on round trips, not on CPU: a request in flight costs an entry
 * in the transport's pending table and nothing else. So the crawl is paced by what does cost: the
 * datagrams it sends per second (a token bucket charged with everything the transport sends, replies
 * included), the requests it keeps in flight (memory), and the receive side's verification backlog
 * (when replies arrive faster than they are verified, sending more only makes them time out).
 *
 * Work waits in classes. "First" classes are served before anything else (steps that finish work
 * already begun); weighted classes share what is left in proportion to their weights (stride
 * scheduling, so a busy class never starves a lighter one); "last" classes only get what nobody else
 * wants. Politeness: at most `perIP` requests in flight to one address and `perNet` to one /24 (/48);
 * a step held back by them is parked under that key and goes first once a request there completes.
 *
 * The configured rate is a ceiling. Replies that come back later than their node's best round trip
 * mean datagrams queue somewhere (our uplink, an overloaded peer, our own event loop): then the rate
 * steps down, and climbs back while replies are on time again (additive increase, multiplicative
 * decrease, as TCP does with its window). Sending faster than the path drains only turns replies into
 * timeouts and live nodes into dead ones.
 */

import { TokenBucket } from '../util/token-bucket.js'

/** A growable FIFO of integers. */
export class IntQueue {
  private buf: Int32Array
  private head = 0
  length = 0
  constructor(initial = 64) {
    this.buf = new Int32Array(initial)
  }
  push(v: number): void {
    if (this.length === this.buf.length) {
      const b = new Int32Array(this.buf.length * 2)
      for (let i = 0; i < this.length; i++) b[i] = this.buf[(this.head + i) % this.buf.length]!
      this.buf = b
      this.head = 0
    }
    this.buf[(this.head + this.length) % this.buf.length] = v
    this.length++
  }
  shift(): number {
    const v = this.buf[this.head]!
    this.head = (this.head + 1) % this.buf.length
    this.length--
    return v
  }
}

/**
 * Events due at a time (retries, waits), one timer for all: a binary heap of (due, item, gen). `gen`
 * lets the owner cancel an event lazily (it compares it with the item's current generation).
 */
export class DelayQueue {
  private due = new Float64Array(64)
  private item = new Int32Array(64)
  private gens = new Int32Array(64)
  size = 0
  private timer: NodeJS.Timeout | undefined
  private timerAt = Infinity

  constructor(private readonly fire: (item: number, gen: number) => void) {}

  push(due: number, item: number, gen: number): void {
    if (this.size === this.due.length) {
      const n = this.size * 2
      const d = new Float64Array(n)
      d.set(this.due)
      const it = new Int32Array(n)
      it.set(this.item)
      const g = new Int32Array(n)
      g.set(this.gens)
      this.due = d
      this.item = it
      this.gens = g
    }
    let i = this.size++
    while (i > 0) {
      const p = (i - 1) >> 1
      if (this.due[p]! <= due) break
      this.move(p, i)
      i = p
    }
    this.due[i] = due
    this.item[i] = item
    this.gens[i] = gen
    if (due < this.timerAt) this.arm(due)
  }

  clear(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.timerAt = Infinity
    this.size = 0
  }

  private move(from: number, to: number): void {
    this.due[to] = this.due[from]!
    this.item[to] = this.item[from]!
    this.gens[to] = this.gens[from]!
  }

  private arm(at: number): void {
    clearTimeout(this.timer)
    this.timerAt = at
    this.timer = setTimeout(() => this.run(), Math.max(0, at - Date.now()))
  }

  private run(): void {
    this.timer = undefined
    this.timerAt = Infinity
    const now = Date.now()
    while (this.size > 0 && this.due[0]! <= now) {
      const item = this.item[0]!
      const gen = this.gens[0]!
      this.popTop()
      this.fire(item, gen)
    }
    if (this.size > 0 && this.timer === undefined) this.arm(this.due[0]!)
  }

  private popTop(): void {
    const last = --this.size
    if (last === 0) return
    const d = this.due[last]!
    let i = 0
    for (;;) {
      let c = 2 * i + 1
      if (c >= last) break
      if (c + 1 < last && this.due[c + 1]! < this.due[c]!) c++
      if (this.due[c]! >= d) break
      this.move(c, i)
      i = c
    }
    this.move(last, i)
  }
}

/** What the schedule asks of its owner about a queued step. */
export interface ScheduleHooks {
  /** is this step still wanted? (a node may have moved on since it was queued) */
  wanted(item: number): boolean
  /** politeness keys of the step's destination: its address and its network */
  ipKey(item: number): number
  netKey(item: number): number
  /** send the step's request; the owner calls `completed` when it ends */
  send(item: number): void
  /** datagrams the transport has sent so far, requests and replies alike */
  sent(): number
  /** datagrams received and not yet verified */
  backlog(): number
  /** after a pump the schedule's own timer started: it may have dropped the last steps as stale */
  pumped(): void
}

/** A class's share: 'first' and 'last' are strict (in class order), a number is a weight. */
export type ClassShare = 'first' | 'last' | number

/**
 * The rate control's window, and its thresholds on a window's mean queueing delay as shares of the
 * reply timeout: delay only matters once it eats into the time a reply has before it counts as lost.
 */
const WINDOW_MS = 250
const QUEUE_HIGH = 0.25
const QUEUE_LOW = 0.1

/** How fast and how wide a {@link Schedule} sends. */
export interface ScheduleOptions {
  /** datagrams per second, at most */
  rate: number
  /** requests in flight */
  maxPending: number
  perIP: number
  perNet: number
  /** receive backlog beyond which nothing new is sent */
  maxBacklog: number
  /** the reply timeout, ms: the rate control's scale */
  replyTimeoutMs: number
  classes: readonly ClassShare[]
}

/** The crawl's one sender: queues steps by class, sends at a token-bucket rate lowered when replies come back late, and caps what is in flight per IP, per /24 and in all. */
export class Schedule {
  private readonly queues: IntQueue[]
  private readonly pass: number[]
  private readonly released = new IntQueue()
  private readonly parked = new Map<number, IntQueue>()
  private parkedCount = 0
  private readonly ipOut = new Map<number, number>()
  private readonly netOut = new Map<number, number>()
  /** requests in flight */
  pending = 0
  /** datagrams: the configured rate, or less while the rate control holds it down */
  private readonly bucket: TokenBucket
  /** the transport's datagram count the bucket has been charged for */
  private accounted: number
  private timer: NodeJS.Timeout | undefined
  private vtime = 0
  private pumping = false
  private stopped = false
  /** datagrams per second in force */
  rate: number
  private windowStart = performance.now()
  private windowSum = 0
  private windowCount = 0

  constructor(
    private readonly opts: ScheduleOptions,
    private readonly hooks: ScheduleHooks,
  ) {
    this.rate = opts.rate
    this.queues = opts.classes.map(() => new IntQueue())
    this.pass = opts.classes.map(() => 0)
    // 20 ms worth of datagrams at once: smooth enough for socket buffers, coarse enough for timers
    this.bucket = new TokenBucket(opts.rate, Math.max(1, opts.rate / 50), performance.now())
    this.accounted = hooks.sent()
  }

  push(cls: number, item: number): void {
    const q = this.queues[cls]!
    const share = this.opts.classes[cls]!
    // a weighted class that was idle joins at the current virtual time, not with credit saved up
    if (q.length === 0 && typeof share === 'number') this.pass[cls] = Math.max(this.pass[cls]!, this.vtime)
    q.push(item)
  }

  /** steps waiting (queued or parked) */
  get queued(): number {
    let n = this.released.length + this.parkedCount
    for (const q of this.queues) n += q.length
    return n
  }

  /** steps waiting in one class */
  queuedIn(cls: number): number {
    return this.queues[cls]!.length
  }

  /** A request sent by `send` ended (answered, timed out or cancelled). */
  completed(item: number): void {
    this.pending--
    const ip = this.hooks.ipKey(item)
    const net = this.hooks.netKey(item)
    this.dec(this.ipOut, ip)
    this.dec(this.netOut, net)
    this.release(ip)
    this.release(net)
  }

  /** One reply's delay beyond its node's best round trip (ms): the rate control's input. */
  observe(queueMs: number): void {
    this.windowSum += queueMs
    this.windowCount++
    const now = performance.now()
    if (now - this.windowStart < WINDOW_MS) return
    const mean = this.windowSum / this.windowCount
    const ceiling = this.opts.rate
    if (mean > QUEUE_HIGH * this.opts.replyTimeoutMs) this.rate = Math.max(ceiling / 16, this.rate * 0.8)
    else if (mean < QUEUE_LOW * this.opts.replyTimeoutMs) this.rate = Math.min(ceiling, this.rate + ceiling / 50)
    // what flowed in so far at the old rate stays
    this.bucket.available(now)
    this.bucket.rate = this.rate
    this.windowStart = now
    this.windowSum = 0
    this.windowCount = 0
  }

  stop(): void {
    this.stopped = true
    clearTimeout(this.timer)
    this.timer = undefined
  }

  /** Send what the budget allows now; arms a timer for the rest. */
  pump(): void {
    if (this.pumping || this.stopped) return
    this.pumping = true
    try {
      this.refill()
      const { perIP, perNet, maxPending, maxBacklog } = this.opts
      while (this.bucket.available(performance.now()) >= 1 && this.pending < maxPending && this.hooks.backlog() <= maxBacklog) {
        const fromParked = this.released.length > 0
        const item = this.next()
        if (item < 0) return
        if (!this.hooks.wanted(item)) {
          // a released step gone stale would break the chain of releases for its keys: pass it on
          if (fromParked) {
            this.release(this.hooks.ipKey(item))
            this.release(this.hooks.netKey(item))
          }
          continue
        }
        const ip = this.hooks.ipKey(item)
        if ((this.ipOut.get(ip) ?? 0) >= perIP) {
          this.park(ip, item)
          continue
        }
        const net = this.hooks.netKey(item)
        if ((this.netOut.get(net) ?? 0) >= perNet) {
          this.park(net, item)
          continue
        }
        this.ipOut.set(ip, (this.ipOut.get(ip) ?? 0) + 1)
        this.netOut.set(net, (this.netOut.get(net) ?? 0) + 1)
        this.pending++
        this.hooks.send(item)
        this.refill()
      }
      this.arm()
    } finally {
      this.pumping = false
    }
  }

  private arm(): void {
    if (this.timer !== undefined || this.pending >= this.opts.maxPending) return
    if (this.released.length === 0 && !this.queues.some((q) => q.length > 0)) return
    const wait = this.bucket.untilNext()
    const ms = wait > 0 ? Math.ceil(wait) : 5
    this.timer = setTimeout(
      () => {
        this.timer = undefined
        this.pump()
        this.hooks.pumped()
      },
      Math.max(1, ms),
    )
  }

  /** charge the bucket with every datagram sent since the last look: requests and replies alike */
  private refill(): void {
    this.bucket.available(performance.now())
    const sent = this.hooks.sent()
    this.bucket.spend(sent - this.accounted)
    this.accounted = sent
  }

  /** the next step by class order and weights, or -1 */
  private next(): number {
    if (this.released.length > 0) return this.released.shift()
    const classes = this.opts.classes
    for (let c = 0; c < classes.length; c++) if (classes[c] === 'first' && this.queues[c]!.length > 0) return this.queues[c]!.shift()
    let best = -1
    for (let c = 0; c < classes.length; c++) {
      if (typeof classes[c] !== 'number' || this.queues[c]!.length === 0) continue
      if (best < 0 || this.pass[c]! < this.pass[best]!) best = c
    }
    if (best >= 0) {
      this.vtime = this.pass[best]!
      this.pass[best]! += 1 / (classes[best] as number)
      return this.queues[best]!.shift()
    }
    for (let c = 0; c < classes.length; c++) if (classes[c] === 'last' && this.queues[c]!.length > 0) return this.queues[c]!.shift()
    return -1
  }

  private park(key: number, item: number): void {
    let q = this.parked.get(key)
    if (!q) this.parked.set(key, (q = new IntQueue(4)))
    q.push(item)
    this.parkedCount++
  }

  private release(key: number): void {
    const q = this.parked.get(key)
    if (!q) return
    this.released.push(q.shift())
    this.parkedCount--
    if (q.length === 0) this.parked.delete(key)
  }

  private dec(m: Map<number, number>, k: number): void {
    const v = (m.get(k) ?? 1) - 1
    if (v > 0) m.set(k, v)
    else m.delete(k)
  }
}
