/** crawl --dial in-process: a 100-node testnet crawled with RLPx dials beside discovery, plus a node dialling in. */
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { backend, randomPrivateKey } from '../../src/crypto/backend.js'
import { hex } from '../../src/crypto/bytes.js'
import { parseClientId } from '../../src/crawler/clientid.js'
import { Crawler } from '../../src/crawler/crawl.js'
import { Dialer, dialNode, type DialResult } from '../../src/crawler/dialer.js'
import { summarize, withDials } from '../../src/crawler/output.js'
import type { CrawlRecord } from '../../src/crawler/record.js'
import { TargetTable } from '../../src/crawler/targets.js'
import { Discv4 } from '../../src/discover/udp.js'
import { REPLY_TIMEOUT_MS } from '../timing.js'
import { Node } from '../../src/enode/node.js'
import { forkHashes } from '../../src/eth/forkid.js'
import { SEPOLIA } from '../../src/eth/networks.js'
import { ethProtocols } from '../../src/eth/protocol.js'
import { Server } from '../../src/p2p/server.js'
import { TESTNET_HEADS } from '../../src/testnet/rlpx.js'
import { LAGGING_BLOCKS, startTestnet, type Testnet } from '../../src/testnet/testnet.js'
import { markSynced } from '../../src/crawler/head.js'

const targets = TargetTable.build(backend, new Uint8Array(56).fill(7))
const open: { close(): Promise<void> }[] = []
after(async () => {
  for (const o of open.reverse()) await o.close()
})

const INBOUND_CLIENT = 'Inbound/v9.9.1-stable/linux-amd64/go1.24.0'

