/** `ethp2p node` as a user runs it: a child process, its first stdout line, signals, exit codes. */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { randomPrivateKey } from '../../src/crypto/backend.js'
import { hex } from '../../src/crypto/bytes.js'
import { parseEnode } from '../../src/enode/url.js'
import { Discv4 } from '../../src/discover/udp.js'
import { Discv5 } from '../../src/discover/v5/udp.js'
import { ENR } from '../../src/enode/enr.js'
import { formatEnode } from '../../src/enode/url.js'
import { Server } from '../../src/p2p/server.js'
import { ethProtocols } from '../../src/eth/protocol.js'
import { MAINNET } from '../../src/eth/networks.js'
import { until } from '../discover/fakenet.js'

/** one of our servers offering the given eth versions; records the caps of its peers */
async function ethServer(versions: number[]): Promise<{ server: Server; caps: string[] }> {
  const caps: string[] = []
  const server = new Server({ privateKey: randomPrivateKey(), host: '127.0.0.1', port: 0, noDiscovery: true, protocols: ethProtocols({ chain: MAINNET, versions }) })
  servers.push(server)
  server.on('peer:added', (p) => caps.push(...p.caps.map((c) => `${c.name}/${c.version}`)))
  await server.start()
  return { server, caps }
}

const MAIN = join(import.meta.dirname, '../../src/cli/main.ts')
const children: ChildProcess[] = []
const dirs: string[] = []
const open: Discv4[] = []
const servers: Server[] = []
const v5s: Discv5[] = []
after(async () => {
  for (const d of v5s) await d.close()
  for (const s of servers) await s.stop()
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
  for (const d of open) await d.close()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

function run(args: string[]): { child: ChildProcess; firstLine: Promise<string>; exit: Promise<number | null>; stderr: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  let err = ''
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()))
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  const firstLine = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve)
    void exit.then((code) => reject(new Error(`exited ${code} before printing: ${err}`)))
  })
  firstLine.catch(() => undefined) // callers that only want the exit code

  return { child, firstLine, exit, stderr: () => err }
}

