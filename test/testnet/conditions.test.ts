/** Simulated round trips and loss: applied per node, in both directions, repeatable, bounded, stoppable. */
import assert from 'node:assert/strict'
import { createSocket, type Socket } from 'node:dgram'
import { after, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { randomPrivateKey } from '../../src/crypto/backend.js'
import { Discv4 } from '../../src/discover/udp.js'
import { Conditions, seededRandom } from '../../src/testnet/conditions.js'
import { startTestnet, TestnetError } from '../../src/testnet/testnet.js'
import { REPLY_TIMEOUT_MS } from '../timing.js'

const open: { close(): Promise<void> | void }[] = []
after(async () => {
  for (const o of open.reverse()) await o.close()
})

async function socket(): Promise<Socket> {
  const s = createSocket('udp4')
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve))
  // a burst of thousands must not be lost to the kernel's default buffer
  s.setRecvBufferSize(4 << 20)
  open.push({ close: () => new Promise<void>((resolve) => s.close(() => resolve())) })
  return s
}

describe('Conditions', () => {
  it('the same seed gives the same draws', () => {
    const a = seededRandom(42)
    const b = seededRandom(42)
    const xs = Array.from({ length: 100 }, () => a())
    assert.deepEqual(xs, Array.from({ length: 100 }, () => b()))
    assert.ok(xs.every((x) => x >= 0 && x < 1))
    assert.ok(new Set(xs).size > 95)
  })

  it("delays a node's datagrams by its round trip, in the order they were sent", async () => {
    const c = new Conditions({ rttMs: 80, seed: 1 })
    open.push(c)
    const from = await socket()
    const to = await socket()
    const got: { i: number; t: number }[] = []
    to.on('message', (m) => got.push({ i: m[0]!, t: performance.now() }))
    const rtt = c.nodeRtt()
    assert.ok(rtt >= 40 && rtt <= 120)
    const order = { last: 0 }
    const t0 = performance.now()
    for (let i = 0; i < 20; i++) c.send(from, Uint8Array.of(i), to.address().port, '127.0.0.1', rtt, order)
    for (let k = 0; k < 200 && got.length < 20; k++) await sleep(5)
    assert.deepEqual(
      got.map((g) => g.i),
      Array.from({ length: 20 }, (_, i) => i),
    )
    // ±10 % jitter, less a millisecond of timer slack
    for (const g of got) assert.ok(g.t - t0 >= rtt * 0.9 - 1, `${(g.t - t0).toFixed(1)} ms < ${rtt}`)
  })

  it('loses about the configured share each way, and counts it', async () => {
    const c = new Conditions({ loss: 0.2, seed: 7 })
    open.push(c)
    const from = await socket()
    const to = await socket()
    let arrived = 0
    to.on('message', () => arrived++)
    const order = { last: 0 }
    for (let i = 0; i < 2000; i++) c.send(from, Uint8Array.of(1), to.address().port, '127.0.0.1', 0, order)
    let dropped = 0
    for (let i = 0; i < 2000; i++) if (c.dropIn()) dropped++
    for (let k = 0; k < 100 && arrived + c.stats.lostOut < 2000; k++) await sleep(10)
    assert.equal(arrived + c.stats.lostOut, 2000)
    assert.ok(c.stats.lostOut > 300 && c.stats.lostOut < 500, `${c.stats.lostOut} of 2000 lost out`)
    assert.equal(c.stats.lostIn, dropped)
    assert.ok(dropped > 300 && dropped < 500, `${dropped} of 2000 lost in`)
  })

  it('holds a bounded number of delayed datagrams and sends nothing after close()', async () => {
    const c = new Conditions({ rttMs: 50, maxDelayed: 10, seed: 3 })
    const from = await socket()
    const to = await socket()
    let arrived = 0
    to.on('message', () => arrived++)
    const order = { last: 0 }
    for (let i = 0; i < 15; i++) c.send(from, Uint8Array.of(1), to.address().port, '127.0.0.1', 50, order)
    assert.equal(c.stats.overflow, 5)
    c.close()
    await sleep(150)
    assert.equal(arrived, 0)
  })
})

describe('a testnet with round trips and loss', () => {
  it('rejects conditions it cannot honour', async () => {
    await assert.rejects(startTestnet({ nodes: 5, lossRate: 1 }), TestnetError)
    await assert.rejects(startTestnet({ nodes: 5, rttMs: -1 }), TestnetError)
  })

  it("answers after each node's own round trip; dead nodes never", async () => {
    const net = await startTestnet({ nodes: 30, deadFraction: 0.2, rttMs: 100, seed: 9 })
    open.push(net)
    const d = await Discv4.listen({ privateKey: randomPrivateKey(), host: '127.0.0.1', port: 0, refreshIntervalMs: 3600_000, replyTimeoutMs: REPLY_TIMEOUT_MS + 300 })
    open.push(d)
    const rtts: number[] = []
    await Promise.all(
      net.nodes.map(async (m) => {
        const t0 = performance.now()
        if (m.behaviour === 'dead') return assert.rejects(d.ping(m.node), { code: 'TIMEOUT' })
        await d.ping(m.node)
        rtts.push(performance.now() - t0)
      }),
    )
    assert.equal(rtts.length, 24)
    // each node's base round trip lies in 50–150 ms, its datagrams within ±10 % of it
    assert.ok(Math.min(...rtts) >= 45 - 1, `fastest ${Math.min(...rtts)}`)
    assert.ok(Math.max(...rtts) - Math.min(...rtts) > 20, 'nodes differ in their round trips')
  })
})
