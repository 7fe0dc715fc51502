/**
 * ENR (EIP-778): ENR.decode and ENR.parseText return a verified record or throw ENRError, on every
 * backend. Raw mutations mostly stop at the signature; re-signed records with arbitrary entries reach
 * everything after it, including the accessors consumers call on a decoded record.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { compressPubkey, ENR, ENRError, MAX_RECORD_SIZE } from '../../src/enode/enr.js'
import type { CryptoBackend } from '../../src/crypto/types.js'
import { encodeRLP, RLPError, uintBytes, type RLPItem } from '../../src/util/rlp.js'
import { backends, bytes } from '../crypto/helpers.js'
import { bytesOrMutant, params, textMutant, typed } from './fuzz.js'

const EIP778_TEXT =
  'enr:-IS4QHCYrYZbAKWCBRlAy5zzaDZXJBGkcnh4MHcBFZntXNFrdvJjX04jRzjzCBOonrkTfj499SZuOh8R33Ls8RRcy5wBgmlkgnY0gmlwhH8AAAGJc2VjcDI1NmsxoQPKY0yuDUmstAHYpMa2_oxVtw0RW_QAdpzBQA8yWM0xOIN1ZHCCdl8'
const KEY = bytes('b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291')
const OTHER_KEY = bytes('45a915e4d060149eb4365960e6a7a45f334393093061116b197e3240065ff2d8')
const utf8 = new TextEncoder()

function validRecords(b: CryptoBackend): ENR[] {
  return [
    ENR.parseText(EIP778_TEXT, b),
    ENR.sign(KEY, { seq: 1n, ip: '10.1.2.3', udp: 30303, tcp: 30303, ip6: '2001:db8::7', udp6: 9000, tcp6: 9001 }, b),
    ENR.sign(KEY, { seq: 0xffffffffn, extra: { eth: [[Uint8Array.of(1, 2, 3, 4), uintBytes(1_700_000_000)]], snap: [] } }, b),
    ENR.sign(OTHER_KEY, { ip: '192.168.0.1', tcp: 1 }, b),
  ]
}

/** Entries a record can carry: the known keys with well- and ill-formed values, and random keys. */
const key = fc.oneof(
  fc.constantFrom('id', 'secp256k1', 'ip', 'ip6', 'udp', 'tcp', 'udp6', 'tcp6', 'eth', 'eth2', 'les', 'snap'),
  fc.string({ maxLength: 8 }),
)
const rlpValue: fc.Arbitrary<RLPItem> = fc.letrec<{ v: RLPItem }>((tie) => ({
  v: fc.oneof({ depthSize: 'small' }, fc.uint8Array({ maxLength: 20 }), fc.array(tie('v'), { maxLength: 3 })),
})).v
const value = fc.oneof(
  rlpValue,
  fc.constantFrom(utf8.encode('v4'), utf8.encode('v5'), Uint8Array.of(127, 0, 0, 1), new Uint8Array(16).fill(0xfe), Uint8Array.of(0, 80), Uint8Array.of(0x76, 0x5f), Uint8Array.of(1, 0, 0)),
  fc.constant(null), // the signer's key, filled in below
)
const entries = fc.array(fc.tuple(key, value), { maxLength: 8 })

/** Sign `seq` and `pairs` as given (unsorted, duplicated or not) so only the content can be wrong. */
function signRaw(b: CryptoBackend, seq: Uint8Array, pairs: [string, RLPItem | null][], sortKeys: boolean): Uint8Array {
  const own = compressPubkey(b.publicKey(KEY))
  const list = pairs.map(([k, v]): [string, RLPItem] => [k, v ?? own])
  if (sortKeys) list.sort(([a], [c]) => (a < c ? -1 : a > c ? 1 : 0))
  const content: RLPItem[] = [seq, ...list.flatMap(([k, v]) => [utf8.encode(k), v])]
  const { sig } = b.sign(b.keccak256(encodeRLP(content)), KEY)
  return encodeRLP([sig, ...content])
}

/** Everything a consumer reads from a decoded record: none of it may throw. */
function touch(r: ENR): void {
  assert.ok(r.raw.length <= MAX_RECORD_SIZE)
  assert.equal(r.pubkey.length, 64)
  void [r.ip, r.ip6, r.udp, r.tcp, r.udp6, r.tcp6, r.ethForkId, r.isEth2]
  const n = r.toNode()
  if (n) assert.ok(n.udp > 0 && n.udp <= 0xffff && n.tcp >= 0 && n.tcp <= 0xffff)
  JSON.stringify(r.toJSON())
  assert.equal(ENR.parseText(r.toText()).toText(), r.toText())
}

for (const b of backends()) {
  describe(`fuzz: ENR (${b.name})`, () => {
    const valid = validRecords(b)

    it('decode: raw and mutated records give a record or an ENRError', () => {
      fc.assert(
        fc.property(bytesOrMutant(valid.map((r) => r.raw), 320), (d) => {
          const r = typed(() => ENR.decode(d, b), [ENRError], [RLPError])
          if (r) touch(r)
        }),
        params(7001, b.name === 'js' ? 1000 : 3000),
      )
    })

    it('decode: re-signed records with arbitrary entries reach past the signature', () => {
      const seq = fc.oneof(fc.constantFrom(new Uint8Array(0), Uint8Array.of(0), new Uint8Array(9).fill(1)), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map(uintBytes))
      fc.assert(
        fc.property(seq, entries, fc.boolean(), (s, pairs, sortKeys) => {
          const raw = signRaw(b, s, [['id', utf8.encode('v4')], ['secp256k1', null], ...pairs], sortKeys)
          const r = typed(() => ENR.decode(raw, b), [ENRError], [RLPError])
          if (r) touch(r)
        }),
        params(7002, b.name === 'js' ? 1000 : 2000),
      )
    })

    it('parseText: random and mutated text gives a record or an ENRError', () => {
      const texts = valid.map((r) => r.toText())
      fc.assert(
        fc.property(fc.oneof(fc.string({ maxLength: 500 }), fc.base64String({ maxLength: 420 }).map((s) => 'enr:' + s), textMutant(texts)), (t) => {
          const r = typed(() => ENR.parseText(t, b), [ENRError], [RLPError])
          if (r) touch(r)
        }),
        params(7003, b.name === 'js' ? 1000 : 3000),
      )
    })
  })
}
