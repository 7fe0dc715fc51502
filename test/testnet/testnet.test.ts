/** The loopback testnet: address plan, geth-shaped tables, live/dead behaviour over real discv4. */
import assert from 'node:assert/strict'
import { after, it } from 'node:test'
import { randomPrivateKey } from '../../src/crypto/backend.js'
import { hex } from '../../src/crypto/bytes.js'
import { logDistance } from '../../src/discover/kademlia.js'
import { Discv4 } from '../../src/discover/udp.js'
import { REPLY_TIMEOUT_MS } from '../timing.js'
import { startTestnet, testnetIP, TestnetError } from '../../src/testnet/testnet.js'

const open: { close(): Promise<void> }[] = []
after(async () => {
  for (const o of open.reverse()) await o.close()
})

it('addresses: never 127.0.0.x, at most two per /24', () => {
  const per24 = new Map<string, number>()
  for (let i = 0; i < 5000; i++) {
    const ip = testnetIP(i)
    assert.doesNotMatch(ip, /^127\.0\.0\./)
    const net = ip.split('.').slice(0, 3).join('.')
    per24.set(net, (per24.get(net) ?? 0) + 1)
  }
  assert.ok([...per24.values()].every((n) => n <= 2))
})

it('rejects sizes and fractions it cannot honour', async () => {
  await assert.rejects(startTestnet({ nodes: 0 }), TestnetError)
  await assert.rejects(startTestnet({ nodes: 10, deadFraction: 0.6, garbageFraction: 0.4 }), TestnetError)
  await assert.rejects(startTestnet({ nodes: 10, basePort: 65530 }), TestnetError)
})

it('tables hold at most 16 per log distance and list everyone; nodes answer discv4, dead ones never', async () => {
  const net = await startTestnet({ nodes: 200, deadFraction: 0.1 })
  open.push(net)
  const listed = new Set<string>()
  for (const m of net.nodes) {
    const per = new Map<number, number>()
    for (const n of m.table) {
      assert.notEqual(n.idHex, m.node.idHex)
      const d = logDistance(n.id, m.node.id)
      per.set(d, (per.get(d) ?? 0) + 1)
      listed.add(n.idHex)
    }
    assert.ok([...per.values()].every((c) => c <= 16))
    assert.equal(per.get(256), 16, 'the farthest bucket is full in a 200-node network')
  }
  assert.equal(listed.size, 200, 'every node is in some table')

  const disc = await Discv4.listen({ privateKey: randomPrivateKey(), host: '127.0.0.1', port: 0, refreshIntervalMs: 3600_000, replyTimeoutMs: REPLY_TIMEOUT_MS })
  open.push(disc)
  const live = net.nodes.filter((m) => m.behaviour === 'live')
  assert.equal(live.length, 180)
  assert.equal(hex(net.bootnodes[0]!.pubkey), hex(live[0]!.node.pubkey))
  for (const m of live.slice(0, 10)) {
    const enr = await disc.enrRequest(m.node)
    assert.equal(enr.toText(), m.enr.toText())
    // its own key as target: the answer is the 16 table entries closest to the node itself
    const got = await disc.findnode(m.node, { key: m.node.pubkey, id: m.node.id })
    assert.equal(got.length, 16)
    const table = new Set(m.table.map((n) => n.idHex))
    assert.ok(got.every((n) => table.has(n.idHex)))
  }
  const dead = net.nodes.find((m) => m.behaviour === 'dead')!
  await assert.rejects(disc.ping(dead.node), /timed out/)
})
