/**
 * `crawl --report FILE.html`: one self-contained page about a crawl. No scripts, no fonts, no images:
 * the CSS is inline and every chart is SVG drawn here, so the file opens offline and makes no request.
 *
 * Everything a peer chose (client ids, capability names, fork hashes, record fields) is attacker
 * controlled: it only ever reaches the page through `esc`, and is cut to a bounded length. Lists are
 * top-N and the timeline is thinned, so the page stays small however big the crawl.
 *
 * The --dial fields (clientId, client, caps, networkId, forkId) are read defensively: the page works
 * on discovery-only records and shows the dial sections when any record carries them.
 */
import { isHostingAsn } from '../geo/hosting.js'
import { matchForkHash } from '../eth/networks.js'
import { emptyDialTally, PROTOCOL_SPLITS, protocolSplit, tallyDial, type DialTally, type HeadCount } from './output.js'
import { referenceHeads, SYNC_DISTANCE, SYNC_QUORUM, syncedOf } from './head.js'
import type { CrawlRecord } from './record.js'
import { parseClientId } from './clientid.js'

/** What the HTML report says about the crawl itself. */
export interface ReportMeta {
  /** epoch ms */
  started: number
  ended: number
  /** seed nodes the crawl started from */
  seeds: number
  /** the crawl dialled nodes over RLPx (shows the dial rows even when nobody answered) */
  dial?: boolean
  packetsIn?: number
  packetsOut?: number
  title?: string
}

/**
 * The crawl's topology for the report (`crawl --neighbors`): the distinct edges found, and for each
 * listed node (public key, as a record's `id`) its in-degree: how many tables list it.
 */
export interface ReportTopology {
  edges: number
  inDegree: ReadonlyMap<string, number>
}

/** one sample of the crawl's counters; `t` is ms since the start */
export interface TimelinePoint {
  t: number
  found: number
  answered: number
}

/** rows kept in each ranked list */
const TOP = 15
const VERSIONS_PER_CLIENT = 5
const CLIENTS_WITH_VERSIONS = 8
/** points drawn on the timeline */
const MAX_POINTS = 400
/** peer-provided text is cut to this before it is escaped */
const MAX_LABEL = 64

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/** escape for text and attribute values alike */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]!)
}

/** bounded, printable label for peer-provided text */
function label(s: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = s.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '')
  return clean.length > MAX_LABEL ? clean.slice(0, MAX_LABEL - 1) + '…' : clean
}

class Counter {
  private readonly m = new Map<string, number>()
  add(k: string, n = 1): void {
    this.m.set(k, (this.m.get(k) ?? 0) + n)
  }
  get size(): number {
    return this.m.size
  }
  get(k: string): number {
    return this.m.get(k) ?? 0
  }
  /** every row, by label */
  sorted(): [string, number][] {
    return [...this.m].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  }
  /** the n largest, then one 'other' row for the rest */
  top(n: number): [string, number][] {
    const all = [...this.m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    if (all.length <= n) return all
    const rest = all.slice(n).reduce((s, [, v]) => s + v, 0)
    return [...all.slice(0, n), [`(${all.length - n} others)`, rest]]
  }
}

// ---- reading the optional --dial fields ---------------------------------------------------------

type Loose = Record<string, unknown>

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined
}

function clientOf(r: Loose): { name: string; version: string } | undefined {
  const c = r['client']
  if (c !== null && typeof c === 'object') {
    const o = c as Loose
    const name = str(o['name'])
    if (name !== undefined) return { name, version: str(o['version']) ?? '?' }
  }
  const id = str(r['clientId'])
  if (id === undefined) return undefined
  const p = parseClientId(id)
  return { name: p.name || '(empty)', version: p.version ?? '?' }
}

function capsOf(r: Loose): string[] {
  const caps = r['caps']
  if (!Array.isArray(caps)) return []
  return caps.flatMap((c: unknown) => {
    if (typeof c === 'string') return [c]
    if (c !== null && typeof c === 'object') {
      const o = c as Loose
      if (typeof o['name'] === 'string') return [`${o['name']}/${String(o['version'] ?? '?')}`]
    }
    return []
  })
}

