/**
 * The crawl engine over an in-memory network with round trips, loss and dead nodes (fake-network.ts):
 * retries that mean something, the datagram rate, politeness per IP, and the order in which an
 * earlier crawl's nodes are checked.
 */
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { after, describe, it } from 'node:test'
import { hex } from '../../src/crypto/bytes.js'
import { Crawler } from '../../src/crawler/crawl.js'
import type { CrawlRecord, PreviousNode } from '../../src/crawler/record.js'
import { TargetTable } from '../../src/crawler/targets.js'
import { backend, randomPrivateKey } from '../../src/crypto/backend.js'
import { PacketType, type Packet } from '../../src/discover/wire.js'
import { ENR } from '../../src/enode/enr.js'
import { Node } from '../../src/enode/node.js'
import { TIME_SCALE } from '../timing.js'
import { FakeNetwork } from './fake-network.js'

const targets = TargetTable.build(backend, new Uint8Array(56).fill(5))
const nets: FakeNetwork[] = []
after(() => nets.forEach((n) => n.close()))

function net(opts: ConstructorParameters<typeof FakeNetwork>[0]): FakeNetwork {
  const n = new FakeNetwork(opts)
  nets.push(n)
  return n
}

async function crawl(n: FakeNetwork, extra: Partial<ConstructorParameters<typeof Crawler>[0]> = {}): Promise<Map<string, CrawlRecord>> {
  const c = new Crawler({ transport: n, seeds: n.seeds(), targets, retryDelayMs: 20, rate: 20_000, ...extra })
  const records = new Map<string, CrawlRecord>()
  c.on('record', (r) => {
    assert.ok(!records.has(r.id), 'one record per node')
    records.set(r.id, r)
  })
  await c.run()
  return records
}

