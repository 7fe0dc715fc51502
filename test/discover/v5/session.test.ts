/** The bounded two-generation map behind discv5's sessions, challenges and record caches. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { LRU } from '../../../src/discover/v5/session.js'

describe('LRU (two generations)', () => {
  it('always holds the `keep` most recently used, and never more than twice as many', () => {
    const m = new LRU<number, number>(5)
    for (let i = 0; i < 1000; i++) {
      m.set(i, i * 2)
      // touch a recent key now and then, as hits do
      if (i % 7 === 0 && i >= 3) assert.equal(m.get(i - 3), (i - 3) * 2)
      assert.ok(m.size <= 10, `size ${m.size} after ${i}`)
      for (let k = Math.max(0, i - 4); k <= i; k++) assert.equal(m.peek(k), k * 2, `key ${k} kept after ${i}`)
    }
  })

  it('a hit in the older generation keeps the entry through the next turnover; peek does not', () => {
    const m = new LRU<string, number>(2)
    m.set('a', 1)
    m.set('b', 2) // current generation full: a, b
    m.set('c', 3) // a, b become the previous one
    assert.equal(m.get('a'), 1) // back into the current one, with c
    m.set('d', 4) // current (c, a) turns over: b is forgotten
    m.set('e', 5)
    assert.equal(m.peek('b'), undefined)
    assert.equal(m.peek('a'), 1)
    assert.equal(m.peek('c'), 3)
    assert.equal(m.peek('d'), 4)
    // peek left a in the older generation: this turnover forgets it
    m.set('f', 6)
    m.set('g', 7)
    assert.equal(m.peek('a'), undefined)
  })

  it('set replaces a value in place, delete and clear forget', () => {
    const m = new LRU<string, number>(2)
    m.set('a', 1)
    m.set('a', 2)
    assert.equal(m.size, 1)
    assert.equal(m.get('a'), 2)
    m.set('b', 3)
    m.set('c', 4) // a, b in the previous generation
    m.set('a', 5) // moves a into the current one, without a copy left behind
    assert.equal(m.size, 3)
    assert.equal(m.delete('a'), true)
    assert.equal(m.delete('a'), false)
    assert.equal(m.peek('a'), undefined)
    m.clear()
    assert.equal(m.size, 0)
    assert.equal(m.peek('b'), undefined)
  })
})
