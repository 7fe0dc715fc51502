/**
 * Adversarial load on the discv4 transport over loopback. Each case floods or feeds hostile packets,
 * then checks that the node still answers a fresh peer's ping and that what it keeps (pending
 * replies, table, heap) did not grow with the attack. Complements test/discover/udp*.test.ts, which
 * cover single wrong tokens, bonds per IP, garbage datagrams and the /24 limits at small scale.
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { ALL_BACKENDS, backend, loadBackend, randomPrivateKey } from '../../src/crypto/backend.js'
import { concatBytes } from '../../src/crypto/bytes.js'
import type { CryptoBackend } from '../../src/crypto/types.js'
import { Node } from '../../src/enode/node.js'
import { DiscoveryError } from '../../src/discover/common.js'
import type { Discv4 } from '../../src/discover/udp.js'
import { N_BUCKETS } from '../../src/discover/kademlia.js'
import { BUCKET_IP_LIMIT, TABLE_IP_LIMIT } from '../../src/discover/table.js'
import { encodePacket, expiration, PacketType, type NeighborNode } from '../../src/discover/wire.js'
import { encodeRLP } from '../../src/util/rlp.js'
import { until } from '../discover/fakenet.js'
import { RawPeer } from '../discover/rawpeer.js'
import { closeNodes, startNode as start } from '../discover/nodes.js'
import { answersFreshPing, assertHeapBounded, BAD_KEYS, bytes, heapAfterGC, paced, sleep } from './helpers.js'

after(async () => {
  await closeNodes()
  RawPeer.closeAll()
})

/**
 * raw pings d and answers d's ping back: d then holds an endpoint proof for raw, and raw one for d.
 * Like a real peer it tries again when a round trip is lost (a loaded machine can let d's ping expire
 * before the answer is read); only the last attempt's failure fails the test.
 */
async function bond(d: Discv4, raw: RawPeer, attempts = 3): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      const pingsBefore = raw.of(PacketType.Ping).length
      raw.ping(d)
      await until(() => raw.of(PacketType.Ping).length > pingsBefore, 3000, `ping back to ${raw.ip}`)
      raw.pongAll(d)
      await until(() => d.db.lastPongReceived(raw.node.id, raw.ip) > 0, 3000, `bond with ${raw.ip}`)
      return
    } catch (err) {
      if (i >= attempts) throw err
    }
  }
}

const MiB = 2 ** 20

describe('discv4 under unsolicited replies', () => {
  it('drops thousands of valid-but-unsolicited pongs and neighbors; nothing grows, a fresh ping is answered', async () => {
    const d = await start()
    await d.table.waitInit()
    const peers = await Promise.all(Array.from({ length: 8 }, (_, i) => RawPeer.create(`127.0.1.${i + 1}`)))
    // real nodes, each valid on the curve, so the neighbors packets pass every decoding check
    const listed: NeighborNode[] = Array.from({ length: 12 }, (_, i) => ({ ip: `127.0.2.${i + 1}`, udp: 30303, tcp: 30303, pubkey: backend.publicKey(randomPrivateKey()) }))
    const heap0 = heapAfterGC()
    const { packetsIn: in0, packetsOut: out0 } = d.stats
    const N = 2000
    await paced(N, (i) => {
      const to = { ip: '127.0.0.1', udp: d.self.udp, tcp: 0 }
      peers[i % peers.length]!.send(d, { type: PacketType.Pong, to, replyTok: new Uint8Array(randomBytes(32)), expiration: expiration() + (i % 7) })
    })
    await paced(N, (i) => peers[i % peers.length]!.send(d, { type: PacketType.Neighbors, nodes: listed, expiration: expiration() + (i % 7) }))
    const probes = await answersFreshPing(d)
    const arrived = d.stats.packetsIn - in0
    assert.ok(arrived >= N / 2, `only ${arrived} of ${2 * N} flood datagrams arrived`)
    // besides the probe's pings (some may have been lost to a full socket buffer), all was dropped
    const kept = arrived - d.stats.dropped.unsolicited
    assert.ok(kept >= 1 && kept <= probes, `${kept} datagrams not dropped as unsolicited, ${probes} probes`)
    // nothing answered the flood: pongs to the probe and one ping back to it are all that went out
    assert.ok(d.stats.packetsOut - out0 <= 2 * probes, `${d.stats.packetsOut - out0} packets out`)
    for (const p of peers) assert.equal(p.received.length, 0)
    assert.equal(d.table.size, 0, 'no listed node reached the table')
    // at most one ping back per probe ping: the flood itself left nothing pending
    assert.ok(d.stats.pending <= probes, `pending ${d.stats.pending} after ${probes} probes`)
    assertHeapBounded(heap0, 32 * MiB, 'unsolicited flood')
  })

  it('a ping flood from a thousand silent identities: pending replies are bounded and expire, the table stays empty', async () => {
    const d = await start({ replyTimeoutMs: 200 })
    await d.table.waitInit()
    const senders = await Promise.all(Array.from({ length: 4 }, (_, i) => RawPeer.create(`127.0.3.${i + 1}`)))
    const heap0 = heapAfterGC()
    const N = 1000
    let maxPending = 0
    await paced(N, (i) => {
      const s = senders[i % senders.length]!
      const { datagram } = encodePacket(
        { type: PacketType.Ping, version: 4, from: { ip: s.ip, udp: s.port, tcp: 0 }, to: { ip: '127.0.0.1', udp: d.self.udp, tcp: 0 }, expiration: expiration() },
        randomPrivateKey(),
      )
      s.sock.send(datagram, d.self.udp, '127.0.0.1')
      maxPending = Math.max(maxPending, d.stats.pending)
    })
    await answersFreshPing(d)
    assert.ok(maxPending <= d.stats.packetsIn, `pending peaked at ${maxPending}`)
    // each ping got a pong and a ping back (geth does the same); the pings back time out unanswered
    await until(() => d.stats.pending === 0, 5000, 'pending pings back expire')
    assert.equal(d.stats.timeouts, d.stats.packetsOut / 2, 'one ping back per pong, each timed out')
    assert.equal(d.table.size, 0)
    assertHeapBounded(heap0, 32 * MiB, 'ping flood')
  })
})

