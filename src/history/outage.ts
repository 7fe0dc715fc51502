/**
 * Whether the history's database is reachable, as the monitor sees it, and when to try it next. One
 * warning when it becomes unreachable and one info line when it is back, whatever the number of tries
 * in between; tries back off exponentially (with jitter, so monitors sharing a server do not retry
 * in step) up to a cap. A failure that is not transient (see transient.ts) is thrown on.
 */
import type { Logger } from '../util/log.js'
import { classifyDbError, type DbErrorClass } from './transient.js'

/** How retries are spaced: the first after `initialMs`, each next one twice as late, at most `maxMs`. */
export interface Backoff {
  initialMs: number
  maxMs: number
}

/** 1 s, 2 s, 4 s, … 60 s. */
export const DEFAULT_BACKOFF: Backoff = { initialMs: 1000, maxMs: 60_000 }

/** The database's reachability and the retry schedule. */
export class Outage {
  private downSince: number | undefined
  private failures = 0
  private retryAt = 0

  constructor(
    private readonly log: Logger,
    private readonly backoff: Backoff = DEFAULT_BACKOFF,
    private readonly random: () => number = Math.random,
  ) {}

  /** the database failed the last call and has not answered since */
  get down(): boolean {
    return this.downSince !== undefined
  }

  /** when the next try is due, epoch ms (0 when up) */
  get nextTryAt(): number {
    return this.retryAt
  }

  /**
   * A call failed: a transient failure starts (or continues) the outage and schedules the next try;
   * anything else is thrown as it came.
   */
  failed(err: unknown, context: Record<string, unknown>): DbErrorClass {
    const kind = classifyDbError(err)
    if (kind === 'fatal') throw err
    const now = Date.now()
    if (this.downSince === undefined) {
      this.downSince = now
      this.log.warn({ ...context, kind, err: (err as Error).message ?? String(err) }, 'history unreachable: crawls go on and wait in the spool; retrying with backoff')
    }
    this.failures++
    this.retryAt = now + this.delay()
    // each try at debug level only (ETHP2P_LOG=debug): the warning above said it once
    this.log.debug({ ...context, kind, err: (err as Error).message ?? String(err), tries: this.failures, nextTry: new Date(this.retryAt).toISOString() }, 'history still unreachable')
    return kind
  }

  /** A call succeeded: ends the outage (said once). */
  up(context: Record<string, unknown> = {}): void {
    if (this.downSince === undefined) return
    this.log.info({ ...context, downSeconds: (Date.now() - this.downSince) / 1000, tries: this.failures }, 'history reachable again')
    this.downSince = undefined
    this.failures = 0
    this.retryAt = 0
  }

  /** The server answered again (a read worked after failing): try the spool at once, not at the end of the backoff. */
  retryNow(): void {
    if (this.downSince !== undefined) this.retryAt = Date.now()
  }

  /** half the exponential step plus a random share of the other half */
  private delay(): number {
    const step = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** Math.min(30, this.failures - 1))
    return step / 2 + this.random() * (step / 2)
  }
}
