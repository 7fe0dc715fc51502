/**
 * Retention (issue 23) on SQLite and a real PostgreSQL: `pruneHistory` deletes the visits and edges of
 * old crawls only, keeps summaries, counts, nodes and sessions, rolls whole days up into sums equal to
 * those of the visits, leaves every answer on the kept range as it was, and is idempotent and resumable.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { openHistory, type History } from '../../src/history/db.js'
import { dailySeries } from '../../src/history/daily.js'
import { churn, crawlVisits, forkReadiness, geoCounts, headCounts, listCrawls, nodeHistory, protocolCounts, searchNodes, series, uptime, versionsOf } from '../../src/history/query.js'
import { DAY_MS, dayOf, pruneHistory } from '../../src/history/retention.js'
import { syntheticCrawl, syntheticNodes } from '../../src/history/synthetic.js'
import { topology } from '../../src/history/topology.js'
import { DIMENSIONS, tally, type Dimension } from '../../src/history/visit.js'
import { writeCrawl } from '../../src/history/write.js'
import { serveDashboard } from '../../src/web/server.js'
import { historyEngines, T0 } from './fixtures.js'

const ENGINES = historyEngines('retention')
const EVERY = 6 * 3600_000
/** three days of four crawls each, and one interrupted crawl on the second day */
const CRAWLS = 12
const NODES = 150
const DIMS = Object.keys(DIMENSIONS) as Dimension[]

async function fill(h: History): Promise<void> {
  const nodes = syntheticNodes(NODES, CRAWLS, 5)
  for (let k = 0; k < CRAWLS; k++) {
    const t = T0 + k * EVERY
    const recs = syntheticCrawl(nodes, k, t, 5)
    // each answering node's table lists the next three nodes: edges for every crawl
    const up = recs.filter((r) => r.answered).map((r) => r.id)
    const edges = up.flatMap((from, i) => [1, 2, 3].map((d) => ({ from, to: up[(i + d) % up.length]!, distance: 250 + d })))
    await writeCrawl(h, { vantage: 'v', startedAt: t, endedAt: t + 60_000, options: { dial: true } }, recs, edges)
    if (k === 5) await writeCrawl(h, { vantage: 'v', startedAt: t + 3600_000, endedAt: t + 3700_000, options: {}, interrupted: true }, recs.slice(0, 40))
  }
}

/** per (day, dim, key), the counts summed over the day's crawls (not interrupted), from the visits themselves */
async function sumsFromVisits(h: History): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  for (const c of await listCrawls(h)) {
    const t = tally(await crawlVisits(h, c.id))
    for (const x of t.counts) {
      const k = `${dayOf(c.startedAt)} ${x.dim} ${x.key}`
      out.set(k, (out.get(k) ?? 0) + x.n)
    }
  }
  return out
}

async function rollups(h: History): Promise<Map<string, { n: number; crawls: number }>> {
  const rows = await h.db.selectFrom('daily_counts').selectAll().execute()
  return new Map(rows.map((r) => [`${Number(r.day)} ${r.dim} ${r.key}`, { n: Number(r.n), crawls: r.crawls }]))
}

/** an answer without the crawls' pruned flags (which a prune sets, and `contents` checks) */
const unflagged = (x: unknown): unknown => JSON.parse(JSON.stringify(x, (k, v: unknown) => (k === 'pruned' ? undefined : v)))

/** every answer the stats and the dashboard give, on the window `since` */
async function answers(h: History, since: number, probe: string): Promise<Record<string, unknown>> {
  const w = { since }
  const out: Record<string, unknown> = {}
  for (const dim of DIMS) {
    out[`series ${dim}`] = await series(h, dim, w)
    out[`all-time series ${dim}`] = await series(h, dim)
    out[`daily ${dim}`] = await dailySeries(h, dim)
  }
  out['churn'] = await churn(h)
  out['uptime'] = await uptime(h)
  out['uptime since'] = await uptime(h, w)
  out['forks'] = await forkReadiness(h)
  out['protocols'] = await protocolCounts(h)
  out['geo'] = await geoCounts(h)
  out['heads'] = await headCounts(h)
  out['versions'] = await versionsOf(h, 'geth')
  out['topology'] = await topology(h, w)
  out['search'] = await searchNodes(h, probe.slice(0, 6))
  const hist = await nodeHistory(h, probe)
  out['node'] = { node: hist?.node, sessions: hist?.sessions, visits: hist?.visits.filter((v) => v.startedAt >= since) }
  return unflagged(out) as Record<string, unknown>
}

