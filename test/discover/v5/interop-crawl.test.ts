/**
 * A loopback network of 100 @chainsafe/discv5 nodes (Lodestar's discv5), each knowing a random
 * handful of the others, crawled over discv5 by our crawler: every node is found and answers.
 */
import assert from 'node:assert/strict'
import { after, it } from 'node:test'
import { Discv5 as ChainsafeDiscv5 } from '@chainsafe/discv5'
import { SignableENR } from '@chainsafe/enr'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { randomPrivateKey } from '../../../src/crypto/backend.js'
import { hex } from '../../../src/crypto/bytes.js'
import { Crawler } from '../../../src/crawler/crawl.js'
import type { CrawlRecord } from '../../../src/crawler/record.js'
import { listenDiscovery } from '../../../src/discover/both.js'
import { ENR } from '../../../src/enode/enr.js'
import { TIME_SCALE } from '../../timing.js'
import { freeUdpPorts } from '../../../src/util/ports.js'

const N = 100
const nodes: ChainsafeDiscv5[] = []
const open: { close(): Promise<void> }[] = []
after(async () => {
  for (const o of open) await o.close()
  await Promise.all(nodes.map((n) => n.stop()))
})


it(`our crawler finds every node of a ${N}-node @chainsafe/discv5 network`, async () => {
  const ports = await freeUdpPorts(N)
  for (const port of ports) {
    const key = (await generateKeyPair('secp256k1')) as unknown as Parameters<typeof SignableENR.createFromPrivateKey>[0]
    const enr = SignableENR.createFromPrivateKey(key)
    enr.ip = '127.0.0.1'
    enr.udp = port
    const d = ChainsafeDiscv5.create({ enr, privateKey: key, bindAddrs: { ip4: multiaddr(`/ip4/127.0.0.1/udp/${port}`) }, config: { enrUpdate: false, pingInterval: 3600_000 } })
    nodes.push(d)
  }
  // each knows 12 others at random, so nobody knows everybody and the walk has to go several hops
  const enrs = nodes.map((n) => n.enr.toENR())
  nodes.forEach((n, i) => {
    for (let k = 1; k <= 12; k++) n.addEnr(enrs[(i + k * 7) % N]!)
  })
  await Promise.all(nodes.map((n) => n.start()))

  const disc = await listenDiscovery({ privateKey: randomPrivateKey(), host: '127.0.0.1', port: 0, refreshIntervalMs: 3600_000 }, { replyTimeoutMs: 1000 * TIME_SCALE })
  open.push(disc)
  const seed = ENR.parseText(enrs[0]!.encodeTxt())
  const c = new Crawler({ transport: disc, protocols: ['v5'], seeds: [seed], retryDelayMs: 200 })
  const records = new Map<string, CrawlRecord>()
  c.on('record', (r) => records.set(r.id, r))
  await c.run()
  const want = new Set(enrs.map((e) => hex(ENR.parseText(e.encodeTxt()).pubkey)))
  const answered = [...records.values()].filter((r) => r.answered && want.has(r.id))
  assert.equal(answered.length, N, `${answered.length} of ${N} answered`)
  for (const r of answered) assert.deepEqual(r.protocols, ['v5'])
})
