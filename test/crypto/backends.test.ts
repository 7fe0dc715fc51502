import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { backend, loadBackend, privateKeyValid } from '../../src/crypto/backend.js'
import { CryptoError, type CryptoBackend } from '../../src/crypto/types.js'
import { backends, bytes, hexOf } from './helpers.js'

const N_HEX = 'fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141'
const P_HEX = 'fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f'
const G_X = '79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798'
const G_Y = '483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8'
// go-ethereum crypto/signature_test.go
const GETH_MSG = 'ce0677bb30baa8cf067c88db9811f4333d131bf8bcf12fe7065d211dce971008'
const GETH_SIG = '90f27b8b488db00b00606796d2987f6a5f59ae62ea05effe84fef5b8b0e549984a691139ad57a3f0b906637673aa2f63d1f55cb1a69199d4009eea23ceaddc9301'
const GETH_PUB = 'e32df42865e97135acfb65f3bae71bdc86f4d49150ad6a440b6f15878109880a0a2b2667f7e725ceea70c673093bf67663e0312623c8e091b13cf2c0f11ef652'
// go-ethereum crypto/crypto_test.go: private key and its address
const GETH_PRIV = '289c2857d4598e37fb9647507e47a309d6133539bf21a8b9cb6df88fd5232032'
const GETH_ADDR = '970e8128ab834e8eac17ab8e3812f010678cf791'

const one = bytes('00'.repeat(31) + '01')
const two = bytes('00'.repeat(31) + '02')

function expectCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => e instanceof CryptoError && e.code === code)
}

it('native addon loads (set ETHP2P_NO_NATIVE=1 only on machines without a compiler)', () => {
  if (process.env.ETHP2P_NO_NATIVE === '1') return
  assert.equal(loadBackend('native').name, 'native')
})

it('the active backend honours ETHP2P_BACKEND', () => {
  const forced = process.env.ETHP2P_BACKEND
  if (forced) assert.equal(backend.name, forced)
  else assert.ok(['native', 'wasm'].includes(backend.name), `expected a compiled backend, got ${backend.name}`)
})

