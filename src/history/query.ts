/**
 * The questions asked of the crawl history, written once for SQLite and PostgreSQL (Kysely): nodes
 * per client / version / OS / network / fork over time, the adoption curve of a version, churn, fork
 * readiness, and the node search and history behind the dashboard (the uptime distribution: uptime.ts).
 *
 * Time series read the per-crawl counts (one row per crawl and key) rather than every visit; crawls
 * stopped early (SIGINT) are left out of series, churn and uptime, where their partial counts would
 * read as a dip in the network.
 */
import { sql, type SelectQueryBuilder } from 'kysely'
import { emptyLayers, emptySplits, PROTOCOL_SPLITS, type Layer, type ProtocolSplit } from '../crawler/output.js'
import type { History } from './db.js'
import type { HistorySchema } from './schema.js'
import { GeoTally, type GeoRanking } from '../geo/tally.js'
import { asnOfKey, DIMENSIONS, type Dimension } from './visit.js'

/** Which crawls a question looks at. */
export interface Window {
  /** only this vantage point's crawls (all of them when absent) */
  vantage?: string
  /** only crawls started at or after this time, epoch ms */
  since?: number
  /** only the latest N crawls of the window (default 1000) */
  limit?: number
}

/** One crawl as the series see it. */
export interface CrawlPoint {
  id: number
  vantage: string
  startedAt: number
  endedAt: number
  found: number
  answered: number
  dialled: number
  hello: number
  status: number
  newNodes: number
  returningNodes: number
  goneNodes: number
  interrupted: boolean
  /** its visits and edges were pruned (`history prune`); its counts and churn remain */
  pruned: boolean
}

/** Counts of one dimension across crawls: `values[key][i]` belongs to `crawls[i]`. */
export interface Series {
  dim: Dimension
  crawls: CrawlPoint[]
  /** the keys largest in the latest crawl first; the rest are summed into '(others)' */
  keys: string[]
  values: Record<string, number[]>
}

const DEFAULT_LIMIT = 1000
const MAX_LIMIT = 100_000
/** keys drawn per series before the rest become '(others)' */
const DEFAULT_TOP = 10
/** the key that gathers the values beyond a series' top ones */
export const OTHERS = '(others)'

/** Is `s` one of the counted dimensions? */
export function isDimension(s: string): s is Dimension {
  return Object.hasOwn(DIMENSIONS, s)
}

type CrawlRow = HistorySchema['crawls']

function point(r: Omit<CrawlRow, 'options' | 'id' | 'pruned'> & { id: number; pruned: number }): CrawlPoint {
  return {
    id: r.id,
    vantage: r.vantage,
    startedAt: Number(r.started_at),
    endedAt: Number(r.ended_at),
    found: r.found,
    answered: r.answered,
    dialled: r.dialled,
    hello: r.hello,
    status: r.status,
    newNodes: r.new_nodes,
    returningNodes: r.returning_nodes,
    goneNodes: r.gone_nodes,
    interrupted: r.interrupted === 1,
    pruned: r.pruned === 1,
  }
}

function windowed<O>(q: SelectQueryBuilder<HistorySchema, 'crawls', O>, w: Window, withInterrupted: boolean): SelectQueryBuilder<HistorySchema, 'crawls', O> {
  if (w.vantage !== undefined) q = q.where('crawls.vantage', '=', w.vantage)
  if (w.since !== undefined) q = q.where('crawls.started_at', '>=', w.since)
  if (!withInterrupted) q = q.where('crawls.interrupted', '=', 0)
  return q
}

