/**
 * A stored crawl as a node set, on SQLite and a real PostgreSQL: the crawl chosen (latest complete,
 * by vantage, by id), scores replayed as geth keeps them (interrupted crawls and other vantage points
 * left out), and every filter giving the same nodes as on the crawl's own records.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { openHistory, type History } from '../../src/history/db.js'
import { chooseCrawl, crawlNodeSet } from '../../src/history/nodeset.js'
import { writeCrawl } from '../../src/history/write.js'
import { NodeSetError, parseNodeFilter, selectNodes, type FilterParam, type NodeSource } from '../../src/nodeset/filter.js'
import { crawlSource } from '../../src/nodeset/read.js'
import type { CrawlRecord } from '../../src/crawler/record.js'
import { historyEngines } from '../history/fixtures.js'
import { FILTER_CASES, generateCrawl, T0 } from './fixtures.js'

const HOUR = 3600_000
const nodes = generateCrawl(30)
/** the latest crawl's records: as generated, a few more of them (even and odd) not answering */
const latest = nodes.map((g, i) => ({ ...g.record, answered: g.record.answered && i % 7 !== 3 }))
/** crawl 1: everyone answered; crawl 2: the even nodes answered, the odd ones were listed and did not */
const first = latest.map((r) => ({ ...r, answered: true }))
const second = latest.map((r, i) => ({ ...r, answered: i % 2 === 0 }))
const silent = latest.map((r) => ({ ...r, answered: false }))

/** the score geth's rule gives node i after crawls 1, 2 and 3 */
const score = (i: number): number => {
  let s = 1
  s = i % 2 === 0 ? s + 1 : Math.floor(s / 2)
  return latest[i]!.answered ? s + 1 : Math.floor(s / 2)
}

const ids = (src: NodeSource, p: Partial<Record<FilterParam, string>>): string[] =>
  selectNodes(src, parseNodeFilter((n) => p[n]))
    .items.map((i) => i.record.id)
    .sort()

for (const [engine, spec] of historyEngines('nodeset')) {
  describe(`a stored crawl as a node set (${engine})`, () => {
    let h: History
    const crawls: number[] = []
    const write = async (vantage: string, hours: number, records: CrawlRecord[], interrupted = false): Promise<number> => {
      const t = T0 + hours * HOUR
      const w = await writeCrawl(h, { vantage, startedAt: t, endedAt: t + 60_000, options: {}, interrupted }, records)
      return w.id
    }
    after(async () => h?.close())

    it('chooses the latest complete crawl and replays each node\'s score over its vantage point\'s crawls', async () => {
      h = await openHistory(await spec())
      crawls.push(await write('a', 0, first))
      crawls.push(await write('a', 1, second))
      // neither of these is a check of vantage a's nodes: a crawl stopped early, another vantage point
      await write('a', 1.5, silent, true)
      crawls.push(await write('b', 1.7, silent))
      crawls.push(await write('a', 2, latest))
      await write('a', 3, first, true)

      const crawl = await chooseCrawl(h, {})
      assert.equal(crawl.id, crawls[3])
      assert.equal((await chooseCrawl(h, { vantage: 'b' })).id, crawls[2])
      assert.equal((await chooseCrawl(h, { crawl: crawls[0]! })).startedAt, T0)
      await assert.rejects(chooseCrawl(h, { crawl: 999 }), (e: unknown) => e instanceof NodeSetError && e.code === 'NO_CRAWL')
      await assert.rejects(chooseCrawl(h, { vantage: 'nobody' }), /no complete crawl of vantage nobody/)

      const src = await crawlNodeSet(h, crawl)
      assert.equal(src.kind, 'history')
      assert.equal(src.asOf, T0 + 2 * HOUR)
      assert.equal(src.items.length, latest.length)
      const byId = new Map(src.items.map((i) => [i.record.id, i]))
      latest.forEach((r, i) => {
        const item = byId.get(r.id)!
        assert.equal(item.score, score(i), `node ${i}`)
        assert.equal(item.firstResponse, T0)
        const lastAnswer = r.answered ? 2 : i % 2 === 0 ? 1 : 0
        assert.equal(item.lastResponse, T0 + lastAnswer * HOUR, `node ${i}`)
        assert.equal(item.lastCheck, T0 + 2 * HOUR)
      })
      // the limit takes the best scores: every node scored 3 first
      const top = selectNodes(src, { limit: 5 }).items
      assert.ok(top.every((i) => i.score === 3))
      assert.equal(top.length, 5)
    })

    it('every filter gives the nodes it gives on the crawl\'s own records', async () => {
      const src = await crawlNodeSet(h, await chooseCrawl(h, {}))
      const own = crawlSource(latest.map((r) => structuredClone(r)))
      for (const [name, p] of FILTER_CASES) {
        // answers are dated by the crawl's start in the history, by each record's lastSeen in the file
        if (p['answered-within'] !== undefined) continue
        const want = ids(own, p)
        assert.ok(want.length > 0, name)
        assert.deepEqual(ids(src, p), want, name)
      }
    })

    it("answered-within counts back from the crawl's start over the replayed answers", async () => {
      const src = await crawlNodeSet(h, await chooseCrawl(h, {}))
      const when = (i: number): number => (latest[i]!.answered ? 2 : i % 2 === 0 ? 1 : 0)
      const within = (hours: number): string[] =>
        latest
          .filter((_, i) => when(i) >= 2 - hours)
          .map((r) => r.id)
          .sort()
      assert.deepEqual(ids(src, { 'answered-within': '30m' }), within(0.5))
      assert.deepEqual(ids(src, { 'answered-within': '1h' }), within(1))
      assert.deepEqual(ids(src, { 'answered-within': '2h' }), within(2))
      assert.ok(within(0.5).length < within(1).length && within(1).length < within(2).length)
    })
  })
}
