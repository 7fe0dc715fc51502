/** Packed batch results shared by the native addon and the worker pool: status ≥ 0 is the packet type. */
import { PACKET_HASH_SIZE, PACKET_HEADER_SIZE, type PacketCheck, type PacketError } from './types.js'

const ERRORS: PacketError[] = ['too-short', 'bad-hash', 'bad-signature']

/** A PacketCheck as the addon's status number: the packet type when ok, else -1 - the error's index. */
export function statusOf(c: PacketCheck): number {
  return c.ok ? c.type : -1 - ERRORS.indexOf(c.error)
}

/** Rebuild a PacketCheck from a status and the signer key, with views into the original datagram. */
export function checkFromStatus(d: Uint8Array, status: number, pubkey: Uint8Array): PacketCheck {
  if (status < 0) return { ok: false, error: ERRORS[-1 - status] ?? 'bad-signature' }
  return {
    ok: true,
    type: status,
    hash: d.subarray(0, PACKET_HASH_SIZE),
    pubkey,
    payload: d.subarray(PACKET_HEADER_SIZE + 1),
  }
}
