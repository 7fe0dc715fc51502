import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  decodeStatus,
  emptyReply,
  encodeStatus,
  ETH_PROTOCOL_LENGTHS,
  EthError,
  EthMsg,
  type EthErrorCode,
  type Status,
  type StatusLegacy,
  type StatusRange,
} from '../../src/eth/status.js'
import { forkId } from '../../src/eth/forkid.js'
import { MAINNET, SEPOLIA } from '../../src/eth/networks.js'
import { fromHex, hex } from '../../src/crypto/bytes.js'
import { decodeRLP, encodeRLP, uintBytes } from '../../src/util/rlp.js'

const hash = (byte: number): Uint8Array => new Uint8Array(32).fill(byte)
const isEthError = (code: EthErrorCode) => (e: unknown) => e instanceof EthError && e.code === code

const LEGACY: StatusLegacy = {
  layout: 68,
  version: 68,
  networkId: 1n,
  td: 58_750_003_716_598_352_816_469n, // mainnet's terminal total difficulty
  head: hash(0xaa),
  genesis: MAINNET.genesisHash,
  forkId: forkId(MAINNET, { number: 22_000_000, time: 1_750_000_000 }),
}

const RANGE: StatusRange = {
  layout: 69,
  version: 69,
  networkId: 11155111n,
  genesis: SEPOLIA.genesisHash,
  forkId: forkId(SEPOLIA, { number: 9_000_000, time: 1_800_000_000 }),
  earliestBlock: 1_450_409n,
  latestBlock: 9_000_000n,
  latestBlockHash: hash(0xbb),
}