/** the crawls' pruned flag and what each still has */
async function contents(h: History): Promise<{ id: number; startedAt: number; pruned: boolean; visits: number; edges: number }[]> {
  const crawls = await listCrawls(h, {}, { withInterrupted: true })
  const count = async (table: 'visits' | 'edges', id: number): Promise<number> =>
    Number((await h.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).where('crawl_id', '=', id).executeTakeFirstOrThrow()).n)
  const out = []
  for (const c of crawls) out.push({ id: c.id, startedAt: c.startedAt, pruned: c.pruned, visits: await count('visits', c.id), edges: await count('edges', c.id) })
  return out
}

async function kept(h: History): Promise<unknown[]> {
  return Promise.all([
    h.db.selectFrom('crawls').selectAll().orderBy('id').execute(),
    h.db.selectFrom('crawl_counts').selectAll().orderBy('crawl_id').orderBy('dim').orderBy('key').execute(),
    h.db.selectFrom('nodes').selectAll().orderBy('id').execute(),
    h.db.selectFrom('sessions').selectAll().orderBy('id').execute(),
  ])
}

for (const [engine, spec] of ENGINES) {
  describe(`retention on ${engine}`, () => {
    const open: History[] = []
    after(async () => {
      for (const h of open) await h.close()
    })
    const fresh = async (): Promise<History> => {
      const h = await openHistory(await spec())
      open.push(h)
      await fill(h)
      return h
    }

    it('prune keeps summaries, counts, nodes and sessions, deletes old visits and edges only, rolls whole days up; answers on the kept range unchanged', async () => {
      const h = await fresh()
      const cut = T0 + DAY_MS + 12 * 3600_000 // noon of the second day
      const probe = (await h.db.selectFrom('nodes').select('pubkey').orderBy('id').limit(1).executeTakeFirstOrThrow()).pubkey
      const sums = await sumsFromVisits(h)
      const before = await answers(h, cut, probe)
      const rows = await kept(h)
      const was = await contents(h)
      assert.ok(was.every((c) => c.visits > 0) && was.filter((c) => c.edges > 0).length === CRAWLS, 'every crawl has visits, the finished ones edges')

      const r = await pruneHistory(h, { before: cut, batchRows: 37 })
      assert.deepEqual(r, { crawls: 7, visits: was.filter((c) => c.startedAt < cut).reduce((s, c) => s + c.visits, 0), edges: was.filter((c) => c.startedAt < cut).reduce((s, c) => s + c.edges, 0), days: 1, aborted: false })
      const now = await contents(h)
      for (const [i, c] of now.entries()) {
        if (c.startedAt < cut) assert.deepEqual([c.pruned, c.visits, c.edges], [true, 0, 0], `crawl #${c.id}`)
        else assert.deepEqual(c, was[i], `crawl #${c.id} untouched`)
      }
      // the crawl rows differ only in their pruned flag; counts, nodes and sessions not at all
      const [crawlsBefore, ...restBefore] = rows as [{ id: number; started_at: number; pruned: number }[], ...unknown[]]
      const [crawlsAfter, ...restAfter] = (await kept(h)) as [{ id: number; started_at: number; pruned: number }[], ...unknown[]]
      assert.deepEqual(
        crawlsAfter.map((c) => ({ ...c, pruned: 0 })),
        crawlsBefore,
      )
      assert.deepEqual(restAfter, restBefore)

      // the first day, whole before the cut, is rolled up: its sums are those of its visits
      const day0 = [...sums].filter(([k]) => k.startsWith(`${T0} `))
      assert.ok(day0.length > 20)
      assert.deepEqual(
        [...(await rollups(h))].sort(),
        day0.map(([k, n]) => [k, { n, crawls: 4 }]).sort(),
      )
      const after = await answers(h, cut, probe)
      for (const k of Object.keys(before)) assert.deepEqual(after[k], before[k], k)
      // a pruned node's visits before the cut are gone, and the history says up to when
      const hist = await nodeHistory(h, probe)
      assert.ok(hist!.visits.every((v) => v.startedAt >= cut))
      assert.equal(hist!.prunedThrough, Math.max(...was.filter((c) => c.startedAt < cut).map((c) => c.startedAt)))
      assert.ok((await listCrawls(h)).some((c) => c.pruned))

      // a second prune with the same cut finds nothing to do and changes nothing
      const rolled = await rollups(h)
      assert.deepEqual(await pruneHistory(h, { before: cut }), { crawls: 0, visits: 0, edges: 0, days: 0, aborted: false })
      assert.deepEqual(await contents(h), now)
      assert.deepEqual(await rollups(h), rolled)

      // past the last crawl: every day rolled up, sums as the visits had them; the daily series from rollups alone is unchanged
      const end = T0 + 3 * DAY_MS
      assert.equal((await pruneHistory(h, { before: end })).days, 2)
      assert.deepEqual(
        [...(await rollups(h))].map(([k, v]) => [k, v.n]).sort(),
        [...sums].sort(),
      )
      for (const dim of DIMS) assert.deepEqual(await dailySeries(h, dim), before[`daily ${dim}`], `daily ${dim}`)
      // a day's value is the mean per crawl of the day: its visits' sum over its four crawls
      const daily = await dailySeries(h, 'client')
      assert.deepEqual(daily.days, [0, 1, 2].map((d) => ({ day: T0 + d * DAY_MS, crawls: 4 })))
      for (const k of daily.keys) assert.deepEqual(daily.values[k], [0, 1, 2].map((d) => (sums.get(`${T0 + d * DAY_MS} client ${k}`) ?? 0) / 4), k)
      assert.ok((await contents(h)).every((c) => c.visits === 0 && c.edges === 0 && c.pruned))
      // uptime, churn and the series stand on what remains
      assert.deepEqual(await uptime(h), before['uptime'])
      assert.deepEqual(unflagged(await series(h, 'client')), before['all-time series client'])
    })

    it('the dashboard API after a prune: daily series, uptime, a node with its kept visits and its sessions', async () => {
      const h = await fresh()
      const cut = T0 + DAY_MS
      const node = (await h.db.selectFrom('nodes').select('pubkey').orderBy('id').limit(1).executeTakeFirstOrThrow()).pubkey
      const before = await nodeHistory(h, node)
      await pruneHistory(h, { before: cut })
      const dash = await serveDashboard('127.0.0.1:0', h)
      try {
        const get = async (path: string): Promise<unknown> => {
          const r = await fetch(new URL(path, dash.url))
          assert.equal(r.status, 200, path)
          return r.json()
        }
        assert.deepEqual(await get('/api/series?dim=version&per=day&top=4'), await dailySeries(h, 'version', {}, { top: 4 }))
        assert.equal(((await get('/api/series?dim=client&per=day')) as { days: unknown[] }).days.length, 3)
        assert.deepEqual(await get('/api/uptime'), await uptime(h))
        const hist = (await get(`/api/nodes/${node}`)) as { visits: { startedAt: number }[]; sessions: unknown[]; prunedThrough: number }
        assert.deepEqual(hist.visits, unflagged(before!.visits.filter((v) => v.startedAt >= cut)))
        assert.deepEqual(hist.sessions, before!.sessions)
        assert.equal(hist.prunedThrough, T0 + 3 * EVERY)
      } finally {
        await dash.close()
      }
    })

    it('a prune cut short carries on where it stopped and ends as one run would; --vantage prunes one vantage point', async () => {
      const h = await fresh()
      const straight = await fresh()
      const cut = T0 + 2 * DAY_MS
      await pruneHistory(straight, { before: cut })
      // a signal that aborts after some checks: each run stops between two batches, mostly mid-crawl
      let stops = 0
      for (let reads = 0; stops < 200; stops++) {
        const limit = reads + 40
        const signal = {
          get aborted() {
            return ++reads > limit
          },
        } as AbortSignal
        if (!(await pruneHistory(h, { before: cut, batchRows: 64, signal })).aborted) break
      }
      assert.ok(stops >= 5 && stops < 200, `${stops} runs cut short`)
      assert.deepEqual((await contents(h)).map(({ id: _, ...c }) => c), (await contents(straight)).map(({ id: _, ...c }) => c))
      assert.deepEqual([...(await rollups(h))].sort(), [...(await rollups(straight))].sort())

      // another vantage point's crawls are left alone by a prune of one
      const t = T0 + 3600_000
      await writeCrawl(h, { vantage: 'w', startedAt: t, endedAt: t + 1000, options: {} }, syntheticCrawl(syntheticNodes(20, 1, 9), 0, t, 9))
      const r = await pruneHistory(h, { before: cut, vantage: 'v' })
      assert.equal(r.crawls, 0)
      const w = (await listCrawls(h, { vantage: 'w' }))[0]!
      assert.equal(w.pruned, false)
      assert.equal((await crawlVisits(h, w.id)).length, 20)
      assert.equal((await pruneHistory(h, { before: cut, vantage: 'w' })).crawls, 1)
    })
  })
}
