/**
 * EIP-2124 fork identifiers: FORK_HASH is the IEEE CRC32 of the genesis hash followed by every passed
 * fork activation (uint64, big endian), FORK_NEXT the next scheduled activation or 0. Since the merge,
 * forks activate by timestamp: block-number forks are checksummed first, then timestamp forks, so one
 * running checksum covers both eras.
 *
 * Everything is bigint: fork values and a remote's FORK_NEXT are uint64, past what a JS number holds.
 */
import { crc32 } from 'node:zlib'

/** A fork identifier as carried in the eth Status message and the ENR `eth` entry. */
export interface ForkId {
  /** 4-byte checksum */
  hash: Uint8Array
  /** next fork block or timestamp, 0 when none is known */
  next: bigint
}

/** One fork of a chain: by block before the merge, by timestamp after. */
export interface Fork {
  name: string
  /** activation block number (pre-merge forks) */
  block?: bigint
  /** activation timestamp in seconds (post-merge forks) */
  time?: bigint
}

/** What fork-id arithmetic needs to know about a chain. */
export interface ChainSpec {
  name: string
  networkId: bigint
  /** 32-byte genesis block hash */
  genesisHash: Uint8Array
  /** genesis timestamp: timestamp forks at or before it are part of the genesis ruleset */
  genesisTime: bigint
  forks: readonly Fork[]
}

/** Where a chain's head is: block number and timestamp, both needed since forks switched to time. */
export interface ChainHead {
  number: bigint | number
  time: bigint | number
}

/** Why EIP-2124 rejects a remote fork id: our rules disagree or we are behind, or the remote is. */
export type ForkIdRejection = 'LOCAL_INCOMPATIBLE_OR_STALE' | 'REMOTE_STALE'
/** The outcome of {@link validateForkId}. */
export type ForkIdCheck = { ok: true } | { ok: false; reason: ForkIdRejection }

/**
 * A remote FORK_NEXT above mainnet's genesis timestamp must be a timestamp, not a block number. Rule 1a
 * needs this during the block → timestamp transition, where a remote may already announce a time fork
 * while our next unpassed fork is still a block (EIP-2124 gives no field to say which kind it is).
 */
const TIMESTAMP_THRESHOLD = 1438269973n
/** Greater than every uint64: a sentinel fork that is never passed. */
const NEVER = 1n << 64n

/** The chain's activation points in checksum order: deduplicated, genesis-time rules dropped. */
export function gatherForks(chain: ChainSpec): { byBlock: bigint[]; byTime: bigint[] } {
  const uniqueSorted = (xs: bigint[]): bigint[] => [...new Set(xs)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  const byBlock = uniqueSorted(chain.forks.flatMap((f) => (f.block === undefined ? [] : [f.block])))
  const byTime = uniqueSorted(chain.forks.flatMap((f) => (f.time === undefined ? [] : [f.time])))
  // A ruleset active from block 0 or from genesis time is the genesis ruleset, not a fork.
  return { byBlock: byBlock.filter((b) => b !== 0n), byTime: byTime.filter((t) => t > chain.genesisTime) }
}

function checksumUpdate(sum: number, fork: bigint): number {
  const blob = Buffer.alloc(8)
  blob.writeBigUInt64BE(fork)
  return crc32(blob, sum)
}

function checksumBytes(sum: number): Uint8Array {
  const out = new Uint8Array(4)
  new DataView(out.buffer).setUint32(0, sum)
  return out
}

function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === 4 && b.length === 4 && a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3]
}

/** Every FORK_HASH the chain has ever had, in order: index 0 is genesis, index i follows fork i-1. */
export function forkHashes(chain: ChainSpec): Uint8Array[] {
  const { byBlock, byTime } = gatherForks(chain)
  let sum = crc32(chain.genesisHash)
  const sums = [checksumBytes(sum)]
  for (const fork of [...byBlock, ...byTime]) {
    sum = checksumUpdate(sum, fork)
    sums.push(checksumBytes(sum))
  }
  return sums
}

/** The fork id a node on `chain` announces with its head at block `head.number`, time `head.time`. */
export function forkId(chain: ChainSpec, head: ChainHead): ForkId {
  const { byBlock, byTime } = gatherForks(chain)
  const number = BigInt(head.number)
  const time = BigInt(head.time)
  let sum = crc32(chain.genesisHash)
  for (const [forks, at] of [[byBlock, number], [byTime, time]] as const) {
    for (const fork of forks) {
      if (fork > at) return { hash: checksumBytes(sum), next: fork }
      sum = checksumUpdate(sum, fork)
    }
  }
  return { hash: checksumBytes(sum), next: 0n }
}

/**
 * EIP-2124's validation of a remote fork id against our chain at `head`:
 *  1. same FORK_HASH as ours now: reject only if the remote's FORK_NEXT already passed here (1a);
 *  2. FORK_HASH of one of our past states: the remote is syncing, fine if its FORK_NEXT is the fork
 *     that followed that state, otherwise its software is stale;
 *  3. FORK_HASH of one of our future states: we are syncing, fine;
 *  4. anything else: a different chain.
 */
export function validateForkId(chain: ChainSpec, head: ChainHead, remote: ForkId): ForkIdCheck {
  const { byBlock, byTime } = gatherForks(chain)
  const forks = [...byBlock, ...byTime, NEVER]
  const sums = forkHashes(chain)
  const number = BigInt(head.number)
  const time = BigInt(head.time)
  // The sentinel compares against the block head on a chain without timestamp forks, else the time.
  const headFor = (i: number): bigint => (i < byBlock.length || (byTime.length === 0 && i === byBlock.length) ? number : time)

  // The first fork not yet passed locally; the sentinel stops the search whatever the head.
  const i = forks.findIndex((fork, j) => fork === NEVER || headFor(j) < fork)
  const local = headFor(i)
  const reject = (reason: ForkIdRejection): ForkIdCheck => ({ ok: false, reason })

  if (sameHash(sums[i]!, remote.hash)) {
    const passed = remote.next > 0n && (local >= remote.next || (remote.next > TIMESTAMP_THRESHOLD && time >= remote.next))
    return passed ? reject('LOCAL_INCOMPATIBLE_OR_STALE') : { ok: true }
  }
  for (let j = 0; j < i; j++) {
    if (sameHash(sums[j]!, remote.hash)) return forks[j] === remote.next ? { ok: true } : reject('REMOTE_STALE')
  }
  for (let j = i + 1; j < sums.length; j++) {
    if (sameHash(sums[j]!, remote.hash)) return { ok: true }
  }
  return reject('LOCAL_INCOMPATIBLE_OR_STALE')
}
