import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { fromHex } from '../../src/crypto/bytes.js'
import { DatadirLockedError, lockDatadir } from '../../src/discover/datadir-lock.js'
import { NodeDB } from '../../src/discover/nodedb.js'
import { randomNode } from './fakenet.js'

const dirs: string[] = []
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'ethp2p-nodedb-'))
  dirs.push(d)
  return d
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

const HOUR = 3600_000
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** the behaviour both stores must share */
for (const kind of ['memory', 'lmdb'] as const) {
  const open = (opts: ConstructorParameters<typeof NodeDB>[0] = {}) => new NodeDB(kind === 'lmdb' ? { path: tempDir(), ...opts } : opts)

  describe(`NodeDB (${kind})`, () => {
    it('stores and deletes node records with their ENR', async () => {
      const db = open()
      const n = randomNode('1.2.3.4', 30303)
      const enr = Uint8Array.of(0xf8, 1, 2, 3)
      await db.updateNode(n, enr)
      const got = db.node(n.id)
      assert.ok(got)
      assert.ok(got.node.equals(n))
      assert.deepEqual(got.enr, enr)
      await db.updateLastPongReceived(n.id, n.ip, 5)
      await db.deleteNode(n.id)
      assert.equal(db.node(n.id), undefined)
      assert.equal(db.lastPongReceived(n.id, n.ip), 0, 'endpoint data went with the node')
      await db.close()
    })

    it('keeps ping, pong and findnode failures per ID and IP', async () => {
      const db = open()
      const n = randomNode('1.2.3.4')
      await db.updateLastPingReceived(n.id, '1.2.3.4', 1000)
      await db.updateLastPongReceived(n.id, '1.2.3.4', 2000)
      await db.updateFindFails(n.id, '1.2.3.4', 3)
      assert.equal(db.lastPingReceived(n.id, '1.2.3.4'), 1000)
      assert.equal(db.lastPongReceived(n.id, '1.2.3.4'), 2000)
      assert.equal(db.findFails(n.id, '1.2.3.4'), 3)
      // the IPv4-mapped form is the same endpoint; another IP is not
      assert.equal(db.lastPongReceived(n.id, '::ffff:1.2.3.4'), 2000)
      assert.equal(db.lastPongReceived(n.id, '1.2.3.5'), 0)
      assert.equal(db.findFails(n.id, '1.2.3.5'), 0)
      assert.equal(db.lastPongReceived(randomNode().id, '1.2.3.4'), 0)
      await assert.rejects(db.updateFindFails(n.id, 'nope', 1), { name: 'InvalidIPError' })
      await db.close()
    })

    it('stores the local ENR sequence number and local values', async () => {
      const db = open()
      assert.equal(db.localSeq(), 0n)
      await db.storeLocalSeq(2n ** 63n + 5n)
      assert.equal(db.localSeq(), 2n ** 63n + 5n)
      await db.localPut('nat', { ip: '5.6.7.8' })
      assert.deepEqual(db.localGet('nat'), { ip: '5.6.7.8' })
      await db.close()
    })

    it('returns distinct random seeds that answered within maxAge', async () => {
      const db = open()
      const now = Date.now()
      const recent = Array.from({ length: 40 }, (_, i) => randomNode(`1.2.${i}.1`))
      const old = Array.from({ length: 20 }, (_, i) => randomNode(`1.3.${i}.1`))
      for (const n of recent) {
        await db.updateNode(n)
        await db.updateLastPongReceived(n.id, n.ip, now - HOUR)
      }
      for (const n of old) {
        await db.updateNode(n)
        await db.updateLastPongReceived(n.id, n.ip, now - 10 * 24 * HOUR)
      }
      const recentIds = new Set(recent.map((n) => n.idHex))
      const union = new Set<string>()
      for (let q = 0; q < 5; q++) {
        const seeds = db.querySeeds(10, 5 * 24 * HOUR)
        assert.equal(seeds.length, 10, 'as many as asked for, when there are enough')
        assert.equal(new Set(seeds.map((s) => s.idHex)).size, seeds.length, 'distinct')
        for (const s of seeds) {
          assert.ok(recentIds.has(s.idHex), 'only recently seen nodes')
          union.add(s.idHex)
        }
      }
      assert.ok(union.size > 10, `queries are random (${union.size} distinct over 5 queries)`)
      assert.deepEqual(open().querySeeds(5, HOUR), [], 'empty database')
      await db.close()
    })

    it('finds every recent seed of a small database, even one whose ID closely follows another', async () => {
      const db = open()
      const now = Date.now()
      // of 4096 random IDs, the two closest lie about 2^-24 of the ID space apart: a random seek lands
      // between them that rarely, and walking on from wherever it lands must still reach `fresh`
      const pool = Array.from({ length: 4096 }, () => randomNode('1.2.3.4')).sort((a, b) => (a.idHex < b.idHex ? -1 : 1))
      let closest = 0
      const gap = (i: number) => BigInt('0x' + pool[i + 1]!.idHex) - BigInt('0x' + pool[i]!.idHex)
      for (let i = 1; i < pool.length - 1; i++) if (gap(i) < gap(closest)) closest = i
      const [stale, fresh] = [pool[closest]!, pool[closest + 1]!]
      const others = Array.from({ length: 5 }, (_, i) => randomNode(`1.3.${i}.1`))
      for (const n of [stale, fresh, ...others]) await db.updateNode(n)
      for (const n of [stale, ...others]) await db.updateLastPongReceived(n.id, n.ip, now - 10 * 24 * HOUR)
      await db.updateLastPongReceived(fresh.id, fresh.ip, now - HOUR)
      for (let q = 0; q < 20; q++) {
        assert.deepEqual(db.querySeeds(30, 5 * 24 * HOUR).map((s) => s.idHex), [fresh.idHex], `query ${q}`)
      }
      await db.close()
    })

    it('expires stale endpoints and nodes', async () => {
      const db = open()
      const now = Date.now()
      const live = randomNode('1.1.1.1')
      const stale = randomNode('2.2.2.2')
      const neverPonged = randomNode('3.3.3.3')
      await db.updateNode(live)
      await db.updateLastPongReceived(live.id, live.ip, now - HOUR)
      // an old endpoint of the live node goes, the node stays
      await db.updateLastPongReceived(live.id, '1.1.1.2', now - 30 * HOUR)
      await db.updateNode(stale)
      await db.updateLastPongReceived(stale.id, stale.ip, now - 25 * HOUR)
      await db.updateFindFails(stale.id, stale.ip, 2)
      await db.updateNode(neverPonged)
      // a ping-only endpoint of a node we hold no record of: kept while recent
      const pinger = randomNode('4.4.4.4')
      await db.updateLastPingReceived(pinger.id, pinger.ip, now - HOUR)
      const removed = await db.expire(now)
      assert.ok(db.node(live.id))
      assert.equal(db.lastPongReceived(live.id, live.ip), now - HOUR)
      assert.equal(db.lastPongReceived(live.id, '1.1.1.2'), 0)
      assert.equal(db.node(stale.id), undefined)
      assert.equal(db.findFails(stale.id, stale.ip), 0)
      assert.ok(db.node(neverPonged.id), 'a never-ponged node gets 24 h from when it was stored')
      assert.equal(db.lastPingReceived(pinger.id, pinger.ip), now - HOUR)
      assert.equal(removed, 4) // live's old pong + stale's record, pong and fails
      // a day later everything without a fresh pong is gone
      await db.expire(now + 25 * HOUR)
      assert.equal(db.node(live.id), undefined)
      assert.equal(db.node(neverPonged.id), undefined)
      assert.equal(db.lastPingReceived(pinger.id, pinger.ip), 0)
      await db.close()
    })

    it('runs expiry in the background', async () => {
      const db = open({ cleanupIntervalMs: 10 })
      const n = randomNode('1.1.1.1')
      await db.updateNode(n)
      await db.updateLastPongReceived(n.id, n.ip, Date.now() - 25 * HOUR)
      const deadline = Date.now() + 3000
      while (db.node(n.id) && Date.now() < deadline) await sleep(10)
      assert.equal(db.node(n.id), undefined)
      await db.close()
      await assert.rejects(db.updateNode(n), { name: 'NodeDBClosedError' })
    })

    it('reports a failed background expiry pass and keeps running passes', async () => {
      const errors: unknown[] = []
      const db = open({ cleanupIntervalMs: 10, onExpiryError: (err) => errors.push(err) })
      let passes = 0
      // the pass itself is what fails here (a full disk, a corrupt page); the schedule must survive it
      db.expire = async () => {
        passes++
        throw new Error('disk full')
      }
      const deadline = Date.now() + 3000
      while (errors.length < 2 && Date.now() < deadline) await sleep(10)
      await db.close()
      assert.ok(errors.length >= 2 && passes >= 2, `${errors.length} errors reported of ${passes} passes`)
      assert.equal((errors[0] as Error).message, 'disk full')
    })
  })
}

