import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { xorBytes, hex } from '../../src/crypto/bytes.js'
import { NodeDB } from '../../src/discover/nodedb.js'
import { BUCKET_SIZE, MAX_REPLACEMENTS, logDistance } from '../../src/discover/kademlia.js'
import type { Table } from '../../src/discover/table.js'
import { FakeNet, idAtDistance, nodeWithId, randomNode, until } from './fakenet.js'

const nets: FakeNet[] = []
function net(): FakeNet {
  const n = new FakeNet()
  nets.push(n)
  return n
}
after(async () => {
  for (const n of nets) await n.close()
})

/** a fresh table whose own node is `self` (random when omitted) */
function table(opts: Parameters<FakeNet['add']>[1] = {}): { t: Table; fn: FakeNet } {
  const fn = net()
  return { t: fn.add(randomNode(), opts).table, fn }
}

function fillBucket(t: Table, d: number, count: number, ip = (i: number) => `127.0.0.${i + 1}`) {
  const nodes = Array.from({ length: count }, (_, i) => nodeWithId(idAtDistance(t.self.id, d), ip(i)))
  for (const n of nodes) t.addSeenNode(n)
  return nodes
}

describe('log distance and bucket placement', () => {
  it('logDistance counts the highest differing bit', () => {
    const a = new Uint8Array(32)
    assert.equal(logDistance(a, a), 0)
    for (const d of [1, 7, 8, 9, 100, 239, 240, 241, 255, 256]) {
      assert.equal(logDistance(a, idAtDistance(a, d)), d, `distance ${d}`)
    }
  })

  it('puts nodes at distances ≤ 240 into the first bucket and 241..256 into buckets 1..16', () => {
    const { t } = table()
    const cases: [number, number][] = [[1, 0], [200, 0], [239, 0], [240, 0], [241, 1], [250, 10], [256, 16]]
    for (const [d, idx] of cases) {
      const n = nodeWithId(idAtDistance(t.self.id, d))
      assert.equal(t.bucketIndex(n.id), idx, `distance ${d}`)
      assert.equal(t.addSeenNode(n), true)
      assert.ok(t.bucketContents(idx).entries.some((e) => e.idHex === n.idHex), `distance ${d} lands in bucket ${idx}`)
    }
    assert.equal(t.size, cases.length)
  })

  it('never adds itself', () => {
    const { t } = table()
    assert.equal(t.addSeenNode(t.self), false)
    assert.equal(t.size, 0)
  })
})

describe('bucket size and replacements', () => {
  it('keeps 16 entries and the 10 most recent others as replacements', () => {
    const { t } = table()
    const nodes = fillBucket(t, 256, BUCKET_SIZE + MAX_REPLACEMENTS + 2)
    const { entries, replacements } = t.bucketContents(16)
    assert.deepEqual(entries.map((n) => n.idHex), nodes.slice(0, BUCKET_SIZE).map((n) => n.idHex))
    // newest first; the two oldest candidates fell off
    assert.deepEqual(
      replacements.map((n) => n.idHex),
      nodes.slice(BUCKET_SIZE + 2).reverse().map((n) => n.idHex),
    )
    // a known replacement is not listed twice
    t.addSeenNode(nodes.at(-1)!)
    assert.equal(t.bucketContents(16).replacements.length, MAX_REPLACEMENTS)
  })
})

