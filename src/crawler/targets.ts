/**
 * FINDNODE targets at a chosen log distance from a node. A discv4 target is any 64 bytes and the
 * remote sorts by keccak256(target), so we precompute once, for every 16-bit prefix, a 64-byte
 * preimage whose hash starts with it: asking for a distance then costs a table lookup, not a search.
 */
import { backend as defaultBackend } from '../crypto/backend.js'
import type { CryptoBackend } from '../crypto/types.js'

const PREFIXES = 1 << 16
/** enough attempts to fill all 65,536 slots with overwhelming probability (coupon collector ≈ 727k) */
const MAX_ATTEMPTS = 4_000_000

export class TargetTable {
  private constructor(
    /** 65,536 × 64-byte preimages, indexed by the 16-bit prefix of their hash */
    private readonly preimages: Uint8Array,
  ) {}

  /** Brute-force fill: counters in the first 8 bytes of an otherwise fixed random 64-byte block. */
  static build(b: CryptoBackend = defaultBackend, seed?: Uint8Array): TargetTable {
    const table = new Uint8Array(PREFIXES * 64)
    const filled = new Uint8Array(PREFIXES)
    let missing = PREFIXES
    const block = new Uint8Array(64)
    if (seed) block.set(seed.subarray(0, 56), 8)
    else block.set(b.keccak256(Buffer.from(String(Math.random()))), 8)
    const view = new DataView(block.buffer)
    for (let i = 0; i < MAX_ATTEMPTS && missing > 0; i++) {
      view.setUint32(0, i)
      const h = b.keccak256(block)
      const p = (h[0]! << 8) | h[1]!
      if (filled[p]) continue
      filled[p] = 1
      table.set(block, p * 64)
      missing--
    }
    if (missing > 0) throw new Error(`target table incomplete: ${missing} prefixes missing`)
    return new TargetTable(table)
  }

  /** the preimage whose keccak256 starts with the 16-bit `prefix` */
  preimage(prefix: number): Uint8Array {
    return this.preimages.subarray((prefix & 0xffff) * 64, ((prefix & 0xffff) + 1) * 64)
  }

  /**
   * A target whose hash lies at log distance `d` from `id` (exact for 241 ≤ d ≤ 256, the buckets
   * that hold almost every entry of a real table; for d ≤ 240 the hash shares all 16 prefix bits,
   * so the distance is ≤ 240, which geth's table files under its lowest bucket anyway).
   */
  targetAt(id: Uint8Array, d: number): Uint8Array {
    const prefix = (id[0]! << 8) | id[1]!
    if (d <= 240) return this.preimage(prefix)
    // log distance d means the first differing bit is at position 256 - d from the top
    const bit = 15 - (256 - d)
    return this.preimage(prefix ^ (1 << bit))
  }
}

/** log2 distance as geth defines it: 256 minus the number of leading bits a and b share */
export function logDistance(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < 32; i++) {
    const x = a[i]! ^ b[i]!
    if (x !== 0) return 256 - (i * 8 + Math.clz32(x) - 24)
  }
  return 0
}
