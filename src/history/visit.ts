/**
 * A crawl record as the history stores it: one visit row (pure, no I/O), and the per-crawl counts
 * that the time-series questions read instead of scanning every visit of every crawl.
 */
import { parseClientId } from '../crawler/clientid.js'
import { notDialled } from '../crawler/dialer.js'
import { emptyLayers, emptySplits, protocolSplit, type Layer, type ProtocolSplit } from '../crawler/output.js'
import type { CrawlRecord } from '../crawler/record.js'
import type { VisitsTable } from './schema.js'

/** A crawl record, with the fields the crawler's rewrite adds read as optional. */
export type HistoryRecord = CrawlRecord & { attempts?: number; rttMs?: number }

/** a visit row before it knows its crawl and node ids */
export type VisitRow = Omit<VisitsTable, 'crawl_id' | 'node'>

/** Peer-chosen text is cut before it is stored: a row stays small whatever a node sends. */
const MAX_TEXT = 256
/** an ENR is at most 300 bytes, ~410 characters in base64 */
const MAX_ENR = 512

function text(v: string | undefined | null, max = MAX_TEXT): string | null {
  if (v === undefined || v === null) return null
  return v.length > max ? v.slice(0, max) : v
}

function int(v: number | undefined): number | null {
  return v === undefined || !Number.isFinite(v) ? null : v
}

const LANGUAGE_BY_RUNTIME: [RegExp, string][] = [
  [/^go\d/i, 'go'],
  [/^rustc/i, 'rust'],
  [/^dotnet/i, 'dotnet'],
  [/^(openjdk|oracle|java)/i, 'java'],
  [/^(nodejs|node\d|bun|deno)/i, 'javascript'],
  [/^python/i, 'python'],
]
/** clients that send no runtime segment, by the language they are written in */
const LANGUAGE_BY_CLIENT: Record<string, string> = { reth: 'rust', geth: 'go', erigon: 'go', nethermind: 'dotnet', besu: 'java', ethereumjs: 'javascript' }

/** The implementation language a Hello reveals: from its runtime segment, else from the client's name. */
export function clientLanguage(name: string | undefined, runtime: string | undefined): string | null {
  if (runtime !== undefined) for (const [re, lang] of LANGUAGE_BY_RUNTIME) if (re.test(runtime)) return lang
  return (name !== undefined ? LANGUAGE_BY_CLIENT[name] : undefined) ?? null
}

/** One record as a visit row. */
export function visitRow(r: HistoryRecord): VisitRow {
  const parsed = r.clientId !== undefined ? parseClientId(r.clientId) : undefined
  const name = r.client?.name ?? parsed?.name
  const runtime = r.client?.runtime ?? parsed?.runtime
  return {
    ip: text(r.ip, 64)!,
    udp: r.udp,
    tcp: r.tcp,
    answered: r.answered ? 1 : 0,
    attempts: int(r.attempts),
    rtt_ms: int(r.rttMs),
    enr_seq: int(r.seq),
    enr: text(r.enr, MAX_ENR),
    network: text(r.network),
    fork: text(r.fork),
    eth2: r.eth2 ? 1 : 0,
    neighbors: int(r.neighbors),
    client_id: text(r.clientId),
    client_name: text(name),
    client_version: text(r.client?.version ?? parsed?.version),
    client_os: text(r.client?.os ?? parsed?.os),
    client_arch: text(r.client?.arch ?? parsed?.arch),
    client_runtime: text(runtime),
    client_language: r.clientId !== undefined ? clientLanguage(name, runtime) : null,
    caps: r.caps !== undefined ? text(r.caps.join(' '), 1024) : null,
    network_id: int(r.networkId),
    fork_hash: text(r.forkId?.hash, 16),
    fork_next: int(r.forkId?.next),
    chain: text(r.chain),
    disconnect: text(r.disconnect?.reason),
    disconnect_by: text(r.disconnect?.by),
    inbound: r.inbound ? 1 : 0,
    error: text(r.error),
    dial_error: text(r.dialError),
    protocols: r.protocols !== undefined && r.protocols.length > 0 ? text(r.protocols.join('+'), 16) : null,
    layer: text(r.layer, 16),
    country: r.country !== undefined && /^[A-Z]{2}$/.test(r.country) ? r.country : null,
    asn: r.asn !== undefined && Number.isInteger(r.asn) && r.asn >= 0 && r.asn <= 0xffffffff ? r.asn : null,
    as_org: text(r.asOrg, 128),
    head_number: int(r.headNumber),
    head_hash: r.headHash !== undefined && /^[0-9a-f]{64}$/.test(r.headHash) ? r.headHash : null,
    head_time: r.headTime !== undefined ? int(Date.parse(r.headTime)) : null,
    synced: r.synced === undefined ? null : r.synced ? 1 : 0,
  }
}