/** Status fork id as 8 hex digits, from `{hash}` (hex or bytes) or a plain 'hash' / 'hash:next' string */
function statusForkHash(r: Loose): string | undefined {
  const f = r['forkId']
  const h = f !== null && typeof f === 'object' ? (f as Loose)['hash'] : f
  if (typeof h === 'string') {
    const m = /^(?:0x)?([0-9a-f]{8})\b/i.exec(h)
    return m ? m[1]!.toLowerCase() : undefined
  }
  if (h instanceof Uint8Array && h.length === 4) return Buffer.from(h).toString('hex')
  return undefined
}

/** DisconnectReason.TooManyPeers */

const RTT_BUCKETS = ['< 25 ms', '25–50 ms', '50–100 ms', '100–200 ms', '200–400 ms', '400–800 ms', '≥ 800 ms']
const RTT_EDGES = [25, 50, 100, 200, 400, 800]

function rttLabel(ms: number): string {
  const i = RTT_EDGES.findIndex((e) => ms < e)
  return RTT_BUCKETS[i < 0 ? RTT_BUCKETS.length - 1 : i]!
}

/** "2 pings → answered"; a count beyond 9 is a garbled record, kept in one row */
function attemptsLabel(n: number, answered: boolean): string {
  const k = n > 9 ? '> 9' : String(Math.max(0, Math.round(n)))
  return `${k} ping${k === '1' ? '' : 's'} → ${answered ? 'answered' : 'no answer'}`
}

// ---- aggregation ------------------------------------------------------------------------------

interface Census {
  found: number
  answered: number
  eth2: number
  withRecord: number
  dial: DialTally
  /** answered discovery, no dial either way */
  notDialled: number
  dialFields: boolean
  /** answered nodes by measured round trip, and nodes by pings sent */
  rtt: Counter
  attempts: Counter
  /** answered nodes by the discovery protocols they answered on (v4 only, v5 only, both) and by layer; consensus nodes by chain and fork, by attestation subnets */
  protocols: Counter
  layers: Counter
  consensus: Counter
  attnets: Counter
  clients: Counter
  versions: Map<string, Counter>
  caps: Counter
  networks: Counter
  octets: Counter
  subnets: Counter
  errors: Counter
  /** answering nodes by country and by AS ("AS15169 Google LLC"); of those with an AS, on a hosting AS */
  countries: Counter
  ases: Counter
  withAsn: number
  hosted: number
  /** with a topology: answering nodes by in-degree, and the addresses of the most listed nodes */
  degrees: Counter
  topIps: Map<string, string>
  /** by client name: nodes with a head number, and of those the synced ones; each chain's reference head */
  heads: Map<string, HeadCount>
  refs: Map<string, number>
}

/** in-degree bands: doubling, so a network of any size fits in a few bars */
const DEGREE_BANDS = ['0 (in no table)', '1', '2–3', '4–7', '8–15', '16–31', '32–63', '64+']

function degreeBand(n: number): string {
  return DEGREE_BANDS[Math.min(DEGREE_BANDS.length - 1, n === 0 ? 0 : 1 + Math.floor(Math.log2(n)))]!
}

/** the `n` most listed nodes, most first (ties by key, so the page is the same for the same crawl) */
function mostListed(inDegree: ReadonlyMap<string, number>, n: number): [string, number][] {
  const top: [string, number][] = []
  for (const e of inDegree) {
    if (top.length === n && e[1] <= top[n - 1]![1]) continue
    top.push(e)
    top.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    if (top.length > n) top.pop()
  }
  return top
}

