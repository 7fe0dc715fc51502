/** A hand-driven discv4 peer for transport tests: a raw socket, our codec, its own key. */
import { createSocket, type Socket } from 'node:dgram'
import { backend, randomPrivateKey } from '../../src/crypto/backend.js'
import { Node } from '../../src/enode/node.js'
import type { Discv4 } from '../../src/discover/udp.js'
import { decodePacket, encodePacket, expiration, PacketType, type Decoded, type Packet } from '../../src/discover/wire.js'

export class RawPeer {
  private static readonly sockets: Socket[] = []
  static closeAll(): void {
    for (const s of RawPeer.sockets.splice(0)) s.close()
  }
  readonly key = randomPrivateKey()
  readonly pubkey = backend.publicKey(this.key)
  readonly received: Decoded[] = []
  bytesIn = 0
  bytesOut = 0
  private constructor(readonly sock: Socket) {
    sock.on('message', (m) => {
      this.bytesIn += m.length
      try {
        this.received.push(decodePacket(m))
      } catch {
        // not for this test
      }
    })
  }
  static async create(host = '127.0.0.1'): Promise<RawPeer> {
    const sock = createSocket('udp4')
    RawPeer.sockets.push(sock)
    await new Promise<void>((r) => sock.bind(0, host, () => r()))
    return new RawPeer(sock)
  }
  get port(): number {
    return this.sock.address().port
  }
  send(to: Discv4, p: Packet): Uint8Array {
    const { datagram, hash } = encodePacket(p, this.key)
    this.bytesOut += datagram.length
    this.sock.send(datagram, to.self.udp, '127.0.0.1')
    return hash
  }
  get ip(): string {
    return this.sock.address().address
  }
  /** this peer as a node record */
  get node(): Node {
    return new Node(this.pubkey, this.ip, this.port, 0)
  }
  ping(to: Discv4): Uint8Array {
    return this.send(to, { type: PacketType.Ping, version: 4, from: { ip: this.ip, udp: this.port, tcp: 0 }, to: { ip: '127.0.0.1', udp: to.self.udp, tcp: to.self.tcp }, expiration: expiration() })
  }
  of(type: number): Decoded[] {
    return this.received.filter((d) => d.packet.type === type)
  }
  /**
   * answer every ping we got so far with a pong (completes the node's bond with us); `seen` is the
   * endpoint the pong claims the node's ping came from
   */
  pongAll(to: Discv4, tamper = false, seen = { ip: '127.0.0.1', udp: to.self.udp }): void {
    for (const d of this.of(PacketType.Ping)) {
      const tok = new Uint8Array(d.hash)
      if (tamper) tok[0]! ^= 1
      this.send(to, { type: PacketType.Pong, to: { ...seen, tcp: 0 }, replyTok: tok, expiration: expiration() })
    }
  }
}

