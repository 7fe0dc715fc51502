/**
 * Node sets: the nodes of a crawl, a geth `nodes.json` or a stored crawl, filtered and ranked (geth's
 * `devp2p nodeset filter`). Pure: sources are read elsewhere (src/cli/nodeset-source.ts,
 * src/history/nodeset.ts) into {@link NodeSource}; `ethp2p nodeset filter` and the dashboard's
 * `/api/nodeset` parse their filters with {@link parseNodeFilter} and select with {@link selectNodes},
 * so the two answer alike.
 *
 * The score is geth's liveness count: +1 for every check the node answered, halved (rounded down) for
 * every check it missed. A geth `nodes.json` carries it; a stored crawl's is replayed over the vantage
 * point's crawls up to it; a single crawl's JSONL has one check, so 1 when the node answered, else 0.
 */
import type { CrawlProtocol, CrawlRecord } from '../crawler/record.js'
import { parseClientId } from '../crawler/clientid.js'
import { matchForkHash, NETWORKS, type NetworkName } from '../eth/networks.js'
import { parseDuration } from '../util/duration.js'

/** One node of a set: its record as a crawl writes it, and geth's liveness bookkeeping. */
export interface NodeSetItem {
  record: CrawlRecord
  /** 64-hex node ID: keccak256 of the public key */
  nodeId: string
  /** see the file comment */
  score: number
  /** ms since the epoch: first and last check the node answered, last check */
  firstResponse?: number
  lastResponse?: number
  lastCheck: number
}

/** Where a node set came from: what its records can say depends on it. */
export type NodeSourceKind = 'crawl' | 'nodes.json' | 'history'

/** A node set read from a source. */
export interface NodeSource {
  kind: NodeSourceKind
  items: NodeSetItem[]
  /** the source's newest check, ms: `answered-within` counts back from it, so a file filters the same any day */
  asOf: number
}

/** What a bad filter or source is. */
export type NodeSetErrorCode = 'BAD_FILTER' | 'BAD_SOURCE' | 'NO_CRAWL' | 'TOO_LARGE'

/** A filter that cannot be parsed or applied, or a source that cannot be read; `code` says which. */
export class NodeSetError extends Error {
  override readonly name = 'NodeSetError'
  constructor(
    readonly code: NodeSetErrorCode,
    message: string,
  ) {
    super(message)
  }
}

/** The filters, all combinable (a node must pass every one given). */
export interface NodeFilter {
  /** its ENR `eth` entry or its Status names this network */
  network?: NetworkName
  /** a fork state of its ENR `eth` entry or Status fork id, e.g. `prague`, `bpo2` (lower case) */
  fork?: string
  /** client name from its Hello (lower case), or from its record's `client` entry */
  client?: string
  /** at least this client version, compared number by number */
  minVersion?: number[]
  /** answered on this discovery protocol */
  protocol?: CrawlProtocol
  /** ISO 3166 alpha-2, upper case */
  country?: string
  asn?: number
  /** its head judged synced (true) or not synced (false); nodes without a verdict pass neither */
  synced?: boolean
  /** answered within this many ms before the source's `asOf` */
  answeredWithin?: number
  /** at most this many nodes, best score first */
  limit?: number
}

/** The filter parameters, named alike on the command line (`--min-version`) and in the API (`min-version=`). */
export const FILTER_PARAMS = ['network', 'fork', 'client', 'min-version', 'protocol', 'country', 'asn', 'synced', 'answered-within', 'limit'] as const

/** One filter parameter's name. */
export type FilterParam = (typeof FILTER_PARAMS)[number]

/** every fork state name of the known networks, lower case ('genesis' included) */
const FORK_NAMES: ReadonlySet<string> = new Set(['genesis', ...Object.values(NETWORKS).flatMap((c) => c.forks.map((f) => f.name.toLowerCase()))])

const bad = (param: FilterParam, want: string): NodeSetError => new NodeSetError('BAD_FILTER', `${param}: ${want}`)

/** numbers of a version such as `1.14` or `v1.14.11` (what follows them, `-stable`, is not compared) */
function versionNumbers(v: string): number[] | undefined {
  const m = /^v?(\d{1,9}(?:\.\d{1,9}){0,5})(?:[-+_.~].*)?$/.exec(v)
  return m ? m[1]!.split('.').map(Number) : undefined
}

