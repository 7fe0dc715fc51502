import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { EnodeURLError, formatEnode, parseEnode } from '../../src/enode/url.js'
import { backend } from '../../src/crypto/backend.js'
import { hexOf } from '../crypto/helpers.js'

// a mainnet bootnode as geth lists it
const PUB = 'd860a01f9722d78051619d1e2351aba3f43f943f6f00718d1b9baa4101932a1f5011f16bb2b1bb35db20d6fe28fa0bf09636d26a87d31de9ec6203eeedb1f666'

describe('enode URLs', () => {
  it('parses IPv4 with and without discport and formats back', () => {
    const n = parseEnode(`enode://${PUB}@18.138.108.67:30303`)
    assert.equal(hexOf(n.pubkey), PUB)
    assert.equal(n.ip, '18.138.108.67')
    assert.equal(n.tcp, 30303)
    assert.equal(n.udp, 30303)
    assert.equal(formatEnode(n), `enode://${PUB}@18.138.108.67:30303`)
    const d = parseEnode(`enode://${PUB}@10.3.58.6:30303?discport=30301`)
    assert.equal(d.udp, 30301)
    assert.equal(d.tcp, 30303)
    assert.equal(formatEnode(d), `enode://${PUB}@10.3.58.6:30303?discport=30301`)
    assert.deepEqual(d.id, backend.keccak256(d.pubkey))
  })

  it('parses bracketed IPv6', () => {
    const n = parseEnode(`enode://${PUB}@[2001:db8::7]:30303`)
    assert.equal(n.ip, '2001:db8::7')
    assert.equal(formatEnode(n), `enode://${PUB}@[2001:db8::7]:30303`)
  })

  it('explains what is wrong', () => {
    const cases: [string, RegExp][] = [
      [`http://${PUB}@1.2.3.4:1`, /scheme/],
      [`enode://${PUB.slice(2)}@1.2.3.4:30303`, /128 hex/],
      [`enode://${'00'.repeat(64)}@1.2.3.4:30303`, /not a point/],
      [`enode://${PUB}@example.org:30303`, /not an IP address/],
      [`enode://${PUB}@1.2.3.4:70000`, /out of range/],
      [`enode://${PUB}@1.2.3.4:x`, /not a port/],
      [`enode://${PUB}@1.2.3.4`, /not a port/],
      [`enode://${PUB}@1.2.3.4:30303?discport=abc`, /discport/],
    ]
    for (const [url, re] of cases) assert.throws(() => parseEnode(url), (e: unknown) => e instanceof EnodeURLError && re.test(e.message), url)
  })

  it('never throws anything but EnodeURLError on arbitrary text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string().map((s) => `enode://${PUB}@${s}`), fc.string().map((s) => `enode://${s}`)), (s) => {
        try {
          parseEnode(s)
        } catch (e) {
          if (!(e instanceof EnodeURLError)) throw e
        }
      }),
      { numRuns: 3000, seed: 42 },
    )
  })
})
