/**
 * discv5 datagrams share discv4's socket and its per-IP budget: a flood from one address over the
 * limit is dropped before discv5 reads it (no handshake work, no WHOAREYOU), and the node keeps
 * serving a discv5 peer on another address.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createSocket, type Socket } from 'node:dgram'
import { after, it } from 'node:test'
import { randomPrivateKey } from '../../src/crypto/backend.js'
import { listenDiscovery, type Discovery } from '../../src/discover/both.js'
import { Discv5 } from '../../src/discover/v5/udp.js'
import { until } from '../discover/fakenet.js'
import { TIME_SCALE } from '../timing.js'

const open: { close(): Promise<void> | void }[] = []
after(async () => {
  for (const o of open.reverse()) await o.close()
})

function bound(ip: string): Promise<Socket> {
  const s = createSocket('udp4')
  open.push({ close: () => void s.close() })
  return new Promise((resolve) => s.bind(0, ip, () => resolve(s)))
}

it('a discv5 flood from one IP over the per-IP limit is dropped before discv5; another peer is still served', async () => {
  const burst = 10
  const d: Discovery = await listenDiscovery({ privateKey: randomPrivateKey(), host: '127.0.0.1', port: 0, limitsOnLAN: true, rateLimit: { perMinute: 6, burst } }, { replyTimeoutMs: 1000 * TIME_SCALE })
  open.push(d)
  // random bytes long enough for a discv5 header: no discv4 packet, so discv4 hands them on
  const flooder = await bound('127.0.0.7')
  const sent = 300
  for (let i = 0; i < sent; i++) flooder.send(randomBytes(80 + (i % 200)), d.self.udp, '127.0.0.1')
  await until(() => d.stats.dropped.rate + d.v5!.stats.packetsIn >= sent - 20, 5000 * TIME_SCALE, 'the flood arrived')
  // the kernel may drop some of a burst; of what arrived, all but the burst was refused before discv5
  assert.ok(d.v5!.stats.packetsIn <= burst, `discv5 read ${d.v5!.stats.packetsIn}`)
  assert.ok(d.stats.dropped.rate >= sent - burst - 20, `rate drops: ${d.stats.dropped.rate}`)
  // a well-behaved discv5 peer elsewhere: handshake and PING go through
  const peer = await Discv5.listen({ privateKey: randomPrivateKey(), host: '127.0.0.8', port: 0, enr: { ip: '127.0.0.8' }, replyTimeoutMs: 1000 * TIME_SCALE })
  open.push(peer)
  const pong = await peer.ping(d.v5!.localENR)
  assert.equal(pong.enrSeq, d.localENR.seq)
  // and the flooder, still over its budget, gets nothing through
  const before = d.v5!.stats.packetsIn
  for (let i = 0; i < 20; i++) flooder.send(randomBytes(100), d.self.udp, '127.0.0.1')
  await until(() => d.stats.dropped.rate >= sent - burst - 20 + 15, 5000 * TIME_SCALE, 'the second burst arrived')
  assert.equal(d.v5!.stats.packetsIn, before)
})
