/**
 * Snappy block compression for p2p v5 messages: the prebuilt native `snappy` package, or `snappyjs`
 * where that does not load. The decoded length is read from the block's varint header so callers can
 * refuse oversized messages before anything is allocated.
 */
import { createRequire } from 'node:module'

interface SnappyImpl {
  readonly name: 'snappy' | 'snappyjs'
  compress(data: Uint8Array): Uint8Array
  uncompress(data: Uint8Array): Uint8Array
}

function load(): SnappyImpl {
  const require = createRequire(import.meta.url)
  try {
    const s = require('snappy') as {
      compressSync(d: Uint8Array): Uint8Array
      uncompressSync(d: Uint8Array, o: { asBuffer: true }): Uint8Array
    }
    return { name: 'snappy', compress: (d) => s.compressSync(d), uncompress: (d) => s.uncompressSync(d, { asBuffer: true }) }
  } catch {
    const s = require('snappyjs') as { compress(d: Uint8Array): Uint8Array; uncompress(d: Uint8Array): Uint8Array }
    return { name: 'snappyjs', compress: (d) => s.compress(d), uncompress: (d) => s.uncompress(d) }
  }
}

/** the snappy implementation this process uses, chosen once at load */
export const snappy: SnappyImpl = load()

/** The decoded length a snappy block declares (little-endian base-128 varint, ≤ 32 bits), or -1 if malformed. */
export function snappyDecodedLength(data: Uint8Array): number {
  let v = 0
  for (let i = 0; i < 5 && i < data.length; i++) {
    const x = data[i]!
    v += (x & 0x7f) * 2 ** (7 * i)
    if (x < 0x80) return v <= 0xffffffff ? v : -1
  }
  return -1
}