describe('crawl over a slow, lossy network', () => {
  it('10 % loss both ways: every live node answers, ≥ 99 % of records fetched, attempts and RTT recorded', async () => {
    // a reply timeout far above the round trip: on a loaded machine a late timer must not pass for loss
    const n = net({ nodes: 400, dead: 0.1, loss: 0.1, rttMs: 10, seed: 7, timeoutMs: 300 * TIME_SCALE })
    const records = await crawl(n)
    assert.equal(records.size, 400, 'every node found')
    const live = n.live
    let withRecord = 0
    for (const m of live) {
      const r = records.get(hex(m.node.pubkey))!
      assert.equal(r.answered, true, `live node ${r.ip} answered`)
      assert.ok(r.attempts === undefined || (r.attempts >= 1 && r.attempts <= 4))
      assert.ok(r.rttMs !== undefined && r.rttMs >= m.rttMs * 0.9 - 3 && r.rttMs < 300, `rtt ${r.rttMs} vs ${m.rttMs}`)
      if (r.enr === m.enr.toText()) withRecord++
    }
    assert.ok(withRecord >= 0.99 * live.length, `records for ${withRecord} of ${live.length}`)
    // loss made some nodes need more than one ping, and the records say so
    assert.ok([...records.values()].some((r) => r.answered && (r.attempts ?? 0) > 1))
    for (const m of n.members.filter((x) => x.dead)) {
      const r = records.get(hex(m.node.pubkey))!
      assert.equal(r.answered, false)
      assert.equal(r.attempts, 4)
      assert.match(r.error ?? '', /no answer after 4 attempts/)
    }
  })

  it("spreads a dead node's pings over time, each retry waiting twice as long", async () => {
    const n = net({ nodes: 60, dead: 0.2, rttMs: 4, seed: 3, timeoutMs: 60 })
    await crawl(n, { retryDelayMs: 50 })
    for (const [k, m] of n.members.entries()) {
      if (!m.dead) continue
      const times = n.sent.filter((s) => s.to === k && s.kind === 'ping').map((s) => s.t)
      assert.equal(times.length, 4)
      // ping k+1 goes out at least one reply timeout plus 50·2^k ms after ping k (timers never fire early by more than a tick)
      for (let j = 1; j < times.length; j++) assert.ok(times[j]! - times[j - 1]! >= 60 + 50 * 2 ** (j - 1) - 2, `gap ${j}: ${times[j]! - times[j - 1]!}`)
    }
  })

  it('sends no faster than --rate, and keeps to the per-IP bound with many nodes on one IP', async () => {
    const n = net({ nodes: 240, dead: 0.05, rttMs: 5, perIP: 8, seed: 11 })
    const rate = 1500
    const records = await crawl(n, { rate, perIP: 2 })
    assert.equal([...records.values()].filter((r) => r.answered).length, n.live.length)
    assert.ok(n.maxInFlightPerIP <= 2, `at most 2 in flight per IP, saw ${n.maxInFlightPerIP}`)
    // any 200 ms window holds at most rate·0.2 datagrams plus the 20 ms burst
    const t = n.sent.map((s) => s.t).sort((a, b) => a - b)
    let worst = 0
    for (let lo = 0, hi = 0; hi < t.length; hi++) {
      while (t[hi]! - t[lo]! > 200) lo++
      worst = Math.max(worst, hi - lo + 1)
    }
    assert.ok(worst <= rate * 0.2 + rate / 50 + 2, `${worst} datagrams in 200 ms at ${rate}/s`)
  })

  it('charges a discv5 handshake as three datagrams: the rate holds datagrams plus handshake crypto', async () => {
    const n = net({ nodes: 160, dead: 0.05, rttMs: 5, seed: 13 })
    const dead = new Set(n.members.filter((m) => m.dead).map((m) => hex(m.node.pubkey)))
    // every node's record allows discv5, so each one is cross-checked there; each ping is a new session
    // each discv5 datagram with its weight: 1, and 2 more for a handshake
    const v5sent: { t: number; w: number }[] = []
    const v5 = {
      stats: { packetsIn: 0, packetsOut: 0, handshakes: 0 },
      async ping(to: ENR | Node): Promise<{ enrSeq: bigint }> {
        v5.stats.packetsOut++
        v5sent.push({ t: performance.now(), w: 1 })
        if (dead.has(hex(to.pubkey))) throw new Error('timeout')
        v5.stats.packetsOut++ // the handshake that answers WHOAREYOU
        v5.stats.handshakes++
        v5sent.push({ t: performance.now(), w: 3 })
        return { enrSeq: 1n }
      },
      async findnode(): Promise<ENR[]> {
        return []
      },
    }
    const rate = 1500
    const records = await crawl(Object.assign(n, { v5 }), { rate })
    assert.equal([...records.values()].filter((r) => r.answered).length, n.live.length)
    assert.ok(v5.stats.handshakes >= n.live.length, `${v5.stats.handshakes} handshakes`)
    const events = [...n.sent.map((x) => ({ t: x.t, w: 1 })), ...v5sent].sort((a, b) => a.t - b.t)
    let worst = 0
    for (let lo = 0, hi = 0, sum = 0; hi < events.length; hi++) {
      sum += events[hi]!.w
      while (events[hi]!.t - events[lo]!.t > 200) sum -= events[lo++]!.w
      worst = Math.max(worst, sum)
    }
    // at most rate·0.2 plus the burst, plus one step's overshoot (a ping's handshake is charged after it went)
    assert.ok(worst <= rate * 0.2 + rate / 50 + 6, `${worst} datagram-equivalents in 200 ms at ${rate}/s`)
  })

  it('nodes that hold our pong from before (no ping back) are still read, after the bond wait', async () => {
    const n = net({ nodes: 150, rttMs: 5, prebonded: 0.5, seed: 5 })
    const records = await crawl(n)
    for (const m of n.live) {
      const r = records.get(hex(m.node.pubkey))!
      assert.equal(r.enr, m.enr.toText())
      assert.ok((r.neighbors ?? 0) > 0)
    }
  })
})

