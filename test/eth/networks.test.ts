import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { forkHashes, forkId } from '../../src/eth/forkid.js'
import { classifyNetwork, HOLESKY, HOODI, MAINNET, matchForkHash, NETWORKS, SEPOLIA } from '../../src/eth/networks.js'
import { fromHex, hex } from '../../src/crypto/bytes.js'

describe('known networks', () => {
  it('carries the network ids and genesis hashes geth uses', () => {
    assert.deepEqual(
      Object.values(NETWORKS).map((c) => [c.name, c.networkId, hex(c.genesisHash)]),
      [
        ['mainnet', 1n, 'd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3'],
        ['sepolia', 11155111n, '25a5cc106eea7138acab33231d7160d69cb777ee0c2c553fcddf5138993e6dd9'],
        ['holesky', 17000n, 'b5f7f912443c940f21fd611f12828d75b534364ed9e95ca4e307729a4661bde4'],
        ['hoodi', 560048n, 'bbe312868b376a3001692a646dd2d7d1e4406380dfd86b98aa8a34d1557c971b'],
      ],
    )
  })

  it('has no fork hash shared between two networks', () => {
    const all = Object.values(NETWORKS).flatMap((c) => forkHashes(c).map(hex))
    assert.equal(new Set(all).size, all.length)
  })
})

describe('matchForkHash', () => {
  it('names the network and fork state of a hash, with the FORK_NEXT an up-to-date node sends', () => {
    assert.deepEqual(matchForkHash(fromHex('fc64ec04')), { network: 'mainnet', fork: 'genesis', next: 1_150_000n })
    assert.deepEqual(matchForkHash(fromHex('668db0af')), { network: 'mainnet', fork: 'Constantinople+Petersburg', next: 9_069_000n })
    assert.deepEqual(matchForkHash(fromHex('07c9462e')), { network: 'mainnet', fork: 'BPO2', next: 0n })
    assert.deepEqual(matchForkHash(fromHex('b96cbd13')), { network: 'sepolia', fork: 'Merge Netsplit', next: 1677557088n })
    assert.deepEqual(matchForkHash(fromHex('9bc6cb31')), { network: 'holesky', fork: 'BPO2', next: 0n })
    assert.deepEqual(matchForkHash(fromHex('0929e24e')), { network: 'hoodi', fork: 'Prague', next: 1761677592n })
  })

  it('knows the genesis state of chains that start with rulesets enabled', () => {
    assert.equal(matchForkHash(fromHex('bef71d30'))?.fork, 'genesis') // hoodi: Shanghai and Cancun at genesis
    assert.equal(matchForkHash(fromHex('c61a6098'))?.network, 'holesky')
  })

  it('returns undefined for unknown or malformed hashes', () => {
    assert.equal(matchForkHash(fromHex('12345678')), undefined)
    assert.equal(matchForkHash(fromHex('fc64ec')), undefined)
    assert.equal(matchForkHash(new Uint8Array(0)), undefined)
  })
})

describe('classifyNetwork', () => {
  const now = { number: 23_000_000, time: 1_800_000_000 }

  it('classifies each network from its current fork id', () => {
    for (const chain of [MAINNET, SEPOLIA, HOLESKY, HOODI]) {
      assert.equal(classifyNetwork(chain.networkId, forkId(chain, now)), chain.name)
      assert.equal(classifyNetwork(Number(chain.networkId), forkId(chain, now)), chain.name)
    }
  })

  it('classifies a stale or syncing node of a known network', () => {
    assert.equal(classifyNetwork(1n, forkId(MAINNET, { number: 4_000_000, time: 0 })), 'mainnet')
  })

  it('needs network id and fork hash to agree', () => {
    // Ethereum Classic uses network id 1 with mainnet's genesis but its own forks after the DAO
    assert.equal(classifyNetwork(1n, { hash: fromHex('be46d57c') }), 'unknown')
    assert.equal(classifyNetwork(17000n, forkId(MAINNET, now)), 'unknown')
    assert.equal(classifyNetwork(5n, { hash: fromHex('12345678') }), 'unknown')
  })
})
