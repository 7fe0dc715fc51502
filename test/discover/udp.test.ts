import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createSocket, type Socket } from 'node:dgram'
import { randomPrivateKey, backend } from '../../src/crypto/backend.js'
import { hex } from '../../src/crypto/bytes.js'
import { Node } from '../../src/enode/node.js'
import { encodePacket, expiration, PacketType } from '../../src/discover/wire.js'
import { until } from './fakenet.js'
import { RawPeer } from './rawpeer.js'
import { closeNodes, startNode as start } from './nodes.js'

const sockets: Socket[] = []
after(async () => {
  await closeNodes()
  for (const s of sockets) s.close()
  RawPeer.closeAll()
})

/** a revalidation period longer than any test here */
const QUIET_TABLE_MS = 600_000

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('discv4 transport', () => {
  it('ping/pong bonds both ways and carries the ENR sequence number', async () => {
    const a = await start()
    const b = await start()
    const { seq } = await a.ping(b.self)
    assert.equal(seq, b.localENR.seq)
    // b got an unknown ping, answered it and pinged back: both hold proofs now
    await until(() => b.db.lastPongReceived(a.self.id, '127.0.0.1') > 0, 2000, 'b bonded with a')
    assert.ok(a.db.lastPongReceived(b.self.id, '127.0.0.1') > 0)
    assert.ok(b.db.lastPingReceived(a.self.id, '127.0.0.1') > 0)
  })

  for (const cryptoThreads of [0, 2]) {
    it(`signs and verifies ${cryptoThreads === 0 ? 'on the event loop' : 'in batches on 2 threads'} (cryptoThreads ${cryptoThreads}): ping, ENRRequest and FINDNODE are answered`, async () => {
      const a = await start({ cryptoThreads })
      // no revalidation during the test: b answers FINDNODE from revalidated entries once it has any
      // (geth's preferLive), and one ping landing mid-test would shrink the answer to that one entry
      const b = await start({ cryptoThreads, pingIntervalMs: QUIET_TABLE_MS })
      const known = await Promise.all(Array.from({ length: 3 }, () => start()))
      await b.table.waitInit()
      for (const k of known) b.table.addSeenNode(k.self)
      // many at once, so that batches hold more than one datagram
      const pongs = await Promise.all(Array.from({ length: 20 }, () => a.ping(b.self)))
      for (const p of pongs) assert.equal(p.seq, b.localENR.seq)
      await until(() => b.db.lastPongReceived(a.self.id, '127.0.0.1') > 0, 2000, 'b bonded with a')
      const r = await a.enrRequest(b.self)
      assert.equal(hex(r.nodeId), b.self.idHex)
      const target = a.randomTarget()
      const found = await a.findnode(b.self, target)
      const expected = b.table.closest(target.id, 16).filter((n) => n.idHex !== a.self.idHex)
      assert.deepEqual(new Set(found.map((n) => n.idHex)), new Set(expected.map((n) => n.idHex)))
      assert.equal(found.length, known.length)
      assert.equal(a.stats.dropped.verify, 0)
      assert.ok(a.stats.packetsOut >= 22 && a.stats.sendErrors === 0)
    })
  }

  it('answers a bonded findnode with neighbors (12 per packet, 16 at most) and an empty one when it knows nobody', async () => {
    const a = await start()
    const b = await start({ pingIntervalMs: QUIET_TABLE_MS })
    // b knows nobody: findnode still gets one (empty) neighbors packet
    assert.deepEqual(await a.findnode(b.self, a.randomTarget()), [])
    const known = await Promise.all(Array.from({ length: 20 }, () => start()))
    await b.table.waitInit()
    for (const k of known) b.table.addSeenNode(k.self)
    const raw = await RawPeer.create()
    raw.ping(b)
    await until(() => raw.of(PacketType.Ping).length > 0, 2000, 'ping back')
    raw.pongAll(b)
    await until(() => b.db.lastPongReceived(backend.keccak256(raw.pubkey), '127.0.0.1') > 0, 2000, 'bond')
    raw.send(b, { type: PacketType.FindNode, target: new Uint8Array(64).fill(1), expiration: expiration() })
    await until(() => raw.of(PacketType.Neighbors).length >= 2, 2000, 'neighbors')
    const sizes = raw.of(PacketType.Neighbors).map((d) => (d.packet.type === 4 ? d.packet.nodes.length : -1))
    assert.deepEqual(sizes, [12, 4])
    const target = a.randomTarget()
    const found = await a.findnode(b.self, target)
    // b also knows a (they bonded), and a never lists itself
    const expected = b.table.closest(target.id, 16).filter((n) => n.idHex !== a.self.idHex)
    assert.deepEqual(new Set(found.map((n) => n.idHex)), new Set(expected.map((n) => n.idHex)))
    assert.ok(found.length >= 15, `found ${found.length}, b knows ${b.table.size}`)
    const knownIds = new Set([...known.map((k) => k.self.idHex), hex(backend.keccak256(raw.pubkey))])
    for (const n of found) assert.ok(knownIds.has(n.idHex))
  })

  it('ignores findnode and ENRRequest from an unbonded sender: nothing sent back, no amplification', async () => {
    const b = await start()
    const raw = await RawPeer.create()
    for (let i = 0; i < 10; i++) raw.send(b, { type: PacketType.FindNode, target: new Uint8Array(64).fill(i), expiration: expiration() })
    raw.send(b, { type: PacketType.ENRRequest, expiration: expiration() })
    await sleep(200)
    assert.equal(raw.received.length, 0)
    assert.equal(b.stats.dropped.unbonded, 11)
    assert.ok(raw.bytesIn <= raw.bytesOut)
  })

  it('a pong with a wrong reply token is unsolicited and creates no bond', async () => {
    const b = await start()
    const raw = await RawPeer.create()
    raw.ping(b)
    await until(() => raw.of(PacketType.Ping).length > 0, 2000, 'ping back')
    raw.pongAll(b, true)
    await sleep(100)
    assert.equal(b.db.lastPongReceived(backend.keccak256(raw.pubkey), '127.0.0.1'), 0)
    assert.ok(b.stats.dropped.unsolicited >= 1)
    raw.send(b, { type: PacketType.FindNode, target: new Uint8Array(64), expiration: expiration() })
    await sleep(100)
    assert.equal(raw.of(PacketType.Neighbors).length, 0)
  })

  it('a bond made from one IP does not let another IP ask findnode', async () => {
    const b = await start()
    const raw = await RawPeer.create('127.0.0.1')
    raw.ping(b)
    await until(() => raw.of(PacketType.Ping).length > 0, 2000, 'ping back')
    raw.pongAll(b)
    const id = backend.keccak256(raw.pubkey)
    await until(() => b.db.lastPongReceived(id, '127.0.0.1') > 0, 2000, 'bond')
    // same key, other address
    const other = await RawPeer.create('127.0.0.2')
    Object.assign(other, { key: raw.key, pubkey: raw.pubkey })
    const { datagram } = encodePacket({ type: PacketType.FindNode, target: new Uint8Array(64), expiration: expiration() }, raw.key)
    other.sock.send(datagram, b.self.udp, '127.0.0.1')
    await sleep(150)
    assert.equal(other.received.length, 0)
    assert.equal(b.stats.dropped.unbonded, 1)
  })

  it('drops expired packets, replayed requests and unsolicited neighbors; answers repeated pings', async () => {
    const b = await start()
    const raw = await RawPeer.create()
    raw.send(b, { type: PacketType.Ping, version: 4, from: { ip: '127.0.0.1', udp: raw.port, tcp: 0 }, to: { ip: '127.0.0.1', udp: 1, tcp: 1 }, expiration: 1000 })
    // a replayed request: the first copy is judged (unbonded here), the replay dropped unread
    const { datagram } = encodePacket({ type: PacketType.ENRRequest, expiration: expiration() }, raw.key)
    raw.sock.send(datagram, b.self.udp, '127.0.0.1')
    raw.sock.send(datagram, b.self.udp, '127.0.0.1')
    raw.send(b, { type: PacketType.Neighbors, nodes: [], expiration: expiration() })
    // identical pings (a peer pinging twice within a second) are both answered
    const ping = encodePacket({ type: PacketType.Ping, version: 4, from: { ip: null, udp: 0, tcp: 0 }, to: { ip: null, udp: 0, tcp: 0 }, expiration: expiration() }, raw.key)
    raw.sock.send(ping.datagram, b.self.udp, '127.0.0.1')
    raw.sock.send(ping.datagram, b.self.udp, '127.0.0.1')
    await until(() => b.stats.dropped.expired + b.stats.dropped.duplicate + b.stats.dropped.unsolicited + b.stats.dropped.unbonded >= 4, 2000, 'drops')
    await until(() => raw.of(PacketType.Pong).length >= 2, 2000, 'pongs')
    await sleep(50) // room for a wrong third pong to show up
    assert.equal(b.stats.dropped.expired, 1)
    assert.equal(b.stats.dropped.unbonded, 1)
    assert.equal(b.stats.dropped.duplicate, 1)
    assert.equal(b.stats.dropped.unsolicited, 1)
    assert.equal(raw.of(PacketType.Pong).length, 2, 'both copies of the valid ping were answered, the expired one not')
  })

  it('survives garbage datagrams and keeps answering', async () => {
    const b = await start()
    const raw = await RawPeer.create()
    for (let i = 0; i < 200; i++) raw.sock.send(Buffer.from(Array.from({ length: (i * 7) % 1400 }, (_, j) => (i * j) & 0xff)), b.self.udp, '127.0.0.1')
    raw.ping(b)
    await until(() => raw.of(PacketType.Pong).length === 1, 2000, 'pong after garbage')
    const d = b.stats.dropped
    // everything that arrived besides the ping was dropped (the kernel may drop some of the burst)
    assert.equal(d.verify + d['too-large'] + d.duplicate, b.stats.packetsIn - 1, JSON.stringify(d))
    assert.ok(d.verify >= 50)
  })

  it('serves a well-behaved loopback peer without limits, and rate-limits when limits apply to LAN', async () => {
    const free = await start()
    const limited = await start({ limitsOnLAN: true, rateLimit: { perMinute: 60, burst: 10 } })
    const raw = await RawPeer.create()
    for (let i = 0; i < 30; i++) {
      raw.send(free, { type: PacketType.ENRRequest, expiration: expiration() + i })
      raw.send(limited, { type: PacketType.ENRRequest, expiration: expiration() + i })
    }
    await until(() => free.stats.dropped.unbonded === 30, 2000, 'free saw all')
    await until(() => limited.stats.dropped.rate + limited.stats.dropped.unbonded === 30, 2000, 'limited saw all')
    assert.equal(free.stats.dropped.rate, 0)
    assert.equal(limited.stats.dropped.rate, 20)
  })

  it('fetches a node record with ENRRequest and checks it belongs to the node', async () => {
    const a = await start()
    const b = await start({ enrEntries: { eth: [[Uint8Array.of(1, 2, 3, 4), new Uint8Array(0)]] } })
    const r = await a.enrRequest(b.self)
    assert.equal(hex(r.nodeId), b.self.idHex)
    assert.equal(r.seq, b.localENR.seq)
    assert.deepEqual(r.ethForkId, { hash: Uint8Array.of(1, 2, 3, 4), next: 0n })
    assert.equal(r.udp, b.self.udp)
  })

  it('bonds once with a node that answers pings but never pings back, and again after it goes silent', async () => {
    // long enough for the test's pong to arrive on a loaded machine; the silent round waits it out once
    const a = await start({ replyTimeoutMs: 1000 })
    const raw = await RawPeer.create()
    const answerFindnodes = (): void => void raw.send(a, { type: PacketType.Neighbors, nodes: [], expiration: expiration() })
    const first = a.findnode(raw.node, a.randomTarget())
    await until(() => raw.of(PacketType.Ping).length === 1, 2000, 'bonding ping')
    raw.pongAll(a)
    await until(() => raw.of(PacketType.FindNode).length === 1, 2000, 'first findnode')
    answerFindnodes()
    assert.deepEqual(await first, [])
    const second = a.findnode(raw.node, a.randomTarget())
    await until(() => raw.of(PacketType.FindNode).length === 2, 2000, 'second findnode')
    answerFindnodes()
    assert.deepEqual(await second, [])
    assert.equal(raw.of(PacketType.Ping).length, 1, 'no second bonding round')
    // unanswered: the next request bonds again
    await assert.rejects(a.findnode(raw.node, a.randomTarget()), { code: 'TIMEOUT' })
    const fourth = a.findnode(raw.node, a.randomTarget()).catch(() => undefined)
    await until(() => raw.of(PacketType.Ping).length === 2, 2000, 'bonding again')
    await fourth
  })

  it('neighbors() says whether an answer is whole; bond: false skips bonding; timeoutMs sets the wait', async () => {
    const a = await start({ replyTimeoutMs: 5000 })
    const raw = await RawPeer.create()
    const listed = Array.from({ length: 12 }, (_, i) => ({ ip: `127.0.9.${i + 1}`, udp: 30303, tcp: 30303, pubkey: backend.publicKey(randomPrivateKey()) }))
    // no bonding round: the FINDNODE goes out at once, and a full packet with no sequel ends at our 150 ms
    const t0 = performance.now()
    const partial = a.neighbors(raw.node, a.randomTarget(), { bond: false, timeoutMs: 150 })
    await until(() => raw.of(PacketType.FindNode).length === 1, 2000, 'findnode')
    assert.equal(raw.of(PacketType.Ping).length, 0, 'no bonding ping')
    raw.send(a, { type: PacketType.Neighbors, nodes: listed, expiration: expiration() })
    const p = await partial
    assert.equal(p.nodes.length, 12)
    assert.equal(p.complete, false)
    assert.ok(performance.now() - t0 < 4000, 'ended by its own timeout, not the transport default')
    // 12 and then a short packet: whole
    const whole = a.neighbors(raw.node, a.randomTarget(), { bond: false })
    await until(() => raw.of(PacketType.FindNode).length === 2, 2000, 'second findnode')
    raw.send(a, { type: PacketType.Neighbors, nodes: listed, expiration: expiration() })
    raw.send(a, { type: PacketType.Neighbors, nodes: listed.slice(0, 3).map((n, i) => ({ ...n, ip: `127.0.8.${i + 1}`, pubkey: backend.publicKey(randomPrivateKey()) })), expiration: expiration() })
    const w = await whole
    assert.equal(w.nodes.length, 15)
    assert.equal(w.complete, true)
    // a ping with its own timeout
    await assert.rejects(a.ping(new Node(backend.publicKey(randomPrivateKey()), '127.0.0.1', 9, 9), { timeoutMs: 50 }), { code: 'TIMEOUT' })
  })

  it('times out requests to a silent node', async () => {
    const a = await start({ replyTimeoutMs: 100 })
    const silent = createSocket('udp4')
    sockets.push(silent)
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()))
    const n = new Node(backend.publicKey(randomPrivateKey()), '127.0.0.1', silent.address().port, 0)
    await assert.rejects(a.ping(n), { name: 'DiscoveryError', code: 'TIMEOUT' })
    assert.equal(a.stats.pending, 0)
    // an address the socket refuses (port 0) is a request that goes unanswered, not a throw
    await assert.rejects(a.ping(new Node(n.pubkey, '127.0.0.1', 0, 0)), { name: 'DiscoveryError', code: 'TIMEOUT' })
    assert.equal(a.stats.sendErrors, 1)
  })

  it('a bumped sequence number after restart: the node DB keeps the local seq', async () => {
    const a = await start()
    const seq1 = a.localENR.seq
    const key = randomPrivateKey()
    const b1 = await start({ privateKey: key, db: a.db })
    assert.ok(b1.localENR.seq > seq1)
  })
})

describe('discv4 network', () => {
  it('20 nodes bootstrapped from one find each other through lookups', async () => {
    // 21 nodes share one event loop; a generous reply timeout keeps a loaded machine from losing bonds
    const replyTimeoutMs = 2000
    const boot = await start({ replyTimeoutMs })
    const nodes = await Promise.all(Array.from({ length: 20 }, () => start({ bootnodes: [boot.self], replyTimeoutMs })))
    await Promise.all(nodes.map((n) => n.table.waitInit()))
    // a second round of lookups spreads knowledge beyond the bootnode
    await Promise.all(nodes.map((n) => n.lookup()))
    const sizes = nodes.map((n) => n.table.size)
    assert.ok(sizes.every((s) => s >= 5), `table sizes ${sizes.join(',')}`)
    assert.ok(boot.table.size >= 15, `bootnode knows ${boot.table.size}`)
    // the iterator yields nodes as they come
    const seen = new Set<string>()
    for await (const n of nodes[0]!.lookupIterator()) seen.add(n.idHex)
    assert.ok(seen.size >= 10, `iterator yielded ${seen.size}`)
  })
})
