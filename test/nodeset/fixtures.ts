/**
 * A crawl of varied nodes for the node set tests, each with its "truth": what the test knows it made
 * (network, fork, client and version, protocols answered on, country, AS, synced, age of its last
 * answer), so the expected sets are computed from the truth, not from the records the code reads.
 */
import { randomPrivateKey } from '../../src/crypto/backend.js'
import { ENR } from '../../src/enode/enr.js'
import { forkHashes } from '../../src/eth/forkid.js'
import { NETWORKS, type NetworkName } from '../../src/eth/networks.js'
import type { CrawlRecord } from '../../src/crawler/record.js'

/** the crawl's newest answer: every age counts back from it */
export const T0 = Date.UTC(2025, 5, 1, 12)
const HOUR = 3600_000

/** What a generated node is. */
export interface Truth {
  net?: NetworkName
  /** lower case, as the filter takes it */
  fork?: 'bpo1' | 'bpo2'
  client?: string
  version?: number[]
  answeredOn: ('v4' | 'v5')[]
  answered: boolean
  country: string
  asn: number
  synced?: boolean
  /** hours before T0 of its last answer (or of its listing, when it did not answer) */
  ageH: number
}

/** One generated node: its key, its record as the crawl wrote it, and its truth. */
export interface Generated {
  priv: Uint8Array
  record: CrawlRecord
  truth: Truth
}

const CLIENTS = ['geth', 'nethermind', 'reth', 'erigon', undefined] as const
const VERSIONS = [
  [1, 13, 15],
  [1, 14, 0],
  [1, 14, 11],
  [1, 15, 2],
]
const PROTOCOLS: ('v4' | 'v5')[][] = [['v4'], ['v5'], ['v4', 'v5']]
const COUNTRIES = ['DE', 'US', 'FR']
const ASNS = [24940, 16509, 14061, 3320]

/** node `i` of the crawl: every field cycles with its own period, so the filters cut the set differently */
export function generate(i: number): Generated {
  const priv = randomPrivateKey()
  const net = (['mainnet', 'sepolia', 'hoodi', undefined] as const)[i % 4]
  const fork = net ? (i % 3 === 0 ? 'bpo1' : 'bpo2') : undefined
  const client = CLIENTS[i % 5]
  const version = client ? VERSIONS[(i >> 2) % 4]! : undefined
  const answered = i % 6 !== 5
  // a discv4-only crawl writes no protocols: every eighth node has none (it answered on v4)
  const written = i % 8 === 7 ? undefined : PROTOCOLS[i % 3]!
  const answeredOn = answered ? (written ?? ['v4']) : []
  const synced = i % 2 === 0 ? true : i % 3 === 0 ? false : undefined
  const ageH = i % 10
  const ip = `10.${i >> 8}.${i & 255}.7`
  const extra: Record<string, import('../../src/util/rlp.js').RLPItem> = {}
  if (net) {
    const hashes = forkHashes(NETWORKS[net])
    extra['eth'] = [[hashes.at(fork === 'bpo2' ? -1 : -2)!, new Uint8Array()]]
  }
  const enr = ENR.sign(priv, { seq: BigInt(i + 1), ip, udp: 30303, tcp: 30303 + (i % 2), extra })
  const when = new Date(T0 - ageH * HOUR).toISOString()
  const record: CrawlRecord = { id: Buffer.from(enr.pubkey).toString('hex'), ip, udp: 30303, tcp: 30303 + (i % 2), enr: enr.toText(), seq: i + 1, firstSeen: when, lastSeen: when, answered, eth2: false }
  if (net) {
    record.network = net
    record.fork = fork === 'bpo2' ? 'BPO2' : 'BPO1'
  }
  if (client) {
    const v = version!.join('.')
    record.clientId = `${client[0]!.toUpperCase()}${client.slice(1)}/v${v}-stable/linux-amd64/go1.23.2`
    record.client = { name: client, version: v, os: 'linux', arch: 'amd64' }
  }
  if (written) record.protocols = written
  record.country = COUNTRIES[i % 3]!
  record.asn = ASNS[i % 4]!
  if (synced !== undefined) record.synced = synced
  const truth: Truth = { answeredOn, answered, country: record.country, asn: record.asn, ageH }
  if (net) truth.net = net
  if (fork) truth.fork = fork
  if (client) {
    truth.client = client
    truth.version = version!
  }
  if (synced !== undefined) truth.synced = synced
  return { priv, record, truth }
}

/** a crawl of `n` generated nodes */
export function generateCrawl(n: number): Generated[] {
  return Array.from({ length: n }, (_, i) => generate(i))
}
