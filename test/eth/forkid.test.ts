import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { crc32 } from 'node:zlib'
import { forkHashes, forkId, gatherForks, validateForkId, type ChainSpec, type ForkId, type ForkIdCheck } from '../../src/eth/forkid.js'
import { HOLESKY, HOODI, MAINNET, SEPOLIA } from '../../src/eth/networks.js'
import { hex } from '../../src/crypto/bytes.js'
import { encodeRLP, uintBytes } from '../../src/util/rlp.js'

const U64_MAX = (1n << 64n) - 1n
const h32 = (v: number): Uint8Array => Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff)
/** the checksum after one more fork on top of `sum` (test cases announcing made-up forks) */
const extend = (sum: number, fork: bigint): number => {
  const b = Buffer.alloc(8)
  b.writeBigUInt64BE(fork)
  return crc32(b, sum)
}

/** [head block, head time, FORK_HASH, FORK_NEXT] */
type Case = [number, number, number, bigint]

function checkCreation(chain: ChainSpec, cases: Case[]): void {
  for (const [number, time, hash, next] of cases) {
    const id = forkId(chain, { number, time })
    assert.deepEqual({ hash: hex(id.hash), next: id.next }, { hash: hex(h32(hash)), next }, `${chain.name} head ${number} time ${time}`)
  }
}

/** mainnet as the EIP knew it: every block fork up to Petersburg, nothing after */
const PETERSBURG_MAINNET: ChainSpec = { ...MAINNET, forks: MAINNET.forks.filter((f) => f.block !== undefined && f.block <= 7_280_000n) }
/** mainnet with its timestamp forks removed (geth's "legacy" validation config) */
const BLOCK_MAINNET: ChainSpec = { ...MAINNET, forks: MAINNET.forks.filter((f) => f.block !== undefined) }

describe('fork id creation: EIP-2124 table (mainnet up to Petersburg)', () => {
  it('matches every case', () => {
    checkCreation(PETERSBURG_MAINNET, [
      [0, 0, 0xfc64ec04, 1150000n], // unsynced
      [1149999, 0, 0xfc64ec04, 1150000n], // last Frontier block
      [1150000, 0, 0x97c2c34c, 1920000n], // first Homestead block
      [1919999, 0, 0x97c2c34c, 1920000n],
      [1920000, 0, 0x91d1f948, 2463000n], // first DAO block
      [2462999, 0, 0x91d1f948, 2463000n],
      [2463000, 0, 0x7a64da13, 2675000n], // first Tangerine block
      [2674999, 0, 0x7a64da13, 2675000n],
      [2675000, 0, 0x3edd5b10, 4370000n], // first Spurious block
      [4369999, 0, 0x3edd5b10, 4370000n],
      [4370000, 0, 0xa00bc324, 7280000n], // first Byzantium block
      [7279999, 0, 0xa00bc324, 7280000n],
      [7280000, 0, 0x668db0af, 0n], // first Constantinople and Petersburg block
      [7987396, 0, 0x668db0af, 0n], // "today" in the EIP
    ])
  })

  it('gives the EIP forkhash examples as CRC32 of genesis ‖ uint64 forks', () => {
    const g = MAINNET.genesisHash
    assert.equal(crc32(g), 0xfc64ec04)
    assert.equal(crc32(Buffer.concat([g, Buffer.from('0000000000118c30', 'hex')])), 0x97c2c34c)
    assert.equal(crc32(Buffer.concat([g, Buffer.from('0000000000118c30', 'hex'), Buffer.from('00000000001d4c00', 'hex')])), 0x91d1f948)
  })
})

