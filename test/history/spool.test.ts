/**
 * The monitor's spool on a real directory: crawls come back as they went in (records and edges), in
 * start order, across a reopen; a put cut short leaves nothing; the bounds drop the oldest first; a
 * refused disk holds crawls in memory; damaged and foreign files are refused with a typed error.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { after, describe, it } from 'node:test'
import fc from 'fast-check'
import { pino } from 'pino'
import type { Logger } from '../../src/util/log.js'
import { EdgeList } from '../../src/history/edges.js'
import { Spool, spoolDir } from '../../src/history/spool.js'
import { decodeSpooled, encodeSpooled, SpoolFormatError, type SpooledCrawl } from '../../src/history/spooled.js'
import { key, rec, T0 } from './fixtures.js'

const dir = mkdtempSync(join(tmpdir(), 'ethp2p-spool-'))
after(() => rmSync(dir, { recursive: true, force: true }))

/** a logger that keeps its lines */
function captured(): { log: Logger; msgs: () => string[] } {
  const lines: string[] = []
  return { log: pino({ level: 'info', base: undefined }, { write: (s: string) => void lines.push(s) }), msgs: () => lines.map((l) => (JSON.parse(l) as { msg: string }).msg) }
}

function crawl(startedAt: number, nodes = 3, edges = false): SpooledCrawl {
  const records = Array.from({ length: nodes }, (_, i) => rec(key('0123456789abcdef'[i % 16]!), i % 2 === 0, { caps: ['eth/68'], protocols: ['v4'] }))
  const out: SpooledCrawl = { meta: { vantage: 'v', startedAt, endedAt: startedAt + 500, options: { testnet: 3 }, interrupted: false, key: randomUUID() }, records }
  if (edges) {
    const e = new EdgeList()
    e.add(key('0'), key('1'), 255)
    e.add(key('1'), key('2'), 256)
    e.add(key('0'), key('2'), 254)
    out.edges = e
  }
  return out
}