for (const b of backends()) {
  describe(`crypto backend: ${b.name}`, () => {
    it('keccak-256 known answers', () => {
      assert.equal(hexOf(b.keccak256(new Uint8Array(0))), 'c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470')
      assert.equal(hexOf(b.keccak256(Buffer.from('abc'))), '4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45')
      // lengths around the 136-byte rate boundary and a large input, against noble
      for (const n of [135, 136, 137, 272, 1280, 100_000]) {
        const data = new Uint8Array(n).map((_, i) => (i * 31 + n) & 0xff)
        assert.equal(hexOf(b.keccak256(data)), hexOf(keccak_256(data)), `length ${n}`)
      }
    })

    it('incremental keccak: digest does not finalise, updates continue', () => {
      const s = b.keccak().update(Buffer.from('ab'))
      assert.equal(hexOf(s.digest()), hexOf(keccak_256(Buffer.from('ab'))))
      s.update(Buffer.from('c'))
      assert.equal(hexOf(s.digest()), '4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45')
      const big = new Uint8Array(5000).fill(7)
      const t = b.keccak()
      for (let i = 0; i < 5000; i += 333) t.update(big.subarray(i, Math.min(5000, i + 333)))
      assert.equal(hexOf(t.digest()), hexOf(keccak_256(big)))
    })

    it('public key of 1 is the generator; geth key → geth address', () => {
      assert.equal(hexOf(b.publicKey(one)), G_X + G_Y)
      const pub = b.publicKey(bytes(GETH_PRIV))
      assert.equal(hexOf(b.keccak256(pub).subarray(12)), GETH_ADDR)
    })

    it('recovers go-ethereum signature test vector', () => {
      const sig = bytes(GETH_SIG)
      assert.equal(hexOf(b.recover(bytes(GETH_MSG), sig.subarray(0, 64), sig[64]!)), GETH_PUB)
    })

    it('signs deterministically (RFC 6979), low-s, identical to noble, and recovers', () => {
      const priv = bytes(GETH_PRIV)
      for (let i = 0; i < 8; i++) {
        const hash = b.keccak256(Uint8Array.of(i))
        const { sig, recovery } = b.sign(hash, priv)
        const ref = secp256k1.sign(hash, priv, { prehash: false, format: 'recovered' })
        assert.equal(hexOf(sig), hexOf(ref.subarray(1)))
        assert.equal(recovery, ref[0])
        assert.ok(sig[32]! < 0x80, 's is in the lower half')
        assert.equal(hexOf(b.recover(hash, sig, recovery)), hexOf(b.publicKey(priv)))
      }
    })

    it('ECDH returns the shared x coordinate', () => {
      // 1·P = P, 2·G is a published point
      const pub = b.publicKey(bytes(GETH_PRIV))
      assert.equal(hexOf(b.ecdh(one, pub)), hexOf(pub.subarray(0, 32)))
      assert.equal(hexOf(b.ecdh(two, bytes(G_X + G_Y))), 'c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5')
      const a = b.keccak256(Buffer.from('a'))
      const c = b.keccak256(Buffer.from('c'))
      const shared = b.ecdh(a, b.publicKey(c))
      assert.equal(hexOf(shared), hexOf(b.ecdh(c, b.publicKey(a))))
      assert.equal(hexOf(shared), hexOf(secp256k1.getSharedSecret(a, secp256k1.getPublicKey(c)).subarray(1)))
    })

    it('validates public keys: on the curve, coordinates below p', () => {
      assert.equal(b.publicKeyValid(bytes(G_X + G_Y)), true)
      assert.equal(b.publicKeyValid(new Uint8Array(64)), false)
      const offCurve = bytes(G_X + G_Y)
      offCurve[63]! ^= 1
      assert.equal(b.publicKeyValid(offCurve), false)
      // x = p is ≥ p; y irrelevant
      assert.equal(b.publicKeyValid(bytes(P_HEX + G_Y)), false)
      // x ≡ G.x (mod p) written as G.x + p would overflow 256 bits, so use y + p for a point with y ≥ p
      assert.equal(b.publicKeyValid(bytes(G_X + 'f'.repeat(64))), false)
      assert.equal(b.publicKeyValid(new Uint8Array(63)), false)
      expectCode(() => b.ecdh(one, offCurve), 'INVALID_PUBLIC_KEY')
    })

    it('rejects bad lengths, bad private keys and bad signatures with typed errors', () => {
      const h = new Uint8Array(32).fill(1)
      expectCode(() => b.sign(new Uint8Array(31), one), 'INVALID_LENGTH')
      expectCode(() => b.sign(h, new Uint8Array(32)), 'INVALID_PRIVATE_KEY')
      expectCode(() => b.sign(h, bytes(N_HEX)), 'INVALID_PRIVATE_KEY')
      expectCode(() => b.sign(h, new Uint8Array(32).fill(0xff)), 'INVALID_PRIVATE_KEY')
      expectCode(() => b.publicKey(new Uint8Array(33)), 'INVALID_LENGTH')
      expectCode(() => b.recover(h, new Uint8Array(64), 0), 'INVALID_SIGNATURE')
      expectCode(() => b.recover(h, bytes(N_HEX + N_HEX), 0), 'INVALID_SIGNATURE')
      expectCode(() => b.recover(h, new Uint8Array(64).fill(1), 4), 'INVALID_SIGNATURE')
      expectCode(() => b.recover(h, new Uint8Array(65), 0), 'INVALID_LENGTH')
      expectCode(() => b.keccak256('abc' as unknown as Uint8Array), 'INVALID_LENGTH')
      expectCode(() => b.closest(h, new Uint8Array(33), 1), 'INVALID_LENGTH')
      assert.equal(b.privateKeyValid(bytes(N_HEX)), false)
      assert.equal(privateKeyValid(one), true)
    })

    it('ECIES round trip, fixed-randomness determinism, tamper and bad-key rejection', () => {
      const priv = b.keccak256(Buffer.from('recipient'))
      const pub = b.publicKey(priv)
      const msg = Buffer.from('hello rlpx '.repeat(20))
      const smd = Uint8Array.of(1, 44)
      const ct = b.eciesEncrypt(pub, msg, smd)
      assert.equal(ct.length, msg.length + 113)
      assert.deepEqual(Buffer.from(b.eciesDecrypt(priv, ct, smd)), msg)
      expectCode(() => b.eciesDecrypt(priv, ct, Uint8Array.of(1, 45)), 'DECRYPT_FAILED')
      for (const pos of [0, 10, 70, 90, ct.length - 1]) {
        const bad = Uint8Array.from(ct)
        bad[pos]! ^= 0x01
        expectCode(() => b.eciesDecrypt(priv, bad, smd), 'DECRYPT_FAILED')
      }
      expectCode(() => b.eciesDecrypt(priv, ct.subarray(0, 112), smd), 'DECRYPT_FAILED')
      expectCode(() => b.eciesEncrypt(new Uint8Array(64), msg), 'INVALID_PUBLIC_KEY')
      const fixed = { ephPriv: b.keccak256(Buffer.from('eph')), iv: new Uint8Array(16).fill(9) }
      assert.equal(hexOf(b.eciesEncrypt(pub, msg, smd, fixed)), hexOf(b.eciesEncrypt(pub, msg, smd, fixed)))
      assert.deepEqual(Buffer.from(b.eciesDecrypt(priv, b.eciesEncrypt(pub, new Uint8Array(0)))), Buffer.alloc(0))
    })

    it('frame cipher: round trip both directions, MACs reject one flipped bit', () => {
      const s = {
        aesSecret: b.keccak256(Buffer.from('aes')),
        macSecret: b.keccak256(Buffer.from('mac')),
        egressMacSeed: Buffer.from('egress-seed'),
        ingressMacSeed: Buffer.from('ingress-seed'),
      }
      const mirror = { ...s, egressMacSeed: s.ingressMacSeed, ingressMacSeed: s.egressMacSeed }
      const a = b.frameCipher(s)
      const c = b.frameCipher(mirror)
      for (const n of [0, 1, 15, 16, 17, 1000, 70_000]) {
        const data = new Uint8Array(n).map((_, i) => i & 0xff)
        const frame = a.seal(data)
        assert.equal(frame.length, 32 + ((n + 15) & ~15) + 16)
        const size = c.openHeader(frame.subarray(0, 32))
        assert.equal(size, n)
        assert.deepEqual(Buffer.from(c.openBody(frame.subarray(32), size)), Buffer.from(data))
        // and back the other way, keeping both MAC chains in step
        const back = c.seal(data)
        assert.equal(a.openHeader(back.subarray(0, 32)), n)
        assert.deepEqual(Buffer.from(a.openBody(back.subarray(32), n)), Buffer.from(data))
      }
      for (const where of ['header', 'header-mac', 'body', 'frame-mac'] as const) {
        const x = b.frameCipher(s)
        const y = b.frameCipher(mirror)
        const frame = Uint8Array.from(x.seal(new Uint8Array(40).fill(5)))
        const pos = { header: 3, 'header-mac': 20, body: 40, 'frame-mac': frame.length - 1 }[where]
        frame[pos]! ^= 0x80
        expectCode(() => {
          const size = y.openHeader(frame.subarray(0, 32))
          y.openBody(frame.subarray(32), size)
        }, 'BAD_MAC')
      }
      expectCode(() => c.openBody(new Uint8Array(33), 16), 'INVALID_LENGTH')
      expectCode(() => c.openHeader(new Uint8Array(31)), 'INVALID_LENGTH')
    })

    it('closest: nearest-first by XOR distance, equal to a brute-force sort', () => {
      const n = 500
      const ids = new Uint8Array(n * 32)
      for (let i = 0; i < n; i++) ids.set(b.keccak256(Uint8Array.of(i & 0xff, i >> 8)), i * 32)
      ids.set(ids.subarray(0, 32), 32 * 7) // a duplicate: ties keep index order
      const target = b.keccak256(Buffer.from('target'))
      const dist = (i: number) => hexOf(ids.subarray(i * 32, i * 32 + 32).map((x, j) => x ^ target[j]!))
      const truth = [...Array(n).keys()].sort((x, y) => (dist(x) < dist(y) ? -1 : dist(x) > dist(y) ? 1 : x - y))
      for (const k of [0, 1, 16, 100, 300, n, n + 5])
        assert.deepEqual([...b.closest(target, ids, k)], truth.slice(0, Math.min(k, n)), `k=${k}`)
      assert.equal(b.closest(target, new Uint8Array(0), 16).length, 0)
    })
  })
}

