import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { ENR, ENRError, MAX_RECORD_SIZE } from '../../src/enode/enr.js'
import { encodeRLP } from '../../src/util/rlp.js'
import { backends, bytes, hexOf } from '../crypto/helpers.js'

// EIP-778's example record: key b71c…f291, seq 1, ip 127.0.0.1, udp 30303
const EIP778_TEXT =
  'enr:-IS4QHCYrYZbAKWCBRlAy5zzaDZXJBGkcnh4MHcBFZntXNFrdvJjX04jRzjzCBOonrkTfj499SZuOh8R33Ls8RRcy5wBgmlkgnY0gmlwhH8AAAGJc2VjcDI1NmsxoQPKY0yuDUmstAHYpMa2_oxVtw0RW_QAdpzBQA8yWM0xOIN1ZHCCdl8'
const EIP778_KEY = bytes('b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291')
const EIP778_ID = 'a448f24c6d18e575453db13171562b71999873db5b286df957af199ec94617f7'

for (const b of backends()) {
  describe(`ENR (${b.name})`, () => {
    it('decodes and verifies the EIP-778 example record', () => {
      const r = ENR.parseText(EIP778_TEXT, b)
      assert.equal(r.seq, 1n)
      assert.equal(r.ip, '127.0.0.1')
      assert.equal(r.udp, 30303)
      assert.equal(r.tcp, undefined)
      assert.equal(hexOf(r.nodeId), EIP778_ID)
      assert.equal(hexOf(r.pubkey), hexOf(b.publicKey(EIP778_KEY)))
      assert.equal(r.toText(), EIP778_TEXT)
      const n = r.toNode()
      assert.ok(n)
      assert.equal(n.idHex, EIP778_ID)
      assert.equal(n.udp, 30303)
      assert.equal(r.nodeIdHex, EIP778_ID)
      // a record never changes: the same node each time
      assert.equal(r.toNode(), n)
      const bare = ENR.sign(EIP778_KEY, { seq: 2n }, b)
      assert.equal(bare.toNode(), undefined)
      assert.equal(bare.toNode(), undefined)
    })

    it('signs the EIP-778 example record byte for byte (deterministic signatures)', () => {
      const r = ENR.sign(EIP778_KEY, { seq: 1n, ip: '127.0.0.1', udp: 30303 }, b)
      assert.equal(r.toText(), EIP778_TEXT)
    })

    it('round-trips IPv6, ports and extra entries, with keys sorted', () => {
      const key = bytes('11'.repeat(32))
      const eth = [[Uint8Array.of(0xfc, 0x64, 0xec, 0x04), bytes('118c30')]]
      const r = ENR.sign(key, { seq: 7n, ip: '10.0.0.1', tcp: 30303, udp: 30301, ip6: '2001:db8::1', udp6: 9000, extra: { eth, eth2: bytes('aabb') } }, b)
      const d = ENR.decode(r.raw, b)
      assert.equal(d.seq, 7n)
      assert.equal(d.ip6, '2001:db8::1')
      assert.equal(d.udp6, 9000)
      assert.deepEqual([...d.entries.keys()], ['eth', 'eth2', 'id', 'ip', 'ip6', 'secp256k1', 'tcp', 'udp', 'udp6'])
      assert.deepEqual(d.ethForkId, { hash: Uint8Array.of(0xfc, 0x64, 0xec, 0x04), next: 0x118c30n })
      assert.equal(d.isEth2, true)
      assert.equal(d.toNode()?.tcp, 30303)
    })

    it('rejects a tampered signature, a changed value, unsorted and duplicate keys', () => {
      const r = ENR.parseText(EIP778_TEXT, b)
      const raw = new Uint8Array(r.raw)
      raw[10]! ^= 1 // inside the signature
      assert.throws(() => ENR.decode(raw, b), (e: unknown) => e instanceof ENRError && e.code === 'BAD_SIGNATURE')
      const list = [...r.entries].flatMap(([k, v]) => [new TextEncoder().encode(k), v])
      const sig = r.signature
      const changed = encodeRLP([sig, Uint8Array.of(2), ...list])
      assert.throws(() => ENR.decode(changed, b), (e: unknown) => e instanceof ENRError && e.code === 'BAD_SIGNATURE')
      const swapped = [...list.slice(2, 4), ...list.slice(0, 2), ...list.slice(4)]
      assert.throws(() => ENR.decode(encodeRLP([sig, Uint8Array.of(1), ...swapped]), b), (e: unknown) => e instanceof ENRError && e.code === 'NOT_SORTED')
      const dup = [...list.slice(0, 2), ...list.slice(0, 2), ...list.slice(2)]
      assert.throws(() => ENR.decode(encodeRLP([sig, Uint8Array.of(1), ...dup]), b), (e: unknown) => e instanceof ENRError && e.code === 'DUPLICATE_KEY')
    })

    it('refuses records over 300 bytes, on decode and on sign', () => {
      const key = bytes('22'.repeat(32))
      assert.throws(() => ENR.sign(key, { extra: { big: new Uint8Array(260) } }, b), (e: unknown) => e instanceof ENRError && e.code === 'TOO_LARGE')
      assert.throws(() => ENR.decode(new Uint8Array(MAX_RECORD_SIZE + 1), b), (e: unknown) => e instanceof ENRError && e.code === 'TOO_LARGE')
    })
  })
}

describe('ENR decoding of arbitrary bytes', () => {
  it('returns a record or throws ENRError, nothing else', () => {
    const valid = ENR.parseText(EIP778_TEXT).raw
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 320 }), fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
        const m = new Uint8Array(valid)
        m[i]! ^= x
        return m
      })), (data) => {
        try {
          ENR.decode(data)
        } catch (e) {
          if (!(e instanceof ENRError)) throw e
        }
      }),
      { numRuns: 3000, seed: 778 },
    )
  })

  it('rejects bad text forms', () => {
    for (const t of ['enr', 'enx:abc', 'enr:***', 'enr:' + 'A'.repeat(500)]) assert.throws(() => ENR.parseText(t), ENRError, t)
  })
})
