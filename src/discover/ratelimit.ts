/**
 * Ingress guards for the UDP socket: a per-IP token bucket and a filter of recently seen packet
 * hashes. Both are bounded; neither ever allocates per packet beyond a map entry.
 */
import { TokenBucket } from '../util/token-bucket.js'

/** A per-IP token bucket: sustained rate, burst, and how many IPs are tracked. */
export interface RateLimitOptions {
  /** sustained packets per minute from one IP */
  perMinute: number
  /** packets one IP may send at once before the sustained rate applies */
  burst: number
  /** IPs tracked at most; the least recently seen are forgotten first */
  maxTracked?: number
}

/** geth serves a few hundred packets a minute from one peer; reth caps at 60. We allow bursts of a crawl. */
export const DEFAULT_RATE_LIMIT: RateLimitOptions = { perMinute: 600, burst: 120, maxTracked: 10_000 }

/** The per-IP token buckets, bounded in the IPs they track. */
export class IPRateLimiter {
  private readonly buckets = new Map<string, TokenBucket>()
  private readonly perSecond: number
  private readonly maxTracked: number

  constructor(private readonly opts: RateLimitOptions) {
    this.perSecond = opts.perMinute / 60
    this.maxTracked = opts.maxTracked ?? 10_000
  }

  /** take one token for `ip`; false when it is over its rate */
  allow(ip: string, now = Date.now()): boolean {
    let b = this.buckets.get(ip)
    if (b) this.buckets.delete(ip) // re-insert below: Map order is then least recently seen first
    else {
      if (this.buckets.size >= this.maxTracked) this.buckets.delete(this.buckets.keys().next().value!)
      b = new TokenBucket(this.perSecond, this.opts.burst, now)
    }
    this.buckets.set(ip, b)
    return b.take(now)
  }

  get tracked(): number {
    return this.buckets.size
  }
}

/**
 * Remembers packet hashes for at least `windowMs` (two rotating generations), at most `maxEntries`
 * per generation. A replayed datagram inside the window is reported as seen.
 */
export class DuplicateFilter {
  private current = new Set<string>()
  private previous = new Set<string>()
  private rotatedAt: number

  constructor(
    private readonly windowMs = 20_000,
    private readonly maxEntries = 50_000,
  ) {
    this.rotatedAt = Date.now()
  }

  /** true when `key` was seen within the window; records it otherwise */
  seen(key: string, now = Date.now()): boolean {
    if (now - this.rotatedAt >= this.windowMs || this.current.size >= this.maxEntries) {
      this.previous = this.current
      this.current = new Set()
      this.rotatedAt = now
    }
    if (this.current.has(key) || this.previous.has(key)) return true
    this.current.add(key)
    return false
  }
}