/** The crawls of the window, oldest first (interrupted ones too when asked). */
export async function listCrawls(h: History, w: Window = {}, opts: { withInterrupted?: boolean } = {}): Promise<CrawlPoint[]> {
  const limit = Math.min(MAX_LIMIT, w.limit ?? DEFAULT_LIMIT)
  const rows = await windowed(h.db.selectFrom('crawls').selectAll(), w, opts.withInterrupted ?? false)
    .orderBy('started_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute()
  return rows.reverse().map(point)
}

/** The most recent crawl of the window (interrupted ones too), with its options. */
export async function latestCrawl(h: History, w: Window = {}): Promise<(CrawlPoint & { options: Record<string, unknown> }) | undefined> {
  const r = await windowed(h.db.selectFrom('crawls').selectAll(), w, true).orderBy('started_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst()
  if (!r) return undefined
  let options: Record<string, unknown> = {}
  try {
    options = JSON.parse(r.options) as Record<string, unknown>
  } catch {
    // written by us as JSON; an edited row should not break the page
  }
  return { ...point(r), options }
}

/** One crawl by its id (interrupted or not), or undefined. */
export async function crawlById(h: History, id: number): Promise<CrawlPoint | undefined> {
  const r = await h.db.selectFrom('crawls').selectAll().where('id', '=', id).executeTakeFirst()
  return r ? point(r) : undefined
}

/** When the vantage point last started a crawl (the monitor's schedule continues from it). */
export async function lastCrawlStart(h: History, vantage: string): Promise<number | undefined> {
  const r = await h.db.selectFrom('crawls').select((eb) => eb.fn.max('started_at').as('t')).where('vantage', '=', vantage).executeTakeFirst()
  return r?.t === null || r?.t === undefined ? undefined : Number(r.t)
}

/** Counts of `dim` over the window's crawls. */
export async function series(h: History, dim: Dimension, w: Window = {}, opts: { top?: number; keys?: string[] } = {}): Promise<Series> {
  const crawls = await listCrawls(h, w)
  const out: Series = { dim, crawls, keys: [], values: {} }
  if (crawls.length === 0) return out
  const index = new Map(crawls.map((c, i) => [c.id, i]))
  // crawl ids grow with commits, not strictly with start times: bound by id range, then keep the window's
  const minId = Math.min(...crawls.map((c) => c.id))
  const maxId = Math.max(...crawls.map((c) => c.id))
  let q = h.db.selectFrom('crawl_counts').select(['crawl_id', 'key', 'n']).where('dim', '=', dim).where('crawl_id', '>=', minId).where('crawl_id', '<=', maxId)
  if (opts.keys !== undefined) q = q.where('key', 'in', opts.keys.length > 0 ? opts.keys : [''])
  const rows = await q.execute()
  const all = new Map<string, number[]>()
  for (const r of rows) {
    const i = index.get(r.crawl_id)
    if (i === undefined) continue
    let v = all.get(r.key)
    if (!v) all.set(r.key, (v = new Array<number>(crawls.length).fill(0)))
    v[i] = r.n
  }
  // rank by the latest crawl, then by the whole window, so a key that vanished still ranks
  const lastI = crawls.length - 1
  const sum = (v: number[]): number => v.reduce((a, b) => a + b, 0)
  const ranked = [...all.entries()].sort((a, b) => b[1][lastI]! - a[1][lastI]! || sum(b[1]) - sum(a[1]) || (a[0] < b[0] ? -1 : 1))
  const top = opts.keys !== undefined ? ranked.length : Math.max(1, opts.top ?? DEFAULT_TOP)
  for (const [k, v] of ranked.slice(0, top)) {
    out.keys.push(k)
    out.values[k] = v
  }
  if (ranked.length > top) {
    const others = new Array<number>(crawls.length).fill(0)
    for (const [, v] of ranked.slice(top)) for (let i = 0; i < v.length; i++) others[i]! += v[i]!
    out.keys.push(OTHERS)
    out.values[OTHERS] = others
  }
  return out
}

/** The adoption of one client version: its nodes, its client's nodes and its share, per crawl. */
export interface Adoption {
  client: string
  version: string
  crawls: CrawlPoint[]
  nodes: number[]
  clientNodes: number[]
  /** nodes / clientNodes, 0 when the client had none */
  share: number[]
}

/** How the version `client/version` spread over the window (client name as counted: lower case). */
export async function adoption(h: History, client: string, version: string, w: Window = {}): Promise<Adoption> {
  const name = client.toLowerCase()
  const v = version.replace(/^v/i, '')
  const ofVersion = await series(h, 'version', w, { keys: [`${name}/${v}`] })
  const ofClient = await series(h, 'client', w, { keys: [name] })
  const nodes = ofVersion.values[`${name}/${v}`] ?? new Array<number>(ofVersion.crawls.length).fill(0)
  const clientNodes = ofClient.values[name] ?? new Array<number>(ofClient.crawls.length).fill(0)
  return { client: name, version: v, crawls: ofVersion.crawls, nodes, clientNodes, share: nodes.map((n, i) => (clientNodes[i]! > 0 ? n / clientNodes[i]! : 0)) }
}

/** Versions seen for a client in the latest crawl of the window, most nodes first. */
export async function versionsOf(h: History, client: string, w: Window = {}): Promise<{ version: string; nodes: number }[]> {
  const latest = (await listCrawls(h, { ...w, limit: 1 }))[0]
  if (!latest) return []
  const prefix = `${client.toLowerCase()}/`
  const rows = await h.db
    .selectFrom('crawl_counts')
    .select(['key', 'n'])
    .where('crawl_id', '=', latest.id)
    .where('dim', '=', 'version')
    .where(sql<boolean>`substr(key, 1, ${prefix.length}) = ${prefix}`)
    .orderBy('n', 'desc')
    .execute()
  return rows.map((r) => ({ version: r.key.slice(prefix.length), nodes: r.n }))
}

/** Churn per crawl: new, returning and gone nodes of its vantage point, and how many answered. */
export interface Churn {
  crawls: CrawlPoint[]
}

/** Churn across time: per crawl, nodes found and answering, new, returning and gone. */
export async function churn(h: History, w: Window = {}): Promise<Churn> {
  return { crawls: await listCrawls(h, w) }
}

/** Nodes of one chain by the fork id their Status announced, in the latest crawl. */
export interface ForkReadiness {
  crawl?: CrawlPoint
  chains: {
    chain: string
    /** nodes with a Status on this chain */
    nodes: number
    /** the highest FORK_NEXT announced with the current fork hash: the next fork (0: none scheduled) */
    nextFork: number
    /** nodes announcing it */
    ready: number
    forkIds: { hash: string; next: number; nodes: number }[]
  }[]
}

/** Fork readiness in the latest crawl: how many nodes advertise each next fork. */
export async function forkReadiness(h: History, w: Window = {}): Promise<ForkReadiness> {
  const crawl = (await listCrawls(h, { ...w, limit: 1 }))[0]
  if (!crawl) return { chains: [] }
  const rows = await h.db.selectFrom('crawl_counts').select(['key', 'n']).where('crawl_id', '=', crawl.id).where('dim', '=', 'forkid').execute()
  const chains = new Map<string, ForkReadiness['chains'][number]>()
  for (const r of rows) {
    const m = /^(\S+) ([0-9a-f]+)\/(\d+)$/.exec(r.key)
    if (!m) continue
    const [, chain, hash, next] = m
    let c = chains.get(chain!)
    if (!c) chains.set(chain!, (c = { chain: chain!, nodes: 0, nextFork: 0, ready: 0, forkIds: [] }))
    c.nodes += r.n
    c.forkIds.push({ hash: hash!, next: Number(next), nodes: r.n })
  }
  for (const c of chains.values()) {
    c.forkIds.sort((a, b) => b.nodes - a.nodes)
    // the hash most nodes share is the current fork; the highest next announced with it is the coming one
    const current = c.forkIds[0]!.hash
    c.nextFork = Math.max(0, ...c.forkIds.filter((f) => f.hash === current).map((f) => f.next))
    c.ready = c.nextFork === 0 ? 0 : c.forkIds.filter((f) => f.hash === current && f.next === c.nextFork).reduce((s, f) => s + f.nodes, 0)
  }
  return { crawl, chains: [...chains.values()].sort((a, b) => b.nodes - a.nodes) }
}

/** The latest crawl's answering nodes by discovery protocol and by layer. */
export interface ProtocolCounts {
  crawl?: CrawlPoint
  /** v4 only, v5 only, both; all zero for a crawl that walked discv4 alone */
  protocols: Record<ProtocolSplit, number>
  layers: Record<Layer, number>
}

/** Nodes of the latest crawl by protocol (v4 only / v5 only / both) and by layer, from its counts. */
export async function protocolCounts(h: History, w: Window = {}): Promise<ProtocolCounts> {
  const out: ProtocolCounts = { protocols: emptySplits(), layers: emptyLayers() }
  const { crawl, counts } = await latestCounts(h, ['protocols', 'layer'], w)
  if (crawl) out.crawl = crawl
  for (const c of counts) {
    // keys are ours, but a row edited by hand must not add fields to the answer
    if (c.dim === 'protocols' && (PROTOCOL_SPLITS as readonly string[]).includes(c.key)) out.protocols[c.key as ProtocolSplit] = c.n
    else if (c.dim === 'layer' && (c.key === 'execution' || c.key === 'consensus')) out.layers[c.key] = c.n
  }
  return out
}

/** The latest crawl's answering nodes by country and by autonomous system, and the share on hosting ASes. */
export interface GeoCounts extends GeoRanking {
  crawl?: CrawlPoint
}

/** A crawl's counts (its `country` and `asn` rows; others are skipped) as a ranking of the `top` largest. */
export function geoOfCounts(counts: Iterable<{ dim: string; key: string; n: number }>, top: number): GeoRanking {
  const t = new GeoTally()
  for (const c of counts) {
    if (c.dim === 'country') t.addCountry(c.key, c.n)
    if (c.dim !== 'asn') continue
    const asn = asnOfKey(c.key)
    if (asn !== undefined) t.addAsn(asn, c.key.slice(`AS${asn}`.length + 1), c.n)
  }
  return t.rank(top)
}

/** Nodes of the latest crawl per country and per AS (its counts), the `top` largest of each. */
export async function geoCounts(h: History, w: Window = {}, top = 20): Promise<GeoCounts> {
  const { crawl, counts } = await latestCounts(h, ['country', 'asn'], w)
  return { ...(crawl ? { crawl } : {}), ...geoOfCounts(counts, top) }
}

/** The latest crawl's heads: per client, nodes with a head number and the synced ones among them. */
export interface HeadCounts {
  crawl?: CrawlPoint
  /** most nodes with a head first; `share` is synced / head */
  clients: { client: string; head: number; synced: number; share: number }[]
}

/** Heads and the synced share per client of the latest crawl, from its counts (crawls before migration 0005 have none). */
export async function headCounts(h: History, w: Window = {}): Promise<HeadCounts> {
  const { crawl, counts } = await latestCounts(h, ['head', 'synced'], w)
  const by = new Map<string, { head: number; synced: number }>()
  for (const c of counts) {
    const e = by.get(c.key) ?? { head: 0, synced: 0 }
    if (c.dim === 'head') e.head = c.n
    else e.synced = c.n
    by.set(c.key, e)
  }
  const clients = [...by]
    .filter(([, e]) => e.head > 0)
    .map(([client, e]) => ({ client, head: e.head, synced: e.synced, share: e.synced / e.head }))
    .sort((a, b) => b.head - a.head || (a.client < b.client ? -1 : 1))
  return { ...(crawl ? { crawl } : {}), clients }
}

/** A node in the node table. */
export interface NodeSummary {
  pubkey: string
  nodeId: string
  ip: string
  tcp: number
  udp: number
  firstSeen: number
  lastSeen: number | null
  clientId: string | null
  client: string | null
}

/** search text: a public key or node id prefix (hex), an IP, or part of a client id */
export async function searchNodes(h: History, q: string, limit = 50): Promise<NodeSummary[]> {
  const text = q.trim().slice(0, 128)
  const n = Math.max(1, Math.min(500, limit))
  let query = h.db.selectFrom('nodes').select(['pubkey', 'node_id', 'ip', 'tcp', 'udp', 'first_seen', 'last_seen', 'client_id', 'client_name'])
  if (text !== '') {
    const hexq = text.toLowerCase().replace(/^(enode:\/\/|0x)/, '')
    // LIKE patterns: the user's % and _ are escaped (the one portable ESCAPE is an explicit one)
    const like = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`)
    query = query.where((eb) => {
      const ors = [eb('ip', '=', text), sql<boolean>`lower(client_id) LIKE ${'%' + like(text.toLowerCase()) + '%'} ESCAPE '\\'`]
      if (/^[0-9a-f]+$/.test(hexq)) {
        // a prefix as a range: both engines use the unique index for it
        const hi = hexq + 'g'
        ors.push(eb.and([eb('pubkey', '>=', hexq), eb('pubkey', '<', hi)]), eb.and([eb('node_id', '>=', hexq), eb('node_id', '<', hi)]))
      }
      return eb.or(ors)
    })
  }
  const rows = await query.orderBy('last_seen', 'desc').orderBy('pubkey').limit(n).execute()
  return rows.map((r) => ({
    pubkey: r.pubkey,
    nodeId: r.node_id,
    ip: r.ip,
    tcp: r.tcp,
    udp: r.udp,
    firstSeen: Number(r.first_seen),
    lastSeen: r.last_seen === null ? null : Number(r.last_seen),
    clientId: r.client_id,
    client: r.client_name,
  }))
}

/** One visit of a node, for its history. */
export interface NodeVisit {
  crawl: number
  vantage: string
  startedAt: number
  answered: boolean
  ip: string
  tcp: number
  rttMs: number | null
  seq: number | null
  clientId: string | null
  caps: string | null
  chain: string | null
  forkId: string | null
  network: string | null
  fork: string | null
  error: string | null
  dialError: string | null
  /** discovery protocols it answered on ('v4+v5'), null when not recorded */
  protocols: string | null
  layer: string | null
  /** country and AS of the visit's IP, null when unknown */
  country: string | null
  asn: number | null
  asOrg: string | null
}

/** One vantage point's uptime sessions of a node that `history prune` folded into totals (and deleted). */
export interface FoldedSessions {
  vantage: string
  sessions: number
  /** crawls the node answered in them */
  answered: number
  /** the vantage point's crawls from the first of them through the last */
  crawls: number
  /** start of the first and of the last crawl it answered in, and of the crawl that closed the last session */
  firstSeen: number
  lastSeen: number
  endedAt: number
}

/** A node's uptime as one vantage point saw it, over all its sessions, kept and folded: a prune does not change it. */
export interface NodeUptime {
  vantage: string
  sessions: number
  /** crawls the node answered in */
  answered: number
  /** the vantage point's crawls (not interrupted) since the node first answered it */
  crawls: number
  /** start of the first and of the last crawl it answered in */
  firstSeen: number
  lastSeen: number
}

/** A node's visits, newest first, its uptime sessions (the latest 500), and its uptime per vantage point. */
export interface NodeHistory {
  node: NodeSummary
  visits: NodeVisit[]
  sessions: { vantage: string; startedAt: number; lastSeen: number; endedAt: number | null; crawls: number }[]
  /** per vantage point, the old sessions a prune folded (no longer in `sessions`) */
  folded: FoldedSessions[]
  /** per vantage point, from the sessions and the folded totals */
  uptime: NodeUptime[]
  /** the start of the latest pruned crawl: visits of crawls up to it are gone (`history prune`), its sessions folded; null when none is */
  prunedThrough: number | null
}

/** A node's folded totals and its uptime per vantage point, by vantage point. */
async function nodeUptime(h: History, node: number): Promise<{ folded: FoldedSessions[]; uptime: NodeUptime[] }> {
  const totals = await h.db.selectFrom('uptime_totals').selectAll().where('node', '=', node).orderBy('vantage').execute()
  const folded = totals.map((t) => ({ vantage: t.vantage, sessions: t.sessions, answered: t.answered, crawls: t.crawls, firstSeen: Number(t.first_seen), lastSeen: Number(t.last_seen), endedAt: Number(t.ended_at) }))
  const kept = await h.db
    .selectFrom('sessions')
    .select(['vantage', (eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.sum<number>('crawls').as('up'), (eb) => eb.fn.min('started_at').as('first'), (eb) => eb.fn.max('last_seen').as('last')])
    .where('node', '=', node)
    .groupBy('vantage')
    .execute()
  const by = new Map(folded.map((f) => [f.vantage, { vantage: f.vantage, sessions: f.sessions, answered: f.answered, crawls: 0, firstSeen: f.firstSeen, lastSeen: f.lastSeen }]))
  for (const k of kept) {
    const e = by.get(k.vantage)
    const first = Number(k.first)
    const last = Number(k.last)
    if (!e) by.set(k.vantage, { vantage: k.vantage, sessions: Number(k.n), answered: Number(k.up), crawls: 0, firstSeen: first, lastSeen: last })
    else by.set(k.vantage, { ...e, sessions: e.sessions + Number(k.n), answered: e.answered + Number(k.up), firstSeen: Math.min(e.firstSeen, first), lastSeen: Math.max(e.lastSeen, last) })
  }
  const uptime = [...by.values()].sort((a, b) => (a.vantage < b.vantage ? -1 : a.vantage > b.vantage ? 1 : 0))
  for (const u of uptime) {
    const r = await h.db.selectFrom('crawls').select((eb) => eb.fn.countAll<number>().as('n')).where('vantage', '=', u.vantage).where('interrupted', '=', 0).where('started_at', '>=', u.firstSeen).executeTakeFirstOrThrow()
    u.crawls = Number(r.n)
  }
  return { folded, uptime }
}

/** One node across crawls: each sighting with its endpoint, record and client; undefined when never seen. */
export async function nodeHistory(h: History, pubkey: string, limit = 200): Promise<NodeHistory | undefined> {
  const key = pubkey.toLowerCase()
  const node = await h.db.selectFrom('nodes').selectAll().where('pubkey', '=', key).executeTakeFirst()
  if (!node) return undefined
  const visits = await h.db
    .selectFrom('visits as v')
    .innerJoin('crawls as c', 'c.id', 'v.crawl_id')
    .select(['v.crawl_id', 'c.vantage', 'c.started_at', 'v.answered', 'v.ip', 'v.tcp', 'v.rtt_ms', 'v.enr_seq', 'v.client_id', 'v.caps', 'v.chain', 'v.fork_hash', 'v.fork_next', 'v.network', 'v.fork', 'v.error', 'v.dial_error', 'v.protocols', 'v.layer', 'v.country', 'v.asn', 'v.as_org'])
    .where('v.node', '=', node.id)
    .orderBy('c.started_at', 'desc')
    .limit(Math.max(1, Math.min(10_000, limit)))
    .execute()
  const sessions = await h.db.selectFrom('sessions').select(['vantage', 'started_at', 'last_seen', 'ended_at', 'crawls']).where('node', '=', node.id).orderBy('started_at', 'desc').limit(500).execute()
  const pruned = await h.db.selectFrom('crawls').select((eb) => eb.fn.max('started_at').as('t')).where('pruned', '=', 1).executeTakeFirst()
  const { folded, uptime } = await nodeUptime(h, node.id)
  return {
    node: {
      pubkey: node.pubkey,
      nodeId: node.node_id,
      ip: node.ip,
      tcp: node.tcp,
      udp: node.udp,
      firstSeen: Number(node.first_seen),
      lastSeen: node.last_seen === null ? null : Number(node.last_seen),
      clientId: node.client_id,
      client: node.client_name,
    },
    visits: visits.map((v) => ({
      crawl: v.crawl_id,
      vantage: v.vantage,
      startedAt: Number(v.started_at),
      answered: v.answered === 1,
      ip: v.ip,
      tcp: v.tcp,
      rttMs: v.rtt_ms,
      seq: v.enr_seq === null ? null : Number(v.enr_seq),
      clientId: v.client_id,
      caps: v.caps,
      chain: v.chain,
      forkId: v.fork_hash === null ? null : `${v.fork_hash}/${v.fork_next ?? 0}`,
      network: v.network,
      fork: v.fork,
      error: v.error,
      dialError: v.dial_error,
      protocols: v.protocols,
      layer: v.layer,
      country: v.country,
      asn: v.asn === null ? null : Number(v.asn),
      asOrg: v.as_org,
    })),
    sessions: sessions.map((s) => ({ vantage: s.vantage, startedAt: Number(s.started_at), lastSeen: Number(s.last_seen), endedAt: s.ended_at === null ? null : Number(s.ended_at), crawls: s.crawls })),
    folded,
    uptime,
    prunedThrough: pruned?.t === null || pruned?.t === undefined ? null : Number(pruned.t),
  }
}

/** The visits of one crawl as crawl records (the latest crawl's report panels are drawn from them). */
export async function crawlVisits(h: History, crawlId: number): Promise<(HistorySchema['visits'] & { pubkey: string; first_seen: number })[]> {
  return h.db.selectFrom('visits as v').innerJoin('nodes as n', 'n.id', 'v.node').selectAll('v').select(['n.pubkey', 'n.first_seen']).where('v.crawl_id', '=', crawlId).execute()
}

/** The counts of the latest crawl of the window in some dimensions (the Prometheus gauges). */
export async function latestCounts(h: History, dims: Dimension[], w: Window = {}): Promise<{ crawl?: CrawlPoint; counts: { dim: Dimension; key: string; n: number }[] }> {
  const crawl = (await listCrawls(h, { ...w, limit: 1 }))[0]
  if (!crawl) return { counts: [] }
  const rows = await h.db.selectFrom('crawl_counts').select(['dim', 'key', 'n']).where('crawl_id', '=', crawl.id).where('dim', 'in', dims).execute()
  return { crawl, counts: rows.map((r) => ({ dim: r.dim as Dimension, key: r.key, n: r.n })) }
}

/** Nodes that were up in the latest crawls: previous nodes for the next crawl to re-check. */
export async function recentNodes(h: History, since: number, limit = 500_000): Promise<{ id: string; ip: string; udp: number; tcp: number; firstSeen: number }[]> {
  const rows = await h.db.selectFrom('nodes').select(['pubkey', 'ip', 'udp', 'tcp', 'first_seen']).where('last_seen', '>=', since).orderBy('last_seen', 'desc').limit(limit).execute()
  return rows.filter((r) => r.udp > 0).map((r) => ({ id: r.pubkey, ip: r.ip, udp: r.udp, tcp: r.tcp, firstSeen: Number(r.first_seen) }))
}
