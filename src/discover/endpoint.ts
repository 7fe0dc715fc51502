/**
 * Predicts our external UDP endpoint from what peers tell us: every pong carries the address the
 * peer saw our ping come from. One statement per reporting IP counts, statements expire, and the
 * most common endpoint wins once enough distinct peers agree (geth's netutil.IPTracker idea).
 */

/** An external endpoint of ours, as peers report it. */
export interface EndpointStatement {
  ip: string
  port: number
}

/** Collects endpoint statements and predicts our external endpoint (see the module comment). */
export class EndpointPredictor {
  private readonly statements = new Map<string, { ep: string; at: number }>()

  constructor(
    /** distinct reporters needed before a prediction is made */
    private readonly minStatements = 10,
    private readonly windowMs = 5 * 60_000,
    private readonly maxReporters = 200,
  ) {}

  /** record that `reporter` saw us at `ep` */
  add(reporter: string, ep: EndpointStatement, now = Date.now()): void {
    this.statements.delete(reporter)
    if (this.statements.size >= this.maxReporters) this.statements.delete(this.statements.keys().next().value!)
    this.statements.set(reporter, { ep: `${ep.ip}|${ep.port}`, at: now })
  }

  /** the endpoint most reporters agree on, if at least `minStatements` of them do */
  predict(now = Date.now()): EndpointStatement | undefined {
    const counts = new Map<string, number>()
    for (const [reporter, s] of this.statements) {
      if (now - s.at > this.windowMs) {
        this.statements.delete(reporter)
        continue
      }
      counts.set(s.ep, (counts.get(s.ep) ?? 0) + 1)
    }
    let best: string | undefined
    let bestCount = 0
    for (const [ep, c] of counts) if (c > bestCount) [best, bestCount] = [ep, c]
    if (best === undefined || bestCount < this.minStatements) return undefined
    const [ip = '', port = '0'] = best.split('|')
    return { ip, port: Number(port) }
  }
}
