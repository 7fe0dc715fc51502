/** The HTML crawl report: self-contained, escaped, bounded, and readable by a real browser. */
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { backend, randomPrivateKey } from '../../src/crypto/backend.js'
import { Crawler } from '../../src/crawler/crawl.js'
import type { CrawlRecord } from '../../src/crawler/record.js'
import { formatSummary, summarize } from '../../src/crawler/output.js'
import type { CrawlRecord as DialledRecord } from '../../src/crawler/record.js'
import { renderReport, type TimelinePoint } from '../../src/crawler/report.js'
import { TargetTable } from '../../src/crawler/targets.js'
import { Discv4 } from '../../src/discover/udp.js'
import { REPLY_TIMEOUT_MS } from '../timing.js'
import { startTestnet } from '../../src/testnet/testnet.js'

const HOSTILE = '<script>alert("x")</script><img src=http://evil.example/x onerror=alert(1)>'
const dirs: string[] = []
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

/** records shaped like a --dial crawl, with one hostile client id */
function synthetic(n: number): CrawlRecord[] {
  const clients = ['Geth/v1.14.11-stable-f3c696fa/linux-amd64/go1.23.2', 'Nethermind/v1.29.1+dfea5240/linux-x64/dotnet8.0.10', 'reth/v1.1.0-1ba631b/x86_64-unknown-linux-gnu', 'erigon/v2.60.10/linux-amd64/go1.22.8']
  return Array.from({ length: n }, (_, i) => {
    const r: CrawlRecord & Record<string, unknown> = {
      id: i.toString(16).padStart(128, '0'),
      ip: `${10 + (i % 3)}.${i % 7}.0.${i % 250}`,
      udp: 30303,
      tcp: 30303,
      firstSeen: new Date(0).toISOString(),
      lastSeen: new Date(1000).toISOString(),
      answered: i % 10 !== 9,
      eth2: i % 4 === 0,
    }
    if (!r.answered) r.error = `ping to 10.0.0.${i}:30303 timed out`
    else {
      r.enr = 'enr:-placeholder'
      r.seq = 1
      r.network = 'mainnet'
      r.fork = 'Prague'
      if (i % 3 === 0) r['disconnect'] = { reason: 'too many peers', code: 4, by: 'remote' }
      else {
        r['clientId'] = i === 1 ? HOSTILE : clients[i % clients.length]
        r['caps'] = i % 2 === 0 ? ['eth/68', 'eth/69', 'snap/1'] : ['eth/68']
        r['networkId'] = 1
        r['forkId'] = { hash: 'c376cf8b', next: 0 }
        r['chain'] = 'mainnet'
      }
    }
    return r
  })
}

const timeline: TimelinePoint[] = Array.from({ length: 30 }, (_, i) => ({ t: i * 1000, found: i * 3, answered: i * 2 }))

