import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createCipheriv } from 'node:crypto'
import { keccak_256 } from '@noble/hashes/sha3.js'
import type { FrameSecrets } from '../../src/crypto/types.js'
import { RLPxError } from '../../src/rlpx/errors.js'
import { DISCONNECT_CODE, FrameCodec, type Message } from '../../src/rlpx/frame.js'
import { backends, bytes, hexOf } from '../crypto/helpers.js'

const isCode = (code: string) => (e: unknown) => e instanceof RLPxError && e.code === code

/** Fixed secrets; B's are A's mirrored so A's frames open on B. */
const A: FrameSecrets = {
  aesSecret: bytes('11'.repeat(32)),
  macSecret: bytes('22'.repeat(32)),
  egressMacSeed: bytes('33'.repeat(64)),
  ingressMacSeed: bytes('44'.repeat(64)),
}
const B: FrameSecrets = { ...A, egressMacSeed: A.ingressMacSeed, ingressMacSeed: A.egressMacSeed }

/**
 * The spec's egress side written out directly on node:crypto and noble's keccak, independent of
 * every backend: AES-256-CTR (zero IV) runs on across frames; the MAC is a running keccak state.
 */
function referenceSealer(s: FrameSecrets) {
  const ctr = createCipheriv('aes-256-ctr', s.aesSecret, new Uint8Array(16))
  const ecb = createCipheriv('aes-256-ecb', s.macSecret, null).setAutoPadding(false)
  const mac = keccak_256.create().update(s.egressMacSeed)
  const macDigest = () => mac.clone().digest().subarray(0, 16)
  const xor16 = (a: Uint8Array, b: Uint8Array) => Uint8Array.from(a.subarray(0, 16), (x, i) => x ^ b[i]!)
  return (frameData: Uint8Array): Uint8Array => {
    const header = new Uint8Array(16)
    header.set([frameData.length >> 16, (frameData.length >> 8) & 0xff, frameData.length & 0xff, 0xc2, 0x80, 0x80])
    const headerCt = ctr.update(header)
    mac.update(xor16(ecb.update(macDigest()), headerCt))
    const headerMac = macDigest()
    const padded = new Uint8Array(Math.ceil(frameData.length / 16) * 16)
    padded.set(frameData)
    const bodyCt = ctr.update(padded)
    mac.update(bodyCt)
    const d = macDigest()
    mac.update(xor16(ecb.update(d), d))
    return Buffer.concat([headerCt, headerMac, bodyCt, macDigest()])
  }
}

const frameData = (code: number[], payload: Uint8Array) => Uint8Array.from([...code, ...payload])

function readAll(c: FrameCodec): Message[] {
  const out: Message[] = []
  for (let i = 0; i < 1000; i++) {
    const m = c.read()
    if (!m) return out
    out.push(m)
  }
  throw new Error('runaway reader')
}

describe('rlpx golden frames', () => {
  const payload = new TextEncoder().encode('ethp2p golden frame payload, longer than one block')
  const ref = referenceSealer(A)
  const expected = [
    ref(frameData([0x10], payload)),
    ref(frameData([0x80], new Uint8Array(0))), // code 0, empty payload
    ref(frameData([0x82, 0x12, 0x34], payload)),
  ]

  for (const b of backends()) {
    it(`frames sealed by the ${b.name} backend match the independent reference byte for byte`, () => {
      const c = new FrameCodec(b.frameCipher(A))
      assert.equal(hexOf(c.encode(0x10, payload)), hexOf(expected[0]!))
      assert.equal(hexOf(c.encode(0, new Uint8Array(0))), hexOf(expected[1]!))
      assert.equal(hexOf(c.encode(0x1234, payload)), hexOf(expected[2]!))
    })
  }
})

