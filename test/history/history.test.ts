/**
 * The history's writer and questions on both engines: SQLite in a temp file and a real PostgreSQL
 * (test/history/pg.ts: ETHP2P_TEST_PG or a cluster started here; without either, these fail saying so).
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { openHistory, parseDbSpec, type DbSpec, type History } from '../../src/history/db.js'
import { Migrator, sql } from 'kysely'
import { migrations } from '../../src/history/migrations.js'
import { adoption, churn, forkReadiness, headCounts, lastCrawlStart, listCrawls, nodeHistory, protocolCounts, recentNodes, searchNodes, series, versionsOf } from '../../src/history/query.js'
import { uptime } from '../../src/history/uptime.js'
import { syntheticCrawl, syntheticNodes } from '../../src/history/synthetic.js'
import type { HistoryRecord } from '../../src/history/visit.js'
import { writeCrawl } from '../../src/history/write.js'
import { historyEngines, key, rawDb, rec, T0 } from './fixtures.js'
import { EdgeList } from '../../src/history/edges.js'
import { topology } from '../../src/history/topology.js'

const ENGINES = historyEngines('history')
const EVERY = 30 * 60_000

for (const [engine, spec] of ENGINES) {
  describe(`history on ${engine}`, () => {
    let h: History | undefined
    let lastSpec: DbSpec
    const open = async (): Promise<History> => {
      await h?.close()
      lastSpec = await spec()
      return (h = await openHistory(lastSpec))
    }
    after(async () => h?.close())

    it('stores a crawl whole: counts as the records say, one node per public key, dial fields parsed', async () => {
      const h = await open()
      const nodes = syntheticNodes(300, 4, 7)
      const records = syntheticCrawl(nodes, 0, T0, 7)
      // a node reported twice (once unanswered) is one node, answered
      records.push({ ...records.find((r) => r.answered)!, answered: false })
      const w = await writeCrawl(h, { vantage: 'a', startedAt: T0, endedAt: T0 + 60_000, options: { dial: true } }, records)
      const answered = new Set(records.filter((r) => r.answered).map((r) => r.id))
      const all = new Set(records.map((r) => r.id))
      assert.equal(w.found, all.size)
      assert.equal(w.answered, answered.size)
      assert.equal(w.newNodes, answered.size)
      const nodeRows = await h.db.selectFrom('nodes').select(['pubkey']).execute()
      assert.equal(nodeRows.length, all.size)
      const clients = await series(h, 'client', {}, { top: 50 })
      const gethCount = records.filter((r) => r.answered && r.clientId?.startsWith('Geth/')).length
      assert.equal(clients.values['geth']![0], gethCount)
      assert.ok(gethCount > 0)
      const v = await h.db.selectFrom('visits').selectAll().where('client_name', '=', 'nethermind').limit(1).executeTakeFirstOrThrow()
      assert.equal(v.client_language, 'dotnet')
      assert.equal(v.client_os, 'linux')
      assert.equal(v.client_arch, 'amd64')
      assert.equal(v.caps, 'eth/68 eth/69 snap/1')
      assert.equal(v.attempts, 1)
      assert.equal(typeof v.rtt_ms, 'number')
      assert.equal(v.fork_hash, 'c376cf8b')
    })

    it('sessions and churn: new, gone, returning per crawl; uptime buckets; interrupted crawls left out', async () => {
      const h = await open()
      const [A, B, C] = [key('a'), key('b'), key('c')]
      // A up in every crawl; B up, down, up (returning); C up in the first only (gone)
      const plan: [string, boolean][][] = [
        [[A, true], [B, true], [C, true]],
        [[A, true], [B, false]],
        [[A, true], [B, true]],
        [[A, true], [B, true]],
      ]
      const written = []
      for (const [k, crawl] of plan.entries()) {
        written.push(await writeCrawl(h, { vantage: 'v', startedAt: T0 + k * EVERY, endedAt: T0 + k * EVERY + 1000, options: {} }, crawl.map(([id, up]) => rec(id, up))))
      }
      assert.deepEqual(
        written.map((w) => [w.newNodes, w.returningNodes, w.goneNodes]),
        [
          [3, 0, 0],
          [0, 0, 2],
          [0, 1, 0],
          [0, 0, 0],
        ],
      )
      // an interrupted crawl where nobody answered changes neither sessions nor the series
      await writeCrawl(h, { vantage: 'v', startedAt: T0 + 4 * EVERY, endedAt: T0 + 4 * EVERY + 1000, options: {}, interrupted: true }, [rec(A, false)])
      const ch = await churn(h, { vantage: 'v' })
      assert.equal(ch.crawls.length, 4)
      assert.equal((await listCrawls(h, {}, { withInterrupted: true })).length, 5)
      assert.equal(await lastCrawlStart(h, 'v'), T0 + 4 * EVERY)
      const hist = await nodeHistory(h, B)
      assert.ok(hist)
      assert.deepEqual(
        hist.sessions.map((s) => [s.crawls, s.endedAt === null]),
        [
          [2, true],
          [1, false],
        ],
      )
      assert.equal(hist.visits.length, 4)
      const up = await uptime(h, { vantage: 'v' })
      // A 4/4, B 3/4, C 1/4
      assert.equal(up.crawls, 4)
      assert.equal(up.nodes, 3)
      assert.deepEqual(
        up.buckets.map((b) => b.nodes),
        [0, 1, 1, 0, 1],
      )
      // the next crawl re-checks nodes up recently
      assert.deepEqual((await recentNodes(h, T0 + 2 * EVERY)).map((n) => n.id).sort(), [A, B])
    })

    it('answers over a generated history: series, adoption, fork readiness, search', async () => {
      const h = await open()
      const nodes = syntheticNodes(400, 6, 3)
      const expected: number[] = []
      for (let k = 0; k < 6; k++) {
        const recs = syntheticCrawl(nodes, k, T0 + k * EVERY, 3)
        expected.push(recs.filter((r) => r.answered && r.clientId?.startsWith('Geth/v1.15.0')).length)
        await writeCrawl(h, { vantage: 'g', startedAt: T0 + k * EVERY, endedAt: T0 + k * EVERY + 1000, options: {} }, recs)
      }
      const a = await adoption(h, 'Geth', 'v1.15.0')
      assert.deepEqual(a.nodes, expected)
      assert.ok(a.share.every((s) => s >= 0 && s <= 1))
      assert.ok(expected[5]! > expected[0]!, 'the release spreads over the crawls')
      assert.ok((await versionsOf(h, 'geth')).some((v) => v.version === '1.15.0'))
      const s = await series(h, 'version', {}, { top: 3 })
      assert.equal(s.keys.length, 4)
      assert.equal(s.keys[3], '(others)')
      const total = (await listCrawls(h)).map((c) => c.hello)
      assert.deepEqual(
        s.crawls.map((_, i) => s.keys.reduce((sum, k) => sum + s.values[k]![i]!, 0)),
        total,
      )
      const f = await forkReadiness(h)
      assert.equal(f.chains[0]!.chain, 'mainnet')
      assert.equal(f.chains[0]!.nextFork, 1_767_225_600)
      assert.equal(f.chains[0]!.ready, expected[5])
      const target = nodes[17]!
      assert.equal((await searchNodes(h, target.id.slice(0, 12)))[0]!.pubkey, target.id)
      assert.ok((await searchNodes(h, target.ip)).some((n) => n.pubkey === target.id))
      assert.ok((await searchNodes(h, 'nethermind', 500)).every((n) => n.clientId?.startsWith('nethermind/')))
      // LIKE wildcards in the search text are literal
      assert.equal((await searchNodes(h, '%')).length, 0)
    })

    // SQLite takes one writer at a time (two processes wait for each other; two connections in one
    // thread would block each other): there the two vantage points write in turn, on PostgreSQL at once
    it(`two vantage points writing the same nodes ${engine === 'postgres' ? 'at once' : 'in turn'}: nothing lost, no duplicate nodes`, async () => {
      const h = await open()
      const h2 = await openHistory(lastSpec)
      try {
        const nodes = syntheticNodes(2000, 3, 11)
        const writes: (() => Promise<unknown>)[] = []
        for (let k = 0; k < 3; k++) {
          writes.push(() => writeCrawl(h, { vantage: 'x', startedAt: T0 + k * EVERY, endedAt: T0 + k * EVERY + 1, options: {} }, syntheticCrawl(nodes, k, T0 + k * EVERY, 1)))
          writes.push(() => writeCrawl(h2, { vantage: 'y', startedAt: T0 + k * EVERY + 5, endedAt: T0 + k * EVERY + 6, options: {} }, syntheticCrawl(nodes, k, T0 + k * EVERY, 2)))
        }
        if (engine === 'postgres') await Promise.all(writes.map((w) => w()))
        else for (const w of writes) await w()
        const crawls = await listCrawls(h)
        assert.equal(crawls.length, 6)
        const nodeRows = await h.db.selectFrom('nodes').select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.count<number>('pubkey').distinct().as('d')]).executeTakeFirstOrThrow()
        const present = new Set(nodes.filter((n) => n.joins <= 2).map((n) => n.id))
        assert.equal(Number(nodeRows.n), present.size)
        assert.equal(Number(nodeRows.d), present.size)
        for (const c of crawls) {
          const visits = await h.db.selectFrom('visits').select((eb) => eb.fn.countAll<number>().as('n')).where('crawl_id', '=', c.id).executeTakeFirstOrThrow()
          assert.equal(Number(visits.n), c.found)
        }
      } finally {
        await h2.close()
      }
    })

    it('stores the protocols each node answered on and its layer; counts the latest crawl by protocol and layer', async () => {
      const h = await open()
      const [A, B, C, D, E, F] = [key('a'), key('b'), key('c'), key('d'), key('e'), key('f')]
      const crawl = (t: number, recs: HistoryRecord[]) => writeCrawl(h, { vantage: 'p', startedAt: t, endedAt: t + 1000, options: {} }, recs)
      // an earlier crawl that walked discv4 alone: no protocols, no layer
      const before = await crawl(T0, [rec(A, true), rec(B, true)])
      assert.deepEqual(before.protocols, { 'v4 only': 0, 'v5 only': 0, both: 0 })
      const w = await crawl(T0 + EVERY, [
        rec(A, true, { protocols: ['v4'], layer: 'execution' }),
        rec(B, true, { protocols: ['v4', 'v5'], layer: 'execution' }),
        rec(C, true, { protocols: ['v4', 'v5'], layer: 'execution' }),
        rec(D, true, { protocols: ['v5'], layer: 'consensus', eth2: true, dialError: 'not dialled: consensus-layer node (libp2p)' }),
        rec(E, true, { protocols: ['v5'], layer: 'consensus', eth2: true }),
        // tried on both, answered neither: stored as tried, counted nowhere
        rec(F, false, { protocols: ['v4', 'v5'], error: 'no answer' }),
      ])
      assert.deepEqual(w.protocols, { 'v4 only': 1, 'v5 only': 2, both: 2 })
      assert.deepEqual(w.layers, { execution: 3, consensus: 2 })
      const rows = await h.db.selectFrom('visits as v').innerJoin('nodes as n', 'n.id', 'v.node').select(['n.pubkey', 'v.protocols', 'v.layer']).where('v.crawl_id', '=', w.id).execute()
      const by = new Map(rows.map((r) => [r.pubkey, [r.protocols, r.layer]]))
      assert.deepEqual(by.get(B), ['v4+v5', 'execution'])
      assert.deepEqual(by.get(D), ['v5', 'consensus'])
      assert.deepEqual(by.get(F), ['v4+v5', null])
      const old = await h.db.selectFrom('visits').select(['protocols', 'layer']).where('crawl_id', '=', before.id).execute()
      assert.ok(old.every((r) => r.protocols === null && r.layer === null))

      const pc = await protocolCounts(h, { vantage: 'p' })
      assert.equal(pc.crawl?.id, w.id)
      assert.deepEqual(pc.protocols, { 'v4 only': 1, 'v5 only': 2, both: 2 })
      assert.deepEqual(pc.layers, { execution: 3, consensus: 2 })
      const s = await series(h, 'protocols', { vantage: 'p' })
      assert.deepEqual(s.values['v5 only'], [0, 2])
      assert.deepEqual(s.values['both'], [0, 2])
      const hist = await nodeHistory(h, D)
      assert.deepEqual([hist?.visits[0]?.protocols, hist?.visits[0]?.layer], ['v5', 'consensus'])
      // no crawl at all: zeros, no crawl
      const none = await protocolCounts(h, { vantage: 'nobody' })
      assert.equal(none.crawl, undefined)
      assert.deepEqual(none.protocols, { 'v4 only': 0, 'v5 only': 0, both: 0 })
    })

    it('a history made before the protocols migration is brought up to date, its visits kept', async () => {
      const s = await spec()
      // the schema as 0001 left it, with one crawl in it, written as that release wrote it
      const db = rawDb(s)
      try {
        const first = { '0001_initial': migrations(s.engine)['0001_initial']! }
        const r = await new Migrator({ db, provider: { getMigrations: async () => first } }).migrateToLatest()
        assert.equal(r.error, undefined)
        await sql`INSERT INTO crawls (vantage, started_at, ended_at, options, found, answered, dialled, hello, status, new_nodes, returning_nodes, gone_nodes) VALUES ('old', ${T0}, ${T0 + 1}, '{}', 1, 1, 0, 0, 0, 1, 0, 0)`.execute(db)
        await sql`INSERT INTO nodes (pubkey, node_id, first_seen, last_seen, last_crawl, last_visit, ip, udp, tcp) VALUES (${key('9')}, ${'0'.repeat(64)}, ${T0}, ${T0}, 1, ${T0}, '10.0.0.9', 30303, 30303)`.execute(db)
        await sql`INSERT INTO visits (crawl_id, node, ip, udp, tcp, answered, eth2, inbound) VALUES (1, 1, '10.0.0.9', 30303, 30303, 1, 0, 0)`.execute(db)
      } finally {
        await db.destroy()
      }
      const h = await openHistory(s)
      try {
        const v = await h.db.selectFrom('visits').selectAll().executeTakeFirstOrThrow()
        assert.equal(v.ip, '10.0.0.9')
        assert.equal(v.protocols, null)
        assert.equal(v.layer, null)
        await writeCrawl(h, { vantage: 'old', startedAt: T0 + EVERY, endedAt: T0 + EVERY + 1, options: {} }, [rec(key('9'), true, { protocols: ['v4', 'v5'], layer: 'execution' })])
        assert.deepEqual((await protocolCounts(h, { vantage: 'old' })).protocols, { 'v4 only': 0, 'v5 only': 0, both: 1 })
        assert.equal((await listCrawls(h, { vantage: 'old' })).length, 2)
        assert.equal((await nodeHistory(h, key('9')))?.visits.length, 2, 'one node, its old visit and its new one')
      } finally {
        await h.close()
      }
    })

    it('stores each node’s head and whether it was synced (judged over the crawl); counts synced per client', async () => {
      const s = await spec()
      // a history as 0004 left it: 0005 adds the head columns to its visits (and 0006 the rollups, 0007 the crawl key, 0008 the uptime totals)
      const db = rawDb(s)
      try {
        const { '0005_visit_head': _later, '0006_rollups': _rollups, '0007_crawl_key': _key, '0008_uptime_totals': _totals, ...older } = migrations(s.engine)
        assert.equal((await new Migrator({ db, provider: { getMigrations: async () => older } }).migrateToLatest()).error, undefined)
      } finally {
        await db.destroy()
      }
      const h = await openHistory(s)
      try {
        const time = '2025-06-01T12:00:00.000Z'
        const head = (n: number, client: string, extra: Partial<HistoryRecord> = {}): Partial<HistoryRecord> => ({ clientId: `${client}/v1.0.0`, networkId: 1, chain: 'mainnet', headNumber: n, headHash: n.toString(16).padStart(64, '0'), headTime: time, ...extra })
        const [A, B, C, D, E, F] = [key('a'), key('b'), key('c'), key('d'), key('e'), key('f')]
        const w = await writeCrawl(h, { vantage: 'heads', startedAt: T0, endedAt: T0 + 1000, options: { dial: true } }, [
          rec(A, true, head(22_000_000, 'Geth')),
          rec(B, true, head(22_000_001, 'Geth')),
          rec(C, true, head(21_999_990, 'Nethermind')),
          // far behind: not synced
          rec(D, true, head(21_000_000, 'Nethermind')),
          // the crawl's own verdict is kept
          rec(E, true, head(5, 'reth', { synced: true })),
          // a Status without a head, and no dial at all
          rec(F, true, { clientId: 'besu/v1', networkId: 1, chain: 'mainnet' }),
        ])
        const rows = await h.db.selectFrom('visits as v').innerJoin('nodes as n', 'n.id', 'v.node').select(['n.pubkey', 'v.head_number', 'v.head_hash', 'v.head_time', 'v.synced']).where('v.crawl_id', '=', w.id).execute()
        const by = new Map(rows.map((r) => [r.pubkey, [r.head_number, r.head_hash, r.head_time, r.synced]]))
        assert.deepEqual(by.get(A), [22_000_000, (22_000_000).toString(16).padStart(64, '0'), Date.parse(time), 1])
        assert.deepEqual(by.get(C)?.[3], 1)
        assert.deepEqual(by.get(D)?.[3], 0)
        assert.deepEqual(by.get(E)?.[3], 1)
        assert.deepEqual(by.get(F), [null, null, null, null])
        const hc = await headCounts(h, { vantage: 'heads' })
        assert.equal(hc.crawl?.id, w.id)
        assert.deepEqual(hc.clients, [
          { client: 'geth', head: 2, synced: 2, share: 1 },
          { client: 'nethermind', head: 2, synced: 1, share: 0.5 },
          { client: 'reth', head: 1, synced: 1, share: 1 },
        ])
        assert.deepEqual((await headCounts(h, { vantage: 'nobody' })).clients, [])
      } finally {
        await h.close()
      }
    })

    it('migrations apply once: reopening an existing history keeps it', async () => {
      const s = await spec()
      const a = await openHistory(s)
      await writeCrawl(a, { vantage: 'm', startedAt: T0, endedAt: T0 + 1, options: {} }, [rec(key('d'), true)])
      await a.close()
      const b = await openHistory(s)
      try {
        assert.equal((await listCrawls(b)).length, 1)
        const m = await b.db.selectFrom('kysely_migration' as never).selectAll().execute()
        assert.deepEqual((m as { name: string }[]).map((r) => r.name).sort(), ['0001_initial', '0002_visit_protocols_layer', '0003_visit_geo', '0004_edges', '0005_visit_head', '0006_rollups', '0007_crawl_key', '0008_uptime_totals'])
      } finally {
        await b.close()
      }
    })

    it('edges (monitor --neighbors): stored per crawl between stored nodes; in-degree, most listed and nodes no table lists any more', async () => {
      const h = await open()
      const k = (i: number): string => i.toString(16).padStart(2, '0').repeat(64)
      assert.equal((await topology(h)).crawl, undefined, 'no edges yet')
      // crawl 1: nodes 1..6 answer; 1 lists 2,3,4; 2 lists 3,4,5; 3 lists 4; 4 lists 6; an edge to a node without a record is dropped
      const first = new EdgeList()
      for (const [f, t] of [[1, 2], [1, 3], [1, 4], [2, 3], [2, 4], [2, 5], [3, 4], [4, 6], [4, 99]] as const) first.add(k(f), k(t), 250 + t)
      const nodes = [1, 2, 3, 4, 5, 6].map((i) => rec(k(i), true))
      const w1 = await writeCrawl(h, { vantage: 'a', startedAt: T0, endedAt: T0 + 1, options: {} }, nodes, first)
      assert.equal(w1.edges, 8)
      // a crawl without --neighbors stores none, and does not count as the latest with edges
      await writeCrawl(h, { vantage: 'a', startedAt: T0 + EVERY, endedAt: T0 + EVERY + 1, options: {} }, nodes)
      const t1 = await topology(h)
      assert.equal(t1.crawl?.id, w1.id)
      assert.equal(t1.edges, 8)
      assert.equal(t1.tables, 4)
      assert.equal(t1.listed, 5)
      assert.equal(t1.answeredUnlisted, 1, 'node 1: answering, in no table')
      assert.deepEqual(t1.top.slice(0, 2).map((n) => [n.pubkey, n.inDegree]), [[k(4), 3], [k(3), 2]])
      assert.deepEqual(Object.fromEntries(t1.inDegree.filter((b) => b.nodes > 0).map((b) => [b.band, b.nodes])), { '0': 1, '1': 3, '2-3': 2 })
      assert.equal(t1.unlisted.nodes, 0)
      const stored = await h.db.selectFrom('edges').selectAll().where('crawl_id', '=', w1.id).execute()
      assert.equal(stored.length, 8)
      assert.ok(stored.every((e) => e.distance > 250))

      // crawl 3: node 5 is in no table any more (still answering), node 6 neither and silent; a duplicate pair is stored once
      const third = new EdgeList()
      for (const [f, t] of [[1, 2], [1, 3], [2, 3], [3, 4], [3, 4]] as const) third.add(k(f), k(t), 255)
      const w3 = await writeCrawl(h, { vantage: 'a', startedAt: T0 + 2 * EVERY, endedAt: T0 + 2 * EVERY + 1, options: {} }, [...[1, 2, 3, 4, 5].map((i) => rec(k(i), true)), rec(k(6), false)], third)
      const t3 = await topology(h, {}, { top: 5 })
      assert.equal(t3.crawl?.id, w3.id)
      assert.equal(t3.edges, 4)
      assert.equal(t3.unlisted.nodes, 2)
      assert.equal(t3.unlisted.stillAnswering, 1)
      assert.deepEqual(t3.unlisted.sample.map((n) => [n.pubkey, n.answered, n.lastListedCrawl]), [[k(5), true, w1.id], [k(6), false, w1.id]])
      // another vantage point's crawl does not make its nodes "no longer listed" here
      assert.equal((await topology(h, { vantage: 'b' })).crawl, undefined)
      // deleting a crawl deletes its edges
      await h.db.deleteFrom('crawls').where('id', '=', w3.id).execute()
      assert.equal((await h.db.selectFrom('edges').select('crawl_id').where('crawl_id', '=', w3.id).execute()).length, 0)
      assert.equal((await topology(h)).crawl?.id, w1.id)
    })
  })
}

describe('db spec', () => {
  it('parses sqlite: and postgres:// and refuses the rest', () => {
    assert.deepEqual(parseDbSpec('sqlite:/x/h.sqlite'), { engine: 'sqlite', file: '/x/h.sqlite' })
    assert.equal(parseDbSpec('postgres://u@127.0.0.1:5432/db').engine, 'postgres')
    assert.equal(parseDbSpec('postgresql://u@127.0.0.1/db').engine, 'postgres')
    for (const bad of ['sqlite:', 'mysql://x', 'history.sqlite', 'postgres://']) assert.throws(() => parseDbSpec(bad), { name: 'HistoryError', code: 'BAD_DB_SPEC' }, bad)
  })
})
