/**
 * The Kademlia geometry discv4, discv5 and the crawler share (geth's p2p/discover/table.go constants
 * and enode.LogDist): one definition of distance and of the bucket shape, so no layer borrows them
 * from another.
 */

/** entries per bucket (Kademlia's k), and nodes one FINDNODE answer or lookup result holds */
export const BUCKET_SIZE = 16
/** replacements kept per bucket, to step in when an entry dies */
export const MAX_REPLACEMENTS = 10
/** buckets: log distances 240–256 (the closest one also holds everything nearer) */
export const N_BUCKETS = 17
/** log distance at and below which nodes share the first bucket */
export const BUCKET_MIN_DISTANCE = 256 - N_BUCKETS
/** FINDNODE requests in flight per lookup (Kademlia's alpha, geth's 3) */
export const ALPHA = 3

/** log2 distance as geth defines it: 256 minus the number of leading bits `a` (its 32 bytes from `aAt`) and `b` share (0 when equal) */
export function logDistance(a: Uint8Array, b: Uint8Array, aAt = 0): number {
  for (let i = 0; i < 32; i++) {
    const x = a[aAt + i]! ^ b[i]!
    if (x !== 0) return (31 - i) * 8 + (32 - Math.clz32(x))
  }
  return 0
}
