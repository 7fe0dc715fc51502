/**
 * One crawl of both discovery networks, as against real go-ethereum nodes: a node found over either
 * protocol is checked on the other, dialled when its record says it is an execution client, and the
 * walks cope with geth's tables that serve only the entries they have revalidated.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { backend, randomPrivateKey } from '../../src/crypto/backend.js'
import { hex } from '../../src/crypto/bytes.js'
import { Crawler } from '../../src/crawler/crawl.js'
import type { CrawlerOptions, CrawlProgress } from '../../src/crawler/options.js'
import type { CrawlRecord } from '../../src/crawler/record.js'
import type { CrawlTransport } from '../../src/crawler/transport.js'
import { Dialer } from '../../src/crawler/dialer.js'
import { withDials } from '../../src/crawler/output.js'
import type { CrawlRecord as DialledRecord } from '../../src/crawler/record.js'
import { TargetTable } from '../../src/crawler/targets.js'
import { listenDiscovery, type Discovery } from '../../src/discover/both.js'
import { Node } from '../../src/enode/node.js'
import { startTestnet, type Testnet, type TestnetNode, type TestnetOptions } from '../../src/testnet/testnet.js'
import { REPLY_TIMEOUT_MS } from '../timing.js'

const targets = TargetTable.build(backend, new Uint8Array(56).fill(9))
const open: { close(): Promise<void> }[] = []
after(async () => {
  for (const o of open.reverse()) await o.close()
})

/** a transport that notes whom the crawl pings and asks FINDNODE over discv4, and when */
function watched(disc: Discovery): { transport: CrawlTransport; pinged: Set<string>; asked: Map<string, number[]> } {
  const pinged = new Set<string>()
  const asked = new Map<string, number[]>()
  const transport: CrawlTransport = {
    self: disc.self,
    ping: (n, o) => {
      pinged.add(hex(n.pubkey))
      return disc.ping(n, o)
    },
    enrRequest: (n, o) => disc.enrRequest(n, o),
    neighbors: (n, t, o) => {
      const k = hex(n.pubkey)
      asked.get(k)?.push(Date.now()) ?? asked.set(k, [Date.now()])
      return disc.neighbors(n, t, o)
    },
    on: (e, l) => disc.on(e, l),
    off: (e, l) => disc.off(e, l),
    replyTimeoutMs: disc.replyTimeoutMs,
    get backlog() {
      return disc.backlog
    },
    stats: disc.stats,
    v5: disc.v5,
  }
  return { transport, pinged, asked }
}

interface Crawled {
  net: Testnet
  records: Map<string, CrawlRecord>
  /** nodes handed to onNode (the dial queue) */
  dialled: Set<string>
  pinged: Set<string>
  asked: Map<string, number[]>
  /** the crawl's final counters, and the discv4 and discv5 transports' own */
  progress: CrawlProgress
  v4stats: { packetsIn: number; packetsOut: number }
  v5stats: { packetsIn: number; packetsOut: number } | undefined
}

async function crawl(netOpts: TestnetOptions, opts: Partial<CrawlerOptions> = {}, withV5 = true): Promise<Crawled> {
  const net = await startTestnet(netOpts)
  open.push(net)
  const disc = await listenDiscovery({ privateKey: randomPrivateKey(), host: '127.0.0.1', port: 0, batchVerify: true, refreshIntervalMs: 3600_000, replyTimeoutMs: REPLY_TIMEOUT_MS }, withV5 && { replyTimeoutMs: REPLY_TIMEOUT_MS })
  open.push(disc)
  const { transport, pinged, asked } = watched(disc)
  const dialled = new Set<string>()
  const c = new Crawler({ transport, seeds: withV5 ? net.bootENRs : net.bootnodes, targets, retryDelayMs: 100, attempts: 3, onNode: (r) => void dialled.add(r.id), ...opts })
  const records = new Map<string, CrawlRecord>()
  c.on('record', (r) => {
    assert.ok(!records.has(r.id), 'one record per public key')
    records.set(r.id, r)
  })
  const progress = await c.run()
  return { net, records, dialled, pinged, asked, progress, v4stats: { ...disc.stats }, v5stats: disc.v5 && { ...disc.v5.stats } }
}

const key = (m: TestnetNode): string => hex(m.node.pubkey)
/** a record with `eth2` and no `eth`: a consensus client's */
const consensusShaped = (m: TestnetNode): boolean => m.enr.entries.has('eth2') && !m.enr.entries.has('eth')

