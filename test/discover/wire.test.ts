import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { decodePacket, encodePacket, isExpired, MAX_NEIGHBORS, WireError, type NeighborNode, type Packet } from '../../src/discover/wire.js'
import { randomPrivateKey } from '../../src/crypto/backend.js'
import { backends, bytes, hexOf } from '../crypto/helpers.js'

const vectors = JSON.parse(readFileSync(new URL('../vectors/discv4-eip8.json', import.meta.url), 'utf8')) as {
  key: string
  signer: string
  expiration: number
  packets: Record<string, string>
}
const V = (name: string): Uint8Array => bytes(vectors.packets[name]!)

const isWireError = (code: string) => (e: unknown) => e instanceof WireError && e.code === code

for (const b of backends()) {
  describe(`discv4 wire (${b.name})`, () => {
    it('accepts the EIP-8 ping vectors (extra elements, version 555, trailing data)', () => {
      const p1 = decodePacket(V('ping-v4'), b)
      assert.equal(hexOf(p1.pubkey), vectors.signer)
      assert.deepEqual(p1.packet, { type: 1, version: 4, from: { ip: '127.0.0.1', udp: 3322, tcp: 5544 }, to: { ip: '::1', udp: 2222, tcp: 3333 }, expiration: vectors.expiration })
      const p2 = decodePacket(V('ping-v4-extra-elements'), b)
      // the first extra element sits in the enr-seq slot and is a plain integer
      assert.deepEqual(p2.packet, { ...p1.packet, enrSeq: 1n })
      const p3 = decodePacket(V('ping-v555-extra-elements-and-data'), b)
      assert.deepEqual(p3.packet, {
        type: 1,
        version: 555,
        from: { ip: '2001:db8:3c4d:15::abcd:ef12', udp: 3322, tcp: 5544 },
        to: { ip: '2001:db8:85a3:8d3:1319:8a2e:370:7348', udp: 2222, tcp: 33338 },
        expiration: vectors.expiration,
      }, 'a list in the enr-seq slot is ignored')
      assert.equal(hexOf(p3.pubkey), vectors.signer)
    })

    it('accepts the EIP-8 pong, findnode and neighbors vectors', () => {
      const pong = decodePacket(V('pong-extra-elements-and-data'), b)
      assert.deepEqual(pong.packet, {
        type: 2,
        to: { ip: '2001:db8:85a3:8d3:1319:8a2e:370:7348', udp: 2222, tcp: 33338 },
        replyTok: bytes('fbc914b16819237dcd8801d7e53f69e9719adecb3cc0e790c57e91ca4461c954'),
        expiration: vectors.expiration,
      })
      const fn = decodePacket(V('findnode-extra-elements-and-data'), b)
      assert.deepEqual(fn.packet, { type: 3, target: bytes(vectors.signer), expiration: vectors.expiration })
      const nb = decodePacket(V('neighbors-extra-elements-and-data'), b)
      assert.equal(nb.packet.type, 4)
      if (nb.packet.type !== 4) return
      assert.deepEqual(
        nb.packet.nodes.map((n) => [n.ip, n.udp, n.tcp, hexOf(n.pubkey).slice(0, 8)]),
        [
          ['99.33.22.55', 4444, 4445, '3155e142'],
          ['1.2.3.4', 1, 1, '312c5551'],
          ['2001:db8:3c4d:15::abcd:ef12', 3333, 3333, '38643200'],
          ['2001:db8:85a3:8d3:1319:8a2e:370:7348', 999, 1000, '8dcab861'],
        ],
      )
      assert.equal(nb.packet.skipped, 0)
      for (const v of Object.values(vectors.packets)) assert.equal(hexOf(decodePacket(bytes(v), b).pubkey), vectors.signer)
    })

    it('round-trips every packet type and checks the signer', () => {
      const key = randomPrivateKey()
      const pub = new Uint8Array(b.publicKey(key))
      const node: NeighborNode = { ip: '10.0.0.1', udp: 30303, tcp: 30304, pubkey: pub }
      const packets: Packet[] = [
        { type: 1, version: 4, from: { ip: '127.0.0.1', udp: 1, tcp: 2 }, to: { ip: '::1', udp: 3, tcp: 0 }, expiration: 2_000_000_000, enrSeq: 9n },
        { type: 2, to: { ip: '1.2.3.4', udp: 5, tcp: 6 }, replyTok: new Uint8Array(32).fill(7), expiration: 2_000_000_000, enrSeq: 2n ** 64n - 1n },
        { type: 3, target: new Uint8Array(64).fill(3), expiration: 2_000_000_000 },
        { type: 4, nodes: Array.from({ length: MAX_NEIGHBORS }, () => ({ ...node, ip: '2001:db8::1' })), expiration: 2_000_000_000, skipped: 0 },
        { type: 5, expiration: 2_000_000_000 },
      ]
      for (const p of packets) {
        const { datagram, hash } = encodePacket(p, key, b)
        assert.ok(datagram.length <= 1280, `${p.type}: ${datagram.length} bytes`)
        const d = decodePacket(datagram, b)
        assert.deepEqual(d.packet, p)
        assert.equal(hexOf(d.hash), hexOf(hash))
        assert.equal(hexOf(d.pubkey), hexOf(pub))
      }
    })

    it('rejects tampering, truncation, oversize and unknown types with typed errors', () => {
      const key = randomPrivateKey()
      const { datagram } = encodePacket({ type: 5, expiration: 2_000_000_000 }, key, b)
      const flipped = new Uint8Array(datagram)
      flipped[flipped.length - 1]! ^= 1
      assert.throws(() => decodePacket(flipped, b), isWireError('BAD_HASH'))
      assert.throws(() => decodePacket(datagram.subarray(0, 97), b), isWireError('TOO_SHORT'))
      assert.throws(() => decodePacket(new Uint8Array(1281), b), isWireError('TOO_LARGE'))
      assert.throws(() => encodePacket({ type: 4, nodes: Array.from({ length: 13 }, () => ({ ip: '1.1.1.1', udp: 1, tcp: 1, pubkey: b.publicKey(key) })), expiration: 1 }, key, b), isWireError('TOO_LARGE'))
    })

    it('drops neighbors entries whose key is not on the curve, keeping the rest', () => {
      const key = randomPrivateKey()
      const good = b.publicKey(key)
      const bad = new Uint8Array(64).fill(0xff) // coordinates ≥ p
      const { datagram } = encodePacket({ type: 4, nodes: [{ ip: '1.1.1.1', udp: 1, tcp: 1, pubkey: bad }, { ip: '1.1.1.2', udp: 2, tcp: 2, pubkey: good }], expiration: 2_000_000_000 }, key, b)
      const d = decodePacket(datagram, b)
      assert.equal(d.packet.type, 4)
      if (d.packet.type === 4) {
        assert.equal(d.packet.nodes.length, 1)
        assert.equal(d.packet.skipped, 1)
        assert.equal(d.packet.nodes[0]!.ip, '1.1.1.2')
      }
    })
  })
}

describe('discv4 wire robustness', () => {
  it('decodes arbitrary signed bodies to a packet or a WireError', () => {
    const key = randomPrivateKey()
    const b = backends().at(-1)! // the signing path is the same everywhere; decode runs the full check
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 8 }), fc.uint8Array({ maxLength: 300 }), (type, body) => {
        // sign an arbitrary body so decoding reaches the RLP stage
        const signed = new Uint8Array([type, ...body])
        const { sig, recovery } = b.sign(b.keccak256(signed), key)
        const tail = new Uint8Array([...sig, recovery, ...signed])
        const datagram = new Uint8Array([...b.keccak256(tail), ...tail])
        try {
          decodePacket(datagram, b)
        } catch (e) {
          if (!(e instanceof WireError)) throw e
        }
      }),
      { numRuns: 2000, seed: 8 },
    )
  })

  it('treats expirations in the past as expired', () => {
    assert.equal(isExpired(1136239445), true)
    assert.equal(isExpired(Math.floor(Date.now() / 1000) + 20), false)
  })
})
