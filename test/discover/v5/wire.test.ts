/** discv5 v5.1 wire format and cryptography against the spec's test vectors, on every backend. */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { backend } from '../../../src/crypto/backend.js'
import { ENR } from '../../../src/enode/enr.js'
import { deriveKeys, idSign, idVerify } from '../../../src/discover/v5/crypto.js'
import {
  decodeHeader,
  decodeMessage,
  encodeMessage,
  encodePacket,
  Flag,
  handshakeAuthdata,
  headerData,
  MessageType,
  parseHandshake,
  parseWhoareyou,
  V5WireError,
  whoareyouAuthdata,
  type V5Message,
} from '../../../src/discover/v5/wire.js'
import { backends, bytes, hexOf } from '../../crypto/helpers.js'

const V = JSON.parse(readFileSync(join(import.meta.dirname, '../../vectors/discv5.json'), 'utf8'))
const idA = bytes(V.nodeIdA)
const idB = bytes(V.nodeIdB)
const keyA = bytes(V.nodeKeyA)
const keyB = bytes(V.nodeKeyB)

function whoareyouData(w: { iv: string; requestNonce: string; idNonce: string; enrSeq: number }): Uint8Array {
  return headerData(bytes(w.iv), Flag.whoareyou, bytes(w.requestNonce), whoareyouAuthdata({ idNonce: bytes(w.idNonce), enrSeq: BigInt(w.enrSeq) }))
}