describe('fork id creation: geth core/forkid cases', () => {
  it('mainnet', () => {
    checkCreation(MAINNET, [
      [0, 0, 0xfc64ec04, 1150000n],
      [1149999, 0, 0xfc64ec04, 1150000n],
      [1150000, 0, 0x97c2c34c, 1920000n],
      [1919999, 0, 0x97c2c34c, 1920000n],
      [1920000, 0, 0x91d1f948, 2463000n],
      [2462999, 0, 0x91d1f948, 2463000n],
      [2463000, 0, 0x7a64da13, 2675000n],
      [2674999, 0, 0x7a64da13, 2675000n],
      [2675000, 0, 0x3edd5b10, 4370000n],
      [4369999, 0, 0x3edd5b10, 4370000n],
      [4370000, 0, 0xa00bc324, 7280000n],
      [7279999, 0, 0xa00bc324, 7280000n],
      [7280000, 0, 0x668db0af, 9069000n],
      [9068999, 0, 0x668db0af, 9069000n],
      [9069000, 0, 0x879d6e30, 9200000n],
      [9199999, 0, 0x879d6e30, 9200000n],
      [9200000, 0, 0xe029e991, 12244000n],
      [12243999, 0, 0xe029e991, 12244000n],
      [12244000, 0, 0x0eb440f6, 12965000n],
      [12964999, 0, 0x0eb440f6, 12965000n],
      [12965000, 0, 0xb715077d, 13773000n],
      [13772999, 0, 0xb715077d, 13773000n],
      [13773000, 0, 0x20c327fc, 15050000n],
      [15049999, 0, 0x20c327fc, 15050000n],
      [15050000, 0, 0xf0afd0e3, 1681338455n],
      [20000000, 1681338454, 0xf0afd0e3, 1681338455n],
      [20000000, 1681338455, 0xdce96c2d, 1710338135n], // Shanghai
      [30000000, 1710338134, 0xdce96c2d, 1710338135n],
      [30000000, 1710338135, 0x9f3d2254, 1746612311n], // Cancun
      [30000000, 1746022486, 0x9f3d2254, 1746612311n],
      [30000000, 1746612311, 0xc376cf8b, 1764798551n], // Prague
      [30000000, 1764798550, 0xc376cf8b, 1764798551n],
      [30000000, 1764798551, 0x5167e2a6, 1765290071n], // Osaka
      [30000000, 1765290070, 0x5167e2a6, 1765290071n],
      [30000000, 1765290071, 0xcba2a1c0, 1767747671n], // BPO1
      [30000000, 1767747670, 0xcba2a1c0, 1767747671n],
      [30000000, 1767747671, 0x07c9462e, 0n], // BPO2
      [50000000, 2000000000, 0x07c9462e, 0n],
    ])
  })

  it('sepolia', () => {
    checkCreation(SEPOLIA, [
      [0, 0, 0xfe3366e7, 1735371n],
      [1735370, 0, 0xfe3366e7, 1735371n],
      [1735371, 0, 0xb96cbd13, 1677557088n], // Merge Netsplit
      [1735372, 1677557087, 0xb96cbd13, 1677557088n],
      [1735372, 1677557088, 0xf7f9bc08, 1706655072n], // Shanghai
      [1735372, 1706655071, 0xf7f9bc08, 1706655072n],
      [1735372, 1706655072, 0x88cf81d9, 1741159776n], // Cancun
      [1735372, 1741159775, 0x88cf81d9, 1741159776n],
      [1735372, 1741159776, 0xed88b5fd, 1760427360n], // Prague
      [1735372, 1760427359, 0xed88b5fd, 1760427360n],
      [1735372, 1760427360, 0xe2ae4999, 1761017184n], // Osaka
      [1735372, 1761017183, 0xe2ae4999, 1761017184n],
      [1735372, 1761017184, 0x56078a1e, 1761607008n], // BPO1
      [1735372, 1761607007, 0x56078a1e, 1761607008n],
      [1735372, 1761607008, 0x268956b6, 0n], // BPO2
      [1735372, 2000000000, 0x268956b6, 0n],
    ])
  })

  it('holesky', () => {
    checkCreation(HOLESKY, [
      [0, 0, 0xc61a6098, 1696000704n],
      [123, 0, 0xc61a6098, 1696000704n],
      [123, 1696000704, 0xfd4f016b, 1707305664n], // Shanghai
      [123, 1707305663, 0xfd4f016b, 1707305664n],
      [123, 1707305664, 0x9b192ad0, 1740434112n], // Cancun
      [123, 1740434111, 0x9b192ad0, 1740434112n],
      [123, 1740434112, 0xdfbd9bed, 1759308480n], // Prague
      [123, 1759308479, 0xdfbd9bed, 1759308480n],
      [123, 1759308480, 0x783def52, 1759800000n], // Osaka
      [123, 1759799999, 0x783def52, 1759800000n],
      [123, 1759800000, 0xa280a45c, 1760389824n], // BPO1
      [123, 1760389823, 0xa280a45c, 1760389824n],
      [123, 1760389824, 0x9bc6cb31, 0n], // BPO2
      [123, 2000000000, 0x9bc6cb31, 0n],
    ])
  })

  it('hoodi', () => {
    checkCreation(HOODI, [
      [0, 0, 0xbef71d30, 1742999832n],
      [123, 1742999831, 0xbef71d30, 1742999832n],
      [123, 1742999832, 0x0929e24e, 1761677592n], // Prague
      [123, 1761677591, 0x0929e24e, 1761677592n],
      [123, 1761677592, 0xe7e0e7ff, 1762365720n], // Osaka
      [123, 1762365719, 0xe7e0e7ff, 1762365720n],
      [123, 1762365720, 0x3893353e, 1762955544n], // BPO1
      [123, 1762955543, 0x3893353e, 1762955544n],
      [123, 1762955544, 0x23aa1351, 0n], // BPO2
      [123, 2000000000, 0x23aa1351, 0n],
    ])
  })
})

