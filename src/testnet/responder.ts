/**
 * One testnet node: a socket, a key, a signed record and a fixed routing table, answering discv4 as
 * geth does (pong and a ping back to strangers; FINDNODE and ENRRequest only from bonded senders;
 * NEIGHBORS with the 16 table entries closest to the target, in 12 + 4). It has no table maintenance,
 * no database and no timers, so thousands fit in one process. The codec is ours (discover/wire).
 */
import type { RemoteInfo, Socket } from 'node:dgram'
import { hex } from '../crypto/bytes.js'
import type { CryptoBackend } from '../crypto/types.js'
import type { Node } from '../enode/node.js'
import type { Conditions } from './conditions.js'
import { BUCKET_SIZE, logDistance } from '../discover/kademlia.js'
import type { ENR } from '../enode/enr.js'
import { Discv5 } from '../discover/v5/udp.js'
import { decodeChecked, isDiscv4Packet, encodePacket, expiration, isExpired, MAX_NEIGHBORS, MAX_PACKET_SIZE, PacketType, type Packet } from '../discover/wire.js'
import { Liveness, type LivenessOptions } from './liveness.js'

/** bound on the senders a node remembers as bonded (the crawler and a few peers in practice) */
const MAX_BONDED = 1024

/** How a testnet node answers discv4: properly, never, or with garbage. */
export type Behaviour = 'live' | 'dead' | 'garbage'

/** A node's discv5 side: its table (of discv5 nodes) and how to find their records. */
export interface V5Side {
  /** it speaks only discv5 (a consensus-layer node) */
  only: boolean
  table: Node[]
  recordOf(n: Node): ENR | undefined
  /** its own record, shared with discv4 */
  enr: ENR
  /** it answers with revalidated entries only, as geth's discv5 does */
  liveness?: LivenessOptions
}

/** Datagrams a testnet's nodes received and sent, all together. */
export interface ResponderStats {
  packetsIn: number
  packetsOut: number
}

/** One testnet node's discv4 side: answers pings, FINDNODE and ENRRequest from its fixed table and record. */
export class Responder {
  private entries: Node[] = []
  /** the top 48 bits of each entry's ID, as two 24-bit halves: enough to order a table by distance */
  private hi = new Int32Array(0)
  private lo = new Int32Array(0)
  private socket: Socket | undefined
  private readonly v5: Discv5 | undefined
  private readonly v5only: boolean = false
  /** this node's round trip (ms), and the due time of its last delayed datagram (keeps them in order) */
  private readonly rtt: number
  private readonly order = { last: 0 }
  private readonly bonded = new Set<string>()
  /** our pings awaiting a pong: hash hex → sender key */
  private readonly pings = new Map<string, string>()
  /** geth's liveness filter on discv4 answers, when the node has it */
  private readonly livenessOpts: LivenessOptions | undefined
  private live: Liveness | undefined

  constructor(
    /** bound to the node's address; the responder owns it from here */
    socket: Socket,
    readonly node: Node,
    private readonly key: Uint8Array,
    /** the signed record and its sequence number */
    private readonly record: Uint8Array,
    private readonly recordSeq: bigint,
    readonly behaviour: Behaviour,
    private readonly b: CryptoBackend,
    private readonly stats: ResponderStats,
    /** simulated round trips and loss, shared by the network's nodes */
    private readonly conditions?: Conditions,
    v5?: V5Side,
    /** answer discv4 FINDNODE with revalidated entries only (geth's preferLive) */
    liveness?: LivenessOptions,
  ) {
    this.livenessOpts = liveness
    this.rtt = conditions?.nodeRtt() ?? 0
    this.socket = socket
    if (v5 && behaviour === 'live') {
      this.v5only = v5.only
      // each bucket's records with their entry's index, so the liveness filter can drop unchecked ones
      const byDistance = new Map<number, { r: ENR; k: number }[]>()
      for (const [k, n] of v5.table.entries()) {
        const r = v5.recordOf(n)
        if (!r) continue
        const d = logDistance(n.id, node.id)
        byDistance.get(d)?.push({ r, k }) ?? byDistance.set(d, [{ r, k }])
      }
      const live = v5.liveness ? new Liveness(v5.table.length, v5.liveness) : undefined
      this.v5 = Discv5.attach({
        privateKey: key,
        localENR: v5.enr,
        backend: b,
        maxSessions: 256,
        nodes: (ds) => {
          const t = Date.now()
          return ds.flatMap((d) => (byDistance.get(d) ?? []).flatMap((e) => (!live || live.live(e.k, t) ? [e.r] : [])))
        },
        send: (data, port, address) => this.out(data, { address, port } as RemoteInfo),
      })
    }
    socket.on('error', () => undefined)
    // a dead node keeps its port (nobody else takes it) and reads nothing
    if (behaviour !== 'dead') socket.on('message', (data, from) => this.onDatagram(data, from))
  }

  /** table entries (set by the testnet once every node exists) */
  get table(): Node[] {
    return this.entries
  }

