/**
 * discv4 datagrams: decodePacket returns a packet or throws WireError for any bytes, on every backend,
 * and the backend's packet check never throws. Three depths of input: raw mutations (stopped by the
 * hash), mutations with the hash recomputed (the signature check runs on arbitrary bytes), and
 * mutated bodies re-signed (the RLP decoder runs on arbitrary bodies).
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { bytesEqual, concatBytes } from '../../src/crypto/bytes.js'
import type { CryptoBackend, PacketCheck } from '../../src/crypto/types.js'
import { decodePacket, encodePacket, MAX_PACKET_SIZE, WireError, type Packet } from '../../src/discover/wire.js'
import { ENR } from '../../src/enode/enr.js'
import { ipFromBytes } from '../../src/util/netutil.js'
import { asBytes, asList, asUint, decodeRLP, encodeRLP, RLPError, type RLPItem } from '../../src/util/rlp.js'
import { backends, bytes } from '../crypto/helpers.js'
import { bytesOrMutant, mutant, params, rlpHeaders, typed, unaligned } from './fuzz.js'

const KEY = bytes('4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318')
const HEADER = 98 // hash(32) ‖ signature(65) ‖ type(1)
const vectors = JSON.parse(readFileSync(new URL('../vectors/discv4-eip8.json', import.meta.url), 'utf8')) as { packets: Record<string, string> }

function validDatagrams(b: CryptoBackend): Uint8Array[] {
  const pub = b.publicKey(KEY)
  const exp = 2_000_000_000
  const tok = new Uint8Array(32).fill(7)
  const v4 = { ip: '10.0.0.1', udp: 30303, tcp: 30303 }
  const v6 = { ip: '2001:db8::1', udp: 1, tcp: 65535 }
  const record = ENR.sign(KEY, { ip: '10.0.0.1', udp: 30303, tcp: 30303, seq: 5n }, b).raw
  const node = (i: number) => ({ ip: i % 2 ? `10.0.${i}.1` : `2001:db8::${i + 1}`, udp: 30000 + i, tcp: 30000 + i, pubkey: pub })
  const packets: Packet[] = [
    { type: 1, version: 4, from: v4, to: v6, expiration: exp, enrSeq: 3n },
    { type: 1, version: 4, from: { ip: null, udp: 0, tcp: 0 }, to: v4, expiration: exp },
    { type: 2, to: v4, replyTok: tok, expiration: exp, enrSeq: 1n },
    { type: 3, target: pub, expiration: exp },
    { type: 4, nodes: Array.from({ length: 12 }, (_, i) => node(i)), expiration: exp },
    { type: 4, nodes: [node(1)], expiration: exp },
    { type: 5, expiration: exp },
    { type: 6, replyTok: tok, record },
  ]
  return [...packets.map((p) => encodePacket(p, KEY, b).datagram), ...Object.values(vectors.packets).map(bytes)]
}

/** RLP headers of the body, plus the type byte: the length fields worth tampering with. */
const datagramFields = (d: Uint8Array): number[] => [HEADER - 1, ...rlpHeaders(d, HEADER)]

function decodeOrWireError(d: Uint8Array, b: CryptoBackend): void {
  const r = typed(() => decodePacket(d, b), [WireError], [RLPError])
  if (!r) return
  assert.ok(d.length <= MAX_PACKET_SIZE)
  assert.ok(r.packet.type >= 1 && r.packet.type <= 6)
  assert.equal(r.hash.length, 32)
  assert.equal(r.pubkey.length, 64)
}

function checkShape(c: PacketCheck, d: Uint8Array): void {
  if (!c.ok) {
    assert.ok(c.error === 'too-short' || c.error === 'bad-hash' || c.error === 'bad-signature')
    return
  }
  assert.equal(c.type, d[HEADER - 1])
  assert.equal(c.hash.length, 32)
  assert.equal(c.pubkey.length, 64)
  assert.equal(c.payload.length, d.length - HEADER)
}

/** datagram with its hash recomputed over whatever follows it */
function rehash(b: CryptoBackend, d: Uint8Array): Uint8Array {
  if (d.length < 32) return d
  const tail = d.subarray(32)
  return concatBytes(b.keccak256(tail), tail)
}

