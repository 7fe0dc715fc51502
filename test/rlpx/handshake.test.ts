import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { concatBytes } from '../../src/crypto/bytes.js'
import { ECIES_OVERHEAD } from '../../src/crypto/types.js'
import { RLPxError } from '../../src/rlpx/errors.js'
import {
  deriveSecrets,
  InitiatorHandshake,
  LEGACY_ACK_SIZE,
  LEGACY_AUTH_SIZE,
  makeAuth,
  readAck,
  readAuth,
  RecipientHandshake,
} from '../../src/rlpx/handshake.js'
import { encodeRLP } from '../../src/util/rlp.js'
import { backends, bytes, hexOf } from '../crypto/helpers.js'

interface Msg {
  wire: string
  version?: number
  legacy: boolean
}
const V = JSON.parse(readFileSync(new URL('../vectors/rlpx.json', import.meta.url), 'utf8')) as {
  keyA: string
  keyB: string
  ephemeralKeyA: string
  ephemeralKeyB: string
  nonceA: string
  nonceB: string
  auth: Record<string, Msg>
  ack: Record<string, Msg>
  secretsB: { aesSecret: string; macSecret: string; ingressMacFoo: string }
}

const isCode = (code: string) => (e: unknown) => e instanceof RLPxError && e.code === code

/** x = p + 1 with the y of the curve point (1, y): a real point if x were reduced mod p, so it must be refused. */
const X_OVER_P = bytes(
  'fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc30' + '4218f20ae6c646b363db68605822fb14264ca8d2587fdd6fbc750d587e76a7ee',
)
/** (1, 1) is not on y² = x³ + 7 */
const OFF_CURVE = bytes('00'.repeat(31) + '01' + '00'.repeat(31) + '01')

