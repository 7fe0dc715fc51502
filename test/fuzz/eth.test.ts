/**
 * eth: decodeStatus and emptyReply return a value or throw EthError. test/eth/status.test.ts already
 * sets single bytes of valid Statuses; here the mutations also cut, extend, splice and retune length
 * fields, and request payloads (which emptyReply reads from any peer) get the same treatment.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { decodeStatus, emptyReply, encodeStatus, EthError, EthMsg, type Status } from '../../src/eth/status.js'
import { decodeBlockHeaders, decodeGetBlockHeaders, encodeBlockHeaders, encodeGetBlockHeaders, encodeHeader } from '../../src/eth/header.js'
import { encodeRLP, uintBytes } from '../../src/util/rlp.js'
import { bytesOrMutant, params, typed } from './fuzz.js'

const hash = (x: number): Uint8Array => new Uint8Array(32).fill(x)
const STATUSES: Status[] = [
  { layout: 68, version: 68, networkId: 1n, td: 58_750_003_716_598_352_816_469n, head: hash(0xaa), genesis: hash(1), forkId: { hash: Uint8Array.of(1, 2, 3, 4), next: 0n } },
  { layout: 68, version: 64, networkId: (1n << 64n) - 1n, td: 0n, head: hash(0), genesis: hash(2), forkId: { hash: Uint8Array.of(0, 0, 0, 0), next: 1_700_000_000n } },
  { layout: 69, version: 69, networkId: 11155111n, genesis: hash(3), forkId: { hash: Uint8Array.of(9, 9, 9, 9), next: 0n }, earliestBlock: 1n, latestBlock: 9_000_000n, latestBlockHash: hash(0xbb) },
  { layout: 69, version: 72, networkId: 17000n, genesis: hash(4), forkId: { hash: Uint8Array.of(5, 6, 7, 8), next: 3n }, earliestBlock: 0n, latestBlock: 0n, latestBlockHash: hash(0) },
]
const ENCODED = [...STATUSES.map(encodeStatus), encodeRLP([uintBytes(68), uintBytes(1), uintBytes(1), hash(1), hash(2), [Uint8Array.of(1, 2, 3, 4), new Uint8Array(0)], Uint8Array.of(7), [Uint8Array.of(8)]])]

const REQUESTS = [
  encodeRLP([uintBytes(1), [uintBytes(100), uintBytes(5), uintBytes(0), uintBytes(0)]]),
  encodeRLP([uintBytes(0xffffffffn), [hash(1), hash(2)]]),
  encodeRLP([new Uint8Array(0), []]),
]

const HEADERS = [
  encodeBlockHeaders(1n, [encodeHeader({ parentHash: hash(1), number: 22_000_000n, time: 1_750_000_000n })]),
  encodeBlockHeaders(0xffffn, [encodeHeader({ parentHash: hash(2), number: 0n, time: 0n }), encodeHeader({ parentHash: hash(3), number: 1n, time: 12n, extra: hash(4) })]),
  encodeBlockHeaders(0n, []),
]
const GET_HEADERS = [
  encodeGetBlockHeaders({ requestId: 5n, origin: hash(9), amount: 1, skip: 0, reverse: false }),
  encodeGetBlockHeaders({ requestId: 6n, origin: 20_000_000n, amount: 192, skip: 3, reverse: true }),
]

describe('fuzz: eth messages', () => {
  it('decodeBlockHeaders: random and mutated answers give headers or an EthError', () => {
    fc.assert(
      fc.property(bytesOrMutant(HEADERS, 2000), (d) => {
        const r = typed(() => decodeBlockHeaders(d, 4), [EthError])
        if (!r) return
        assert.ok(r.headers.length <= 4)
        for (const h of r.headers) assert.ok(h.hash.length === 32 && h.number < 1n << 64n && h.time < 1n << 64n)
      }),
      params(10003, 3000),
    )
  })

  it('decodeGetBlockHeaders: random and mutated requests give a request or an EthError', () => {
    fc.assert(
      fc.property(bytesOrMutant(GET_HEADERS, 200), (d) => {
        const r = typed(() => decodeGetBlockHeaders(d), [EthError])
        if (r) assert.deepEqual(decodeGetBlockHeaders(encodeGetBlockHeaders(r)), r)
      }),
      params(10004, 3000),
    )
  })

  it('decodeStatus: random and mutated Statuses give a Status or an EthError', () => {
    fc.assert(
      fc.property(bytesOrMutant(ENCODED, 300), (d) => {
        const s = typed(() => decodeStatus(d), [EthError])
        if (!s) return
        assert.ok(s.version >= 64 && (s.layout === 69) === s.version >= 69)
        // what decodes is a Status we could send back unchanged
        assert.deepEqual(decodeStatus(encodeStatus(s)), s)
      }),
      params(10001, 5000),
    )
  })

  it('emptyReply: any code and payload give a reply, nothing, or an EthError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom(...Object.values(EthMsg)), fc.nat(40)), bytesOrMutant(REQUESTS, 200), fc.integer({ min: 66, max: 72 }), (code, payload, version) => {
        const r = typed(() => emptyReply(code, payload, version), [EthError])
        if (r) assert.ok(r.code > code && r.payload.length > 0)
      }),
      params(10002, 5000),
    )
  })
})