function census(all: Iterable<CrawlRecord>, dial: boolean, inDegree?: ReadonlyMap<string, number>, top?: ReadonlySet<string>): Census {
  const records = [...all]
  const refs = referenceHeads(records)
  const c: Census = {
    heads: new Map(),
    refs,
    found: 0,
    answered: 0,
    eth2: 0,
    withRecord: 0,
    dial: emptyDialTally(),
    notDialled: 0,
    dialFields: dial,
    rtt: new Counter(),
    attempts: new Counter(),
    protocols: new Counter(),
    layers: new Counter(),
    consensus: new Counter(),
    attnets: new Counter(),
    clients: new Counter(),
    versions: new Map(),
    caps: new Counter(),
    networks: new Counter(),
    octets: new Counter(),
    subnets: new Counter(),
    errors: new Counter(),
    countries: new Counter(),
    ases: new Counter(),
    withAsn: 0,
    hosted: 0,
    degrees: new Counter(),
    topIps: new Map(),
  }
  for (const rec of records) {
    const r = rec as unknown as Loose
    c.found++
    if (top?.has(rec.id)) c.topIps.set(rec.id, rec.ip)
    if (inDegree && rec.answered) c.degrees.add(degreeBand(inDegree.get(rec.id) ?? 0))
    if (rec.enr !== undefined) c.withRecord++
    const dialled = tallyDial(rec, c.dial)
    if (dialled) c.dialFields = true
    else if (rec.answered) c.notDialled++
    const attempts = r['attempts']
    if (typeof attempts === 'number' && Number.isFinite(attempts)) c.attempts.add(attemptsLabel(attempts, rec.answered))
    const v4 = /^(\d+)\.(\d+)\.\d+\.\d+$/.exec(rec.ip)
    if (v4) {
      c.octets.add(`${v4[1]}.x`)
      c.subnets.add(`${v4[1]}.${v4[2]}.0.0/16`)
    } else c.octets.add('IPv6 / other')
    if (!rec.answered) {
      // the reason a node stayed silent, without its address: "… to 1.2.3.4:30303 timed out" → one row
      if (rec.error !== undefined) c.errors.add(label(rec.error.replace(/\d+\.\d+\.\d+\.\d+:\d+/g, 'IP:PORT')))
      continue
    }
    c.answered++
    const rtt = r['rttMs']
    if (typeof rtt === 'number' && Number.isFinite(rtt)) c.rtt.add(rttLabel(rtt))
    const protocols = r['protocols']
    const split = Array.isArray(protocols) ? protocolSplit(protocols) : undefined
    if (split) c.protocols.add(split)
    const layer = r['layer']
    if (layer === 'execution' || layer === 'consensus') c.layers.add(layer)
    const cons = r['consensus']
    if (cons !== null && typeof cons === 'object') {
      const k = cons as Loose
      c.consensus.add(label(`${str(k['network']) ?? 'unknown'} · ${str(k['fork']) ?? str(k['forkDigest']) ?? '?'}`))
      const att = k['attnets']
      if (typeof att === 'number') c.attnets.add(att === 0 ? '0' : att <= 2 ? '1–2' : att <= 8 ? '3–8' : att <= 32 ? '9–32' : '33–64')
    }
    if (rec.eth2) c.eth2++
    if (typeof rec.country === 'string') c.countries.add(label(rec.country))
    if (typeof rec.asn === 'number') {
      c.ases.add(label(typeof rec.asOrg === 'string' ? `AS${rec.asn} ${rec.asOrg}` : `AS${rec.asn}`))
      c.withAsn++
      if (isHostingAsn(rec.asn)) c.hosted++
    }
    if (rec.network !== undefined) c.networks.add(`${rec.network} · ${rec.fork ?? '?'} (ENR)`)
    else if (rec.enr !== undefined) c.networks.add('no eth entry (ENR)')
    const client = clientOf(r)
    if (client !== undefined || r['caps'] !== undefined) c.dialFields = true
    if (client) {
      const name = label(client.name)
      c.clients.add(name)
      let vs = c.versions.get(name)
      if (!vs) c.versions.set(name, (vs = new Counter()))
      vs.add(label(client.version))
    }
    if (client && typeof rec.headNumber === 'number') {
      const h = c.heads.get(label(client.name)) ?? { head: 0, synced: 0 }
      h.head++
      if (syncedOf(rec, refs)) h.synced++
      c.heads.set(label(client.name), h)
    }
    for (const cap of capsOf(r)) c.caps.add(label(cap))
    const fh = statusForkHash(r)
    if (fh !== undefined) {
      // the fork state's name comes from the hash; the network from id + hash (the dialer's `chain`)
      const known = matchForkHash(Buffer.from(fh, 'hex'))
      const chain = str(r['chain']) ?? known?.network ?? 'unknown'
      const nid = r['networkId'] !== undefined ? ` id ${label(String(r['networkId']))}` : ''
      c.networks.add(`${label(chain)} · ${known ? known.fork : fh} (Status${nid})`)
    }
  }
  return c
}

// ---- SVG ----------------------------------------------------------------------------------------

const COLORS = ['#2b6cb0', '#2f855a', '#c05621', '#6b46c1', '#b83280', '#2c7a7b', '#975a16', '#4a5568']

function fmt(n: number): string {
  return n.toLocaleString('en-US')
}

/**
 * Horizontal bars: label, bar, count and share; labels are escaped here. Shares are of `of` when
 * given (a whole the bars are parts of, e.g. the nodes found), otherwise of the bars' sum.
 */
