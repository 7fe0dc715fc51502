/** The three backends agree with each other on random inputs (fast-check, seeded). */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { createCipheriv } from 'node:crypto'
import fc from 'fast-check'
import { privateKeyValid } from '../../src/crypto/backend.js'
import { backends, hexOf } from './helpers.js'

const all = backends()
const [ref, ...others] = all as [(typeof all)[0], ...typeof all]
const seed = Number(process.env.FC_SEED ?? 20261125)
const privKey = fc.uint8Array({ minLength: 32, maxLength: 32 }).filter(privateKeyValid)
const hash32 = fc.uint8Array({ minLength: 32, maxLength: 32 })

it(`backends agree: keccak256 and incremental keccak (${all.map((b) => b.name).join(', ')})`, () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 600 }), { maxLength: 6 }), (parts) => {
      const whole = Uint8Array.from(parts.flatMap((p) => [...p]))
      const want = hexOf(ref.keccak256(whole))
      for (const b of others) assert.equal(hexOf(b.keccak256(whole)), want)
      for (const b of all) {
        const s = b.keccak()
        for (const p of parts) s.update(p)
        assert.equal(hexOf(s.digest()), want)
      }
    }),
    { seed, numRuns: 300 },
  )
})

it('backends agree: sign, recover, public key, ECDH', () => {
  fc.assert(
    fc.property(privKey, privKey, hash32, (k1, k2, h) => {
      const s = ref.sign(h, k1)
      const pub1 = ref.publicKey(k1)
      const shared = ref.ecdh(k1, ref.publicKey(k2))
      for (const b of others) {
        const t = b.sign(h, k1)
        assert.equal(hexOf(t.sig), hexOf(s.sig))
        assert.equal(t.recovery, s.recovery)
        assert.equal(hexOf(b.publicKey(k1)), hexOf(pub1))
        assert.equal(hexOf(b.ecdh(k1, b.publicKey(k2))), hexOf(shared))
      }
      for (const b of all) assert.equal(hexOf(b.recover(h, s.sig, s.recovery)), hexOf(pub1))
    }),
    { seed, numRuns: 60 },
  )
})

const ORDER = BigInt('0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141')

/** a signature's malleated and malformed twins, each one verify must refuse */
function badSignatures(sig: Uint8Array): Uint8Array[] {
  const num = (b: Uint8Array): bigint => BigInt('0x' + hexOf(b))
  const be = (v: bigint): Uint8Array => Uint8Array.from(Buffer.from(v.toString(16).padStart(64, '0'), 'hex'))
  const r = sig.subarray(0, 32)
  const s = sig.subarray(32)
  const join = (a: Uint8Array, b: Uint8Array): Uint8Array => Uint8Array.from([...a, ...b])
  // v + n where that still fits 32 bytes, else n itself: either way not below n
  const overN = (v: bigint): bigint => (v + ORDER < 1n << 256n ? v + ORDER : ORDER)
  return [join(r, be(ORDER - num(s))), join(be(0n), s), join(r, be(0n)), join(be(overN(num(r))), s), join(r, be(overN(num(s))))]
}

