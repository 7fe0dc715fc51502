/**
 * A signed tree served by a real DNS server (NSD on a loopback port): the records of a loopback testnet
 * in nodes.json, `ethp2p dns sign` and `dns to-zonefile` through the command line, the zone loaded by
 * NSD, then DnsClient syncs it and `ethp2p crawl --dns URL --dns-server 127.0.0.1:PORT` seeds from it.
 * Two trees: the first links to the second, each in a zone of its own.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { randomPrivateKey } from '../../src/crypto/backend.js'
import { hex } from '../../src/crypto/bytes.js'
import { DnsClient } from '../../src/dnsdisc/client.js'
import { ENR } from '../../src/enode/enr.js'
import { startTestnet, type Testnet } from '../../src/testnet/testnet.js'
import { startNsd, type Nsd } from './nsd.js'

const MAIN = join(import.meta.dirname, '../../src/cli/main.ts')
const dir = mkdtempSync(join(tmpdir(), 'ethp2p-dns-nsd-'))

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    // a crawl that hangs is killed: its --duration bounds it well before this
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000)
    child.once('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

function writeTree(name: string, recs: readonly ENR[]): string {
  const d = join(dir, name)
  mkdirSync(d)
  writeFileSync(join(d, 'nodes.json'), JSON.stringify(Object.fromEntries(recs.map((r) => [hex(r.nodeId), { seq: Number(r.seq), record: r.toText() }])), null, 4))
  return d
}

async function ok(args: string[]): Promise<string> {
  const r = await cli(args)
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`)
  return r.stdout
}

describe('a signed tree served by NSD', () => {
  let testnet: Testnet
  let nsd: Nsd
  let mainRecords: ENR[]
  let extraRecords: ENR[]
  /** a record of a node that is not running, big enough to need two character-strings and TCP */
  let offline: ENR
  let mainUrl: string
  let extraUrl: string

  before(async () => {
    testnet = await startTestnet({ nodes: 40, deadFraction: 0 })
    const recs = testnet.nodes.map((n) => n.enr)
    offline = ENR.sign(randomPrivateKey(), { ip: '127.0.0.1', udp: 9, tcp: 9, extra: { pad: new Uint8Array(150).fill(7) } })
    assert.ok(offline.toText().length > 255)
    mainRecords = [...recs.slice(0, 30), offline]
    extraRecords = recs.slice(30)
    const mainDir = writeTree('main', mainRecords)
    const extraDir = writeTree('extra', extraRecords)
    await ok(['keygen', '--out', join(dir, 'main.key')])
    await ok(['keygen', '--out', join(dir, 'extra.key')])
    extraUrl = (await ok(['dns', 'sign', extraDir, join(dir, 'extra.key'), '--domain', 'extra.ethp2p.test'])).split('\n')[0]!
    mainUrl = (await ok(['dns', 'sign', mainDir, join(dir, 'main.key'), '--domain', 'nodes.ethp2p.test', '--link', extraUrl])).split('\n')[0]!
    nsd = await startNsd([
      { name: 'nodes.ethp2p.test', records: await ok(['dns', 'to-zonefile', mainDir]) },
      { name: 'extra.ethp2p.test', records: await ok(['dns', 'to-zonefile', extraDir]) },
    ])
  })

  after(async () => {
    await nsd?.stop()
    await testnet?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('DnsClient syncs every record of nodes.json and the link from NSD', async () => {
    const client = new DnsClient({ servers: [nsd.address] })
    const tree = await client.resolveTree(mainUrl)
    assert.deepEqual(tree.errors, [])
    assert.equal(tree.truncated, false)
    assert.equal(tree.seq, 1)
    assert.deepEqual(tree.links, [extraUrl])
    assert.deepEqual(tree.records.map((r) => r.toText()).sort(), mainRecords.map((r) => r.toText()).sort())

    // following the link: every node of both trees, each once
    const ids: string[] = []
    for await (const n of client.nodes([mainUrl])) ids.push(n.idHex)
    const want = [...mainRecords, ...extraRecords].map((r) => r.toNode()!.idHex)
    assert.deepEqual(ids.sort(), want.sort())
  })

  it('ethp2p crawl --dns URL --dns-server 127.0.0.1:PORT seeds from the tree and crawls the testnet', async () => {
    const r = await cli(['crawl', '--dns', mainUrl, '--dns-server', nsd.address, '--protocols', 'v4', '--duration', '120'])
    assert.equal(r.code, 0, r.stderr)
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; answered: boolean })
    const byId = new Map(lines.map((l) => [l.id, l]))
    // records name nodes by public key; every testnet node answered: the tree (and its link) were the only seeds
    for (const n of testnet.nodes) assert.equal(byId.get(hex(n.enr.pubkey))?.answered, true, hex(n.enr.pubkey))
    // the node that is only in the tree was tried too, and never answered
    assert.equal(byId.get(hex(offline.pubkey))?.answered, false)
    assert.equal(lines.length, 41)
    assert.doesNotMatch(r.stderr, /DNS discovery/)
  })
})

