/** A testnet spread over child processes: the same network as in one process, every shard answering. */
import assert from 'node:assert/strict'
import { after, it } from 'node:test'
import { randomPrivateKey } from '../../src/crypto/backend.js'
import { hex } from '../../src/crypto/bytes.js'
import { Discv4 } from '../../src/discover/udp.js'
import { startTestnet } from '../../src/testnet/testnet.js'
import { REPLY_TIMEOUT_MS } from '../timing.js'

const open: { close(): Promise<void> }[] = []
after(async () => {
  for (const o of open.reverse()) await o.close()
})

it('two shards: nodes of both answer with their records and tables; counters add up; close() ends the children', async () => {
  const net = await startTestnet({ nodes: 1200, shards: 2, deadFraction: 0.1, rttMs: 20, seed: 4 })
  open.push(net)
  const d = await Discv4.listen({ privateKey: randomPrivateKey(), host: '127.0.0.1', port: 0, refreshIntervalMs: 3600_000, replyTimeoutMs: REPLY_TIMEOUT_MS })
  open.push(d)
  // a few live nodes from each half, and dead ones from the end (the second shard)
  const live = net.nodes.filter((m) => m.behaviour === 'live')
  const sample = [...live.slice(0, 4), ...live.slice(-4)]
  for (const m of sample) {
    const r = await d.enrRequest(m.node)
    assert.equal(r.toText(), m.enr.toText())
    const answer = await d.findnode(m.node, d.randomTarget())
    assert.equal(answer.length, Math.min(16, m.table.length))
    const table = new Set(m.table.map((n) => n.idHex))
    for (const n of answer) assert.ok(table.has(n.idHex), 'answers come from its own table')
  }
  for (const m of net.nodes.slice(-3)) {
    assert.equal(m.behaviour, 'dead')
    await assert.rejects(d.ping(m.node), { code: 'TIMEOUT' })
  }
  // the shards report every half second
  for (let i = 0; i < 50 && net.stats.packetsIn < 3 * sample.length; i++) await new Promise((r) => setTimeout(r, 100))
  assert.ok(net.stats.packetsIn >= 3 * sample.length, `packets in ${net.stats.packetsIn}`)
  assert.ok(new Set(sample.map((m) => hex(m.node.pubkey))).size === sample.length)
  await net.close()
  await assert.rejects(d.ping(live[0]!.node, { timeoutMs: 300 }), { code: 'TIMEOUT' }, 'nobody answers once closed')
})
