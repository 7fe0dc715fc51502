/**
 * A made-up but network-shaped crawl history, for the history benchmarks and tests: a population of
 * nodes with their own uptime, a client mix with versions, a release that is adopted over the crawls,
 * nodes that join late, the discovery protocols each answers on, and dial results (Hello, Status with a
 * fork id) on the answering ones.
 * Deterministic for a given seed, so a test can state what it expects.
 */
import type { HistoryRecord } from './visit.js'

/** xorshift32: small, fast and seedable (Math.random is not) */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1
  return () => {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    return x / 0x1_0000_0000
  }
}

const CLIENTS: { name: string; share: number; versions: string[]; runtime: string; os: string[] }[] = [
  { name: 'geth', share: 0.55, versions: ['1.14.11', '1.14.12', '1.15.0'], runtime: 'go1.23.4', os: ['linux-amd64', 'linux-arm64', 'darwin-arm64'] },
  { name: 'nethermind', share: 0.2, versions: ['1.29.1', '1.30.0'], runtime: 'dotnet8.0.10', os: ['linux-x64'] },
  { name: 'reth', share: 0.12, versions: ['1.1.2', '1.1.4'], runtime: '', os: ['x86_64-unknown-linux-gnu'] },
  { name: 'besu', share: 0.08, versions: ['24.10.0'], runtime: 'openjdk-java-21', os: ['linux-x86_64'] },
  { name: 'erigon', share: 0.05, versions: ['2.60.10', '3.0.0'], runtime: 'go1.22.9', os: ['linux-amd64'] },
]

/** where synthetic nodes sit, picked by their key's second digit (addresses are private, the geography made up) */
const PLACES: [string, number, string][] = [
  ['DE', 24940, 'Hetzner Online GmbH'],
  ['DE', 24940, 'Hetzner Online GmbH'],
  ['DE', 24940, 'Hetzner Online GmbH'],
  ['US', 16509, 'Amazon.com, Inc.'],
  ['US', 16509, 'Amazon.com, Inc.'],
  ['US', 14061, 'DigitalOcean, LLC'],
  ['US', 7922, 'Comcast Cable Communications, LLC'],
  ['FR', 16276, 'OVH SAS'],
  ['FI', 24940, 'Hetzner Online GmbH'],
  ['NL', 60781, 'LeaseWeb Netherlands B.V.'],
  ['GB', 5089, 'Virgin Media Limited'],
  ['SG', 16509, 'Amazon.com, Inc.'],
  ['JP', 2516, 'KDDI CORPORATION'],
  ['CA', 812, 'Rogers Communications Canada Inc.'],
  ['DE', 3320, 'Deutsche Telekom AG'],
  ['AU', 1221, 'Telstra Limited'],
]

/** One synthetic node: identity, how often it is up, what it runs. */
export interface SyntheticNode {
  id: string
  ip: string
  /** probability of answering in a crawl */
  uptime: number
  /** index of the first crawl it exists in */
  joins: number
  client: number
  os: number
  /** crawl index at which it moves to its client's newest version */
  upgrades: number
}

/** A population of `n` nodes over `crawls` crawls. */
export function syntheticNodes(n: number, crawls: number, seed = 1): SyntheticNode[] {
  const r = rng(seed)
  const out: SyntheticNode[] = []
  for (let i = 0; i < n; i++) {
    let id = ''
    for (let j = 0; j < 16; j++) id += Math.floor(r() * 0x1_0000_0000).toString(16).padStart(8, '0')
    let pick = r()
    let client = 0
    while (client < CLIENTS.length - 1 && pick >= CLIENTS[client]!.share) pick -= CLIENTS[client++]!.share
    const u = r()
    out.push({
      id,
      ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      // a third always up, most mostly up, some flaky
      uptime: u < 0.33 ? 1 : u < 0.85 ? 0.8 + r() * 0.19 : 0.2 + r() * 0.5,
      joins: r() < 0.9 ? 0 : Math.floor(r() * crawls),
      client,
      os: Math.floor(r() * CLIENTS[client]!.os.length),
      upgrades: Math.floor(r() * crawls * 1.5),
    })
  }
  return out
}

/** The records crawl number `k` of the population produces (with --dial results on answering nodes). */
export function syntheticCrawl(nodes: SyntheticNode[], k: number, startedAt: number, seed = 1): HistoryRecord[] {
  const r = rng(seed * 7919 + k + 1)
  const when = new Date(startedAt).toISOString()
  const out: HistoryRecord[] = []
  for (const n of nodes) {
    if (k < n.joins) continue
    const up = r() < n.uptime
    const rec: HistoryRecord = { id: n.id, ip: n.ip, udp: 30303, tcp: 30303, firstSeen: when, lastSeen: when, answered: up, eth2: false, attempts: up ? 1 : 3 }
    // by the key's first digit, not the generator, so the earlier draws (and what tests expect of them) stay
    const digit = parseInt(n.id[0]!, 16)
    if (!up) {
      rec.protocols = ['v4', 'v5']
      rec.error = 'no answer'
      out.push(rec)
      continue
    }
    const c = CLIENTS[n.client]!
    const version = k >= n.upgrades ? c.versions[c.versions.length - 1]! : c.versions[0]!
    const platform = c.os[n.os]!
    // an eighth answer discv4 alone, an eighth discv5 alone, the rest both; all run an execution client
    rec.protocols = digit < 2 ? ['v4'] : digit < 4 ? ['v5'] : ['v4', 'v5']
    rec.layer = 'execution'
    const [country, asn, asOrg] = PLACES[parseInt(n.id[1]!, 16)]!
    rec.country = country
    rec.asn = asn
    rec.asOrg = asOrg
    rec.rttMs = 20 + Math.floor(r() * 200)
    rec.seq = 10 + k
    rec.enr = `enr:-synthetic-${n.id.slice(0, 16)}`
    rec.network = 'mainnet'
    rec.fork = 'prague'
    rec.neighbors = 100
    rec.clientId = [c.name === 'geth' ? 'Geth' : c.name, `v${version}-stable`, platform, c.runtime].filter(Boolean).join('/')
    rec.caps = ['eth/68', 'eth/69', 'snap/1']
    rec.networkId = 1
    // a quarter of the geth nodes are ready for a (made-up) next fork
    const ready = n.client === 0 && k >= n.upgrades
    rec.forkId = { hash: 'c376cf8b', next: ready ? 1_767_225_600 : 0 }
    rec.chain = 'mainnet'
    // the chain moves 150 blocks between crawls; a sixteenth of the nodes (key digit f) lag 500 behind
    const head = 22_000_000 + 150 * k - (digit === 15 ? 500 : 0)
    rec.headNumber = head
    rec.headHash = head.toString(16).padStart(64, '0')
    rec.headTime = new Date(startedAt - (digit === 15 ? 6_000_000 : 0)).toISOString()
    rec.disconnect = { reason: 'client quitting', code: 8, by: 'local' }
    out.push(rec)
  }
  return out
}
