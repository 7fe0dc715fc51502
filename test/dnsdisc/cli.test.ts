/** `ethp2p dns sign | to-txt | to-zonefile` as a user runs them: child processes, files, exit codes. */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { backend, randomPrivateKey } from '../../src/crypto/backend.js'
import { hex } from '../../src/crypto/bytes.js'
import { ENR } from '../../src/enode/enr.js'
import { formatLink, hashMatches, isTreeEntry, parseEntry, parseLink, parseRoot, verifyRoot } from '../../src/dnsdisc/tree.js'

const MAIN = join(import.meta.dirname, '../../src/cli/main.ts')
const dir = mkdtempSync(join(tmpdir(), 'ethp2p-dns-cli-'))
after(() => rmSync(dir, { recursive: true, force: true }))

interface Run {
  code: number
  stdout: string
  stderr: string
}

function run(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', MAIN, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0
      resolve({ code, stdout, stderr })
    })
  })
}

function records(n: number): ENR[] {
  return Array.from({ length: n }, (_, i) => ENR.sign(randomPrivateKey(), { ip: '127.0.0.1', udp: 31000 + i, tcp: 31000 + i }))
}

/** a tree directory with nodes.json of `recs` in geth's layout */
function treeDir(name: string, recs: ENR[]): string {
  const d = join(dir, name)
  mkdirSync(d, { recursive: true })
  writeNodes(d, recs)
  return d
}

function writeNodes(d: string, recs: ENR[]): void {
  const set = Object.fromEntries(recs.map((r) => [hex(r.nodeId), { seq: Number(r.seq), record: r.toText(), score: 1, lastCheck: '2025-01-01T00:00:00Z' }]))
  writeFileSync(join(d, 'nodes.json'), JSON.stringify(set, null, 4))
}

function keyFile(name: string): { file: string; pub: Uint8Array } {
  const key = randomPrivateKey()
  const file = join(dir, name)
  writeFileSync(file, hex(key))
  return { file, pub: backend.publicKey(key) }
}

function info(d: string): { url: string; seq: number; signature: string; links?: string[]; lastModified: string } {
  return JSON.parse(readFileSync(join(d, 'enrtree-info.json'), 'utf8'))
}

/** the master-file lines of to-zonefile back into name → TXT value */
function parseZone(text: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith(';')) continue
    const m = /^(\S+)\. (\d+) IN TXT ((?:"[^"\\]*" ?)+)$/.exec(line)
    assert.ok(m, line)
    out.set(m[1]!, [...m[3]!.matchAll(/"([^"\\]*)"/g)].map((x) => x[1]!).join(''))
  }
  return out
}

