/**
 * An in-memory discv4 network behind the crawler's transport interface: geth-shaped tables, bonding
 * (a node answers FINDNODE and ENRRequest only once our pong to its ping arrived), round trips with
 * jitter, datagram loss in both directions, dead nodes, several nodes on one IP. Loss is decided by a
 * per-node stream of pseudo-random numbers, so a test's outcome does not depend on the order in which
 * the crawler happens to send. Every datagram is logged with its time, for assertions on pacing.
 */
import { EventEmitter } from 'node:events'
import { backend, randomPrivateKey } from '../../src/crypto/backend.js'
import type { CrawlTransport } from '../../src/crawler/transport.js'
import { logDistance } from '../../src/discover/kademlia.js'
import type { LookupTarget } from '../../src/discover/table.js'
import { DiscoveryError, type RequestOptions } from '../../src/discover/common.js'
import type { NeighborsAnswer } from '../../src/discover/udp-options.js'
import { PacketType, type Packet } from '../../src/discover/wire.js'
import { ENR } from '../../src/enode/enr.js'
import { Node } from '../../src/enode/node.js'

export interface FakeNode {
  node: Node
  enr: ENR
  dead: boolean
  /** its table (geth-shaped) */
  table: Node[]
  /** it received our pong: answers FINDNODE and ENRRequest */
  bonded: boolean
  /** pings back strangers (a node that already holds our pong from before does not) */
  pingsBack: boolean
  rttMs: number
  /** datagrams it has seen or sent: the index into its loss stream */
  draws: number
}

export interface FakeOptions {
  nodes: number
  dead?: number
  loss?: number
  rttMs?: number
  /** nodes per IP (default 1) */
  perIP?: number
  seed?: number
  timeoutMs?: number
  /** share of live nodes that already hold our pong (never ping back) */
  prebonded?: number
}

/** splitmix32: a tiny, good-enough hash of (seed, node, draw) to [0, 1) */
function unit(seed: number, a: number, b: number): number {
  let x = (seed ^ Math.imul(a + 1, 0x9e3779b9) ^ Math.imul(b + 1, 0x85ebca6b)) >>> 0
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad)
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97)
  return ((x ^ (x >>> 15)) >>> 0) / 2 ** 32
}

export class FakeNetwork extends EventEmitter implements CrawlTransport {
  readonly self = new Node(backend.publicKey(randomPrivateKey()), '127.0.0.1', 30303, 30303)
  readonly stats = { packetsIn: 0, packetsOut: 0 }
  readonly members: FakeNode[] = []
  /** every datagram we sent: time, kind, destination index */
  readonly sent: { t: number; kind: 'ping' | 'pong' | 'enr' | 'findnode'; to: number }[] = []
  /** requests in flight per destination IP, and the highest seen */
  private readonly inFlightByIP = new Map<string, number>()
  maxInFlightPerIP = 0
  private readonly byId = new Map<string, number>()
  private readonly timers = new Set<NodeJS.Timeout>()
  readonly replyTimeoutMs: number
  private readonly loss: number
  private readonly seed: number

  constructor(opts: FakeOptions) {
    super()
    this.replyTimeoutMs = opts.timeoutMs ?? 100
    this.loss = opts.loss ?? 0
    this.seed = opts.seed ?? 1
    const perIP = opts.perIP ?? 1
    const deadCount = Math.round(opts.nodes * (opts.dead ?? 0))
    const prebonded = opts.prebonded ?? 0
    for (let i = 0; i < opts.nodes; i++) {
      const key = randomPrivateKey()
      const ip = `10.${(i / perIP) >> 16}.${((i / perIP) >> 8) & 255}.${Math.floor(i / perIP) & 255}`
      const port = 30303 + (i % perIP)
      const node = new Node(backend.publicKey(key), ip, port, port)
      const enr = ENR.sign(key, { seq: 1n, ip, udp: port, tcp: port }, backend)
      const dead = i >= opts.nodes - deadCount
      const pre = !dead && unit(this.seed, i, -1) < prebonded
      this.members.push({ node, enr, dead, table: [], bonded: pre, pingsBack: !pre, rttMs: Math.max(1, (opts.rttMs ?? 5) * (0.5 + unit(this.seed, i, -2))), draws: 0 })
      this.byId.set(node.idHex, i)
    }
    // geth-shaped tables: up to 16 of the nodes at each log distance
    for (const m of this.members) {
      const buckets = new Map<number, Node[]>()
      for (const o of this.members) {
        if (o === m) continue
        const d = logDistance(o.node.id, m.node.id)
        const b = buckets.get(d) ?? []
        if (b.length < 16) b.push(o.node)
        buckets.set(d, b)
      }
      m.table = [...buckets.values()].flat()
    }
  }

  get live(): FakeNode[] {
    return this.members.filter((m) => !m.dead)
  }

  /** bootnodes: the first live nodes */
  seeds(k = 3): Node[] {
    return this.live.slice(0, k).map((m) => m.node)
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
  }

  private member(n: Node): { m: FakeNode | undefined; i: number } {
    const i = this.byId.get(n.idHex) ?? -1
    return { m: i >= 0 && this.members[i]!.node.ip === n.ip && this.members[i]!.node.udp === n.udp ? this.members[i] : undefined, i }
  }