describe('fork gathering', () => {
  const chain = (genesisTime: bigint, forks: ChainSpec['forks']): ChainSpec => ({ name: 't', networkId: 1337n, genesisHash: new Uint8Array(32), genesisTime, forks })

  it('dedupes forks at the same block, skips block 0, sorts', () => {
    const c = chain(0n, [
      { name: 'a', block: 0n },
      { name: 'c', block: 20n },
      { name: 'b', block: 10n },
      { name: 'b2', block: 10n },
    ])
    assert.deepEqual(gatherForks(c), { byBlock: [10n, 20n], byTime: [] })
    assert.equal(forkHashes(c).length, 3)
  })

  it('skips timestamp forks at or before genesis time (geth TestTimeBasedForkInGenesis)', () => {
    const t = 1690475657n
    // Shanghai before, at and after genesis time; the next fork is always the first one after it
    for (const [shanghai, cancun] of [[t - 1n, t + 1n], [t, t + 1n], [t + 1n, t + 2n]] as const) {
      const c = chain(t, [
        { name: 'Shanghai', time: shanghai },
        { name: 'Cancun', time: cancun },
      ])
      const id = forkId(c, { number: 0, time: t })
      assert.equal(hex(id.hash), hex(h32(crc32(c.genesisHash))))
      assert.equal(id.next, t + 1n)
    }
  })
})