function barChart(rows: [string, number][], color = COLORS[0]!, of?: number): string {
  if (rows.length === 0) return '<p class="none">nothing to show</p>'
  const rowH = 22
  const labelW = 230
  const barW = 300
  const max = Math.max(...rows.map(([, v]) => v))
  const total = of ?? rows.reduce((s, [, v]) => s + v, 0)
  const h = rows.length * rowH + 4
  const bars = rows
    .map(([k, v], i) => {
      const y = i * rowH + 2
      const w = max > 0 ? Math.max(1, Math.round((v / max) * barW)) : 0
      const pct = total > 0 ? ((100 * v) / total).toFixed(1) : '0'
      return (
        `<text x="${labelW - 6}" y="${y + 15}" text-anchor="end">${esc(k)}</text>` +
        `<rect x="${labelW}" y="${y + 3}" width="${w}" height="${rowH - 6}" fill="${color}" rx="2"/>` +
        `<text x="${labelW + w + 6}" y="${y + 15}">${fmt(v)} (${pct}%)</text>`
      )
    })
    .join('')
  // scales down with its card; the text stays readable down to about half size
  return `<svg class="bars" viewBox="0 0 ${labelW + barW + 110} ${h}" width="100%" style="max-width:${labelW + barW + 110}px" role="img">${bars}</svg>`
}

/** keep at most `max` points, evenly spaced, always the last */
function thin<T>(pts: T[], max: number): T[] {
  if (pts.length <= max) return pts
  const step = pts.length / max
  const out: T[] = []
  for (let i = 0; i < max - 1; i++) out.push(pts[Math.floor(i * step)]!)
  out.push(pts[pts.length - 1]!)
  return out
}

/** a round step for about `n` ticks over [0, max] */
function tickStep(max: number, n: number): number {
  const raw = max / n
  const p = 10 ** Math.floor(Math.log10(raw || 1))
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? raw
}

function lineChart(timeline: TimelinePoint[]): string {
  const pts = thin(timeline, MAX_POINTS)
  if (pts.length < 2) return '<p class="none">the crawl was too short to sample</p>'
  const W = 1000
  const H = 260
  const L = 70
  const B = 30
  const T = 30
  const R = 20
  const maxT = Math.max(1, pts[pts.length - 1]!.t)
  const maxY = Math.max(1, ...pts.map((p) => Math.max(p.found, p.answered)))
  const x = (t: number): number => L + ((W - L - R) * t) / maxT
  const y = (v: number): number => H - B - ((H - B - T) * v) / maxY
  const path = (key: 'found' | 'answered'): string => pts.map((p) => `${x(p.t).toFixed(1)},${y(p[key]).toFixed(1)}`).join(' ')
  const parts: string[] = []
  const ys = tickStep(maxY, 5)
  for (let v = 0; v <= maxY; v += ys) parts.push(`<line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" class="grid"/><text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${fmt(v)}</text>`)
  const xs = tickStep(maxT / 1000, 8)
  for (let s = 0; s * 1000 <= maxT; s += xs) parts.push(`<text x="${x(s * 1000)}" y="${H - 10}" text-anchor="middle">${fmt(s)} s</text>`)
  parts.push(`<polyline points="${path('found')}" fill="none" stroke="${COLORS[0]}" stroke-width="2"/>`)
  parts.push(`<polyline points="${path('answered')}" fill="none" stroke="${COLORS[1]}" stroke-width="2"/>`)
  // legend above the plot, where no line can cross it
  parts.push(`<rect x="${L}" y="6" width="12" height="12" fill="${COLORS[0]}"/><text x="${L + 18}" y="16">found</text>`)
  parts.push(`<rect x="${L + 80}" y="6" width="12" height="12" fill="${COLORS[1]}"/><text x="${L + 98}" y="16">answered</text>`)
  return `<svg class="line" viewBox="0 0 ${W} ${H}" width="100%" role="img">${parts.join('')}</svg>`
}

// ---- page ---------------------------------------------------------------------------------------

const CSS = `
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1a202c;background:#f7fafc}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:0 0 10px}
.sub{color:#4a5568;margin-bottom:16px}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:16px}
.card{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:14px 16px;margin-bottom:16px;overflow-x:auto}
.kpis{display:flex;flex-wrap:wrap;gap:12px}
.kpi{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:10px 14px;min-width:120px}
.kpi b{display:block;font-size:22px}.kpi span{color:#4a5568;font-size:12px}
svg text{font-size:12px;fill:#2d3748}svg .grid{stroke:#e2e8f0}
table{border-collapse:collapse}td,th{padding:2px 10px 2px 0;text-align:left}td.n{text-align:right}
.none{color:#718096}`

