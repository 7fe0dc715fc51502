/**
 * A node's head, as the crawler reads it and judges it.
 *
 * Reading (one dial): the Status names the head, by hash (eth/68) or by number and hash (eth/69,
 * EIP-7642 `latestBlock`). Right after the Status we ask for that header (GetBlockHeaders by hash,
 * one header) and wait at most what is left of the dial's Status deadline, capped at HEAD_TIMEOUT: the
 * header gives the number (eth/68) and the time (both). A header whose hash is not the one asked for
 * is ignored, with a note in `headError`. An eth/69 peer that does not answer keeps the number from
 * its Status and has no `headTime`.
 *
 * Judging (a whole crawl): a node is `synced` when its head is at most SYNC_DISTANCE blocks below its
 * chain's reference head, the highest head number that at least SYNC_QUORUM nodes of that chain
 * reached (the SYNC_QUORUM-th highest head): one node announcing a head far ahead moves nothing.
 */
import { bytesEqual, hex } from '../crypto/bytes.js'
import type { EthSession } from '../eth/protocol.js'
import type { Status } from '../eth/status.js'

/** what a dial learns of the node's head; see the file comment */
export interface HeadInfo {
  /** the head block's number: eth/69's `latestBlock`, else the number in the header of its head hash */
  headNumber?: number
  /** the head block's hash, 0x-less hex (eth/68 `head`, eth/69 `latestBlockHash`) */
  headHash?: string
  /** the head block's timestamp, ISO 8601 (from the header: absent when the peer did not send it) */
  headTime?: string
  /** why the head header was not had or was ignored (the Status itself was read) */
  headError?: string
}

/** the longest wait for the head header, ms; the dial's Status deadline bounds it too */
export const HEAD_TIMEOUT = 2_000
/** below this much time left, no GetBlockHeaders is sent */
const MIN_BUDGET_MS = 50
/** a node this many blocks below its chain's reference head is still synced */
export const SYNC_DISTANCE = 64
/** how many nodes must have reached a head for it to be the chain's reference */
export const SYNC_QUORUM = 3

/** JSON has no bigint: block numbers fit a number for the next few million years */
function num(v: bigint): number {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : Number.MAX_SAFE_INTEGER
}

/** latest ISO date: timestamps past it cannot be a Date */
const MAX_TIME_S = 8_640_000_000_000n

/**
 * Fill `r` with the head `s` names, then ask `session` for its header within `budgetMs` (capped at
 * HEAD_TIMEOUT). Never throws: failures go to `headError`.
 */
export async function readHead(session: EthSession, s: Status, budgetMs: number, r: HeadInfo): Promise<void> {
  const hash = s.layout === 69 ? s.latestBlockHash : s.head
  r.headHash = hex(hash)
  if (s.layout === 69) r.headNumber = num(s.latestBlock)
  if (budgetMs < MIN_BUDGET_MS) {
    r.headError = `no GetBlockHeaders: ${Math.max(0, Math.round(budgetMs))} ms left of the dial's Status deadline`
    return
  }
  try {
    const [h] = await session.getBlockHeaders({ origin: hash, amount: 1, skip: 0, reverse: false }, Math.min(budgetMs, HEAD_TIMEOUT))
    if (!h) r.headError = 'GetBlockHeaders: no header for its head hash'
    else if (!bytesEqual(h.hash, hash)) r.headError = `GetBlockHeaders: got header ${hex(h.hash)}, not the head it announced: ignored`
    else if (s.layout === 69 && h.number !== s.latestBlock) r.headError = `GetBlockHeaders: header number ${h.number}, its Status says ${s.latestBlock}: ignored`
    else if (h.time >= MAX_TIME_S) r.headError = `GetBlockHeaders: header time ${h.time} out of range: ignored`
    else {
      r.headNumber = num(h.number)
      r.headTime = new Date(Number(h.time) * 1000).toISOString()
    }
  } catch (err) {
    r.headError = `GetBlockHeaders: ${err instanceof Error ? err.message : String(err)}`
  }
}

/** what {@link referenceHeads} and {@link syncedOf} read of a record */
export interface HeadOf {
  chain?: string
  genesis?: string
  headNumber?: number
}

/** the chain a head is compared within: its name, or for an unknown chain its genesis */
function chainKey(r: HeadOf): string | undefined {
  if (r.chain === undefined || r.headNumber === undefined) return undefined
  return r.chain === 'unknown' ? (r.genesis !== undefined ? `unknown:${r.genesis}` : undefined) : r.chain
}

/** Per chain, the reference head: the SYNC_QUORUM-th highest head number (chains with fewer heads have none). */
export function referenceHeads(records: Iterable<HeadOf>): Map<string, number> {
  // per chain, the SYNC_QUORUM highest heads seen so far, highest first
  const top = new Map<string, number[]>()
  for (const r of records) {
    const k = chainKey(r)
    if (k === undefined) continue
    const t = top.get(k) ?? []
    if (t.length < SYNC_QUORUM || r.headNumber! > t[t.length - 1]!) {
      t.push(r.headNumber!)
      t.sort((a, b) => b - a)
      if (t.length > SYNC_QUORUM) t.pop()
      top.set(k, t)
    }
  }
  const out = new Map<string, number>()
  for (const [k, t] of top) if (t.length === SYNC_QUORUM) out.set(k, t[SYNC_QUORUM - 1]!)
  return out
}

/** Whether a node's head is synced against the references; undefined with no head or no reference. */
export function syncedOf(r: HeadOf, refs: ReadonlyMap<string, number>): boolean | undefined {
  const k = chainKey(r)
  const ref = k !== undefined ? refs.get(k) : undefined
  return ref === undefined ? undefined : r.headNumber! >= ref - SYNC_DISTANCE
}

/** Set `synced` on every record with a head (and a reference for its chain); returns the references. */
export function markSynced<R extends HeadOf & { synced?: boolean }>(records: R[]): Map<string, number> {
  const refs = referenceHeads(records)
  for (const r of records) {
    const s = syncedOf(r, refs)
    if (s !== undefined) r.synced = s
    else delete r.synced
  }
  return refs
}