  /** does this datagram to or from `m` get through? */
  private through(m: FakeNode, i: number): boolean {
    return unit(this.seed, i, m.draws++) >= this.loss
  }

  private later(ms: number, f: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t)
      f()
    }, ms)
    this.timers.add(t)
  }

  private jitter(m: FakeNode, i: number): number {
    return m.rttMs * (0.9 + 0.2 * unit(this.seed ^ 0x5bd1e995, i, m.draws))
  }

  /** Send a request; `answer` runs at the node after half a round trip, its replies come back after the other half. */
  private request<T>(n: Node, kind: 'ping' | 'enr' | 'findnode', opts: RequestOptions, answer: (m: FakeNode, i: number, reply: (v: T) => void) => void): Promise<T> {
    const { m, i } = this.member(n)
    this.stats.packetsOut++
    this.sent.push({ t: performance.now(), kind, to: i })
    const release = this.track(n.ip)
    return new Promise<T>((resolve, reject) => {
      let settled = false
      const settle = (): void => {
        settled = true
        release()
      }
      this.later(opts.timeoutMs ?? this.replyTimeoutMs, () => {
        if (settled) return
        settle()
        reject(new DiscoveryError('TIMEOUT', `${kind} to ${n.ip}:${n.udp} timed out`))
      })
      if (!m || m.dead || !this.through(m, i)) return
      const half = this.jitter(m, i) / 2
      this.later(half, () =>
        answer(m, i, (v) => {
          if (!this.through(m, i)) return
          this.later(half, () => {
            this.stats.packetsIn++
            if (settled) return
            settle()
            resolve(v)
          })
        }),
      )
    })
  }

  /** count a request in flight to `ip`; the returned function ends it */
  private track(ip: string): () => void {
    const c = (this.inFlightByIP.get(ip) ?? 0) + 1
    this.inFlightByIP.set(ip, c)
    this.maxInFlightPerIP = Math.max(this.maxInFlightPerIP, c)
    return () => {
      const left = (this.inFlightByIP.get(ip) ?? 1) - 1
      if (left > 0) this.inFlightByIP.set(ip, left)
      else this.inFlightByIP.delete(ip)
    }
  }

  ping(n: Node, opts: RequestOptions): Promise<{ seq?: bigint }> {
    return this.request(n, 'ping', opts, (m, i, reply) => {
      reply({ seq: m.enr.seq })
      if (m.bonded || !m.pingsBack) return
      // its ping back: we answer with a pong at once; once that arrives it holds our endpoint proof
      if (!this.through(m, i)) return
      this.later(this.jitter(m, i) / 2, () => {
        this.stats.packetsIn++
        this.stats.packetsOut++
        this.sent.push({ t: performance.now(), kind: 'pong', to: i })
        this.emit('packet', { type: PacketType.Ping } as Packet, m.node)
        if (this.through(m, i)) this.later(this.jitter(m, i) / 2, () => (m.bonded = true))
      })
    })
  }

  enrRequest(n: Node, opts: RequestOptions): Promise<ENR> {
    return this.request<ENR>(n, 'enr', opts, (m, _i, reply) => {
      if (m.bonded) reply(m.enr)
    })
  }

  neighbors(n: Node, target: LookupTarget, opts: RequestOptions): Promise<NeighborsAnswer> {
    const { m, i } = this.member(n)
    if (m && !m.dead && m.bonded) {
      // geth's answer: the 16 closest, in packets of 12 and 4, each lost on its own; the request
      // settles at the short packet, or at the timeout with what came
      const closest = [...m.table].sort((a, b) => Buffer.compare(xor(a.id, target.id), xor(b.id, target.id))).slice(0, 16)
      return new Promise<NeighborsAnswer>((resolve, reject) => {
        this.stats.packetsOut++
        this.sent.push({ t: performance.now(), kind: 'findnode', to: i })
        const release = this.track(n.ip)
        const got: Node[] = []
        let done = false
        let packets = 0
        const finish = (complete: boolean): void => {
          if (done) return
          done = true
          release()
          if (packets === 0) reject(new DiscoveryError('TIMEOUT', `findnode to ${n.ip}:${n.udp} timed out`))
          else resolve({ nodes: got, complete })
        }
        this.later(opts.timeoutMs ?? this.replyTimeoutMs, () => finish(false))
        if (!this.through(m, i)) return
        const chunks = [closest.slice(0, 12), closest.slice(12)].filter((c, k) => k === 0 || c.length > 0)
        const rtt = this.jitter(m, i)
        chunks.forEach((c, k) => {
          if (!this.through(m, i)) return
          this.later(rtt + k, () => {
            this.stats.packetsIn++
            if (done) return
            packets++
            got.push(...c)
            if (c.length < 12 || got.length >= 16) finish(true)
          })
        })
      })
    }
    return this.request<NeighborsAnswer>(n, 'findnode', opts, () => undefined)
  }
}

function xor(a: Uint8Array, b: Uint8Array): Buffer {
  const out = Buffer.alloc(32)
  for (let k = 0; k < 32; k++) out[k] = a[k]! ^ b[k]!
  return out
}
