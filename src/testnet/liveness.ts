/**
 * Tables shaped like a young go-ethereum node's: they answer FINDNODE only with entries they have
 * revalidated. geth serves discv4 from `findnodeByID(…, preferLive)` (only checked entries, unless it
 * has checked none yet) and discv5 from `appendBucketNodes(…, checkLive)` (only checked entries of the
 * bucket); older releases filtered discv4 only. New entries wait in a "fast" revalidation list that
 * pings one random entry every 0–PingInterval (3 s), so a table a few minutes old serves a small part
 * of what it holds, and a later answer shows more.
 *
 * No timers: each entry gets the time it becomes checked when the table is set, and an answer filters
 * by the clock.
 */

/** How a testnet node's tables filter their answers (geth's liveness check). */
export interface LivenessOptions {
  /** share of each table's entries already checked when the network starts, one at least (default 0.1) */
  checked?: number
  /** mean time between two revalidations of one table, ms (default 1500: geth's 3 s interval, drawn uniformly) */
  paceMs?: number
  /** the protocols whose answers are filtered (default both; geth before 1.14.x filtered discv4 only) */
  protocols?: ('v4' | 'v5')[]
}

/** Why these options cannot be used, or undefined when they can. */
export function livenessProblem(opts: LivenessOptions): string | undefined {
  const share = opts.checked ?? 0.1
  const pace = opts.paceMs ?? 1500
  return share >= 0 && share <= 1 && pace > 0 ? undefined : 'liveness: checked must be within 0..1 and paceMs positive'
}

/** One table's revalidation clock: entry k is served from `at[k]` (ms since the epoch) on. */
export class Liveness {
  private readonly at: Float64Array
  /** when the first entry is checked */
  private readonly first: number

  constructor(entries: number, opts: LivenessOptions, now = Date.now(), random: () => number = Math.random) {
    const share = opts.checked ?? 0.1
    const pace = opts.paceMs ?? 1500
    const problem = livenessProblem(opts)
    if (problem) throw new RangeError(problem)
    this.at = new Float64Array(entries)
    // the rest are checked one at a time, in random order, each after a uniform 0–2×pace wait
    const rest: number[] = []
    for (let k = 0; k < entries; k++) {
      if (random() < share) this.at[k] = 0
      else rest.push(k)
    }
    // a table a few seconds old has checked one entry at least (geth pings one within 3 s)
    if (rest.length === entries && entries > 0) this.at[rest.splice(Math.floor(random() * entries), 1)[0]!] = 0
    let t = now
    while (rest.length > 0) {
      const j = Math.floor(random() * rest.length)
      const k = rest[j]!
      rest[j] = rest[rest.length - 1]!
      rest.pop()
      t += random() * 2 * pace
      this.at[k] = t
    }
    this.first = this.at.reduce((a, b) => Math.min(a, b), Infinity)
  }

  /** entry k has been revalidated */
  live(k: number, now = Date.now()): boolean {
    return this.at[k]! <= now
  }

  /** some entry is checked (geth's discv4 serves unchecked entries only before that) */
  any(now = Date.now()): boolean {
    return this.first <= now
  }
}
