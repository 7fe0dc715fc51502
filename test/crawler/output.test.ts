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
