/** Offline geography against the real packaged databases: the targets, private ranges, --geoip-dir. */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GeoError, GeoResolver, isPublicIP } from '../../src/geo/resolver.js'
import { enrichRecord } from '../../src/geo/enrich.js'
import { isHostingAsn } from '../../src/geo/hosting.js'
import { GeoTally } from '../../src/geo/tally.js'

const geo = await GeoResolver.open()

describe('GeoResolver on the packaged databases', () => {
  it('finds both databases', () => {
    assert.deepEqual(geo.missing, [])
    assert.ok(geo.available)
  })

  it('8.8.8.8 is in the US, on AS15169 (Google)', () => {
    const g = geo.lookup('8.8.8.8')
    assert.equal(g?.country, 'US')
    assert.equal(g?.asn, 15169)
    assert.match(g?.asOrg ?? '', /Google/)
  })

  it('1.1.1.1 is on AS13335 (Cloudflare)', () => {
    const g = geo.lookup('1.1.1.1')
    assert.equal(g?.asn, 13335)
    assert.match(g?.asOrg ?? '', /Cloudflare/)
    assert.match(g?.country ?? '', /^[A-Z]{2}$/)
  })

  it('IPv6: 2001:4860:4860::8888 is Google too', () => {
    const g = geo.lookup('2001:4860:4860::8888')
    assert.equal(g?.asn, 15169)
    assert.equal(g?.country, 'US')
  })

  it('private, loopback, link-local, unspecified and documentation addresses get nothing', () => {
    for (const ip of ['127.0.0.1', '10.1.2.3', '192.168.1.1', '172.16.5.4', '169.254.1.1', '::1', 'fd00::1', 'fe80::1', '0.0.0.0', '192.0.2.1', 'not-an-ip']) {
      assert.equal(geo.lookup(ip), undefined, ip)
      assert.equal(isPublicIP(ip), false, ip)
    }
    assert.equal(isPublicIP('8.8.8.8'), true)
  })

  it('caches per address and shares one answer object', () => {
    assert.equal(geo.lookup('8.8.8.8'), geo.lookup('8.8.8.8'))
    assert.equal(geo.lookup('8.8.4.4'), geo.lookup('8.8.8.8'))
  })

  it('enriches a record with a public IP and leaves a loopback one alone', () => {
    const pub = enrichRecord(geo, { id: 'a', ip: '8.8.8.8', udp: 30303 } as { id: string; ip: string; udp: number; country?: string; asn?: number; asOrg?: string })
    assert.equal(pub.country, 'US')
    assert.equal(pub.asn, 15169)
    const lo = enrichRecord(geo, { id: 'b', ip: '127.0.0.1', udp: 30303 })
    assert.deepEqual(Object.keys(lo), ['id', 'ip', 'udp'])
  })

  it('the hosting share counts well-known hosting ASes among nodes with a known AS', () => {
    assert.ok(isHostingAsn(16509) && isHostingAsn(24940) && !isHostingAsn(13335) && !isHostingAsn(undefined))
    const t = new GeoTally()
    for (const r of [{ asn: 16509 }, { asn: 13335 }, {}, { asn: 24940 }, { asn: 3320 }]) t.add(r)
    const g = t.rank(10)
    assert.deepEqual([g.withAsn, g.hosted, g.hostingShare], [4, 2, 0.5])
  })
})

describe('--geoip-dir', () => {
  it('a missing directory, or one without databases, is a BAD_DIR error', async () => {
    await assert.rejects(GeoResolver.open({ dir: '/nonexistent/geoip' }), (e: unknown) => e instanceof GeoError && e.code === 'BAD_DIR')
    const empty = mkdtempSync(join(tmpdir(), 'geo-empty-'))
    try {
      await assert.rejects(GeoResolver.open({ dir: empty }), (e: unknown) => e instanceof GeoError && e.code === 'BAD_DIR')
    } finally {
      rmSync(empty, { recursive: true, force: true })
    }
  })

  it('takes a *Country*.mmdb from the directory; the AS still comes from the package', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'geo-dir-'))
    try {
      const pkg = createRequire(import.meta.url).resolve('@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb')
      copyFileSync(pkg, join(dir, 'My-Country.mmdb'))
      const r = await GeoResolver.open({ dir })
      assert.equal(r.sources.country, join(dir, 'My-Country.mmdb'))
      assert.equal(r.lookup('8.8.8.8')?.country, 'US')
      assert.equal(r.lookup('8.8.8.8')?.asn, 15169)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('a file named like a database that is not one is a BAD_DATABASE error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'geo-bad-'))
    try {
      mkdirSync(join(dir, 'sub'))
      writeFileSync(join(dir, 'GeoLite2-ASN.mmdb'), 'not a database')
      await assert.rejects(GeoResolver.open({ dir }), (e: unknown) => e instanceof GeoError && e.code === 'BAD_DATABASE')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
