/**
 * A token bucket: tokens flow in at a rate up to a burst, and each unit of work spends one. The
 * per-IP ingress limiter, discv5's WHOAREYOU limiter (through it) and the crawler's send rate all
 * meter with this one; the caller passes the clock, so a bucket costs no timer.
 */
export class TokenBucket {
  private level: number
  private at: number
  private perMs: number

  constructor(
    /** tokens per second */
    perSecond: number,
    /** tokens held at most (and at the start) */
    readonly burst: number,
    now: number,
  ) {
    this.perMs = perSecond / 1000
    this.level = burst
    this.at = now
  }

  /** tokens per second from now on */
  set rate(perSecond: number) {
    this.perMs = perSecond / 1000
  }

  /** the tokens there are at `now` (ms, the clock the bucket was made with); may be below zero after {@link spend} */
  available(now: number): number {
    if (now > this.at) {
      this.level = Math.min(this.burst, this.level + (now - this.at) * this.perMs)
      this.at = now
    }
    return this.level
  }

  /** take one token at `now`; false (and nothing taken) when there is none */
  take(now: number): boolean {
    if (this.available(now) < 1) return false
    this.level -= 1
    return true
  }

  /** spend `n` tokens that were used already (the level may go below zero: the debt is paid first) */
  spend(n: number): void {
    this.level -= n
  }

  /** ms from the last refill until one whole token is there (0 when one is) */
  untilNext(): number {
    return this.level >= 1 ? 0 : (1 - this.level) / this.perMs
  }
}
