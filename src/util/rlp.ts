/**
 * Thin, typed helpers over @ethereumjs/rlp for codecs that read untrusted bytes: every decoding
 * failure becomes an RLPError, and integers are read the way geth reads them (canonical: no leading
 * zero bytes, bounded width), so a value has exactly one encoding.
 */
import { RLP } from '@ethereumjs/rlp'

export type RLPItem = Uint8Array | RLPItem[]

export class RLPError extends Error {
  override readonly name = 'RLPError'
}

/** Decode one RLP item; extra bytes after it are an error unless `allowTrailing` (EIP-8 tolerance). */
export function decodeRLP(data: Uint8Array, allowTrailing = false): RLPItem {
  try {
    if (allowTrailing) return RLP.decode(data, true).data as RLPItem
    return RLP.decode(data) as RLPItem
  } catch (err) {
    throw new RLPError(`invalid RLP: ${(err as Error).message}`)
  }
}

export function encodeRLP(item: unknown): Uint8Array {
  return RLP.encode(item as Parameters<typeof RLP.encode>[0])
}

export function asList(item: RLPItem | undefined, what: string): RLPItem[] {
  if (!Array.isArray(item)) throw new RLPError(`${what}: expected a list`)
  return item
}

export function asBytes(item: RLPItem | undefined, what: string, size?: number): Uint8Array {
  if (!(item instanceof Uint8Array)) throw new RLPError(`${what}: expected a byte string`)
  if (size !== undefined && item.length !== size) throw new RLPError(`${what}: expected ${size} bytes, got ${item.length}`)
  return item
}

/** A canonical unsigned integer of at most `maxBytes` bytes. */
export function asBigUint(item: RLPItem | undefined, what: string, maxBytes = 8): bigint {
  const b = asBytes(item, what)
  if (b.length > maxBytes) throw new RLPError(`${what}: integer wider than ${maxBytes} bytes`)
  if (b.length > 0 && b[0] === 0) throw new RLPError(`${what}: non-canonical integer (leading zero)`)
  let v = 0n
  for (const x of b) v = (v << 8n) | BigInt(x)
  return v
}

/** A canonical unsigned integer that fits a JS number (at most 6 bytes). */
export function asUint(item: RLPItem | undefined, what: string, maxBytes = 6): number {
  return Number(asBigUint(item, what, Math.min(maxBytes, 6)))
}

/** Minimal big-endian bytes of a non-negative integer (empty for zero), as RLP wants integers. */
export function uintBytes(v: number | bigint): Uint8Array {
  let n = BigInt(v)
  if (n < 0n) throw new RangeError('negative integer')
  const out: number[] = []
  while (n > 0n) {
    out.unshift(Number(n & 0xffn))
    n >>= 8n
  }
  return Uint8Array.from(out)
}
