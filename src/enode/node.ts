/** A discovered or configured node: public key, ID = keccak256(pubkey), and its endpoint. */
import { backend } from '../crypto/backend.js'
import { hex } from '../crypto/bytes.js'

/**
 * A node's identity and endpoint: its public key (and the node ID derived from it), IP and ports.
 *
 * The ID and its hex are computed when first read: a crawler builds a Node for every entry of every
 * NEIGHBORS answer, most of them nodes it already knows by public key, and the hash and hex were a
 * fifth of its CPU per datagram.
 */
export class Node {
  private _id: Uint8Array | undefined
  private _idHex: string | undefined

  constructor(
    /** 64-byte uncompressed secp256k1 public key without the 0x04 prefix */
    readonly pubkey: Uint8Array,
    /** textual IPv4 or IPv6 address */
    readonly ip: string,
    /** UDP (discovery) port */
    readonly udp: number,
    /** TCP (RLPx) port, 0 when it does not listen */
    readonly tcp: number,
    /** keccak256(pubkey), when the caller already holds it (a crawler re-creating known nodes) */
    id?: Uint8Array,
  ) {
    this._id = id
  }

  /** 32-byte node ID: keccak256 of the 64-byte public key */
  get id(): Uint8Array {
    return (this._id ??= backend.keccak256(this.pubkey))
  }

  /** hex of `id`, the key used in maps and sets */
  get idHex(): string {
    return (this._idHex ??= hex(this.id))
  }

  /** same identity and endpoint */
  equals(o: Node): boolean {
    return this.idHex === o.idHex && this.ip === o.ip && this.udp === o.udp && this.tcp === o.tcp
  }
}