/** The dimensions counted per crawl, and what each counts. */
export const DIMENSIONS = {
  client: 'nodes with a Hello, by client name',
  version: 'nodes with a Hello, by client name/version',
  os: 'nodes with a Hello, by operating system',
  arch: 'nodes with a Hello, by CPU architecture',
  language: 'nodes with a Hello, by implementation language',
  network: 'answering nodes, by the network of their ENR eth entry',
  fork: 'answering nodes, by network and fork state of their ENR eth entry',
  chain: 'nodes with a Status, by the chain it names',
  forkid: 'nodes with a Status, by chain and fork id (hash/next)',
  protocols: 'answering nodes, by the discovery protocols they answered on (v4 only, v5 only, both)',
  layer: 'answering nodes, by layer (execution, consensus)',
  country: 'answering nodes with a public IP, by country (ISO 3166 alpha-2)',
  asn: 'answering nodes with a public IP, by autonomous system ("AS15169 Google LLC")',
  head: 'nodes with a head number (Status or its header), by client name',
  synced: 'nodes with a synced head, by client name',
} as const

/** a crawl_counts key for an AS: `AS<number>`, then its organisation when known */
export function asnKey(asn: number, org: string | null | undefined): string {
  return org ? `AS${asn} ${org}` : `AS${asn}`
}

/** the AS number of an {@link asnKey}, or undefined */
export function asnOfKey(key: string): number | undefined {
  const m = /^AS(\d+)(?: |$)/.exec(key)
  return m ? Number(m[1]) : undefined
}

/** A dimension the history counts per crawl. */
export type Dimension = keyof typeof DIMENSIONS

/** What a crawl's visits add up to: its totals and its counts by dimension. */
export interface CrawlTally {
  found: number
  answered: number
  dialled: number
  hello: number
  status: number
  /** answering nodes over v4 only, v5 only, both (crawls that walked discv4 alone count none) */
  protocols: Record<ProtocolSplit, number>
  /** answering nodes by the layer their record names */
  layers: Record<Layer, number>
  counts: { dim: Dimension; key: string; n: number }[]
}

/** Count a crawl's visit rows (the same rules as the crawl summary: a 'not dialled' marker is no dial). */
export function tally(rows: Iterable<VisitRow>): CrawlTally {
  const t: CrawlTally = { found: 0, answered: 0, dialled: 0, hello: 0, status: 0, protocols: emptySplits(), layers: emptyLayers(), counts: [] }
  const m = new Map<Dimension, Map<string, number>>()
  const bump = (dim: Dimension, key: string | null): void => {
    if (key === null) return
    let d = m.get(dim)
    if (!d) m.set(dim, (d = new Map()))
    d.set(key, (d.get(key) ?? 0) + 1)
  }
  for (const v of rows) {
    t.found++
    if (v.answered) {
      t.answered++
      bump('network', v.network ?? 'none')
      if (v.fork !== null) bump('fork', `${v.network ?? 'none'} ${v.fork}`)
      const split = v.protocols !== null ? protocolSplit(v.protocols.split('+')) : undefined
      if (split) {
        t.protocols[split]++
        bump('protocols', split)
      }
      if (v.layer === 'execution' || v.layer === 'consensus') {
        t.layers[v.layer]++
        bump('layer', v.layer)
      }
      if (v.country !== null) bump('country', v.country)
      if (v.asn !== null) bump('asn', asnKey(Number(v.asn), v.as_org))
    }
    const dialled = v.client_id !== null || v.disconnect !== null || v.inbound === 1 || v.network_id !== null || (v.dial_error !== null && !notDialled(v.dial_error))
    if (dialled) t.dialled++
    if (v.client_id !== null) {
      t.hello++
      const name = v.client_name || 'unnamed'
      bump('client', name)
      bump('version', `${name}/${v.client_version ?? '?'}`)
      bump('os', v.client_os ?? '?')
      bump('arch', v.client_arch ?? '?')
      bump('language', v.client_language ?? '?')
    }
    if (v.head_number !== null) bump('head', v.client_name || 'unnamed')
    if (v.synced === 1) bump('synced', v.client_name || 'unnamed')
    if (v.network_id !== null) {
      t.status++
      bump('chain', v.chain ?? 'unknown')
      if (v.fork_hash !== null) bump('forkid', `${v.chain ?? 'unknown'} ${v.fork_hash}/${v.fork_next ?? 0}`)
    }
  }
  for (const [dim, keys] of m) for (const [key, n] of keys) t.counts.push({ dim, key, n })
  return t
}
