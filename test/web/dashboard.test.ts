/**
 * The dashboard over a generated history: its JSON API directly, then the page in a real headless
 * chromium: charts drawn with data, no request leaving the origin, node search and a node's history.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { openHistory, type History } from '../../src/history/db.js'
import { syntheticCrawl, syntheticNodes, type SyntheticNode } from '../../src/history/synthetic.js'
import { writeCrawl } from '../../src/history/write.js'
import { serveDashboard, type Dashboard } from '../../src/web/server.js'
import { launchBrowser } from '../../src/bench/browser.js'

const dir = mkdtempSync(join(tmpdir(), 'ethp2p-dashboard-'))
const T0 = Date.UTC(2025, 0, 1)
const CRAWLS = 8
let h: History
let dash: Dashboard
let nodes: SyntheticNode[]

before(async () => {
  h = await openHistory({ engine: 'sqlite', file: join(dir, 'h.sqlite') })
  nodes = syntheticNodes(500, CRAWLS, 5)
  for (let k = 0; k < CRAWLS; k++) {
    const t = T0 + k * 1800_000
    await writeCrawl(h, { vantage: 'lab', startedAt: t, endedAt: t + 60_000, options: { dial: true } }, syntheticCrawl(nodes, k, t, 5))
  }
  dash = await serveDashboard('127.0.0.1:0', h)
})
after(async () => {
  await dash?.close()
  await h?.close()
  rmSync(dir, { recursive: true, force: true })
})

const get = async (path: string): Promise<{ status: number; body: unknown; headers: Headers }> => {
  const r = await fetch(new URL(path, dash.url))
  const text = await r.text()
  let body: unknown = text
  try {
    body = JSON.parse(text)
  } catch {
    // HTML
  }
  return { status: r.status, body, headers: r.headers }
}

describe('dashboard API', () => {
  it('answers the questions as JSON and refuses bad parameters', async () => {
    const series = (await get('/api/series?dim=client&top=3')).body as { crawls: unknown[]; keys: string[] }
    assert.equal(series.crawls.length, CRAWLS)
    assert.equal(series.keys[0], 'geth')
    assert.equal((await get('/api/series?dim=nope')).status, 400)
    // the protocol split, per crawl, as the synthetic crawls drew it (by each key's first digit)
    const split = (await get('/api/series?dim=protocols')).body as { keys: string[]; values: Record<string, number[]> }
    assert.deepEqual([...split.keys].sort(), ['both', 'v4 only', 'v5 only'])
    const last = syntheticCrawl(nodes, CRAWLS - 1, T0 + (CRAWLS - 1) * 1800_000, 5).filter((r) => r.answered)
    assert.equal(split.values['v5 only']![CRAWLS - 1], last.filter((r) => r.protocols?.join() === 'v5').length)
    assert.equal(split.values['both']![CRAWLS - 1], last.filter((r) => r.protocols?.join() === 'v4,v5').length)
    // countries and ASes of the latest crawl, and the share on hosting ASes, as the synthetic crawl placed them
    const geo = (await get('/api/geo?top=50')).body as { countries: { country: string; nodes: number }[]; ases: { asn: number; nodes: number }[]; hosted: number; withAsn: number; hostingShare: number }
    assert.equal(geo.withAsn, last.length)
    assert.equal(geo.countries.find((c) => c.country === 'DE')?.nodes, last.filter((r) => r.country === 'DE').length)
    const hosted = last.filter((r) => r.asn !== 7922 && r.asn !== 5089 && r.asn !== 2516 && r.asn !== 812 && r.asn !== 3320 && r.asn !== 1221).length
    assert.equal(geo.hosted, hosted)
    const overview = (await get('/api/overview')).body as { hosting: { share: number } }
    assert.equal(overview.hosting.share, hosted / last.length)
    const asSeries = (await get('/api/series?dim=asn')).body as { keys: string[] }
    assert.ok(asSeries.keys.includes('AS24940 Hetzner Online GmbH'), asSeries.keys.join())
    assert.equal((await get('/api/series?dim=client&since=yesterday')).status, 400)
    assert.equal((await get('/api/adoption')).status, 400)
    const versions = (await get('/api/adoption?client=geth')).body as { versions: { version: string }[] }
    assert.ok(versions.versions.some((v) => v.version === '1.15.0'))
    const node = nodes.find((n) => n.joins === 0 && n.uptime === 1)!
    const hist = (await get(`/api/nodes/${node.id}`)).body as { visits: unknown[] }
    assert.equal(hist.visits.length, CRAWLS)
    assert.equal((await get(`/api/nodes/${'f'.repeat(128)}`)).status, 404)
    assert.equal((await get('/api/nothing')).status, 404)
    const hc = (await get('/api/heads')).body as { clients: { client: string; head: number; synced: number }[] }
    assert.ok(hc.clients.length > 0 && hc.clients.every((c) => c.synced <= c.head))
    const page = await get('/')
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'.*connect-src 'self'/)
    const report = await get('/report/latest')
    assert.equal(report.status, 200)
    assert.match(String(report.body), /Latest crawl #8/)
    // the report drawn from stored visits has the protocol panel, its v5-only bar as counted above
    assert.match(String(report.body), new RegExp(`>v5 only</text><rect[^>]*/><text[^>]*>${split.values['v5 only']![CRAWLS - 1]} \\(`))
  })
})

describe('dashboard in chromium', () => {
  it('draws the charts with data, finds a node and shows its history, fetching nothing from elsewhere', async () => {
    const browser = await launchBrowser()
    try {
      const page = await browser.context.newPage()
      const origin = new URL(dash.url).origin
      const foreign: string[] = []
      page.on('request', (req) => {
        if (!req.url().startsWith(origin) && !req.url().startsWith('data:') && req.url() !== 'about:blank') foreign.push(req.url())
      })
      await page.goto(dash.url)
      await page.waitForSelector('body[data-ready="1"]', { timeout: 60_000 })

      // every time series has lines with one point per crawl
      for (const dim of ['client', 'version', 'os', 'network', 'forkid', 'protocols', 'layer', 'country', 'asn', 'churn']) {
        const lines = await page.$$eval(`#chart-${dim} svg polyline`, (ps) => ps.map((p) => (p.getAttribute('points') ?? '').trim().split(/\s+/).length))
        assert.ok(lines.length > 0, `${dim}: no lines`)
        assert.ok(
          lines.every((n) => n === CRAWLS),
          `${dim}: ${lines.join(',')} points`,
        )
      }
      const keys = await page.$$eval('#chart-client svg polyline', (ps) => ps.map((p) => p.getAttribute('data-key')))
      assert.ok(keys.includes('geth') && keys.includes('nethermind'))
      const splits = await page.$$eval('#chart-protocols svg polyline', (ps) => ps.map((p) => p.getAttribute('data-key')))
      assert.deepEqual(splits.sort(), ['both', 'v4 only', 'v5 only'])
      const bars = await page.$$eval('#chart-uptime svg rect', (rs) => rs.map((r) => Number(r.getAttribute('width'))))
      assert.equal(bars.length, 5)
      assert.ok(bars.some((w) => w > 1))
      assert.match(await page.textContent('#forks') ?? '', /ready for next fork/)
      // heads: the synced share per client; the synthetic crawl's lagging nodes make it under 100 % somewhere
      const heads = await page.$$eval('#heads tr[data-client]', (trs) => trs.map((tr) => tr.getAttribute('data-client')))
      assert.ok(heads.includes('geth'), heads.join(','))
      assert.match(await page.textContent('#heads') ?? '', /\d+\.\d%/)
      assert.ok((await page.$$eval('#chart-adoption svg polyline', (ps) => ps.length)) === 1)

      // search by a public key prefix, open the node's history
      const node = nodes.find((n) => n.joins === 0 && n.uptime === 1)!
      await page.fill('#node-q', node.id.slice(0, 10))
      await page.click('#node-form button')
      const row = await page.waitForSelector(`#node-results tr[data-pubkey="${node.id}"]`, { timeout: 30_000 })
      await row.click()
      await page.waitForSelector('#node-visits', { timeout: 30_000 })
      const visits = await page.$$eval('#node-visits tr', (trs) => trs.length - 1)
      assert.equal(visits, CRAWLS)
      assert.match((await page.textContent('#node-history')) ?? '', new RegExp(`enode://${node.id}@`))
      // always up: every crawl of the vantage point since it first answered, in one session
      assert.match((await page.textContent('#node-uptime')) ?? '', new RegExp(`^uptime from lab: answered ${CRAWLS} of ${CRAWLS} crawls since .+ \\(1 session\\)$`))

      // the latest crawl's report panels in their frame
      const frame = page.frame({ url: /\/report\/latest/ }) ?? (await (await page.waitForSelector('#report')).contentFrame())
      await frame!.waitForSelector('h1', { timeout: 30_000 })
      assert.match((await frame!.textContent('h1')) ?? '', /Latest crawl #8/)
      assert.deepEqual(foreign, [])
    } finally {
      await browser.close()
    }
  })
})