/** a datagram whose type ‖ body is `signed`, properly signed and hashed */
function resign(b: CryptoBackend, signed: Uint8Array): Uint8Array {
  const { sig, recovery } = b.sign(b.keccak256(signed), KEY)
  const tail = concatBytes(sig, Uint8Array.of(recovery), signed)
  return concatBytes(b.keccak256(tail), tail)
}

/**
 * NEIGHBORS as the generic RLP path reads it (decodeRLP, then the typed readers): the oracle for the
 * in-place reader wire.ts uses for this packet.
 */
function neighborsByItems(body: Uint8Array, b: CryptoBackend): { nodes: { ip: string; udp: number; tcp: number; pubkey: Uint8Array }[]; expiration: number; skipped: number } {
  const l = asList(decodeRLP(body, true), 'packet')
  if (l.length < 2) throw new RLPError('short')
  const nodes = []
  let skipped = 0
  for (const item of asList(l[0], 'nodes')) {
    const e = asList(item, 'node')
    if (e.length < 4) throw new RLPError('node')
    const ip = ipFromBytes(asBytes(e[0], 'ip'))
    const udp = asUint(e[1], 'udp', 2)
    const tcp = asUint(e[2], 'tcp', 2)
    const pubkey = asBytes(e[3], 'id', 64)
    if (ip === null || !b.publicKeyValid(pubkey)) skipped++
    else nodes.push({ ip, udp, tcp, pubkey })
  }
  return { nodes, expiration: asUint(l[1], 'expiration', 8), skipped }
}

/** NEIGHBORS-shaped RLP trees: right and wrong sizes, extra items, lists where strings go */
function neighborsTrees(pub: Uint8Array): fc.Arbitrary<RLPItem> {
  const sized = (sizes: number[]): fc.Arbitrary<RLPItem> => fc.constantFrom(...sizes).chain((n) => fc.uint8Array({ minLength: n, maxLength: n }))
  const extra: fc.Arbitrary<RLPItem> = fc.oneof(sized([0, 1, 2, 40]), fc.array(sized([0, 3]), { maxLength: 3 }))
  const key = fc.oneof({ weight: 4, arbitrary: fc.constant(pub as RLPItem) }, { weight: 1, arbitrary: sized([63, 64, 65]) }, { weight: 1, arbitrary: fc.array(sized([1]), { maxLength: 2 }) })
  const entry = fc.tuple(sized([4, 16, 0, 3, 5]), sized([0, 1, 2, 3]), sized([0, 1, 2, 3]), key, fc.array(extra, { maxLength: 2 }), fc.nat(9)).map(([ip, u, t, k, more, cut]): RLPItem => [ip, u, t, k, ...more].slice(0, cut >= 4 ? 6 : cut))
  return fc.tuple(fc.array(entry, { maxLength: 14 }), sized([0, 1, 4, 7]), fc.array(extra, { maxLength: 2 }), fc.nat(6)).map(([entries, exp, more, cut]): RLPItem => [entries, exp, ...more].slice(0, cut >= 2 ? 5 : cut))
}

