/** The one token bucket the ingress limiters and the crawler's send rate meter with. */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { TokenBucket } from '../../src/util/token-bucket.js'

it('starts full, refills at its rate up to the burst, and takes one token at a time', () => {
  const b = new TokenBucket(10, 3, 0)
  assert.ok(b.take(0) && b.take(0) && b.take(0))
  assert.equal(b.take(0), false, 'the burst is spent')
  assert.equal(b.take(50), false, 'half a token after 50 ms at 10/s')
  assert.ok(b.take(100))
  assert.equal(b.available(10_000), 3, 'never more than the burst')
})

it('work spent beforehand is a debt paid before the next token, and untilNext says when', () => {
  const b = new TokenBucket(1000, 5, 0)
  b.spend(9)
  assert.equal(b.available(0), -4)
  assert.equal(b.untilNext(), 5)
  assert.equal(b.take(4), false)
  assert.ok(b.take(5))
})

it('a new rate applies from the moment it is set', () => {
  const b = new TokenBucket(1000, 100, 0)
  b.spend(100)
  b.available(10)
  b.rate = 100
  assert.equal(Math.round(b.available(110)), 20)
})