for (const b of backends()) {
  describe(`discv5 vectors (${b.name})`, () => {
    it('ECDH gives the compressed shared point', () => {
      assert.equal(hexOf(b.ecdhPoint(bytes(V.ecdh.secretKey), bytes(V.ecdh.publicKey))), V.ecdh.sharedSecret)
      // the same with the key uncompressed
      assert.equal(hexOf(b.ecdhPoint(bytes(V.ecdh.secretKey), b.publicKeyDecompress(bytes(V.ecdh.publicKey)))), V.ecdh.sharedSecret)
    })

    it('key derivation', () => {
      const k = V.keyDerivation
      const s = deriveKeys(b, bytes(k.ephemeralKey), bytes(k.destPubkey), idA, idB, bytes(k.challengeData))
      assert.equal(hexOf(s.initiatorKey), k.initiatorKey)
      assert.equal(hexOf(s.recipientKey), k.recipientKey)
      // the recipient side: its static key with the initiator's ephemeral public key
      const eph = b.publicKey(bytes(k.ephemeralKey))
      const r = deriveKeys(b, keyB, eph, idA, idB, bytes(k.challengeData))
      assert.deepEqual(r, s)
    })

    it('id-signature: signed as the spec says, verified, refused for another challenge', () => {
      const v = V.idSignature
      const sig = idSign(b, bytes(v.staticKey), bytes(v.challengeData), bytes(v.ephemeralPubkey), bytes(v.nodeIdB))
      assert.equal(hexOf(sig), v.signature)
      const pub = b.publicKey(bytes(v.staticKey))
      assert.ok(idVerify(b, pub, sig, bytes(v.challengeData), bytes(v.ephemeralPubkey), bytes(v.nodeIdB)))
      const other = bytes(v.challengeData)
      other[20]! ^= 1
      assert.ok(!idVerify(b, pub, sig, other, bytes(v.ephemeralPubkey), bytes(v.nodeIdB)))
    })

    it('handshake with and without the record: decoded, proven, decrypted, and re-encoded bit for bit', () => {
      for (const name of ['pingHandshake', 'pingHandshakeWithRecord']) {
        const t = V[name]
        const packet = bytes(t.packet)
        const h = decodeHeader(packet, idB, b)
        assert.equal(h.flag, Flag.handshake)
        assert.equal(hexOf(h.nonce), t.nonce)
        const auth = parseHandshake(h.authdata)
        assert.equal(hexOf(auth.srcId), V.nodeIdA)
        assert.equal(hexOf(auth.ephKey), t.ephemeralPubkey)
        const challenge = whoareyouData(t.whoareyou)
        const pubA = b.publicKey(keyA)
        if (name === 'pingHandshakeWithRecord') {
          const rec = ENR.decode(auth.record!, b)
          assert.equal(hexOf(rec.nodeId), V.nodeIdA)
        } else assert.equal(auth.record, undefined)
        assert.ok(idVerify(b, pubA, auth.signature, challenge, auth.ephKey, idB))
        const keys = deriveKeys(b, keyB, auth.ephKey, idA, idB, challenge)
        assert.equal(hexOf(keys.initiatorKey), t.readKey)
        const pt = b.gcmOpen(keys.initiatorKey, h.nonce, h.message, h.ad)
        assert.ok(pt)
        assert.deepEqual(decodeMessage(pt), { type: MessageType.ping, reqId: bytes(t.reqId), enrSeq: BigInt(t.enrSeq) })

        // node A's side, from the same ephemeral key: the identical packet
        const mine = deriveKeys(b, bytes(t.ephemeralKey), b.publicKey(keyB), idA, idB, challenge)
        assert.equal(hexOf(mine.initiatorKey), t.readKey)
        const authdata = handshakeAuthdata({
          srcId: idA,
          signature: idSign(b, keyA, challenge, bytes(t.ephemeralPubkey), idB),
          ephKey: bytes(t.ephemeralPubkey),
          ...(auth.record ? { record: auth.record } : {}),
        })
        const hd = headerData(new Uint8Array(16), Flag.handshake, bytes(t.nonce), authdata)
        const msg = b.gcmSeal(mine.initiatorKey, bytes(t.nonce), encodeMessage({ type: 1, reqId: bytes(t.reqId), enrSeq: BigInt(t.enrSeq) }), hd)
        assert.equal(hexOf(encodePacket(idB, hd, msg, b)), t.packet)
      }
    })

    it('AES-GCM vector', () => {
      const g = V.aesgcm
      assert.equal(hexOf(b.gcmSeal(bytes(g.key), bytes(g.nonce), bytes(g.plaintext), bytes(g.ad))), g.ciphertext)
      assert.equal(hexOf(b.gcmOpen(bytes(g.key), bytes(g.nonce), bytes(g.ciphertext), bytes(g.ad))!), g.plaintext)
      const bad = bytes(g.ciphertext)
      bad[0]! ^= 1
      assert.equal(b.gcmOpen(bytes(g.key), bytes(g.nonce), bad, bytes(g.ad)), null)
    })

    it('ordinary message packet: decoded, decrypted, re-encoded', () => {
      const t = V.pingMessage
      const h = decodeHeader(bytes(t.packet), idB, b)
      assert.equal(h.flag, Flag.message)
      assert.equal(hexOf(h.authdata), V.nodeIdA)
      const pt = b.gcmOpen(bytes(t.readKey), h.nonce, h.message, h.ad)!
      assert.deepEqual(decodeMessage(pt), { type: 1, reqId: bytes(t.reqId), enrSeq: BigInt(t.enrSeq) })
      const hd = headerData(new Uint8Array(16), Flag.message, bytes(t.nonce), idA)
      assert.equal(hexOf(encodePacket(idB, hd, b.gcmSeal(bytes(t.readKey), bytes(t.nonce), pt, hd), b)), t.packet)
    })

    it('WHOAREYOU packet: decoded and re-encoded', () => {
      const t = V.whoareyou
      const h = decodeHeader(bytes(t.packet), idB, b)
      assert.equal(h.flag, Flag.whoareyou)
      assert.equal(hexOf(h.nonce), t.requestNonce)
      const w = parseWhoareyou(h.authdata)
      assert.equal(hexOf(w.idNonce), t.idNonce)
      assert.equal(w.enrSeq, BigInt(t.enrSeq))
      assert.equal(hexOf(encodePacket(idB, whoareyouData(t), new Uint8Array(0), b)), t.packet)
      // the challenge data a handshake signs is exactly the unmasked header with its IV
      assert.equal(hexOf(h.ad), hexOf(whoareyouData(t)))
    })
  })
}