/** Parse the filters from their text values (`get(name)`: undefined when not given); throws NodeSetError('BAD_FILTER'). */
export function parseNodeFilter(get: (param: FilterParam) => string | undefined): NodeFilter {
  const f: NodeFilter = {}
  const network = get('network')
  if (network !== undefined) {
    if (!Object.hasOwn(NETWORKS, network)) throw bad('network', `one of ${Object.keys(NETWORKS).join(', ')}`)
    f.network = network as NetworkName
  }
  const fork = get('fork')
  if (fork !== undefined) {
    if (!FORK_NAMES.has(fork.toLowerCase())) throw bad('fork', 'a fork of the known networks, e.g. prague, osaka, bpo2')
    f.fork = fork.toLowerCase()
  }
  const client = get('client')
  if (client !== undefined) {
    if (!/^[\x21-\x7e]{1,64}$/.test(client)) throw bad('client', 'a client name such as geth')
    f.client = client.toLowerCase()
  }
  const minVersion = get('min-version')
  if (minVersion !== undefined) {
    const v = versionNumbers(minVersion)
    if (!v) throw bad('min-version', 'a version such as 1.14 or 1.14.11')
    if (f.client === undefined) throw bad('min-version', 'needs client (versions of different clients do not compare)')
    f.minVersion = v
  }
  const protocol = get('protocol')
  if (protocol !== undefined) {
    if (protocol !== 'v4' && protocol !== 'v5') throw bad('protocol', 'v4 or v5')
    f.protocol = protocol
  }
  const country = get('country')
  if (country !== undefined) {
    if (!/^[A-Za-z]{2}$/.test(country)) throw bad('country', 'a two-letter country code (ISO 3166), e.g. DE')
    f.country = country.toUpperCase()
  }
  const asn = get('asn')
  if (asn !== undefined) {
    const n = /^(?:AS)?(\d{1,10})$/i.exec(asn)
    if (!n || Number(n[1]) > 0xffffffff) throw bad('asn', 'an AS number, e.g. 24940 or AS24940')
    f.asn = Number(n[1])
  }
  const synced = get('synced')
  if (synced !== undefined) {
    if (!['1', 'true', '0', 'false'].includes(synced)) throw bad('synced', '1, true, 0 or false')
    f.synced = synced === '1' || synced === 'true'
  }
  const within = get('answered-within')
  if (within !== undefined) {
    try {
      f.answeredWithin = parseDuration(within)
    } catch (err) {
      throw bad('answered-within', (err as Error).message)
    }
  }
  const limit = get('limit')
  if (limit !== undefined) {
    if (!/^\d{1,9}$/.test(limit) || Number(limit) === 0) throw bad('limit', 'a positive integer')
    f.limit = Number(limit)
  }
  return f
}

/** Refuse filters a source can never answer (a `nodes.json` says nothing of protocols or heads). */
export function checkFilterFor(kind: NodeSourceKind, f: NodeFilter): void {
  if (kind !== 'nodes.json') return
  if (f.protocol !== undefined) throw bad('protocol', 'a nodes.json does not say which protocols a node answered on: filter a crawl or a history')
  if (f.synced !== undefined) throw bad('synced', 'a nodes.json holds no heads: filter a crawl dialled with --dial, or a history')
}

/** the client a node names: its Hello's, else its record's EIP-7636 `client` entry */
export function clientOf(r: CrawlRecord): { name: string; version?: string } | undefined {
  if (r.client?.name) return r.client
  const text = r.clientId ?? r.enrClient
  if (text === undefined) return undefined
  const c = parseClientId(text)
  if (c.name === '') return undefined
  return c.version !== undefined ? { name: c.name, version: c.version } : { name: c.name }
}

/** a ≥ b, number by number; missing numbers are 0 (1.14 = 1.14.0) */
function atLeast(a: number[], b: number[]): boolean {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? 0
    const y = b[i] ?? 0
    if (x !== y) return x > y
  }
  return true
}

/** the fork states a record names: its ENR's, and its Status fork id's when that is a known one */
function forksOf(r: CrawlRecord): string[] {
  const out = r.fork !== undefined ? r.fork.toLowerCase().split('+') : []
  if (r.forkId !== undefined && /^[0-9a-f]{8}$/.test(r.forkId.hash)) {
    const m = matchForkHash(Buffer.from(r.forkId.hash, 'hex'))
    if (m) out.push(...m.fork.toLowerCase().split('+'))
  }
  return out
}

/** Does `item` pass every filter of `f` (limit aside)? `asOf` as {@link NodeSource}. */
export function matchesFilter(item: NodeSetItem, f: NodeFilter, asOf: number): boolean {
  const r = item.record
  if (f.network !== undefined && r.network !== f.network && r.chain !== f.network) return false
  if (f.fork !== undefined && !forksOf(r).includes(f.fork)) return false
  if (f.client !== undefined) {
    const c = clientOf(r)
    if (c?.name !== f.client) return false
    if (f.minVersion !== undefined) {
      const v = c.version !== undefined ? versionNumbers(c.version) : undefined
      if (!v || !atLeast(v, f.minVersion)) return false
    }
  }
  // a crawl that walked discv4 alone writes no protocols: its answering nodes answered on v4
  if (f.protocol !== undefined && !(r.answered && (r.protocols ?? ['v4']).includes(f.protocol))) return false
  if (f.country !== undefined && r.country !== f.country) return false
  if (f.asn !== undefined && r.asn !== f.asn) return false
  if (f.synced !== undefined && r.synced !== f.synced) return false
  if (f.answeredWithin !== undefined && !(item.lastResponse !== undefined && item.lastResponse >= asOf - f.answeredWithin)) return false
  return true
}

/** best first: higher score, then the later last response, then node ID (so equal sets rank alike) */
function byScore(a: NodeSetItem, b: NodeSetItem): number {
  return b.score - a.score || (b.lastResponse ?? -1) - (a.lastResponse ?? -1) || (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0)
}

/** What a selection kept. */
export interface Selection {
  /** the nodes kept, best score first */
  items: NodeSetItem[]
  /** nodes that passed the filters, before the limit */
  matched: number
}

/**
 * The nodes of `source` passing `f` (and `usable`, e.g. the output format needs a record), best score
 * first, at most `f.limit` of them.
 */
export function selectNodes(source: NodeSource, f: NodeFilter, usable: (item: NodeSetItem) => boolean = () => true): Selection {
  const kept = source.items.filter((i) => usable(i) && matchesFilter(i, f, source.asOf)).sort(byScore)
  return { items: f.limit !== undefined ? kept.slice(0, f.limit) : kept, matched: kept.length }
}