describe('eth Status codec', () => {
  it('round-trips the eth/68 layout, byte for byte as the spec lists the fields', () => {
    const enc = encodeStatus(LEGACY)
    assert.deepEqual(decodeStatus(enc), LEGACY)
    const fields = decodeRLP(enc) as Uint8Array[]
    assert.equal(fields.length, 6)
    assert.equal(hex(fields[3]!), hex(LEGACY.head))
    assert.equal(hex(fields[4]!), hex(MAINNET.genesisHash))
  })

  it('round-trips the eth/69 layout and later versions that share it', () => {
    assert.deepEqual(decodeStatus(encodeStatus(RANGE)), RANGE)
    for (const version of [70, 71, 72]) {
      const s: Status = { ...RANGE, version }
      assert.deepEqual(decodeStatus(encodeStatus(s)), s)
    }
    const fields = decodeRLP(encodeStatus(RANGE)) as Uint8Array[]
    assert.equal(fields.length, 7)
    assert.equal(hex(fields[6]!), hex(RANGE.latestBlockHash))
  })

  it('encodes the fork id as the EIP-2124 RLP', () => {
    const s: StatusRange = { ...RANGE, forkId: { hash: fromHex('deadbeef'), next: 0xbaddcafen } }
    assert.ok(hex(encodeStatus(s)).includes('ca84deadbeef84baddcafe'))
  })

  it('picks the layout from the declared version (eth/66 still uses the old one)', () => {
    const s: Status = { ...LEGACY, version: 66 }
    assert.deepEqual(decodeStatus(encodeStatus(s)), s)
  })

  it('ignores extra list elements and trailing bytes (EIP-8 tolerance)', () => {
    const legacy = decodeRLP(encodeStatus(LEGACY)) as unknown[]
    assert.deepEqual(decodeStatus(encodeRLP([...legacy, uintBytes(7), [hash(1)]])), LEGACY)
    const range = decodeRLP(encodeStatus(RANGE)) as unknown[]
    const withExtra = encodeRLP([...range, hash(2)])
    assert.deepEqual(decodeStatus(withExtra), RANGE)
    // a fork id with an extra element too
    const forkExtended = [...range]
    forkExtended[3] = [RANGE.forkId.hash, uintBytes(RANGE.forkId.next), uintBytes(1)]
    assert.deepEqual(decodeStatus(encodeRLP(forkExtended)), RANGE)
    assert.deepEqual(decodeStatus(Buffer.concat([encodeStatus(RANGE), Buffer.from('c0', 'hex')])), RANGE)
  })

  it('accepts a total difficulty of 32 bytes, rejects 33', () => {
    const max: StatusLegacy = { ...LEGACY, td: (1n << 256n) - 1n }
    assert.deepEqual(decodeStatus(encodeStatus(max)), max)
    const fields = decodeRLP(encodeStatus(LEGACY)) as unknown[]
    fields[2] = Uint8Array.of(1, ...new Uint8Array(32))
    assert.throws(() => decodeStatus(encodeRLP(fields)), isEthError('BAD_STATUS'))
    assert.throws(() => encodeStatus({ ...LEGACY, td: 1n << 256n }), isEthError('INVALID_FIELD'))
  })

  it('rejects malformed messages with a typed error', () => {
    const range = decodeRLP(encodeStatus(RANGE)) as unknown[]
    const mutate = (i: number, v: unknown): Uint8Array => {
      const l = [...range]
      l[i] = v
      return encodeRLP(l)
    }
    assert.throws(() => decodeStatus(new Uint8Array(0)), isEthError('BAD_RLP'))
    assert.throws(() => decodeStatus(fromHex('f8ff')), isEthError('BAD_RLP')) // truncated
    assert.throws(() => decodeStatus(encodeRLP(hash(1))), isEthError('BAD_RLP')) // not a list
    assert.throws(() => decodeStatus(encodeRLP(range.slice(0, 6))), isEthError('BAD_STATUS')) // missing latest hash
    assert.throws(() => decodeStatus(mutate(2, hash(1).subarray(1))), isEthError('BAD_STATUS')) // 31-byte genesis
    assert.throws(() => decodeStatus(mutate(3, [fromHex('0102'), new Uint8Array(0)])), isEthError('BAD_STATUS')) // 2-byte fork hash
    assert.throws(() => decodeStatus(mutate(3, fromHex('01020304'))), isEthError('BAD_STATUS')) // fork id not a list
    assert.throws(() => decodeStatus(mutate(4, fromHex('00ff'))), isEthError('BAD_STATUS')) // non-canonical integer
    assert.throws(() => decodeStatus(mutate(5, new Uint8Array(9).fill(1))), isEthError('BAD_STATUS')) // > uint64
    assert.throws(() => decodeStatus(mutate(1, [])), isEthError('BAD_STATUS')) // network id is a list
    assert.throws(() => decodeStatus(mutate(0, new Uint8Array(5).fill(1))), isEthError('BAD_STATUS')) // > uint32 version
    assert.throws(() => decodeStatus(mutate(0, uintBytes(63))), isEthError('UNSUPPORTED_VERSION'))
  })

  it('refuses to encode fields a peer would reject', () => {
    assert.throws(() => encodeStatus({ ...RANGE, genesis: hash(1).subarray(1) }), isEthError('INVALID_FIELD'))
    assert.throws(() => encodeStatus({ ...RANGE, version: 68 }), isEthError('INVALID_FIELD'))
    assert.throws(() => encodeStatus({ ...LEGACY, version: 69 }), isEthError('INVALID_FIELD'))
    assert.throws(() => encodeStatus({ ...RANGE, forkId: { hash: hash(1).subarray(0, 3), next: 0n } }), isEthError('INVALID_FIELD'))
    assert.throws(() => encodeStatus({ ...RANGE, latestBlock: 1n << 64n }), isEthError('INVALID_FIELD'))
  })

  it('decodes random bytes to a Status or an EthError, never anything else', () => {
    const decodeOrError = (data: Uint8Array): void => {
      try {
        decodeStatus(data)
      } catch (err) {
        assert.ok(err instanceof EthError, `unexpected ${String(err)}`)
      }
    }
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), decodeOrError), { numRuns: 2000 })
    // random bytes rarely form a list: also mutate valid encodings
    const valid = [encodeStatus(LEGACY), encodeStatus(RANGE)]
    fc.assert(
      fc.property(fc.constantFrom(...valid), fc.nat(), fc.integer({ min: 0, max: 255 }), (enc, at, byte) => {
        const data = Uint8Array.from(enc)
        data[at % data.length] = byte
        decodeOrError(data)
      }),
      { numRuns: 2000 },
    )
  })
})

