/** The monitor's Prometheus gauges: the latest crawl's counts, read from the history at scrape time. */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { openHistory } from '../../src/history/db.js'
import { latestCounts } from '../../src/history/query.js'
import type { HistoryRecord } from '../../src/history/visit.js'
import { writeCrawl } from '../../src/history/write.js'
import { CrawlMetrics, GAUGE_DIMENSIONS, MAX_SERIES } from '../../src/metrics/crawl.js'

const dir = mkdtempSync(join(tmpdir(), 'ethp2p-crawl-metrics-'))
after(() => rmSync(dir, { recursive: true, force: true }))

function node(i: number, clientId: string | undefined): HistoryRecord {
  const when = new Date(0).toISOString()
  const r: HistoryRecord = { id: i.toString(16).padStart(128, '0'), ip: '10.0.0.1', udp: 30303, tcp: 30303, firstSeen: when, lastSeen: when, answered: true, eth2: false, network: 'mainnet', fork: 'prague' }
  if (clientId !== undefined) Object.assign(r, { clientId, networkId: 1, chain: 'mainnet', forkId: { hash: 'c376cf8b', next: 0 } })
  return r
}

describe('crawl gauges', () => {
  it('show the latest crawl per client, network, fork and fork id; empty before the first crawl', async () => {
    const h = await openHistory({ engine: 'sqlite', file: join(dir, 'a.sqlite') })
    try {
      const m = new CrawlMetrics(() => latestCounts(h, GAUGE_DIMENSIONS))
      assert.doesNotMatch(await m.registry.metrics(), /ethp2p_crawl_clients\{/)
      await writeCrawl(h, { vantage: 'v', startedAt: 1000, endedAt: 2000, options: {} }, [node(1, 'Geth/v1.15.0/linux-amd64/go1.23'), node(2, 'Geth/v1.15.0/linux-amd64/go1.23'), node(3, 'reth/v1.1.4/x86_64-unknown-linux-gnu'), node(4, undefined)])
      await writeCrawl(h, { vantage: 'v', startedAt: 5000, endedAt: 6000, options: {} }, [node(1, 'Geth/v1.15.0/linux-amd64/go1.23'), node(3, 'reth/v1.1.4/x86_64-unknown-linux-gnu')])
      const text = await m.registry.metrics()
      // the second crawl, not the sum of both
      assert.match(text, /ethp2p_crawl_clients\{client="geth"\} 1\n/)
      assert.match(text, /ethp2p_crawl_clients\{client="reth"\} 1\n/)
      assert.match(text, /ethp2p_crawl_nodes\{state="found"\} 2\n/)
      assert.match(text, /ethp2p_crawl_networks\{network="mainnet"\} 2\n/)
      assert.match(text, /ethp2p_crawl_forks\{network="mainnet",fork="prague"\} 2\n/)
      assert.match(text, /ethp2p_crawl_fork_ids\{chain="mainnet",fork_id="c376cf8b\/0"\} 2\n/)
      assert.match(text, /ethp2p_crawl_last_start_seconds 5\n/)
    } finally {
      await h.close()
    }
  })

  it('bound the label values: peers choosing client names cannot grow the series without end', async () => {
    const h = await openHistory({ engine: 'sqlite', file: join(dir, 'b.sqlite') })
    try {
      const records = Array.from({ length: 200 }, (_, i) => node(i + 1, `client${i}/v1.0.${i}`))
      await writeCrawl(h, { vantage: 'v', startedAt: 1, endedAt: 2, options: {} }, records)
      const text = await new CrawlMetrics(() => latestCounts(h, GAUGE_DIMENSIONS)).registry.metrics()
      const series = text.split('\n').filter((l) => l.startsWith('ethp2p_crawl_clients{'))
      assert.equal(series.length, MAX_SERIES)
      assert.ok(series.includes(`ethp2p_crawl_clients{client="(others)"} ${200 - MAX_SERIES + 1}`))
    } finally {
      await h.close()
    }
  })
})