describe('discv4 requests before endpoint proof', () => {
  it('findnode and ENRRequest from 200 unbonded addresses: nothing sent back, bytes out ≤ bytes in', async () => {
    // no revalidation pings to the table's (unreachable) entries: every packet out must be an answer
    const d = await start({ pingIntervalMs: 3_600_000 })
    await d.table.waitInit()
    // the node knows people, so an answered findnode would be a large reply
    for (let i = 0; i < 32; i++) d.table.addSeenNode(new Node(backend.publicKey(randomPrivateKey()), `10.0.${i}.1`, 30303, 30303))
    const flooders = await Promise.all(Array.from({ length: 200 }, (_, i) => RawPeer.create(`127.0.${10 + (i >> 7)}.${(i & 127) + 1}`)))
    // half of them pinged first (so the node knows their ping) but never answered its ping back
    for (const f of flooders.slice(0, 100)) f.ping(d)
    await until(() => flooders.slice(0, 100).every((f) => f.of(PacketType.Pong).length === 1), 3000, 'pongs to the first pings')
    const { bytesIn: in0, bytesOut: out0, packetsIn: pin0, packetsOut: out0Packets } = d.stats
    const drops0 = d.stats.dropped.unbonded + d.stats.dropped.duplicate
    await paced(flooders.length * 7, (i) => {
      const f = flooders[i % flooders.length]!
      const round = Math.floor(i / flooders.length)
      if (round < 5) f.send(d, { type: PacketType.FindNode, target: new Uint8Array(randomBytes(64)), expiration: expiration() })
      else f.send(d, { type: PacketType.ENRRequest, expiration: expiration() + round })
    })
    const probes = await answersFreshPing(d)
    const bytesOut = d.stats.bytesOut - out0
    const bytesIn = d.stats.bytesIn - in0
    const arrived = d.stats.packetsIn - pin0
    assert.ok(arrived >= 700, `only ${arrived} requests arrived`)
    // every request was dropped before any work; only the probe's pings got through
    const kept = arrived - (d.stats.dropped.unbonded + d.stats.dropped.duplicate - drops0)
    assert.ok(kept >= 1 && kept <= probes, `${kept} datagrams not dropped, ${probes} probes`)
    // what went out at all went to the probe: a pong per ping and one ping back
    assert.ok(d.stats.packetsOut - out0Packets <= probes + 1, `${d.stats.packetsOut - out0Packets} packets out`)
    assert.ok(bytesOut <= bytesIn, `amplification: ${bytesOut} bytes out for ${bytesIn} in`)
    for (const f of flooders) assert.equal(f.of(PacketType.Neighbors).length + f.of(PacketType.ENRResponse).length, 0, `${f.ip} got an answer`)
  })
})