function kpi(value: string, what: string): string {
  return `<div class="kpi"><b>${esc(value)}</b><span>${esc(what)}</span></div>`
}

function card(title: string, body: string): string {
  return `<section class="card"><h2>${esc(title)}</h2>${body}</section>`
}

function versionsTable(c: Census): string {
  const rows = c.clients
    .top(CLIENTS_WITH_VERSIONS)
    .filter(([name]) => c.versions.has(name))
    .map(([name]) => {
      const vs = c.versions.get(name)!.top(VERSIONS_PER_CLIENT)
      return `<tr><th>${esc(name)}</th><td>${vs.map(([v, n]) => `${esc(v)} <small>(${fmt(n)})</small>`).join(', ')}</td></tr>`
    })
  return rows.length > 0 ? `<table>${rows.join('')}</table>` : '<p class="none">no client ids (crawl without --dial)</p>'
}

/** synced share per client: `synced / with a head`, and the reference heads it is judged against */
function headsTable(c: Census): string {
  const rows = [...c.heads]
    .sort((a, b) => b[1].head - a[1].head)
    .slice(0, TOP)
    .map(([name, h]) => `<tr><th>${esc(name)}</th><td class="n">${fmt(h.synced)} / ${fmt(h.head)}</td><td class="n">${((100 * h.synced) / h.head).toFixed(1)} %</td></tr>`)
  const refs = [...c.refs].map(([k, v]) => `${esc(k)} ${fmt(v)}`).join(', ')
  return `<table><tr><th>client</th><th>synced / with head</th><th>synced</th></tr>${rows.join('')}</table><p class="sub">reference heads (highest head at least ${SYNC_QUORUM} nodes reached; synced within ${SYNC_DISTANCE} blocks): ${refs || 'none'}</p>`
}

/** the v4 only / both bars (all three, zeros too, so the split reads at a glance), then the layers the records name */
function protocolBars(c: Census): string {
  const parts: string[] = []
  if (c.protocols.size > 0) parts.push(barChart(PROTOCOL_SPLITS.map((k) => [k, c.protocols.get(k)] as [string, number]), COLORS[3], c.answered))
  if (c.layers.size > 0) parts.push(barChart([['execution layer', c.layers.get('execution')], ['consensus layer', c.layers.get('consensus')]], COLORS[5], c.answered))
  return parts.join('')
}

/** the in-degree panel: answering nodes by how many tables list them, and the most listed nodes */
function topologyCard(t: ReportTopology, c: Census, top: [string, number][]): string {
  const listed = t.inDegree.size
  const head = `<p>${fmt(t.edges)} table entries (edges) from the nodes that answered FINDNODE; ${fmt(listed)} nodes listed by at least one table; ${fmt(c.degrees.get(DEGREE_BANDS[0]!))} answering nodes listed by none.</p>`
  const bands = barChart(DEGREE_BANDS.map((b) => [b, c.degrees.get(b)] as [string, number]).filter(([, v]) => v > 0), COLORS[0], c.answered)
  const rows = top.map(([id, n]) => `<tr><td><code>${esc(id.slice(0, 16))}…</code></td><td>${esc(c.topIps.get(id) ?? '')}</td><td class="n">${fmt(n)}</td></tr>`)
  const table = rows.length > 0 ? `<h2>Most listed nodes</h2><table><tr><th>id</th><th>ip</th><th>tables</th></tr>${rows.join('')}</table>` : ''
  return card('In-degree: how many tables list each answering node', head + bands + table)
}

