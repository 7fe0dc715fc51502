/**
 * `ethp2p stats`: the questions across stored crawls — nodes per client / version / OS / network /
 * fork id over time, churn, uptime, fork readiness, the latest crawl's nodes by discovery protocol and
 * layer, the topology (in-degree, nodes no table lists any more; crawls stored with --neighbors), and
 * (with --client) a version's adoption — as tables on stdout, or one JSON object with --json.
 */
import { existsSync } from 'node:fs'
import { InvalidArgumentError } from 'commander'
import { dbSpecFor, HistoryError, openHistory } from '../history/db.js'
import { PROTOCOL_SPLITS } from '../crawler/output.js'
import { adoption, churn, forkReadiness, geoCounts, headCounts, listCrawls, protocolCounts, series, uptime, versionsOf, type Adoption, type Series, type Window } from '../history/query.js'
import { topology } from '../history/topology.js'
import { dailySeries, type DailySeries } from '../history/daily.js'
import type { Dimension } from '../history/visit.js'

/** `ethp2p stats`'s parsed options. */
export interface StatsCliOptions {
  db?: string
  datadir?: string
  json?: boolean
  vantage?: string
  /** ms: only crawls started within this long */
  since?: number
  client?: string
  version?: string
  top?: number
  /** series per UTC day (from the rollups) instead of per crawl */
  daily?: boolean
}

const DIMS: [Dimension, string][] = [
  ['client', 'Nodes per client'],
  ['version', 'Nodes per client version'],
  ['os', 'Nodes per OS'],
  ['network', 'Answering nodes per network (ENR)'],
  ['forkid', 'Nodes per fork id (Status)'],
]

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)))
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n')
}

const iso = (t: number): string => new Date(t).toISOString().slice(0, 16).replace('T', ' ')

function seriesTable(title: string, s: Series): string {
  const n = s.crawls.length
  if (n === 0 || s.keys.length === 0) return `${title}: no data`
  const rows = [['', `first (${iso(s.crawls[0]!.startedAt)})`, 'min', 'max', `latest (${iso(s.crawls[n - 1]!.startedAt)})`]]
  for (const k of s.keys) {
    const v = s.values[k]!
    rows.push([k, String(v[0]), String(Math.min(...v)), String(Math.max(...v)), String(v[n - 1])])
  }
  return `${title} over ${n} crawls:\n${table(rows)}`
}

function dailyTable(title: string, s: DailySeries): string {
  const n = s.days.length
  if (n === 0 || s.keys.length === 0) return `${title}: no data`
  const day = (i: number): string => new Date(s.days[i]!.day).toISOString().slice(0, 10)
  const f = (x: number): string => x.toFixed(1)
  const rows = [['', `first (${day(0)})`, 'min', 'max', `latest (${day(n - 1)})`]]
  for (const k of s.keys) {
    const v = s.values[k]!
    rows.push([k, f(v[0]!), f(Math.min(...v)), f(Math.max(...v)), f(v[n - 1]!)])
  }
  return `${title}, mean per crawl of each day, over ${n} days:\n${table(rows)}`
}