function assertSelfContained(html: string): void {
  assert.doesNotMatch(html, /\b(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?\/\//i, 'no external references')
  assert.doesNotMatch(html, /<(?:script|link|img|iframe|object)\b/i, 'no elements that load or run anything')
  assert.doesNotMatch(html, /url\(/i, 'no CSS url()')
}

describe('crawl report', () => {
  it('with a topology (crawl --neighbors): answering nodes by in-degree, nodes in no table, the most listed first', () => {
    // ids that differ in their first characters, as public keys do
    const records = synthetic(40).map((r, k) => ({ ...r, id: k.toString(16).padStart(2, '0').padEnd(128, '7') }))
    const inDegree = new Map<string, number>()
    // node k is listed k times; nodes 0 and 30..39 by nobody
    for (let k = 1; k < 30; k++) inDegree.set(records[k]!.id, k)
    const html = renderReport(records, { started: 0, ended: 1000, seeds: 1 }, [{ t: 0, found: 0, answered: 0 }], { edges: 435, inDegree })
    assert.match(html, /In-degree: how many tables list each answering node/)
    assert.match(html, /435 table entries/)
    assert.match(html, /29 nodes listed by at least one table/)
    // answering and in no table: 0 and 30..38 minus the unanswered ones (i % 10 === 9: 39)
    const none = records.filter((r, k) => r.answered && (k === 0 || k >= 30)).length
    assert.match(html, new RegExp(`${none} answering nodes listed by none`))
    assert.match(html, /16–31/)
    const first = html.indexOf(`${records[29]!.id.slice(0, 16)}…`)
    assert.ok(first > 0 && first < html.indexOf(`${records[28]!.id.slice(0, 16)}…`), 'most listed first')
    assert.doesNotMatch(renderReport(records, { started: 0, ended: 1000, seeds: 1 }, [{ t: 0, found: 0, answered: 0 }]), /In-degree/)
  })

  it('renders a synthetic --dial crawl: counts, clients, caps, networks, reachability', () => {
    const records = synthetic(100)
    const html = renderReport(records, { started: 0, ended: 10_000, seeds: 3, dial: true, packetsIn: 500, packetsOut: 500 }, timeline)
    assertSelfContained(html)
    assert.match(html, /<b>100<\/b><span>nodes found/)
    assert.match(html, /<b>90<\/b><span>answered discovery/)
    assert.match(html, /<b>25<\/b><span>eth2/)
    assert.match(html, />geth<\/text>/)
    assert.match(html, />nethermind<\/text>/)
    assert.match(html, /1\.14\.11/)
    assert.match(html, />eth\/68<\/text>/)
    assert.match(html, /mainnet · Prague \(ENR\)/)
    assert.match(html, />TooManyPeers<\/text>/)
    assert.match(html, /<polyline/)
  })

  it('escapes hostile client ids', () => {
    const html = renderReport(synthetic(20), { started: 0, ended: 1000, seeds: 1, dial: true }, timeline)
    assertSelfContained(html)
    assert.ok(!html.includes('<script>'), 'the script tag is not emitted')
    assert.ok(html.includes('&lt;script&gt;'), 'it is shown escaped')
  })

  it('stays bounded with many distinct clients and a long timeline', () => {
    const records = synthetic(5000).map((r, i) => (r.answered ? { ...r, clientId: `client${i}/v1.${i}.0/linux-amd64/go1.23` } : r))
    const long = Array.from({ length: 20_000 }, (_, i) => ({ t: i * 1000, found: i, answered: i }))
    const html = renderReport(records, { started: 0, ended: 20_000_000, seeds: 1, dial: true }, long)
    assert.ok(html.length < 100_000, `page is ${html.length} bytes`)
    assert.match(html, /others\)/)
  })

  it('renders a real crawl of a small testnet', async () => {
    const net = await startTestnet({ nodes: 80, deadFraction: 0.1 })
    const disc = await Discv4.listen({ privateKey: randomPrivateKey(), host: '127.0.0.1', port: 0, batchVerify: true, refreshIntervalMs: 3600_000, replyTimeoutMs: REPLY_TIMEOUT_MS })
    try {
      const crawler = new Crawler({ transport: disc, seeds: net.bootnodes, targets: TargetTable.build(backend, new Uint8Array(56).fill(3)), retryDelayMs: 100, attempts: 2 })
      const records: CrawlRecord[] = []
      crawler.on('record', (r) => records.push(r))
      const started = Date.now()
      const samples: TimelinePoint[] = [{ t: 0, found: net.bootnodes.length, answered: 0 }]
      const sampler = setInterval(() => {
        const p = crawler.progress()
        samples.push({ t: Date.now() - started, found: p.found, answered: p.answered })
      }, 100)
      const p = await crawler.run().finally(() => clearInterval(sampler))
      samples.push({ t: Date.now() - started, found: p.found, answered: p.answered })
      const html = renderReport(records, { started, ended: Date.now(), seeds: net.bootnodes.length, packetsIn: disc.stats.packetsIn, packetsOut: disc.stats.packetsOut }, samples)
      assertSelfContained(html)
      assert.match(html, /<b>80<\/b><span>nodes found/)
      assert.match(html, /<b>72<\/b><span>answered discovery/)
      assert.match(html, /mainnet · /)
      assert.match(html, />127\.x<\/text>/)
      screenshot(html)
    } finally {
      await disc.close()
      await net.close()
    }
  })

  it('counts dial outcomes from dialError: refusals as TooManyPeers, failures and nodes never dialled apart from discovery errors', () => {
    const base = { udp: 30303, tcp: 30303, firstSeen: new Date(0).toISOString(), lastSeen: new Date(1000).toISOString(), answered: true, eth2: false }
    const at = (i: number, extra: Partial<DialledRecord>): DialledRecord => ({ ...base, id: i.toString(16).padStart(128, '0'), ip: `10.0.0.${i}`, ...extra })
    const records = [
      at(1, { clientId: 'Geth/v1.14.11-stable/linux-amd64/go1.23.2' }),
      at(2, { dialError: 'hello: peer sent disconnect: too many peers' }),
      at(3, { dialError: 'rlpx: connect ECONNREFUSED 10.0.0.3:30303' }),
      at(4, { dialError: 'rlpx: connect ECONNREFUSED 10.0.0.4:30303', error: 'enr request timed out' }),
      // discovery's error on an answered node says nothing about its dial
      at(5, { error: 'enr request timed out' }),
      at(6, { dialError: 'not dialled: dial queue full' }),
    ]
    const html = renderReport(records, { started: 0, ended: 1000, seeds: 1, packetsIn: 0, packetsOut: 0, dial: true }, timeline)
    const count = (label: string): string | undefined => new RegExp(`>${label}</text><rect[^>]*/><text[^>]*>(\\d+) \\(`).exec(html)?.[1]
    assert.equal(count('dialled ok \\(Hello\\)'), '1')
    assert.equal(count('TooManyPeers'), '1')
    // 3 and 4 failed; 5 and 6 were not dialled
    assert.equal(count('dial failed'), '2')
    assert.equal(count('answered, not dialled'), '2')
  })

  it('Reachability bars are shares of the nodes found, and its Hello count is the summary line\'s', () => {
    const base = { udp: 30303, tcp: 30303, firstSeen: new Date(0).toISOString(), lastSeen: new Date(1000).toISOString(), eth2: false }
    const at = (i: number, extra: Partial<DialledRecord>): DialledRecord => ({ ...base, answered: true, id: i.toString(16).padStart(128, '0'), ip: `10.0.1.${i}`, ...extra })
    const tooMany = { reason: 'too many peers', code: 4, by: 'remote' as const }
    const records = [
      // a Hello, then a TooManyPeers goodbye: it answered Hello (summary and card agree), and it was busy
      at(1, { clientId: 'Geth/v1.14.11-stable/linux-amd64/go1.23.2', disconnect: tooMany }),
      at(2, { clientId: 'Geth/v1.14.11-stable/linux-amd64/go1.23.2', chain: 'mainnet' }),
      at(3, { dialError: 'rlpx: connect ECONNREFUSED 10.0.1.3:30303' }),
      ...Array.from({ length: 7 }, (_, k) => at(10 + k, { answered: false, error: 'no answer after 4 attempts (ping timed out)' })),
    ]
    const html = renderReport(records, { started: 0, ended: 1000, seeds: 1, dial: true }, timeline)
    const bar = (label: string): [string, string] | undefined => {
      const m = new RegExp(`>${label}</text><rect[^>]*/><text[^>]*>(\\d+) \\(([\\d.]+)%\\)`).exec(html)
      return m ? [m[1]!, m[2]!] : undefined
    }
    // 10 found: 3 answered is 30 %, not 3 of the bars' sum
    assert.deepEqual(bar('answered discovery'), ['3', '30.0'])
    assert.deepEqual(bar('no answer'), ['7', '70.0'])
    assert.deepEqual(bar('dialled ok \\(Hello\\)'), ['2', '20.0'])
    assert.deepEqual(bar('TooManyPeers'), ['1', '10.0'])
    assert.deepEqual(bar('eth Status'), ['1', '10.0'])
    assert.deepEqual(bar('dial failed'), ['1', '10.0'])
    const line = formatSummary(summarize(records, 1))
    const hello = /hello (\d+)/.exec(line)?.[1]
    assert.equal(hello, '2')
    assert.match(html, new RegExp(`<b>${hello}</b><span>dialled ok \\(Hello\\)</span>`))
  })

  it('consensus panels: protocols per node, chains and forks, subnets; absent for a discv4-only crawl', () => {
    const base = { udp: 30303, tcp: 30303, firstSeen: new Date(0).toISOString(), lastSeen: new Date(1000).toISOString(), eth2: true, answered: true }
    const at = (i: number, extra: Partial<DialledRecord>): DialledRecord => ({ ...base, id: i.toString(16).padStart(128, '0'), ip: `10.0.3.${i}`, ...extra })
    const cons = (fork: string, attnets: number): DialledRecord['consensus'] => ({ forkDigest: '8c9f62fe', network: 'mainnet', fork, nextForkVersion: '00000000', nextForkEpoch: null, attnets })
    const records = [at(1, { protocols: ['v5'], consensus: cons('bpo2', 0) }), at(2, { protocols: ['v5'], consensus: cons('bpo2', 64) }), at(3, { protocols: ['v4', 'v5'] })]
    const html = renderReport(records, { started: 0, ended: 1000, seeds: 1 }, timeline)
    const bar = (label: string): string | undefined => new RegExp(`>${label}</text><rect[^>]*/><text[^>]*>(\\d+) \\(`).exec(html)?.[1]
    assert.equal(bar('v5 only'), '2')
    assert.equal(bar('both'), '1')
    assert.equal(bar('mainnet · bpo2'), '2')
    assert.equal(bar('33–64'), '1')
    assert.equal(bar('0'), '1')
    assert.doesNotMatch(renderReport([at(4, { eth2: false })], { started: 0, ended: 1000, seeds: 1 }, timeline), /Consensus chains|Found over discovery protocol/)
  })

  it('found over discovery protocol: v4 only / v5 only / both of the answering nodes, and their layers', () => {
    const base = { udp: 30303, tcp: 30303, firstSeen: new Date(0).toISOString(), lastSeen: new Date(1000).toISOString(), eth2: false, answered: true }
    const at = (i: number, extra: Partial<DialledRecord>): DialledRecord => ({ ...base, id: i.toString(16).padStart(128, '0'), ip: `10.0.4.${i}`, ...extra })
    const records = [
      at(1, { protocols: ['v4'], layer: 'execution' }),
      at(2, { protocols: ['v4', 'v5'], layer: 'execution' }),
      at(3, { protocols: ['v4', 'v5'], layer: 'execution' }),
      at(4, { protocols: ['v5', 'v4'], layer: 'execution' }),
      at(5, { protocols: ['v5'], layer: 'consensus', eth2: true }),
      at(6, { protocols: ['v5'], layer: 'consensus', eth2: true }),
      at(7, { protocols: ['v5'], layer: 'execution' }),
      // the protocols tried on a node that answered none: in no bar
      at(8, { answered: false, protocols: ['v4', 'v5'], error: 'no answer' }),
    ]
    const html = renderReport(records, { started: 0, ended: 1000, seeds: 1 }, timeline)
    assertSelfContained(html)
    const bar = (label: string): [string, string] | undefined => {
      const m = new RegExp(`>${label}</text><rect[^>]*/><text[^>]*>(\\d+) \\(([\\d.]+)%\\)`).exec(html)
      return m ? [m[1]!, m[2]!] : undefined
    }
    assert.match(html, /<h2>Found over discovery protocol \(answering nodes\)<\/h2>/)
    // shares are of the 7 answering nodes
    assert.deepEqual(bar('v4 only'), ['1', '14.3'])
    assert.deepEqual(bar('v5 only'), ['3', '42.9'])
    assert.deepEqual(bar('both'), ['3', '42.9'])
    assert.deepEqual(bar('execution layer'), ['5', '71.4'])
    assert.deepEqual(bar('consensus layer'), ['2', '28.6'])
    // a discv5-only crawl: the v4-only bar is there, at zero; records without a layer draw no layer bars
    const v5 = renderReport([at(1, { protocols: ['v5'] })], { started: 0, ended: 1000, seeds: 1 }, timeline)
    assert.equal(new RegExp('>v4 only</text><rect[^>]*/><text[^>]*>0 \\(0\\.0%\\)').test(v5), true)
    assert.doesNotMatch(v5, /execution layer/)
  })

  it('round-trip and pings-per-node panels from rttMs and attempts, hidden without them', () => {
    const base = { udp: 30303, tcp: 30303, firstSeen: new Date(0).toISOString(), lastSeen: new Date(1000).toISOString(), eth2: false }
    const at = (i: number, extra: Partial<DialledRecord>): DialledRecord => ({ ...base, answered: true, id: i.toString(16).padStart(128, '0'), ip: `10.0.2.${i}`, ...extra })
    const plain = renderReport([at(1, {})], { started: 0, ended: 1000, seeds: 1 }, timeline)
    assert.doesNotMatch(plain, /Round trip of answering nodes|Pings per node/)
    const records = [
      at(1, { rttMs: 12, attempts: 1 }),
      at(2, { rttMs: 140, attempts: 1 }),
      at(3, { rttMs: 160, attempts: 2 }),
      at(4, { rttMs: 950, attempts: 3 }),
      at(5, { answered: false, attempts: 4, error: 'no answer after 4 attempts (ping timed out)' }),
    ]
    const html = renderReport(records, { started: 0, ended: 1000, seeds: 1 }, timeline)
    const bar = (label: string): string | undefined => new RegExp(`>${label}</text><rect[^>]*/><text[^>]*>(\\d+) \\(`).exec(html)?.[1]
    assert.match(html, /Round trip of answering nodes/)
    assert.equal(bar('&lt; 25 ms'), '1')
    assert.equal(bar('100–200 ms'), '2')
    assert.equal(bar('≥ 800 ms'), '1')
    assert.equal(bar('50–100 ms'), undefined, 'empty buckets are left out')
    assert.equal(bar('1 ping → answered'), '2')
    assert.equal(bar('2 pings → answered'), '1')
    assert.equal(bar('4 pings → no answer'), '1')
  })

  it('nodes per country and per AS, and the share on hosting ASes; hidden without geography', () => {
    const base = { udp: 30303, tcp: 30303, firstSeen: new Date(0).toISOString(), lastSeen: new Date(1000).toISOString(), eth2: false }
    const at = (i: number, extra: Partial<DialledRecord>): DialledRecord => ({ ...base, answered: true, id: i.toString(16).padStart(128, '0'), ip: `10.0.3.${i}`, ...extra })
    const plain = renderReport([at(1, {})], { started: 0, ended: 1000, seeds: 1 }, timeline)
    assert.doesNotMatch(plain, /Nodes per country|Nodes per AS|on hosting ASes/)
    const records = [
      at(1, { country: 'DE', asn: 24940, asOrg: 'Hetzner Online GmbH' }),
      at(2, { country: 'DE', asn: 24940, asOrg: 'Hetzner Online GmbH' }),
      at(3, { country: 'US', asn: 16509, asOrg: 'Amazon.com, Inc.' }),
      at(4, { country: 'FI', asn: 1759, asOrg: 'Telia Finland Oyj' }),
      // not answering: left out of the panels
      at(5, { answered: false, country: 'FR', asn: 16276, asOrg: 'OVH SAS' }),
    ]
    const html = renderReport(records, { started: 0, ended: 1000, seeds: 1 }, timeline)
    const bar = (label: string): string | undefined => new RegExp(`>${label}</text><rect[^>]*/><text[^>]*>(\\d+) \\(`).exec(html)?.[1]
    assert.match(html, /Nodes per country \(answering, 3 countries\)/)
    assert.match(html, /Nodes per AS \(answering, 3 ASes\)/)
    assert.equal(bar('DE'), '2')
    assert.equal(bar('AS24940 Hetzner Online GmbH'), '2')
    assert.equal(bar('AS1759 Telia Finland Oyj'), '1')
    assert.equal(bar('FR'), undefined)
    assert.match(html, /<b>75\.0 %<\/b><span>on hosting ASes \(3 of 4\)<\/span>/)
  })
})

function chromium(): string | undefined {
  for (const bin of ['chromium', 'chromium-browser', 'google-chrome']) if (spawnSync('which', [bin]).status === 0) return bin
  return undefined
}

/**
 * The page as a browser draws it. Without a browser this says so in the test output (a skip with its
 * reason would hide the HTML checks above, which have run by then).
 */
function screenshot(html: string): void {
  const bin = chromium()
  if (bin === undefined) {
    process.stderr.write('report test: no chromium on this machine, screenshot not taken (apt-get install chromium)\n')
    return
  }
  const dir = mkdtempSync(join(tmpdir(), 'ethp2p-report-'))
  dirs.push(dir)
  writeFileSync(join(dir, 'report.html'), html)
  const png = join(dir, 'report.png')
  // no sandbox: test machines often run as root, where chromium refuses to start with it
  execFileSync(bin, ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', `--screenshot=${png}`, '--window-size=1200,1600', `file://${join(dir, 'report.html')}`], { stdio: 'ignore', timeout: 60_000 })
  assert.deepEqual([...readFileSync(png).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG')
  // a blank 1200×1600 page compresses to a few kB; charts and text make it tens of kB
  assert.ok(statSync(png).size > 20_000, `screenshot is ${statSync(png).size} bytes`)
}