describe('discv5 wire (backend-free parts)', () => {
  it('message encodings: spec vectors and round trips of every type', () => {
    assert.equal(hexOf(encodeMessage({ type: 1, reqId: Uint8Array.of(1), enrSeq: 1n })), V.messages.ping)
    assert.equal(hexOf(encodeMessage({ type: 2, reqId: Uint8Array.of(1), enrSeq: 1n, ip: Uint8Array.of(127, 0, 0, 1), port: 5000 })), V.messages.pong)
    const rec = ENR.sign(keyA, { seq: 3n, ip: '10.0.0.1', udp: 30303 }).raw
    const all: V5Message[] = [
      { type: 1, reqId: bytes('0102030405060708'), enrSeq: 2n ** 63n },
      { type: 2, reqId: Uint8Array.of(9), enrSeq: 0n, ip: new Uint8Array(16).fill(1), port: 65535 },
      { type: 3, reqId: Uint8Array.of(9), distances: [256, 255, 0] },
      { type: 4, reqId: Uint8Array.of(9), total: 2, records: [rec, rec] },
      { type: 5, reqId: Uint8Array.of(9), protocol: new TextEncoder().encode('portal'), request: Uint8Array.of(1, 2) },
      { type: 6, reqId: new Uint8Array(0), response: new Uint8Array(0) },
    ]
    for (const m of all) assert.deepEqual(decodeMessage(encodeMessage(m)), m)
  })

  it('refuses what it must: long request ids, far distances, foreign packets, cut headers', () => {
    const code = (f: () => unknown): string => {
      try {
        f()
      } catch (e) {
        assert.ok(e instanceof V5WireError, String(e))
        return e.code
      }
      return 'none'
    }
    assert.equal(code(() => decodeMessage(encodeMessage({ type: 1, reqId: new Uint8Array(9), enrSeq: 1n }))), 'BAD_MESSAGE')
    assert.equal(code(() => decodeMessage(Uint8Array.of(3, 0xc5, 0x01, 0xc3, 0x82, 0x01, 0x01))), 'BAD_MESSAGE')
    assert.equal(code(() => decodeMessage(Uint8Array.of(9, 0xc1, 0x01))), 'UNKNOWN_MESSAGE')
    // a packet for node A is not one for node B
    assert.equal(code(() => decodeHeader(bytes(V.pingMessage.packet), idA)), 'NOT_DISCV5')
    assert.equal(code(() => decodeHeader(bytes(V.pingMessage.packet).subarray(0, 62), idB)), 'TOO_SHORT')
    assert.equal(code(() => decodeHeader(new Uint8Array(1281), idB)), 'TOO_LARGE')
    // the handshake's authdata, one byte short of its own sizes
    const hs = decodeHeader(bytes(V.pingHandshake.packet), idB)
    assert.equal(code(() => parseHandshake(hs.authdata.subarray(0, 34 + 64 + 32))), 'BAD_AUTHDATA')
  })

  it('fuzz: any bytes decode to a header or a V5WireError, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 1400 }), (data) => {
        try {
          const h = decodeHeader(data, idB)
          if (h.flag === Flag.handshake) parseHandshake(h.authdata)
          if (h.flag === Flag.whoareyou) parseWhoareyou(h.authdata)
        } catch (e) {
          assert.ok(e instanceof V5WireError, String(e))
        }
      }),
      { seed: 55, numRuns: 3000 },
    )
    // valid headers with random contents after them: the same
    const base = bytes(V.pingMessage.packet)
    fc.assert(
      fc.property(fc.integer({ min: 16, max: base.length - 1 }), fc.integer({ min: 0, max: 255 }), (i, x) => {
        const p = base.slice()
        p[i] = x
        try {
          const h = decodeHeader(p, idB)
          const pt = backend.gcmOpen(bytes(V.pingMessage.readKey), h.nonce, h.message, h.ad)
          if (pt) decodeMessage(pt)
        } catch (e) {
          assert.ok(e instanceof V5WireError, String(e))
        }
      }),
      { seed: 56, numRuns: 2000 },
    )
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), (pt) => {
        try {
          decodeMessage(pt)
        } catch (e) {
          assert.ok(e instanceof V5WireError, String(e))
        }
      }),
      { seed: 57, numRuns: 5000 },
    )
  })
})