it('backends agree: discv5 ECDH point, compressed keys, ECDSA verify (and refuse alike)', () => {
  const compress = (pub: Uint8Array): Uint8Array => Uint8Array.from([2 | (pub[63]! & 1), ...pub.subarray(0, 32)])
  fc.assert(
    fc.property(privKey, privKey, hash32, fc.uint8Array({ minLength: 33, maxLength: 33 }), (k1, k2, h, junk) => {
      const pub2 = ref.publicKey(k2)
      const point = hexOf(ref.ecdhPoint(k1, pub2))
      const s = ref.sign(h, k1)
      const pub1 = ref.publicKey(k1)
      for (const b of all) {
        assert.equal(hexOf(b.ecdhPoint(k1, pub2)), point)
        assert.equal(hexOf(b.ecdhPoint(k1, compress(pub2))), point)
        // the x of the point is what discv4's ECDH gives
        assert.equal(point.slice(2), hexOf(b.ecdh(k1, pub2)))
        assert.equal(hexOf(b.publicKeyDecompress(compress(pub1))), hexOf(pub1))
        assert.equal(b.verify(h, s.sig, pub1), true)
        assert.equal(b.verify(h, s.sig, compress(pub1)), true)
        assert.equal(b.verify(h, s.sig, pub2), false)
        const other = h.slice()
        other[0]! ^= 1
        assert.equal(b.verify(other, s.sig, pub1), false)
        // high s (n - s: valid ECDSA, refused as libsecp256k1 refuses it), zero and out-of-range r or s
        for (const bad of badSignatures(s.sig)) assert.equal(b.verify(h, bad, pub1), false)
      }
      // arbitrary 33 bytes with a compressed prefix: a point or not, every backend says the same
      junk[0] = 2 | (junk[0]! & 1)
      const ok = (b: (typeof all)[0]): boolean => {
        try {
          b.publicKeyDecompress(junk)
          return true
        } catch {
          return false
        }
      }
      const want = ok(ref)
      for (const b of others) assert.equal(ok(b), want)
    }),
    { seed, numRuns: 60 },
  )
})

it('backends agree on arbitrary bytes: public key validity, signature recovery, packet checks', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 64, maxLength: 64 }), hash32, fc.uint8Array({ maxLength: 300 }), (junk, h, dgram) => {
      const valid = ref.publicKeyValid(junk)
      let rec: string
      try {
        rec = hexOf(ref.recover(h, junk, 0))
      } catch (e) {
        rec = (e as { code: string }).code
      }
      const check = JSON.stringify(ref.verifyPacket(dgram))
      for (const b of others) {
        assert.equal(b.publicKeyValid(junk), valid)
        let r: string
        try {
          r = hexOf(b.recover(h, junk, 0))
        } catch (e) {
          r = (e as { code: string }).code
        }
        assert.equal(r, rec)
        assert.equal(JSON.stringify(b.verifyPacket(dgram)), check)
      }
    }),
    { seed, numRuns: 200 },
  )
})

it('backends agree: sealPacket writes the same hash and signature, and the datagram verifies to the signer', () => {
  fc.assert(
    fc.property(privKey, fc.integer({ min: 1, max: 6 }), fc.uint8Array({ maxLength: 300 }), (k, type, body) => {
      const seal = (b: (typeof all)[0]): Uint8Array => {
        const d = new Uint8Array(98 + body.length)
        d[97] = type
        d.set(body, 98)
        b.sealPacket(d, k)
        return d
      }
      const want = hexOf(seal(ref))
      const pub = hexOf(ref.publicKey(k))
      for (const b of all) {
        const d = seal(b)
        assert.equal(hexOf(d), want)
        const check = b.verifyPacket(d)
        assert.ok(check.ok)
        assert.equal(check.type, type)
        assert.equal(hexOf(check.pubkey), pub)
        assert.throws(() => b.sealPacket(new Uint8Array(97), k), { code: 'INVALID_LENGTH' })
      }
    }),
    { seed, numRuns: 100 },
  )
})

it('backends agree: ECIES ciphertexts with fixed randomness decrypt anywhere', () => {
  fc.assert(
    fc.property(privKey, privKey, fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ maxLength: 400 }), (k, eph, iv, m) => {
      const pub = ref.publicKey(k)
      const c = ref.eciesEncrypt(pub, m, Uint8Array.of(2, 3), { ephPriv: eph, iv })
      for (const b of others) assert.equal(hexOf(b.eciesEncrypt(pub, m, Uint8Array.of(2, 3), { ephPriv: eph, iv })), hexOf(c))
      for (const b of all) assert.equal(hexOf(b.eciesDecrypt(k, c, Uint8Array.of(2, 3))), hexOf(m))
    }),
    { seed, numRuns: 40 },
  )
})

it('backends agree: identical frame streams for the same secrets', () => {
  fc.assert(
    fc.property(hash32, hash32, fc.array(fc.uint8Array({ maxLength: 3000 }), { minLength: 1, maxLength: 5 }), (aes, mac, frames) => {
      const secrets = { aesSecret: aes, macSecret: mac, egressMacSeed: Uint8Array.of(1, 2), ingressMacSeed: Uint8Array.of(3) }
      const ciphers = all.map((b) => b.frameCipher(secrets))
      for (const f of frames) {
        const sealed = ciphers.map((c) => hexOf(c.seal(f)))
        for (const s of sealed) assert.equal(s, sealed[0])
      }
    }),
    { seed, numRuns: 40 },
  )
})

