import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { NetRestrict, NetRestrictError } from '../../src/p2p/netrestrict.js'

describe('NetRestrict', () => {
  it('parses IPv4 and IPv6 networks and matches addresses', () => {
    const l = NetRestrict.parse('10.0.0.0/8,192.168.0.0/16,::1/128')
    assert.deepEqual(l.entries, ['10.0.0.0/8', '192.168.0.0/16', '::1/128'])
    assert.equal(l.contains('10.1.2.3'), true)
    assert.equal(l.contains('192.168.255.1'), true)
    assert.equal(l.contains('192.169.0.1'), false)
    assert.equal(l.contains('11.0.0.1'), false)
    assert.equal(l.contains('::1'), true)
    assert.equal(l.contains('::2'), false)
    assert.equal(l.contains('fe80::1'), false)
  })

  it('treats v4-mapped IPv6 addresses as IPv4, in lookups and in the list', () => {
    const l = NetRestrict.parse('10.0.0.0/8')
    assert.equal(l.contains('::ffff:10.9.8.7'), true)
    assert.equal(l.contains('::ffff:a09:807'), true)
    assert.equal(l.contains('::ffff:11.0.0.1'), false)
    const m = NetRestrict.parse('::ffff:172.16.0.0/108')
    assert.deepEqual(m.entries, ['172.16.0.0/12'])
    assert.equal(m.contains('172.31.255.255'), true)
    assert.equal(m.contains('172.32.0.0'), false)
  })

  it('matches 4- and 16-byte addresses given as bytes', () => {
    const l = NetRestrict.parse('10.0.0.0/8, 2001:db8::/32')
    assert.equal(l.containsBytes(Uint8Array.of(10, 0, 0, 1)), true)
    assert.equal(l.containsBytes(Uint8Array.of(11, 0, 0, 1)), false)
    const v6 = new Uint8Array(16)
    v6.set([0x20, 0x01, 0x0d, 0xb8])
    assert.equal(l.containsBytes(v6), true)
    v6[3] = 0xb9
    assert.equal(l.containsBytes(v6), false)
    assert.equal(l.containsBytes(new Uint8Array(5)), false)
  })

  it('masks host bits, handles /0 and odd prefix lengths, ignores whitespace and empty entries', () => {
    const l = NetRestrict.parse(' 10.1.2.3/8 ,, 2001:db8:ffff::1/33 ,\n')
    assert.deepEqual(l.entries, ['10.0.0.0/8', '2001:db8:8000::/33'])
    assert.equal(l.contains('2001:db8:8000::5'), true)
    assert.equal(l.contains('2001:db8:7fff::5'), false)
    const all = NetRestrict.parse('0.0.0.0/0,::/0')
    assert.equal(all.contains('1.2.3.4'), true)
    assert.equal(all.contains('2a00::1'), true)
    assert.equal(all.contains('not an ip'), false)
    assert.equal(NetRestrict.parse('').empty, true)
    assert.equal(NetRestrict.parse('').contains('10.0.0.1'), false)
    assert.equal(l.toString(), '10.0.0.0/8,2001:db8:8000::/33')
  })

  it('explains bad entries with a typed error naming the entry', () => {
    const cases: [string, string, RegExp][] = [
      ['10.0.0.0', '10.0.0.0', /missing \/prefix/],
      ['10.0.0.0/8,300.0.0.0/8', '300.0.0.0/8', /not an IP address/],
      ['10.0.0.0/33', '10.0.0.0/33', /exceeds 32/],
      ['::/129', '::/129', /exceeds 128/],
      ['10.0.0.0/x', '10.0.0.0/x', /not a number/],
      ['10.0.0.0/-1', '10.0.0.0/-1', /not a number/],
      ['fe80::1%eth0/64', 'fe80::1%eth0/64', /not an IP address/],
      ['example.org/8', 'example.org/8', /not an IP address/],
    ]
    for (const [list, entry, re] of cases) {
      assert.throws(
        () => NetRestrict.parse(list),
        (e: unknown) => e instanceof NetRestrictError && e.entry === entry && re.test(e.message),
        list,
      )
    }
  })

  it('agrees with a bitwise reference for random IPv4 networks', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }), fc.integer({ min: 0, max: 0xffffffff }), (net, bits, ip) => {
        const text = (n: number) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`
        const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0
        const want = ((net & mask) >>> 0) === ((ip & mask) >>> 0)
        const l = NetRestrict.parse(`${text(net)}/${bits}`)
        assert.equal(l.contains(text(ip)), want)
        assert.equal(l.contains(text(net)), true)
      }),
      { numRuns: 300 },
    )
  })
})
