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
import { decodeChecked, encodePacket, expiration, isExpired, MAX_NEIGHBORS, MAX_PACKET_SIZE, PacketType, type Packet } from '../discover/wire.js'

const BUCKET_SIZE = 16
/** bound on the senders a node remembers as bonded (the crawler and a few peers in practice) */
const MAX_BONDED = 1024

/** How a testnet node answers discv4: properly, never, or with garbage. */
export type Behaviour = 'live' | 'dead' | 'garbage'

/** Datagrams a testnet's nodes received and sent, all together. */
export interface ResponderStats {
  packetsIn: number
  packetsOut: number
}

/** One testnet node's discv4 side: answers pings, FINDNODE and ENRRequest from its fixed table and record. */
export class Responder {
  /** table entries (filled by the testnet once every node exists) */
  table: Node[] = []
  private socket: Socket | undefined
  private readonly bonded = new Set<string>()
  /** our pings awaiting a pong: hash hex → sender key */
  private readonly pings = new Map<string, string>()

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
  ) {
    this.socket = socket
    socket.on('error', () => undefined)
    // a dead node keeps its port (nobody else takes it) and reads nothing
    if (behaviour !== 'dead') socket.on('message', (data, from) => this.onDatagram(data, from))
  }

  close(): Promise<void> {
    const s = this.socket
    this.socket = undefined
    return s ? new Promise((resolve) => s.close(() => resolve())) : Promise.resolve()
  }

  private send(to: RemoteInfo, p: Packet): Uint8Array {
    const { datagram, hash } = encodePacket(p, this.key, this.b)
    this.stats.packetsOut++
    this.socket?.send(datagram, to.port, to.address)
    return hash
  }

  private onDatagram(data: Buffer, from: RemoteInfo): void {
    this.stats.packetsIn++
    if (data.length > MAX_PACKET_SIZE) return
    if (this.behaviour === 'garbage') {
      // answers every datagram with bytes that are no discv4 packet: the crawler must shrug it off
      this.stats.packetsOut++
      this.socket?.send(Buffer.alloc(120, 0xab), from.port, from.address)
      return
    }
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

  /** the 16 entries closest to `target` by XOR distance */
  private closest(target: Uint8Array): Node[] {
    return this.table
      .map((n) => ({ n, d: xorPrefix(n.id, target) }))
      .sort((a, b) => a.d - b.d)
      .slice(0, BUCKET_SIZE)
      .map((x) => x.n)
  }
}

/**
 * The top 48 bits of a ^ b as a number: the XOR order of a table of at most a few hundred entries is
 * decided there (a tie needs two IDs sharing 48 bits with each other beyond the target, ~2^-48).
 */
function xorPrefix(a: Uint8Array, b: Uint8Array): number {
  let v = 0
  for (let i = 0; i < 6; i++) v = v * 256 + (a[i]! ^ b[i]!)
  return v
}
