/**
 * The dashboard page: one HTML document with its CSS and script inline, no fonts, images or libraries,
 * so it works offline and makes no request but to its own API. Charts are SVG drawn by the script.
 * Peer-chosen text (client ids, fork names) only ever reaches the page through textContent.
 *
 * When every panel has its data the body gets `data-ready="1"` and `data-first-paint-ms` (the time
 * from navigation start), which the browser test and the first-paint benchmark read.
 */

const CSS = `
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:20px;color:#1a202c;background:#f7fafc}
h1{font-size:22px;margin:0 0 4px}h2{font-size:15px;margin:0 0 8px}
.sub{color:#4a5568;margin-bottom:12px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:14px}
.card{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:12px 14px;margin-bottom:14px;overflow-x:auto}
.kpis{display:flex;flex-wrap:wrap;gap:10px}.kpi{border:1px solid #e2e8f0;border-radius:8px;padding:8px 12px;min-width:100px;background:#fff}
.kpi b{display:block;font-size:20px}.kpi span{color:#4a5568;font-size:12px}
svg text{font-size:11px;fill:#2d3748}svg .grid{stroke:#e2e8f0}
.legend{display:flex;flex-wrap:wrap;gap:4px 12px;font-size:12px;margin-top:4px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
table{border-collapse:collapse;font-size:13px}td,th{padding:2px 10px 2px 0;text-align:left;vertical-align:top}td.n{text-align:right}
tr.pick{cursor:pointer}tr.pick:hover{background:#edf2f7}.mono{font-family:ui-monospace,monospace;font-size:12px}
.none{color:#718096}input,select,button{font:inherit;padding:3px 6px}
iframe{width:100%;height:900px;border:0}`

