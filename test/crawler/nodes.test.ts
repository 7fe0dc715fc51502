/**
 * The crawler's packed node set: every row found again by its ID and by its public key, across the
 * growths and rehashes of both indexes; an unknown key finds nothing.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { backend, randomPrivateKey } from '../../src/crypto/backend.js'
import { CrawlNodes, Origin } from '../../src/crawler/nodes.js'

describe('CrawlNodes', () => {
  it('finds each node by ID and by public key, however it grew; an unknown key is -1', () => {
    const set = new CrawlNodes(16)
    const keys: Uint8Array[] = []
    for (let k = 0; k < 300; k++) {
      const pub = backend.publicKey(randomPrivateKey())
      assert.equal(set.findByPubkey(pub), -1)
      const i = set.add(pub, backend.keccak256(pub), `10.0.${k >> 8}.${k & 255}`, 30303, 30303, Origin.heard, 0)
      assert.equal(i, k)
      keys.push(pub)
    }
    keys.forEach((pub, k) => {
      assert.equal(set.findByPubkey(pub), k)
      assert.equal(set.find(backend.keccak256(pub)), k)
      assert.deepEqual(set.nodeId(k), backend.keccak256(pub))
    })
    // one byte off: another key
    const other = keys[7]!.slice()
    other[63]! ^= 1
    assert.equal(set.findByPubkey(other), -1)
  })
})
