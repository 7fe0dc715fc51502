/**
 * `ethp2p history prune` and `monitor --retain` as an operator runs them (child processes): exit codes,
 * the JSON line, a second prune doing nothing, `stats --daily`, and a monitor on a loopback testnet
 * pruning its own old crawls after each one.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { openHistory, type DbSpec } from '../../src/history/db.js'
import { listCrawls } from '../../src/history/query.js'
import { syntheticCrawl, syntheticNodes } from '../../src/history/synthetic.js'
import { writeCrawl } from '../../src/history/write.js'
import { stopTestDatabases, testDatabase } from './pg.js'
import { T0 } from './fixtures.js'
import { killChildren, run } from './cli.js'

const dir = mkdtempSync(join(tmpdir(), 'ethp2p-retention-cli-'))
after(async () => {
  killChildren()
  await stopTestDatabases()
  rmSync(dir, { recursive: true, force: true })
})

async function ok(args: string[]): Promise<Record<string, unknown>> {
  const r = run(args)
  assert.equal(await r.exit, 0, r.stderr())
  return JSON.parse(r.stdout()) as Record<string, unknown>
}

/** two days of four crawls each, 60 nodes (some joining late); the visits written per crawl */
async function history(spec: DbSpec): Promise<number[]> {
  const h = await openHistory(spec)
  const nodes = syntheticNodes(60, 8, 2)
  const visits: number[] = []
  for (let k = 0; k < 8; k++) {
    const t = T0 + k * 6 * 3600_000
    const recs = syntheticCrawl(nodes, k, t, 2)
    visits.push(recs.length)
    await writeCrawl(h, { vantage: 'v', startedAt: t, endedAt: t + 1000, options: { dial: true } }, recs)
  }
  await h.close()
  return visits
}

describe('ethp2p history prune', () => {
  it('bad arguments exit 2 with a one-line reason', async () => {
    const file = join(dir, 'bad.sqlite')
    await history({ engine: 'sqlite', file })
    for (const args of [
      ['--before', 'yesterday'],
      ['--before', '2025-13-45'],
      ['--before', '2999-01-01'],
      ['--before', '30x'],
      [],
      ['--before', '30d', '--db', `sqlite:${file}`, '--datadir', dir],
      ['--before', '30d', '--datadir', join(dir, 'nowhere')],
      ['--before', '30d', '--db', 'mysql://x'],
    ]) {
      const r = run(['history', 'prune', ...(args.includes('--db') || args.includes('--datadir') ? [] : ['--db', `sqlite:${file}`]), ...args])
      assert.equal(await r.exit, 2, `${args.join(' ')}: ${r.stderr()}`)
      assert.equal(r.stderr().trim().split('\n').length, 1, r.stderr())
      assert.match(r.stderr(), /^(ethp2p: |error: )/)
    }
  })

  for (const engine of ['sqlite', 'postgres'] as const) {
    it(`prunes a ${engine} history: the JSON line, a second run doing nothing, stats --daily from the rollups`, async () => {
      const spec: DbSpec = engine === 'sqlite' ? { engine, file: join(dir, 'p.sqlite') } : { engine, url: await testDatabase() }
      const visits = await history(spec)
      const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0)
      const db = spec.engine === 'sqlite' ? `sqlite:${spec.file}` : spec.url
      const daily = await ok(['stats', '--json', '--daily', '--db', db])
      const first = await ok(['history', 'prune', '--before', '2025-01-02', '--db', db])
      assert.equal(first['before'], '2025-01-02T00:00:00.000Z')
      assert.deepEqual([first['crawls'], first['visits'], first['days'], first['aborted']], [4, sum(visits.slice(0, 4)), 1, false])
      const again = await ok(['history', 'prune', '--before', '2025-01-02T00:00', '--db', db])
      assert.deepEqual([again['crawls'], again['visits'], again['days']], [0, 0, 0])
      // a duration ago: everything here is older than 30 days
      const rest = await ok(['history', 'prune', '--before', '30d', '--db', db])
      assert.deepEqual([rest['crawls'], rest['visits'], rest['days']], [4, sum(visits.slice(4)), 1])
      assert.deepEqual((await ok(['stats', '--json', '--daily', '--db', db]))['daily'], daily['daily'])
      const h = await openHistory(spec)
      try {
        assert.ok((await listCrawls(h)).every((c) => c.pruned))
      } finally {
        await h.close()
      }
      const text = run(['stats', '--daily', '--db', db])
      assert.equal(await text.exit, 0, text.stderr())
      assert.match(text.stdout(), /Nodes per client, mean per crawl of each day, over 2 days:\n\s+first \(2025-01-01\)/)
    })
  }
})

describe('ethp2p monitor --retain', () => {
  it('after each crawl prunes its crawls older than --retain; the newer keep their visits', async () => {
    const datadir = join(dir, 'm')
    // starts at least a second apart: by the fifth crawl the first ones are older than 2 s, whatever the machine's speed
    const r = run(['monitor', '--testnet', '20', '--every', '1s', '--retain', '2s', '--crawls', '5', '--datadir', datadir, '--vantage', 'ret'])
    assert.equal(await r.exit, 0, r.stderr())
    const pruned = r
      .stderr()
      .split('\n')
      .filter((l) => l.includes('"msg":"history pruned"'))
      .map((l) => JSON.parse(l) as { before: string; crawls: number; vantage: string })
    assert.ok(pruned.length >= 1 && pruned.every((p) => p.vantage === 'ret'))
    const cut = Math.max(...pruned.map((p) => Date.parse(p.before)))
    const h = await openHistory({ engine: 'sqlite', file: join(datadir, 'history.sqlite') })
    try {
      const crawls = await listCrawls(h, {}, { withInterrupted: true })
      assert.equal(pruned.reduce((s, p) => s + p.crawls, 0), crawls.filter((c) => c.pruned).length)
      for (const c of crawls) {
        const visits = Number((await h.db.selectFrom('visits').select((eb) => eb.fn.countAll().as('n')).where('crawl_id', '=', c.id).executeTakeFirstOrThrow()).n)
        const counts = Number((await h.db.selectFrom('crawl_counts').select((eb) => eb.fn.countAll().as('n')).where('crawl_id', '=', c.id).executeTakeFirstOrThrow()).n)
        // every crawl keeps its counts; those before the last cut lost their visits, the others have all of theirs
        assert.ok(counts > 0, `crawl #${c.id} keeps its counts`)
        if (c.startedAt < cut) assert.deepEqual([c.pruned, visits], [true, 0], `crawl #${c.id}`)
        else assert.deepEqual([c.pruned, visits], [false, c.found], `crawl #${c.id}`)
      }
    } finally {
      await h.close()
    }
  })
})