const SCRIPT = String.raw`
'use strict'
const COLORS = ['#3182ce','#38a169','#d69e2e','#e53e3e','#805ad5','#dd6b20','#319795','#d53f8c','#718096','#2c5282','#9c4221']
const $ = (id) => document.getElementById(id)
const vantageSel = $('vantage')
let vantage = ''
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v)
  for (const k of kids) e.append(k instanceof Node ? k : document.createTextNode(String(k)))
  return e
}
function svg(tag, attrs) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag)
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v))
  return e
}
function q(path, params) {
  const u = new URL(path, location.href)
  if (vantage) u.searchParams.set('vantage', vantage)
  for (const [k, v] of Object.entries(params || {})) u.searchParams.set(k, v)
  return fetch(u).then((r) => (r.ok ? r.json() : r.json().then((b) => Promise.reject(new Error(b.error || r.status)))))
}
const fmt = (n) => (n >= 1e6 ? (n / 1e6).toFixed(1) + 'M' : n >= 1e4 ? (n / 1e3).toFixed(0) + 'k' : String(Math.round(n * 100) / 100))
const day = (t) => new Date(t).toISOString().slice(5, 16).replace('T', ' ')
function niceStep(max, n) {
  const raw = max / n, p = Math.pow(10, Math.floor(Math.log10(raw || 1)))
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p
  return 10 * p
}
/** one line per series over time; xs are epoch ms */
function lineChart(box, xs, lines, opts) {
  box.textContent = ''
  if (xs.length === 0) { box.append(el('p', { class: 'none' }, 'no crawls yet')); return }
  const W = 640, H = 240, L = 48, R = 10, T = 10, B = 28
  const maxY = Math.max(1, ...lines.flatMap((l) => l.values))
  const x0 = xs[0], x1 = Math.max(xs[xs.length - 1], x0 + 1)
  const X = (t) => L + ((W - L - R) * (t - x0)) / (x1 - x0)
  const Y = (v) => H - B - ((H - B - T) * v) / maxY
  const s = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, width: '100%', role: 'img' })
  const step = niceStep(maxY, 4)
  for (let v = 0; v <= maxY; v += step) {
    s.append(svg('line', { x1: L, x2: W - R, y1: Y(v), y2: Y(v), class: 'grid' }))
    const t = svg('text', { x: L - 6, y: Y(v) + 4, 'text-anchor': 'end' }); t.textContent = opts && opts.percent ? Math.round(v * 100) + '%' : fmt(v); s.append(t)
  }
  for (const i of [0, Math.floor((xs.length - 1) / 2), xs.length - 1]) {
    const t = svg('text', { x: X(xs[i]), y: H - 8, 'text-anchor': i === 0 ? 'start' : i === xs.length - 1 ? 'end' : 'middle' }); t.textContent = day(xs[i]); s.append(t)
  }
  const legend = el('div', { class: 'legend' })
  lines.forEach((l, i) => {
    const c = COLORS[i % COLORS.length]
    const pts = l.values.map((v, j) => X(xs[j]).toFixed(1) + ',' + Y(v).toFixed(1)).join(' ')
    const pl = svg('polyline', { points: pts, fill: 'none', stroke: c, 'stroke-width': 2, 'data-key': l.key })
    const title = svg('title'); title.textContent = l.key; pl.append(title)
    s.append(pl)
    if (xs.length === 1) s.append(svg('circle', { cx: X(xs[0]), cy: Y(l.values[0]), r: 3, fill: c }))
    legend.append(el('span', {}, el('i', { style: 'background:' + c }), l.key + ' (' + fmt(l.values[l.values.length - 1]) + ')'))
  })
  box.append(s, legend)
}
function barChart(box, rows) {
  box.textContent = ''
  if (rows.length === 0) { box.append(el('p', { class: 'none' }, 'no data')); return }
  const W = 640, row = 22, L = 150, H = rows.length * row + 4
  const max = Math.max(1, ...rows.map((r) => r[1]))
  const s = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, width: '100%', role: 'img' })
  rows.forEach(([k, v], i) => {
    const t = svg('text', { x: L - 6, y: i * row + 15, 'text-anchor': 'end' }); t.textContent = k; s.append(t)
    s.append(svg('rect', { x: L, y: i * row + 3, width: Math.max(1, ((W - L - 60) * v) / max), height: row - 6, fill: COLORS[0] }))
    const n = svg('text', { x: L + ((W - L - 60) * v) / max + 4, y: i * row + 15 }); n.textContent = fmt(v); s.append(n)
  })
  box.append(s)
}
async function seriesPanel(dim) {
  const s = await q('/api/series', { dim, top: '8' })
  lineChart($('chart-' + dim), s.crawls.map((c) => c.startedAt), s.keys.map((k) => ({ key: k, values: s.values[k] })))
}
async function churnPanel() {
  const c = await q('/api/churn')
  const xs = c.crawls.map((p) => p.startedAt)
  lineChart($('chart-churn'), xs, [
    { key: 'answered', values: c.crawls.map((p) => p.answered) },
    { key: 'new', values: c.crawls.map((p) => p.newNodes) },
    { key: 'returning', values: c.crawls.map((p) => p.returningNodes) },
    { key: 'gone', values: c.crawls.map((p) => p.goneNodes) },
  ])
}
async function uptimePanel() {
  const u = await q('/api/uptime')
  barChart($('chart-uptime'), u.buckets.map((b) => [b.label, b.nodes]))
  $('uptime-note').textContent = u.nodes + ' nodes over ' + u.crawls + ' crawls; ' + u.single + ' seen in one crawl only'
}
async function forksPanel() {
  const f = await q('/api/forks')
  const box = $('forks'); box.textContent = ''
  if (f.chains.length === 0) { box.append(el('p', { class: 'none' }, 'no Status fork ids (crawls without --dial)')); return }
  const t = el('table', {}, el('tr', {}, el('th', {}, 'chain'), el('th', {}, 'fork id'), el('th', {}, 'nodes'), el('th', {}, '')))
  for (const c of f.chains) {
    for (const id of c.forkIds) {
      const ready = c.nextFork !== 0 && id.next === c.nextFork
      t.append(el('tr', {}, el('td', {}, c.chain), el('td', { class: 'mono' }, id.hash + '/' + id.next), el('td', { class: 'n' }, fmt(id.nodes)), el('td', {}, ready ? 'ready for next fork' : '')))
    }
    const pct = c.nodes ? Math.round((100 * c.ready) / c.nodes) : 0
    t.append(el('tr', {}, el('th', {}, c.chain), el('td', {}, c.nextFork ? 'next fork at ' + c.nextFork : 'no fork scheduled'), el('td', { class: 'n' }, c.nextFork ? pct + '% ready' : ''), el('td', {}, '')))
  }
  box.append(t)
}
async function headsPanel() {
  const hc = await q('/api/heads')
  const box = $('heads'); box.textContent = ''
  if (hc.clients.length === 0) { box.append(el('p', { class: 'none' }, 'no heads recorded (crawls without --dial)')); return }
  const t = el('table', {}, el('tr', {}, el('th', {}, 'client'), el('th', {}, 'with head'), el('th', {}, 'synced'), el('th', {}, 'share')))
  for (const c of hc.clients) t.append(el('tr', { 'data-client': c.client }, el('td', {}, c.client), el('td', { class: 'n' }, fmt(c.head)), el('td', { class: 'n' }, fmt(c.synced)), el('td', { class: 'n' }, (100 * c.share).toFixed(1) + '%')))
  box.append(t)
}
async function adoptionPanel(first) {
  const client = $('ad-client').value
  if (!client) return
  if (first || $('ad-version').dataset.client !== client) {
    const v = await q('/api/adoption', { client })
    const sel = $('ad-version'); sel.textContent = ''; sel.dataset.client = client
    for (const x of v.versions) sel.append(el('option', { value: x.version }, x.version + ' (' + x.nodes + ')'))
  }
  const version = $('ad-version').value
  if (!version) { lineChart($('chart-adoption'), [], []); return }
  const a = await q('/api/adoption', { client, version })
  lineChart($('chart-adoption'), a.crawls.map((c) => c.startedAt), [{ key: client + ' ' + version + ' share of ' + client, values: a.share }], { percent: true })
}
function kpi(v, what) { return el('div', { class: 'kpi' }, el('b', {}, v), el('span', {}, what)) }
async function overview() {
  const o = await q('/api/overview')
  if (vantageSel.options.length === 0) {
    vantageSel.append(el('option', { value: '' }, 'all vantage points'))
    for (const v of o.vantages) vantageSel.append(el('option', { value: v.vantage }, v.vantage + ' (' + v.crawls + ' crawls)'))
  }
  const k = $('kpis'); k.textContent = ''
  const c = o.latest
  if (!c) { k.append(el('p', { class: 'none' }, 'no crawl stored yet')); return o }
  $('latest').textContent = 'latest crawl #' + c.id + ' by ' + c.vantage + ', ' + new Date(c.startedAt).toISOString() + (c.interrupted ? ' (interrupted)' : '')
  k.append(kpi(fmt(c.found), 'found'), kpi(fmt(c.answered), 'answered'), kpi(fmt(c.hello), 'Hello'), kpi(fmt(c.status), 'Status'), kpi(fmt(c.newNodes), 'new'), kpi(fmt(c.goneNodes), 'gone'), kpi(((c.endedAt - c.startedAt) / 1000).toFixed(0) + ' s', 'duration'))
  if (o.hosting && o.hosting.withAsn > 0) k.append(kpi((100 * o.hosting.share).toFixed(1) + ' %', 'on hosting ASes'))
  return o
}
async function clients() {
  const s = await q('/api/series', { dim: 'client', top: '20' })
  const sel = $('ad-client')
  if (sel.options.length > 0) return
  for (const k of s.keys) if (k !== '(others)') sel.append(el('option', { value: k }, k))
}
function nodeRow(n) {
  const tr = el('tr', { class: 'pick', 'data-pubkey': n.pubkey },
    el('td', { class: 'mono' }, n.pubkey.slice(0, 16) + '…'), el('td', {}, n.ip + ':' + n.tcp), el('td', {}, n.clientId || ''),
    el('td', {}, n.lastSeen ? day(n.lastSeen) : 'never answered'))
  tr.addEventListener('click', () => showNode(n.pubkey))
  return tr
}
async function search() {
  const rows = await q('/api/nodes', { q: $('node-q').value, limit: '50' })
  const box = $('node-results'); box.textContent = ''
  if (rows.length === 0) { box.append(el('p', { class: 'none' }, 'no node matches')); return }
  const t = el('table', {}, el('tr', {}, el('th', {}, 'public key'), el('th', {}, 'endpoint'), el('th', {}, 'client id'), el('th', {}, 'last answered')))
  for (const n of rows) t.append(nodeRow(n))
  box.append(t)
}
async function showNode(pubkey) {
  const h = await q('/api/nodes/' + pubkey)
  const box = $('node-history'); box.textContent = ''
  box.append(el('h2', {}, 'Node ' + h.node.pubkey.slice(0, 16) + '…'),
    el('p', { class: 'mono' }, 'enode://' + h.node.pubkey + '@' + h.node.ip + ':' + h.node.tcp),
    el('p', {}, 'first seen ' + new Date(h.node.firstSeen).toISOString() + ', ' + h.visits.length + ' visits' + (h.prunedThrough ? ' kept (pruned through ' + day(h.prunedThrough) + ')' : '')),
    el('p', { id: 'node-uptime' }, h.uptime.map((u) => 'uptime from ' + u.vantage + ': answered ' + u.answered + ' of ' + u.crawls + ' crawls since ' + day(u.firstSeen) + ' (' + u.sessions + (u.sessions === 1 ? ' session)' : ' sessions)')).join('; ') || 'never answered'))
  const t = el('table', { id: 'node-visits' }, el('tr', {}, el('th', {}, 'crawl'), el('th', {}, 'vantage'), el('th', {}, 'when'), el('th', {}, 'answered'), el('th', {}, 'client id'), el('th', {}, 'fork id'), el('th', {}, 'error')))
  for (const v of h.visits) t.append(el('tr', {}, el('td', {}, '#' + v.crawl), el('td', {}, v.vantage), el('td', {}, day(v.startedAt)), el('td', {}, v.answered ? 'yes' : 'no'), el('td', {}, v.clientId || ''), el('td', { class: 'mono' }, v.forkId || ''), el('td', {}, v.error || v.dialError || '')))
  box.append(t)
}
const DIMS = ['client', 'version', 'os', 'network', 'forkid', 'protocols', 'layer', 'country', 'asn']
async function load() {
  const t0 = performance.now()
  await overview()
  await Promise.all([...DIMS.map(seriesPanel), churnPanel(), uptimePanel(), forksPanel(), headsPanel(), clients().then(() => adoptionPanel(true)), search()])
  if (!document.body.dataset.ready) {
    document.body.dataset.firstPaintMs = String(Math.round(performance.now()))
    document.body.dataset.loadMs = String(Math.round(performance.now() - t0))
  }
  document.body.dataset.ready = '1'
  $('report').src = '/report/latest' + (vantage ? '?vantage=' + encodeURIComponent(vantage) : '')
}
function fail(err) { $('error').textContent = 'could not load: ' + err.message }
vantageSel.addEventListener('change', () => { vantage = vantageSel.value; load().catch(fail) })
$('node-form').addEventListener('submit', (e) => { e.preventDefault(); search().catch(fail) })
$('ad-client').addEventListener('change', () => adoptionPanel(false).catch(fail))
$('ad-version').addEventListener('change', () => adoptionPanel(false).catch(fail))
load().catch(fail)
setInterval(() => load().catch(fail), 60000)
`