describe('public keys that are not curve points', () => {
  it('skips neighbors entries carrying bad keys and keeps the good ones', async () => {
    const d = await start()
    const raw = await RawPeer.create('127.0.20.1')
    await bond(d, raw)
    const good = [0, 1].map((i) => ({ ip: `127.0.21.${i + 1}`, udp: 30303, tcp: 30303, pubkey: backend.publicKey(randomPrivateKey()) }))
    const bad = BAD_KEYS.map(([, key], i) => ({ ip: `127.0.22.${i + 1}`, udp: 30303, tcp: 30303, pubkey: key }))
    const asked = d.findnode(raw.node, d.randomTarget())
    await until(() => raw.of(PacketType.FindNode).length === 1, 3000, 'findnode')
    raw.send(d, { type: PacketType.Neighbors, nodes: [...bad.slice(0, 2), ...good, ...bad.slice(2)], expiration: expiration() })
    const found = await asked
    assert.deepEqual(found.map((n) => n.ip).sort(), good.map((n) => n.ip))
    assert.equal(d.stats.dropped.malformed, 0, 'the packet itself was good')
    await answersFreshPing(d)
  })

  it('refuses ENRResponses whose record carries a bad compressed key with a typed BAD_RECORD', async () => {
    const d = await start()
    const raw = await RawPeer.create('127.0.23.1')
    await bond(d, raw)
    const x = (h: string) => bytes(h)
    const keys: Array<[string, Uint8Array]> = [
      ['x ≥ p', concatBytes(Uint8Array.of(2), x('fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc30'))],
      ['x = p', concatBytes(Uint8Array.of(3), x('fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f'))],
      // x = 5: 5³ + 7 = 132 is not a square mod p, so no point has this x
      ['no point', concatBytes(Uint8Array.of(2), x('00'.repeat(31) + '05'))],
      ['bad prefix', concatBytes(Uint8Array.of(4), raw.pubkey.subarray(0, 32))],
    ]
    const text = new TextEncoder()
    for (const [what, key] of keys) {
      const record = encodeRLP([new Uint8Array(64).fill(1), Uint8Array.of(1), text.encode('id'), text.encode('v4'), text.encode('secp256k1'), key])
      const before = raw.of(PacketType.ENRRequest).length
      const asked = d.enrRequest(raw.node)
      await until(() => raw.of(PacketType.ENRRequest).length === before + 1, 3000, 'ENRRequest')
      const req = raw.of(PacketType.ENRRequest)[before]!
      raw.send(d, { type: PacketType.ENRResponse, replyTok: req.hash, record })
      await assert.rejects(asked, (e: unknown) => e instanceof DiscoveryError && e.code === 'BAD_RECORD', what)
    }
    await answersFreshPing(d)
  })

  it('drops datagrams whose signature cannot recover a key (r ≥ p, r ≥ n, zero, bad recovery id) on every backend', async () => {
    const backends: CryptoBackend[] = []
    for (const name of ALL_BACKENDS) {
      try {
        backends.push(loadBackend(name))
      } catch {
        // not built here; the others still run
      }
    }
    const raw = await RawPeer.create('127.0.24.1')
    const payload = concatBytes(Uint8Array.of(PacketType.Ping), encodeRLP([Uint8Array.of(4), [new Uint8Array(4), new Uint8Array(0), new Uint8Array(0)], [new Uint8Array(4), new Uint8Array(0), new Uint8Array(0)], Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff)]))
    const P = 'fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f'
    const N = 'fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141'
    const sigs = [
      [P, '01'.repeat(32), 0],
      ['ff'.repeat(32), '01'.repeat(32), 1],
      [N, '01'.repeat(32), 0],
      ['00'.repeat(32), '00'.repeat(32), 0],
      ['01'.repeat(32), N, 1],
      ['01'.repeat(32), '01'.repeat(32), 4],
      ['01'.repeat(32), '01'.repeat(32), 255],
    ] as const
    for (const b of backends) {
      const d = await start({ backend: b })
      for (const [r, s, v] of sigs) {
        const tail = concatBytes(bytes(r), bytes(s), Uint8Array.of(v), payload)
        raw.sock.send(concatBytes(b.keccak256(tail), tail), d.self.udp, '127.0.0.1')
      }
      await answersFreshPing(d)
      assert.equal(d.stats.dropped.verify, sigs.length, `${b.name}: ${JSON.stringify(d.stats.dropped)}`)
    }
  })
})

describe('discv4 table against one /24', () => {
  it('90 identities on 30 addresses of one /24 get at most 10 table slots; a node from elsewhere still gets in', async () => {
    // a generous reply timeout: the test is about IP limits, not about how fast a loaded machine answers
    const d = await start({ limitsOnLAN: true, replyTimeoutMs: 2000 })
    await d.table.waitInit()
    const heap0 = heapAfterGC()
    const attackers = await Promise.all(Array.from({ length: 90 }, (_, i) => RawPeer.create(`127.0.30.${(i % 30) + 1}`)))
    for (let i = 0; i < attackers.length; i += 30) await Promise.all(attackers.slice(i, i + 30).map((a) => bond(d, a)))
    const honest = await RawPeer.create('127.0.31.1')
    await bond(d, honest)
    // the table adds a node after its own ping round trip; wait for the honest one to land
    await until(() => d.table.closest(honest.node.id, 1)[0]?.idHex === honest.node.idHex, 3000, 'honest node in the table')
    await sleep(100)
    let fromSubnet = 0
    for (let i = 0; i < N_BUCKETS; i++) {
      const inBucket = d.table.bucketContents(i).entries.filter((n) => n.ip.startsWith('127.0.30.')).length
      assert.ok(inBucket <= BUCKET_IP_LIMIT, `bucket ${i} holds ${inBucket} of the /24`)
      fromSubnet += inBucket
    }
    assert.ok(fromSubnet <= TABLE_IP_LIMIT, `the /24 holds ${fromSubnet} slots`)
    assert.ok(d.table.size <= TABLE_IP_LIMIT + 1)
    await answersFreshPing(d)
    assertHeapBounded(heap0, 32 * MiB, '/24 flood')
  })
})
