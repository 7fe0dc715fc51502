/**
 * PendingRequests, the request bookkeeping both discovery transports share: the cap, the timer and
 * its extension, abort, and a settlement that happens once and clears everything.
 */
import assert from 'node:assert/strict'
import { getEventListeners } from 'node:events'
import { describe, it } from 'node:test'
import { DiscoveryError, PendingRequests, type PendingRequest } from '../../src/discover/common.js'

const code = (err: unknown): string | undefined => (err instanceof DiscoveryError ? err.code : undefined)

describe('PendingRequests', () => {
  it('caps the requests pending at once, counts them, and counts each one out once however it settles', async () => {
    const p = new PendingRequests(2, 'test')
    let settles = 0
    const reqs: PendingRequest<number>[] = []
    const start = (): Promise<number> => p.start<number>({ closed: false, timeoutMs: 60_000, onTimeout: () => assert.fail('no timeout'), onSettle: () => settles++ }, (r) => reqs.push(r))
    const a = start()
    const b = start()
    assert.equal(p.size, 2)
    await assert.rejects(start(), (e) => code(e) === 'TOO_MANY_PENDING')
    reqs[0]!.resolve(7)
    reqs[0]!.reject(new Error('late'))
    reqs[0]!.extend(1)
    assert.equal(await a, 7)
    reqs[1]!.reject(new Error('no'))
    reqs[1]!.resolve(8)
    await assert.rejects(b, /no/)
    assert.equal(p.size, 0)
    assert.equal(settles, 2)
    await assert.rejects(p.start<number>({ closed: true, timeoutMs: 1, onTimeout: () => undefined }, () => assert.fail('not registered')), (e) => code(e) === 'CLOSED')
  })

  it('the clock: onTimeout settles, extend restarts it, a settled request keeps no timer', async () => {
    const p = new PendingRequests(8, 'test')
    const t0 = performance.now()
    let fired = 0
    const v = await p.start<string>(
      {
        closed: false,
        timeoutMs: 30,
        onTimeout: (req) => {
          fired++
          req.resolve('partial')
        },
      },
      (req) => setTimeout(() => req.extend(120), 10),
    )
    assert.equal(v, 'partial')
    assert.equal(fired, 1)
    // extended at ~10 ms by 120 ms: not before ~130 ms
    assert.ok(performance.now() - t0 >= 125, `${performance.now() - t0} ms`)
    assert.equal(p.size, 0)
  })

  it('an abort rejects with the signal’s reason (CLOSED when it is no Error) and leaves no listener', async () => {
    const p = new PendingRequests(8, 'test')
    const ac = new AbortController()
    const why = new Error('stop')
    const r = p.start<number>({ closed: false, signal: ac.signal, timeoutMs: 60_000, onTimeout: () => assert.fail('no timeout') }, () => undefined)
    ac.abort(why)
    await assert.rejects(r, (e) => e === why)
    const ac2 = new AbortController()
    let req: PendingRequest<number> | undefined
    const r2 = p.start<number>({ closed: false, signal: ac2.signal, timeoutMs: 60_000, onTimeout: () => undefined }, (q) => (req = q))
    assert.equal(getEventListeners(ac2.signal, 'abort').length, 1)
    req!.resolve(1)
    assert.equal(await r2, 1)
    assert.equal(getEventListeners(ac2.signal, 'abort').length, 0)
    // settled first: a later abort changes nothing
    ac2.abort('string reason')
    const ac3 = new AbortController()
    const r3 = p.start<number>({ closed: false, signal: ac3.signal, timeoutMs: 60_000, onTimeout: () => undefined }, () => undefined)
    ac3.abort('string reason')
    await assert.rejects(r3, (e) => code(e) === 'CLOSED')
    assert.throws(() => p.start<number>({ closed: false, signal: ac3.signal, timeoutMs: 1, onTimeout: () => undefined }, () => undefined))
    assert.equal(p.size, 0)
  })
})