describe('IP limits', () => {
  it('allows 2 addresses per /24 in a bucket when enforced', () => {
    const { t } = table({ ipLimitsOnLAN: true })
    const added = fillBucket(t, 256, 3, (i) => `10.0.0.${i + 1}`)
    assert.equal(t.bucketContents(16).entries.length, 2)
    assert.equal(t.getNode(added[2]!.id), undefined)
    // another /24 is fine
    assert.equal(t.addSeenNode(nodeWithId(idAtDistance(t.self.id, 256), '10.0.1.1')), true)
  })

  it('allows 10 addresses per /24 in the whole table', () => {
    const { t } = table({ ipLimitsOnLAN: true })
    let accepted = 0
    // two per bucket over six buckets: 12 candidates from one /24
    for (let d = 251; d <= 256; d++) accepted += fillBucket(t, d, 2, (i) => `203.0.113.${d - 240 + i * 20}`).filter((n) => t.getNode(n.id)).length
    assert.equal(accepted, 10)
    assert.equal(t.size, 10)
  })

  it('frees the address slot when a node leaves', async () => {
    const { t, fn } = table({ ipLimitsOnLAN: true, pingIntervalMs: 10 })
    const [a, b] = fillBucket(t, 256, 2, (i) => `198.51.100.${i + 1}`)
    const c = nodeWithId(idAtDistance(t.self.id, 256), '198.51.100.9')
    assert.equal(t.addSeenNode(c), false)
    // a and b are not in the fake network, so revalidation finds them dead and removes them
    assert.ok(a && b && !fn.peers.has(a.idHex))
    t.start()
    await until(() => t.size === 0, 5000, 'dead nodes removed')
    assert.equal(t.addSeenNode(c), true)
  })

  it('exempts loopback and LAN addresses by default', () => {
    const { t } = table()
    fillBucket(t, 256, 5, (i) => `192.168.1.${i + 1}`)
    assert.equal(t.bucketContents(16).entries.length, 5)
  })

  it('rejects nodes without a usable IP', () => {
    const { t } = table()
    assert.equal(t.addSeenNode(nodeWithId(idAtDistance(t.self.id, 256), '0.0.0.0')), false)
    assert.equal(t.addSeenNode(nodeWithId(idAtDistance(t.self.id, 256), 'not-an-ip')), false)
    assert.equal(t.size, 0)
  })
})

describe('revalidation', () => {
  it('evicts a dead node and promotes a replacement', async () => {
    const fn = net()
    const self = fn.add(randomNode(), { pingIntervalMs: 10 })
    const t = self.table
    // 16 live entries plus 3 replacements, all present in the fake network
    const nodes = Array.from({ length: BUCKET_SIZE + 3 }, () => nodeWithId(idAtDistance(t.self.id, 256)))
    for (const n of nodes) fn.add(n)
    for (const n of nodes) t.addSeenNode(n)
    const replacements = new Set(t.bucketContents(16).replacements.map((n) => n.idHex))
    assert.equal(replacements.size, 3)
    const dead = nodes[4]!
    fn.peers.get(dead.idHex)!.alive = false
    const removed: string[] = []
    const added: string[] = []
    t.on('removed', (n) => removed.push(n.idHex))
    t.on('added', (n) => added.push(n.idHex))
    t.start()
    await until(() => removed.length > 0, 8000, 'dead node evicted')
    assert.deepEqual(removed, [dead.idHex])
    assert.equal(t.getNode(dead.id), undefined)
    assert.equal(added.length, 1)
    assert.ok(replacements.has(added[0]!), 'the newcomer came from the replacement list')
    assert.equal(t.bucketContents(16).entries.length, BUCKET_SIZE)
    assert.equal(t.bucketContents(16).replacements.length, 2)
    // live nodes get pinged and stay
    await until(() => fn.pings > 3, 8000, 'more pings')
    assert.equal(t.bucketContents(16).entries.length, BUCKET_SIZE)
  })

  it('stops pinging after close', async () => {
    const fn = net()
    const t = fn.add(randomNode(), { pingIntervalMs: 5 }).table
    for (const n of fillBucket(t, 256, 4)) fn.add(n)
    t.start()
    await until(() => fn.pings > 3, 3000, 'pings')
    t.close()
    const pings = fn.pings
    await new Promise((r) => setTimeout(r, 60))
    assert.equal(fn.pings, pings)
  })

  it('requests the record when a pong announces a newer sequence number', async () => {
    const fn = net()
    const self = fn.add(randomNode(), { pingIntervalMs: 5 })
    const [n] = fillBucket(self.table, 256, 1)
    fn.add(n!).seq = 7n
    const moved = nodeWithId(n!.id, '127.0.0.99', 30400)
    let asked = 0
    self.table.transport.requestENR = async () => {
      asked++
      return { node: moved, seq: 7n }
    }
    self.table.start()
    await until(() => self.table.getNode(n!.id)?.ip === '127.0.0.99', 3000, 'endpoint update')
    assert.equal(self.table.getNode(n!.id)!.udp, 30400)
    await new Promise((r) => setTimeout(r, 50))
    assert.equal(asked, 1, 'a known sequence number is not fetched again')
  })
})

