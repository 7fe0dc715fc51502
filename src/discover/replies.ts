/**
 * discv4's replies awaited, by sender IP (then packet type: a node has one request or two in flight,
 * and an IP key needs no string built per datagram): what a PONG, NEIGHBORS or ENRResponse is matched
 * against once verified, and, before that, whose key it is likely signed with.
 */
import { sameBytes } from '../crypto/bytes.js'
import type { PendingRequest } from './common.js'
import { PacketType, type Decoded } from './wire.js'

/** One awaited reply. */
export interface AwaitedReply {
  /** the packet type awaited */
  type: number
  /** the public key the reply must be signed with: the node we asked */
  pub: Uint8Array
  /** returns true when the request is complete */
  onReply(d: Decoded): boolean | 'no-match'
  req: PendingRequest<unknown>
}

/** The awaited replies (bounded by the transport's PendingRequests, which each entry belongs to). */
export class AwaitedReplies {
  private readonly byIP = new Map<string, AwaitedReply[]>()

  add(ip: string, r: AwaitedReply): void {
    const list = this.byIP.get(ip)
    if (list) list.push(r)
    else this.byIP.set(ip, [r])
  }

  remove(ip: string, r: AwaitedReply): void {
    const list = this.byIP.get(ip)
    const i = list ? list.indexOf(r) : -1
    if (!list || i < 0) return
    list.splice(i, 1)
    if (list.length === 0) this.byIP.delete(ip)
  }

  /**
   * The key a datagram of `type` from `ip` is most likely signed with, before it is verified: the
   * node asked, when a reply of that type from there is awaited. Verifying against it costs less than
   * recovering a key (see CryptoBackend.verifyPacket); a wrong guess only costs that recovery.
   */
  likelySigner(ip: string, type: number): Uint8Array | undefined {
    if (type !== PacketType.Pong && type !== PacketType.Neighbors && type !== PacketType.ENRResponse) return undefined
    const list = this.byIP.get(ip)
    if (list) for (const r of list) if (r.type === type) return r.pub
    return undefined
  }

  /** Hand a verified reply to the request it answers; false when none awaits it (unsolicited). */
  match(d: Decoded, ip: string, pubkey: Uint8Array): boolean {
    const list = this.byIP.get(ip)
    if (!list) return false
    const type = d.packet.type
    // a copy when several wait: a reply that completes one removes it from the list
    for (const r of list.length === 1 ? list : [...list]) {
      if (r.type === type && sameBytes(r.pub, pubkey) && r.onReply(d) !== 'no-match') return true
    }
    return false
  }

  /** every awaited reply's request (to fail them all on close) */
  requests(): PendingRequest<unknown>[] {
    return [...this.byIP.values()].flatMap((list) => list.map((r) => r.req))
  }
}