describe('eth message codes and empty replies', () => {
  it('has the spec message codes and capability lengths', () => {
    assert.equal(EthMsg.Status, 0x00)
    assert.equal(EthMsg.GetBlockHeaders, 0x03)
    assert.equal(EthMsg.GetReceipts, 0x0f)
    assert.equal(EthMsg.BlockRangeUpdate, 0x11)
    assert.equal(ETH_PROTOCOL_LENGTHS[68], 17)
    assert.equal(ETH_PROTOCOL_LENGTHS[69], 18)
  })

  const request = (id: bigint, ...rest: unknown[]): Uint8Array => encodeRLP([uintBytes(id), ...rest])

  it('answers each request kind with an empty reply echoing the request id', () => {
    const cases: [number, Uint8Array, number][] = [
      [EthMsg.GetBlockHeaders, request(42n, [uintBytes(1000n), uintBytes(1n), new Uint8Array(0), new Uint8Array(0)]), EthMsg.BlockHeaders],
      [EthMsg.GetBlockBodies, request(0n, [hash(1)]), EthMsg.BlockBodies],
      [EthMsg.GetPooledTransactions, request(0xffffffffffffffffn, [hash(2), hash(3)]), EthMsg.PooledTransactions],
      [EthMsg.GetReceipts, request(7n, [hash(4)]), EthMsg.Receipts],
    ]
    for (const [code, payload, replyCode] of cases) {
      const reply = emptyReply(code, payload, 69)
      assert.ok(reply)
      assert.equal(reply.code, replyCode)
      const [id, list] = decodeRLP(reply.payload) as [Uint8Array, unknown[]]
      assert.deepEqual(id, (decodeRLP(payload) as Uint8Array[])[0])
      assert.deepEqual(list, [])
    }
    assert.equal(hex(emptyReply(EthMsg.GetBlockHeaders, request(42n, []), 68)!.payload), 'c22ac0')
  })

  it('adds the lastBlockIncomplete flag to Receipts from eth/70 on', () => {
    const reply = emptyReply(EthMsg.GetReceipts, request(7n, uintBytes(0n), [hash(4)]), 70)
    assert.equal(hex(reply!.payload), 'c30780c0')
    assert.equal(emptyReply(EthMsg.GetBlockAccessLists, request(9n, [hash(5)]), 71)?.code, EthMsg.BlockAccessLists)
  })

  it('does not answer announcements, replies or Status', () => {
    for (const code of [EthMsg.Status, EthMsg.NewBlockHashes, EthMsg.Transactions, EthMsg.BlockHeaders, EthMsg.NewPooledTransactionHashes, EthMsg.BlockRangeUpdate, EthMsg.GetCells, 0x42]) {
      assert.equal(emptyReply(code, request(1n, []), 72), undefined)
    }
  })

  it('rejects a request without a usable request id', () => {
    assert.throws(() => emptyReply(EthMsg.GetBlockHeaders, fromHex('ff'), 69), isEthError('BAD_RLP'))
    assert.throws(() => emptyReply(EthMsg.GetBlockHeaders, encodeRLP(hash(1)), 69), isEthError('BAD_RLP'))
    assert.throws(() => emptyReply(EthMsg.GetBlockHeaders, encodeRLP([[], []]), 69), isEthError('BAD_REQUEST'))
    assert.throws(() => emptyReply(EthMsg.GetBlockBodies, encodeRLP([]), 69), isEthError('BAD_REQUEST'))
    assert.throws(() => emptyReply(EthMsg.GetReceipts, encodeRLP([new Uint8Array(9).fill(1), []]), 69), isEthError('BAD_REQUEST'))
  })
})
