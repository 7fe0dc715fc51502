/**
 * RLPx: readAuth / readAck (EIP-8 and legacy) return null (need more bytes), a message, or throw
 * RLPxError; a FrameCodec fed random, mutated or hostile frames yields messages or throws RLPxError,
 * snappy on or off. On every backend.
 *
 * Mutating a sealed message only exercises the ECIES MAC, so the handshake bodies are also mutated as
 * plaintext and sealed again, and frame contents are sealed with the peer's real cipher: that is how
 * the decoders behind the MACs see arbitrary input.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { concatBytes } from '../../src/crypto/bytes.js'
import { CryptoError, ECIES_OVERHEAD, type CryptoBackend, type FrameSecrets } from '../../src/crypto/types.js'
import { RLPxError } from '../../src/rlpx/errors.js'
import { DISCONNECT_CODE, FrameCodec, MAX_MESSAGE_SIZE } from '../../src/rlpx/frame.js'
import { makeAck, makeAuth, readAck, readAuth } from '../../src/rlpx/handshake.js'
import { snappy, snappyDecodedLength } from '../../src/rlpx/snappy.js'
import { encodeRLP, RLPError } from '../../src/util/rlp.js'
import { backends, bytes } from '../crypto/helpers.js'
import { applyMutation, bytesOrMutant, mutant, mutation, params, typed } from './fuzz.js'

const V = JSON.parse(readFileSync(new URL('../vectors/rlpx.json', import.meta.url), 'utf8')) as {
  keyA: string
  keyB: string
  ephemeralKeyA: string
  ephemeralKeyB: string
  nonceA: string
  nonceB: string
  auth: Record<string, { wire: string }>
  ack: Record<string, { wire: string }>
}
const KEY_A = bytes(V.keyA) // initiator: acks are sealed to it
const KEY_B = bytes(V.keyB) // recipient: auths are sealed to it
const EPH_A = bytes(V.ephemeralKeyA)
const EPH_B = bytes(V.ephemeralKeyB)
const NONCE_A = bytes(V.nonceA)
const NONCE_B = bytes(V.nonceB)
/** fixed ECIES randomness: seeded runs must seal the same bytes every time */
const SEAL = { eciesKey: bytes('11'.repeat(32)), eciesIv: bytes('22'.repeat(16)), padding: new Uint8Array(120).fill(0x33) }

/** The EIP-8 size prefix, the ECIES key tag after it, and (for legacy forms) the tag at the front. */
const wireFields = (): number[] => [0, 1, 2]

/** EIP-8 sealing as the handshake does it: size prefix ‖ ecies(plain), the prefix authenticated. */
function sealEip8(b: CryptoBackend, to: Uint8Array, plain: Uint8Array): Uint8Array {
  const prefix = Uint8Array.of((plain.length + ECIES_OVERHEAD) >> 8, (plain.length + ECIES_OVERHEAD) & 0xff)
  return concatBytes(prefix, b.eciesEncrypt(to, plain, prefix, { ephPriv: SEAL.eciesKey, iv: SEAL.eciesIv }))
}

function sealLegacy(b: CryptoBackend, to: Uint8Array, plain: Uint8Array): Uint8Array {
  return b.eciesEncrypt(to, plain, undefined, { ephPriv: SEAL.eciesKey, iv: SEAL.eciesIv })
}

type Reader = (b: CryptoBackend, priv: Uint8Array, buf: Uint8Array) => { wire: Uint8Array } | null

/** null, or a message that occupies a prefix of the buffer, or an RLPxError: nothing else */
function readOrError(read: Reader, b: CryptoBackend, priv: Uint8Array, buf: Uint8Array): void {
  const r = typed(() => read(b, priv, buf), [RLPxError], [RLPError, CryptoError])
  if (r) assert.ok(r.wire.length <= buf.length)
}

