import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { isIPv4 } from 'node:net'
import fc from 'fast-check'
import { checkRelayIP, ipFromBytes, isLAN, isLoopback, isSpecialNetwork, parseIP } from '../../src/util/netutil.js'

describe('netutil', () => {
  it('parses exactly the dotted quads node:net accepts, to the same address', () => {
    const text = fc.oneof(fc.ipV4(), fc.ipV4Extended(), fc.string(), fc.stringMatching(/^[0-9.]{0,16}$/))
    fc.assert(
      fc.property(text, (s) => {
        const a = parseIP(s)
        if (isIPv4(s)) assert.equal(a && [...a.subarray(12)].join('.'), s)
        else if (!s.includes(':')) assert.equal(a, null, JSON.stringify(s))
      }),
      { seed: 7, numRuns: 20_000 },
    )
  })

  it('parses IPv6, embedded quads and zone indexes', () => {
    assert.equal(ipFromBytes(parseIP('::ffff:1.2.3.4')!), '1.2.3.4')
    assert.equal(ipFromBytes(parseIP('fe80::1%eth0')!), 'fe80::1')
    assert.equal(ipFromBytes(parseIP('2001:db8::8:800:200c:417a')!), '2001:db8::8:800:200c:417a')
    assert.equal(parseIP('1.2.3'), null)
    assert.equal(parseIP('01.2.3.4'), null)
  })

  it('classifies loopback, LAN and special-purpose networks', () => {
    assert.ok(isLoopback('127.9.9.9') && isLoopback('::1'))
    assert.ok(isLAN('10.1.2.3') && isLAN('172.31.0.1') && isLAN('192.168.1.1') && isLAN('fd00::1') && isLAN('fe80::1'))
    assert.ok(!isLAN('172.32.0.1') && !isLAN('8.8.8.8'))
    assert.ok(isSpecialNetwork('192.0.2.1') && isSpecialNetwork('2001:db8::1') && isSpecialNetwork('224.0.0.1'))
    assert.ok(!isSpecialNetwork('1.1.1.1'))
    // range edges: /15, /4, /8, /31 and /32 entries
    assert.ok(isSpecialNetwork('198.19.255.255') && !isSpecialNetwork('198.20.0.0') && !isSpecialNetwork('198.17.255.255'))
    assert.ok(isSpecialNetwork('255.255.255.255') && isSpecialNetwork('239.255.255.255') && !isSpecialNetwork('223.255.255.255'))
    assert.ok(isSpecialNetwork('0.1.2.3') && !isSpecialNetwork('1.0.0.0'))
    assert.ok(isSpecialNetwork('192.0.0.171') && !isSpecialNetwork('192.0.0.172') && isSpecialNetwork('192.0.0.9') && !isSpecialNetwork('192.0.0.10'))
    assert.ok(isLAN('::1') && !isLAN('::2') && isLAN('127.255.0.1'))
  })

  it('classifies each address alone: one classified before leaves nothing behind (the classifiers share scratch bytes)', () => {
    assert.equal(isLAN('fc00::1'), true)
    assert.equal(isLAN('8.8.8.8'), false)
    assert.equal(isLoopback('::1'), true)
    assert.equal(isLoopback('1.0.0.1'), false)
    assert.equal(isSpecialNetwork('2001:db8::1'), true)
    assert.equal(isSpecialNetwork('9.9.9.9'), false)
    assert.equal(checkRelayIP('10.0.0.1', '192.168.1.1'), null)
    assert.equal(checkRelayIP('8.8.8.8', '127.0.0.1'), 'loopback')
    assert.equal(checkRelayIP('fe80::1', 'fe80::2'), null)
    assert.equal(checkRelayIP('1.2.3.4', '10.1.1.1'), 'lan')
    assert.deepEqual(parseIP('1.2.3.4'), new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4]))
  })

  it('IPv4 texts come out right however often an address recurs, past the bound of the texts kept', () => {
    for (let round = 0; round < 2; round++) {
      // 20,000 addresses a round: the table of texts fills and starts again within each
      for (let i = 0; i < 40_000; i += 2) {
        const b = new Uint8Array([i >>> 8, i & 255, (i * 31) & 255, 9])
        const want = `${b[0]}.${b[1]}.${b[2]}.9`
        assert.equal(ipFromBytes(b), want)
        assert.equal(ipFromBytes(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...b])), want)
      }
    }
  })

  it('checks a relayed dotted quad as the generic path checks the same address written v4-mapped', () => {
    const octets = [0, 1, 9, 10, 100, 127, 168, 169, 172, 192, 198, 203, 224, 240, 254, 255]
    const senders = ['8.8.8.8', '127.0.0.1', '10.1.2.3', '192.168.7.7', '172.20.0.1', '169.254.1.1', '::1', 'fe80::1', 'fc00::5', '2001:4860::8888', '::ffff:127.0.0.9', '::ffff:10.0.0.1', 'not an address', '01.2.3.4']
    let checked = 0
    const seen = new Set<string | null>()
    for (const a of octets)
      for (const b of [0, 2, 16, 31, 51, 88, 168, 254])
        for (const c of [0, 2, 99, 100, 113])
          for (const d of [0, 1, 9, 170, 255]) {
            const addr = `${a}.${b}.${c}.${d}`
            for (const sender of senders) {
              const got = checkRelayIP(sender, addr)
              assert.equal(got, checkRelayIP(sender, `::ffff:${addr}`), `${sender} relaying ${addr}`)
              seen.add(got)
              checked++
            }
          }
    assert.equal(checked, 16 * 8 * 5 * 5 * 14)
    assert.deepEqual([...seen].sort(), ['lan', 'loopback', 'special', 'unspecified', null].sort())
  })

  it('accepts relayed addresses only from senders in the same kind of network', () => {
    assert.equal(checkRelayIP('8.8.8.8', '1.1.1.1'), null)
    assert.equal(checkRelayIP('8.8.8.8', '127.0.0.1'), 'loopback')
    assert.equal(checkRelayIP('8.8.8.8', '10.0.0.1'), 'lan')
    assert.equal(checkRelayIP('127.0.0.1', '127.0.0.2'), null)
    assert.equal(checkRelayIP('10.0.0.5', '192.168.0.1'), null)
    assert.equal(checkRelayIP('10.0.0.5', '127.0.0.1'), 'loopback')
    assert.equal(checkRelayIP('1.2.3.4', '0.0.0.0'), 'unspecified')
    assert.equal(checkRelayIP('1.2.3.4', '203.0.113.5'), 'special')
  })
})