for (const b of backends()) {
  describe(`rlpx handshake vectors (EIP-8) [${b.name}]`, () => {
    const keyA = bytes(V.keyA)
    const keyB = bytes(V.keyB)
    const pubA = b.publicKey(keyA)
    const ephPubA = b.publicKey(bytes(V.ephemeralKeyA))
    const ephPubB = b.publicKey(bytes(V.ephemeralKeyB))

    for (const [name, m] of Object.entries(V.auth)) {
      it(`B decodes the ${name} auth`, () => {
        const wire = bytes(m.wire)
        const got = readAuth(b, keyB, wire)
        assert.ok(got)
        assert.equal(got.wire.length, wire.length)
        assert.equal(hexOf(got.body.pubkey), hexOf(pubA))
        assert.equal(hexOf(got.body.ephemeralPubkey), hexOf(ephPubA))
        assert.equal(hexOf(got.body.nonce), V.nonceA)
        assert.equal(got.body.legacy, m.legacy)
        if (m.version !== undefined) assert.equal(got.body.version, m.version)
        // every strict prefix asks for more bytes instead of failing
        for (const n of [0, 1, 2, 100, wire.length - 1]) assert.equal(readAuth(b, keyB, wire.subarray(0, n)), null)
      })
    }

    for (const [name, m] of Object.entries(V.ack)) {
      it(`A decodes the ${name} ack`, () => {
        const wire = bytes(m.wire)
        const got = readAck(b, keyA, wire)
        assert.ok(got)
        assert.equal(got.wire.length, wire.length)
        assert.equal(hexOf(got.body.ephemeralPubkey), hexOf(ephPubB))
        assert.equal(hexOf(got.body.nonce), V.nonceB)
        assert.equal(got.body.legacy, m.legacy)
        if (m.version !== undefined) assert.equal(got.body.version, m.version)
      })
    }

    it('B derives the spec aes-secret, mac-secret and ingress-mac("foo") from the EIP-8 v4 pair', () => {
      const auth = bytes(V.auth['eip8-v4']!.wire)
      const ack = bytes(V.ack['eip8-v4']!.wire)
      const s = deriveSecrets(b, {
        initiator: false,
        ephemeralKey: bytes(V.ephemeralKeyB),
        remoteEphemeralPubkey: readAuth(b, keyB, auth)!.body.ephemeralPubkey,
        localNonce: bytes(V.nonceB),
        remoteNonce: bytes(V.nonceA),
        sent: ack,
        received: auth,
      })
      assert.equal(hexOf(s.aesSecret), V.secretsB.aesSecret)
      assert.equal(hexOf(s.macSecret), V.secretsB.macSecret)
      const foo = b.keccak().update(s.ingressMacSeed).update(Buffer.from('foo')).digest()
      assert.equal(hexOf(foo), V.secretsB.ingressMacFoo)
      // A's view of the same pair mirrors B's: A's egress is B's ingress and vice versa
      const a = deriveSecrets(b, {
        initiator: true,
        ephemeralKey: bytes(V.ephemeralKeyA),
        remoteEphemeralPubkey: ephPubB,
        localNonce: bytes(V.nonceA),
        remoteNonce: bytes(V.nonceB),
        sent: auth,
        received: ack,
      })
      assert.equal(hexOf(a.aesSecret), V.secretsB.aesSecret)
      assert.equal(hexOf(a.egressMacSeed), hexOf(s.ingressMacSeed))
      assert.equal(hexOf(a.ingressMacSeed), hexOf(s.egressMacSeed))
    })
  })

  describe(`rlpx handshake state [${b.name}]`, () => {
    const keyA = bytes(V.keyA)
    const keyB = bytes(V.keyB)
    const pubA = b.publicKey(keyA)
    const pubB = b.publicKey(keyB)

    it('initiator and recipient agree on mirrored secrets, and frames flow between them', () => {
      const ini = new InitiatorHandshake(b, keyA, pubB)
      const rec = new RecipientHandshake(b, keyB)
      assert.ok(ini.auth.length > LEGACY_AUTH_SIZE, 'EIP-8 auth carries padding')
      const r = rec.readAuth(ini.auth)!
      assert.equal(hexOf(r.remotePubkey), hexOf(pubA))
      assert.equal(r.consumed, ini.auth.length)
      const i = ini.readAck(r.ack)!
      assert.equal(hexOf(i.secrets.aesSecret), hexOf(r.secrets.aesSecret))
      assert.equal(hexOf(i.secrets.egressMacSeed), hexOf(r.secrets.ingressMacSeed))
      const ca = b.frameCipher(i.secrets)
      const cb = b.frameCipher(r.secrets)
      const f = ca.seal(Buffer.from('hello'))
      assert.equal(cb.openHeader(f.subarray(0, 32)), 5)
      assert.equal(Buffer.from(cb.openBody(f.subarray(32), 5)).toString(), 'hello')
    })

    it('pinned randomness gives identical messages, and padding varies between 100 and 250 bytes', () => {
      const r = { ephemeralKey: bytes(V.ephemeralKeyA), nonce: bytes(V.nonceA), padding: new Uint8Array(100), eciesKey: keyA, eciesIv: new Uint8Array(16) }
      assert.equal(hexOf(new InitiatorHandshake(b, keyA, pubB, r).auth), hexOf(new InitiatorHandshake(b, keyA, pubB, r).auth))
      const sizes = new Set<number>()
      for (let k = 0; k < 20; k++) sizes.add(new InitiatorHandshake(b, keyA, pubB).auth.length)
      const body = encodeRLP([new Uint8Array(65), pubA, new Uint8Array(32), 4]).length
      for (const s of sizes) {
        const pad = s - 2 - ECIES_OVERHEAD - body
        assert.ok(pad >= 100 && pad <= 250, `padding ${pad}`)
      }
      assert.ok(sizes.size > 1)
    })

    it('a legacy auth is answered with a legacy ack', () => {
      const auth = makeAuth(b, { priv: keyA, remotePubkey: pubB, ephemeralKey: bytes(V.ephemeralKeyA), nonce: bytes(V.nonceA) }, {}, true)
      assert.equal(auth.length, LEGACY_AUTH_SIZE)
      const r = new RecipientHandshake(b, keyB).readAuth(auth)!
      assert.equal(r.ack.length, LEGACY_ACK_SIZE)
      assert.equal(hexOf(r.remotePubkey), hexOf(pubA))
    })

    it('a size prefix over 2048 is refused from the first two bytes', () => {
      assert.throws(() => readAuth(b, keyB, Uint8Array.of(0x08, 0x01)), isCode('SIZE_LIMIT'))
      assert.throws(() => readAck(b, keyA, Uint8Array.of(0xff, 0xff)), isCode('SIZE_LIMIT'))
    })

    it('garbage, truncated ciphertexts and tampered messages fail with BAD_AUTH / BAD_ACK', () => {
      const ini = new InitiatorHandshake(b, keyA, pubB)
      const bad = Uint8Array.from(ini.auth)
      bad[bad.length - 1]! ^= 1
      assert.throws(() => readAuth(b, keyB, bad), isCode('BAD_AUTH'))
      assert.throws(() => readAuth(b, keyA, ini.auth), isCode('BAD_AUTH'), 'not addressed to A')
      assert.throws(() => readAuth(b, keyB, Uint8Array.of(0, 10, ...new Uint8Array(10))), isCode('BAD_AUTH'))
      const r = new RecipientHandshake(b, keyB).readAuth(ini.auth)!
      const badAck = Uint8Array.from(r.ack)
      badAck[100]! ^= 0x40
      assert.throws(() => readAck(b, keyA, badAck), isCode('BAD_ACK'))
      // the right ciphertext holding a body that is not RLP
      const junk = new Uint8Array(150).fill(0xff)
      const prefix = Uint8Array.of(0, junk.length + ECIES_OVERHEAD)
      assert.throws(() => readAck(b, keyA, concatBytes(prefix, b.eciesEncrypt(pubA, junk, prefix))), isCode('BAD_ACK'))
    })

    /** an EIP-8 message whose plaintext we choose, properly encrypted to `to` */
    const seal = (to: Uint8Array, body: unknown) => {
      const plain = concatBytes(encodeRLP(body), new Uint8Array(100))
      const prefix = Uint8Array.of((plain.length + ECIES_OVERHEAD) >> 8, (plain.length + ECIES_OVERHEAD) & 0xff)
      return concatBytes(prefix, b.eciesEncrypt(to, plain, prefix))
    }

    for (const [what, key] of [
      ['x ≥ p', X_OVER_P],
      ['off the curve', OFF_CURVE],
    ] as const) {
      it(`public keys ${what} are refused with BAD_KEY (static, ack ephemeral, ECIES, dialled)`, () => {
        const sig = new Uint8Array(65)
        assert.throws(() => readAuth(b, keyB, seal(pubB, [sig, key, new Uint8Array(32), 4])), isCode('BAD_KEY'))
        assert.throws(() => readAck(b, keyA, seal(pubA, [key, new Uint8Array(32), 4])), isCode('BAD_KEY'))
        const good = seal(pubB, [sig, pubA, new Uint8Array(32), 4])
        const forged = Uint8Array.from(good)
        forged.set(key, 3)
        assert.throws(() => readAuth(b, keyB, forged), isCode('BAD_KEY'))
        assert.throws(() => new InitiatorHandshake(b, keyA, key), isCode('BAD_KEY'))
      })
    }
  })
}
