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
import type { FilterParam } from '../../src/nodeset/filter.js'

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

/** v ≥ min, number by number */
const atLeast = (v: number[] | undefined, min: number[]): boolean => v !== undefined && (v[0]! !== min[0]! ? v[0]! > min[0]! : v[1]! !== (min[1] ?? 0) ? v[1]! > (min[1] ?? 0) : v[2]! >= (min[2] ?? 0))

/** filter cases: a name, the parameters, and which truths pass them */
export const FILTER_CASES: [string, Partial<Record<FilterParam, string>>, (t: Truth) => boolean][] = [
  ['network', { network: 'sepolia' }, (t) => t.net === 'sepolia'],
  ['fork', { fork: 'BPO1' }, (t) => t.fork === 'bpo1'],
  ['client', { client: 'Nethermind' }, (t) => t.client === 'nethermind'],
  ['client + min-version', { client: 'geth', 'min-version': '1.14' }, (t) => t.client === 'geth' && atLeast(t.version, [1, 14])],
  ['client + min-version (patch)', { client: 'reth', 'min-version': 'v1.14.11' }, (t) => t.client === 'reth' && atLeast(t.version, [1, 14, 11])],
  ['protocol v4', { protocol: 'v4' }, (t) => t.answeredOn.includes('v4')],
  ['protocol v5', { protocol: 'v5' }, (t) => t.answeredOn.includes('v5')],
  ['country', { country: 'de' }, (t) => t.country === 'DE'],
  ['asn', { asn: 'AS24940' }, (t) => t.asn === 24940],
  ['synced', { synced: '1' }, (t) => t.synced === true],
  ['not synced', { synced: 'false' }, (t) => t.synced === false],
  ['answered-within', { 'answered-within': '5h' }, (t) => t.answered && t.ageH <= 5],
  ['network + client + min-version', { network: 'mainnet', client: 'geth', 'min-version': '1.13' }, (t) => t.net === 'mainnet' && t.client === 'geth' && atLeast(t.version, [1, 13])],
  ['protocol + country + synced', { protocol: 'v5', country: 'US', synced: 'true' }, (t) => t.answeredOn.includes('v5') && t.country === 'US' && t.synced === true],
  ['answered-within + asn + fork', { 'answered-within': '8h', asn: '16509', fork: 'bpo2' }, (t) => t.answered && t.ageH <= 8 && t.asn === 16509 && t.fork === 'bpo2'],
]