describe('packet check', () => {
  const priv = bytes(GETH_PRIV)
  function packet(b: CryptoBackend, type: number, body: Uint8Array): Uint8Array {
    const sigData = Uint8Array.of(type, ...body)
    const { sig, recovery } = b.sign(b.keccak256(sigData), priv)
    const rest = Uint8Array.of(...sig, recovery, ...sigData)
    return Uint8Array.of(...b.keccak256(rest), ...rest)
  }
  for (const b of backends()) {
    it(`${b.name}: verifies hash, signer and type in one call; rejects each defect`, async () => {
      const d = packet(b, 3, new Uint8Array(80).fill(0xc1))
      const ok = b.verifyPacket(d)
      assert.ok(ok.ok)
      if (ok.ok) {
        assert.equal(ok.type, 3)
        assert.equal(hexOf(ok.pubkey), hexOf(b.publicKey(priv)))
        assert.equal(hexOf(ok.hash), hexOf(d.subarray(0, 32)))
        assert.equal(ok.payload.length, 80)
      }
      assert.deepEqual(b.verifyPacket(d.subarray(0, 97)), { ok: false, error: 'too-short' })
      assert.deepEqual(b.verifyPacket(new Uint8Array(0)), { ok: false, error: 'too-short' })
      const badHash = Uint8Array.from(d)
      badHash[0]! ^= 1
      assert.deepEqual(b.verifyPacket(badHash), { ok: false, error: 'bad-hash' })
      // a corrupted signature with a recomputed hash: recovers nothing or someone else
      const badSig = Uint8Array.from(d)
      badSig[40] = 0
      badSig.fill(0, 32, 96)
      badSig.set(b.keccak256(badSig.subarray(32)), 0)
      assert.deepEqual(b.verifyPacket(badSig), { ok: false, error: 'bad-signature' })
      const badRec = Uint8Array.from(d)
      badRec[96] = 7
      badRec.set(b.keccak256(badRec.subarray(32)), 0)
      assert.deepEqual(b.verifyPacket(badRec), { ok: false, error: 'bad-signature' })
      // batch: many packets, mixed validity, same answers as one at a time, in order
      const batch = Array.from({ length: 64 }, (_, i) => (i % 5 === 0 ? badHash : packet(b, 1 + (i % 6), Uint8Array.of(i))))
      const res = await b.verifyPackets(batch)
      assert.equal(res.length, 64)
      res.forEach((r, i) => assert.deepEqual(r, b.verifyPacket(batch[i]!)))
      assert.deepEqual(await b.verifyPackets([]), [])
      // sizes around the parallel threshold and one large enough that the workers race for items
      for (const n of [1, 7, 9, 301]) {
        const many = Array.from({ length: n }, (_, i) => batch[i % batch.length]!)
        assert.deepEqual(await b.verifyPackets(many), many.map((d) => b.verifyPacket(d)), `batch of ${n}`)
      }
    })

    it(`${b.name}: an expected signer never changes the answer, right or wrong, whatever the recovery id`, async () => {
      const n = BigInt('0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141')
      const me = b.publicKey(priv)
      const other = b.publicKey(new Uint8Array(32).fill(3))
      const rehash = (d: Uint8Array): Uint8Array => {
        d.set(b.keccak256(d.subarray(32)), 0)
        return d
      }
      const variants: [string, Uint8Array][] = []
      for (let i = 0; i < 12; i++) {
        const d = packet(b, 1 + (i % 6), Uint8Array.of(i, 7, 7))
        variants.push([`packet ${i}`, d])
        // every other recovery id: recovery finds another key or none, and so must the check against ours
        for (const rec of [0, 1, 2, 3]) if (rec !== d[96]) variants.push([`packet ${i}, recovery id ${rec}`, rehash(Uint8Array.from(d).fill(rec, 96, 97))])
        // the same signature with s' = n - s (high s) and the other parity: recovers the same key
        const s = BigInt('0x' + hexOf(d.subarray(64, 96)))
        const high = Uint8Array.from(d)
        high.set(bytes((n - s).toString(16).padStart(64, '0')), 64)
        high[96] = d[96]! ^ 1
        variants.push([`packet ${i}, high s`, rehash(high)])
      }
      const bad = Uint8Array.from(variants[0]![1])
      bad.fill(0, 32, 64) // r = 0
      variants.push(['r = 0', rehash(bad)])
      const bigR = Uint8Array.from(variants[0]![1])
      bigR.set(bytes('fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141'), 32) // r = n
      variants.push(['r = n', rehash(bigR)])
      variants.push(['bad hash', Uint8Array.from(variants[0]![1]).fill(1, 0, 1)])
      variants.push(['too short', variants[0]![1].subarray(0, 97)])
      let recovered = 0
      for (const [what, d] of variants) {
        const truth = b.verifyPacket(d)
        if (truth.ok && hexOf(truth.pubkey) === hexOf(me)) recovered++
        for (const [who, key] of [['its signer', me], ['another key', other], ['no point', new Uint8Array(64).fill(0xff)]] as const)
          assert.deepEqual(b.verifyPacket(d, key), truth, `${what}, expecting ${who}`)
      }
      // the good packets and their high-s twins; a changed recovery id recovers someone else
      assert.equal(recovered, 24)
      const ds = variants.map(([, d]) => d)
      const hints = ds.map((_, i) => (i % 3 === 0 ? undefined : i % 3 === 1 ? me : other))
      for (const size of [ds.length, 70]) {
        const part = Array.from({ length: size }, (_, i) => ds[i % ds.length]!)
        const want = part.map((d) => b.verifyPacket(d))
        assert.deepEqual(await b.verifyPackets(part, undefined, part.map((_, i) => hints[i % hints.length])), want, `batch of ${size}`)
      }
      assert.throws(() => b.verifyPacket(ds[0]!, me.subarray(0, 63)), (e: unknown) => e instanceof CryptoError && e.code === 'INVALID_LENGTH')
      await assert.rejects(b.verifyPackets(ds, undefined, [me]), (e: unknown) => e instanceof CryptoError && e.code === 'INVALID_LENGTH')
    })
  }
})