const BODY = `
<h1>ethp2p monitor</h1><div class="sub"><span id="latest">loading…</span> · <select id="vantage"></select> <span id="error" style="color:#c53030"></span></div>
<div class="card kpis" id="kpis"></div>
<div class="grid">
<section class="card"><h2>Nodes per client</h2><div id="chart-client"></div></section>
<section class="card"><h2>Nodes per client version</h2><div id="chart-version"></div></section>
<section class="card"><h2>Nodes per OS</h2><div id="chart-os"></div></section>
<section class="card"><h2>Answering nodes per network (ENR)</h2><div id="chart-network"></div></section>
<section class="card"><h2>Nodes per fork id (Status)</h2><div id="chart-forkid"></div></section>
<section class="card"><h2>Answering nodes by discovery protocol (v4 only / v5 only / both)</h2><div id="chart-protocols"></div></section>
<section class="card"><h2>Answering nodes by layer</h2><div id="chart-layer"></div></section>
<section class="card"><h2>Answering nodes per country</h2><div id="chart-country"></div></section>
<section class="card"><h2>Answering nodes per AS</h2><div id="chart-asn"></div></section>
<section class="card"><h2>Churn per crawl</h2><div id="chart-churn"></div></section>
<section class="card"><h2>Uptime distribution</h2><div id="chart-uptime"></div><div class="sub" id="uptime-note"></div></section>
<section class="card"><h2>Fork readiness (latest crawl)</h2><div id="forks"></div></section>
<section class="card"><h2>Heads: synced share per client (latest crawl)</h2><div id="heads"></div></section>
<section class="card"><h2>Version adoption</h2><select id="ad-client"></select> <select id="ad-version"></select><div id="chart-adoption"></div></section>
</div>
<section class="card"><h2>Nodes</h2><form id="node-form"><input id="node-q" size="60" placeholder="public key or node id prefix, IP, client id"> <button>search</button></form><div id="node-results"></div><div id="node-history"></div></section>
<section class="card"><h2>Latest crawl</h2><iframe id="report" title="latest crawl report"></iframe></section>`

/** The page, as served at `/`. */
export function dashboardPage(): string {
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>ethp2p monitor</title><style>${CSS}</style></head><body>${BODY}\n<script>${SCRIPT}</script></body></html>\n`
}