for (const b of backends()) {
  describe(`fuzz: discv4 datagrams (${b.name})`, () => {
    const valid = validDatagrams(b)

    it('raw bytes and mutated datagrams: a packet or a WireError; verifyPacket never throws', () => {
      fc.assert(
        fc.property(fc.oneof(fc.uint8Array({ maxLength: 1400 }), mutant(valid, { fields: datagramFields })), fc.integer({ min: 0, max: 7 }), (d, off) => {
          const view = unaligned(d, off)
          checkShape(b.verifyPacket(view), view)
          decodeOrWireError(view, b)
        }),
        params(4001, 3000),
      )
    })

    it('mutations with the hash recomputed reach the signature check', () => {
      fc.assert(
        fc.property(mutant(valid, { fields: datagramFields }), (m) => {
          const d = rehash(b, m)
          checkShape(b.verifyPacket(d), d)
          decodeOrWireError(d, b)
        }),
        params(4002, b.name === 'js' ? 1000 : 2000),
      )
    })

    it('mutated bodies, re-signed, reach the RLP decoder', () => {
      const bodies = valid.map((d) => d.subarray(HEADER - 1))
      const bodyFields = (s: Uint8Array): number[] => [0, ...rlpHeaders(s, 1)]
      fc.assert(
        fc.property(bytesOrMutant(bodies, 300, { fields: bodyFields }), (signed) => {
          const d = resign(b, signed)
          const r = typed(() => decodePacket(d, b), [WireError], [RLPError])
          // a re-signed datagram always passes the checks before the body
          if (r) assert.ok(bytesEqual(r.pubkey, b.publicKey(KEY)))
        }),
        params(4003, b.name === 'js' ? 1000 : 2000),
      )
    })

    it('NEIGHBORS read in place accepts and refuses what the generic RLP path does, with the same nodes', () => {
      const pub = b.publicKey(KEY)
      const neighborsBodies = valid.filter((d) => d[HEADER - 1] === 4).map((d) => d.subarray(HEADER))
      // an item no canonical encoder writes, placed after an entry's four or after the expiration
      const bad = fc.constantFrom(Uint8Array.of(0x81, 0x05), Uint8Array.of(0xb8, 0x01, 0x61), Uint8Array.of(0xc1, 0x81, 0x00), Uint8Array.of(0x82, 0x01))
      const listOf = (payload: Uint8Array): Uint8Array => {
        const n = payload.length
        const head = n < 56 ? Uint8Array.of(0xc0 + n) : n < 256 ? Uint8Array.of(0xf8, n) : Uint8Array.of(0xf9, n >> 8, n & 255)
        return concatBytes(head, payload)
      }
      const entry = (ip: number[]): Uint8Array => concatBytes(encodeRLP(Uint8Array.from(ip)), encodeRLP(Uint8Array.of(0x76, 0x5f)), encodeRLP(Uint8Array.of(0x76, 0x5f)), encodeRLP(pub))
      const withBad = fc.tuple(bad, fc.boolean()).map(([x, inEntry]) => {
        const good = entry([10, 0, 0, 1])
        const entries = inEntry ? concatBytes(listOf(good), listOf(concatBytes(good, x))) : listOf(good)
        const exp = encodeRLP(Uint8Array.of(0x77, 0x35, 0x94, 0x00))
        return listOf(concatBytes(listOf(entries), exp, inEntry ? new Uint8Array(0) : x))
      })
      const body = fc.oneof(
        neighborsTrees(pub).map((t) => encodeRLP(t)),
        withBad,
        mutant(neighborsBodies, { fields: (s) => rlpHeaders(s) }),
        fc.tuple(neighborsTrees(pub), fc.uint8Array({ maxLength: 4 })).map(([t, tail]) => concatBytes(encodeRLP(t), tail)),
      )
      fc.assert(
        fc.property(body, (payload) => {
          let want: ReturnType<typeof neighborsByItems> | undefined
          try {
            want = neighborsByItems(payload, b)
          } catch (err) {
            assert.ok(err instanceof RLPError, String(err))
          }
          const d = resign(b, concatBytes(Uint8Array.of(4), payload))
          const got = typed(() => decodePacket(d, b), [WireError], [RLPError])
          if (!want) return assert.equal(got, undefined, 'the generic path refuses it')
          assert.ok(got && got.packet.type === 4, 'the generic path accepts it')
          assert.deepEqual({ nodes: got.packet.nodes, expiration: got.packet.expiration, skipped: got.packet.skipped }, want)
        }),
        params(4005, b.name === 'js' ? 300 : 1500),
      )
    })

    it('verifyPackets (batch) agrees with verifyPacket and never rejects', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(bytesOrMutant(valid, 200, { fields: datagramFields }), { maxLength: 24 }), async (ds) => {
          const batch = await b.verifyPackets(ds)
          assert.equal(batch.length, ds.length)
          ds.forEach((d, i) => {
            const one = b.verifyPacket(d)
            const many = batch[i]!
            assert.equal(many.ok, one.ok)
            if (many.ok && one.ok) assert.ok(bytesEqual(many.pubkey, one.pubkey) && many.type === one.type)
            else if (!many.ok && !one.ok) assert.equal(many.error, one.error)
          })
        }),
        params(4004, 200),
      )
    })
  })
}
