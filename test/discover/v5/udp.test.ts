/** The discv5 transport over loopback: handshakes both ways, requests, serving, and what it refuses. */
import assert from 'node:assert/strict'
import { createSocket, type Socket } from 'node:dgram'
import { randomBytes } from 'node:crypto'
import { after, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { backend, randomPrivateKey } from '../../../src/crypto/backend.js'
import { logDistance } from '../../../src/discover/kademlia.js'
import { ENR } from '../../../src/enode/enr.js'
import { Discv5 } from '../../../src/discover/v5/udp.js'
import { deriveKeys, idSign } from '../../../src/discover/v5/crypto.js'
import { decodeHeader, encodeMessage, encodePacket, Flag, handshakeAuthdata, headerData, parseWhoareyou } from '../../../src/discover/v5/wire.js'
import { compressPubkey } from '../../../src/enode/enr.js'
import { TIME_SCALE } from '../../timing.js'

const open: { close(): Promise<void> }[] = []
after(async () => {
  for (const o of open.reverse()) await o.close()
})

async function node(extra: Partial<Parameters<typeof Discv5.listen>[0]> = {}): Promise<Discv5> {
  const d = await Discv5.listen({ privateKey: randomPrivateKey(), host: '127.0.0.1', port: 0, enr: { ip: '127.0.0.1' }, replyTimeoutMs: 500 * TIME_SCALE, ...extra })
  open.push(d)
  return d
}

async function raw(): Promise<{ s: Socket; got: Buffer[] }> {
  const s = createSocket('udp4')
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r))
  const got: Buffer[] = []
  s.on('message', (m) => got.push(m))
  open.push({ close: () => new Promise<void>((r) => s.close(() => r())) })
  return { s, got }
}

/** records of fresh keys at log distance `d` from `id` (found by trying keys: d near 256 is quick) */
function recordsAt(id: Uint8Array, d: number, n: number): ENR[] {
  const out: ENR[] = []
  for (let i = 0; out.length < n && i < 100_000; i++) {
    const k = randomPrivateKey()
    const r = ENR.sign(k, { seq: 1n, ip: '127.0.0.9', udp: 9000 + i })
    if (logDistance(r.nodeId, id) === d) out.push(r)
  }
  return out
}

