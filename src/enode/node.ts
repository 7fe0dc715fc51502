/** A discovered or configured node: public key, ID = keccak256(pubkey), and its endpoint. */
import { backend } from '../crypto/backend.js'
import { hex } from '../crypto/bytes.js'

/** A node's identity and endpoint: its public key (and the node ID derived from it), IP and ports. */
export class Node {
  /** 32-byte node ID: keccak256 of the 64-byte public key */
  readonly id: Uint8Array
  /** hex of `id`, the key used in maps and sets */
  readonly idHex: string

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
    this.id = id ?? backend.keccak256(pubkey)
    this.idHex = hex(this.id)
  }

  /** same identity and endpoint */
  equals(o: Node): boolean {
    return this.idHex === o.idHex && this.ip === o.ip && this.udp === o.udp && this.tcp === o.tcp
  }
}
