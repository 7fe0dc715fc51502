/**
 * FINDNODE targets at a chosen log distance from a node. A discv4 target is any 64 bytes and the
 * remote sorts by keccak256(target), so a target at distance d needs a preimage whose hash shares the
 * node's first 256 - d bits and differs in the next: a search of about 2^(257-d) hashes.
 *
 * Searches are lazy and shared. Preimages are a fixed random 64-byte block with a counter in its first
 * four bytes; every hash computed fills, for each k = 1…16, the empty slot of its k-bit prefix with
 * its counter. Far distances (short prefixes, where almost every entry of a real table sits) are
 * found within a few hashes, so a crawl starts at once; the whole 16-bit table costs ~730k hashes
 * spread over the crawl instead of a second of hashing up front.
 */
import { backend as defaultBackend } from '../crypto/backend.js'
import type { CryptoBackend } from '../crypto/types.js'

const MAX_BITS = 16

/**
 * FINDNODE targets at a chosen log distance from a node: 64-byte preimages whose keccak256 has a wanted
 * 16-bit prefix, searched lazily as the crawl asks and kept. One table can serve several crawls
 * (`CrawlerOptions.targets`).
 */
export class TargetTable {
  private readonly block = new Uint8Array(64)
  private readonly view = new DataView(this.block.buffer)
  /** slots[k][v]: the counter of a preimage whose hash starts with the k bits v, or -1 */
  private readonly slots: Int32Array[] = Array.from({ length: MAX_BITS + 1 }, (_, k) => new Int32Array(1 << k).fill(-1))
  private next = 0

  private constructor(
    private readonly b: CryptoBackend,
    seed: Uint8Array | undefined,
  ) {
    this.block.set(seed ? seed.subarray(0, 56) : b.keccak256(Buffer.from(String(Math.random()))), 8)
  }

  /** A table over `b`'s keccak; a `seed` makes its preimages reproducible. Cheap: searches are lazy. */
  static build(b: CryptoBackend = defaultBackend, seed?: Uint8Array): TargetTable {
    return new TargetTable(b, seed)
  }

  /** a preimage whose keccak256 starts with the `k` bits `v` (1 ≤ k ≤ 16) */
  withPrefix(v: number, k: number): Uint8Array {
    const slot = this.slots[k]!
    while (slot[v]! < 0) {
      if (this.next > 0x7fffffff) throw new Error('target search exhausted its counter')
      const c = this.next++
      this.view.setUint32(0, c)
      const h = this.b.keccak256(this.block)
      const p = (h[0]! << 8) | h[1]!
      for (let j = 1; j <= MAX_BITS; j++) {
        const s = this.slots[j]!
        const pv = p >>> (MAX_BITS - j)
        if (s[pv]! < 0) s[pv] = c
      }
    }
    const out = new Uint8Array(this.block)
    new DataView(out.buffer).setUint32(0, slot[v]!)
    return out
  }

  /** the preimage whose keccak256 starts with the 16-bit `prefix` */
  preimage(prefix: number): Uint8Array {
    return this.withPrefix(prefix & 0xffff, MAX_BITS)
  }

  /**
   * A target whose hash lies at log distance `d` from `id` (exact for 241 ≤ d ≤ 256, the buckets
   * that hold almost every entry of a real table; for d ≤ 240 the hash shares all 16 prefix bits,
   * so the distance is ≤ 240, which geth's table files under its lowest bucket anyway).
   */
  targetAt(id: Uint8Array, d: number): Uint8Array {
    const prefix = (id[0]! << 8) | id[1]!
    if (d <= 240) return this.preimage(prefix)
    // log distance d: the first 256 - d bits shared, the next one flipped; the rest is free
    const bit = 15 - (256 - d)
    return this.withPrefix((prefix ^ (1 << bit)) >>> bit, MAX_BITS - bit)
  }
}
