import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { fromHex, hex } from '../../src/crypto/bytes.js'
import { MAINNET } from '../../src/eth/networks.js'
import {
  decodeBlockHeaders,
  decodeGetBlockHeaders,
  decodeHeader,
  encodeBlockHeaders,
  encodeGetBlockHeaders,
  encodeHeader,
  headerHash,
  MAX_HEADERS_PAYLOAD,
} from '../../src/eth/header.js'
import { EthError, type EthErrorCode } from '../../src/eth/status.js'
import { decodeRLP, encodeRLP, uintBytes, type RLPItem } from '../../src/util/rlp.js'

const isEthError = (code: EthErrorCode) => (e: unknown) => e instanceof EthError && e.code === code
const h = (s: string): Uint8Array => fromHex(s)

/** mainnet's genesis header, field by field: its keccak is the genesis hash every Status carries */
const GENESIS: RLPItem = [
  new Uint8Array(32),
  h('1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347'),
  new Uint8Array(20),
  h('d7f8974fb5ac78d9ac099b9ad5018bedc2ce0a72dad1827a1709da30580f0544'),
  h('56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421'),
  h('56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421'),
  new Uint8Array(256),
  uintBytes(0x400000000),
  uintBytes(0),
  uintBytes(5000),
  uintBytes(0),
  uintBytes(0),
  h('11bbe8db4e347b4e8c937c1c8370e4b5ed33adb3db69cbdb7a38e1e50b1b82fa'),
  new Uint8Array(32),
  h('0000000000000042'),
]

describe('eth block headers', () => {
  it("mainnet's genesis header decodes to number 0, time 0 and the genesis hash", () => {
    const d = decodeHeader(encodeRLP(GENESIS))
    assert.equal(d.number, 0n)
    assert.equal(d.time, 0n)
    assert.equal(hex(d.hash), hex(MAINNET.genesisHash))
  })

  it('a built header decodes to its number, time, parent and hash = keccak(rlp)', () => {
    const parent = new Uint8Array(32).fill(7)
    const rlp = encodeHeader({ parentHash: parent, number: 22_000_123n, time: 1_750_000_000n })
    const d = decodeHeader(rlp)
    assert.equal(d.number, 22_000_123n)
    assert.equal(d.time, 1_750_000_000n)
    assert.deepEqual(d.parentHash, parent)
    assert.deepEqual(d.hash, headerHash(rlp))
    assert.equal((decodeRLP(rlp) as RLPItem[]).length, 21)
  })

  it('GetBlockHeaders by hash and by number round-trips', () => {
    const byHash = { requestId: 0xdeadbeefn, origin: new Uint8Array(32).fill(3), amount: 1, skip: 0, reverse: false }
    assert.deepEqual(decodeGetBlockHeaders(encodeGetBlockHeaders(byHash)), byHash)
    const byNumber = { requestId: 1n, origin: 20_000_000n, amount: 192, skip: 1, reverse: true }
    assert.deepEqual(decodeGetBlockHeaders(encodeGetBlockHeaders(byNumber)), byNumber)
    assert.throws(() => decodeGetBlockHeaders(encodeRLP([uintBytes(1), []])), isEthError('BAD_REQUEST'))
  })

  it('BlockHeaders: request id and headers, pre-London and post-Prague alike', () => {
    const a = encodeHeader({ parentHash: new Uint8Array(32), number: 1n, time: 2n })
    const payload = encodeBlockHeaders(42n, [a, encodeRLP(GENESIS)])
    // the same bytes as encoding the decoded items again
    assert.deepEqual(payload, encodeRLP([uintBytes(42), [decodeRLP(a), GENESIS]]))
    const d = decodeBlockHeaders(payload)
    assert.equal(d.requestId, 42n)
    assert.deepEqual(
      d.headers.map((x) => [x.number, hex(x.hash)]),
      [
        [1n, hex(headerHash(a))],
        [0n, hex(MAINNET.genesisHash)],
      ],
    )
    assert.deepEqual(decodeBlockHeaders(encodeBlockHeaders(7n, [])), { requestId: 7n, headers: [] })
  })

  it('malformed answers are EthErrors (BAD_HEADERS)', () => {
    const good = encodeHeader({ parentHash: new Uint8Array(32), number: 1n, time: 2n })
    const fields = decodeRLP(good) as RLPItem[]
    const bad = (item: RLPItem): Uint8Array => encodeRLP([uintBytes(1), [item]])
    for (const payload of [
      Uint8Array.of(0xc5, 1), // truncated
      encodeRLP(uintBytes(5)), // not a list
      encodeRLP([uintBytes(1), uintBytes(2)]), // headers not a list
      bad(fields.slice(0, 14)), // too few fields
      bad([...fields.slice(0, 6), new Uint8Array(255), ...fields.slice(7)]), // short bloom
      bad([...fields.slice(0, 8), new Uint8Array(9).fill(1), ...fields.slice(9)]), // number over 64 bits
      bad([...fields.slice(0, 11), Uint8Array.of(0, 1), ...fields.slice(12)]), // non-canonical time
      bad(uintBytes(3)), // a header that is not a list
      new Uint8Array(MAX_HEADERS_PAYLOAD + 1),
    ])
      assert.throws(() => decodeBlockHeaders(payload), isEthError('BAD_HEADERS'))
    assert.throws(() => decodeBlockHeaders(encodeBlockHeaders(1n, [good, good]), 1), isEthError('BAD_HEADERS'))
    assert.throws(() => decodeHeader(good.subarray(0, 50)), isEthError('BAD_HEADERS'))
  })
})