describe('discv5 transport', () => {
  it('PING with a handshake, then PONG the other way in the same session; PONG reports our endpoint', async () => {
    const a = await node()
    const b = await node()
    const pong = await a.ping(b.localENR)
    assert.equal(pong.enrSeq, b.localENR.seq)
    assert.deepEqual([pong.ip, pong.port], ['127.0.0.1', a.port])
    assert.equal(a.stats.handshakes, 1)
    assert.equal(b.stats.handshakes, 1)
    // b learnt a's record in the handshake and reuses the session to ask back
    assert.ok(b.knownRecord(a.idHex))
    await b.ping(a.localENR)
    assert.equal(a.stats.handshakes + b.stats.handshakes, 2, 'no second handshake')
  })

  it('FINDNODE: distance 0 is the own record; other distances from the source, at those distances only', async () => {
    const source: ENR[] = []
    const srv = await node({ nodes: () => source })
    const right = recordsAt(srv.id, 256, 3)
    // a source that also hands out records at another distance: they never leave the server
    source.push(...right, ...recordsAt(srv.id, 255, 2))
    const a = await node()
    const [own] = await a.findnode(srv.localENR, [0])
    assert.equal(own!.toText(), srv.localENR.toText())
    const got = await a.findnode(srv.localENR, [256])
    assert.deepEqual(new Set(got.map((r) => r.toText())), new Set(right.map((r) => r.toText())))
  })

  it('NODES spread over packets when the records do not fit one; the total is kept', async () => {
    const a = await node()
    const recs: ENR[] = []
    const srv = await node({ nodes: () => recs })
    recs.push(...recordsAt(srv.id, 256, 12))
    let packets = 0
    a.on('message', (m) => m.type === 4 && packets++)
    const got = await a.findnode(srv.localENR, [256])
    assert.equal(got.length, 12)
    assert.ok(packets > 1, `${packets} NODES packets`)
    assert.deepEqual(new Set(got.map((r) => r.toText())), new Set(recs.map((r) => r.toText())))
  })

  it('TALKREQ: a handler answers, an unknown protocol gets an empty TALKRESP', async () => {
    const a = await node()
    const b = await node()
    b.onTalk('echo', (req) => Uint8Array.from([...req].reverse()))
    assert.deepEqual(await a.talkReq(b.localENR, 'echo', Uint8Array.of(1, 2, 3)), Uint8Array.of(3, 2, 1))
    assert.deepEqual(await a.talkReq(b.localENR, 'nobody-speaks-this', Uint8Array.of(1)), new Uint8Array(0))
  })

  it('requests sent together before any session share one handshake', async () => {
    const a = await node()
    const b = await node()
    b.onTalk('x', () => Uint8Array.of(7))
    const [p, f, t] = await Promise.all([a.ping(b.localENR), a.findnode(b.localENR, [0]), a.talkReq(b.localENR, 'x', new Uint8Array(0))])
    assert.equal(p.enrSeq, b.localENR.seq)
    assert.equal(f.length, 1)
    assert.deepEqual(t, Uint8Array.of(7))
    assert.equal(a.stats.handshakes, 1)
  })

  it('a node that lost our session (restarted) is handshaken with again', async () => {
    const key = randomPrivateKey()
    const b1 = await node({ privateKey: key })
    const port = b1.port!
    const a = await node()
    await a.ping(b1.localENR)
    await b1.close()
    const b2 = await node({ privateKey: key, port })
    await a.ping(b2.localENR)
    assert.equal(a.stats.handshakes, 2)
  })

  it('a first handshake lost to silence does not block the next request to that node', async () => {
    const a = await node({ replyTimeoutMs: 150 })
    const key = randomPrivateKey()
    const s = createSocket('udp4')
    await new Promise<void>((res) => s.bind(0, '127.0.0.1', res))
    const port = s.address().port
    const r = ENR.sign(key, { seq: 1n, ip: '127.0.0.1', udp: port })
    // nobody answers at first (this socket swallows it), then the node is there
    await assert.rejects(a.ping(r), { code: 'TIMEOUT' })
    await new Promise<void>((res) => s.close(() => res()))
    const b = await node({ privateKey: key, port })
    assert.equal((await a.ping(b.localENR)).enrSeq, b.localENR.seq)
  })

  it('times out against silence', async () => {
    const a = await node({ replyTimeoutMs: 100 })
    const { s } = await raw()
    const r = ENR.sign(randomPrivateKey(), { seq: 1n, ip: '127.0.0.1', udp: s.address().port })
    await assert.rejects(a.ping(r), { code: 'TIMEOUT' })
  })
})