describe('geth-shaped network whose discv4 tables serve revalidated entries only (young tables, geth before 1.14)', () => {
  const shape: TestnetOptions = { nodes: 200, discv5: true, v5OnlyFraction: 0, deadFraction: 0, liveness: { checked: 0, paceMs: 3_600_000, protocols: ['v4'] } }

  it('the testnet is shaped so: a discv4-only walk of it finds a small part of the network', async () => {
    const { records } = await crawl(shape, { protocols: ['v4'], rereads: 0 })
    assert.ok(records.size < 100, `discv4 alone found ${records.size} of 200`)
  })

  it('a crawl of both: every node found over discv5 is bonded over discv4 too and handed to the dial queue', async () => {
    const { net, records, dialled } = await crawl(shape, { rereads: 0 })
    assert.equal(records.size, 200)
    for (const m of net.nodes) {
      const r = records.get(key(m))!
      assert.equal(r.answered, true)
      assert.equal(r.enr, m.enr.toText())
      assert.equal(r.layer, consensusShaped(m) ? (r.protocols?.includes('v4') ? 'execution' : 'consensus') : 'execution')
      // a record that looks like a consensus client's is tried over discv4 only when a discv4 table lists it
      if (consensusShaped(m)) assert.ok(r.protocols?.includes('v5'))
      else assert.deepEqual(r.protocols, ['v4', 'v5'], `${r.ip} answered both`)
      assert.equal(dialled.has(r.id), r.protocols?.includes('v4') || (m.enr.entries.has('eth') && r.tcp > 0))
    }
  })
})

describe('nodes that speak one protocol only', () => {
  it('discv4-only nodes answer discv4 only; consensus clients are never pinged over discv4 nor dialled', async () => {
    const { net, records, dialled, pinged, progress, v4stats, v5stats } = await crawl({ nodes: 300, discv5: true, v4OnlyFraction: 0.2, v5OnlyFraction: 0.2, deadFraction: 0.1 })
    // the crawl's datagram counts (its progress line) are both protocols'
    assert.ok(v5stats!.packetsIn > 0)
    assert.equal(progress.packetsIn, v4stats.packetsIn + v5stats!.packetsIn)
    assert.equal(progress.packetsOut, v4stats.packetsOut + v5stats!.packetsOut)
    assert.equal(records.size, 300)
    const v4only = net.nodes.filter((m) => m.behaviour === 'live' && m.protocols.join() === 'v4')
    const v5only = net.nodes.filter((m) => m.behaviour === 'live' && m.protocols.join() === 'v5')
    assert.ok(v4only.length >= 40 && v5only.length >= 40, `${v4only.length} discv4-only, ${v5only.length} discv5-only`)
    for (const m of net.nodes) {
      const r = records.get(key(m))!
      if (m.behaviour !== 'live') {
        assert.equal(r.answered, false)
        assert.equal(r.layer, undefined)
        assert.ok(!dialled.has(r.id))
        continue
      }
      assert.equal(r.answered, true)
      assert.deepEqual(r.protocols, m.protocols, `${r.ip}: ${r.protocols?.join()} for ${m.protocols.join()}`)
      if (m.protocols.join() === 'v5') {
        assert.equal(r.layer, 'consensus')
        assert.ok(!pinged.has(r.id), 'a consensus client is not pinged over discv4')
        assert.ok(!dialled.has(r.id), 'nor dialled over RLPx')
      } else {
        assert.equal(r.layer, 'execution')
        assert.ok(dialled.has(r.id), 'a discv4 node goes to the dial queue')
      }
      // a node that answered one protocol and not the other carries no error for it
      assert.equal(r.error, undefined, `${r.ip}: ${r.error}`)
    }
  })

  it('with --dial: discv5-found execution nodes are dialled and give Hello and Status; consensus nodes are reported, not dialled', async () => {
    const net = await startTestnet({ nodes: 120, discv5: true, v5OnlyFraction: 0.2, deadFraction: 0, rlpxFraction: 1, liveness: { checked: 0, paceMs: 3_600_000, protocols: ['v4'] } })
    open.push(net)
    const privateKey = randomPrivateKey()
    const dialer = new Dialer({ privateKey, concurrency: 16 })
    open.push({ close: () => dialer.stop() })
    const tcpPort = await dialer.listen('127.0.0.1', 0)
    const disc = await listenDiscovery({ privateKey, host: '127.0.0.1', port: 0, tcpPort, batchVerify: true, refreshIntervalMs: 3600_000, replyTimeoutMs: REPLY_TIMEOUT_MS }, { replyTimeoutMs: REPLY_TIMEOUT_MS })
    open.push(disc)
    const crawler = new Crawler({
      transport: disc,
      seeds: net.bootENRs,
      targets,
      retryDelayMs: 100,
      attempts: 3,
      rereads: 0,
      onNode: (r) => {
        if (r.tcp > 0) dialer.add(new Node(Buffer.from(r.id, 'hex'), r.ip, r.udp, r.tcp))
      },
    })
    const records = new Map<string, DialledRecord>()
    for await (const r of withDials(crawler.records(), dialer)) records.set(r.id, r)
    assert.equal(records.size, 120)
    let hello = 0
    for (const m of net.nodes) {
      const r = records.get(key(m))!
      // every node here but the consensus clients has RLPx; a record shaped like theirs counts as one
      // unless it answered discv4
      if (m.rlpx && !(consensusShaped(m) && !r.protocols?.includes('v4'))) {
        assert.equal(r.layer, 'execution')
        assert.equal(r.clientId, m.rlpx.clientId, `${r.ip} dialled`)
        if (m.rlpx.behaviour === 'ok') assert.equal(r.chain, m.rlpx.chain.name)
        hello++
      } else {
        assert.equal(r.layer, 'consensus')
        assert.equal(r.clientId, undefined)
        assert.match(r.dialError ?? '', /^not dialled: consensus-layer node/)
      }
    }
    assert.ok(hello >= 80, `${hello} dialled`)
  })
})

