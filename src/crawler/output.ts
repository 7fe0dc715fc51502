/**
 * Crawl outputs: JSON lines (one record per node, DESIGN.md's fields), CSV, geth's nodes.json node set
 * (cmd/devp2p/nodeset.go: keyed by node ID, seq, record, score, first/last response, last check, so
 * devp2p's dns tooling reads our crawl), and the closing summary.
 */
import { once } from 'node:events'
import { createWriteStream, writeFileSync, type WriteStream } from 'node:fs'
import type { Writable } from 'node:stream'
import { backend } from '../crypto/backend.js'
import { hex } from '../crypto/bytes.js'
import type { Node } from '../enode/node.js'
import { GeoTally, type GeoRanking } from '../geo/tally.js'
import { DisconnectReason } from '../p2p/base.js'
import { CONSENSUS_NOT_DIALLED, notDialled, type DialResult, type Dialer } from './dialer.js'
import { referenceHeads, syncedOf } from './head.js'
import type { CrawlDiff, CrawlRecord, DiscoveryRecord, StoredNode } from './record.js'

/** A line-per-record sink over a file or stdout; `close()` waits until everything is written. */
class LineWriter {
  private constructor(
    private readonly out: Writable,
    private readonly owned: boolean,
  ) {}

  static toFile(path: string): LineWriter {
    return new LineWriter(createWriteStream(path), true)
  }

  static toStream(out: Writable): LineWriter {
    return new LineWriter(out, false)
  }

  async line(s: string): Promise<void> {
    // respect backpressure so a slow consumer bounds memory instead of the buffer growing
    if (!this.out.write(s + '\n')) await once(this.out, 'drain')
  }

  async close(): Promise<void> {
    if (!this.owned) return
    const f = this.out as WriteStream
    await new Promise<void>((resolve, reject) => f.end((err?: Error | null) => (err ? reject(err) : resolve())))
  }
}

/** Writes crawl records as JSON lines (`--out`), to a file or a stream. */
export class JsonlWriter {
  private constructor(private readonly w: LineWriter) {}
  static toFile(path: string): JsonlWriter {
    return new JsonlWriter(LineWriter.toFile(path))
  }
  static toStream(out: Writable): JsonlWriter {
    return new JsonlWriter(LineWriter.toStream(out))
  }
  write(r: CrawlRecord): Promise<void> {
    return this.w.line(JSON.stringify(r))
  }
  close(): Promise<void> {
    return this.w.close()
  }
}

const CSV_COLUMNS = [
  'id',
  'ip',
  'udp',
  'tcp',
  'seq',
  'answered',
  'network',
  'fork',
  'eth2',
  'neighbors',
  'firstSeen',
  'lastSeen',
  'enr',
  'clientId',
  'caps',
  'networkId',
  'forkId',
  'chain',
  'disconnect',
  'inbound',
  'error',
  'dialError',
  // added last: readers that go by position keep their columns
  'protocols',
  'layer',
  'country',
  'asn',
  'asOrg',
  'headNumber',
  'headHash',
  'headTime',
] as const

