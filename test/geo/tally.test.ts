/** The one ranking of nodes by country and AS behind the summary, the monitor's line and the history. */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { GeoTally } from '../../src/geo/tally.js'

describe('GeoTally', () => {
  it('ranks countries and ASes by nodes (ties by code / number), cuts at top, sums the rest and the hosting share', () => {
    const t = new GeoTally()
    for (const r of [
      { country: 'DE', asn: 24940, asOrg: 'Hetzner Online GmbH' },
      { country: 'DE', asn: 24940, asOrg: 'Hetzner Online GmbH' },
      { country: 'US', asn: 16509, asOrg: 'Amazon.com, Inc.' },
      { country: 'FI', asn: 1759, asOrg: 'Telia Finland Oyj' },
      { country: 'CH' },
      {},
    ])
      t.add(r)
    const g = t.rank(2)
    assert.deepEqual(g.countries, [
      { country: 'DE', nodes: 2 },
      { country: 'CH', nodes: 1 },
    ])
    assert.deepEqual(g.ases, [
      { asn: 24940, asOrg: 'Hetzner Online GmbH', nodes: 2, hosting: true },
      { asn: 1759, asOrg: 'Telia Finland Oyj', nodes: 1, hosting: false },
    ])
    assert.deepEqual([g.withCountry, g.withAsn, g.hosted, g.hostingShare], [5, 4, 3, 0.75])
    assert.deepEqual(g.others, { countries: 2, ases: 1 })
    assert.deepEqual(g.distinct, { countries: 4, ases: 3 })
  })

  it('counts with a multiplicity; an empty organisation is none, a later name fills it', () => {
    const t = new GeoTally()
    t.addAsn(13335, '', 3)
    t.addAsn(13335, 'Cloudflare, Inc.', 2)
    t.addCountry('AU', 4)
    const g = t.rank(10)
    assert.deepEqual(g.ases, [{ asn: 13335, asOrg: 'Cloudflare, Inc.', nodes: 5, hosting: false }])
    assert.deepEqual(g.countries, [{ country: 'AU', nodes: 4 }])
    assert.equal(g.hostingShare, 0)
    assert.equal(t.empty, false)
  })

  it('nothing known: empty lists, share 0, empty', () => {
    const t = new GeoTally()
    t.add({})
    assert.equal(t.empty, true)
    assert.deepEqual(t.rank(5), { countries: [], ases: [], withCountry: 0, withAsn: 0, hosted: 0, hostingShare: 0, others: { countries: 0, ases: 0 }, distinct: { countries: 0, ases: 0 } })
  })
})