/** Render the whole page. `records` is read once; `topology` (crawl --neighbors) adds the in-degree panel. */
export function renderReport(records: Iterable<CrawlRecord>, meta: ReportMeta, timeline: TimelinePoint[], topology?: ReportTopology): string {
  const top = topology ? mostListed(topology.inDegree, TOP) : []
  const c = census(records, meta.dial ?? false, topology?.inDegree, new Set(top.map(([id]) => id)))
  const secs = Math.max(0.001, (meta.ended - meta.started) / 1000)
  const packets = (meta.packetsIn ?? 0) + (meta.packetsOut ?? 0)
  const kpis = [
    kpi(fmt(c.found), 'nodes found'),
    kpi(fmt(c.answered), 'answered discovery'),
    kpi(fmt(c.found - c.answered), 'unanswered'),
    kpi(fmt(c.withRecord), 'with ENR'),
    kpi(fmt(c.eth2), 'eth2 (consensus) entry'),
    ...(c.dialFields ? [kpi(fmt(c.dial.hello), 'dialled ok (Hello)')] : []),
    kpi(`${secs.toFixed(1)} s`, 'duration'),
    kpi(`${fmt(Math.round(c.found / secs))}/s`, 'nodes found per second'),
    ...(packets > 0 ? [kpi(`${fmt(Math.round(packets / secs))}/s`, 'packets per second')] : []),
    kpi(fmt(meta.seeds), 'seeds'),
    ...(c.withAsn > 0 ? [kpi(`${((100 * c.hosted) / c.withAsn).toFixed(1)} %`, `on hosting ASes (${fmt(c.hosted)} of ${fmt(c.withAsn)})`)] : []),
  ]
  const reach: [string, number][] = [
    ['answered discovery', c.answered],
    ['no answer', c.found - c.answered],
  ]
  if (c.dialFields) reach.push(['dialled ok (Hello)', c.dial.hello], ['eth Status', c.dial.status], ['TooManyPeers', c.dial.tooMany], ['dial failed', c.dial.failed], ['answered, not dialled', c.notDialled])
  const title = meta.title ?? 'ethp2p crawl report'
  const when = `${new Date(meta.started).toISOString()} → ${new Date(meta.ended).toISOString()}`
  const body = [
    `<h1>${esc(title)}</h1><div class="sub">${esc(when)}</div>`,
    `<div class="kpis card">${kpis.join('')}</div>`,
    card('Nodes found over time', lineChart(timeline)),
    '<div class="grid2">',
    card(`Reachability (share of the ${fmt(c.found)} nodes found)`, barChart(reach, COLORS[1], c.found)),
    ...(c.rtt.size > 0 ? [card('Round trip of answering nodes', barChart(RTT_BUCKETS.map((b) => [b, c.rtt.get(b)] as [string, number]).filter(([, v]) => v > 0), COLORS[4], c.answered))] : []),
    ...(c.attempts.size > 0 ? [card('Pings per node', barChart(c.attempts.sorted(), COLORS[2], c.found))] : []),
    ...(c.protocols.size > 0 || c.layers.size > 0 ? [card('Found over discovery protocol (answering nodes)', protocolBars(c))] : []),
    ...(c.consensus.size > 0 ? [card('Consensus chains and forks (eth2 entry)', barChart(c.consensus.top(TOP), COLORS[5]))] : []),
    ...(c.attnets.size > 0 ? [card('Attestation subnets per consensus node', barChart(['0', '1–2', '3–8', '9–32', '33–64'].map((b) => [b, c.attnets.get(b)] as [string, number]).filter(([, v]) => v > 0), COLORS[6]))] : []),
    card(`Networks by fork id (answered nodes, ${fmt(c.networks.size)} distinct)`, barChart(c.networks.top(TOP), COLORS[3])),
    card(`Clients (${fmt(c.clients.size)} distinct names)`, barChart(c.clients.top(TOP), COLORS[0])),
    card('Top versions per client', versionsTable(c)),
    ...(c.heads.size > 0 ? [card('Heads: synced share per client', headsTable(c))] : []),
    card(`Capabilities (${fmt(c.caps.size)} distinct)`, barChart(c.caps.top(TOP), COLORS[2])),
    ...(c.countries.size > 0 ? [card(`Nodes per country (answering, ${fmt(c.countries.size)} countries)`, barChart(c.countries.top(TOP), COLORS[1]))] : []),
    ...(c.ases.size > 0 ? [card(`Nodes per AS (answering, ${fmt(c.ases.size)} ASes)`, barChart(c.ases.top(TOP), COLORS[3]))] : []),
    card('IPv4 first octet', barChart(c.octets.top(TOP), COLORS[5])),
    card('Busiest /16 networks', barChart(c.subnets.top(10), COLORS[6])),
    card('Why nodes did not answer', barChart(c.errors.top(8), COLORS[7])),
    ...(topology ? [topologyCard(topology, c, top)] : []),
    '</div>',
  ].join('\n')
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${esc(title)}</title><style>${CSS}</style></head><body>\n${body}\n</body></html>\n`
}