describe('spool', () => {
  it('a crawl comes back as it went in, edges included; files are named in start order and survive a reopen', async () => {
    const d = join(dir, 'a')
    const { log } = captured()
    const s = await Spool.open(d, log)
    const second = crawl(T0 + 60_000, 5, true)
    const first = crawl(T0, 3)
    await s.put(first)
    await s.put(second)
    assert.equal(s.size, 2)
    assert.equal(s.newestStart(), T0 + 60_000)
    // no temp file is left behind; each name starts with the crawl's start
    assert.deepEqual(readdirSync(d).sort(), [`${String(T0).padStart(15, '0')}-${first.meta.key}.crawl.gz`, `${String(T0 + 60_000).padStart(15, '0')}-${second.meta.key}.crawl.gz`])

    const again = await Spool.open(d, log)
    assert.equal(again.size, 2)
    assert.equal(again.bytes, s.bytes)
    const back = await again.read(again.oldest()!)
    assert.deepEqual(back, first)
    const newer = await again.read(again.newest()!)
    assert.deepEqual(newer.meta, second.meta)
    assert.deepEqual(newer.records, second.records)
    assert.deepEqual([...newer.edges!], [...second.edges!])
    await again.remove(again.oldest()!)
    assert.equal(again.oldest()!.startedAt, T0 + 60_000)
    assert.equal(readdirSync(d).length, 1)
  })

  it('a put cut short by a kill (a temp file) is removed at open and never read as a crawl', async () => {
    const d = join(dir, 'b')
    const { log } = captured()
    const s = await Spool.open(d, log)
    const c = crawl(T0)
    await s.put(c)
    const half = encodeSpooled(crawl(T0 + 1)).subarray(0, 20)
    writeFileSync(join(d, `${String(T0 + 1).padStart(15, '0')}-${randomUUID()}.crawl.gz.tmp`), half)
    const again = await Spool.open(d, log)
    assert.equal(again.size, 1)
    assert.equal((await again.read(again.oldest()!)).meta.key, c.meta.key)
    assert.equal(readdirSync(d).length, 1)
  })

  it('bounded: past maxCrawls or maxBytes the oldest crawls are dropped first, each logged', async () => {
    const { log, msgs } = captured()
    const s = await Spool.open(join(dir, 'c'), log, { maxCrawls: 3, maxBytes: 1 << 30 })
    const keys: string[] = []
    for (let k = 0; k < 5; k++) {
      const c = crawl(T0 + k * 1000)
      keys.push(c.meta.key)
      await s.put(c)
    }
    assert.equal(s.size, 3)
    assert.equal(s.oldest()!.startedAt, T0 + 2000)
    assert.equal(msgs().filter((m) => m.startsWith('spool full')).length, 2)

    const one = encodeSpooled(crawl(T0, 40)).length
    const b = await Spool.open(join(dir, 'd'), log, { maxCrawls: 100, maxBytes: 2 * one + one / 2 })
    for (let k = 0; k < 4; k++) await b.put(crawl(T0 + k * 1000, 40))
    assert.ok(b.bytes <= 2 * one + one / 2, `${b.bytes} bytes`)
    assert.deepEqual([b.oldest()!.startedAt, b.newestStart()], [T0 + 2000, T0 + 3000])
  })

  it('a disk that refuses the file: the crawl is held in memory, said once, and read back from there', async () => {
    const d = join(dir, 'e')
    const { log, msgs } = captured()
    const s = await Spool.open(d, log)
    rmSync(d, { recursive: true })
    const a = crawl(T0)
    const b = crawl(T0 + 1000)
    await s.put(a)
    await s.put(b)
    assert.equal(s.size, 2)
    assert.equal(msgs().filter((m) => m.startsWith('cannot write the spool')).length, 1)
    assert.deepEqual(await s.read(s.oldest()!), a)
    await s.remove(s.oldest()!)
    assert.equal((await s.read(s.oldest()!)).meta.key, b.meta.key)
  })

  it('a damaged file is refused with SpoolFormatError and can be set aside', async () => {
    const d = join(dir, 'f')
    const { log } = captured()
    const s = await Spool.open(d, log)
    const e = await s.put(crawl(T0))
    const file = join(d, e.name)
    const bytes = readFileSync(file)
    bytes[bytes.length - 6]! ^= 0xff
    writeFileSync(file, bytes)
    await assert.rejects(s.read(e), SpoolFormatError)
    const aside = await s.setAside(e)
    assert.equal(s.size, 0)
    assert.deepEqual(readdirSync(d), [`${e.name}.corrupt`])
    assert.equal(aside, join(d, `${e.name}.corrupt`))
    // a reopen does not take it for a crawl
    assert.equal((await Spool.open(d, log)).size, 0)
  })

  it('decodeSpooled refuses whatever is not a spooled crawl, with SpoolFormatError and never anything else', () => {
    const good = JSON.parse(JSON.stringify({ v: 1, meta: crawl(T0).meta, records: crawl(T0).records })) as Record<string, unknown>
    const bad: unknown[] = [
      { ...good, v: 2 },
      { ...good, meta: { ...(good['meta'] as object), key: 'not-a-uuid' } },
      { ...good, meta: { ...(good['meta'] as object), startedAt: -1 } },
      { ...good, records: [{ id: 'x' }] },
      { ...good, records: [{ ...(good['records'] as object[])[0], caps: 'eth/68' }] },
      { ...good, edges: { keys: [key('0')], list: [0, 5, 255] } },
      { ...good, edges: { keys: [key('0')], list: [0, 0] } },
      [],
      null,
    ]
    for (const b of bad) assert.throws(() => decodeSpooled(gzipSync(JSON.stringify(b))), SpoolFormatError, JSON.stringify(b).slice(0, 200))
    assert.throws(() => decodeSpooled(Buffer.from('plain text')), SpoolFormatError)
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, zipped) => {
        try {
          decodeSpooled(zipped ? gzipSync(bytes) : bytes)
        } catch (err) {
          assert.ok(err instanceof SpoolFormatError, String(err))
        }
      }),
    )
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        assert.throws(() => decodeSpooled(gzipSync(JSON.stringify(v) ?? 'null')), SpoolFormatError)
      }),
    )
  })

  it('one directory per vantage point, whatever characters its name has', () => {
    const names = ['lab', '..', 'a/b', 'a%2Fb', 'x*y', 'v.1']
    const dirs = names.map((n) => spoolDir('/data', n))
    assert.equal(new Set(dirs).size, names.length)
    for (const d of dirs) assert.match(d, /^\/data\/spool\/[^/]+$/)
    assert.equal(spoolDir('/data', 'lab'), '/data/spool/lab')
  })
})