describe('ethp2p dns', () => {
  const other = keyFile('other.key')
  const LINK_A = formatLink(other.pub, 'a.example.org')
  const LINK_B = formatLink(other.pub, 'b.example.org')

  it("sign prints the URL first and writes geth's enrtree-info.json; to-txt and to-zonefile give the same verifiable records", async () => {
    const recs = records(40)
    const d = treeDir('t1', recs)
    const k = keyFile('t1.key')
    const s = await run(['dns', 'sign', d, k.file, '--domain', 'nodes.example.org', '--link', LINK_A])
    assert.equal(s.code, 0, s.stderr)
    const url = formatLink(k.pub, 'nodes.example.org')
    assert.equal(s.stdout.split('\n')[0], url)
    assert.match(s.stderr, /signed seq 1: 40 records, 1 link/)
    const meta = info(d)
    assert.deepEqual(Object.keys(meta), ['url', 'seq', 'signature', 'links', 'lastModified'])
    assert.equal(meta.url, url)
    assert.equal(meta.seq, 1)
    assert.deepEqual(meta.links, [LINK_A])
    assert.ok(Math.abs(Date.parse(meta.lastModified) - Date.now()) < 3600_000)

    const out = join(dir, 't1.txt.json')
    const t = await run(['dns', 'to-txt', d, out])
    assert.equal(t.code, 0, t.stderr)
    const text = readFileSync(out, 'utf8')
    const txt = JSON.parse(text) as Record<string, string>
    assert.deepEqual(Object.keys(txt), Object.keys(txt).sort())
    assert.match(text, /^\{\n {4}"/)
    // the root at the bare domain, signed by the tree's key, with the signature enrtree-info.json keeps
    const root = parseRoot(txt['nodes.example.org']!)
    assert.ok(verifyRoot(root, parseLink(url)))
    assert.equal(root.seq, 1)
    assert.equal(Buffer.from(root.sig).toString('base64url'), meta.signature)
    // every other name is <hash>.<domain>, and the walk from the root reaches every entry once
    const names = Object.keys(txt).filter((n) => n !== 'nodes.example.org')
    for (const n of names) {
      const hash = n.slice(0, -'.nodes.example.org'.length)
      assert.ok(n.endsWith('.nodes.example.org') && hashMatches(hash, txt[n]!) && isTreeEntry(txt[n]!), n)
    }
    const reached = new Set<string>()
    const found: string[] = []
    const links: string[] = []
    const walk = (hash: string): void => {
      assert.ok(!reached.has(hash))
      reached.add(hash)
      const e = parseEntry(txt[`${hash}.nodes.example.org`]!)
      if (e.type === 'branch') e.children.forEach(walk)
      else if (e.type === 'enr') found.push(e.record.toText())
      else links.push(e.link.url)
    }
    walk(root.eroot)
    walk(root.lroot)
    assert.equal(reached.size, names.length)
    assert.deepEqual(found.sort(), recs.map((r) => r.toText()).sort())
    assert.deepEqual(links, [LINK_A])

    // stdout when OUT is "-" or absent
    assert.deepEqual(JSON.parse((await run(['dns', 'to-txt', d])).stdout), txt)
    assert.deepEqual(JSON.parse((await run(['dns', 'to-txt', d, '-'])).stdout), txt)

    const z = await run(['dns', 'to-zonefile', d])
    assert.equal(z.code, 0, z.stderr)
    assert.match(z.stdout, new RegExp(`^; EIP-1459 tree ${url}\n`))
    assert.deepEqual(parseZone(z.stdout), new Map(Object.entries(txt)))
  })

  it('seq: kept for an unchanged tree, previous + 1 for a changed one, --seq as asked (a lower one with a warning)', async () => {
    const recs = records(5)
    const d = treeDir('t2', recs)
    const k = keyFile('t2.key')
    assert.equal((await run(['dns', 'sign', d, k.file, '--domain', 'nodes.example.org'])).code, 0)
    const first = readFileSync(join(d, 'enrtree-info.json'), 'utf8')

    // again, the domain taken from enrtree-info.json: nothing to sign, the file untouched
    const again = await run(['dns', 'sign', d, k.file])
    assert.equal(again.code, 0, again.stderr)
    assert.equal(again.stdout.split('\n')[0], formatLink(k.pub, 'nodes.example.org'))
    assert.match(again.stderr, /unchanged since seq 1/)
    assert.equal(readFileSync(join(d, 'enrtree-info.json'), 'utf8'), first)

    writeNodes(d, [...recs, ...records(1)])
    assert.equal((await run(['dns', 'sign', d, k.file])).code, 0)
    assert.equal(info(d).seq, 2)
    // links are kept from enrtree-info.json once given; a new --link list replaces them
    assert.equal((await run(['dns', 'sign', d, k.file, '--link', LINK_A, '--link', `${LINK_B}`])).code, 0)
    assert.deepEqual(info(d).links, [LINK_A, LINK_B])
    assert.equal(info(d).seq, 3)
    assert.equal((await run(['dns', 'sign', d, k.file])).code, 0)
    assert.deepEqual([info(d).seq, info(d).links], [3, [LINK_A, LINK_B]])
    assert.equal((await run(['dns', 'sign', d, k.file, '--link', `${LINK_B},${LINK_A}`])).code, 0)
    assert.deepEqual([info(d).seq, info(d).links], [4, [LINK_B, LINK_A]])

    // an empty --link removes them
    assert.equal((await run(['dns', 'sign', d, k.file, '--link', ''])).code, 0)
    assert.deepEqual([info(d).seq, info(d).links], [5, undefined])

    assert.equal((await run(['dns', 'sign', d, k.file, '--seq', '100'])).code, 0)
    assert.equal(info(d).seq, 100)
    const lower = await run(['dns', 'sign', d, k.file, '--seq', '7'])
    assert.equal(lower.code, 0)
    assert.match(lower.stderr, /warning: seq 7 is below the previous seq 100/)
    assert.equal(info(d).seq, 7)
    // whatever was signed last is what to-txt exports
    const txt = JSON.parse((await run(['dns', 'to-txt', d])).stdout) as Record<string, string>
    assert.equal(parseRoot(txt['nodes.example.org']!).seq, 7)
  })

  it('to-txt and to-zonefile refuse (exit 1) a tree changed since signing, or never signed', async () => {
    const recs = records(4)
    const d = treeDir('t3', recs)
    const k = keyFile('t3.key')
    const unsigned = await run(['dns', 'to-txt', d])
    assert.equal(unsigned.code, 1)
    assert.match(unsigned.stderr, /not signed: run `ethp2p dns sign` first/)
    assert.equal((await run(['dns', 'sign', d, k.file, '--domain', 'nodes.example.org'])).code, 0)
    writeNodes(d, recs.slice(1))
    for (const cmd of ['to-txt', 'to-zonefile']) {
      const r = await run(['dns', cmd, d])
      assert.equal(r.code, 1)
      assert.equal(r.stdout, '')
      assert.match(r.stderr, /^ethp2p: the signature does not cover this tree .*\n$/)
    }
    // a bad record in nodes.json is a failure too
    writeFileSync(join(d, 'nodes.json'), JSON.stringify({ ['00'.repeat(32)]: { seq: 1, record: recs[0]!.toText() } }))
    const bad = await run(['dns', 'sign', d, k.file])
    assert.equal(bad.code, 1)
    assert.match(bad.stderr, /not this ID's/)
  })

  it('bad arguments exit 2 with a one-line reason', async () => {
    const d = treeDir('t4', records(2))
    const k = keyFile('t4.key')
    const empty = join(dir, 'empty')
    mkdirSync(empty)
    const badKey = join(dir, 'bad.key')
    writeFileSync(badKey, 'not a key')
    const cases: [string[], RegExp][] = [
      [['dns', 'sign'], /missing required argument/],
      [['dns', 'sign', d], /missing required argument/],
      [['dns', 'sign', d, k.file], /--domain is needed/],
      [['dns', 'sign', join(dir, 'nope'), k.file, '--domain', 'x.org'], /not a directory/],
      [['dns', 'sign', empty, k.file, '--domain', 'x.org'], /has no nodes\.json/],
      [['dns', 'sign', d, join(dir, 'nokey'), '--domain', 'x.org'], /cannot read/],
      [['dns', 'sign', d, badKey, '--domain', 'x.org'], /want 64 hex characters/],
      [['dns', 'sign', d, k.file, '--domain', 'bad domain'], /must be a DNS name/],
      [['dns', 'sign', d, k.file, '--domain', `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}`], /at most 226 characters/],
      [['dns', 'sign', d, k.file, '--domain', 'x.org', '--seq', '-1'], /non-negative integer/],
      [['dns', 'sign', d, k.file, '--domain', 'x.org', '--seq', 'one'], /non-negative integer/],
      [['dns', 'sign', d, k.file, '--domain', 'x.org', '--link', 'enrtree://AAAA@x.org'], /not a base32 compressed secp256k1 key/],
      [['dns', 'sign', d, k.file, '--domain', 'x.org', '--link', 'http://x.org'], /does not start with enrtree:\/\//],
      [['dns', 'to-txt'], /missing required argument/],
      [['dns', 'to-zonefile', join(dir, 'nope')], /not a directory/],
      [['dns', 'frob'], /unknown command/],
      [['crawl', '--dns-server', '127.0.0.1:5353', '--testnet', '3'], /--dns-server says where to resolve --dns trees: give --dns/],
      [['crawl', '--dns', LINK_A, '--dns-server', 'localhost:53'], /want IP, IP:PORT or \[IPv6\]:PORT/],
      [['crawl', '--dns', LINK_A, '--dns-server', '127.0.0.1:70000'], /want IP/],
      [['monitor', '--dns-server', '::1', '--testnet', '3'], /give --dns/],
    ]
    // four at a time: the machine is shared
    const results: Run[] = []
    for (let i = 0; i < cases.length; i += 4) results.push(...(await Promise.all(cases.slice(i, i + 4).map(([args]) => run(args)))))
    results.forEach((r, i) => {
      const [args, why] = cases[i]!
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, why, args.join(' '))
      assert.equal(r.stderr.trim().split('\n').length, 1, args.join(' '))
    })
    // nothing was written by the refused signings
    assert.equal(existsSync(join(d, 'enrtree-info.json')), false)
  })
})
