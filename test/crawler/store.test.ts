/** The crawl store's dial info: kept across crawls and reopens, replaced by a new dial, compared by --since. */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import type { DialResult } from '../../src/crawler/dialer.js'
import { mergeDial } from '../../src/crawler/output.js'
import type { CrawlRecord } from '../../src/crawler/record.js'
import { compareCrawls, CrawlStore, snapshotCrawl } from '../../src/crawler/store.js'

const dirs: string[] = []
const stores: CrawlStore[] = []
after(async () => {
  for (const s of stores) await s.close().catch(() => undefined)
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

function openStore(dir = mkdtempSync(join(tmpdir(), 'ethp2p-store-'))): { store: CrawlStore; dir: string } {
  if (!dirs.includes(dir)) dirs.push(dir)
  const store = CrawlStore.open(dir)
  stores.push(store)
  return { store, dir }
}

/** a discovery record, seen long ago so the dial's time cannot be mistaken for it */
function rec(id: string, extra: Partial<CrawlRecord> = {}): CrawlRecord {
  const seen = new Date('2024-01-01T00:00:00Z').toISOString()
  return { id: id.repeat(128), ip: '10.0.0.1', udp: 30303, tcp: 30303, enr: 'enr:-x', seq: 1, firstSeen: seen, lastSeen: seen, answered: true, eth2: false, ...extra }
}

const GETH = 'Geth/v1.14.11-stable-f3c696fa/linux-amd64/go1.23.2'

/** a dial that got a Hello and an eth/68 Status */
function eth68(clientId = GETH): DialResult {
  return {
    clientId,
    client: { name: 'geth', version: clientId.split('/')[1]!, os: 'linux', arch: 'amd64', runtime: 'go1.23.2' },
    caps: ['eth/68', 'snap/1'],
    listenPort: 30303,
    p2pVersion: 5,
    ethVersion: 68,
    networkId: 1,
    forkId: { hash: '9f3d2254', next: 0 },
    chain: 'mainnet',
    genesis: 'd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3',
    head: 'aa'.repeat(32),
    td: '58750003716598352816469',
    disconnect: { reason: 'disconnect requested', code: 0, by: 'local' },
    timings: { rlpx: 5, hello: 10, status: 20, total: 30 },
  }
}

/** the fields a dial result leaves in the store (timings are the dial's business, not the node's) */
function stored(d: DialResult): Omit<DialResult, 'timings'> {
  const { timings: _timings, ...fields } = d
  return fields
}

describe('CrawlStore dial info', () => {
  it('keeps what a dial learnt across a reopen, stamped with the time of the dial', async () => {
    const { store, dir } = openStore()
    const before = Date.now()
    await store.put(mergeDial(rec('a'), eth68()))
    // known only from dialling us
    await store.put(mergeDial(rec('g', { answered: false }), undefined, eth68()))
    await store.flush()
    const afterPut = Date.now()
    await store.close()
    const again = openStore(dir).store
    const dial = again.get(rec('a').id)?.dial
    assert.ok(dial, 'dial info stored')
    const { dialledAt, ...fields } = dial
    assert.deepEqual(fields, stored(eth68()))
    assert.ok(dialledAt >= before && dialledAt <= afterPut, `dialledAt ${dialledAt} is the put's time, not lastSeen's`)
    const { dialledAt: _t, ...visit } = again.get(rec('g').id)?.dial ?? { dialledAt: 0 }
    assert.deepEqual(visit, { ...stored(eth68()), inbound: true })
  })

  it('a later record without dial information keeps the stored dial', async () => {
    const { store } = openStore()
    await store.put(mergeDial(rec('b'), eth68()))
    const first = store.get(rec('b').id)?.dial
    assert.ok(first)
    // a crawl without --dial; then one whose dial never happened
    await store.put(rec('b', { answered: false, error: 'no answer before the crawl ended' }))
    assert.deepEqual(store.get(rec('b').id)?.dial, first)
    await store.put(mergeDial(rec('b'), { error: 'not dialled: dial queue full', timings: { total: 0 } }))
    assert.deepEqual(store.get(rec('b').id)?.dial, first)
  })

  it('a later dial replaces the stored one whole, a failed dial too', async () => {
    const { store } = openStore()
    await store.put(mergeDial(rec('c'), eth68()))
    const first = store.get(rec('c').id)!.dial!
    await new Promise((resolve) => setTimeout(resolve, 5))
    // eth/69: no td, latest and earliest block instead
    const { td: _td, ...newer } = eth68('Geth/v1.15.0-stable-756cca7c/linux-amd64/go1.23.2')
    const upgraded: DialResult = { ...newer, ethVersion: 69, caps: ['eth/69'], latestBlock: 22_000_000, earliestBlock: 0 }
    await store.put(mergeDial(rec('c'), upgraded))
    const second = store.get(rec('c').id)!.dial!
    const { dialledAt, ...fields } = second
    assert.deepEqual(fields, stored(upgraded), 'no field of the old dial (td) outlives it')
    assert.ok(dialledAt > first.dialledAt)
    // the node stopped taking connections: that is what its latest dial learnt
    await store.put(mergeDial(rec('c'), { error: 'rlpx: connect ECONNREFUSED 10.0.0.1:30303', timings: { total: 1 } }))
    const { dialledAt: _t, ...failed } = store.get(rec('c').id)!.dial!
    assert.deepEqual(failed, { error: 'rlpx: connect ECONNREFUSED 10.0.0.1:30303' })
  })

  it("stores the dial's error, never discovery's", async () => {
    const { store } = openStore()
    const unanswered = { answered: false, error: 'ping to 10.0.0.1:30303 timed out' }
    const merged = mergeDial(rec('d', unanswered), { error: 'hello: peer sent disconnect: too many peers', timings: { total: 3 } })
    // the record keeps the two apart too
    assert.equal(merged.error, 'ping to 10.0.0.1:30303 timed out')
    assert.equal(merged.dialError, 'hello: peer sent disconnect: too many peers')
    await store.put(merged)
    assert.equal(store.get(rec('d').id)?.dial?.error, 'hello: peer sent disconnect: too many peers')
    // dialled fine although discovery failed: no error is the dial's
    await store.put(mergeDial(rec('e', unanswered), eth68()))
    const dial = store.get(rec('e').id)?.dial
    assert.ok(dial)
    assert.equal(dial.clientId, GETH)
    assert.equal(dial.error, undefined)
    // discovery's error alone is no dial
    await store.put(rec('f', unanswered))
    assert.equal(store.get(rec('f').id)?.dial, undefined)
  })
})

describe('compareCrawls', () => {
  it('counts a node whose client id changed as changed, one with the same client id as same', async () => {
    const { store } = openStore()
    for (const id of ['1', '2', '3']) await store.put(mergeDial(rec(id), eth68()))
    const current = [
      mergeDial(rec('1'), eth68('Geth/v1.15.0-stable-756cca7c/linux-amd64/go1.23.2')),
      mergeDial(rec('2'), eth68()),
      // no Hello this time: nothing to say about its client
      mergeDial(rec('3'), { error: 'rlpx: connect ETIMEDOUT', timings: { total: 5000 } }),
    ]
    assert.deepEqual(compareCrawls(current, snapshotCrawl(store)), { new: [], gone: [], changed: [rec('1').id], same: 2 })
  })

  it('compares against the earlier crawl even when this crawl writes into the same store', async () => {
    const { store } = openStore()
    for (const id of ['1', '2']) await store.put(mergeDial(rec(id), eth68()))
    await store.flush()
    const before = snapshotCrawl(store)
    // this crawl: 1 upgraded, 2 gone silent, 4 new; written to the store before the comparison, as the CLI does
    const current = [mergeDial(rec('1'), eth68('Geth/v1.15.0-stable/linux-amd64/go1.24.0')), rec('2', { answered: false }), rec('4')]
    for (const r of current) await store.put(r)
    await store.flush()
    assert.deepEqual(compareCrawls(current, before), { new: [rec('4').id], gone: [rec('2').id], changed: [rec('1').id], same: 0 })
  })
})
