/** The crawl's scheduler: queues, delayed events, class order and weights, politeness, rate, backlog. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { DelayQueue, IntQueue, Schedule, type ScheduleOptions } from '../../src/crawler/schedule.js'

describe('IntQueue', () => {
  it('keeps FIFO order across growth and wrap-around', () => {
    const q = new IntQueue(4)
    const want: number[] = []
    const got: number[] = []
    for (let i = 0; i < 1000; i++) {
      q.push(i)
      want.push(i)
      if (i % 3 === 0) got.push(q.shift())
    }
    while (q.length > 0) got.push(q.shift())
    assert.deepEqual(got, want)
  })
})

describe('DelayQueue', () => {
  it('fires events in due order, with their generation, and clear() cancels the rest', async () => {
    const fired: [number, number][] = []
    const d = new DelayQueue((item, gen) => fired.push([item, gen]))
    const now = Date.now()
    for (const [ms, item] of [
      [30, 3],
      [10, 1],
      [20, 2],
      [10, 11],
    ] as const)
      d.push(now + ms, item, item * 10)
    d.push(now + 5000, 99, 0)
    for (let i = 0; i < 100 && fired.length < 4; i++) await sleep(10)
    assert.deepEqual(fired.map((f) => f[0]).sort((a, b) => a - b), [1, 2, 3, 11])
    assert.deepEqual(fired.slice(2), [
      [2, 20],
      [3, 30],
    ])
    assert.equal(d.size, 1)
    d.clear()
    assert.equal(d.size, 0)
  })
})

/** a schedule over fake items: item = ip * 1000 + n; `out` logs what was sent */
function harness(opts: Partial<ScheduleOptions> & { classes: ScheduleOptions['classes'] }, stale = new Set<number>()) {
  const out: number[] = []
  let sent = 0
  let backlog = 0
  const timerPumps = { n: 0 }
  const s = new Schedule(
    { rate: 1e9, maxPending: 1e6, perIP: 1e6, perNet: 1e6, maxBacklog: 100, replyTimeoutMs: 500, ...opts },
    {
      wanted: (item) => !stale.has(item),
      ipKey: (item) => Math.floor(item / 1000),
      netKey: (item) => 1e6 + Math.floor(item / 10_000),
      send: (item) => {
        out.push(item)
        sent++
      },
      sent: () => sent,
      backlog: () => backlog,
      pumped: () => timerPumps.n++,
    },
  )
  return { s, out, timerPumps, setBacklog: (b: number) => (backlog = b) }
}

describe('Schedule', () => {
  it("serves 'first' classes before weighted ones, weighted ones by weight, 'last' ones when nothing else waits", () => {
    const { s, out } = harness({ classes: ['first', 3, 1, 'last'] })
    for (let i = 0; i < 400; i++) {
      s.push(1, 10_000 + i)
      s.push(2, 20_000 + i)
    }
    for (let i = 0; i < 5; i++) {
      s.push(3, 30_000 + i)
      s.push(0, i)
    }
    s.pump()
    s.stop()
    assert.deepEqual(out.slice(0, 5), [0, 1, 2, 3, 4])
    // while both weighted classes wait, 3 : 1
    const mid = out.slice(5, 405)
    assert.equal(mid.filter((x) => x >= 10_000 && x < 20_000).length, 300)
    assert.equal(mid.filter((x) => x >= 20_000 && x < 30_000).length, 100)
    assert.deepEqual(out.slice(-5), [30_000, 30_001, 30_002, 30_003, 30_004])
    assert.equal(out.length, 810)
  })

  it('parks steps beyond perIP and sends them, in order, as requests to that IP complete', () => {
    const { s, out } = harness({ classes: [1], perIP: 2 })
    for (const item of [5000, 5001, 5002, 5003, 6000]) s.push(0, item)
    s.pump()
    assert.deepEqual(out, [5000, 5001, 6000])
    assert.equal(s.queued, 2)
    s.completed(5000)
    s.pump()
    assert.deepEqual(out, [5000, 5001, 6000, 5002])
    s.completed(5001)
    s.pump()
    assert.deepEqual(out.at(-1), 5003)
    assert.equal(s.queued, 0)
    s.stop()
  })

  it('a parked step that went stale passes its turn on (no step is stranded)', () => {
    const stale = new Set<number>()
    const { s, out } = harness({ classes: [1], perIP: 1 }, stale)
    for (const item of [7000, 7001, 7002]) s.push(0, item)
    s.pump()
    assert.deepEqual(out, [7000])
    stale.add(7001)
    s.completed(7000)
    s.pump()
    assert.deepEqual(out, [7000, 7002])
    assert.equal(s.queued, 0)
    s.stop()
  })

  it('tells its owner after a pump of its own timer, which may have dropped the last steps as stale', async () => {
    const stale = new Set<number>()
    const { s, out, timerPumps, setBacklog } = harness({ classes: [1], maxBacklog: 10 }, stale)
    setBacklog(11)
    for (let i = 0; i < 5; i++) s.push(0, i)
    s.pump()
    assert.equal(timerPumps.n, 0, 'a pump the owner called is not reported')
    for (let i = 0; i < 5; i++) stale.add(i)
    setBacklog(0)
    for (let i = 0; i < 100 && s.queued > 0; i++) await sleep(5)
    assert.equal(s.queued, 0)
    assert.deepEqual(out, [], 'nothing stale was sent')
    assert.ok(timerPumps.n >= 1, 'and the owner heard of it')
    s.stop()
  })

  it('keeps to the rate, counting every datagram the transport sent', async () => {
    const { s, out } = harness({ classes: [1], rate: 1000 })
    for (let i = 0; i < 5000; i++) s.push(0, i)
    const start = performance.now()
    s.pump()
    await sleep(300)
    s.stop()
    const elapsed = performance.now() - start
    // at most the 20 ms burst plus 1000/s for the time that passed
    assert.ok(out.length <= 20 + elapsed + 2, `${out.length} sent in ${elapsed.toFixed(0)} ms`)
    assert.ok(out.length >= 100, 'and it does send')
  })

  it('sends nothing while the receive backlog is over its bound', async () => {
    const { s, out, setBacklog } = harness({ classes: [1], maxBacklog: 10 })
    setBacklog(11)
    for (let i = 0; i < 10; i++) s.push(0, i)
    s.pump()
    assert.equal(out.length, 0)
    setBacklog(0)
    for (let i = 0; i < 100 && out.length < 10; i++) await sleep(5)
    assert.equal(out.length, 10)
    s.stop()
  })

  it('steps the rate down while replies queue up and back up to the ceiling when they are on time', async () => {
    const { s } = harness({ classes: [1], rate: 1000 })
    for (let w = 0; w < 4; w++) {
      s.observe(400) // well over a quarter of the 500 ms reply timeout
      await sleep(260)
      s.observe(400)
    }
    assert.ok(s.rate < 600, `rate ${s.rate}`)
    const low = s.rate
    for (let w = 0; w < 4; w++) {
      s.observe(1)
      await sleep(260)
      s.observe(1)
    }
    assert.ok(s.rate > low && s.rate <= 1000, `rate ${s.rate}`)
    s.stop()
  })
})
