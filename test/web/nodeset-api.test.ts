/**
 * The dashboard's `/api/nodeset` over a stored crawl (json, csv, enodes, nodes.json; bad parameters
 * refused), and the README's API table: every path the server serves is in it, and every path in it
 * is served.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { backend } from '../../src/crypto/backend.js'
import { hex } from '../../src/crypto/bytes.js'
import { ENR } from '../../src/enode/enr.js'
import { parseEnode } from '../../src/enode/url.js'
import { openHistory, type History } from '../../src/history/db.js'
import { writeCrawl } from '../../src/history/write.js'
import { serveDashboard, type Dashboard } from '../../src/web/server.js'
import { generateCrawl, T0, type Truth } from '../nodeset/fixtures.js'

const root = join(import.meta.dirname, '../..')
const dir = mkdtempSync(join(tmpdir(), 'ethp2p-nodeset-api-'))
const nodes = generateCrawl(40)
let h: History
let dash: Dashboard

before(async () => {
  h = await openHistory({ engine: 'sqlite', file: join(dir, 'h.sqlite') })
  // an older crawl in which nobody answered, then the generated one
  await writeCrawl(h, { vantage: 'lab', startedAt: T0 - 3600_000, endedAt: T0 - 3000_000, options: {} }, nodes.map((g) => ({ ...g.record, answered: false })))
  await writeCrawl(h, { vantage: 'lab', startedAt: T0, endedAt: T0 + 60_000, options: {} }, nodes.map((g) => g.record))
  dash = await serveDashboard('127.0.0.1:0', h)
})
after(async () => {
  await dash?.close()
  await h?.close()
  rmSync(dir, { recursive: true, force: true })
})

const get = async (path: string): Promise<{ status: number; type: string; text: string }> => {
  const r = await fetch(new URL(path, dash.url))
  return { status: r.status, type: r.headers.get('content-type') ?? '', text: await r.text() }
}
const ids = (pred: (t: Truth) => boolean): string[] =>
  nodes
    .filter((g) => pred(g.truth))
    .map((g) => g.record.id)
    .sort()

describe('GET /api/nodeset', () => {
  it('json: the latest crawl, the matched count and exactly the matching nodes with their scores', async () => {
    const r = await get('/api/nodeset?network=mainnet&client=geth&min-version=1.14&synced=1')
    assert.equal(r.status, 200, r.text)
    assert.match(r.type, /^application\/json/)
    const body = JSON.parse(r.text) as { crawl: { id: number }; matched: number; nodes: { id: string; score: number }[] }
    assert.equal(body.crawl.id, 2)
    const want = ids((t) => t.net === 'mainnet' && t.client === 'geth' && (t.version![0]! > 1 || t.version![1]! >= 14) && t.synced === true)
    assert.ok(want.length > 0)
    assert.deepEqual(body.nodes.map((n) => n.id).sort(), want)
    assert.equal(body.matched, want.length)
    // the first crawl missed everyone: a node answering now has score 1
    for (const n of body.nodes) assert.equal(n.score, nodes.find((g) => g.record.id === n.id)!.truth.answered ? 1 : 0)
  })

  it('csv, enodes and nodes.json export the same nodes; crawl=N picks a stored crawl', async () => {
    const want = ids((t) => t.answeredOn.includes('v5') && t.country === 'US')
    assert.ok(want.length > 0)
    const csv = await get('/api/nodeset?protocol=v5&country=US&format=csv')
    assert.equal(csv.status, 200)
    assert.match(csv.type, /^text\/csv/)
    const rows = csv.text.trimEnd().split('\n')
    assert.equal(rows[0]!.split(',')[0], 'id')
    assert.deepEqual(rows.slice(1).map((l) => l.split(',')[0]).sort(), want)
    const enodes = await get('/api/nodeset?protocol=v5&country=US&format=enodes')
    assert.match(enodes.type, /^text\/plain/)
    assert.deepEqual(enodes.text.trimEnd().split('\n').map((l) => hex(parseEnode(l).pubkey)).sort(), want)
    const set = JSON.parse((await get('/api/nodeset?protocol=v5&country=US&format=nodes.json')).text) as Record<string, { record: string }>
    for (const [id, e] of Object.entries(set)) assert.equal(hex(ENR.parseText(e.record).nodeId), id)
    assert.deepEqual(Object.keys(set).sort(), want.map((id) => hex(backend.keccak256(Buffer.from(id, 'hex')))).sort())
    // in the first crawl nobody answered: none answered on v5
    const old = JSON.parse((await get('/api/nodeset?crawl=1&protocol=v5')).text) as { crawl: { id: number }; nodes: unknown[] }
    assert.equal(old.crawl.id, 1)
    assert.deepEqual(old.nodes, [])
    const limited = JSON.parse((await get('/api/nodeset?limit=4&format=json')).text) as { matched: number; nodes: { score: number }[] }
    assert.equal(limited.nodes.length, 4)
    assert.equal(limited.matched, nodes.length)
    assert.ok(limited.nodes.every((n) => n.score === 1))
  })

  it('refuses bad parameters with 400 and a reason, and answers 404 for a crawl that is not there', async () => {
    for (const [q, reason] of [
      ['network=goerli', /^network: /],
      ['min-version=1.14', /^min-version: needs client/],
      ['format=xml', /^format: /],
      ['crawl=abc', /^crawl: /],
      ['answered-within=soon', /^answered-within: /],
      ['limit=-1', /^limit: /],
      ['colour=blue', /^colour: not a parameter/],
    ] as const) {
      const r = await get(`/api/nodeset?${q}`)
      assert.equal(r.status, 400, q)
      assert.match((JSON.parse(r.text) as { error: string }).error, reason)
    }
    const missing = await get('/api/nodeset?crawl=99')
    assert.equal(missing.status, 404)
    assert.match(missing.text, /no crawl 99/)
  })
})

describe("the README's API table", () => {
  /** paths in the table, PUBKEY for the public key */
  const documented = (): string[] => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8')
    return [...readme.matchAll(/^\| `(\/[^`?]*)(?:\?[^`]*)?` \|/gm)].map((m) => m[1]!)
  }
  /** paths the server's source serves: its route table, its own branches, the node pattern as PUBKEY */
  const served = (): string[] => {
    const src = readFileSync(join(root, 'src/web/server.ts'), 'utf8')
    const literal = [...src.matchAll(/'(\/(?:api|report)[^'?]*)'/g), ...src.matchAll(/path === '(\/[^']*)'/g)].map((m) => m[1]!)
    const patterns = [...src.matchAll(/\/\^\\\/api\\\/nodes\\\/\(\[0-9a-fA-F\]\{128\}\)\$\//g)].map(() => '/api/nodes/PUBKEY')
    return [...new Set([...literal, ...patterns])].sort()
  }

  it('lists every path the server serves, and nothing else', () => {
    const doc = documented()
    assert.ok(doc.length >= 12, doc.join(' '))
    assert.deepEqual([...new Set(doc)].sort(), served())
  })

  it('every documented path answers (none is 404 "not found")', async () => {
    const pubkey = nodes[0]!.record.id
    for (const path of documented()) {
      const q = path === '/api/series' ? '?dim=client' : path === '/api/adoption' ? '?client=geth' : ''
      const r = await get(path.replace('PUBKEY', pubkey) + q)
      assert.equal(r.status, 200, `${path}: ${r.status} ${r.text.slice(0, 100)}`)
    }
  })
})
