/**
 * The crypto boundary: every backend method, given wrong types, wrong lengths, invalid keys, points
 * off the curve, bad signatures or odd-offset views, returns a value or throws CryptoError — never a
 * TypeError from an implementation, never a crash in the addon. (test/crypto/addon-boundary.test.ts
 * calls the raw addon with wrong shapes; this goes through the checked backends with values.)
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { CryptoError, type CryptoBackend } from '../../src/crypto/types.js'
import { backends, bytes } from '../crypto/helpers.js'
import { params, typed, typedAsync, unaligned } from './fuzz.js'

const PRIV = bytes('4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318')
const N = bytes('fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141')
const N_PLUS_1 = bytes('fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364142')
/** x = p + 1: reduced mod p it would be the x of a real point */
const P_PLUS_1 = bytes('fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc30')

/** byte strings of the lengths the API cares about and around them, special values, odd-offset views */
function byteArgs(b: CryptoBackend): fc.Arbitrary<Uint8Array> {
  const pub = b.publicKey(PRIV)
  const { sig } = b.sign(new Uint8Array(32).fill(9), PRIV)
  const special = [
    PRIV,
    pub,
    sig,
    new Uint8Array(32),
    N,
    N_PLUS_1,
    new Uint8Array(32).fill(0xff),
    new Uint8Array(64),
    new Uint8Array(64).fill(0xff),
    Uint8Array.from([...P_PLUS_1, ...pub.subarray(32)]),
    Uint8Array.from([...pub.subarray(0, 32), ...P_PLUS_1]),
    Uint8Array.from([...N, ...sig.subarray(32)]),
    Uint8Array.from([...sig.subarray(0, 32), ...N]),
  ]
  const lengths = fc.constantFrom(0, 1, 15, 16, 17, 31, 32, 33, 48, 63, 64, 65, 112, 113, 114, 200)
  return fc.oneof(
    fc.constantFrom(...special),
    lengths.chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
    fc.tuple(fc.constantFrom(...special), fc.integer({ min: 1, max: 7 })).map(([d, off]) => unaligned(d, off)),
    fc.constantFrom(...special).map((d) => Buffer.from(d)),
  )
}

/** things that are not byte strings at all */
const notBytes = fc.constantFrom<unknown>(undefined, null, 0, -1, 1.5, NaN, 'abc', [], {}, true, new Uint16Array(16), new Int8Array(32), new Uint8ClampedArray(32), new ArrayBuffer(32), new DataView(new ArrayBuffer(32)))

const number = fc.oneof(fc.integer({ min: -3, max: 200 }), fc.constantFrom<unknown>(NaN, Infinity, -Infinity, 1.5, 2 ** 40, 2 ** 53, '0', undefined))

for (const b of backends()) {
  describe(`fuzz: crypto boundary (${b.name})`, () => {
    const arg = fc.oneof({ weight: 6, arbitrary: byteArgs(b) }, { weight: 1, arbitrary: notBytes })
    /** the method under the types: a value or a CryptoError, whatever it is given */
    const call = (f: (...a: never[]) => unknown, ...args: unknown[]): unknown => typed(() => f(...(args as never[])), [CryptoError])

    it('keccak, keys, signatures and ECDH', () => {
      fc.assert(
        fc.property(arg, arg, arg, number, (x, y, z, n) => {
          const h = call(b.keccak256, x)
          if (h !== undefined) assert.equal((h as Uint8Array).length, 32)
          call(() => b.keccak().update(x as Uint8Array).update(y as Uint8Array).digest())
          const s = call(b.sign, x, y) as { sig: Uint8Array; recovery: number } | undefined
          if (s) assert.ok(s.sig.length === 64 && (s.recovery === 0 || s.recovery === 1))
          const r = call(b.recover, x, y, n)
          if (r !== undefined) assert.ok(b.publicKeyValid(r as Uint8Array))
          const e = call(b.ecdh, x, z)
          if (e !== undefined) assert.equal((e as Uint8Array).length, 32)
          const p = call(b.publicKey, x)
          if (p !== undefined) assert.ok(b.publicKeyValid(p as Uint8Array))
          assert.equal(typeof b.publicKeyValid(x as Uint8Array), 'boolean')
          assert.equal(typeof b.privateKeyValid(x as Uint8Array), 'boolean')
        }),
        params(6001, b.name === 'js' ? 1000 : 3000),
      )
    })

    it('ECIES encrypt and decrypt', () => {
      fc.assert(
        fc.property(arg, arg, arg, fc.option(arg), fc.option(arg), (pub, plain, smd, eph, iv) => {
          const opts = { ...(eph === null ? {} : { ephPriv: eph as Uint8Array }), ...(iv === null ? {} : { iv: iv as Uint8Array }) }
          const c = call(() => b.eciesEncrypt(pub as Uint8Array, plain as Uint8Array, smd as Uint8Array, opts))
          call(b.eciesDecrypt, PRIV, pub, smd)
          call(b.eciesDecrypt, pub, plain, smd)
          if (c !== undefined) call(b.eciesDecrypt, PRIV, c, smd)
        }),
        params(6002, b.name === 'js' ? 1000 : 2000),
      )
    })

    it('frame ciphers, closest and the packet check', () => {
      fc.assert(
        fc.property(arg, arg, arg, arg, number, fc.nat(8), (w, x, y, z, n, ids) => {
          const f = call(b.frameCipher, { aesSecret: w, macSecret: x, egressMacSeed: y, ingressMacSeed: z }) as ReturnType<CryptoBackend['frameCipher']> | undefined
          if (f) {
            call(f.seal, y)
            call(f.openHeader, z)
            call(f.openBody, y, n)
          }
          // a well-formed packed ID list most of the time, so the target and k checks are reached
          const list = n === 7 ? x : new Uint8Array(ids * 32).fill(ids)
          const c = call(b.closest, w, list, n)
          if (c !== undefined) assert.ok(c instanceof Uint32Array && c.length <= (list as Uint8Array).length / 32)
          const v = call(b.verifyPacket, x)
          if (v !== undefined) assert.equal(typeof (v as { ok: boolean }).ok, 'boolean')
        }),
        params(6003, 3000),
      )
    })

    it('verifyPackets: a result per datagram, or a CryptoError rejection for what is not one', async () => {
      await fc.assert(
        fc.asyncProperty(fc.oneof(fc.array(arg, { maxLength: 12 }), notBytes), async (ds) => {
          const r = await typedAsync(() => b.verifyPackets(ds as Uint8Array[]), [CryptoError])
          if (r !== undefined) assert.equal(r.length, (ds as unknown[]).length)
        }),
        params(6004, 300),
      )
    })
  })
}
