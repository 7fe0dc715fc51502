/**
 * The transport's defences and self-knowledge, driven from many loopback addresses: endpoint
 * prediction from pongs, the table's /24 limits on inbound bonds, and the NTP drift check.
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createSocket, type Socket } from 'node:dgram'
import { randomPrivateKey, backend } from '../../src/crypto/backend.js'
import { Node } from '../../src/enode/node.js'
import type { Discv4 } from '../../src/discover/udp.js'
import { clockOffset, sntpOffset, NTPError } from '../../src/discover/ntp.js'
import { PacketType } from '../../src/discover/wire.js'
import { N_BUCKETS } from '../../src/discover/kademlia.js'
import { TABLE_IP_LIMIT, BUCKET_IP_LIMIT } from '../../src/discover/table.js'
import { until } from './fakenet.js'
import { RawPeer } from './rawpeer.js'
import { closeNodes, startNode as start } from './nodes.js'

const sockets: Socket[] = []
after(async () => {
  await closeNodes()
  for (const s of sockets) s.close()
  RawPeer.closeAll()
})

/** Bond `raw` with `d`: raw pings, answers d's ping back, and d ends up holding a proof for raw. */
async function bond(d: Discv4, raw: RawPeer, seen?: { ip: string; udp: number }): Promise<void> {
  raw.ping(d)
  await until(() => raw.of(PacketType.Ping).length > 0, 2000, `ping back to ${raw.ip}`)
  raw.pongAll(d, false, seen)
  await until(() => d.db.lastPongReceived(raw.node.id, raw.ip) > 0, 2000, `bond with ${raw.ip}`)
}

describe('endpoint prediction', () => {
  it('re-signs the ENR with the address enough distinct peers report, and only then', async () => {
    const d = await start({ limitsOnLAN: true, endpointStatements: 3 })
    const seq0 = d.localENR.seq
    const seen = { ip: '203.0.113.7', udp: 30999 }
    const changes: string[] = []
    d.on('endpoint', (ep, enr) => changes.push(`${ep.ip}:${ep.port} seq ${enr.seq}`))
    const peers = await Promise.all([2, 3, 4].map((i) => RawPeer.create(`127.0.0.${i}`)))
    // two reporters are not enough
    await bond(d, peers[0]!, seen)
    await bond(d, peers[1]!, seen)
    assert.equal(d.predictedEndpoint(), undefined)
    assert.equal(d.localENR.ip, '127.0.0.1')
    // the same reporter twice still counts once
    peers[0]!.received.length = 0
    const again = d.ping(peers[0]!.node)
    await until(() => peers[0]!.of(PacketType.Ping).length > 0, 2000, 'second ping')
    peers[0]!.pongAll(d, false, seen)
    await again
    assert.equal(d.predictedEndpoint(), undefined)
    await bond(d, peers[2]!, seen)
    await until(() => changes.length === 1, 2000, 'endpoint event')
    assert.deepEqual(d.predictedEndpoint(), { ip: seen.ip, port: seen.udp })
    assert.equal(d.localENR.ip, seen.ip)
    assert.equal(d.localENR.seq, seq0 + 1n)
    assert.equal(d.db.localSeq(), seq0 + 1n, 'the new sequence number is persisted')
  })

  it('ignores what LAN peers report unless limits apply to LAN', async () => {
    const d = await start({ endpointStatements: 1 })
    const raw = await RawPeer.create('127.0.0.5')
    await bond(d, raw, { ip: '203.0.113.9', udp: 1234 })
    assert.equal(d.predictedEndpoint(), undefined)
    assert.equal(d.localENR.ip, '127.0.0.1')
  })
})

describe('table IP limits through the transport', () => {
  /** 24 bonded identities, each from its own address in one /24 */
  async function flood(d: Discv4): Promise<void> {
    await d.table.waitInit()
    const peers = await Promise.all(Array.from({ length: 24 }, (_, i) => RawPeer.create(`127.0.1.${i + 10}`)))
    for (const p of peers) await bond(d, p)
    // the table adds after its own ping round trip completes
    await new Promise((r) => setTimeout(r, 100))
  }

  it('admits at most 10 nodes of one /24, 2 per bucket, when limits apply', async () => {
    const d = await start({ limitsOnLAN: true })
    await flood(d)
    assert.ok(d.table.size <= TABLE_IP_LIMIT, `table holds ${d.table.size}`)
    assert.ok(d.table.size >= BUCKET_IP_LIMIT, `some got in: ${d.table.size}`)
    for (let i = 0; i < N_BUCKETS; i++) assert.ok(d.table.bucketContents(i).entries.length <= BUCKET_IP_LIMIT, `bucket ${i}`)
  })

  it('exempts loopback by default, as geth does', async () => {
    const d = await start()
    await flood(d)
    assert.ok(d.table.size > TABLE_IP_LIMIT, `table holds ${d.table.size}`)
  })
})

