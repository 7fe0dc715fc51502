/**
 * `ethp2p monitor` and `ethp2p stats` as an operator runs them: child processes on loopback testnets,
 * SIGINT, kill -9 and restart, and two monitors sharing one PostgreSQL.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { after, describe, it } from 'node:test'
import { openHistory } from '../../src/history/db.js'
import { syntheticCrawl, syntheticNodes } from '../../src/history/synthetic.js'
import { writeCrawl } from '../../src/history/write.js'
import { count, killChildren, lines, run } from './cli.js'
import { stopTestDatabases, testDatabase } from './pg.js'

const dir = mkdtempSync(join(tmpdir(), 'ethp2p-monitor-cli-'))
after(async () => {
  killChildren()
  await stopTestDatabases()
  rmSync(dir, { recursive: true, force: true })
})

async function stats(args: string[]): Promise<Record<string, unknown>> {
  const r = run(['stats', '--json', ...args])
  assert.equal(await r.exit, 0, r.stderr())
  return JSON.parse(r.stdout()) as Record<string, unknown>
}

describe('ethp2p monitor', () => {
  it('stats --json: the synced share per client of the latest crawl', async () => {
    const file = join(dir, 'heads.sqlite')
    const h = await openHistory({ engine: 'sqlite', file })
    const nodes = syntheticNodes(200, 2, 3)
    for (let k = 0; k < 2; k++) await writeCrawl(h, { vantage: 'v', startedAt: Date.UTC(2025, 0, 1) + k * 60_000, endedAt: Date.UTC(2025, 0, 1) + k * 60_000 + 1000, options: { dial: true } }, syntheticCrawl(nodes, k, Date.UTC(2025, 0, 1) + k * 60_000, 3))
    const latest = syntheticCrawl(nodes, 1, 0, 3).filter((r) => r.headNumber !== undefined)
    await h.close()
    const s = await stats(['--db', `sqlite:${file}`])
    const heads = s['heads'] as { crawl: number; clients: { client: string; head: number; synced: number; share: number }[] }
    assert.equal(heads.crawl, 2)
    assert.equal(heads.clients.reduce((n, c) => n + c.head, 0), latest.length)
    // the synthetic crawl's lagging nodes (key digit f) are the unsynced ones
    assert.equal(heads.clients.reduce((n, c) => n + c.synced, 0), latest.filter((r) => r.id[0] !== 'f').length)
    for (const c of heads.clients) assert.equal(c.share, c.synced / c.head)
    assert.ok(heads.clients.some((c) => c.share < 1))
  })

  it('crawls on schedule into SQLite, serves the dashboard API and gauges; SIGINT writes the crawl under way and exits 0', async () => {
    const datadir = join(dir, 'a')
    const r = run(['monitor', '--testnet', '30', '--every', '2s', '--datadir', datadir, '--vantage', 'lab', '--http', '127.0.0.1:0', '--metrics', '127.0.0.1:0'])
    await r.until((o) => lines(o).length >= 1, 'the first crawl was stored')
    const first = lines(r.stdout())[0]!
    assert.equal(first['found'], 30)
    assert.equal(first['answered'], 27)
    assert.equal(first['new'], 27)
    const logs = lines(r.stderr())
    const dash = logs.find((l) => l['msg'] !== undefined && String(l['msg']).startsWith('dashboard on'))!['url'] as string
    const metricsPort = logs.find((l) => l['msg'] === 'Prometheus metrics served')!['port'] as number
    const overview = (await (await fetch(new URL('/api/overview', dash))).json()) as { latest: { id: number; found: number } }
    assert.equal(overview.latest.found, 30)
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text()
    assert.match(text, /ethp2p_crawl_nodes\{state="found"\} 30/)
    assert.match(text, /ethp2p_crawl_networks\{network="mainnet"\} \d+/)

    // the second crawl is cut short by SIGINT: written, marked interrupted, exit 0
    await r.until((_, e) => count(e, 'crawl started') >= 2, 'the second crawl started')
    r.child.kill('SIGINT')
    assert.equal(await r.exit, 0, r.stderr())
    const stored = lines(r.stdout())
    assert.equal(stored.length, 2)
    assert.equal(stored[1]!['interrupted'], true)
    const s = await stats(['--datadir', datadir])
    assert.equal(s['crawls'], 2)
    assert.equal(s['interrupted'], 1)
    assert.deepEqual(s['vantages'], ['lab'])
  })

  it('kill -9 loses only the crawl under way; a restart continues the schedule from the last start', async () => {
    const datadir = join(dir, 'b')
    const r = run(['monitor', '--testnet', '20', '--every', '1s', '--datadir', datadir, '--vantage', 'k'])
    await r.until((o, e) => lines(o).length >= 2 && count(e, 'crawl started') >= 3, 'two crawls stored and a third started')
    r.child.kill('SIGKILL')
    await r.exit
    const s = await stats(['--datadir', datadir])
    assert.equal(s['crawls'], 2)
    assert.equal(s['interrupted'], 0)

    // --every 1h: the next crawl is due an hour after the last start, so the restart waits
    const h = await openHistory({ engine: 'sqlite', file: join(datadir, 'history.sqlite') })
    const last = await h.db.selectFrom('crawls').select((eb) => eb.fn.max('started_at').as('t')).executeTakeFirstOrThrow()
    await h.close()
    const wait = run(['monitor', '--testnet', '20', '--every', '1h', '--datadir', datadir, '--vantage', 'k'])
    await wait.until((_, e) => count(e, 'next crawl scheduled') >= 1, 'the schedule was read')
    const due = lines(wait.stderr()).find((l) => l['msg'] === 'next crawl scheduled')!['due'] as string
    assert.equal(Date.parse(due), Number(last.t) + 3600_000)
    wait.child.kill('SIGINT')
    assert.equal(await wait.exit, 0, wait.stderr())
    assert.equal(count(wait.stderr(), 'crawl started'), 0)

    // a due crawl starts at once
    const again = run(['monitor', '--testnet', '20', '--every', '1s', '--datadir', datadir, '--vantage', 'k', '--crawls', '1'])
    assert.equal(await again.exit, 0, again.stderr())
    assert.equal(lines(again.stdout()).length, 1)
    assert.equal((await stats(['--datadir', datadir]))['crawls'], 3)
  })

  it('--neighbors: every crawl stores its edges; stats gives the latest crawl\'s in-degree; without it none are stored', async () => {
    const datadir = join(dir, 'n')
    const r = run(['monitor', '--testnet', '30', '--protocols', 'v4,v5', '--every', '1s', '--crawls', '2', '--datadir', datadir, '--vantage', 'topo', '--neighbors'])
    assert.equal(await r.exit, 0, r.stderr())
    const crawls = lines(r.stdout())
    assert.equal(crawls.length, 2)
    for (const c of crawls) assert.ok((c['edges'] as number) > 100, `crawl #${c['crawl']}: ${c['edges']} edges`)
    const s = await stats(['--datadir', datadir])
    const t = s['topology'] as { crawl: { id: number }; edges: number; tables: number; listed: number; answeredUnlisted: number; inDegree: { band: string; nodes: number }[]; top: { inDegree: number }[]; unlisted: { nodes: number } }
    assert.equal(t.crawl.id, crawls[1]!['crawl'])
    assert.equal(t.edges, crawls[1]!['edges'])
    assert.ok(t.tables >= 20 && t.listed >= 20, JSON.stringify(t))
    assert.equal(t.inDegree.reduce((a, b) => a + b.nodes, 0), crawls[1]!['answered'])
    assert.ok(t.top[0]!.inDegree >= t.top[t.top.length - 1]!.inDegree)
    const text = run(['stats', '--datadir', datadir])
    assert.equal(await text.exit, 0, text.stderr())
    assert.match(text.stdout(), new RegExp(`Topology \\(latest crawl with edges #${t.crawl.id}\\):\\n${t.edges} edges from ${t.tables} tables`))
    assert.match(text.stdout(), /No table lists any more: \d+ nodes listed in an earlier crawl/)
    const plain = join(dir, 'n2')
    const q = run(['monitor', '--testnet', '20', '--every', '1s', '--crawls', '1', '--datadir', plain, '--vantage', 'plain'])
    assert.equal(await q.exit, 0, q.stderr())
    assert.equal(lines(q.stdout())[0]!['edges'], undefined)
    assert.equal((await stats(['--datadir', plain]))['topology'] && ((await stats(['--datadir', plain]))['topology'] as { edges: number }).edges, 0)
  })

  it('--protocols v4,v5: the crawl line and stats count the latest crawl over v4 only / v5 only / both', async () => {
    const datadir = join(dir, 'p')
    const r = run(['monitor', '--testnet', '30', '--protocols', 'v4,v5', '--every', '1s', '--crawls', '1', '--datadir', datadir, '--vantage', 'both'])
    assert.equal(await r.exit, 0, r.stderr())
    const line = lines(r.stdout())[0]!
    const split = line['protocols'] as Record<string, number>
    assert.deepEqual(Object.keys(split).sort(), ['both', 'v4 only', 'v5 only'])
    // the testnet's consensus nodes answer discv5 alone, the others both
    assert.ok(split['both']! > 0 && split['v5 only']! > 0, JSON.stringify(split))
    assert.equal(split['v4 only']! + split['v5 only']! + split['both']!, line['answered'])
    const s = await stats(['--datadir', datadir])
    const p = s['protocols'] as Record<string, unknown>
    assert.equal(p['crawl'], line['crawl'])
    assert.deepEqual([p['v4 only'], p['v5 only'], p['both']], [split['v4 only'], split['v5 only'], split['both']])
    assert.deepEqual(p['layers'], line['layers'])
    const text = run(['stats', '--datadir', datadir])
    assert.equal(await text.exit, 0, text.stderr())
    assert.match(text.stdout(), new RegExp(`Answering nodes by discovery protocol and layer \\(latest crawl #${line['crawl']}\\):\\n.*\\nv4 only +${split['v4 only']}\\nv5 only +${split['v5 only']}\\nboth +${split['both']}\\n`))
  })

  it('stats: the latest crawl by country and AS, with the share on hosting ASes (--json and tables)', async () => {
    const file = join(dir, 'geo.sqlite')
    const h = await openHistory({ engine: 'sqlite', file })
    const when = new Date().toISOString()
    const node = (c: string, ip: string, country: string, asn: number, asOrg: string) => ({ id: c.repeat(128), ip, udp: 30303, tcp: 30303, firstSeen: when, lastSeen: when, answered: true, eth2: false, country, asn, asOrg })
    await writeCrawl(h, { vantage: 'geo', startedAt: Date.now() - 1000, endedAt: Date.now(), options: {} }, [
      node('a', '8.8.8.8', 'US', 15169, 'Google LLC'),
      node('b', '5.9.1.1', 'DE', 24940, 'Hetzner Online GmbH'),
      node('c', '5.9.1.2', 'DE', 24940, 'Hetzner Online GmbH'),
      node('d', '80.1.1.1', 'FI', 1759, 'Telia Finland Oyj'),
    ])
    await h.close()
    const s = await stats(['--db', `sqlite:${file}`])
    const g = s['geo'] as { countries: { country: string; nodes: number }[]; ases: { asn: number; nodes: number; hosting: boolean }[]; hosted: number; withAsn: number; hostingShare: number }
    assert.deepEqual(g.countries, [{ country: 'DE', nodes: 2 }, { country: 'FI', nodes: 1 }, { country: 'US', nodes: 1 }])
    assert.deepEqual(g.ases.map((a) => [a.asn, a.nodes, a.hosting]), [[24940, 2, true], [1759, 1, false], [15169, 1, true]])
    assert.deepEqual([g.hosted, g.withAsn, g.hostingShare], [3, 4, 0.75])
    const text = run(['stats', '--db', `sqlite:${file}`])
    assert.equal(await text.exit, 0, text.stderr())
    assert.match(text.stdout(), /Answering nodes by country and autonomous system \(latest crawl #1\):\n/)
    assert.match(text.stdout(), /\nDE +2 +50\.0 %\n/)
    assert.match(text.stdout(), /\nAS24940 \* +Hetzner Online GmbH +2 +50\.0 %\n/)
    assert.match(text.stdout(), /on well-known hosting ASes \(\*\): 3 of 4 nodes with a known AS \(75\.0 %\)/)
  })

  it('bad arguments exit 2 with a one-line reason', async () => {
    const cases = [
      ['monitor'],
      ['monitor', '--testnet', '5', '--every', '0s'],
      ['monitor', '--testnet', '5', '--every', 'soon'],
      ['monitor', '--testnet', '5', '--db', 'mysql://x'],
      ['monitor', '--testnet', '5', '--vantage', 'a b'],
      ['monitor', '--testnet', '5', '--http', 'nowhere'],
      ['monitor', '--network', 'mainnet', '--loss', '0.1'],
      ['monitor', '--testnet', '5', '--protocols', 'v6'],
      ['monitor', '--testnet', '5', '--geoip-dir', join(dir, 'no-geoip')],
      ['stats', '--datadir', join(dir, 'none')],
      ['stats', '--db', 'sqlite:'],
      ['stats', '--db', 'sqlite:x', '--datadir', dir],
    ]
    for (const args of cases) {
      const r = run(args)
      assert.equal(await r.exit, 2, `${args.join(' ')}: ${r.stderr()}`)
      assert.equal(r.stderr().trim().split('\n').length, 1, r.stderr())
    }
  })
})

describe('ethp2p monitor on PostgreSQL', () => {
  it('two monitors with different --vantage share one database: every crawl stored, one row per node', async () => {
    const url = await testDatabase()
    const net = run(['testnet', '--nodes', '40', '--duration', '300'])
    const boot = await new Promise<string>((resolve) => createInterface({ input: net.child.stdout! }).once('line', resolve))
    const a = run(['monitor', '--bootnodes', boot, '--every', '1s', '--crawls', '3', '--db', url, '--vantage', 'east', '--dial', '--datadir', join(dir, 'pg-east')])
    const b = run(['monitor', '--bootnodes', boot, '--every', '1s', '--crawls', '3', '--db', url, '--vantage', 'west', '--dial', '--datadir', join(dir, 'pg-west')])
    assert.equal(await a.exit, 0, a.stderr())
    assert.equal(await b.exit, 0, b.stderr())
    net.child.kill('SIGINT')
    await net.exit
    const stored = [...lines(a.stdout()), ...lines(b.stdout())]
    assert.equal(stored.length, 6)

    const h = await openHistory({ engine: 'postgres', url })
    try {
      const crawls = await h.db.selectFrom('crawls').selectAll().orderBy('id').execute()
      assert.deepEqual(crawls.map((c) => c.vantage).sort(), ['east', 'east', 'east', 'west', 'west', 'west'])
      assert.deepEqual(crawls.map((c) => c.id).sort((x, y) => x - y), stored.map((s) => s['crawl'] as number).sort((x, y) => x - y))
      for (const c of crawls) {
        const v = await h.db.selectFrom('visits').select((eb) => eb.fn.countAll<number>().as('n')).where('crawl_id', '=', c.id).executeTakeFirstOrThrow()
        assert.equal(Number(v.n), c.found, `crawl ${c.id}: every node it found has its visit`)
        assert.ok(c.found >= 40)
      }
      const nodes = await h.db.selectFrom('nodes').select(['id', 'pubkey']).execute()
      assert.equal(new Set(nodes.map((n) => n.pubkey)).size, nodes.length)
      // the testnet's live nodes were seen from both vantage points, through the same node rows
      const both = await h.db
        .selectFrom('visits as v')
        .innerJoin('crawls as c', 'c.id', 'v.crawl_id')
        .select('v.node')
        .where('v.answered', '=', 1)
        .groupBy('v.node')
        .having((eb) => eb.fn.count('c.vantage').distinct(), '=', 2)
        .execute()
      assert.ok(both.length >= 36, `${both.length} nodes answered both vantage points`)
    } finally {
      await h.close()
    }
  })
})
