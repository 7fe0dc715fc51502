/** The crawl's closing summary and its CSV, on hand-made records: what each counts and where each column goes. */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { CsvWriter, formatSummary, summarize } from '../../src/crawler/output.js'
import type { CrawlRecord } from '../../src/crawler/record.js'

const dir = mkdtempSync(join(tmpdir(), 'ethp2p-output-'))
after(() => rmSync(dir, { recursive: true, force: true }))

const base = { udp: 30303, tcp: 30303, firstSeen: new Date(0).toISOString(), lastSeen: new Date(1000).toISOString(), eth2: false, answered: true }
const at = (i: number, extra: Partial<CrawlRecord>): CrawlRecord => ({ ...base, id: i.toString(16).padStart(128, '0'), ip: `10.0.5.${i}`, ...extra })

describe('crawl summary', () => {
  it('counts answering nodes over v4 only, v5 only and both, and by layer', () => {
    const records = [
      at(1, { protocols: ['v4'], layer: 'execution' }),
      at(2, { protocols: ['v4'], layer: 'execution' }),
      at(3, { protocols: ['v4', 'v5'], layer: 'execution' }),
      at(4, { protocols: ['v5'], layer: 'consensus', eth2: true }),
      at(5, { protocols: ['v5'], layer: 'consensus', eth2: true }),
      at(6, { protocols: ['v5'], layer: 'consensus', eth2: true }),
      at(7, { protocols: ['v5'], layer: 'execution' }),
      // tried on both, answered neither: unanswered, in no split
      at(8, { answered: false, protocols: ['v4', 'v5'], error: 'no answer' }),
    ]
    const s = summarize(records, 1)
    assert.deepEqual(s.protocols, { 'v4 only': 2, 'v5 only': 4, both: 1 })
    assert.deepEqual(s.layers, { execution: 4, consensus: 3 })
    const text = formatSummary(s)
    assert.match(text, /^protocols: v4 only 2, v5 only 4, both 1$/m)
    assert.match(text, /^layers: execution 4, consensus 3$/m)
  })

  it('a discv4-only crawl (records without protocols or layer) has neither line', () => {
    const s = summarize([at(1, {}), at(2, {})], 1)
    assert.equal(s.protocols, undefined)
    assert.equal(s.layers, undefined)
    assert.doesNotMatch(formatSummary(s), /protocols:|layers:/)
  })

  it('splits with no node still show, at zero', () => {
    assert.match(formatSummary(summarize([at(1, { protocols: ['v4', 'v5'] })], 1)), /^protocols: v4 only 0, v5 only 0, both 1$/m)
  })

  it('answered nodes per country and AS, the top five named, the rest as "+N more", and the share on hosting ASes', () => {
    const hetzner = { country: 'DE', asn: 24940, asOrg: 'Hetzner Online GmbH' }
    const records = [
      ...[1, 2, 3].map((i) => at(i, hetzner)),
      at(4, { country: 'US', asn: 16509, asOrg: 'Amazon.com, Inc.' }),
      at(5, { country: 'US', asn: 16509, asOrg: 'Amazon.com, Inc.' }),
      at(6, { country: 'FI', asn: 1759, asOrg: 'Telia Finland Oyj' }),
      at(7, { country: 'FR', asn: 3215, asOrg: 'Orange S.A.' }),
      at(8, { country: 'JP', asn: 2516, asOrg: 'KDDI CORPORATION' }),
      at(9, { country: 'NL', asn: 1136 }),
      at(10, { country: 'SE', asn: 3301, asOrg: 'Telia Company AB' }),
      // a country without an AS counts in one line only
      at(11, { country: 'SE' }),
      // unanswered: counted nowhere
      at(12, { ...hetzner, answered: false, error: 'no answer' }),
      // private address: no geography
      at(13, {}),
    ]
    const s = summarize(records, 1)
    assert.deepEqual(s.geo?.countries, [
      { country: 'DE', nodes: 3 },
      { country: 'SE', nodes: 2 },
      { country: 'US', nodes: 2 },
      { country: 'FI', nodes: 1 },
      { country: 'FR', nodes: 1 },
    ])
    assert.deepEqual(s.geo?.ases.map((a) => [a.asn, a.nodes, a.hosting]), [
      [24940, 3, true],
      [16509, 2, true],
      [1136, 1, false],
      [1759, 1, false],
      [2516, 1, false],
    ])
    assert.deepEqual([s.geo?.withCountry, s.geo?.withAsn, s.geo?.hosted], [11, 10, 5])
    const text = formatSummary(s)
    assert.match(text, /^countries: DE 3, SE 2, US 2, FI 1, FR 1, \+2 more \(2 nodes\)$/m)
    assert.match(text, /^ASes: AS24940 Hetzner Online GmbH: 3, AS16509 Amazon\.com, Inc\.: 2, AS1136: 1, AS1759 Telia Finland Oyj: 1, AS2516 KDDI CORPORATION: 1, \+2 more \(2 nodes\)$/m)
    assert.match(text, /^on well-known hosting ASes: 5 of 10 answered nodes with a known AS \(50\.0 %\)$/m)
  })

  it('five or fewer: no "+N more"; ASes without a country still make their lines', () => {
    const text = formatSummary(summarize([at(1, { asn: 15169, asOrg: 'Google LLC' }), at(2, { asn: 3320, asOrg: 'Deutsche Telekom AG' }), at(3, { asn: 3320, asOrg: 'Deutsche Telekom AG' })], 1))
    assert.match(text, /^ASes: AS3320 Deutsche Telekom AG: 2, AS15169 Google LLC: 1$/m)
    assert.match(text, /^on well-known hosting ASes: 1 of 3 answered nodes with a known AS \(33\.3 %\)$/m)
    assert.doesNotMatch(text, /^countries:|more \(/m)
  })

  it('no record with a country or AS (a loopback testnet): no geo, no new line', () => {
    const s = summarize([at(1, {}), at(2, { protocols: ['v4'] })], 1)
    assert.equal(s.geo, undefined)
    assert.doesNotMatch(formatSummary(s), /countries:|ASes/)
  })
})

describe('CSV', () => {
  it('protocols (joined by +), layer, the country, asn and asOrg, then the head come last, after the columns as they were', async () => {
    const path = join(dir, 'out.csv')
    const csv = await CsvWriter.toFile(path)
    await csv.write(at(1, { protocols: ['v4', 'v5'], layer: 'execution', clientId: 'Geth/v1.15.0', dialError: 'x, y' }))
    await csv.write(at(2, { protocols: ['v5'], layer: 'consensus', dialError: 'not dialled: consensus-layer node (libp2p)' }))
    await csv.write(at(3, {}))
    await csv.write(at(4, { country: 'US', asn: 15169, asOrg: 'Google LLC' }))
    await csv.write(at(5, { headNumber: 22_000_000, headHash: 'ab'.repeat(32), headTime: '2025-06-01T00:00:00.000Z' }))
    await csv.close()
    const [header, ...rows] = readFileSync(path, 'utf8').trim().split('\n')
    const before = 'id,ip,udp,tcp,seq,answered,network,fork,eth2,neighbors,firstSeen,lastSeen,enr,clientId,caps,networkId,forkId,chain,disconnect,inbound,error,dialError'
    assert.equal(header, `${before},protocols,layer,country,asn,asOrg,headNumber,headHash,headTime`)
    assert.match(rows[0]!, /,Geth\/v1\.15\.0,.*,"x, y",v4\+v5,execution,,,,,,$/)
    assert.match(rows[1]!, /,not dialled: consensus-layer node \(libp2p\),v5,consensus,,,,,,$/)
    assert.match(rows[2]!, /,,,,,,,,$/)
    assert.match(rows[3]!, /,US,15169,Google LLC,,,$/)
    assert.match(rows[4]!, new RegExp(`,,,,,,22000000,${'ab'.repeat(32)},2025-06-01T00:00:00.000Z$`))
    assert.equal(rows[2]!.split(',').length, header!.split(',').length)
  })
})
