/** Where a discv4 endpoint's datagrams are signed: gathered batches, each sealed in one call. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { backend, randomPrivateKey } from '../../src/crypto/backend.js'
import type { CryptoBackend } from '../../src/crypto/types.js'
import { DatagramCrypto } from '../../src/discover/datagram-crypto.js'
import { SIGN_GATHER_BELOW } from '../../src/discover/udp-options.js'
import { encodeUnsealed, expiration, PacketType } from '../../src/discover/wire.js'
import { until } from './fakenet.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** the active backend, counting its batch calls */
function counting(): { b: CryptoBackend; batches: number[] } {
  const batches: number[] = []
  const b: CryptoBackend = { ...backend, sealPackets: (ds, k, t) => (batches.push(ds.length), backend.sealPackets(ds, k, t)) }
  return { b, batches }
}

/** a batching endpoint on `b`: what it sent (datagram, destination, hash), the sizes of batches that
 * failed, and a switch to close it */
function endpoint(b: CryptoBackend) {
  const sent: { d: Uint8Array; to: number; hash: string }[] = []
  const key = randomPrivateKey()
  const failed: number[] = []
  let closed = false
  const c = new DatagramCrypto<string, number>(b, key, { batchVerify: true, batchSign: true, threads: 2 }, {
    verified: () => {},
    sealed: (d, to) => sent.push({ d, to, hash: Buffer.from(d.subarray(0, 32)).toString('hex') }),
    sealFailed: (n) => failed.push(n),
    closed: () => closed,
  })
  return { c, sent, failed, key, close: () => (closed = true) }
}

const enrRequest = () => encodeUnsealed({ type: PacketType.ENRRequest, expiration: expiration() })

describe('DatagramCrypto, batched signing', () => {
  it(`sends ${SIGN_GATHER_BELOW} datagrams as one batch at once, and gathers fewer for a moment into one`, async () => {
    const { b, batches } = counting()
    const e = endpoint(b)
    const hashes: string[] = []
    for (let i = 0; i < SIGN_GATHER_BELOW + 5; i++) e.c.seal(enrRequest(), i, (h) => hashes.push(Buffer.from(h).toString('hex')))
    // the full batch went to the backend at once; the 5 after it wait for company
    assert.deepEqual(batches, [SIGN_GATHER_BELOW])
    await until(() => e.sent.length === SIGN_GATHER_BELOW + 5, 2000, 'every datagram sent')
    assert.deepEqual(batches, [SIGN_GATHER_BELOW, 5])
    // every datagram sent once, in order, each signed (its hash as onHash saw it, a valid packet)
    assert.deepEqual(e.sent.map((s) => s.to), Array.from({ length: SIGN_GATHER_BELOW + 5 }, (_, i) => i))
    assert.deepEqual(e.sent.map((s) => s.hash), hashes)
  })

  it('sends batches in the order they were sealed, when a later one is signed sooner', async () => {
    // the full batch takes 100 ms longer than the batch gathered after it
    let calls = 0
    const slowFirst: CryptoBackend = {
      ...backend,
      sealPackets: async (ds, k, t) => {
        if (calls++ === 0) await sleep(100)
        return backend.sealPackets(ds, k, t)
      },
    }
    const e = endpoint(slowFirst)
    for (let i = 0; i < SIGN_GATHER_BELOW + 5; i++) e.c.seal(enrRequest(), i)
    await until(() => e.sent.length === SIGN_GATHER_BELOW + 5, 2000, 'every datagram sent')
    assert.equal(calls, 2)
    assert.deepEqual(e.sent.map((s) => s.to), Array.from({ length: SIGN_GATHER_BELOW + 5 }, (_, i) => i))
  })

  it('reports a batch that failed to sign, sends none of it, and goes on with the next', async () => {
    let calls = 0
    const failFirst: CryptoBackend = {
      ...backend,
      sealPackets: (ds, k, t) => (calls++ === 0 ? Promise.reject(new Error('bad key')) : backend.sealPackets(ds, k, t)),
    }
    const e = endpoint(failFirst)
    for (let i = 0; i < SIGN_GATHER_BELOW + 3; i++) e.c.seal(enrRequest(), i)
    await until(() => e.sent.length === 3, 2000, 'the second batch sent')
    assert.deepEqual(e.failed, [SIGN_GATHER_BELOW])
    assert.deepEqual(e.sent.map((s) => s.to), [SIGN_GATHER_BELOW, SIGN_GATHER_BELOW + 1, SIGN_GATHER_BELOW + 2])
  })

  it('sends what it sealed as valid packets of our key, and nothing once closed', async () => {
    const e = endpoint(counting().b)
    for (let i = 0; i < 3; i++) e.c.seal(enrRequest(), i)
    await until(() => e.sent.length === 3, 2000, 'three datagrams sent')
    for (const { d } of e.sent) {
      const check = backend.verifyPacket(d)
      assert.ok(check.ok)
      assert.deepEqual(check.pubkey, backend.publicKey(e.key))
    }
    e.c.seal(enrRequest(), 9)
    e.close()
    await sleep(50)
    assert.equal(e.sent.length, 3)
  })
})
