/**
 * Country and AS in the history, on SQLite and a real PostgreSQL: visits keep them, the per-crawl
 * counts break answering nodes down by country and AS, `geoCounts` answers with the hosting share,
 * and a history made before `0003_visit_geo` is brought up to date.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Migrator, sql } from 'kysely'
import { openHistory } from '../../src/history/db.js'
import { migrations } from '../../src/history/migrations.js'
import { geoCounts, nodeHistory, series } from '../../src/history/query.js'
import { writeCrawl } from '../../src/history/write.js'
import { historyEngines, key, rawDb, rec, T0 } from './fixtures.js'

const ENGINES = historyEngines('history-geo')

for (const [engine, spec] of ENGINES) {
  describe(`history geography on ${engine}`, () => {
    it('visits keep country, asn and asOrg; counts per country and AS; the hosting share', async () => {
      const h = await openHistory(await spec())
      try {
        const [A, B, C, D, E] = [key('a'), key('b'), key('c'), key('d'), key('e')]
        const w = await writeCrawl(h, { vantage: 'g', startedAt: T0, endedAt: T0 + 1000, options: {} }, [
          rec(A, true, { ip: '8.8.8.8', country: 'US', asn: 15169, asOrg: 'Google LLC' }),
          rec(B, true, { ip: '5.9.1.1', country: 'DE', asn: 24940, asOrg: 'Hetzner Online GmbH' }),
          rec(C, true, { ip: '5.9.1.2', country: 'DE', asn: 24940, asOrg: 'Hetzner Online GmbH' }),
          // a 32-bit AS number past PostgreSQL's integer
          rec(D, true, { ip: '80.1.1.1', country: 'FI', asn: 4_200_000_001, asOrg: 'Home ISP' }),
          // unanswered: stored, counted nowhere; private: no geography
          rec(E, false, { ip: '9.9.9.9', country: 'CH', asn: 19281, asOrg: 'Quad9' }),
          rec(key('f'), true, { ip: '192.168.1.5' }),
        ])
        const rows = await h.db.selectFrom('visits as v').innerJoin('nodes as n', 'n.id', 'v.node').select(['n.pubkey', 'v.country', 'v.asn', 'v.as_org']).where('v.crawl_id', '=', w.id).execute()
        const by = new Map(rows.map((r) => [r.pubkey, [r.country, r.asn === null ? null : Number(r.asn), r.as_org]]))
        assert.deepEqual(by.get(A), ['US', 15169, 'Google LLC'])
        assert.deepEqual(by.get(D), ['FI', 4_200_000_001, 'Home ISP'])
        assert.deepEqual(by.get(E), ['CH', 19281, 'Quad9'])
        assert.deepEqual(by.get(key('f')), [null, null, null])

        const g = await geoCounts(h, { vantage: 'g' })
        assert.equal(g.crawl?.id, w.id)
        assert.deepEqual(g.countries, [{ country: 'DE', nodes: 2 }, { country: 'FI', nodes: 1 }, { country: 'US', nodes: 1 }])
        assert.deepEqual(g.ases[0], { asn: 24940, asOrg: 'Hetzner Online GmbH', nodes: 2, hosting: true })
        assert.deepEqual(g.ases.map((a) => a.asn), [24940, 15169, 4_200_000_001])
        assert.equal(g.withAsn, 4)
        // Google 15169 and Hetzner are hosting ASes; the home ISP is not
        assert.equal(g.hosted, 3)
        assert.equal(g.hostingShare, 0.75)
        const top1 = await geoCounts(h, { vantage: 'g' }, 1)
        assert.deepEqual(top1.others, { countries: 2, ases: 2 })
        const s = await series(h, 'country', { vantage: 'g' })
        assert.deepEqual(s.values['DE'], [2])
        const hist = await nodeHistory(h, A)
        assert.deepEqual([hist?.visits[0]?.country, hist?.visits[0]?.asn, hist?.visits[0]?.asOrg], ['US', 15169, 'Google LLC'])
        const none = await geoCounts(h, { vantage: 'nobody' })
        assert.equal(none.crawl, undefined)
        assert.equal(none.hostingShare, 0)
      } finally {
        await h.close()
      }
    })

    it('a history made before 0003_visit_geo is brought up to date, its visits kept without geography', async () => {
      const s = await spec()
      const db = rawDb(s)
      try {
        const all = migrations(s.engine)
        const upTo2 = { '0001_initial': all['0001_initial']!, '0002_visit_protocols_layer': all['0002_visit_protocols_layer']! }
        const r = await new Migrator({ db, provider: { getMigrations: async () => upTo2 } }).migrateToLatest()
        assert.equal(r.error, undefined)
        await sql`INSERT INTO crawls (vantage, started_at, ended_at, options, found, answered, dialled, hello, status, new_nodes, returning_nodes, gone_nodes) VALUES ('old', ${T0}, ${T0 + 1}, '{}', 1, 1, 0, 0, 0, 1, 0, 0)`.execute(db)
        await sql`INSERT INTO nodes (pubkey, node_id, first_seen, last_seen, last_crawl, last_visit, ip, udp, tcp) VALUES (${key('9')}, ${'0'.repeat(64)}, ${T0}, ${T0}, 1, ${T0}, '8.8.8.8', 30303, 30303)`.execute(db)
        await sql`INSERT INTO visits (crawl_id, node, ip, udp, tcp, answered, eth2, inbound, protocols) VALUES (1, 1, '8.8.8.8', 30303, 30303, 1, 0, 0, 'v4')`.execute(db)
      } finally {
        await db.destroy()
      }
      const h = await openHistory(s)
      try {
        const v = await h.db.selectFrom('visits').selectAll().executeTakeFirstOrThrow()
        assert.deepEqual([v.ip, v.protocols, v.country, v.asn, v.as_org], ['8.8.8.8', 'v4', null, null, null])
        await writeCrawl(h, { vantage: 'old', startedAt: T0 + 60_000, endedAt: T0 + 60_001, options: {} }, [rec(key('9'), true, { ip: '8.8.8.8', country: 'US', asn: 15169, asOrg: 'Google LLC' })])
        assert.deepEqual((await geoCounts(h, { vantage: 'old' })).countries, [{ country: 'US', nodes: 1 }])
      } finally {
        await h.close()
      }
    })
  })
}