  set table(t: Node[]) {
    this.entries = t
    this.live = this.livenessOpts ? new Liveness(t.length, this.livenessOpts) : undefined
    this.hi = Int32Array.from(t, (n) => (n.id[0]! << 16) | (n.id[1]! << 8) | n.id[2]!)
    this.lo = Int32Array.from(t, (n) => (n.id[3]! << 16) | (n.id[4]! << 8) | n.id[5]!)
  }

  close(): Promise<void> {
    void this.v5?.close()
    const s = this.socket
    this.socket = undefined
    return s ? new Promise((resolve) => s.close(() => resolve())) : Promise.resolve()
  }

  private send(to: RemoteInfo, p: Packet): Uint8Array {
    const { datagram, hash } = encodePacket(p, this.key, this.b)
    this.out(datagram, to)
    return hash
  }

  private out(datagram: Uint8Array, to: RemoteInfo): void {
    this.stats.packetsOut++
    if (!this.socket) return
    if (this.conditions) this.conditions.send(this.socket, datagram, to.port, to.address, this.rtt, this.order)
    else this.socket.send(datagram, to.port, to.address)
  }

  private onDatagram(data: Buffer, from: RemoteInfo): void {
    this.stats.packetsIn++
    if (data.length > MAX_PACKET_SIZE || this.conditions?.dropIn()) return
    if (this.behaviour === 'garbage') {
      // answers every datagram with bytes that are no discv4 packet: the crawler must shrug it off
      this.out(Buffer.alloc(120, 0xab), from)
      return
    }
    if (this.v5 && (this.v5only || !isDiscv4Packet(data, this.b))) return this.v5.handle(data, from)
    let d
    try {
      d = decodeChecked(this.b.verifyPacket(data), this.b)
    } catch {
      return
    }
    const p = d.packet
    if ('expiration' in p && isExpired(p.expiration)) return
    const sender = `${hex(d.pubkey)}|${from.address}|${from.port}`
    switch (p.type) {
      case PacketType.Ping:
        this.send(from, { type: PacketType.Pong, to: { ip: from.address, udp: from.port, tcp: p.from.tcp }, replyTok: d.hash, expiration: expiration(), enrSeq: this.recordSeq })
        if (!this.bonded.has(sender)) {
          const h = this.send(from, { type: PacketType.Ping, version: 4, from: { ip: this.node.ip, udp: this.node.udp, tcp: this.node.tcp }, to: { ip: from.address, udp: from.port, tcp: 0 }, expiration: expiration(), enrSeq: this.recordSeq })
          if (this.pings.size >= MAX_BONDED) this.pings.clear()
          this.pings.set(hex(h), sender)
        }
        break
      case PacketType.Pong: {
        const k = hex(p.replyTok)
        if (this.pings.get(k) !== sender) return
        this.pings.delete(k)
        if (this.bonded.size >= MAX_BONDED) this.bonded.clear()
        this.bonded.add(sender)
        break
      }
      case PacketType.FindNode: {
        if (!this.bonded.has(sender)) return
        const closest = this.closest(this.b.keccak256(p.target))
        for (let i = 0; i === 0 || i < closest.length; i += MAX_NEIGHBORS) {
          const nodes = closest.slice(i, i + MAX_NEIGHBORS).map((n) => ({ ip: n.ip, udp: n.udp, tcp: n.tcp, pubkey: n.pubkey }))
          this.send(from, { type: PacketType.Neighbors, nodes, expiration: expiration() })
        }
        break
      }
      case PacketType.ENRRequest:
        if (!this.bonded.has(sender)) return
        this.send(from, { type: PacketType.ENRResponse, replyTok: d.hash, record: this.record })
        break
    }
  }

  /**
   * the 16 entries closest to `target` by XOR distance (of their top 48 bits), nearest first; with
   * geth's liveness filter, among the revalidated entries only, unless none is yet
   */
  private closest(target: Uint8Array): Node[] {
    const th = (target[0]! << 16) | (target[1]! << 8) | target[2]!
    const tl = (target[3]! << 16) | (target[4]! << 8) | target[5]!
    const now = Date.now()
    const live = this.live?.any(now) ? this.live : undefined
    // insertion into a sorted array of at most 16: a table of a few hundred entries needs no full sort
    const best: number[] = []
    const dist: number[] = []
    for (let i = 0; i < this.entries.length; i++) {
      if (live && !live.live(i, now)) continue
      const d = (this.hi[i]! ^ th) * 16777216 + (this.lo[i]! ^ tl)
      if (best.length === BUCKET_SIZE && d >= dist[BUCKET_SIZE - 1]!) continue
      let j = best.length < BUCKET_SIZE ? best.length : BUCKET_SIZE - 1
      while (j > 0 && dist[j - 1]! > d) {
        if (j < BUCKET_SIZE) {
          dist[j] = dist[j - 1]!
          best[j] = best[j - 1]!
        }
        j--
      }
      dist[j] = d
      best[j] = i
    }
    return best.map((i) => this.entries[i]!)
  }
}
