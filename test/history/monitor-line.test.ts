/**
 * `ethp2p monitor`'s line per stored crawl (`crawlLine`) on crawls written into a SQLite history: its
 * countries, ASes and hosting share come from the crawl's counts, fresh or already stored.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { crawlLine, LINE_GEO_TOP } from '../../src/cli/monitor.js'
import { openHistory } from '../../src/history/db.js'
import { writeCrawl, type WrittenCrawl } from '../../src/history/write.js'
import { key, rec, T0 } from './fixtures.js'

const dir = mkdtempSync(join(tmpdir(), 'ethp2p-monitor-line-'))
after(() => rmSync(dir, { recursive: true, force: true }))

const geoRecords = [
  rec(key('a'), true, { ip: '5.9.1.1', country: 'DE', asn: 24940, asOrg: 'Hetzner Online GmbH' }),
  rec(key('b'), true, { ip: '5.9.1.2', country: 'DE', asn: 24940, asOrg: 'Hetzner Online GmbH' }),
  rec(key('c'), true, { ip: '5.9.1.3', country: 'DE', asn: 24940, asOrg: 'Hetzner Online GmbH' }),
  rec(key('d'), true, { ip: '3.5.1.1', country: 'US', asn: 16509, asOrg: 'Amazon.com, Inc.' }),
  rec(key('e'), true, { ip: '80.1.1.1', country: 'FI', asn: 1759, asOrg: 'Telia Finland Oyj' }),
  rec(key('f'), true, { ip: '80.2.1.1', country: 'FR', asn: 3215, asOrg: 'Orange S.A.' }),
  rec(key('1'), true, { ip: '80.3.1.1', country: 'SE', asn: 3301, asOrg: 'Telia Company AB' }),
  // unanswered and private: in no count
  rec(key('2'), false, { ip: '9.9.9.9', country: 'CH', asn: 19281, asOrg: 'Quad9' }),
  rec(key('3'), true, { ip: '192.168.1.5' }),
]

describe('monitor line', () => {
  it('the largest countries and ASes (as stats --json geo) and the hosting share, fresh and already stored alike', async () => {
    const h = await openHistory({ engine: 'sqlite', file: join(dir, 'geo.sqlite') })
    try {
      const meta = { vantage: 'v', startedAt: T0, endedAt: T0 + 1000, options: {}, key: 'crawl-1' }
      const w = await writeCrawl(h, meta, geoRecords)
      const line = crawlLine(w, 'v', false)
      assert.equal(LINE_GEO_TOP, 3)
      assert.deepEqual(line['countries'], [
        { country: 'DE', nodes: 3 },
        { country: 'FI', nodes: 1 },
        { country: 'FR', nodes: 1 },
      ])
      assert.deepEqual(line['ases'], [
        { asn: 24940, asOrg: 'Hetzner Online GmbH', nodes: 3, hosting: true },
        { asn: 1759, asOrg: 'Telia Finland Oyj', nodes: 1, hosting: false },
        { asn: 3215, asOrg: 'Orange S.A.', nodes: 1, hosting: false },
      ])
      // Hetzner 3 and AWS 1 of 7 with an AS, over all ASes, not only the named ones
      assert.equal(line['hostingShare'], 0.571)
      assert.deepEqual([line['crawl'], line['vantage'], line['found'], line['answered'], line['interrupted']], [w.id, 'v', 9, 8, false])
      assert.deepEqual(Object.keys(line), ['crawl', 'vantage', 'found', 'answered', 'new', 'returning', 'gone', 'protocols', 'layers', 'countries', 'ases', 'hostingShare', 'interrupted'])
      // the same crawl handed in again (a commit gone through unacknowledged): the same geography
      const again = await writeCrawl(h, meta, geoRecords)
      assert.equal(again.alreadyStored, true)
      const line2 = crawlLine(again, 'v', true)
      assert.deepEqual([line2['countries'], line2['ases'], line2['hostingShare'], line2['interrupted']], [line['countries'], line['ases'], line['hostingShare'], true])
    } finally {
      await h.close()
    }
  })

  it('no answering node with a country or AS (a loopback testnet): empty lists, hostingShare null', async () => {
    const h = await openHistory({ engine: 'sqlite', file: join(dir, 'none.sqlite') })
    try {
      const w = await writeCrawl(h, { vantage: 'v', startedAt: T0, endedAt: T0 + 1000, options: {} }, [rec(key('a'), true), rec(key('b'), false, { country: 'US', asn: 15169 })])
      const line = crawlLine(w, 'v', false)
      assert.deepEqual([line['countries'], line['ases'], line['hostingShare']], [[], [], null])
    } finally {
      await h.close()
    }
  })

  it('ranks from the geography rows alone; a count of another dimension with an AS-like key is none of them', () => {
    const w: WrittenCrawl = {
      id: 7,
      found: 2,
      answered: 2,
      newNodes: 0,
      returningNodes: 0,
      goneNodes: 0,
      protocols: { 'v4 only': 0, 'v5 only': 0, both: 0 },
      layers: { execution: 0, consensus: 0 },
      counts: [
        { dim: 'client', key: 'AS15169 geth', n: 9 },
        { dim: 'asn', key: 'AS15169 Google LLC', n: 1 },
        { dim: 'asn', key: 'AS3320', n: 1 },
      ],
      edges: 12,
    }
    const line = crawlLine(w, 'v', false)
    assert.deepEqual(line['ases'], [
      { asn: 3320, asOrg: null, nodes: 1, hosting: false },
      { asn: 15169, asOrg: 'Google LLC', nodes: 1, hosting: true },
    ])
    assert.deepEqual([line['countries'], line['hostingShare'], line['edges']], [[], 0.5, 12])
  })
})