/** A fake SNTP server on loopback whose clock is `skewMs` ahead of ours. */
async function fakeNtp(skewMs: number): Promise<{ port: number; queries: () => number }> {
  const sock = createSocket('udp4')
  sockets.push(sock)
  let queries = 0
  sock.on('message', (msg, from) => {
    if (msg.length < 48) return
    queries++
    const reply = Buffer.alloc(48)
    reply[0] = 0x24 // version 4, mode 4 (server)
    msg.copy(reply, 24, 40, 48) // originate = the client's transmit time
    const t = Date.now() + skewMs
    const secs = Math.floor(t / 1000) + 2_208_988_800
    const frac = Math.floor(((t % 1000) / 1000) * 2 ** 32)
    for (const at of [32, 40]) {
      reply.writeUInt32BE(secs >>> 0, at)
      reply.writeUInt32BE(frac >>> 0, at + 4)
    }
    sock.send(reply, from.port, from.address)
  })
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()))
  return { port: sock.address().port, queries: () => queries }
}

describe('NTP clock-drift check', () => {
  it('measures the offset against an SNTP server', async () => {
    const ahead = await fakeNtp(60_000)
    const offset = await clockOffset('127.0.0.1', ahead.port)
    assert.ok(Math.abs(offset - 60_000) < 1000, `offset ${offset}`)
    const exact = await fakeNtp(0)
    assert.ok(Math.abs(await sntpOffset('127.0.0.1', exact.port)) < 1000)
  })

  it('rejects with NTPError when nobody answers', async () => {
    const silent = createSocket('udp4')
    sockets.push(silent)
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()))
    await assert.rejects(sntpOffset('127.0.0.1', silent.address().port, 100), NTPError)
  })

  it('warns after 32 consecutive timeouts when the clock is off, once per cooldown', async () => {
    const ntp = await fakeNtp(-45_000)
    const d = await start({ replyTimeoutMs: 50, ntpServer: `127.0.0.1:${ntp.port}` })
    const drifts: number[] = []
    d.on('clockDrift', (ms) => drifts.push(ms))
    const silent = createSocket('udp4')
    sockets.push(silent)
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()))
    const dead = () => new Node(backend.publicKey(randomPrivateKey()), '127.0.0.1', silent.address().port, 0)
    await Promise.allSettled(Array.from({ length: 31 }, () => d.ping(dead())))
    assert.equal(ntp.queries(), 0, 'no check before the 32nd timeout')
    await d.ping(dead()).catch(() => undefined)
    await until(() => drifts.length === 1, 3000, 'clockDrift event')
    assert.ok(Math.abs(drifts[0]! + 45_000) < 1000, `drift ${drifts[0]}`)
    // another 32 timeouts inside the cooldown ask nobody
    const asked = ntp.queries()
    await Promise.allSettled(Array.from({ length: 32 }, () => d.ping(dead())))
    assert.equal(ntp.queries(), asked)
  })

  it('reports an NTP server it cannot query as ntpError, and no drift', async () => {
    // port 0 makes every send fail at once: the failure path without waiting out query timeouts
    const d = await start({ replyTimeoutMs: 50, ntpServer: '127.0.0.1:0' })
    const errors: Error[] = []
    const drifts: number[] = []
    d.on('ntpError', (err) => errors.push(err))
    d.on('clockDrift', (ms) => drifts.push(ms))
    const silent = createSocket('udp4')
    sockets.push(silent)
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()))
    const dead = () => new Node(backend.publicKey(randomPrivateKey()), '127.0.0.1', silent.address().port, 0)
    await Promise.allSettled(Array.from({ length: 32 }, () => d.ping(dead())))
    await until(() => errors.length === 1, 3000, 'ntpError event')
    assert.ok(errors[0] instanceof NTPError, String(errors[0]))
    assert.deepEqual(drifts, [])
  })
})
