/**
 * discv4's replies awaited, by sender IP and packet type: what a PONG, NEIGHBORS or ENRResponse is
 * matched against once verified, and, before that, whose key it is likely signed with.
 */
import { sameBytes } from '../crypto/bytes.js'
import type { PendingRequest } from './common.js'
import { PacketType, type Decoded } from './wire.js'

/** One awaited reply. */
export interface AwaitedReply {
  /** the public key the reply must be signed with: the node we asked */
  pub: Uint8Array
  /** returns true when the request is complete */
  onReply(d: Decoded): boolean | 'no-match'
  req: PendingRequest<unknown>
}

/** The awaited replies (bounded by the transport's PendingRequests, which each entry belongs to). */
export class AwaitedReplies {
  private readonly byKey = new Map<string, AwaitedReply[]>()

  add(ip: string, type: number, r: AwaitedReply): void {
    const key = `${ip}|${type}`
    const list = this.byKey.get(key)
    if (list) list.push(r)
    else this.byKey.set(key, [r])
  }

  remove(ip: string, type: number, r: AwaitedReply): void {
    const key = `${ip}|${type}`
    const list = this.byKey.get(key)
    const i = list ? list.indexOf(r) : -1
    if (!list || i < 0) return
    list.splice(i, 1)
    if (list.length === 0) this.byKey.delete(key)
  }

  /**
   * The key a datagram of `type` from `ip` is most likely signed with, before it is verified: the
   * node asked, when a reply of that type from there is awaited. Verifying against it costs less than
   * recovering a key (see CryptoBackend.verifyPacket); a wrong guess only costs that recovery.
   */
  likelySigner(ip: string, type: number): Uint8Array | undefined {
    if (type !== PacketType.Pong && type !== PacketType.Neighbors && type !== PacketType.ENRResponse) return undefined
    return this.byKey.get(`${ip}|${type}`)?.[0]?.pub
  }

  /** Hand a verified reply to the request it answers; false when none awaits it (unsolicited). */
  match(d: Decoded, ip: string, pubkey: Uint8Array): boolean {
    const list = this.byKey.get(`${ip}|${d.packet.type}`)
    if (!list) return false
    // a copy when several wait: a reply that completes one removes it from the list
    for (const r of list.length === 1 ? list : [...list]) {
      if (sameBytes(r.pub, pubkey) && r.onReply(d) !== 'no-match') return true
    }
    return false
  }

  /** every awaited reply's request (to fail them all on close) */
  requests(): PendingRequest<unknown>[] {
    return [...this.byKey.values()].flatMap((list) => list.map((r) => r.req))
  }
}
