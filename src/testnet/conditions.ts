/**
 * What makes a loopback testnet behave like the internet: round trips (each node has its own, replies
 * jitter around it), datagram loss in both directions, and a seedable random source so a run can be
 * repeated. Delayed datagrams wait in one heap with one timer for the whole process, so tens of
 * thousands a second cost no timer each; a node's datagrams keep their order, as on a real path.
 */
import type { Socket } from 'node:dgram'

/** mulberry32: small, fast, good enough for simulation, and seedable */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** The network a testnet simulates: round trips, jitter and loss. */
export interface ConditionsOptions {
  /** mean round trip, ms (0: none); each node's lies in 0.5–1.5 × this, each datagram within ±10 % of its node's */
  rttMs?: number
  /** probability that a datagram is lost, each direction (default 0) */
  loss?: number
  seed?: number
  /** datagrams held for delayed sending at most; beyond it they are dropped (default 200 000) */
  maxDelayed?: number
}

/** What the simulated conditions did. */
export interface ConditionStats {
  /** datagrams dropped by simulated loss, in and out */
  lostIn: number
  lostOut: number
  /** delayed datagrams dropped because the delay queue was full */
  overflow: number
}

interface Pending {
  due: number
  socket: Socket
  data: Uint8Array
  port: number
  address: string
}

/** Delays and drops a testnet's datagrams as {@link ConditionsOptions} says, deterministically from its seed. */
export class Conditions {
  readonly random: () => number
  readonly rttMs: number
  readonly loss: number
  readonly stats: ConditionStats = { lostIn: 0, lostOut: 0, overflow: 0 }
  private readonly heap: Pending[] = []
  private readonly maxDelayed: number
  private timer: NodeJS.Timeout | undefined
  private timerAt = Infinity
  private closed = false

  constructor(opts: ConditionsOptions = {}) {
    this.random = seededRandom(opts.seed ?? (Math.random() * 2 ** 32) >>> 0)
    this.rttMs = opts.rttMs ?? 0
    this.loss = opts.loss ?? 0
    this.maxDelayed = opts.maxDelayed ?? 200_000
  }

  /** a node's own round trip: spread around the mean */
  nodeRtt(): number {
    return this.rttMs > 0 ? this.rttMs * (0.5 + this.random()) : 0
  }

  /** should an arriving datagram be lost? */
  dropIn(): boolean {
    if (this.loss > 0 && this.random() < this.loss) {
      this.stats.lostIn++
      return true
    }
    return false
  }

  /**
   * Send `data` from `socket` after the node's round trip (with jitter), unless it is lost. `order`
   * holds the due time of the node's previous datagram, so its datagrams leave in the order sent.
   */
  send(socket: Socket, data: Uint8Array, port: number, address: string, rtt: number, order: { last: number }): void {
    if (this.closed) return
    if (this.loss > 0 && this.random() < this.loss) {
      this.stats.lostOut++
      return
    }
    if (rtt <= 0) {
      socket.send(data, port, address)
      return
    }
    if (this.heap.length >= this.maxDelayed) {
      this.stats.overflow++
      return
    }
    // strictly after the node's previous datagram: the heap does not keep equal times in order
    const due = Math.max(performance.now() + rtt * (0.9 + 0.2 * this.random()), order.last + 0.001)
    order.last = due
    this.push({ due, socket, data, port, address })
  }

  close(): void {
    this.closed = true
    clearTimeout(this.timer)
    this.timer = undefined
    this.heap.length = 0
  }

  private push(p: Pending): void {
    const h = this.heap
    let i = h.length
    h.push(p)
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (h[parent]!.due <= p.due) break
      h[i] = h[parent]!
      i = parent
    }
    h[i] = p
    if (p.due < this.timerAt) this.arm(p.due)
  }

  private pop(): Pending {
    const h = this.heap
    const top = h[0]!
    const last = h.pop()!
    if (h.length > 0) {
      let i = 0
      for (;;) {
        let c = 2 * i + 1
        if (c >= h.length) break
        if (c + 1 < h.length && h[c + 1]!.due < h[c]!.due) c++
        if (h[c]!.due >= last.due) break
        h[i] = h[c]!
        i = c
      }
      h[i] = last
    }
    return top
  }

  private arm(at: number): void {
    clearTimeout(this.timer)
    this.timerAt = at
    this.timer = setTimeout(() => this.flush(), Math.max(0, at - performance.now()))
  }

  private flush(): void {
    this.timer = undefined
    this.timerAt = Infinity
    // a timer may fire a little early: what is due within a millisecond goes now
    const now = performance.now() + 1
    while (this.heap.length > 0 && this.heap[0]!.due <= now) {
      const p = this.pop()
      try {
        p.socket.send(p.data, p.port, p.address)
      } catch {
        // the node was closed meanwhile
      }
    }
    if (this.heap.length > 0 && !this.closed) this.arm(this.heap[0]!.due)
  }
}
