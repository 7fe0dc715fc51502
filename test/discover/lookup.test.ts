import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { hex, xorBytes } from '../../src/crypto/bytes.js'
import type { Node } from '../../src/enode/node.js'
import { ALPHA } from '../../src/discover/kademlia.js'
import { lookup, lookupIterator, randomWalk } from '../../src/discover/lookup.js'
import { MAX_FINDNODE_FAILURES, TableClosedError } from '../../src/discover/table.js'
import { FakeNet, randomNode, randomTarget, until, type Peer } from './fakenet.js'

const nets: FakeNet[] = []
after(async () => {
  for (const n of nets) await n.close()
})

/** a started network of `count` nodes, all bootstrapped from the first one */
async function network(count: number): Promise<{ fn: FakeNet; peers: Peer[] }> {
  const fn = new FakeNet()
  nets.push(fn)
  const boot = fn.add(randomNode('127.0.0.1', 40000))
  const peers = [boot]
  for (let i = 1; i < count; i++) peers.push(fn.add(randomNode('127.0.0.1', 40000 + i), { bootnodes: [boot.node] }))
  // the bootnode first, then the rest as they would come up: each refresh teaches the others about it
  for (const p of peers) {
    p.table.start()
    await p.table.waitInit()
  }
  return { fn, peers }
}

function truth(all: Node[], target: Uint8Array, exclude: string, k = 16): string[] {
  return all
    .filter((n) => n.idHex !== exclude)
    .map((n) => ({ id: n.idHex, d: hex(xorBytes(n.id, target)) }))
    .sort((a, b) => (a.d < b.d ? -1 : 1))
    .slice(0, k)
    .map((x) => x.id)
}

describe('lookup', () => {
  it('finds the true 16 closest from any node of a 200-node network', async () => {
    const { peers } = await network(200)
    const all = peers.map((p) => p.node)
    let exact = 0
    for (const p of peers) {
      const target = randomTarget()
      const got = await lookup(p.table, target)
      assert.equal(got.length, 16)
      const want = truth(all, target.id, p.node.idHex)
      // results come nearest first
      assert.deepEqual(got.map((n) => n.idHex), [...got].sort((a, b) => (hex(xorBytes(a.id, target.id)) < hex(xorBytes(b.id, target.id)) ? -1 : 1)).map((n) => n.idHex))
      if (got.map((n) => n.idHex).join() === want.join()) exact++
      // Kademlia does not promise the exact set on a random topology, but never strays far from it
      const near = new Set(truth(all, target.id, p.node.idHex, 24))
      assert.ok(got.every((n) => near.has(n.idHex)), 'every result is among the 24 truly closest')
    }
    assert.ok(exact >= peers.length * 0.97, `${exact}/${peers.length} lookups found the exact 16 closest`)
  })

  it('keeps at most 3 FINDNODE requests in flight, and uses all 3', async () => {
    const { fn, peers } = await network(40)
    fn.delayMs = 3
    fn.maxInflight = 0
    await lookup(peers[7]!.table, randomTarget())
    assert.equal(fn.maxInflight, ALPHA)
  })

  it('returns nothing from an empty table', async () => {
    const fn = new FakeNet()
    nets.push(fn)
    const p = fn.add(randomNode())
    assert.deepEqual(await lookup(p.table, randomTarget()), [])
    assert.equal(fn.findnodeCalls, 0)
  })

  it('stops on abort: rejects with the reason and cancels in-flight requests', async () => {
    const { fn, peers } = await network(40)
    fn.delayMs = 20
    const ac = new AbortController()
    const started = fn.findnodeCalls
    const signalsBefore = fn.signals.length
    const p = lookup(peers[3]!.table, randomTarget(), { signal: ac.signal })
    await until(() => fn.findnodeCalls > started, 2000, 'first request')
    ac.abort(new Error('enough'))
    await assert.rejects(p, /enough/)
    const calls = fn.findnodeCalls
    const mine = fn.signals.slice(signalsBefore)
    assert.ok(mine.length > 0 && mine.every((s) => s.aborted), 'in-flight requests saw the abort')
    await new Promise((r) => setTimeout(r, 50))
    assert.equal(fn.findnodeCalls, calls, 'no request after abort')
  })

  it('rejects at once with an already aborted signal', async () => {
    const { fn, peers } = await network(5)
    const calls = fn.findnodeCalls
    await assert.rejects(lookup(peers[1]!.table, randomTarget(), { signal: AbortSignal.abort() }), { name: 'AbortError' })
    assert.equal(fn.findnodeCalls, calls)
  })

  it('counts failures of nodes that do not answer FINDNODE and drops them', async () => {
    const { fn, peers } = await network(30)
    const me = peers[5]!
    // from the fullest bucket: a nearly empty bucket keeps its last nodes regardless
    const broken = me.table.bucketContents(16).entries[0]!
    assert.ok(me.table.bucketContents(16).entries.length >= 4)
    fn.peers.get(broken.idHex)!.findnodeBroken = true
    let removed = false
    me.table.on('removed', (n) => (removed ||= n.idHex === broken.idHex))
    for (let i = 0; i < MAX_FINDNODE_FAILURES; i++) {
      assert.equal(removed, false, `dropped after only ${i} failures`)
      // target the broken node itself so that every lookup asks it (other nodes may hand it back
      // to us afterwards, so the drop is observed through the event)
      await lookup(me.table, { key: broken.pubkey, id: broken.id })
      assert.equal(me.db.findFails(broken.id, broken.ip), i + 1)
    }
    assert.equal(removed, true)
  })
})