describe('discv5 under hostile input', () => {
  it('random packets: answered by WHOAREYOU only, never more bytes than came in; garbage dropped', async () => {
    const b = await node()
    const { s, got } = await raw()
    let sent = 0
    for (let i = 0; i < 200; i++) {
      // an ordinary-message header addressed to b with random contents, and plain garbage
      const hd = headerData(new Uint8Array(randomBytes(16)), Flag.message, new Uint8Array(randomBytes(12)), new Uint8Array(randomBytes(32)))
      const pkt = i % 2 === 0 ? encodePacket(b.id, hd, new Uint8Array(randomBytes(i % 40))) : new Uint8Array(randomBytes(20 + i))
      sent += pkt.length
      s.send(pkt, b.port!, '127.0.0.1')
    }
    for (let i = 0; i < 50 && got.length < 100; i++) await sleep(20)
    await sleep(50)
    assert.ok(got.length > 0 && got.length <= 100)
    // WHOAREYOU is exactly 63 bytes; the random-content packets were at least that big
    for (const g of got) assert.equal(g.length, 63)
    assert.ok(got.reduce((n, g) => n + g.length, 0) <= sent)
    assert.ok(b.stats.dropped.malformed + b.stats.dropped['not-discv5'] >= 100)
  })

  it('a handshake with a bad id-signature makes no session; a good one does', async () => {
    const b = await node()
    const { s, got } = await raw()
    const key = randomPrivateKey()
    const me = ENR.sign(key, { seq: 1n, ip: '127.0.0.1', udp: s.address().port })
    const attempt = async (corrupt: boolean): Promise<boolean> => {
      got.length = 0
      // provoke a WHOAREYOU
      const hd0 = headerData(new Uint8Array(randomBytes(16)), Flag.message, new Uint8Array(randomBytes(12)), me.nodeId)
      s.send(encodePacket(b.id, hd0, new Uint8Array(randomBytes(30))), b.port!, '127.0.0.1')
      for (let i = 0; i < 100 && got.length === 0; i++) await sleep(10)
      const w = decodeHeader(got[0]!, me.nodeId)
      assert.equal(w.flag, Flag.whoareyou)
      parseWhoareyou(w.authdata)
      const eph = randomPrivateKey()
      const ephPub = compressPubkey(backend.publicKey(eph))
      const keys = deriveKeys(backend, eph, b.localENR.pubkey, me.nodeId, b.id, w.ad)
      const sig = idSign(backend, key, w.ad, ephPub, b.id)
      if (corrupt) sig[5]! ^= 0xff
      const nonce = new Uint8Array(randomBytes(12))
      const hd = headerData(new Uint8Array(randomBytes(16)), Flag.handshake, nonce, handshakeAuthdata({ srcId: me.nodeId, signature: sig, ephKey: ephPub, record: me.raw }))
      got.length = 0
      const before = b.stats.handshakes
      s.send(encodePacket(b.id, hd, backend.gcmSeal(keys.initiatorKey, nonce, encodeMessage({ type: 1, reqId: Uint8Array.of(1), enrSeq: 1n }), hd)), b.port!, '127.0.0.1')
      for (let i = 0; i < 30 && got.length === 0; i++) await sleep(10)
      return b.stats.handshakes > before && got.length === 1
    }
    assert.equal(await attempt(true), false)
    assert.ok(b.stats.dropped['bad-handshake'] >= 1)
    assert.equal(await attempt(false), true, 'the honest handshake gets its PONG')
  })

  it('NODES from a lying server: records off the asked distance and packets beyond the announced total are dropped', async () => {
    const a = await node()
    const b = await node()
    const good = recordsAt(b.id, 256, 2)
    const off = recordsAt(b.id, 255, 1)
    const extra = recordsAt(b.id, 256, 1)
    // b answers FINDNODE its own way: total 1, an off-distance record among good ones, then a packet too many
    const liar = b as unknown as { serveFindnode: (s: unknown, dest: Uint8Array, ip: string, port: number, reqId: Uint8Array) => void; reply(s: unknown, dest: Uint8Array, ip: string, port: number, m: object): void }
    liar.serveFindnode = function (this: typeof liar, s: unknown, dest: Uint8Array, ip: string, port: number, reqId: Uint8Array) {
      this.reply(s, dest, ip, port, { type: 4, reqId, total: 1, records: [good[0]!.raw, off[0]!.raw, good[1]!.raw] })
      this.reply(s, dest, ip, port, { type: 4, reqId, total: 1, records: [extra[0]!.raw] })
    }
    const got = await a.findnode(b.localENR, [256])
    assert.deepEqual(new Set(got.map((r) => r.toText())), new Set(good.map((r) => r.toText())))
    // the packet beyond the total arrives after the answer was complete: nobody takes it
    await sleep(50)
    assert.ok(a.stats.dropped.unsolicited >= 1)
  })

  it('a record that shares a verified record\'s signature but not its bytes is checked on its own, and dropped', async () => {
    const a = await node()
    const b = await node()
    const [good] = recordsAt(b.id, 256, 1)
    // the same length, headers and signature; the last byte (the UDP port's) differs, so the signature fails
    const forged = Uint8Array.from(good!.raw)
    forged[forged.length - 1]! ^= 1
    let answer = good!.raw
    const liar = b as unknown as { serveFindnode: (s: unknown, dest: Uint8Array, ip: string, port: number, reqId: Uint8Array) => void; reply(s: unknown, dest: Uint8Array, ip: string, port: number, m: object): void }
    liar.serveFindnode = function (this: typeof liar, s: unknown, dest: Uint8Array, ip: string, port: number, reqId: Uint8Array) {
      this.reply(s, dest, ip, port, { type: 4, reqId, total: 1, records: [answer] })
    }
    assert.deepEqual((await a.findnode(b.localENR, [256])).map((r) => r.toText()), [good!.toText()])
    answer = forged
    assert.deepEqual(await a.findnode(b.localENR, [256]), [])
  })

  it('a ping whose request id is longer than 8 bytes is dropped, not answered', async () => {
    const a = await node()
    const b = await node()
    await a.ping(b.localENR)
    // seal such a ping with a's session towards b and send it from a's socket, where the session holds
    const internals = a as unknown as {
      store: { sessions: { peek(k: string): { writeKey: Uint8Array } | undefined } }
      sendRaw(d: Uint8Array, port: number, ip: string): void
    }
    const sess = internals.store.sessions.peek(`${b.idHex}@127.0.0.1:${b.port}`)!
    const nonce = new Uint8Array(randomBytes(12))
    const hd = headerData(new Uint8Array(randomBytes(16)), Flag.message, nonce, a.id)
    let pongs = 0
    a.on('message', (m) => m.type === 2 && pongs++)
    const before = b.stats.dropped.malformed
    internals.sendRaw(encodePacket(b.id, hd, backend.gcmSeal(sess.writeKey, nonce, encodeMessage({ type: 1, reqId: new Uint8Array(9).fill(1), enrSeq: 1n }), hd)), b.port!, '127.0.0.1')
    for (let i = 0; i < 50 && b.stats.dropped.malformed === before; i++) await sleep(10)
    await sleep(50)
    assert.equal(b.stats.dropped.malformed, before + 1)
    assert.equal(pongs, 0)
  })
})