describe('ethp2p node', () => {
  it('prints its enode URL, answers discovery, keeps its key across restarts, exits 0 on SIGTERM', async () => {
    const datadir = mkdtempSync(join(tmpdir(), 'ethp2p-node-'))
    dirs.push(datadir)
    const args = ['node', '--datadir', datadir, '--host', '127.0.0.1', '--port', '0', '--ntp', 'none', '--duration', '30']
    const first = run(args)
    const n1 = parseEnode(await first.firstLine)
    assert.match(readFileSync(join(datadir, 'nodekey'), 'utf8'), /^[0-9a-f]{64}$/)
    // a child process just started may still be compiling: allow it more than the 500 ms default
    const probe = await Discv4.listen({ privateKey: randomPrivateKey(), host: '127.0.0.1', port: 0, replyTimeoutMs: 3000 })
    open.push(probe)
    await probe.ping(n1)
    const enr1 = await probe.enrRequest(n1)
    assert.equal(hex(enr1.nodeId), n1.idHex)
    assert.deepEqual(await probe.findnode(n1, probe.randomTarget()), [], 'it knows nobody yet, and says so')
    first.child.kill('SIGTERM')
    assert.equal(await first.exit, 0)
    assert.match(first.stderr(), /"msg":"stopped"/)

    const second = run(args)
    const n2 = parseEnode(await second.firstLine)
    // a second process on the same datadir is refused, and the first keeps running
    const intruder = run(args)
    assert.equal(await intruder.exit, 1)
    assert.match(intruder.stderr(), /in use by process \d+/)
    assert.equal(n2.idHex, n1.idHex, 'same node key')
    const enr2 = await probe.enrRequest(n2)
    assert.ok(enr2.seq > enr1.seq, 'a restart publishes a higher ENR sequence number')
    second.child.kill('SIGINT')
    assert.equal(await second.exit, 0)
  })

  it('serves discv4 and discv5 on one port by default; --discv4=false leaves discv5 alone; FINDNODE at distance 0 is its own record', async () => {
    const both = run(['node', '--host', '127.0.0.1', '--port', '0', '--ntp', 'none', '--duration', '30'])
    const n = parseEnode(await both.firstLine)
    const v4 = await Discv4.listen({ privateKey: randomPrivateKey(), host: '127.0.0.1', port: 0, replyTimeoutMs: 3000 })
    open.push(v4)
    const v5 = await Discv5.listen({ privateKey: randomPrivateKey(), host: '127.0.0.1', port: 0, enr: { ip: '127.0.0.1' }, replyTimeoutMs: 3000 })
    v5s.push(v5)
    await v4.ping(n)
    const enr = await v4.enrRequest(n)
    assert.equal((await v5.ping(enr)).enrSeq, enr.seq)
    const [own] = await v5.findnode(enr, [0])
    assert.equal(own!.toText(), enr.toText(), 'one record for both protocols')
    both.child.kill('SIGTERM')
    assert.equal(await both.exit, 0)

    const only5 = run(['node', '--host', '127.0.0.1', '--port', '0', '--ntp', 'none', '--discv4=false', '--duration', '30'])
    const m = parseEnode(await only5.firstLine)
    await assert.rejects(v4.ping(m, { timeoutMs: 500 }), { code: 'TIMEOUT' })
    await until(() => /"protocols":\["discv5"\]/.test(only5.stderr()), 5000, 'discv5 only')
    const rec = JSON.parse(only5.stderr().split('\n').find((l) => l.includes('node started'))!) as { enr: string }
    assert.equal((await v5.ping(ENR.parseText(rec.enr))).enrSeq, ENR.parseText(rec.enr).seq)
    only5.child.kill('SIGINT')
    assert.equal(await only5.exit, 0)
  })

  it('speaks eth/68 and eth/69 to peers of either generation, serves metrics, reads static-nodes.json', async () => {
    const datadir = mkdtempSync(join(tmpdir(), 'ethp2p-node-'))
    dirs.push(datadir)
    // a static node the child dials on its own: one of our servers offering eth/68 only
    const old = await ethServer([68])
    writeFileSync(join(datadir, 'static-nodes.json'), JSON.stringify([formatEnode(old.server.localNode), 'enode://bogus']))
    const r = run(['node', '--datadir', datadir, '--host', '127.0.0.1', '--port', '0', '--ntp', 'none', '--nodiscover', '--metrics', '127.0.0.1:0', '--duration', '30'])
    const n = parseEnode(await r.firstLine)
    const young = await ethServer([69])
    young.server.addStatic(n)
    await until(() => old.caps.length === 1 && young.caps.length === 1, 10_000, 'both peers connected')
    assert.deepEqual([old.caps[0], young.caps[0]], ['eth/68', 'eth/69'])
    assert.match(r.stderr(), /skipping bad node entry/)
    const port = Number(/"port":(\d+),"msg":"metrics at \/metrics"/.exec(r.stderr())?.[1])
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
    assert.match(text, /ethp2p_peers\{direction="inbound"\} 1/)
    assert.match(text, /ethp2p_peers\{direction="outbound"\} 1/)
    r.child.kill('SIGTERM')
    assert.equal(await r.exit, 0)
  })

  it('refuses bad arguments with exit code 2 and a one-line reason', async () => {
    for (const bad of [['--port', '70000'], ['--nodekeyhex', 'zz'], ['--bootnodes', 'enode://00@1.2.3.4:1'], ['--host', 'example.org'], ['--nat', 'upnp-ish'], ['--netrestrict', '10.0.0.0/33'], ['--maxpeers', '0'], ['--network', 'ropsten']]) {
      const r = run(['node', '--ntp', 'none', ...bad])
      assert.equal(await r.exit, 2, bad.join(' '))
      assert.equal(r.stderr().trim().split('\n').length, 1, r.stderr())
    }
  })
})