describe('lookupIterator', () => {
  it('yields each new node once, and the closest of them match lookup()', async () => {
    const { peers } = await network(60)
    const target = randomTarget()
    const seen: string[] = []
    for await (const n of lookupIterator(peers[9]!.table, target)) seen.push(n.idHex)
    assert.equal(new Set(seen).size, seen.length, 'no duplicates')
    assert.ok(!seen.includes(peers[9]!.node.idHex), 'never yields ourselves')
    assert.ok(seen.length >= 16)
    const closest = await lookup(peers[9]!.table, target)
    const fromIter = truth(peers.map((p) => p.node).filter((n) => seen.includes(n.idHex)), target.id, '')
    assert.deepEqual(closest.map((n) => n.idHex), fromIter)
  })

  it('leaving the loop early cancels in-flight requests', async () => {
    const { fn, peers } = await network(40)
    fn.delayMs = 10
    const before = fn.signals.length
    let got = 0
    for await (const _ of lookupIterator(peers[2]!.table, randomTarget())) {
      if (++got === 20) break
    }
    const mine = fn.signals.slice(before)
    assert.ok(mine.length > 0 && mine.every((s) => s.aborted))
  })

  it('ends with the table: closing it rejects with TableClosedError', async () => {
    const { fn, peers } = await network(20)
    fn.delayMs = 20
    const p = lookup(peers[1]!.table, randomTarget())
    peers[1]!.table.close()
    await assert.rejects(p, TableClosedError)
  })
})

describe('randomWalk', () => {
  it('runs successive lookups until aborted', async () => {
    const { fn, peers } = await network(50)
    const ac = new AbortController()
    const seen = new Set<string>()
    let lookups = 0
    const table = peers[4]!.table
    const rt = table.transport.randomTarget
    table.transport.randomTarget = () => (lookups++, rt())
    await assert.rejects(
      (async () => {
        for await (const n of randomWalk(table, { signal: ac.signal, minIntervalMs: 1 })) {
          seen.add(n.idHex)
          if (lookups >= 3) ac.abort()
        }
      })(),
      { name: 'AbortError' },
    )
    assert.ok(lookups >= 3)
    assert.ok(seen.size >= 16)
    assert.ok(fn.findnodeCalls > 0)
  })

  it('refreshes an empty table from its bootnodes before walking', async () => {
    const fn = new FakeNet()
    nets.push(fn)
    const boot = fn.add(randomNode())
    boot.table.start()
    await boot.table.waitInit()
    for (let i = 0; i < 10; i++) fn.add(randomNode(), { bootnodes: [boot.node] }).table.start()
    await until(() => boot.table.size >= 5, 3000, 'bootnode learns the network')
    const me = fn.add(randomNode(), { bootnodes: [boot.node] })
    assert.equal(me.table.size, 0)
    const ac = new AbortController()
    const seen = new Set<string>()
    await assert.rejects(
      (async () => {
        for await (const n of randomWalk(me.table, { signal: ac.signal, minIntervalMs: 1 })) {
          seen.add(n.idHex)
          if (seen.size >= 5) ac.abort()
        }
      })(),
      { name: 'AbortError' },
    )
    assert.ok(me.table.size >= 5)
  })
})
