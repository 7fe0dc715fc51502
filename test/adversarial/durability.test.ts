/**
 * Durability under SIGKILL. The node DB: a writer child doing waves of concurrent writes is killed
 * several times over the same directory; after each kill the DB opens and holds every record the
 * child reported committed (test/discover/nodedb.test.ts kills a one-at-a-time writer once). The node
 * key: `ethp2p node --datadir` is killed at many points of its start-up; the key file, once it
 * exists, never changes and always holds a valid key, and the node that finally starts uses it.
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { backend } from '../../src/crypto/backend.js'
import { hex } from '../../src/crypto/bytes.js'
import { parseNodeKey } from '../../src/config/nodekey.js'
import { NodeDB } from '../../src/discover/nodedb.js'
import { parseEnode } from '../../src/enode/url.js'
import { sleep } from './helpers.js'

const dirs: string[] = []
const children: ChildProcess[] = []
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'ethp2p-durability-'))
  dirs.push(d)
  return d
}

const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'))

/** spawn a TypeScript entry point; its stdout lines go to `onLine` */
function run(args: string[], onLine: (line: string) => void): { child: ChildProcess; exited: Promise<void> } {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { stdio: ['ignore', 'pipe', 'ignore'] })
  children.push(child)
  let buf = ''
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString()
    const lines = buf.split('\n')
    buf = lines.pop()!
    for (const l of lines) onLine(l)
  })
  const exited = new Promise<void>((r) => child.once('exit', () => r()))
  return { child, exited }
}

describe('node DB under SIGKILL', () => {
  it('three writers killed mid-wave over one directory: every committed record survives each kill', async () => {
    const path = tempDir()
    const fixture = fileURLToPath(new URL('./fixtures/nodedb-heavy-writer.ts', import.meta.url))
    const committed: string[] = []
    for (let round = 0; round < 3; round++) {
      const before = committed.length
      // a different stopping point each round, inside a wave's writes most of the time
      const target = before + 300 + round * 97
      const { child, exited } = run([fixture, path, String(round * 1_000_000)], (l) => committed.push(l))
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
      await Promise.race([
        (async () => {
          while (committed.length < target && child.exitCode === null) await sleep(2)
        })(),
        exited,
      ])
      child.kill('SIGKILL')
      clearTimeout(timer)
      await exited
      assert.equal(child.signalCode, 'SIGKILL', `round ${round}: the writer died on its own`)
      assert.ok(committed.length >= target, `round ${round}: only ${committed.length - before} writes before the kill`)
      const db = new NodeDB({ path })
      const missing = committed.filter((id) => !db.node(fromHex(id)))
      assert.deepEqual(missing.length, 0, `round ${round}: ${missing.length} of ${committed.length} committed records lost`)
      for (const id of committed) {
        assert.ok(db.lastPongReceived(fromHex(id), '10.9.8.7') > 0, `pong of ${id.slice(0, 8)}`)
        assert.equal(db.findFails(fromHex(id), '10.9.8.7'), 1)
      }
      await db.close()
    }
  })
})

describe('node key under SIGKILL', () => {
  it('ethp2p node --datadir killed repeatedly during start-up never rewrites or corrupts the key', async () => {
    const datadir = tempDir()
    const keyFile = join(datadir, 'nodekey')
    const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))
    const args = [main, 'node', '--datadir', datadir, '--host', '127.0.0.1', '--port', '0', '--nodiscover', '--ntp', 'none']
    let first: string | undefined
    // kill points spread over start-up: loading tsx, creating the key, opening the DB, listening
    const delays = [50, 150, 300, 450, 600, 800, 1000, 1300, 1700, 2200]
    for (const delay of delays) {
      const { child, exited } = run(args, () => undefined)
      await Promise.race([sleep(delay), exited])
      child.kill('SIGKILL')
      await exited
      if (!existsSync(keyFile)) {
        assert.equal(first, undefined, `the key file vanished (kill at ${delay} ms)`)
        continue
      }
      const text = readFileSync(keyFile, 'utf8')
      assert.doesNotThrow(() => parseNodeKey(text), `key file corrupt after a kill at ${delay} ms: ${JSON.stringify(text)}`)
      first ??= text
      assert.equal(text, first, `key rewritten by the start killed at ${delay} ms`)
    }
    // the node that finally starts announces the key on file
    let enode: string | undefined
    const { child, exited } = run(args, (l) => (enode ??= l))
    for (let i = 0; i < 1500 && enode === undefined && child.exitCode === null; i++) await sleep(10)
    child.kill('SIGKILL')
    await exited
    assert.ok(enode, 'the node printed its enode URL')
    const key = readFileSync(keyFile, 'utf8')
    if (first !== undefined) assert.equal(key, first)
    assert.equal(hex(parseEnode(enode).pubkey), hex(backend.publicKey(parseNodeKey(key))))
  })
})
