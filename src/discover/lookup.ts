/**
 * Iterative Kademlia lookup (geth's p2p/discover lookup.go): keep the 16 nodes closest to the target
 * seen so far, ask up to 3 of the not-yet-asked ones at a time, and stop when every one of the
 * closest 16 has been asked and nothing is in flight. Distance is XOR of 32-byte IDs.
 *
 * Cancellation: aborting the caller's signal, or closing the table, makes the lookup throw the
 * signal's reason and aborts its in-flight FINDNODE requests. Leaving a `for await` early does the
 * same without an error.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { backend } from '../crypto/backend.js'
import type { Node } from '../enode/node.js'
import { ALPHA, BUCKET_SIZE } from './kademlia.js'
import type { LookupTarget, Table } from './table.js'

/** What bounds a lookup. */
export interface LookupOptions {
  /** ends the lookup early */
  signal?: AbortSignal
}

/** Result of a finished lookup; filled when the iterator completes. */
interface LookupState {
  closest: Node[]
}

/**
 * Newly found nodes of one lookup towards `target`, as they arrive: first the table's own closest
 * entries, then the unseen nodes of each FINDNODE reply. Each reply is also reported to the table
 * (failure counting, and the returned nodes become table candidates).
 */
export function lookupIterator(table: Table, target: LookupTarget, opts: LookupOptions = {}): AsyncGenerator<Node, void> {
  return run(table, target, opts.signal, { closest: [] })
}

/** Run a lookup to the end; resolves to the 16 closest nodes found, nearest first. */
export async function lookup(table: Table, target: LookupTarget, opts: LookupOptions = {}): Promise<Node[]> {
  const state: LookupState = { closest: [] }
  for await (const _ of run(table, target, opts.signal, state));
  return state.closest
}

/** What paces a {@link randomWalk}. */
export interface RandomWalkOptions extends LookupOptions {
  /** minimum time between the starts of two lookups (default 1 s), so an empty network is not spun on */
  minIntervalMs?: number
}

/**
 * Successive random lookups, yielding every newly found node of each, until the signal aborts or the
 * table closes. An empty table is refreshed (DB seeds, then bootnodes) before a lookup.
 */
export async function* randomWalk(table: Table, opts: RandomWalkOptions = {}): AsyncGenerator<Node, void> {
  const signal = opts.signal ? AbortSignal.any([opts.signal, table.signal]) : table.signal
  const minInterval = opts.minIntervalMs ?? 1000
  let last = -Infinity
  for (;;) {
    signal.throwIfAborted()
    const wait = last + minInterval - Date.now()
    if (wait > 0) await sleep(wait, undefined, { signal }).catch((err: unknown) => {
      signal.throwIfAborted()
      throw err
    })
    last = Date.now()
    if (table.size === 0) await table.refresh()
    yield* run(table, table.transport.randomTarget(), signal, { closest: [] })
  }
}

async function* run(table: Table, target: LookupTarget, outer: AbortSignal | undefined, state: LookupState): AsyncGenerator<Node, void> {
  // our own controller aborts in-flight requests when the consumer stops iterating early
  const own = new AbortController()
  const signal = AbortSignal.any(outer ? [own.signal, outer, table.signal] : [own.signal, table.signal])
  signal.throwIfAborted()

  const selfId = table.self.idHex
  const seen = new Set([selfId])
  const asked = new Set([selfId])
  let closest: Node[] = []
  /** add unseen nodes to the result set; returns them */
  const merge = (nodes: Node[]): Node[] => {
    const fresh = nodes.filter((n) => !seen.has(n.idHex) && seen.add(n.idHex))
    if (fresh.length === 0) return fresh
    const all = [...closest, ...fresh]
    const ids = new Uint8Array(all.length * 32)
    all.forEach((n, i) => ids.set(n.id, i * 32))
    closest = Array.from(backend.closest(target.id, ids, BUCKET_SIZE), (i) => all[i]!)
    return fresh
  }

  const replies: Node[][] = []
  let wake: (() => void) | undefined
  const onAbort = (): void => wake?.()
  signal.addEventListener('abort', onAbort, { once: true })
  let inflight = 0
  const query = async (n: Node): Promise<void> => {
    let found: Node[] = []
    try {
      found = await table.transport.findnode(n, target, signal)
    } catch {
      // counted as a failure below
    }
    // a request cut short by our own abort says nothing about the node
    if (!signal.aborted) table.trackRequest(n, found.length > 0, found)
    replies.push(found)
    wake?.()
  }

  try {
    yield* merge(table.closest(target.id, BUCKET_SIZE))
    for (;;) {
      for (const n of closest) {
        if (inflight >= ALPHA) break
        if (asked.has(n.idHex)) continue
        asked.add(n.idHex)
        inflight++
        void query(n)
      }
      if (inflight === 0) break
      while (replies.length === 0) {
        signal.throwIfAborted()
        await new Promise<void>((resolve) => (wake = resolve))
        wake = undefined
      }
      signal.throwIfAborted()
      inflight--
      yield* merge(replies.shift()!)
    }
    state.closest = closest
  } finally {
    signal.removeEventListener('abort', onAbort)
    own.abort()
  }
}
