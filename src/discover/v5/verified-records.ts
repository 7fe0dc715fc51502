/**
 * Records already verified: a crawl meets each record in dozens of NODES answers, and a signature
 * check costs as much as the rest of the packet. Keyed by a hash of a record's first bytes (its RLP
 * headers and the start of its signature) rather than by its bytes as a string, which built a
 * ~200-character string per record per answer; a hit is compared in full, so a collision only costs
 * a check. The hash is seeded per process, since peers choose the records.
 */
import { randomBytes } from 'node:crypto'
import { sameBytes } from '../../crypto/bytes.js'
import type { CryptoBackend } from '../../crypto/types.js'
import { ENR } from '../../enode/enr.js'
import { LRU } from './session.js'

/** The records one discv5 endpoint has verified, the most recently met `keep` of them at least. */
export class VerifiedRecords {
  private readonly cache: LRU<number, ENR>
  private readonly seed = randomBytes(4).readUInt32LE(0)

  constructor(
    keep: number,
    private readonly b: CryptoBackend,
  ) {
    this.cache = new LRU(keep)
  }

  /** the record `raw` encodes, its signature checked (once while it stays cached); undefined when invalid */
  decode(raw: Uint8Array): ENR | undefined {
    const key = recordKey(raw, this.seed)
    const hit = this.cache.get(key)
    if (hit && sameBytes(hit.raw, raw)) return hit
    let r: ENR
    try {
      r = ENR.decode(raw, this.b)
    } catch {
      return undefined
    }
    this.cache.set(key, r)
    return r
  }
}

/**
 * a seeded FNV-1a hash of a record's first 24 bytes (its list and signature headers, then the
 * signature's first 19 or 20 bytes), in 30 bits: a V8 small integer, never boxed
 */
function recordKey(raw: Uint8Array, seed: number): number {
  let h = 0x811c9dc5 ^ seed
  const n = Math.min(raw.length, 24)
  for (let i = 0; i < n; i++) h = Math.imul(h ^ raw[i]!, 0x01000193)
  return h & 0x3fffffff
}
