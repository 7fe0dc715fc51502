/**
 * The dashboard of `ethp2p monitor --http ADDR`: one self-contained page (web/page.ts) and the small
 * JSON API it reads, both over the crawl history. The page's Content-Security-Policy allows nothing
 * but this origin, so the browser itself refuses any external fetch.
 *
 * API (GET, JSON; `vantage` and `since` (epoch ms) narrow every question to a window):
 *   /api/overview                        latest crawl, vantage points, dimensions
 *   /api/series?dim=client&top=8         counts of a dimension per crawl (country and asn too);
 *                                        &per=day: mean per crawl of each UTC day (rollups)
 *   /api/geo?top=20                      the latest crawl per country and AS, share on hosting ASes
 *   /api/adoption?client=geth&version=V  a version's nodes and share per crawl (no version: its versions)
 *   /api/churn  /api/uptime  /api/forks  churn per crawl, uptime distribution, fork readiness
 *   /api/nodes?q=TEXT&limit=N            node search (public key / node id prefix, IP, client id)
 *   /api/nodes/PUBKEY                    one node's visits and uptime sessions
 *   /api/nodeset?client=geth&format=csv  a crawl's nodes filtered as `ethp2p nodeset filter` does (web/nodeset.ts)
 *   /report/latest                       the latest crawl as `crawl --report` draws it
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { renderReport } from '../crawler/report.js'
import type { History } from '../history/db.js'
import { dailySeries } from '../history/daily.js'
import { adoption, churn, crawlVisits, forkReadiness, geoCounts, headCounts, isDimension, latestCrawl, nodeHistory, searchNodes, series, uptime, versionsOf, type Window } from '../history/query.js'
import { visitRecord } from '../history/nodeset.js'
import { DIMENSIONS } from '../history/visit.js'
import { parseListenAddr } from '../metrics/serve.js'
import { nodesetHandler } from './nodeset.js'
import { dashboardPage } from './page.js'

/** The dashboard server could not listen on its address. */
export class DashboardError extends Error {
  override readonly name = 'DashboardError'
  readonly code = 'LISTEN_FAILED'
}

/** A running dashboard. */
export interface Dashboard {
  readonly port: number
  readonly url: string
  close(): Promise<void>
}

/** a bad query parameter: answered with 400 */
class BadRequest extends Error {}

const CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'none'"
/** the report page is drawn without scripts */
const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

function windowOf(params: URLSearchParams): Window {
  const w: Window = {}
  const vantage = params.get('vantage')
  if (vantage) w.vantage = vantage.slice(0, 128)
  const since = params.get('since')
  if (since) {
    if (!/^\d{1,15}$/.test(since)) throw new BadRequest('since: epoch milliseconds')
    w.since = Number(since)
  }
  const limit = params.get('limit')
  if (limit) {
    if (!/^\d{1,6}$/.test(limit)) throw new BadRequest('limit: a number')
    w.limit = Number(limit)
  }
  return w
}

function intParam(params: URLSearchParams, name: string, dflt: number, max: number): number {
  const v = params.get(name)
  if (v === null || v === '') return dflt
  if (!/^\d{1,6}$/.test(v)) throw new BadRequest(`${name}: a number`)
  return Math.max(1, Math.min(max, Number(v)))
}

/** The report of the latest crawl, cached per crawl (the page asks for it on every refresh). */
function reportCache(h: History): (w: Window) => Promise<string | undefined> {
  let cached: { id: number; vantage: string | undefined; html: string } | undefined
  return async (w) => {
    const c = await latestCrawl(h, w)
    if (!c) return undefined
    if (cached?.id === c.id && cached.vantage === w.vantage) return cached.html
    const when = new Date(c.startedAt).toISOString()
    const records = (await crawlVisits(h, c.id)).map((v) => visitRecord(v, when))
    const html = renderReport(records, { started: c.startedAt, ended: c.endedAt, seeds: 0, dial: c.options['dial'] === true, title: `Latest crawl #${c.id} (${c.vantage})` }, [])
    cached = { id: c.id, vantage: w.vantage, html }
    return html
  }
}

