import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { DialScheduler, type DialerOptions } from '../../src/p2p/dial.js'
import { Node } from '../../src/enode/node.js'
import { randomNode, until } from '../discover/fakenet.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** A dial function whose outcomes the test decides, recording every attempt. */
class FakeDialer {
  readonly attempts: { node: Node; kind: string; signal: AbortSignal }[] = []
  private readonly waiting = new Map<string, { resolve: () => void; reject: (e: Error) => void }>()
  connected = new Set<string>()
  /** settle immediately with this outcome instead of waiting */
  auto: 'ok' | 'fail' | undefined
  dial = (node: Node, kind: string, signal: AbortSignal): Promise<void> => {
    this.attempts.push({ node, kind, signal })
    if (this.auto === 'ok') {
      this.connected.add(node.idHex)
      return Promise.resolve()
    }
    if (this.auto === 'fail') return Promise.reject(new Error('refused'))
    return new Promise((resolve, reject) => this.waiting.set(node.idHex, { resolve, reject }))
  }
  get inFlight(): number {
    return this.waiting.size
  }
  succeed(n: Node): void {
    this.connected.add(n.idHex)
    this.waiting.get(n.idHex)!.resolve()
    this.waiting.delete(n.idHex)
  }
  fail(n: Node): void {
    this.waiting.get(n.idHex)!.reject(new Error('refused'))
    this.waiting.delete(n.idHex)
  }
}

function scheduler(f: FakeDialer, opts: Partial<DialerOptions> = {}): DialScheduler {
  const d = new DialScheduler({ selfId: 'ff'.repeat(32), maxDialPeers: 10, dial: f.dial, busy: (id) => f.connected.has(id), ...opts })
  d.on('dialEnd', (n, _k, err) => {
    if (!err) d.peerAdded(n, true)
  })
  return d
}

async function* fromArray(nodes: Node[]): AsyncGenerator<Node> {
  for (const n of nodes) yield n
}