describe('the end of a crawl', () => {
  it('ends when the last thing it waited for is a bond wait that its node made stale', async () => {
    // one node: its pong comes at once, its own ping 30 ms later, after the crawl began waiting for
    // it; everything else answers at once, so the crawl's last event is that wait, now moot
    const key = randomPrivateKey()
    const enr = ENR.sign(key, { seq: 1n, ip: '127.0.0.1', udp: 30303, tcp: 30303 }, backend)
    const peer = new Node(backend.publicKey(key), '127.0.0.1', 30303, 30303)
    const timers = new Set<NodeJS.Timeout>()
    const t = Object.assign(new EventEmitter(), {
      self: new Node(backend.publicKey(randomPrivateKey()), '127.0.0.1', 30301, 30301),
      async ping() {
        const h = setTimeout(() => t.emit('packet', { type: PacketType.Ping } as Packet, peer), 30)
        timers.add(h)
        return { seq: 1n }
      },
      enrRequest: async () => enr,
      neighbors: async () => ({ nodes: [], complete: true }),
    })
    const c = new Crawler({ transport: t, seeds: [enr], targets })
    let guard: NodeJS.Timeout | undefined
    const outcome = await Promise.race([c.run().then(() => 'ended'), new Promise((res) => (guard = setTimeout(() => res('still waiting'), 3000 * TIME_SCALE)))])
    clearTimeout(guard)
    c.stop()
    timers.forEach((h) => clearTimeout(h))
    assert.equal(outcome, 'ended')
  })
})

describe('resuming from an earlier crawl', () => {
  /** 600 stored nodes that no longer exist, as a day-old datadir holds */
  function gone(answered: boolean): PreviousNode[] {
    return Array.from({ length: 600 }, (_, i) => ({
      id: hex(backend.publicKey(randomPrivateKey())),
      ip: `10.${200 + (i >> 8)}.${i & 255}.1`,
      udp: 30303,
      tcp: 30303,
      firstSeen: Date.now() - 86_400_000,
      answered,
    }))
  }

  /** datagrams sent until the last live node answered */
  async function costToConfirm(n: FakeNetwork, previous: PreviousNode[]): Promise<number> {
    const liveIds = new Set(n.live.map((m) => m.node.idHex))
    let confirmed = 0
    let cost = 0
    const c = new Crawler({ transport: n, seeds: n.seeds(), previous, targets, retryDelayMs: 20, rate: 800 })
    const start = n.stats.packetsOut
    const byId = new Map(n.live.map((m) => [hex(m.node.pubkey), m.node.idHex]))
    c.on('record', (r) => {
      if (r.answered && liveIds.has(byId.get(r.id) ?? '') && ++confirmed === liveIds.size) cost = n.stats.packetsOut - start
    })
    await c.run()
    assert.equal(confirmed, liveIds.size)
    return cost
  }

  it('stored nodes that died cost fresh ones little; those already dead last time go last', async () => {
    // a rate low enough that fresh work always waits: then every datagram spent on stored nodes is one
    // fresh nodes did not get
    const base = await costToConfirm(net({ nodes: 150, rttMs: 3, seed: 21 }), [])
    const withAnswered = await costToConfirm(net({ nodes: 150, rttMs: 3, seed: 21 }), gone(true))
    const withDead = await costToConfirm(net({ nodes: 150, rttMs: 3, seed: 21 }), gone(false))
    // 600 stored nodes × 4 pings = 2400 datagrams; fresh work must not wait behind them: the nodes
    // that answered last time share the budget, the ones that did not only take what is left over
    assert.ok(withAnswered < base * 1.8, `stored-alive: ${withAnswered} vs ${base}`)
    assert.ok(withDead < base * 1.35, `stored-dead: ${withDead} vs ${base}`)
  })
})
