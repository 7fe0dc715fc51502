import assert from 'node:assert/strict'
import { it } from 'node:test'
import { backend } from '../../src/crypto/backend.js'
import { logDistance } from '../../src/discover/kademlia.js'
import { TargetTable } from '../../src/crawler/targets.js'

it('logDistance follows geth: 0 for equal, 256 for a differing first bit', () => {
  const a = new Uint8Array(32)
  const b = new Uint8Array(32)
  assert.equal(logDistance(a, b), 0)
  b[31] = 1
  assert.equal(logDistance(a, b), 1)
  b[0] = 0x80
  assert.equal(logDistance(a, b), 256)
  b[0] = 0x01
  assert.equal(logDistance(a, b), 249)
})

it('target table: every 16-bit prefix filled; targets land at the asked log distance', () => {
  const t = TargetTable.build(backend, new Uint8Array(56).fill(3))
  for (const p of [0, 1, 0x1234, 0xfffe, 0xffff]) {
    const h = backend.keccak256(t.preimage(p))
    assert.equal((h[0]! << 8) | h[1]!, p)
  }
  for (let n = 0; n < 20; n++) {
    const id = backend.keccak256(Uint8Array.of(n))
    for (let d = 241; d <= 256; d++) assert.equal(logDistance(backend.keccak256(t.targetAt(id, d)), id), d, `d=${d}`)
    assert.ok(logDistance(backend.keccak256(t.targetAt(id, 200)), id) <= 240)
  }
})

it('target table: a preimage for any k-bit prefix, found lazily and reused', () => {
  const t = TargetTable.build(backend, new Uint8Array(56).fill(9))
  for (let k = 1; k <= 16; k += 3) {
    for (const v of [0, (1 << k) - 1, (0x5a5a >>> (16 - k)) & ((1 << k) - 1)]) {
      const pre = t.withPrefix(v, k)
      const h = backend.keccak256(pre)
      assert.equal(((h[0]! << 8) | h[1]!) >>> (16 - k), v, `k=${k} v=${v}`)
      assert.deepEqual(t.withPrefix(v, k), pre, 'the same preimage when asked again')
    }
  }
})