describe('crawl --dial of a 100-node testnet', () => {
  let net: Testnet
  const records = new Map<string, CrawlRecord>()
  let inboundKey: Uint8Array

  before(async () => {
    net = await startTestnet({ nodes: 100, deadFraction: 0.1, rlpxFraction: 0.5 })
    open.push(net)
    const privateKey = randomPrivateKey()
    const dialer = new Dialer({ privateKey, concurrency: 16 })
    open.push({ close: () => dialer.stop() })
    const tcpPort = await dialer.listen('127.0.0.1', 0)
    const disc = await Discv4.listen({ privateKey, host: '127.0.0.1', port: 0, tcpPort, batchVerify: true, refreshIntervalMs: 3600_000, replyTimeoutMs: REPLY_TIMEOUT_MS })
    open.push(disc)

    // a node behind NAT: nobody can dial it, it dials the crawler (a static node of its own server)
    inboundKey = randomPrivateKey()
    const crawlerNode = new Node(backend.publicKey(privateKey), '127.0.0.1', disc.self.udp, tcpPort)
    const natNode = new Server({
      privateKey: inboundKey,
      name: INBOUND_CLIENT,
      protocols: ethProtocols({ chain: SEPOLIA, head: { number: 9_000_000n, time: BigInt(Math.floor(Date.now() / 1000)) } }),
      host: '127.0.0.1',
      port: 0,
      noDiscovery: true,
      staticNodes: [crawlerNode],
    })
    await natNode.start()
    open.push({ close: () => natNode.stop() })

    const crawler = new Crawler({
      transport: disc,
      seeds: net.bootnodes,
      targets,
      retryDelayMs: 100,
      attempts: 2,
      onNode: (r) => {
        if (r.tcp > 0) dialer.add(new Node(Buffer.from(r.id, 'hex'), r.ip, r.udp, r.tcp))
      },
    })
    // the NAT node has dialled in before the crawl's records are through (the dialer hears it first)
    const inboundSeen = new Promise<void>((resolve) => dialer.once('inbound', () => resolve()))
    const crawled = (async () => {
      for await (const r of withDials(crawler.records(), dialer)) {
        assert.ok(!records.has(r.id), 'one record per node')
        records.set(r.id, r)
      }
    })()
    await inboundSeen
    await crawled
  }, { timeout: 90_000 })

  it('every testnet node once, plus the node that dialled in', () => {
    assert.equal(records.size, 101)
    for (const m of net.nodes) assert.ok(records.has(hex(m.node.pubkey)))
  })

  it('RLPx nodes: client id, caps, chain and fork id from Hello and Status; busy ones with TooManyPeers', () => {
    let checked = 0
    for (const m of net.nodes) {
      const p = m.rlpx
      if (!p) continue
      const r = records.get(hex(m.node.pubkey))!
      assert.equal(r.answered, true)
      if (p.behaviour === 'busy-instead-of-hello') {
        assert.equal(r.clientId, undefined)
        assert.deepEqual(r.disconnect, { reason: 'too many peers', code: 4, by: 'remote' })
        assert.match(r.dialError ?? '', /too many peers/)
        continue
      }
      assert.equal(r.clientId, p.clientId)
      const parsed = parseClientId(p.clientId)
      assert.equal(r.client?.name, parsed.name)
      assert.equal(r.client?.version, parsed.version)
      assert.equal(r.client?.os, parsed.os)
      assert.deepEqual(r.caps, p.ethVersions.map((v) => `eth/${v}`))
      assert.equal(r.listenPort, m.node.tcp)
      assert.equal(r.p2pVersion, 5)
      if (p.behaviour === 'busy-after-hello') {
        assert.deepEqual(r.disconnect, { reason: 'too many peers', code: 4, by: 'remote' })
        assert.equal(r.networkId, undefined)
        assert.equal(r.error, undefined)
        assert.equal(r.dialError, undefined)
        continue
      }
      assert.equal(r.error, undefined, r.error)
      assert.equal(r.dialError, undefined, r.dialError)
      assert.equal(r.chain, p.chain.name)
      assert.equal(r.networkId, Number(p.chain.networkId))
      assert.deepEqual(r.forkId, { hash: hex(forkHashes(p.chain).at(-1)!), next: 0 })
      assert.equal(r.genesis, hex(p.chain.genesisHash))
      assert.equal(r.ethVersion, Math.max(...p.ethVersions))
      // both Status layouts: eth/68 carries the total difficulty, eth/69 the block range
      if (r.ethVersion === 68) assert.ok(r.td !== undefined && r.latestBlock === undefined)
      else assert.equal(r.latestBlock, Number(TESTNET_HEADS[p.chain.name]!) - (p.headLag ?? 0))
      assert.deepEqual(r.disconnect, { reason: 'disconnect requested', code: 0, by: 'local' })
      checked++
    }
    assert.ok(checked >= 20, `${checked} full handshakes checked`)
  })

  it('live nodes without RLPx carry the dial error; dead nodes were never dialled', () => {
    for (const m of net.nodes) {
      if (m.rlpx) continue
      const r = records.get(hex(m.node.pubkey))!
      assert.equal(r.clientId, undefined)
      if (m.behaviour === 'live') assert.match(r.dialError ?? '', /rlpx: .*ECONNREFUSED/)
      else {
        assert.equal(r.answered, false)
        assert.equal(r.disconnect, undefined)
        assert.equal(r.dialError, undefined)
      }
    }
  })

  it('the node that dialled in is recorded as inbound with its Hello and Status', () => {
    const r = records.get(hex(backend.publicKey(inboundKey)))
    assert.ok(r, 'inbound node recorded')
    assert.equal(r.inbound, true)
    assert.equal(r.clientId, INBOUND_CLIENT)
    assert.equal(r.chain, 'sepolia')
    assert.equal(r.networkId, Number(SEPOLIA.networkId))
  })

  it('the summary counts clients by name and chains', () => {
    const s = summarize(records.values(), 1)
    const want: Record<string, number> = {}
    const chains: Record<string, number> = { sepolia: 1 }
    for (const m of net.nodes) {
      if (!m.rlpx || m.rlpx.behaviour === 'busy-instead-of-hello') continue
      const name = parseClientId(m.rlpx.clientId).name
      want[name] = (want[name] ?? 0) + 1
      if (m.rlpx.behaviour === 'ok') chains[m.rlpx.chain.name] = (chains[m.rlpx.chain.name] ?? 0) + 1
    }
    want['inbound'] = 1
    assert.deepEqual(s.clients, want)
    assert.deepEqual(s.chains, chains)
    assert.equal(s.dial?.inbound, 1)
    assert.equal(s.disconnects?.['too many peers'], net.nodes.filter((m) => m.rlpx && m.rlpx.behaviour !== 'ok').length)
  })

  it('heads: a head number for ≥ 99 % of the nodes dialled with a Status; synced at the common head, not when lagging', () => {
    const dialled = net.nodes.map((m) => records.get(hex(m.node.pubkey))!).filter((r) => r.networkId !== undefined)
    const withHead = dialled.filter((r) => r.headNumber !== undefined)
    process.stderr.write(`# heads: ${withHead.length}/${dialled.length} testnet nodes dialled with a Status have headNumber\n`)
    assert.ok(withHead.length >= 0.99 * dialled.length, `${withHead.length}/${dialled.length} with a head`)
    const all = [...records.values()]
    const refs = markSynced(all)
    assert.equal(refs.get('mainnet'), Number(TESTNET_HEADS['mainnet']))
    assert.equal(refs.get('sepolia'), Number(TESTNET_HEADS['sepolia']))
    let lagging = 0
    for (const m of net.nodes) {
      const r = records.get(hex(m.node.pubkey))!
      if (r.networkId === undefined) continue
      const lag = m.rlpx!.headLag ?? 0
      assert.equal(r.headNumber, Number(TESTNET_HEADS[r.chain!]) - lag)
      assert.equal(r.headHash, r.head)
      assert.ok(r.headTime !== undefined && r.headError === undefined, r.headError)
      assert.equal(r.synced, lag === 0, `${r.chain} head ${r.headNumber}`)
      if (lag === LAGGING_BLOCKS) lagging++
    }
    assert.ok(lagging >= 1, 'a lagging node was dialled')
    const s = summarize(all, 1)
    const heads = Object.values(s.heads ?? {})
    assert.equal(heads.reduce((n, h) => n + h.synced, 0), all.filter((r) => r.synced).length)
  })
})

