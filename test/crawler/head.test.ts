import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { markSynced, referenceHeads, SYNC_DISTANCE } from '../../src/crawler/head.js'
import { renderReport } from '../../src/crawler/report.js'
import type { CrawlRecord } from '../../src/crawler/record.js'

const rec = (i: number, chain: string, headNumber?: number, name = 'geth'): CrawlRecord => ({
  id: i.toString(16).padStart(128, '0'),
  ip: '10.0.0.1',
  udp: 30303,
  tcp: 30303,
  firstSeen: '2025-01-01T00:00:00.000Z',
  lastSeen: '2025-01-01T00:00:00.000Z',
  answered: true,
  eth2: false,
  clientId: `${name}/v1`,
  client: { name },
  chain,
  networkId: 1,
  genesis: 'aa',
  ...(headNumber !== undefined ? { headNumber } : {}),
})

describe('synced', () => {
  it('the reference is the highest head at least 3 nodes of a chain reached; 64 blocks below it is still synced', () => {
    const rs = [rec(1, 'mainnet', 1000), rec(2, 'mainnet', 1000), rec(3, 'mainnet', 999), rec(4, 'mainnet', 9_999_999), rec(5, 'mainnet', 1000 - SYNC_DISTANCE), rec(6, 'mainnet', 999 - SYNC_DISTANCE, 'reth'), rec(7, 'sepolia', 5), rec(8, 'sepolia', 5), rec(9, 'mainnet')]
    const refs = markSynced(rs)
    // one node far ahead moves nothing; sepolia has two heads only: no reference, no verdict
    assert.deepEqual([...refs], [['mainnet', 1000]])
    assert.deepEqual(
      rs.map((r) => r.synced),
      [true, true, true, true, true, false, undefined, undefined, undefined],
    )
    assert.deepEqual([...referenceHeads([rec(1, 'unknown', 7), rec(2, 'unknown', 7), rec(3, 'unknown', 7)])], [['unknown:aa', 7]])
  })

  it('the report shows the synced share per client', () => {
    const rs = [rec(1, 'mainnet', 1000), rec(2, 'mainnet', 1000), rec(3, 'mainnet', 1000), rec(4, 'mainnet', 10, 'reth')]
    const html = renderReport(rs, { started: 0, ended: 1000, seeds: 1 }, [])
    assert.match(html, /Heads: synced share per client/)
    assert.match(html, /<th>geth<\/th><td class="n">3 \/ 3<\/td><td class="n">100\.0 %/)
    assert.match(html, /<th>reth<\/th><td class="n">0 \/ 1<\/td><td class="n">0\.0 %/)
  })
})
