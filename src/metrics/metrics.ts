/**
 * Prometheus metrics for a node (`--metrics ADDR`). Everything lives in a private prom-client Registry
 * so an embedder's own metrics, or a second node in the same process, never collide with ours.
 *
 * Two kinds of values: events the server and dialer report as they happen (dials, handshakes, RLPx
 * bytes) are pushed into counters; state that already lives in objects (discovery stats, table size,
 * peer counts) is pulled at scrape time through `attach`, so the hot paths pay nothing for metrics.
 */
import { Counter, Gauge, Registry } from 'prom-client'

/** The shape of Discv4's `stats` object (cumulative counters plus the pending-request gauge). */
export interface DiscoveryStats {
  packetsIn: number
  packetsOut: number
  bytesIn: number
  bytesOut: number
  dropped: Readonly<Record<string, number>>
  timeouts: number
  pending: number
}

/** What the metrics read from a running discovery instance. */
export interface DiscoverySource {
  stats: DiscoveryStats
  table: { readonly size: number }
}

/** Peers by direction. */
export interface PeerCounts {
  inbound: number
  outbound: number
}

/** Live objects read at every scrape; each may be absent (discovery off, server not started yet). */
export interface MetricsSources {
  discovery?: () => DiscoverySource | undefined
  peers?: () => PeerCounts | undefined
}

/** the discovery drop reason that counts as a failed signature/hash check */
const VERIFY_DROP = 'verify'

/** The Prometheus metrics of a node (`--metrics`): peers, dials, handshakes, discovery traffic. */
export class P2PMetrics {
  readonly registry = new Registry()
  private sources: MetricsSources = {}

  readonly peers: Gauge<'direction'>
  readonly dialAttempts: Counter
  readonly dialSuccesses: Counter
  readonly dialFailures: Counter<'reason'>
  readonly handshakes: Counter<'result'>
  readonly rlpxBytes: Counter<'direction'>
  readonly discoveryPackets: Counter<'direction'>
  readonly discoveryBytes: Counter<'direction'>
  readonly verificationFailures: Counter
  readonly droppedDatagrams: Counter<'reason'>
  readonly discoveryTimeouts: Counter
  readonly pendingRequests: Gauge
  readonly tableSize: Gauge

  constructor(sources: MetricsSources = {}) {
    this.sources = sources
    const registers = [this.registry]
    // `self` rather than `this` inside collect: prom-client binds `this` to the metric
    const self = this
    const discovery = (): DiscoverySource | undefined => self.sources.discovery?.()

    this.peers = new Gauge({
      name: 'ethp2p_peers',
      help: 'Connected peers by direction',
      labelNames: ['direction'] as const,
      registers,
      collect() {
        const p = self.sources.peers?.()
        if (!p) return
        this.set({ direction: 'inbound' }, p.inbound)
        this.set({ direction: 'outbound' }, p.outbound)
      },
    })
    this.dialAttempts = new Counter({ name: 'ethp2p_dial_attempts_total', help: 'Outbound dials started', registers })
    this.dialSuccesses = new Counter({ name: 'ethp2p_dial_successes_total', help: 'Outbound dials that became peers', registers })
    this.dialFailures = new Counter({ name: 'ethp2p_dial_failures_total', help: 'Outbound dials that failed, by reason', labelNames: ['reason'] as const, registers })
    this.handshakes = new Counter({ name: 'ethp2p_handshakes_total', help: 'RLPx + Hello handshakes by result (ok, failed)', labelNames: ['result'] as const, registers })
    this.rlpxBytes = new Counter({ name: 'ethp2p_rlpx_bytes_total', help: 'RLPx bytes by direction (in, out)', labelNames: ['direction'] as const, registers })

    // Discv4 keeps cumulative totals; a scrape copies them (reset + inc keeps prom-client's counter type).
    const pulled = <L extends string>(name: string, help: string, labelNames: readonly L[], read: (d: DiscoverySource, set: (labels: Partial<Record<L, string>>, v: number) => void) => void): Counter<L> =>
      new Counter<L>({
        name,
        help,
        labelNames,
        registers,
        collect() {
          const d = discovery()
          if (!d) return
          this.reset()
          read(d, (labels, v) => this.inc(labels, v))
        },
      })
    this.discoveryPackets = pulled('ethp2p_discovery_packets_total', 'Discovery datagrams by direction (in, out)', ['direction'], (d, set) => {
      set({ direction: 'in' }, d.stats.packetsIn)
      set({ direction: 'out' }, d.stats.packetsOut)
    })
    this.discoveryBytes = pulled('ethp2p_discovery_bytes_total', 'Discovery bytes by direction (in, out)', ['direction'], (d, set) => {
      set({ direction: 'in' }, d.stats.bytesIn)
      set({ direction: 'out' }, d.stats.bytesOut)
    })
    this.verificationFailures = pulled('ethp2p_discovery_verification_failures_total', 'Discovery datagrams failing the hash or signature check', [], (d, set) =>
      set({}, d.stats.dropped[VERIFY_DROP] ?? 0),
    )
    this.droppedDatagrams = pulled('ethp2p_discovery_dropped_total', 'Discovery datagrams dropped, by reason', ['reason'], (d, set) => {
      for (const [reason, n] of Object.entries(d.stats.dropped)) set({ reason }, n)
    })
    this.discoveryTimeouts = pulled('ethp2p_discovery_timeouts_total', 'Discovery requests that got no reply in time', [], (d, set) => set({}, d.stats.timeouts))
    this.pendingRequests = new Gauge({
      name: 'ethp2p_discovery_pending_requests',
      help: 'Discovery requests awaiting a reply',
      registers,
      collect() {
        const d = discovery()
        if (d) this.set(d.stats.pending)
      },
    })
    this.tableSize = new Gauge({
      name: 'ethp2p_discovery_table_size',
      help: 'Nodes in the discovery table',
      registers,
      collect() {
        const d = discovery()
        if (d) this.set(d.table.size)
      },
    })
  }

  /** Replace (or add) the live objects read at scrape time; an absent key keeps the current one. */
  attach(sources: MetricsSources): void {
    this.sources = { ...this.sources, ...sources }
  }

  dialAttempted(): void {
    this.dialAttempts.inc()
  }

  dialSucceeded(): void {
    this.dialSuccesses.inc()
  }

  dialFailed(reason: string): void {
    this.dialFailures.inc({ reason })
  }

  handshake(ok: boolean): void {
    this.handshakes.inc({ result: ok ? 'ok' : 'failed' })
  }

  bytes(direction: 'in' | 'out', n: number): void {
    this.rlpxBytes.inc({ direction }, n)
  }
}

export { MetricsServerError, parseListenAddr, serveMetrics, type MetricsServer } from './serve.js'
