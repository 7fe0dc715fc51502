/** discv4 datagram check and seal built from keccak, recover and sign functions (used by the wasm and js backends). */
import { PACKET_HASH_SIZE, PACKET_HEADER_SIZE, type PacketCheck, type Signature } from './types.js'
import { bytesEqual } from './bytes.js'

/** signer recovery as the JS and WASM backends provide it (null when nothing recovers) */
export type Recover = (hash: Uint8Array, sig: Uint8Array, recovery: number) => Uint8Array | null

/** {@link CryptoBackend.sealPacket} from a keccak and a sign function: true once the header is written. */
export function sealPacketWith(d: Uint8Array, priv: Uint8Array, keccak: (b: Uint8Array) => Uint8Array, sign: (hash: Uint8Array, priv: Uint8Array) => Signature): boolean {
  const { sig, recovery } = sign(keccak(d.subarray(PACKET_HEADER_SIZE)), priv)
  d.set(sig, PACKET_HASH_SIZE)
  d[PACKET_HEADER_SIZE - 1] = recovery
  d.set(keccak(d.subarray(PACKET_HASH_SIZE)), 0)
  return true
}

/** {@link CryptoBackend.verifyPacket} from a keccak and a recover function. */
export function checkPacketWith(d: Uint8Array, keccak: (b: Uint8Array) => Uint8Array, recover: Recover): PacketCheck {
  if (d.length < PACKET_HEADER_SIZE + 1) return { ok: false, error: 'too-short' }
  const hash = d.subarray(0, PACKET_HASH_SIZE)
  if (!bytesEqual(keccak(d.subarray(PACKET_HASH_SIZE)), hash)) return { ok: false, error: 'bad-hash' }
  const rec = d[PACKET_HEADER_SIZE - 1]!
  if (rec > 3) return { ok: false, error: 'bad-signature' }
  // the signature covers type ‖ rlp, i.e. everything after the signature itself
  const pubkey = recover(keccak(d.subarray(PACKET_HEADER_SIZE)), d.subarray(PACKET_HASH_SIZE, PACKET_HEADER_SIZE - 1), rec)
  if (!pubkey) return { ok: false, error: 'bad-signature' }
  return { ok: true, type: d[PACKET_HEADER_SIZE]!, hash, pubkey, payload: d.subarray(PACKET_HEADER_SIZE + 1) }
}