describe('tables that serve revalidated entries only and check more as time goes', () => {
  it('a thin table is read again later and the crawl finds every node', async () => {
    const delay = 1500 * (REPLY_TIMEOUT_MS / 1000)
    const { net, records, asked, progress } = await crawl({ nodes: 200, deadFraction: 0, liveness: { checked: 0.05, paceMs: 400 } }, { protocols: ['v4'], rereadDelayMs: delay }, false)
    assert.equal(records.size, net.nodes.length, 'every node found')
    for (const m of net.nodes) assert.equal(records.get(key(m))?.answered, true)
    assert.ok(progress.lateReads >= 20, `${progress.lateReads} late reads`)
    // each one a FINDNODE to its node at least the delay after the node's first
    const reread = [...asked.values()].filter((t) => t.some((x) => x - t[0]! >= delay)).length
    assert.ok(reread >= 20, `${reread} tables read again`)
  })

  it('current geth filters discv5 answers too: a discv5-only walk reads its thin tables again and finds every node', async () => {
    const delay = 1500 * (REPLY_TIMEOUT_MS / 1000)
    const { net, records, progress, v4stats } = await crawl({ nodes: 200, discv5: true, v5OnlyFraction: 0, deadFraction: 0, liveness: { checked: 0.05, paceMs: 400, protocols: ['v4', 'v5'] } }, { protocols: ['v5'], rereadDelayMs: delay })
    assert.equal(v4stats.packetsOut, 0, 'no discv4 in a discv5-only walk')
    assert.equal(records.size, net.nodes.length, 'every node found')
    for (const m of net.nodes) assert.equal(records.get(key(m))?.answered, true)
    // every late read here is a discv5 one
    assert.ok(progress.lateReads >= 20, `${progress.lateReads} late reads`)
  })

  it('current geth, both protocols filtered: a crawl of both finds every node and confirms each on both', async () => {
    const delay = 1500 * (REPLY_TIMEOUT_MS / 1000)
    const { net, records } = await crawl({ nodes: 200, discv5: true, v5OnlyFraction: 0, deadFraction: 0, liveness: { checked: 0.05, paceMs: 400, protocols: ['v4', 'v5'] } }, { rereadDelayMs: delay })
    assert.equal(records.size, net.nodes.length)
    for (const m of net.nodes) {
      const r = records.get(key(m))!
      // a consensus-shaped record is tried over discv4 only when a discv4 table lists it
      if (consensusShaped(m)) assert.ok(r.protocols?.includes('v5'), r.ip)
      else assert.deepEqual(r.protocols, ['v4', 'v5'], `${r.ip} answered both`)
    }
  })

  it('a settled network (tables full) reads no table twice', async () => {
    const { records, progress } = await crawl({ nodes: 200, deadFraction: 0 }, { protocols: ['v4'], rereadDelayMs: 1000 }, false)
    assert.equal(records.size, 200)
    assert.equal(progress.lateReads, 0)
  })
})
