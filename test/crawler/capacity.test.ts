/** The crawl's default rate follows where the crypto runs and what it costs (capacity.ts). */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { backend } from '../../src/crypto/backend.js'
import { capacityRate, cryptoCosts, cryptoThreads, defaultRate } from '../../src/crawler/capacity.js'

it('capacity: cheaper crypto and more threads never lower the rate; inline the event loop carries everything', () => {
  const costs = { signUs: 40, recoverUs: 45 }
  const inline = capacityRate(costs, 0, 'native')
  // one datagram out and 1.7 in, each with its event-loop cost, plus a signature and 1.7 recoveries
  assert.equal(inline, Math.floor(1e6 / (2.7 * 80 + 40 + 1.7 * 45)))
  let last = inline
  for (const threads of [1, 2, 4, 8]) {
    const r = capacityRate(costs, threads, 'native')
    assert.ok(r >= last, `${threads} threads: ${r} < ${last}`)
    last = r
  }
  // with the crypto off the event loop, the loop's own share binds at last
  assert.equal(capacityRate(costs, 64, 'native'), Math.floor(1e6 / (2.7 * 80)))
  // wasm and js sign on the event loop even with threads
  assert.ok(capacityRate(costs, 4, 'js') < capacityRate(costs, 4, 'native'))
  assert.ok(capacityRate({ signUs: 400, recoverUs: 450 }, 0, 'native') < inline)
  // bounded both ways
  assert.equal(capacityRate({ signUs: 0, recoverUs: 0 }, 64, 'native') <= 20_000, true)
  assert.equal(capacityRate({ signUs: 1e9, recoverUs: 1e9 }, 0, 'js'), 1)
})

it(`capacity: the costs are measured on the backend (${backend.name}) and give a positive default`, () => {
  const c = cryptoCosts(backend, 1, 2)
  assert.ok(c.signUs > 0 && c.recoverUs > 0)
  const r = defaultRate(backend, 2)
  assert.ok(Number.isInteger(r) && r >= 1 && r <= 20_000)
  assert.equal(defaultRate(backend, 2), r, 'measured once per backend')
})

it('--workers: 1 keeps the crypto on the event loop, N puts it on N threads', () => {
  assert.equal(cryptoThreads(1), 0)
  assert.equal(cryptoThreads(3), 3)
  assert.ok(cryptoThreads() === 0 || cryptoThreads() >= 2)
})