describe('fork id validation', () => {
  const OK: ForkIdCheck = { ok: true }
  const LOCAL: ForkIdCheck = { ok: false, reason: 'LOCAL_INCOMPATIBLE_OR_STALE' }
  const REMOTE: ForkIdCheck = { ok: false, reason: 'REMOTE_STALE' }
  type VCase = [number, number, number, bigint, ForkIdCheck]
  const check = (chain: ChainSpec, cases: VCase[]): void => {
    for (const [number, time, hash, next, want] of cases) {
      const remote: ForkId = { hash: h32(hash), next }
      assert.deepEqual(validateForkId(chain, { number, time }, remote), want, `head ${number}/${time} remote ${hash.toString(16)}/${next}`)
    }
  }

  it('EIP-2124 cases (local mainnet at Petersburg)', () => {
    check(PETERSBURG_MAINNET, [
      [7987396, 0, 0x668db0af, 0n, OK], // same, no future fork
      [7987396, 0, 0x668db0af, U64_MAX, OK], // same, uncertain future fork
      [7279999, 0, 0xa00bc324, 0n, OK], // Byzantium both, remote unaware of Petersburg
      [7279999, 0, 0xa00bc324, 7280000n, OK], // both aware of Petersburg
      [7279999, 0, 0xa00bc324, U64_MAX, OK], // remote knows a random future fork
      [7987396, 0, 0xa00bc324, 7280000n, OK], // remote out of sync
      [7987396, 0, 0x3edd5b10, 4370000n, OK], // remote further out of sync
      [7279999, 0, 0x668db0af, 0n, OK], // local out of sync
      [4369999, 0, 0xa00bc324, 0n, OK], // local out of sync, knows more future forks
      [7987396, 0, 0xa00bc324, 0n, REMOTE], // remote needs an update
      [7987396, 0, 0x5cddc0e1, 0n, LOCAL], // local needs an update
      [7279999, 0, 0x5cddc0e1, 0n, LOCAL],
      [7987396, 0, 0xafec6b27, 0n, LOCAL], // Rinkeby Petersburg
      [88888888, 0, 0x668db0af, 88888888n, LOCAL], // remote fork passed locally
      [7279999, 0, 0xa00bc324, 7279999n, LOCAL], // remote fork before our next one
    ])
  })

  it('geth cases: block based (mainnet without timestamp forks)', () => {
    check(BLOCK_MAINNET, [
      [15050000, 0, 0xf0afd0e3, 0n, OK],
      [15050000, 0, 0xf0afd0e3, U64_MAX, OK],
      [7279999, 0, 0xa00bc324, 0n, OK],
      [7279999, 0, 0xa00bc324, 7280000n, OK],
      [7279999, 0, 0xa00bc324, U64_MAX, OK],
      [7280000, 0, 0xa00bc324, 7280000n, OK],
      [7987396, 0, 0xa00bc324, 7280000n, OK],
      [7987396, 0, 0x3edd5b10, 4370000n, OK],
      [7279999, 0, 0x668db0af, 0n, OK],
      [4369999, 0, 0xa00bc324, 0n, OK],
      [7987396, 0, 0xa00bc324, 0n, REMOTE],
      [7987396, 0, 0x5cddc0e1, 0n, LOCAL],
      [7279999, 0, 0x5cddc0e1, 0n, LOCAL],
      [7987396, 0, 0xafec6b27, 0n, LOCAL],
      [88888888, 0, 0xf0afd0e3, 88888888n, LOCAL],
      [7279999, 0, 0xa00bc324, 7279999n, LOCAL],
    ])
  })

  it('geth cases: block to timestamp transition', () => {
    check(MAINNET, [
      [15050000, 0, 0xf0afd0e3, 0n, OK],
      [15050000, 0, 0xf0afd0e3, 1681338455n, OK],
      [15050000, 0, 0xf0afd0e3, U64_MAX, OK],
      [20000000, 1681338455, 0xf0afd0e3, 1681338455n, OK],
      [20123456, 1681338456, 0xf0afd0e3, 1681338455n, OK],
      [20000000, 1681338455, 0x20c327fc, 15050000n, OK],
      [15050000, 0, 0xdce96c2d, 0n, OK],
      [13773000, 0, 0xf0afd0e3, 0n, OK],
      [20000000, 1681338455, 0xf0afd0e3, 0n, REMOTE],
      [15050000, 0, extend(0xf0afd0e3, U64_MAX), 0n, LOCAL],
      [15050000, 0, extend(0xdce96c2d, U64_MAX), 0n, LOCAL],
      [888888888, 1660000000, 0xf0afd0e3, 1660000000n, LOCAL],
      [19999999, 1667999999, 0xf0afd0e3, 1667999999n, LOCAL],
    ])
  })

  it('geth cases: timestamp based', () => {
    check(MAINNET, [
      [20000000, 1681338455, 0xdce96c2d, 0n, OK],
      [20000000, 1681338455, 0xdce96c2d, U64_MAX, OK],
      [20000000, 1668000000, 0xdce96c2d, 0n, OK],
      [20000000, 1668000000, 0xdce96c2d, 1710338135n, OK],
      [20000000, 1668000000, 0xdce96c2d, U64_MAX, OK],
      [21000000, 1710338135, 0xdce96c2d, 1710338135n, OK],
      [21123456, 1710338136, 0xdce96c2d, 1710338135n, OK],
      [0, 0, 0x3edd5b10, 1710338135n, OK],
      [21000000, 1700000000, 0x9f3d2254, 0n, OK],
      [21000000, 1678000000, 0xc376cf8b, 0n, OK],
      [21000000, 1710338135, 0xdce96c2d, 0n, REMOTE],
      [20000000, 1681338455, extend(0xdce96c2d, U64_MAX), 0n, LOCAL],
      [20000000, 1668000000, extend(0x9f3d2254, U64_MAX), 0n, LOCAL],
      [20000000, 1681338455, 0x12345678, 0n, LOCAL],
      [88888888, 8888888888, 0x07c9462e, 8888888888n, LOCAL],
      [20999999, 1699999999, 0x71147644, 1700000000n, LOCAL],
    ])
  })

  it('accepts the id a node on the same chain computes, at any of its fork states', () => {
    for (const chain of [MAINNET, SEPOLIA, HOLESKY, HOODI]) {
      const { byBlock, byTime } = gatherForks(chain)
      const heads = [{ number: 0, time: 0 }, ...byBlock.map((b) => ({ number: b, time: 0n })), ...byTime.map((t) => ({ number: 30_000_000, time: t }))]
      for (const head of heads) assert.deepEqual(validateForkId(chain, head, forkId(chain, head)), OK, `${chain.name} ${head.number}/${head.time}`)
    }
  })

  it('rejects another network outright', () => {
    const now = { number: 30_000_000, time: 2_000_000_000 }
    assert.deepEqual(validateForkId(MAINNET, now, forkId(SEPOLIA, now)), LOCAL)
    assert.deepEqual(validateForkId(HOODI, now, forkId(HOLESKY, now)), LOCAL)
  })
})

describe('fork id RLP (EIP-2124 encoding cases)', () => {
  const enc = (id: ForkId): string => hex(encodeRLP([id.hash, uintBytes(id.next)]))
  it('encodes the hash as 4 bytes and next as a minimal integer', () => {
    assert.equal(enc({ hash: h32(0), next: 0n }), 'c6840000000080')
    assert.equal(enc({ hash: h32(0xdeadbeef), next: 0xbaddcafen }), 'ca84deadbeef84baddcafe')
    assert.equal(enc({ hash: h32(0xffffffff), next: U64_MAX }), 'ce84ffffffff88ffffffffffffffff')
  })
})
