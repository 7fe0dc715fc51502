/**
 * discv5 on every backend: the spec's packets (ordinary, WHOAREYOU, handshakes with and without a
 * record) mutated and fed to a node that is their addressee (node B), so mutants reach the handshake's
 * key agreement, signature check and decryption. The node never throws, answers only with WHOAREYOU
 * (no bigger than what asked), and its bounds hold.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { ENR } from '../../src/enode/enr.js'
import { Discv5 } from '../../src/discover/v5/udp.js'
import { decodeHeader, decodeMessage, parseHandshake, parseWhoareyou, V5WireError, Flag } from '../../src/discover/v5/wire.js'
import { backends, bytes } from '../crypto/helpers.js'
import { bytesOrMutant, mutant, params, rlpHeaders, typed } from './fuzz.js'
import { concatBytes } from '../../src/crypto/bytes.js'
import { asBytes, asList, asUint, decodeRLP, encodeRLP, RLPError, type RLPItem } from '../../src/util/rlp.js'

const V = JSON.parse(readFileSync(join(import.meta.dirname, '../vectors/discv5.json'), 'utf8'))
const valid = [V.pingMessage.packet, V.whoareyou.packet, V.pingHandshake.packet, V.pingHandshakeWithRecord.packet].map((h: string) => bytes(h))

/** NODES as the generic path reads it (decodeRLP, typed readers, records encoded again): the oracle */
function nodesByItems(body: Uint8Array): { reqId: Uint8Array; total: number; records: Uint8Array[] } {
  const l = asList(decodeRLP(body), 'message')
  const reqId = asBytes(l[0], 'request id')
  if (reqId.length > 8) throw new RLPError('request id too long')
  return { reqId, total: asUint(l[1], 'total', 1), records: asList(l[2], 'records').map((r) => encodeRLP(asList(r, 'record'))) }
}

describe('fuzz: discv5 NODES', () => {
  it('read in place: the generic path\'s verdict and records, for any body', () => {
    const record = decodeRLP(ENR.sign(new Uint8Array(32).fill(5), { ip: '10.0.0.1', udp: 30303, seq: 3n }).raw) as RLPItem
    const sized = (sizes: number[]): fc.Arbitrary<RLPItem> => fc.constantFrom(...sizes).chain((n) => fc.uint8Array({ minLength: n, maxLength: n }))
    const rec: fc.Arbitrary<RLPItem> = fc.oneof({ weight: 4, arbitrary: fc.constant(record) }, { weight: 1, arbitrary: sized([0, 5]) }, { weight: 1, arbitrary: fc.array(sized([0, 1, 60]), { maxLength: 3 }) })
    const tree = fc.tuple(sized([0, 1, 8, 9]), sized([0, 1, 2]), fc.oneof(fc.array(rec, { maxLength: 5 }), sized([3])), fc.array(sized([0, 2]), { maxLength: 2 }), fc.nat(5)).map(([id, total, recs, more, cut]): RLPItem => [id, total, recs, ...more].slice(0, cut >= 3 ? 5 : cut))
    const bad = fc.constantFrom(Uint8Array.of(0x81, 0x05), Uint8Array.of(0xb8, 0x01, 0x61), Uint8Array.of(0xc1, 0x81, 0x00))
    const listOf = (payload: Uint8Array): Uint8Array => {
      const n = payload.length
      const head = n < 56 ? Uint8Array.of(0xc0 + n) : n < 256 ? Uint8Array.of(0xf8, n) : Uint8Array.of(0xf9, n >> 8, n & 255)
      return concatBytes(head, payload)
    }
    // a record or the message with an item no canonical encoder writes
    const withBad = fc.tuple(bad, fc.boolean()).map(([x, inRecord]) => {
      const r = encodeRLP(record)
      const recs = listOf(concatBytes(r, inRecord ? listOf(concatBytes(r.subarray(r[0]! === 0xf8 ? 2 : r[0]! === 0xf9 ? 3 : 1), x)) : new Uint8Array(0)))
      return listOf(concatBytes(encodeRLP(Uint8Array.of(1, 2)), encodeRLP(Uint8Array.of(1)), recs, inRecord ? new Uint8Array(0) : x))
    })
    const validBodies = [encodeRLP([Uint8Array.of(7), Uint8Array.of(1), [record, record]])]
    const body = fc.oneof(tree.map((t) => encodeRLP(t)), withBad, mutant(validBodies, { fields: (d) => rlpHeaders(d) }), fc.tuple(tree, fc.uint8Array({ minLength: 1, maxLength: 3 })).map(([t, tail]) => concatBytes(encodeRLP(t), tail)))
    fc.assert(
      fc.property(body, (b) => {
        let want: ReturnType<typeof nodesByItems> | undefined
        try {
          want = nodesByItems(b)
        } catch (err) {
          assert.ok(err instanceof RLPError, String(err))
        }
        const got = typed(() => decodeMessage(concatBytes(Uint8Array.of(4), b)), [V5WireError])
        if (!want) return assert.equal(got, undefined, 'the generic path refuses it')
        assert.ok(got && got.type === 4, 'the generic path accepts it')
        assert.deepEqual({ reqId: got.reqId, total: got.total, records: got.records }, want)
      }),
      params(5103, 3000),
    )
  })
})

for (const b of backends()) {
  describe(`fuzz: discv5 (${b.name})`, () => {
    it('decoders: a value or a V5WireError', () => {
      fc.assert(
        fc.property(bytesOrMutant(valid, 1400), (d) => {
          const h = typed(() => decodeHeader(d, bytes(V.nodeIdB), b), [V5WireError])
          if (!h) return
          if (h.flag === Flag.handshake) typed(() => parseHandshake(h.authdata), [V5WireError])
          if (h.flag === Flag.whoareyou) typed(() => parseWhoareyou(h.authdata), [V5WireError])
          typed(() => decodeMessage(h.message), [V5WireError])
          // and whatever the header says, opening the message with any key is a plaintext or null
          const pt = b.gcmOpen(bytes(V.pingMessage.readKey), h.nonce, h.message, h.ad)
          if (pt) typed(() => decodeMessage(pt), [V5WireError])
        }),
        params(5101, 1500),
      )
    })

    it('the transport: mutants of every spec packet, sent to their addressee, never crash it or amplify', () => {
      const out: Uint8Array[] = []
      // node B of the vectors, knowing node A's record as the handshake vector assumes
      const recordA = ENR.sign(bytes(V.nodeKeyA), { seq: 1n, ip: '127.0.0.1', udp: 30303 }, b)
      const d = Discv5.attach({ privateKey: bytes(V.nodeKeyB), enr: { ip: '127.0.0.1', udp: 30304 }, backend: b, send: (data) => void out.push(data) })
      ;(d as unknown as { store: { records: { set(k: string, v: ENR): void } } }).store.records.set(V.nodeIdA, recordA)
      fc.assert(
        fc.property(bytesOrMutant(valid, 1400), (pkt) => {
          out.length = 0
          d.handle(pkt, { address: '127.0.0.1', port: 30303 })
          for (const o of out) assert.ok(o.length <= Math.max(63, pkt.length), `${o.length} bytes out for ${pkt.length} in`)
        }),
        params(5102, b.name === 'js' ? 300 : 1500),
      )
      void d.close()
    })
  })
}
