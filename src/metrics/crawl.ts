/**
 * Prometheus gauges for `ethp2p monitor --metrics ADDR`: the latest stored crawl's counts per client,
 * network, fork state and Status fork id, read from the history at scrape time (so a scrape always
 * shows a committed crawl, whichever process wrote it). Label values come from peers: each gauge keeps
 * its largest keys and sums the rest into one `(others)` series, so a crawl cannot blow up cardinality.
 */
import { Gauge, Registry } from 'prom-client'
import type { Dimension } from '../history/visit.js'

/** What the gauges read: the latest crawl's totals and counts (history/query's latestCounts fits). */
export interface LatestCrawlCounts {
  crawl?: { startedAt: number; found: number; answered: number; dialled: number; hello: number; status: number }
  counts: { dim: Dimension; key: string; n: number }[]
}

/** label values kept per gauge; the rest are summed into '(others)' */
export const MAX_SERIES = 50
const OTHERS = '(others)'

/** the dimensions the gauges need */
export const GAUGE_DIMENSIONS: Dimension[] = ['client', 'network', 'fork', 'forkid']

function bounded(counts: { key: string; n: number }[]): { key: string; n: number }[] {
  const sorted = [...counts].sort((a, b) => b.n - a.n || (a.key < b.key ? -1 : 1))
  if (sorted.length <= MAX_SERIES) return sorted
  const rest = sorted.slice(MAX_SERIES - 1).reduce((s, c) => s + c.n, 0)
  return [...sorted.slice(0, MAX_SERIES - 1), { key: OTHERS, n: rest }]
}

/** The crawl gauges in a registry of their own. */
export class CrawlMetrics {
  readonly registry = new Registry()

  constructor(read: () => Promise<LatestCrawlCounts>) {
    const registers = [this.registry]
    // the gauges' collects run together at a scrape and share one read while it is under way
    let pending: Promise<LatestCrawlCounts> | undefined
    const latest = (): Promise<LatestCrawlCounts> => {
      pending ??= read().finally(() => (pending = undefined))
      return pending
    }
    const byDim = async (dim: Dimension): Promise<{ key: string; n: number }[]> => bounded((await latest()).counts.filter((c) => c.dim === dim))

    new Gauge({
      name: 'ethp2p_crawl_nodes',
      help: 'Nodes in the latest crawl by state: found, answered (discovery), dialled, hello, status',
      labelNames: ['state'] as const,
      registers,
      async collect() {
        const c = (await latest()).crawl
        this.reset()
        if (!c) return
        for (const state of ['found', 'answered', 'dialled', 'hello', 'status'] as const) this.set({ state }, c[state])
      },
    })
    new Gauge({
      name: 'ethp2p_crawl_last_start_seconds',
      help: 'Start of the latest stored crawl, Unix time',
      registers,
      async collect() {
        const c = (await latest()).crawl
        this.reset()
        if (c) this.set(c.startedAt / 1000)
      },
    })
    new Gauge({
      name: 'ethp2p_crawl_clients',
      help: 'Nodes with a Hello in the latest crawl, by client name',
      labelNames: ['client'] as const,
      registers,
      async collect() {
        const rows = await byDim('client')
        this.reset()
        for (const r of rows) this.set({ client: r.key }, r.n)
      },
    })
    new Gauge({
      name: 'ethp2p_crawl_networks',
      help: 'Answering nodes in the latest crawl, by the network of their ENR eth entry',
      labelNames: ['network'] as const,
      registers,
      async collect() {
        const rows = await byDim('network')
        this.reset()
        for (const r of rows) this.set({ network: r.key }, r.n)
      },
    })
    new Gauge({
      name: 'ethp2p_crawl_forks',
      help: 'Answering nodes in the latest crawl, by network and fork state of their ENR eth entry',
      labelNames: ['network', 'fork'] as const,
      registers,
      async collect() {
        const rows = await byDim('fork')
        this.reset()
        for (const r of rows) {
          const [network, ...fork] = r.key.split(' ')
          this.set({ network: network!, fork: fork.join(' ') || r.key }, r.n)
        }
      },
    })
    new Gauge({
      name: 'ethp2p_crawl_fork_ids',
      help: 'Nodes with a Status in the latest crawl, by chain and fork id (hash/next)',
      labelNames: ['chain', 'fork_id'] as const,
      registers,
      async collect() {
        const rows = await byDim('forkid')
        this.reset()
        for (const r of rows) {
          const [chain, forkId] = r.key.split(' ')
          this.set({ chain: chain!, fork_id: forkId ?? r.key }, r.n)
        }
      },
    })
  }
}