for (const b of backends()) {
  describe(`rlpx frame codec [${b.name}]`, () => {
    const pair = (opts: { maxFrameSize?: number } = {}) => [new FrameCodec(b.frameCipher(A)), new FrameCodec(b.frameCipher(B), opts)] as const

    it('round-trips message codes and payloads, fed whole or one byte at a time', () => {
      const [a, r] = pair()
      const msgs: Message[] = [0, 1, 0x7f, 0x80, 0xff, 0x1234, 0xffffffff].map((code, i) => ({ code, payload: new Uint8Array(i * 37).fill(i) }))
      const wire = Buffer.concat(msgs.map((m) => a.encode(m.code, m.payload)))
      for (let i = 0; i < 100; i++) r.push(wire.subarray(i, i + 1))
      r.push(wire.subarray(100))
      const got = readAll(r)
      assert.deepEqual(got.map((m) => [m.code, hexOf(m.payload)]), msgs.map((m) => [m.code, hexOf(m.payload)]))
      assert.equal(r.buffered, 0)
    })

    it('compresses every message once snappy is on and inflates on read', () => {
      const [a, r] = pair()
      a.snappy = r.snappy = true
      const big = new Uint8Array(100_000).fill(7)
      const frame = a.encode(0x10, big)
      assert.ok(frame.length < 10_000, 'compressed on the wire')
      r.push(frame)
      r.push(a.encode(0x02, Uint8Array.of(0xc0)))
      const [m1, m2] = readAll(r)
      assert.equal(m1!.payload.length, big.length)
      assert.deepEqual([m2!.code, hexOf(m2!.payload)], [0x02, 'c0'])
    })

    it('accepts a Disconnect compressed or not when snappy is on', () => {
      const [a, r] = pair()
      r.snappy = true
      r.push(a.encode(DISCONNECT_CODE, Uint8Array.of(0xc1, 0x04))) // raw (a is not compressing)
      a.snappy = true
      r.push(a.encode(DISCONNECT_CODE, Uint8Array.of(0xc1, 0x05)))
      assert.deepEqual(readAll(r).map((m) => hexOf(m.payload)), ['c104', 'c105'])
    })

    it('refuses a snappy bomb from its length header, before decompressing', () => {
      const [a, r] = pair()
      r.snappy = true
      // claims 16 MiB + 1 decoded bytes, carries a 1-byte literal
      r.push(a.encode(0x10, Uint8Array.of(...varint(16 * 1024 * 1024 + 1), 0x00, 0x61)))
      assert.throws(() => r.read(), isCode('DECOMPRESS_LIMIT'))
      // exactly at the limit is not a bomb: it fails as a malformed block instead
      const [a2, r2] = pair()
      r2.snappy = true
      r2.push(a2.encode(0x10, Uint8Array.of(...varint(16 * 1024 * 1024), 0x00, 0x61)))
      assert.throws(() => r2.read(), isCode('BAD_FRAME'))
    })

    for (const [region, at] of [
      ['header', 3],
      ['header MAC', 20],
      ['body', 40],
      ['frame MAC', -2],
    ] as const) {
      it(`rejects a frame with one flipped bit in its ${region}`, () => {
        const [a, r] = pair()
        const f = Uint8Array.from(a.encode(0x10, new Uint8Array(40).fill(9)))
        f[at < 0 ? f.length + at : at]! ^= 0x04
        r.push(f)
        assert.throws(() => r.read(), isCode('BAD_MAC'))
      })
    }

    it('refuses a frame over the size limit from its header alone', () => {
      const [a, r] = pair({ maxFrameSize: 1024 })
      const f = a.encode(0x10, new Uint8Array(4096))
      r.push(f.subarray(0, 32))
      assert.throws(() => r.read(), isCode('FRAME_TOO_LARGE'))
      assert.throws(() => a.encode(0x10, new Uint8Array(16 * 1024 * 1024 + 1)), isCode('FRAME_TOO_LARGE'))
    })

    it('rejects malformed message codes', () => {
      for (const data of [[0x00], [0x81, 0x05], [0x82, 0x00, 0x80], [0x87, 1, 2, 3, 4, 5, 6, 7], [0x83, 1], [0xc0]]) {
        const r = new FrameCodec(b.frameCipher(B))
        // seal raw frame-data through the cipher to bypass the encoder's canonical code
        r.push(b.frameCipher(A).seal(Uint8Array.from(data)))
        assert.throws(() => r.read(), isCode('BAD_FRAME'), `frame-data ${hexOf(Uint8Array.from(data))}`)
      }
    })
  })
}

/** snappy's length header: little-endian base-128 */
function varint(n: number): number[] {
  const out: number[] = []
  for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n & 0x7f) | 0x80)
  out.push(n)
  return out
}