describe('Dialer bounds', () => {
  it('a full queue and a stopped dialer report nodes as not dialled at once', async () => {
    // a listener that accepts and never says a word: the first dial holds the only slot
    const silent = createServer((s) => s.on('error', () => undefined))
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    open.push({ close: () => new Promise<void>((resolve) => silent.close(() => resolve())) })
    const port = (silent.address() as { port: number }).port
    const dialer = new Dialer({ privateKey: randomPrivateKey(), concurrency: 1, maxQueue: 1 })
    const results = new Map<string, DialResult>()
    dialer.on('result', (id, r) => results.set(id, r))
    const nodes = [1, 2, 3].map((i) => new Node(backend.publicKey(randomPrivateKey()), `127.0.0.${i}`, port, port))
    for (const n of nodes) dialer.add(n)
    assert.match(results.get(hex(nodes[2]!.pubkey))?.error ?? '', /queue full/)
    assert.ok(dialer.isPending(hex(nodes[0]!.pubkey)) && dialer.isPending(hex(nodes[1]!.pubkey)))
    await dialer.stop()
    assert.match(results.get(hex(nodes[1]!.pubkey))?.error ?? '', /not dialled: the crawl ended/)
    assert.ok(results.get(hex(nodes[0]!.pubkey))?.error, 'the dial in flight was aborted')
    assert.ok(dialer.idle)
  })
})

describe('older peers', () => {
  it('a node that speaks eth/66 only (geth before 1.13) shares a capability with the crawler and gives its Status', async () => {
    const key = randomPrivateKey()
    const old = new Server({
      privateKey: key,
      name: 'Geth/v1.10.6-stable/linux-amd64/go1.16.4',
      protocols: ethProtocols({ chain: SEPOLIA, versions: [66], head: { number: 9_000_000n, time: BigInt(Math.floor(Date.now() / 1000)) } }),
      host: '127.0.0.1',
      port: 0,
      noDiscovery: true,
    })
    await old.start()
    open.push({ close: () => old.stop() })
    const r = await dialNode(new Node(backend.publicKey(key), '127.0.0.1', old.port, old.port), { privateKey: randomPrivateKey() })
    assert.equal(r.error, undefined)
    assert.deepEqual(r.caps, ['eth/66'])
    assert.equal(r.ethVersion, 66)
    assert.equal(r.chain, 'sepolia')
  })
})