describe('discv5 beside discv4 on one socket', () => {
  it('one port answers both protocols; the record is shared', async () => {
    const { listenDiscovery } = await import('../../../src/discover/both.js')
    const { Discv4 } = await import('../../../src/discover/udp.js')
    const both = await listenDiscovery({ privateKey: randomPrivateKey(), host: '127.0.0.1', port: 0, refreshIntervalMs: 3600_000 })
    open.push(both)
    assert.ok(both.v5)
    assert.equal(both.v5.localENR.toText(), both.localENR.toText())
    const v4 = await Discv4.listen({ privateKey: randomPrivateKey(), host: '127.0.0.1', port: 0, refreshIntervalMs: 3600_000 })
    open.push(v4)
    const v5 = await node()
    const [p4, p5] = await Promise.all([v4.ping(both.self), v5.ping(both.localENR)])
    assert.equal(p4.seq, both.localENR.seq)
    assert.equal(p5.enrSeq, both.localENR.seq)
    assert.equal(p5.port, v5.port)
    // discv5 traffic is counted by discv5, not as discv4 drops
    assert.equal(both.stats.dropped.verify + both.stats.dropped.malformed, 0)
    assert.ok(both.v5.stats.packetsIn >= 2)
  })
})

describe('discv5 table: the Kademlia core shared with discv4', () => {
  it('a dozen nodes bootstrapped from one find each other by lookups and serve FINDNODE from their tables', async () => {
    const { v5Table } = await import('../../../src/discover/v5/table.js')
    const { lookup } = await import('../../../src/discover/lookup.js')
    const { Node } = await import('../../../src/enode/node.js')
    const ds = await Promise.all(Array.from({ length: 12 }, () => node()))
    const tables = ds.map((d) => {
      const self = new Node(d.localENR.pubkey, '127.0.0.1', d.port!, 0)
      const t = v5Table(d, self, { bootnodes: [ds[0]!.localENR], refreshIntervalMs: 3600_000 })
      open.push({ close: async () => t.close() })
      return t
    })
    tables.forEach((t) => t.start())
    await Promise.all(tables.map((t) => t.waitInit()))
    // every node looks itself up once more, as a refresh does
    for (const t of tables) await lookup(t, t.transport.selfTarget())
    for (const [k, t] of tables.entries()) assert.ok(t.size >= 3, `table ${k} holds ${t.size}`)
    // served from the table: what node 0 lists at some distance is what its table holds there
    const zero = ds[0]!
    const someone = tables[0]!.nodes()[0]!
    const d = logDistance(someone.id, zero.id)
    const got = await ds[5]!.findnode(zero.localENR, [d])
    assert.ok(got.some((r) => r.toNode()?.udp === someone.udp))
  })
})
