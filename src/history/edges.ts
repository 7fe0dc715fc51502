/**
 * A crawl's edges (which node's table lists which node, at what log distance) held for the monitor
 * until the crawl is written: each public key once, in a map to a small number, and the edges as
 * three 32-bit numbers each in one growing typed array, 12 bytes an edge (a 10k-node crawl's ~1M
 * edges: 12 MiB, where strings would take hundreds). The crawler has de-duplicated them already.
 */

/** One table entry: `from`'s table lists `to` at log distance `distance` (public keys, 128 hex). */
export interface Edge {
  from: string
  to: string
  distance: number
}

/** Edges kept compactly, in the order they came. */
export class EdgeList {
  private readonly index = new Map<string, number>()
  private readonly keys: string[] = []
  private buf = new Uint32Array(3 * 4096)
  private n = 0

  /** edges held */
  get size(): number {
    return this.n
  }

  /** add one edge */
  add(from: string, to: string, distance: number): void {
    if (3 * this.n + 3 > this.buf.length) {
      const next = new Uint32Array(this.buf.length * 2)
      next.set(this.buf)
      this.buf = next
    }
    const o = 3 * this.n++
    this.buf[o] = this.key(from)
    this.buf[o + 1] = this.key(to)
    this.buf[o + 2] = distance
  }

  /** every edge, as added */
  *[Symbol.iterator](): IterableIterator<Edge> {
    for (let k = 0; k < this.n; k++) yield { from: this.keys[this.buf[3 * k]!]!, to: this.keys[this.buf[3 * k + 1]!]!, distance: this.buf[3 * k + 2]! }
  }

  private key(pubkey: string): number {
    let i = this.index.get(pubkey)
    if (i === undefined) {
      i = this.keys.length
      this.keys.push(pubkey)
      this.index.set(pubkey, i)
    }
    return i
  }
}