describe('NodeDB (memory) bounds', () => {
  it('drops the oldest entries beyond its size limit', async () => {
    const db = new NodeDB({ maxMemoryEntries: 50 })
    const nodes = Array.from({ length: 100 }, () => randomNode())
    for (const n of nodes) await db.updateNode(n)
    assert.equal(db.node(nodes[0]!.id), undefined)
    assert.ok(db.node(nodes[99]!.id))
    await db.storeLocalSeq(7n)
    await db.updateNode(randomNode())
    assert.equal(nodes.filter((n) => db.node(n.id)).length, 48, "50 entries: the local value, the newest node and 48 of the list")
    assert.equal(db.localSeq(), 7n, 'local values are never evicted')
    await db.close()
  })
})

describe('NodeDB (lmdb) persistence', () => {
  it('reopens with its data', async () => {
    const path = tempDir()
    const n = randomNode('9.9.9.9')
    let db = new NodeDB({ path })
    await db.updateNode(n)
    await db.updateLastPongReceived(n.id, n.ip, 1234)
    await db.storeLocalSeq(42n)
    await db.close()
    db = new NodeDB({ path })
    assert.ok(db.node(n.id)?.node.equals(n))
    assert.equal(db.lastPongReceived(n.id, n.ip), 1234)
    assert.equal(db.localSeq(), 42n)
    await db.close()
  })

  it('keeps every write reported committed when the writer is killed with SIGKILL', async () => {
    const path = tempDir()
    const fixture = fileURLToPath(new URL('./fixtures/nodedb-writer.ts', import.meta.url))
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, path], { stdio: ['ignore', 'pipe', 'inherit'] })
    const committed: string[] = []
    let buf = ''
    const enough = new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString()
        const lines = buf.split('\n')
        buf = lines.pop()!
        committed.push(...lines)
        if (committed.length >= 200) resolve()
      })
      child.on('exit', (code) => reject(new Error(`writer exited early (${code})`)))
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
    try {
      await enough
      // while it runs, the directory is locked against us
      assert.throws(() => new NodeDB({ path }), (err: unknown) => err instanceof DatadirLockedError && err.pid === child.pid)
    } finally {
      child.kill('SIGKILL')
      clearTimeout(timer)
    }
    await new Promise((r) => child.once('exit', r))
    // its lock is stale now, and everything it reported is there
    const db = new NodeDB({ path })
    const missing = committed.filter((id) => !db.node(fromHex(id)))
    assert.deepEqual(missing, [], `${missing.length} of ${committed.length} committed writes lost`)
    for (const id of committed.slice(0, 20)) assert.ok(db.lastPongReceived(fromHex(id), '10.1.2.3') > 0)
    await db.close()
  })
})

describe('datadir lock', () => {
  it('refuses a second holder in the same process until released', () => {
    const dir = tempDir()
    const lock = lockDatadir(dir)
    assert.throws(() => lockDatadir(dir), (err: unknown) => err instanceof DatadirLockedError && err.pid === process.pid && /in use by process/.test(err.message))
    lock.release()
    lockDatadir(dir).release()
  })

  it('takes over a lock whose owner is gone', () => {
    const dir = tempDir()
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString()
    writeFileSync(join(dir, 'LOCK'), `${gone}\n`)
    const lock = lockDatadir(dir)
    assert.throws(() => lockDatadir(dir), DatadirLockedError)
    lock.release()
  })

  it('refuses a lock held by another live process', () => {
    const dir = tempDir()
    // pid 1 is always alive
    writeFileSync(join(dir, 'LOCK'), '1\n')
    assert.throws(() => lockDatadir(dir), (err: unknown) => err instanceof DatadirLockedError && err.pid === 1)
  })

  it('makes a second NodeDB on the same path fail', async () => {
    const path = tempDir()
    const db = new NodeDB({ path })
    assert.throws(() => new NodeDB({ path }), DatadirLockedError)
    await db.close()
    await new NodeDB({ path }).close()
  })
})
