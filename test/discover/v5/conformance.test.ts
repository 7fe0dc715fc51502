/**
 * What geth's `devp2p discv5 test` suite checks of a node, checked of ours: PING, a too-long request
 * id, PING from a second IP of the same node, an interrupted handshake, TALKREQ for an unknown
 * protocol, FINDNODE at distance 0 and at other distances.
 */
import assert from 'node:assert/strict'
import { createSocket } from 'node:dgram'
import { randomBytes } from 'node:crypto'
import { after, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { randomPrivateKey } from '../../../src/crypto/backend.js'
import { logDistance } from '../../../src/discover/kademlia.js'
import { ENR } from '../../../src/enode/enr.js'
import { Discv5 } from '../../../src/discover/v5/udp.js'
import { decodeHeader, encodePacket, Flag, headerData } from '../../../src/discover/v5/wire.js'
import { TIME_SCALE } from '../../timing.js'

const open: { close(): Promise<void> }[] = []
after(async () => {
  for (const o of open.reverse()) await o.close()
})

async function node(host = '127.0.0.1', extra: Partial<Parameters<typeof Discv5.listen>[0]> = {}): Promise<Discv5> {
  const d = await Discv5.listen({ privateKey: randomPrivateKey(), host, port: 0, enr: { ip: host }, replyTimeoutMs: 500 * TIME_SCALE, ...extra })
  open.push(d)
  return d
}

describe('discv5 conformance (as geth\'s devp2p discv5 test)', () => {
  it('Ping: answered with PONG carrying our endpoint', async () => {
    const target = await node()
    const me = await node()
    const pong = await me.ping(target.localENR)
    assert.deepEqual([pong.ip, pong.port, pong.enrSeq], ['127.0.0.1', me.port, target.localENR.seq])
  })

  it('PingMultiIP: the same node from a second address gets a session of its own', async () => {
    const target = await node()
    const key = randomPrivateKey()
    const first = await node('127.0.0.1', { privateKey: key })
    const second = await node('127.0.0.2', { privateKey: key })
    await first.ping(target.localENR)
    const pong = await second.ping(target.localENR)
    assert.equal(pong.ip, '127.0.0.2', 'the second session sees the second address')
    assert.equal(target.stats.handshakes, 2)
    // and the first session still works
    assert.equal((await first.ping(target.localENR)).ip, '127.0.0.1')
  })

  it('HandshakeResend / interrupted handshake: a challenge left unanswered does not stop the next one', async () => {
    const target = await node()
    const key = randomPrivateKey()
    const me = ENR.sign(key, { seq: 1n, ip: '127.0.0.1', udp: 0 })
    const s = createSocket('udp4')
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r))
    open.push({ close: () => new Promise<void>((r) => s.close(() => r())) })
    const got: Buffer[] = []
    s.on('message', (m) => got.push(m))
    const hd = headerData(new Uint8Array(randomBytes(16)), Flag.message, new Uint8Array(randomBytes(12)), me.nodeId)
    s.send(encodePacket(target.id, hd, new Uint8Array(randomBytes(40))), target.port!, '127.0.0.1')
    for (let i = 0; i < 100 && got.length === 0; i++) await sleep(10)
    assert.equal(decodeHeader(got[0]!, me.nodeId).flag, Flag.whoareyou)
    // we never answer that challenge; a real client with the same key then pings
    const client = await node('127.0.0.1', { privateKey: key })
    assert.equal((await client.ping(target.localENR)).enrSeq, target.localENR.seq)
  })

  it('TalkRequest: an unknown protocol is answered with an empty TALKRESP', async () => {
    const target = await node()
    const me = await node()
    assert.deepEqual(await me.talkReq(target.localENR, 'unknown-protocol', Uint8Array.of(1, 2, 3)), new Uint8Array(0))
  })

  it('FindnodeZeroDistance: distance 0 returns the node\'s own record', async () => {
    const target = await node()
    const me = await node()
    const got = await me.findnode(target.localENR, [0])
    assert.deepEqual(got.map((r) => r.toText()), [target.localENR.toText()])
  })

  it('FindnodeResults: records at the asked distances only', async () => {
    const records: ENR[] = []
    const target = await node('127.0.0.1', { nodes: () => records })
    // three at each distance (six at either could all be at 256, one time in eleven)
    const at = new Map([[256, 0], [255, 0]])
    for (let i = 0; records.length < 6 && i < 10_000; i++) {
      const r = ENR.sign(randomPrivateKey(), { seq: 1n, ip: '127.0.0.9', udp: 10_000 + i })
      const d = logDistance(r.nodeId, target.id)
      if ((at.get(d) ?? 3) >= 3) continue
      at.set(d, at.get(d)! + 1)
      records.push(r)
    }
    const me = await node()
    for (const d of [256, 255]) {
      const got = await me.findnode(target.localENR, [d])
      assert.equal(got.length, 3, `records at distance ${d}`)
      assert.ok(got.every((r) => logDistance(r.nodeId, target.id) === d))
    }
  })
})