it('backends agree: k-closest selection', () => {
  fc.assert(
    fc.property(hash32, fc.array(hash32, { maxLength: 200 }), fc.nat(40), (t, list, k) => {
      const ids = new Uint8Array(list.length * 32)
      list.forEach((id, i) => ids.set(id, i * 32))
      const want = [...ref.closest(t, ids, k)]
      for (const b of others) assert.deepEqual([...b.closest(t, ids, k)], want)
    }),
    { seed, numRuns: 200 },
  )
})

it("backends agree: AES-128-CTR and GCM (discv5), with node:crypto, across the addon's scratch size", () => {
  const key16 = fc.uint8Array({ minLength: 16, maxLength: 16 })
  // up to past 1280 bytes, where the native backend switches from its reusable array to a fresh one
  const data = fc.oneof(fc.uint8Array({ maxLength: 80 }), fc.uint8Array({ minLength: 1250, maxLength: 1320 }))
  fc.assert(
    fc.property(key16, key16, fc.uint8Array({ minLength: 12, maxLength: 12 }), data, fc.uint8Array({ maxLength: 100 }), (key, iv, nonce, d, ad) => {
      const c = createCipheriv('aes-128-ctr', key, iv).update(d)
      const g = createCipheriv('aes-128-gcm', key, nonce).setAAD(ad)
      const sealed = Buffer.concat([g.update(d), g.final(), g.getAuthTag()])
      for (const b of all) {
        const ctr = b.aesCtr(key, iv, d)
        assert.equal(hexOf(ctr), hexOf(c), `${b.name} aesCtr`)
        const s = b.gcmSeal(key, nonce, d, ad)
        assert.equal(hexOf(s), hexOf(sealed), `${b.name} gcmSeal`)
        // results are the caller's own: the next call does not overwrite them
        b.aesCtr(key, iv, new Uint8Array(d.length).fill(0xaa))
        assert.equal(hexOf(ctr), hexOf(c), `${b.name} aesCtr result kept`)
        assert.equal(hexOf(b.gcmOpen(key, nonce, sealed, ad)!), hexOf(d), `${b.name} gcmOpen`)
        const bad = Uint8Array.from(sealed)
        bad[bad.length - 1]! ^= 1
        assert.equal(b.gcmOpen(key, nonce, bad, ad), null, `${b.name} refuses a bad tag`)
        assert.equal(b.gcmOpen(key, nonce, sealed.subarray(0, 15), ad), null, `${b.name} refuses a cut tag`)
      }
    }),
    { seed, numRuns: 200 },
  )
})

it('backends agree: a discv5 header unmasked in one pass, or refused alike when its authdata overruns', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      fc.uint8Array({ minLength: 39, maxLength: 1400 }),
      fc.integer({ min: 0, max: 0xffff }),
      (key, plain, want) => {
        // the static header's size field: within the packet half the time, anything otherwise
        const size = want % 2 === 0 ? want % (plain.length - 38) : want
        const p = Uint8Array.from(plain)
        p[16 + 21] = size >> 8
        p[16 + 22] = size & 255
        const packet = Uint8Array.from([...p.subarray(0, 16), ...createCipheriv('aes-128-ctr', key, p.subarray(0, 16)).update(p.subarray(16))])
        const end = 39 + size
        for (const b of all) {
          const h = b.v5Header(packet, key)
          if (end > packet.length) assert.equal(h, null, `${b.name} refuses an overrun`)
          else assert.equal(hexOf(h!), hexOf(p.subarray(0, end)), `${b.name} unmasks`)
        }
      },
    ),
    { seed, numRuns: 400 },
  )
  for (const b of all) assert.equal(b.v5Header(new Uint8Array(38), new Uint8Array(16)), null, `${b.name}: shorter than a static header`)
})