/** `ethp2p stats`: answers one question across the stored crawls and prints it (text or JSON). */
export async function runStats(opts: StatsCliOptions): Promise<void> {
  let spec
  try {
    spec = dbSpecFor(opts.db, opts.datadir)
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message)
  }
  // reading never creates: a missing file is a wrong path, not an empty history
  if (spec.engine === 'sqlite' && !existsSync(spec.file)) throw new InvalidArgumentError(`no history at ${spec.file} (give --db or --datadir)`)
  const h = await openHistory(spec).catch((err: unknown) => {
    throw err instanceof HistoryError && err.code === 'BAD_DB_SPEC' ? new InvalidArgumentError(err.message) : err
  })
  try {
    const w: Window = {}
    if (opts.vantage !== undefined) w.vantage = opts.vantage
    if (opts.since !== undefined) w.since = Date.now() - opts.since
    const top = opts.top ?? 8
    const crawls = await listCrawls(h, w, { withInterrupted: true })
    const out: Record<string, unknown> = { crawls: crawls.length, interrupted: crawls.filter((c) => c.interrupted).length, vantages: [...new Set(crawls.map((c) => c.vantage))] }
    const seriesOut: Partial<Record<Dimension, Series>> = {}
    const dailyOut: Partial<Record<Dimension, DailySeries>> = {}
    for (const [dim] of DIMS) {
      if (opts.daily) dailyOut[dim] = await dailySeries(h, dim, w, { top })
      else seriesOut[dim] = await series(h, dim, w, { top })
    }
    out[opts.daily ? 'daily' : 'series'] = opts.daily ? dailyOut : seriesOut
    const ch = await churn(h, w)
    out['churn'] = ch.crawls.map((c) => ({ crawl: c.id, vantage: c.vantage, startedAt: c.startedAt, answered: c.answered, new: c.newNodes, returning: c.returningNodes, gone: c.goneNodes }))
    const up = await uptime(h, w)
    out['uptime'] = up
    const forks = await forkReadiness(h, w)
    out['forks'] = forks.chains
    const pc = await protocolCounts(h, w)
    out['protocols'] = { crawl: pc.crawl?.id ?? null, ...pc.protocols, layers: pc.layers }
    const geo = await geoCounts(h, w, top)
    out['geo'] = { crawl: geo.crawl?.id ?? null, countries: geo.countries, ases: geo.ases, withCountry: geo.withCountry, withAsn: geo.withAsn, hosted: geo.hosted, hostingShare: geo.hostingShare, others: geo.others }
    const topo = await topology(h, w, { top })
    out['topology'] = topo
    const heads = await headCounts(h, w)
    out['heads'] = { crawl: heads.crawl?.id ?? null, clients: heads.clients }
    let ad: Adoption | undefined
    if (opts.client !== undefined) {
      const version = opts.version ?? (await versionsOf(h, opts.client, w))[0]?.version
      if (version !== undefined) ad = await adoption(h, opts.client, version, w)
      out['adoption'] = ad ? { client: ad.client, version: ad.version, points: ad.crawls.map((c, i) => ({ crawl: c.id, startedAt: c.startedAt, nodes: ad!.nodes[i], clientNodes: ad!.clientNodes[i], share: ad!.share[i] })) } : null
    }
    if (opts.json) {
      process.stdout.write(JSON.stringify(out) + '\n')
      return
    }
    const lines: string[] = [`${crawls.length} crawls (${out['interrupted']} interrupted) by ${(out['vantages'] as string[]).join(', ') || '-'}`]
    if (crawls.length > 0) lines.push(`latest: #${crawls[crawls.length - 1]!.id} at ${iso(crawls[crawls.length - 1]!.startedAt)}: ${crawls[crawls.length - 1]!.found} found, ${crawls[crawls.length - 1]!.answered} answered`)
    for (const [dim, title] of DIMS) lines.push('', opts.daily ? dailyTable(title, dailyOut[dim]!) : seriesTable(title, seriesOut[dim]!))
    const recent = ch.crawls.slice(-10)
    lines.push('', `Churn (last ${recent.length} crawls):`)
    lines.push(table([['crawl', 'vantage', 'started', 'answered', 'new', 'returning', 'gone'], ...recent.map((c) => [`#${c.id}`, c.vantage, iso(c.startedAt), String(c.answered), String(c.newNodes), String(c.returningNodes), String(c.goneNodes)])]))
    lines.push('', `Uptime over ${up.crawls} crawls (${up.nodes} nodes, ${up.single} seen in one crawl only):`)
    lines.push(table([['uptime', 'nodes'], ...up.buckets.map((b) => [b.label, String(b.nodes)])]))
    lines.push('', 'Fork readiness (latest crawl):')
    if (forks.chains.length === 0) lines.push('no Status fork ids (crawls without --dial)')
    for (const c of forks.chains) {
      lines.push(`${c.chain}: ${c.nodes} nodes, ${c.nextFork === 0 ? 'no fork scheduled' : `next fork at ${c.nextFork}: ${c.ready} ready (${Math.round((100 * c.ready) / Math.max(1, c.nodes))} %)`}`)
      lines.push(table([['fork id', 'nodes'], ...c.forkIds.map((f) => [`${f.hash}/${f.next}`, String(f.nodes)])]))
    }
    lines.push('', `Answering nodes by discovery protocol and layer (latest crawl${pc.crawl ? ` #${pc.crawl.id}` : ''}):`)
    if (PROTOCOL_SPLITS.every((k) => pc.protocols[k] === 0)) lines.push('no protocols recorded (crawls that walked discv4 only)')
    else lines.push(table([['protocols', 'nodes'], ...PROTOCOL_SPLITS.map((k) => [k, String(pc.protocols[k])])]))
    if (pc.layers.execution + pc.layers.consensus > 0) lines.push(table([['layer', 'nodes'], ['execution', String(pc.layers.execution)], ['consensus', String(pc.layers.consensus)]]))
    lines.push('', `Answering nodes by country and autonomous system (latest crawl${geo.crawl ? ` #${geo.crawl.id}` : ''}):`)
    if (geo.withCountry + geo.withAsn === 0) lines.push('no countries or ASes recorded (private addresses, or crawls before the geography databases)')
    else {
      const share = (n: number, of: number): string => `${((100 * n) / Math.max(1, of)).toFixed(1)} %`
      lines.push(table([['country', 'nodes', 'share'], ...geo.countries.map((c) => [c.country, String(c.nodes), share(c.nodes, geo.withCountry)]), ...(geo.others.countries > 0 ? [['others', String(geo.others.countries), share(geo.others.countries, geo.withCountry)]] : [])]))
      lines.push(table([['AS', 'organisation', 'nodes', 'share'], ...geo.ases.map((a) => [`AS${a.asn}${a.hosting ? ' *' : ''}`, a.asOrg ?? '', String(a.nodes), share(a.nodes, geo.withAsn)]), ...(geo.others.ases > 0 ? [['others', '', String(geo.others.ases), share(geo.others.ases, geo.withAsn)]] : [])]))
      lines.push(`on well-known hosting ASes (*): ${geo.hosted} of ${geo.withAsn} nodes with a known AS (${share(geo.hosted, geo.withAsn)})`)
    }
    lines.push('', `Topology (latest crawl with edges${topo.crawl ? ` #${topo.crawl.id}` : ''}):`)
    if (!topo.crawl) lines.push('no edges stored (monitor --neighbors stores them)')
    else {
      lines.push(`${topo.edges} edges from ${topo.tables} tables; ${topo.listed} nodes listed; ${topo.answeredUnlisted} answering nodes in no table`)
      lines.push(table([['in-degree', 'answering nodes'], ...topo.inDegree.map((b) => [b.band, String(b.nodes)])]))
      if (topo.top.length > 0) lines.push('Most listed:', table([['node', 'ip', 'tables'], ...topo.top.map((n) => [n.pubkey.slice(0, 16), n.ip, String(n.inDegree)])]))
      lines.push(`No table lists any more: ${topo.unlisted.nodes} nodes listed in an earlier crawl (${topo.unlisted.stillAnswering} of them still answering)`)
      if (topo.unlisted.sample.length > 0) lines.push(table([['node', 'ip', 'last listed', 'answering'], ...topo.unlisted.sample.map((n) => [n.pubkey.slice(0, 16), n.ip, `#${n.lastListedCrawl}`, n.answered ? 'yes' : 'no'])]))
    }
    lines.push('', `Heads: synced share per client (latest crawl${heads.crawl ? ` #${heads.crawl.id}` : ''}):`)
    if (heads.clients.length === 0) lines.push('no heads recorded (crawls without --dial, or before migration 0005)')
    else lines.push(table([['client', 'with head', 'synced', 'share'], ...heads.clients.slice(0, top).map((c) => [c.client, String(c.head), String(c.synced), `${(100 * c.share).toFixed(1)} %`])]))
    if (opts.client !== undefined) {
      lines.push('')
      if (!ad) lines.push(`Adoption: no versions of ${opts.client} in the latest crawl`)
      else {
        lines.push(`Adoption of ${ad.client} ${ad.version} (share of ${ad.client} nodes):`)
        const idx = ad.crawls.map((_, i) => i).slice(-10)
        lines.push(table([['started', 'nodes', `${ad.client} nodes`, 'share'], ...idx.map((i) => [iso(ad!.crawls[i]!.startedAt), String(ad!.nodes[i]), String(ad!.clientNodes[i]), `${(100 * ad!.share[i]!).toFixed(1)} %`])]))
      }
    }
    process.stdout.write(lines.join('\n') + '\n')
  } finally {
    await h.close()
  }
}