/** RFC 4180 quoting: only fields holding a comma, quote or line break are quoted */
function csvField(v: unknown): string {
  const s = v === undefined ? '' : String(v)
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

/** the dial's structured fields flattened into one cell each */
function csvValue(r: CrawlRecord, k: (typeof CSV_COLUMNS)[number]): unknown {
  switch (k) {
    case 'caps':
      return r.caps?.join(' ')
    case 'protocols':
      return r.protocols?.join('+')
    case 'forkId':
      return r.forkId && `${r.forkId.hash}/${r.forkId.next}`
    case 'disconnect':
      return r.disconnect && `${r.disconnect.reason} (${r.disconnect.by})`
    default:
      return r[k]
  }
}

/** The CSV header line (`--csv`), without its line break. */
export function csvHeader(): string {
  return CSV_COLUMNS.join(',')
}

/** One record as a CSV line (`--csv`), without its line break. */
export function csvLine(r: CrawlRecord): string {
  return CSV_COLUMNS.map((k) => csvField(csvValue(r, k))).join(',')
}

/** Writes crawl records as CSV (`--csv`). */
export class CsvWriter {
  private constructor(private readonly w: LineWriter) {}
  static async toFile(path: string): Promise<CsvWriter> {
    const c = new CsvWriter(LineWriter.toFile(path))
    await c.w.line(csvHeader())
    return c
  }
  write(r: CrawlRecord): Promise<void> {
    return this.w.line(csvLine(r))
  }
  close(): Promise<void> {
    return this.w.close()
  }
}

/** bytes of CSV gathered before they are handed to the file */
const EDGE_CHUNK = 64 * 1024

/**
 * Writes the crawl's edges as CSV (`--neighbors`): header `from,to,distance`, one line per table
 * entry (public keys as the records' `id`, the log distance at which `from` lists `to`). Edges come
 * from a synchronous event, so `write` never waits: lines gather into 64 KiB chunks, and while the
 * file has not drained the last one they wait here (backpressure bounds the stream's buffer; what
 * waits is what the disk has not taken yet). `close()` writes the rest and waits until it is on disk.
 */
export class EdgeCsvWriter {
  private pending: string[] = []
  private pendingBytes = 0
  private waiting = false
  /** edges written (or waiting to be) */
  count = 0

  private constructor(private readonly out: WriteStream) {
    out.on('drain', () => {
      this.waiting = false
      this.flush()
    })
  }

  /** a new file holding the header line */
  static toFile(path: string): EdgeCsvWriter {
    const w = new EdgeCsvWriter(createWriteStream(path))
    w.pending.push('from,to,distance\n')
    return w
  }

  /** one edge; hex keys and a number need no quoting */
  write(from: string, to: string, distance: number): void {
    const line = `${from},${to},${distance}\n`
    this.pending.push(line)
    this.pendingBytes += line.length
    this.count++
    if (this.pendingBytes >= EDGE_CHUNK && !this.waiting) this.flush()
  }

  private flush(): void {
    if (this.pending.length === 0) return
    const chunk = this.pending.join('')
    this.pending = []
    this.pendingBytes = 0
    if (!this.out.write(chunk)) this.waiting = true
  }

  async close(): Promise<void> {
    this.flush()
    await new Promise<void>((resolve, reject) => this.out.end((err?: Error | null) => (err ? reject(err) : resolve())))
  }
}

/** one entry of geth's nodes.json */
export interface NodeSetEntry {
  seq: number
  record: string
  score?: number
  firstResponse?: string
  lastResponse?: string
  lastCheck?: string
}

/** What a node set entry takes from bookkeeping across crawls (a store, a history), when there is some. */
export type NodeSetBookkeeping = Pick<StoredNode, 'score' | 'firstResponse' | 'lastResponse' | 'lastCheck'>

/**
 * geth's node set from this crawl: every node that sent a record, keyed by its 64-hex node ID
 * (keccak256 of the public key). Scores and first responses come from the store when there is one.
 */
export function nodeSet(records: Iterable<CrawlRecord>, stored?: (id: string) => NodeSetBookkeeping | undefined): Record<string, NodeSetEntry> {
  const out: Record<string, NodeSetEntry> = {}
  for (const r of records) {
    if (r.enr === undefined || r.seq === undefined) continue
    const s = stored?.(r.id)
    const e: NodeSetEntry = { seq: r.seq, record: r.enr }
    const score = s?.score ?? (r.answered ? 1 : 0)
    if (score > 0) e.score = score
    const first = s?.firstResponse ?? (r.answered ? Date.parse(r.lastSeen) : undefined)
    const last = s?.lastResponse ?? (r.answered ? Date.parse(r.lastSeen) : undefined)
    if (first !== undefined) e.firstResponse = new Date(first).toISOString()
    if (last !== undefined) e.lastResponse = new Date(last).toISOString()
    e.lastCheck = new Date(s?.lastCheck ?? Date.parse(r.lastSeen)).toISOString()
    out[hex(backend.keccak256(Buffer.from(r.id, 'hex')))] = e
  }
  return out
}

/** A node set as geth's `nodes.json` text: sorted by ID, four-space indent, a final line break. */
export function formatNodesJson(set: Record<string, NodeSetEntry>): string {
  // geth sorts by ID (Go map keys) and indents by four spaces
  const sorted = Object.fromEntries(Object.entries(set).sort(([a], [b]) => (a < b ? -1 : 1)))
  return JSON.stringify(sorted, null, 4) + '\n'
}

/** Write a node set in geth's `nodes.json` layout (`--nodes-json`). */
export function writeNodesJson(path: string, set: Record<string, NodeSetEntry>): void {
  writeFileSync(path, formatNodesJson(set))
}

/** Where a node answered discovery: discv4 alone, discv5 alone, or both. */
export type ProtocolSplit = 'v4 only' | 'v5 only' | 'both'

/** The three, in the order the summary, the report and the history show them. */
export const PROTOCOL_SPLITS: readonly ProtocolSplit[] = ['v4 only', 'v5 only', 'both']

/** The layer a record names (`CrawlRecord.layer`). */
export type Layer = NonNullable<CrawlRecord['layer']>

/** Every split at zero (a fresh object each call). */
export function emptySplits(): Record<ProtocolSplit, number> {
  return { 'v4 only': 0, 'v5 only': 0, both: 0 }
}

/** Both layers at zero (a fresh object each call). */
export function emptyLayers(): Record<Layer, number> {
  return { execution: 0, consensus: 0 }
}

/**
 * Which split an answering node's `protocols` fall in; undefined for a list naming neither protocol.
 * Takes unknown items because the report reads records from files.
 */
export function protocolSplit(protocols: readonly unknown[]): ProtocolSplit | undefined {
  const v4 = protocols.includes('v4')
  const v5 = protocols.includes('v5')
  return v4 && v5 ? 'both' : v4 ? 'v4 only' : v5 ? 'v5 only' : undefined
}

/** The end-of-crawl summary: counts by outcome, network and client. */
export interface CrawlSummary {
  found: number
  answered: number
  unanswered: number
  /** answered nodes by the network of their `eth` entry ('none' without one) */
  networks: Record<string, number>
  eth2: number
  /** answered nodes by the discovery protocols they answered on, when the crawl walked discv5 */
  protocols?: Record<ProtocolSplit, number>
  /** answered nodes by layer, when the records say it: execution (discv4 or an `eth` entry) or consensus (`eth2` alone) */
  layers?: Record<Layer, number>
  /** answered nodes with an `eth2` entry by consensus network and fork ("mainnet bpo2") */
  consensus?: Record<string, number>
  /** with --dial: nodes dialled (or that dialled us), with a Hello, with a Status, that dialled us */
  dial?: { dialled: number; hello: number; status: number; inbound: number }
  /** with --dial: nodes with a Hello by client name */
  clients?: Record<string, number>
  /** with --dial: nodes with a Status by the chain it names (network id + fork id) */
  chains?: Record<string, number>
  /** with --dial: disconnect reasons the remote side gave */
  disconnects?: Record<string, number>
  /** with --dial: by client name, nodes with a head number and of those the synced ones (crawler/head.ts) */
  heads?: Record<string, HeadCount>
  /** with --dial: each chain's reference head, when at least SYNC_QUORUM nodes of it have a head */
  referenceHeads?: Record<string, number>
  /** answered nodes by country and AS (the SUMMARY_GEO_TOP largest) and on hosting ASes; absent when no record has either */
  geo?: GeoRanking
  seconds: number
  since?: { new: number; gone: number; changed: number; same: number }
}

/** Nodes with a head number, and of those the synced ones. */
export interface HeadCount {
  head: number
  synced: number
}

/** Dial counts of a crawl. `tallyDial` is the one definition: the summary line and the report share it. */
export interface DialTally {
  /** dialled by us, or dialled us */
  dialled: number
  /** sent a Hello */
  hello: number
  /** sent an eth Status */
  status: number
  inbound: number
  /** refused us as TooManyPeers (with or after a Hello) */
  tooMany: number
  /** dialled, no Hello and no refusal */
  failed: number
}

/** A tally with every count at zero. */
export function emptyDialTally(): DialTally {
  return { dialled: 0, hello: 0, status: 0, inbound: 0, tooMany: 0, failed: 0 }
}

/** Count one record's dial into `t`; false when the node was not dialled (nor dialled us). */
export function tallyDial(r: CrawlRecord, t: DialTally): boolean {
  const failedDial = r.dialError !== undefined && !notDialled(r.dialError)
  if (!(r.clientId !== undefined || r.disconnect !== undefined || r.inbound || r.networkId !== undefined || failedDial)) return false
  t.dialled++
  if (r.inbound) t.inbound++
  if (r.clientId !== undefined) t.hello++
  if (r.chain !== undefined) t.status++
  const tooMany = (r.disconnect?.by === 'remote' && r.disconnect.code === DisconnectReason.TooManyPeers) || /too many peers/i.test(r.dialError ?? '')
  if (tooMany) t.tooMany++
  else if (r.clientId === undefined) t.failed++
  return true
}

/** countries and ASes the summary names; the rest are "+N more" */
export const SUMMARY_GEO_TOP = 5

/** Sum up a crawl's records (and its difference from an earlier crawl). */
export function summarize(all: Iterable<CrawlRecord>, seconds: number, diff?: CrawlDiff): CrawlSummary {
  const records = [...all]
  // synced is judged over the whole crawl: the records need not carry it yet
  const refs = referenceHeads(records)
  const s: CrawlSummary = { found: 0, answered: 0, unanswered: 0, networks: {}, eth2: 0, seconds: Math.round(seconds * 10) / 10 }
  const bump = (m: Record<string, number>, k: string): void => {
    m[k] = (m[k] ?? 0) + 1
  }
  const tally = emptyDialTally()
  const geo = new GeoTally()
  for (const r of records) {
    s.found++
    if (tallyDial(r, tally)) {
      s.clients ??= {}
      s.chains ??= {}
      s.disconnects ??= {}
      if (r.clientId !== undefined) bump(s.clients, r.client?.name || 'unnamed')
      if (r.chain !== undefined) bump(s.chains, r.chain)
      if (r.disconnect?.by === 'remote') bump(s.disconnects, r.disconnect.reason)
      if (r.headNumber !== undefined) {
        const c = ((s.heads ??= {})[r.client?.name || 'unnamed'] ??= { head: 0, synced: 0 })
        c.head++
        if (syncedOf(r, refs)) c.synced++
      }
    }
    if (!r.answered) {
      s.unanswered++
      continue
    }
    s.answered++
    const net = r.network ?? 'none'
    s.networks[net] = (s.networks[net] ?? 0) + 1
    if (r.eth2) s.eth2++
    // a discv4-only crawl writes no protocols: its nodes are in no split (nobody asked them over discv5)
    const split = r.protocols && protocolSplit(r.protocols)
    if (split) (s.protocols ??= emptySplits())[split]++
    if (r.layer) (s.layers ??= emptyLayers())[r.layer]++
    if (r.consensus) bump((s.consensus ??= {}), `${r.consensus.network}${r.consensus.fork ? ' ' + r.consensus.fork : ''}`)
    geo.add(r)
  }
  // a loopback testnet or a crawl without the databases has no geography: no geo, no lines
  if (!geo.empty) s.geo = geo.rank(SUMMARY_GEO_TOP)
  if (refs.size > 0) s.referenceHeads = Object.fromEntries([...refs].sort())
  if (tally.dialled > 0) s.dial = { dialled: tally.dialled, hello: tally.hello, status: tally.status, inbound: tally.inbound }
  if (diff) s.since = { new: diff.new.length, gone: diff.gone.length, changed: diff.changed.length, same: diff.same }
  return s
}

function counts(m: Record<string, number>): string {
  const parts = Object.entries(m)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
  return parts.join(', ') || '-'
}

/** "+7 more (12 nodes)" past the named ones, or nothing */
function more(distinct: number, named: number, nodes: number): string[] {
  return distinct > named ? [`+${distinct - named} more (${nodes} nodes)`] : []
}

/** countries, ASes (named with their organisation) and the hosting share, each line only when known */
function geoLines(g: GeoRanking): string[] {
  const lines: string[] = []
  if (g.withCountry > 0) lines.push(`countries: ${[...g.countries.map((c) => `${c.country} ${c.nodes}`), ...more(g.distinct.countries, g.countries.length, g.others.countries)].join(', ')}`)
  if (g.withAsn > 0) {
    // "AS: n", as organisations have commas and spaces of their own
    lines.push(`ASes: ${[...g.ases.map((a) => `AS${a.asn}${a.asOrg ? ' ' + a.asOrg : ''}: ${a.nodes}`), ...more(g.distinct.ases, g.ases.length, g.others.ases)].join(', ')}`)
    lines.push(`on well-known hosting ASes: ${g.hosted} of ${g.withAsn} answered nodes with a known AS (${(100 * g.hostingShare).toFixed(1)} %)`)
  }
  return lines
}

/** the summary as a few human lines (stderr) */
export function formatSummary(s: CrawlSummary): string {
  const nets = Object.entries(s.networks)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')
  const lines = [`crawl: ${s.found} found, ${s.answered} answered, ${s.unanswered} unanswered in ${s.seconds} s`, `networks: ${nets || '-'}; eth2 entries: ${s.eth2}`]
  if (s.protocols) lines.push(`protocols: ${PROTOCOL_SPLITS.map((k) => `${k} ${s.protocols![k]}`).join(', ')}`)
  if (s.layers) lines.push(`layers: execution ${s.layers.execution}, consensus ${s.layers.consensus}`)
  if (s.consensus) lines.push(`consensus (eth2): ${counts(s.consensus)}`)
  if (s.dial) {
    lines.push(`dialled: ${s.dial.dialled}, hello ${s.dial.hello}, status ${s.dial.status}, inbound ${s.dial.inbound}`)
    lines.push(`clients by name: ${counts(s.clients ?? {})}`)
    lines.push(`chains (Status): ${counts(s.chains ?? {})}; remote disconnects: ${counts(s.disconnects ?? {})}`)
    const heads = Object.entries(s.heads ?? {}).sort((a, b) => b[1].head - a[1].head)
    const refs = Object.entries(s.referenceHeads ?? {}).map(([k, v]) => `${k} ${v}`)
    lines.push(`heads synced/known by client: ${heads.map(([k, c]) => `${k} ${c.synced}/${c.head}`).join(', ') || '-'}; reference heads: ${refs.join(', ') || '-'}`)
  }
  if (s.geo) lines.push(...geoLines(s.geo))
  if (s.since) lines.push(`since: ${s.since.new} new, ${s.since.gone} gone, ${s.since.changed} changed, ${s.since.same} same`)
  return lines.join('\n')
}

/** A record with what its dial (or, when the dial got no Hello, its inbound visit) learnt. */
export function mergeDial(r: DiscoveryRecord, dial: DialResult | undefined, inbound?: DialResult): CrawlRecord {
  const useInbound = inbound !== undefined && dial?.clientId === undefined
  const info = useInbound ? inbound : dial
  if (!info) return r.layer === 'consensus' ? { ...r, dialError: CONSENSUS_NOT_DIALLED } : r
  const { timings: _timings, error: _error, ...fields } = info
  const out: CrawlRecord = { ...r, ...fields }
  if (inbound) out.inbound = true
  const errs = [dial?.error, useInbound ? inbound.error : undefined].filter((e): e is string => e !== undefined)
  if (errs.length > 0) out.dialError = errs.join('; ')
  return out
}

/**
 * The crawl's records, each held back until its node's dial is over and merged with the result; nodes
 * that dialled us and that the crawl never listed come last, as records of their own (`inbound`).
 * Holds only records whose dial runs and results whose record is still to come. Ends once the
 * records have and every dial is over; the dialer is stopped then.
 */
export async function* withDials(records: AsyncIterable<DiscoveryRecord>, dialer: Dialer): AsyncGenerator<CrawlRecord> {
  const waiting = new Map<string, CrawlRecord>()
  const results = new Map<string, DialResult>()
  const inbound = new Map<string, { node: Node; result: DialResult }>()
  const written = new Set<string>()
  const ready: CrawlRecord[] = []
  let notify: (() => void) | undefined
  const push = (r: CrawlRecord): void => {
    written.add(r.id)
    const ib = inbound.get(r.id)
    inbound.delete(r.id)
    const dial = results.get(r.id)
    results.delete(r.id)
    ready.push(mergeDial(r, dial, ib?.result))
    notify?.()
  }
  const onResult = (id: string, res: DialResult): void => {
    results.set(id, res)
    const r = waiting.get(id)
    if (!r) return
    waiting.delete(id)
    push(r)
  }
  const onInbound = (node: Node, res: DialResult): void => {
    const id = Buffer.from(node.pubkey).toString('hex')
    // already written: the node is on record, its later visit adds nothing the crawl can still use
    if (!written.has(id)) inbound.set(id, { node, result: res })
  }
  dialer.on('result', onResult)
  dialer.on('inbound', onInbound)
  let done = false
  let failure: unknown
  const consume = (async () => {
    try {
      for await (const r of records) {
        if (dialer.isPending(r.id)) waiting.set(r.id, r)
        else push(r)
      }
      await dialer.drain()
    } catch (err) {
      failure = err
    } finally {
      await dialer.stop()
      for (const r of waiting.values()) push(r)
      waiting.clear()
      const now = new Date().toISOString()
      for (const [id, { node, result }] of inbound) {
        if (written.has(id)) continue
        const base: CrawlRecord = { id, ip: node.ip, udp: 0, tcp: node.tcp, firstSeen: now, lastSeen: now, answered: false, eth2: false }
        ready.push(mergeDial(base, undefined, result))
      }
      inbound.clear()
      done = true
      notify?.()
    }
  })()
  try {
    for (;;) {
      while (ready.length > 0) yield ready.shift()!
      if (done) break
      await new Promise<void>((resolve) => (notify = resolve))
      notify = undefined
    }
    await consume
    if (failure !== undefined) throw failure
  } finally {
    dialer.off('result', onResult)
    dialer.off('inbound', onInbound)
  }
}
