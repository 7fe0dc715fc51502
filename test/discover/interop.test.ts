/**
 * discv4 interop with @ethereumjs/devp2p's DPT on loopback. The partner deviates from geth: it
 * answers FINDNODE without an endpoint proof, has no ENRRequest (EIP-868), ignores expiration and
 * packs all its neighbours into one datagram even past 1280 bytes. We follow geth, so each test
 * names the direction that works and how the deviations show.
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createSocket, type Socket } from 'node:dgram'
import { DPT } from '@ethereumjs/devp2p'
import { randomPrivateKey } from '../../src/crypto/backend.js'
import { hex } from '../../src/crypto/bytes.js'
import { Node } from '../../src/enode/node.js'
import { Discv4 } from '../../src/discover/udp.js'
import { until } from './fakenet.js'
import { REPLY_TIMEOUT_MS } from '../timing.js'

const open: Discv4[] = []
const dpts: DPT[] = []
after(async () => {
  for (const d of dpts) d.destroy()
  for (const d of open) await d.close()
})

async function start(bootnodes: Node[] = [], pingIntervalMs?: number): Promise<Discv4> {
  const d = await Discv4.listen({ privateKey: randomPrivateKey(), host: '127.0.0.1', port: 0, replyTimeoutMs: REPLY_TIMEOUT_MS, bootnodes, ...(pingIntervalMs !== undefined ? { pingIntervalMs } : {}) })
  open.push(d)
  return d
}

/** a DPT on loopback; refresh every 100 ms so its periodic FINDNODEs come quickly */
async function startDPT(): Promise<{ dpt: DPT; node: Node; errors: Error[] }> {
  const sock: Socket = createSocket('udp4')
  const key = randomPrivateKey()
  const listening = new Promise<void>((r) => sock.once('listening', () => r()))
  const dpt = new DPT(key, { createSocket: () => sock, refreshInterval: 100, timeout: 1000, endpoint: { address: '127.0.0.1', udpPort: null, tcpPort: null } })
  dpts.push(dpt)
  const errors: Error[] = []
  dpt.events.on('error', (e: Error) => errors.push(e))
  dpt.bind(0, '127.0.0.1')
  await listening
  const port = sock.address().port
  return { dpt, node: new Node(dpt.id!, '127.0.0.1', port, port), errors }
}

/**
 * `hub` with `n` of our nodes bonded into its table. The hub does not revalidate during a test: it
 * answers FINDNODE from revalidated entries once it has any (geth's preferLive), and one revalidation
 * would cut its answer to that entry.
 */
async function hubWith(n: number): Promise<{ hub: Discv4; members: Discv4[] }> {
  const hub = await start([], 600_000)
  await hub.table.waitInit()
  const members = await Promise.all(Array.from({ length: n }, () => start([hub.self])))
  await Promise.all(members.map((m) => m.table.waitInit()))
  await until(() => hub.table.size >= n, 5000, `hub table ${hub.table.size}/${n}`)
  return { hub, members }
}

/** true once DPT's table holds every one of `nodes` */
function dptKnows(dpt: DPT, nodes: Node[]): boolean {
  const have = new Set(dpt.getPeers().map((p) => hex(p.id!)))
  return nodes.every((n) => have.has(hex(n.pubkey)))
}

const peerInfo = (n: Node) => ({ address: n.ip, udpPort: n.udp, tcpPort: n.tcp })

describe('discv4 interop with @ethereumjs/devp2p DPT', () => {
  it('DPT bootstraps from us: bonds, and once bonded its FINDNODE gets our table', async () => {
    const { hub, members } = await hubWith(6)
    const { dpt, node, errors } = await startDPT()
    await dpt.bootstrap(peerInfo(hub.self))
    // DPT's first FINDNODE races our ping-back and may be refused as unbonded, as geth would;
    // its periodic refresh asks again once the bond stands
    await until(() => dptKnows(dpt, members.map((m) => m.self)), 8000, 'DPT learns all members')
    assert.ok(hub.db.lastPongReceived(node.id, node.ip) > 0, 'we hold an endpoint proof for DPT')
    assert.deepEqual(errors, [])
  })

  it('we ping, bond with and query DPT (its table small enough to fit 1280 bytes)', async () => {
    const { hub, members } = await hubWith(5)
    const { dpt, node } = await startDPT()
    await dpt.bootstrap(peerInfo(hub.self))
    await until(() => dptKnows(dpt, [hub, ...members].map((m) => m.self)), 8000, 'DPT table filled')
    const q = await start()
    const { seq } = await q.ping(node)
    assert.equal(seq, undefined, 'DPT sends no enr-seq (no EIP-868)')
    const found = await q.findnode(node, q.randomTarget())
    const ids = new Set(found.map((n) => n.idHex))
    for (const m of [hub, ...members]) assert.ok(ids.has(m.self.idHex), 'DPT returned every node it knows')
  })

  it('we ask DPT for its ENR: it has no EIP-868, so the request times out and both sides go on', async () => {
    const { node, errors } = await startDPT()
    const q = await start()
    await q.ping(node)
    await assert.rejects(q.enrRequest(node), { name: 'DiscoveryError', code: 'TIMEOUT' })
    assert.ok(errors.length >= 1, 'DPT reports the unknown packet type')
    await q.ping(node) // DPT still answers
  })

  it('DPT answering with 16 neighbours exceeds 1280 bytes: we drop the datagram and the query times out', async () => {
    const { hub } = await hubWith(16)
    const { dpt, node } = await startDPT()
    await dpt.bootstrap(peerInfo(hub.self))
    await until(() => dpt.getPeers().length >= 16, 10000, 'DPT table filled')
    const q = await start()
    await assert.rejects(q.findnode(node, q.randomTarget()), { name: 'DiscoveryError', code: 'TIMEOUT' })
    assert.ok(q.stats.dropped['too-large'] >= 1)
    await q.ping(node) // and the node keeps serving
  })
})