/** Serve the dashboard on `addr` (host:port; port 0 picks one). Stops on close() or when `signal` aborts. */
export async function serveDashboard(addr: string, h: History, opts: { signal?: AbortSignal; vantage?: string; onError?: (err: unknown) => void } = {}): Promise<Dashboard> {
  let listen: { host: string; port: number }
  try {
    listen = parseListenAddr(addr)
  } catch (err) {
    throw new DashboardError((err as Error).message.replace('metrics address', 'dashboard address'))
  }
  const page = dashboardPage()
  const report = reportCache(h)
  const nodeset = nodesetHandler(h)

  const routes: Record<string, (p: URLSearchParams) => Promise<unknown>> = {
    '/api/overview': async (p) => {
      const vantages = await h.db.selectFrom('crawls').select('vantage').select((eb) => eb.fn.countAll<number>().as('crawls')).groupBy('vantage').orderBy('vantage').execute()
      const geo = await geoCounts(h, windowOf(p), 0)
      return { latest: (await latestCrawl(h, windowOf(p))) ?? null, vantages: vantages.map((v) => ({ vantage: v.vantage, crawls: Number(v.crawls) })), dimensions: DIMENSIONS, defaultVantage: opts.vantage ?? null, hosting: { hosted: geo.hosted, withAsn: geo.withAsn, share: geo.hostingShare } }
    },
    '/api/geo': async (p) => geoCounts(h, windowOf(p), intParam(p, 'top', 20, 200)),
    '/api/series': async (p) => {
      const dim = p.get('dim') ?? ''
      if (!isDimension(dim)) throw new BadRequest(`dim: one of ${Object.keys(DIMENSIONS).join(', ')}`)
      // per=day: one point per UTC day (the rollups `history prune` keeps), for windows of months
      if (p.get('per') === 'day') return dailySeries(h, dim, windowOf(p), { top: intParam(p, 'top', 8, 50) })
      return series(h, dim, windowOf(p), { top: intParam(p, 'top', 8, 50) })
    },
    '/api/adoption': async (p) => {
      const client = (p.get('client') ?? '').slice(0, 64)
      if (client === '') throw new BadRequest('client: a client name')
      const version = p.get('version')
      if (!version) return { client, versions: await versionsOf(h, client, windowOf(p)) }
      return adoption(h, client, version.slice(0, 64), windowOf(p))
    },
    '/api/churn': async (p) => churn(h, windowOf(p)),
    '/api/uptime': async (p) => uptime(h, windowOf(p)),
    '/api/forks': async (p) => forkReadiness(h, windowOf(p)),
    '/api/heads': async (p) => headCounts(h, windowOf(p)),
    '/api/nodes': async (p) => searchNodes(h, p.get('q') ?? '', intParam(p, 'limit', 50, 500)),
  }

  const send = (res: ServerResponse, status: number, type: string, body: string, csp?: string): void => {
    const headers: Record<string, string> = { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' }
    if (csp) headers['content-security-policy'] = csp
    res.writeHead(status, headers).end(body)
  }
  const json = (res: ServerResponse, status: number, v: unknown): void => send(res, status, 'application/json; charset=utf-8', JSON.stringify(v))

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'GET only' })
    let url: URL
    try {
      url = new URL(req.url ?? '/', 'http://dashboard')
    } catch {
      return json(res, 400, { error: 'bad URL' })
    }
    const path = url.pathname
    try {
      if (path === '/') return send(res, 200, 'text/html; charset=utf-8', page, CSP)
      if (path === '/report/latest') {
        const html = await report(windowOf(url.searchParams))
        return html === undefined ? send(res, 404, 'text/plain; charset=utf-8', 'no crawl stored yet\n') : send(res, 200, 'text/html; charset=utf-8', html, REPORT_CSP)
      }
      const node = /^\/api\/nodes\/([0-9a-fA-F]{128})$/.exec(path)
      if (node) {
        const hist = await nodeHistory(h, node[1]!, intParam(url.searchParams, 'limit', 200, 10_000))
        return hist ? json(res, 200, hist) : json(res, 404, { error: 'no such node' })
      }
      if (path === '/api/nodeset') {
        const r = await nodeset(url.searchParams)
        return send(res, r.status, r.type, r.body)
      }
      const route = routes[path]
      if (!route) return json(res, 404, { error: 'not found' })
      return json(res, 200, await route(url.searchParams))
    } catch (err) {
      if (err instanceof BadRequest) return json(res, 400, { error: err.message })
      opts.onError?.(err)
      return json(res, 500, { error: 'query failed' })
    }
  }
  const server = createServer((req, res) => void handle(req, res))
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(new DashboardError(`cannot listen on ${addr}: ${err.message}`))
    server.once('error', onError)
    server.listen({ host: listen.host === '' ? undefined : listen.host, port: listen.port }, () => {
      server.off('error', onError)
      resolve()
    })
  })
  server.on('error', (err) => opts.onError?.(err))
  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      opts.signal?.removeEventListener('abort', onAbort)
      server.close(() => resolve())
      server.closeAllConnections()
    })
    return closing
  }
  const onAbort = (): void => void close()
  opts.signal?.addEventListener('abort', onAbort, { once: true })
  const a = server.address()
  const port = typeof a === 'object' && a !== null ? a.port : listen.port
  const host = listen.host === '' || listen.host === '0.0.0.0' ? '127.0.0.1' : listen.host
  return { port, url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`, close }
}