describe('dial scheduler', () => {
  it('dials static nodes, but never itself, connected, restricted or port-less nodes', async () => {
    const f = new FakeDialer()
    const self = randomNode()
    const [a, b, c] = [randomNode('10.0.0.1'), randomNode('10.0.0.2'), randomNode('192.168.1.5')]
    const noPort = new Node(randomNode().pubkey, '10.0.0.3', 30303, 0)
    f.connected.add(b!.idHex)
    const d = scheduler(f, { selfId: self.idHex, allowed: (ip) => ip.startsWith('10.') })
    for (const n of [self, a!, b!, c!, noPort]) d.addStatic(n)
    d.start()
    await sleep(20)
    assert.deepEqual(f.attempts.map((x) => x.node.idHex), [a!.idHex])
    assert.equal(f.attempts[0]!.kind, 'static')
    assert.equal(d.check(c!), 'restricted')
    assert.equal(d.check(noPort), 'no-port')
    assert.equal(d.check(b!), 'connected')
    assert.equal(d.check(a!), 'dialing')
    d.stop()
  })

  it('keeps at most maxActiveDials in flight and overshoots the wanted peers at most twice', async () => {
    const f = new FakeDialer()
    const cands = Array.from({ length: 200 }, (_, i) => randomNode(`10.1.${i}.1`))
    const small = scheduler(f, { maxDialPeers: 4, candidates: fromArray(cands) })
    small.start()
    await until(() => f.inFlight === 8, 3000, '8 dials')
    await sleep(20)
    assert.equal(f.inFlight, 8, 'twice the 4 wanted peers')
    small.stop()

    const g = new FakeDialer()
    const big = scheduler(g, { maxDialPeers: 100, maxActiveDials: 50, candidates: fromArray(cands) })
    big.start()
    await until(() => g.inFlight === 50, 3000, '50 dials')
    await sleep(20)
    assert.equal(g.inFlight, 50)
    big.stop()
  })

  it('stops dialling once enough dialled peers are connected, and resumes when one leaves', async () => {
    const f = new FakeDialer()
    f.auto = 'ok'
    const cands = Array.from({ length: 50 }, (_, i) => randomNode(`10.2.${i}.1`))
    const d = scheduler(f, { maxDialPeers: 3, candidates: fromArray(cands) })
    d.start()
    await until(() => f.attempts.length >= 3, 3000, 'three peers')
    await sleep(30)
    const n = f.attempts.length
    assert.ok(n >= 3 && n <= 6, `${n} dials for 3 wanted peers`)
    // the overshoot may leave more than 3 connected: drop to 2, and dialling resumes
    for (const { node } of f.attempts.slice(0, n - 2)) {
      f.connected.delete(node.idHex)
      d.peerRemoved(node)
    }
    await until(() => f.attempts.length > n, 3000, 'a new dial after a peer left')
    d.stop()
  })

  it('does not redial a node within the history window', async () => {
    const f = new FakeDialer()
    f.auto = 'fail'
    const n = randomNode('10.3.0.1')
    const d = scheduler(f, { historyMs: 150, candidates: fromArray([n, n, n]) })
    d.start()
    await sleep(50)
    assert.equal(f.attempts.length, 1)
    assert.equal(d.check(n), 'recent')
    await sleep(150)
    assert.equal(d.check(n), undefined)
    d.stop()
  })

  it('redials a failing static node with growing backoff, and resets it on success', async () => {
    const f = new FakeDialer()
    f.auto = 'fail'
    const n = randomNode('10.4.0.1')
    const d = scheduler(f, { staticBackoffMs: { min: 40, max: 160 } })
    const times: number[] = []
    d.on('dialStart', () => times.push(Date.now()))
    d.addStatic(n)
    d.start()
    await until(() => times.length >= 4, 3000, 'four attempts')
    const gaps = times.slice(1).map((t, i) => t - times[i]!)
    // jittered within [backoff/2, backoff]: 20–40, 40–80, 80–160 ms (timers only run late)
    assert.ok(gaps[0]! >= 19 && gaps[1]! >= 39 && gaps[2]! >= 79, `gaps ${gaps}`)
    f.auto = 'ok'
    await until(() => f.connected.has(n.idHex), 3000, 'connected')
    d.stop()
  })

  it('draws dynamic candidates uniformly, not in arrival order', async () => {
    const counts = new Map<string, number>()
    const burst = Array.from({ length: 16 }, (_, i) => randomNode(`10.5.${i}.1`))
    for (let trial = 0; trial < 400; trial++) {
      const f = new FakeDialer()
      const d = scheduler(f, { maxDialPeers: 1, maxActiveDials: 1, candidates: fromArray(burst) })
      d.start()
      await until(() => f.attempts.length === 1, 3000, 'first dial')
      const id = f.attempts[0]!.node.idHex
      counts.set(id, (counts.get(id) ?? 0) + 1)
      d.stop()
    }
    // every one of the 16 gets picked first sometimes (each misses all 400 with probability ~6e-12)
    assert.equal(counts.size, 16)
    assert.ok(Math.max(...counts.values()) < 100, `no favourite: ${[...counts.values()]}`)
  })

  it('aborts dials in flight on stop and starts no more', async () => {
    const f = new FakeDialer()
    const cands = Array.from({ length: 20 }, (_, i) => randomNode(`10.6.${i}.1`))
    const d = scheduler(f, { maxDialPeers: 2, candidates: fromArray(cands) })
    d.start()
    await until(() => f.inFlight === 4, 3000, 'dials')
    d.stop()
    assert.ok(f.attempts.every((a) => a.signal.aborted))
    for (const a of [...f.attempts]) f.fail(a.node)
    await sleep(20)
    assert.equal(f.attempts.length, 4)
  })
  it('a failing candidate source is reported and, given a factory, restarted with backoff', async () => {
    const f = new FakeDialer()
    f.auto = 'fail'
    const first = [randomNode(), randomNode()]
    const second = [randomNode(), randomNode()]
    let opened = 0
    async function* broken(): AsyncGenerator<Node> {
      yield* first
      throw new Error('discovery closed')
    }
    const d = scheduler(f, { candidates: () => (opened++ === 0 ? broken() : fromArray(second)) })
    const errors: [string, number | undefined][] = []
    d.on('candidatesError', (err, retry) => errors.push([err.message, retry]))
    d.start()
    await until(() => errors.length === 1, 3000, 'the failure reported')
    assert.deepEqual(errors, [['discovery closed', 1000]])
    await until(() => f.attempts.length >= 4, 5000, 'dials from the fresh source')
    assert.equal(opened, 2)
    assert.deepEqual(new Set(f.attempts.map((a) => a.node.idHex)), new Set([...first, ...second].map((n) => n.idHex)))
    d.stop()
    // a plain iterable cannot be restarted: the failure says so with no retry
    const once = scheduler(new FakeDialer(), { candidates: broken() })
    const ended: (number | undefined)[] = []
    once.on('candidatesError', (_e, retry) => ended.push(retry))
    once.start()
    await until(() => ended.length === 1, 3000, 'the failure reported')
    assert.deepEqual(ended, [undefined])
    once.stop()
  })

  it('a candidate read that fails because the scheduler stopped is not reported', async () => {
    let failRead: ((e: Error) => void) | undefined
    // discovery's iterator rejects its pending read when discovery closes, as happens at shutdown
    const source = (): AsyncIterable<Node> => ({
      [Symbol.asyncIterator]: () => ({ next: () => new Promise<IteratorResult<Node>>((_, reject) => (failRead = reject)) }),
    })
    const d = scheduler(new FakeDialer(), { candidates: source })
    const reported: Error[] = []
    d.on('candidatesError', (err) => reported.push(err))
    d.start()
    await until(() => failRead !== undefined, 3000, 'a pending read')
    d.stop()
    failRead!(new Error('discovery closed'))
    await sleep(20)
    assert.deepEqual(reported, [])
  })
})