for (const b of backends()) {
  const pubA = b.publicKey(KEY_A)
  const pubB = b.publicKey(KEY_B)
  const authParams = { priv: KEY_A, remotePubkey: pubB, ephemeralKey: EPH_A, nonce: NONCE_A }
  const ackParams = { remotePubkey: pubA, ephemeralKey: EPH_B, nonce: NONCE_B }
  const auths = [...Object.values(V.auth).map((m) => bytes(m.wire)), makeAuth(b, authParams, SEAL), makeAuth(b, authParams, SEAL, true)]
  const acks = [...Object.values(V.ack).map((m) => bytes(m.wire)), makeAck(b, ackParams, SEAL), makeAck(b, ackParams, SEAL, true)]
  // the plaintexts the valid messages carry, to mutate before sealing
  const sig65 = (() => {
    const { sig, recovery } = b.sign(b.keccak256(new Uint8Array(0)).fill(0x5a), EPH_A)
    return concatBytes(sig, Uint8Array.of(recovery))
  })()
  const authBodies = [encodeRLP([sig65, pubA, NONCE_A, Uint8Array.of(4)]), encodeRLP([sig65, pubA, NONCE_A, Uint8Array.of(56), Uint8Array.of(1), [Uint8Array.of(2)]])]
  const ackBodies = [encodeRLP([b.publicKey(EPH_B), NONCE_B, Uint8Array.of(4)]), encodeRLP([b.publicKey(EPH_B), NONCE_B, Uint8Array.of(57), Uint8Array.of(0)])]
  const legacyAuth = concatBytes(sig65, b.keccak256(b.publicKey(EPH_A)), pubA, NONCE_A, Uint8Array.of(0))
  const legacyAck = concatBytes(b.publicKey(EPH_B), NONCE_B, Uint8Array.of(0))
  const heavy = b.name === 'js' ? 600 : 1500

  describe(`fuzz: RLPx handshake (${b.name})`, () => {
    it('every strict prefix of a valid auth or ack reads as "need more bytes"', () => {
      fc.assert(
        fc.property(fc.nat(auths.length - 1), fc.nat(acks.length - 1), fc.nat(), (i, j, k) => {
          const auth = auths[i]!
          const ack = acks[j]!
          assert.equal(readAuth(b, KEY_B, auth.subarray(0, k % auth.length)), null)
          assert.equal(readAck(b, KEY_A, ack.subarray(0, k % ack.length)), null)
        }),
        params(9001, 2000),
      )
    })

    it('readAuth: random and mutated wire messages', () => {
      fc.assert(
        fc.property(fc.oneof(fc.uint8Array({ maxLength: 700 }), fc.uint8Array({ maxLength: 400 }).map((d) => concatBytes(Uint8Array.of(4), d)), mutant(auths, { fields: wireFields })), (buf) =>
          readOrError(readAuth, b, KEY_B, buf),
        ),
        params(9002, heavy),
      )
    })

    it('readAck: random and mutated wire messages', () => {
      fc.assert(
        fc.property(fc.oneof(fc.uint8Array({ maxLength: 700 }), fc.uint8Array({ maxLength: 400 }).map((d) => concatBytes(Uint8Array.of(4), d)), mutant(acks, { fields: wireFields })), (buf) =>
          readOrError(readAck, b, KEY_A, buf),
        ),
        params(9003, heavy),
      )
    })

    it('readAuth: mutated plaintexts, sealed again (EIP-8 and legacy)', () => {
      fc.assert(
        fc.property(fc.boolean(), bytesOrMutant(authBodies, 300), mutant([legacyAuth]), fc.uint8Array({ maxLength: 40 }), (eip8, body, legacy, tail) => {
          const wire = eip8 ? sealEip8(b, pubB, concatBytes(body, SEAL.padding)) : sealLegacy(b, pubB, legacy)
          readOrError(readAuth, b, KEY_B, concatBytes(wire, tail))
        }),
        params(9004, heavy),
      )
    })

    it('readAck: mutated plaintexts, sealed again (EIP-8 and legacy)', () => {
      fc.assert(
        fc.property(fc.boolean(), bytesOrMutant(ackBodies, 300), mutant([legacyAck]), fc.uint8Array({ maxLength: 40 }), (eip8, body, legacy, tail) => {
          const wire = eip8 ? sealEip8(b, pubA, concatBytes(body, SEAL.padding)) : sealLegacy(b, pubA, legacy)
          readOrError(readAck, b, KEY_A, concatBytes(wire, tail))
        }),
        params(9005, heavy),
      )
    })
  })

  describe(`fuzz: RLPx frames (${b.name})`, () => {
    /** A's egress is B's ingress, so frames A seals open on B */
    const A: FrameSecrets = { aesSecret: bytes('44'.repeat(32)), macSecret: bytes('55'.repeat(32)), egressMacSeed: bytes('66'.repeat(40)), ingressMacSeed: bytes('77'.repeat(40)) }
    const B: FrameSecrets = { ...A, egressMacSeed: A.ingressMacSeed, ingressMacSeed: A.egressMacSeed }

    /** Feed `wire` to a fresh receiver in chunks; every read is a message, null, or RLPxError (then stop). */
    function drain(rx: FrameCodec, wire: Uint8Array, cuts: number[]): void {
      const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((x, y) => x - y)
      let at = 0
      for (const p of [...points, wire.length]) {
        rx.push(wire.subarray(at, p))
        at = p
        for (;;) {
          let m
          try {
            m = rx.read()
          } catch (e) {
            if (e instanceof RLPxError) return
            throw e
          }
          if (!m) break
          assert.ok(Number.isSafeInteger(m.code) && m.code >= 0)
          if (rx.snappy && m.code !== DISCONNECT_CODE) assert.ok(m.payload.length <= MAX_MESSAGE_SIZE)
        }
      }
    }

    const message = fc.tuple(fc.oneof(fc.integer({ min: 0, max: 0x30 }), fc.nat()), fc.uint8Array({ maxLength: 300 }))
    const cuts = fc.array(fc.nat(), { maxLength: 6 })

    it('sealed frames, mutated on the wire, split anywhere', () => {
      fc.assert(
        fc.property(fc.array(message, { minLength: 1, maxLength: 4 }), fc.boolean(), fc.array(mutation, { maxLength: 4 }), cuts, (msgs, compress, ms, at) => {
          const tx = new FrameCodec(b.frameCipher(A))
          tx.snappy = compress
          const valid = concatBytes(...msgs.map(([code, payload]) => tx.encode(code, payload)))
          // the first frame's size bytes, its header MAC and its body: the places a MAC must guard
          const wire = ms.reduce((d, m) => applyMutation(d, m, [0, 1, 2, 16, 32]), valid)
          const rx = new FrameCodec(b.frameCipher(B))
          rx.snappy = compress
          drain(rx, wire, at)
        }),
        params(9101, 2000),
      )
    })

    const snappyPayloads = [new Uint8Array(0), new Uint8Array(500).fill(7), Uint8Array.from({ length: 300 }, (_, i) => i * 7), encodeRLP([new Uint8Array(100).fill(1), [Uint8Array.of(5)]])].map((p) =>
      snappy.compress(p),
    )
    /** frame data: rlp(code) ‖ payload, with codes in every canonical and non-canonical form */
    const frameData = fc.oneof(
      fc.uint8Array({ maxLength: 400 }),
      fc.tuple(fc.constantFrom(Uint8Array.of(0x80), Uint8Array.of(0x01), Uint8Array.of(0x10), Uint8Array.of(0x81, 0x80), Uint8Array.of(0x84, 0xff, 0xff, 0xff, 0xff)), bytesOrMutant(snappyPayloads, 300, { fields: () => [0, 1, 2, 3] })).map(([c, p]) => concatBytes(c, p)),
      mutant([concatBytes(Uint8Array.of(0x10), snappyPayloads[1]!), concatBytes(Uint8Array.of(0x81, 0x90), snappyPayloads[3]!)], { fields: () => [0, 1, 2] }),
    )

    it('arbitrary frame contents sealed with the real cipher: a message or an RLPxError', () => {
      fc.assert(
        fc.property(fc.array(frameData, { minLength: 1, maxLength: 3 }), fc.boolean(), fc.option(fc.integer({ min: 0, max: 600 })), cuts, (datas, compress, max, at) => {
          const tx = b.frameCipher(A)
          const wire = concatBytes(...datas.map((d) => tx.seal(d)))
          const rx = new FrameCodec(b.frameCipher(B), max === null ? {} : { maxFrameSize: max })
          rx.snappy = compress
          drain(rx, wire, at)
        }),
        params(9103, 2000),
      )
    })

    it('a compressed message declaring more than 16 MiB is refused before decompressing', () => {
      const varint = (n: number): Uint8Array => {
        const out: number[] = []
        for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n & 0x7f) | 0x80)
        out.push(n)
        return Uint8Array.from(out)
      }
      fc.assert(
        fc.property(fc.integer({ min: MAX_MESSAGE_SIZE + 1, max: 0xffffffff }), fc.integer({ min: 0, max: 0x30 }), fc.uint8Array({ maxLength: 200 }), (n, code, tail) => {
          const payload = concatBytes(varint(n), tail)
          assert.equal(snappyDecodedLength(payload), n)
          const tx = new FrameCodec(b.frameCipher(A))
          const rx = new FrameCodec(b.frameCipher(B))
          rx.push(tx.encode(code, payload)) // sent raw: the bomb is the payload as the peer wrote it
          rx.snappy = true
          if (code === DISCONNECT_CODE) assert.deepEqual(rx.read()?.payload, payload)
          else assert.throws(() => rx.read(), (e: unknown) => e instanceof RLPxError && e.code === 'DECOMPRESS_LIMIT')
        }),
        params(9104, 1000),
      )
    })
  })
}

describe('fuzz: snappy length header', () => {
  it('snappyDecodedLength reads any bytes as a length in 0..2^32-1 or -1', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), (d) => {
        const n = snappyDecodedLength(d)
        assert.ok(n === -1 || (Number.isInteger(n) && n >= 0 && n <= 0xffffffff))
      }),
      params(9201, 2000),
    )
  })
})
