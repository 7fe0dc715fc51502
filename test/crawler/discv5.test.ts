/** Crawling both DHTs of a testnet over one socket: every node once, merged by public key. */
import assert from 'node:assert/strict'
import { after, it } from 'node:test'
import { backend, randomPrivateKey } from '../../src/crypto/backend.js'
import { hex } from '../../src/crypto/bytes.js'
import { Crawler } from '../../src/crawler/crawl.js'
import type { CrawlRecord } from '../../src/crawler/record.js'
import { TargetTable } from '../../src/crawler/targets.js'
import { listenDiscovery } from '../../src/discover/both.js'
import { startTestnet } from '../../src/testnet/testnet.js'
import { REPLY_TIMEOUT_MS, TIME_SCALE } from '../timing.js'

const open: { close(): Promise<void> }[] = []
after(async () => {
  for (const o of open.reverse()) await o.close()
})

it('discv4 + discv5: every live node answers once; consensus nodes over discv5 only, with their beacon entries', async () => {
  const net = await startTestnet({ nodes: 300, discv5: true, deadFraction: 0.1 })
  open.push(net)
  // the 300 testnet nodes answer their discv5 handshakes on this same event loop: on the JS backend with
  // the machine busy, the first burst of handshakes delays PONGs past a reply timeout (seen: 1.6 s RTTs,
  // late replies, both of two cross-check pings 100 ms apart lost in it), so pings get 3 tries, spread out
  const disc = await listenDiscovery({ privateKey: randomPrivateKey(), host: '127.0.0.1', port: 0, batchVerify: true, refreshIntervalMs: 3600_000, replyTimeoutMs: REPLY_TIMEOUT_MS }, { replyTimeoutMs: 2 * REPLY_TIMEOUT_MS })
  open.push(disc)
  const c = new Crawler({ transport: disc, seeds: net.bootENRs, targets: TargetTable.build(backend, new Uint8Array(56).fill(4)), retryDelayMs: 100 * TIME_SCALE, attempts: 3 })
  const records = new Map<string, CrawlRecord>()
  c.on('record', (r) => {
    assert.ok(!records.has(r.id), 'one record per public key')
    records.set(r.id, r)
  })
  await c.run()
  assert.equal(records.size, 300)
  for (const m of net.nodes) {
    const r = records.get(hex(m.node.pubkey))!
    if (m.behaviour !== 'live') {
      assert.equal(r.answered, false)
      continue
    }
    assert.equal(r.answered, true, `${r.ip} answered`)
    assert.equal(r.enr, m.enr.toText())
    assert.deepEqual(r.protocols, m.protocols)
    if (!m.protocols.includes('v4')) {
      assert.ok(r.consensus, 'a beacon node says what chain it follows')
      assert.ok(['mainnet', 'hoodi'].includes(r.consensus.network))
      assert.equal(r.consensus.fork, 'bpo2')
      assert.ok((r.consensus.attnets ?? 0) >= 1)
    }
  }
  assert.ok(disc.v5!.stats.handshakes > 0)
})
