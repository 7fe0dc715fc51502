/**
 * The crawl's topology: which node's table lists which node. Every answer to FINDNODE names the
 * answering node's table entries; an edge is (answering node, listed node, the log distance at which
 * it lists it). The same edge comes back many times in a crawl (a bucket probed twice, a late read,
 * discv4 and discv5 listing the same node), so edges are de-duplicated per (from, to) pair here, in
 * a flat open-addressing hash set of row pairs: 8 bytes a slot, at most half full, so 16 to 32 bytes
 * per distinct edge (a 10k-node crawl's ~1M edges: 16–32 MiB), and nothing at all until the first
 * edge (a crawl nobody asks for edges never builds one).
 */

/** rows are below 2^21 (the crawler keeps at most 1 000 000 nodes), so a pair packs into one double */
const ROW_BITS = 2 ** 21
/** the highest row a pair can hold */
export const MAX_EDGE_ROW = ROW_BITS - 1

/**
 * A set of (from, to) row pairs, each packed as `from * 2^21 + to + 1` (0 marks an empty slot) into a
 * Float64Array with linear probing; it doubles when half full.
 */
export class PairSet {
  private slots = new Float64Array(1024)
  private mask = 1023
  private count = 0

  /** distinct pairs held */
  get size(): number {
    return this.count
  }

  /** bytes the table takes */
  get bytes(): number {
    return this.slots.byteLength
  }

  /** Add the pair; true when it was not there yet. */
  add(from: number, to: number): boolean {
    if (from < 0 || to < 0 || from > MAX_EDGE_ROW || to > MAX_EDGE_ROW) throw new RangeError(`row out of range: ${from}, ${to}`)
    const key = from * ROW_BITS + to + 1
    let s = this.slot(from, to)
    for (;;) {
      const v = this.slots[s]!
      if (v === 0) break
      if (v === key) return false
      s = (s + 1) & this.mask
    }
    this.slots[s] = key
    if (++this.count * 2 > this.slots.length) this.grow()
    return true
  }

  /** whether the pair is in the set */
  has(from: number, to: number): boolean {
    const key = from * ROW_BITS + to + 1
    let s = this.slot(from, to)
    for (;;) {
      const v = this.slots[s]!
      if (v === 0) return false
      if (v === key) return true
      s = (s + 1) & this.mask
    }
  }

  private slot(from: number, to: number): number {
    // two 32-bit multiplicative mixes: rows are dense small integers, so spread them over the table
    const h = Math.imul(from ^ Math.imul(to, 0x9e3779b1), 0x85ebca6b)
    return (h ^ (h >>> 15)) & this.mask
  }

  private grow(): void {
    const old = this.slots
    this.slots = new Float64Array(old.length * 2)
    this.mask = this.slots.length - 1
    for (const key of old) {
      if (key === 0) continue
      const k = key - 1
      const from = Math.floor(k / ROW_BITS)
      const to = k - from * ROW_BITS
      let s = this.slot(from, to)
      while (this.slots[s] !== 0) s = (s + 1) & this.mask
      this.slots[s] = key
    }
  }
}
