/** A testnet that speaks discv5: nodes answer both protocols on one port, consensus nodes discv5 only. */
import assert from 'node:assert/strict'
import { after, it } from 'node:test'
import { randomPrivateKey } from '../../src/crypto/backend.js'
import { hex } from '../../src/crypto/bytes.js'
import { logDistance } from '../../src/discover/kademlia.js'
import { Discv4 } from '../../src/discover/udp.js'
import { Discv5 } from '../../src/discover/v5/udp.js'
import { consensusInfo } from '../../src/eth/consensus.js'
import { startTestnet, type Testnet } from '../../src/testnet/testnet.js'
import { REPLY_TIMEOUT_MS } from '../timing.js'

const open: { close(): Promise<void> }[] = []
after(async () => {
  for (const o of open.reverse()) await o.close()
})

async function check(net: Testnet): Promise<void> {
  const v5 = await Discv5.listen({ privateKey: randomPrivateKey(), host: '127.0.0.1', port: 0, enr: { ip: '127.0.0.1' }, replyTimeoutMs: REPLY_TIMEOUT_MS })
  open.push(v5)
  const v4 = await Discv4.listen({ privateKey: randomPrivateKey(), host: '127.0.0.1', port: 0, refreshIntervalMs: 3600_000, replyTimeoutMs: 300 })
  open.push(v4)
  const live = net.nodes.filter((m) => m.behaviour === 'live')
  const consensus = live.filter((m) => !m.protocols.includes('v4'))
  const both = live.filter((m) => m.protocols.includes('v4') && m.protocols.includes('v5'))
  assert.ok(consensus.length > 0 && both.length > 0)
  // consensus nodes: discv5 only, a beacon record, in no discv4 table
  const c = consensus.at(-1)!
  assert.equal((await v5.ping(c.enr)).enrSeq, c.enr.seq)
  assert.equal(consensusInfo(c.enr.entries)?.network !== undefined, true)
  await assert.rejects(v4.ping(c.node), { code: 'TIMEOUT' })
  const v4ids = new Set(net.nodes.flatMap((m) => m.table.map((n) => n.idHex)))
  assert.ok(!v4ids.has(c.node.idHex))
  // both: one port, two protocols; discv5 FINDNODE serves its discv5 table by distance
  const m = both.at(-1)!
  await v4.ping(m.node)
  const d = logDistance(m.table5![0]!.id, m.node.id)
  const got = await v5.findnode(m.enr, [d])
  const want = m.table5!.filter((n) => logDistance(n.id, m.node.id) === d).map((n) => n.idHex)
  assert.deepEqual(new Set(got.map((r) => hex(r.nodeId))), new Set(want.slice(0, 16)))
  assert.equal(net.bootENRs.length, net.bootnodes.length)
}

it('in one process', async () => {
  const net = await startTestnet({ nodes: 150, discv5: true, deadFraction: 0.1 })
  open.push(net)
  await check(net)
})

it('in two shards', async () => {
  const net = await startTestnet({ nodes: 300, discv5: true, shards: 2, deadFraction: 0.1 })
  open.push(net)
  await check(net)
})