describe('findnode failures', () => {
  it('drops a node after 5 consecutive failures; a success resets the count', () => {
    const { t } = table()
    const nodes = fillBucket(t, 256, 6)
    const victim = nodes[0]!
    for (let i = 0; i < 4; i++) t.trackRequest(victim, false, [])
    t.trackRequest(victim, true, [])
    for (let i = 0; i < 4; i++) t.trackRequest(victim, false, [])
    assert.ok(t.getNode(victim.id), 'still present after a reset and 4 failures')
    t.trackRequest(victim, false, [])
    assert.equal(t.getNode(victim.id), undefined)
  })

  it('keeps the last few nodes of a bucket', () => {
    const { t } = table()
    const [only] = fillBucket(t, 256, 1)
    for (let i = 0; i < 6; i++) t.trackRequest(only!, false, [])
    assert.ok(t.getNode(only!.id))
  })

  it('adds the nodes a FINDNODE returned', () => {
    const { t } = table()
    const [asked] = fillBucket(t, 256, 1)
    const found = [randomNode(), randomNode()]
    t.trackRequest(asked!, true, found)
    for (const f of found) assert.ok(t.getNode(f.id) || t.bucketContents(t.bucketIndex(f.id)).replacements.some((r) => r.idHex === f.idHex))
  })
})

describe('inbound nodes', () => {
  it('refuses verified nodes until the first refresh finished', async () => {
    const { t } = table()
    const n = randomNode()
    assert.equal(t.addVerifiedNode(n), false)
    assert.equal(t.ready, false)
    t.start()
    await t.waitInit()
    assert.equal(t.addVerifiedNode(n), true)
    assert.ok(t.getNode(n.id))
  })

  it('moves a known node to the endpoint it bonded from', async () => {
    const { t } = table()
    t.start()
    await t.waitInit()
    const n = randomNode('127.0.0.5', 30303)
    t.addSeenNode(n)
    t.addVerifiedNode(nodeWithId(n.id, '127.0.0.6', 30304))
    assert.equal(t.getNode(n.id)!.ip, '127.0.0.6')
    // a lookup result never moves a known node
    t.addSeenNode(nodeWithId(n.id, '127.0.0.7', 30305))
    assert.equal(t.getNode(n.id)!.ip, '127.0.0.6')
  })
})

describe('seeding and refresh', () => {
  it('seeds from recently seen DB nodes, then bootnodes', async () => {
    const db = new NodeDB()
    const fn = net()
    // the recent seed and the bootnode are alive: a dead one may be revalidated away before the first
    // refresh ends (on a slow machine the refresh waits out its lookups' timeouts)
    const fresh = fn.add(randomNode('127.0.0.2')).node
    const stale = randomNode('127.0.0.3')
    const never = randomNode('127.0.0.4')
    for (const n of [fresh, stale, never]) await db.updateNode(n)
    await db.updateLastPongReceived(fresh.id, fresh.ip, Date.now() - 3600_000)
    await db.updateLastPongReceived(stale.id, stale.ip, Date.now() - 6 * 24 * 3600_000)
    const boot = fn.add(randomNode('127.0.0.9')).node
    const t = fn.add(randomNode(), { db, bootnodes: [boot] }).table
    t.start()
    await t.waitInit()
    assert.ok(t.getNode(fresh.id), 'recent seed loaded')
    assert.equal(t.getNode(stale.id), undefined, 'a seed older than 5 days is not used')
    assert.equal(t.getNode(never.id), undefined, 'a node that never answered is not a seed')
    assert.ok(t.getNode(boot.id), 'bootnode loaded')
  })

  it('refreshes periodically', async () => {
    const fn = net()
    const boot = fn.add(randomNode())
    let refreshes = 0
    const peer = fn.add(randomNode(), { bootnodes: [boot.node], refreshIntervalMs: 20 })
    const selfTarget = peer.table.transport.selfTarget
    peer.table.transport.selfTarget = () => (refreshes++, selfTarget())
    peer.table.start()
    await until(() => refreshes >= 3, 3000, 'three refreshes')
    peer.table.close()
    const n = refreshes
    await new Promise((r) => setTimeout(r, 60))
    assert.equal(refreshes, n, 'no refresh after close')
  })
})

describe('closest', () => {
  it('returns the k nearest entries by XOR distance, nearest first', () => {
    const { t } = table()
    for (let d = 241; d <= 256; d++) fillBucket(t, d, 4)
    const target = idAtDistance(t.self.id, 250)
    const truth = t
      .nodes()
      .map((n) => ({ n, d: hex(xorBytes(n.id, target)) }))
      .sort((a, b) => (a.d < b.d ? -1 : 1))
      .slice(0, 16)
      .map((x) => x.n.idHex)
    assert.deepEqual(t.closest(target, 16).map((n) => n.idHex), truth)
  })
})
