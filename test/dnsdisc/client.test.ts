import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { backend } from '../../src/crypto/backend.js'
import { ENR } from '../../src/enode/enr.js'
import type { Node } from '../../src/enode/node.js'
import { DnsClient, DnsDiscError, entryHash, formatLink, formatRoot, makeTree, signRoot, type DnsClientOptions, type Tree } from '../../src/dnsdisc/index.js'
import { hexOf } from '../crypto/helpers.js'
import { startDnsServer, type DnsServer } from './dnsserver.js'

const code = (c: string) => (e: unknown) => e instanceof DnsDiscError && e.code === c

/** deterministic keys: `tag` separates the sets used by different tests */
const keyOf = (tag: number, i: number): Uint8Array => backend.keccak256(Uint8Array.of(0xdd, tag, i >> 8, i & 0xff))

/** n records on 127.x addresses; every other one padded so its TXT exceeds one 255-byte string */
function records(tag: number, n: number): ENR[] {
  return Array.from({ length: n }, (_, i) =>
    ENR.sign(keyOf(tag, i), { ip: `127.${tag}.${i >> 8}.${(i & 0xff) + 1}`, udp: 30000 + i, tcp: 31000 + i, ...(i % 2 === 0 ? { extra: { pad: new Uint8Array(120).fill(i) } } : {}) }),
  )
}

const treeKey = (tag: number): Uint8Array => keyOf(tag, 0xffff)

function tree(tag: number, n: number, domain: string, links: string[] = [], seq = 1): Tree {
  return makeTree(records(tag, n), links, seq, treeKey(tag), domain)
}

const ids = (rs: readonly { nodeId: Uint8Array }[]): Set<string> => new Set(rs.map((r) => hexOf(r.nodeId)))

async function collect(it: AsyncIterable<Node>): Promise<Node[]> {
  const out: Node[] = []
  for await (const n of it) out.push(n)
  return out
}

describe('dnsdisc client over loopback DNS', () => {
  let dns: DnsServer
  const client = (o: DnsClientOptions = {}): DnsClient => new DnsClient({ servers: [dns.address], timeoutMs: 2000, ...o })

  before(async () => {
    dns = await startDnsServer()
  })
  after(async () => {
    await dns.close()
  })

  it('resolves a 50-record tree with branches and long TXT records, and lists its link', async () => {
    const b = tree(2, 10, 'b.test')
    const a = tree(1, 50, 'a.test', [b.url])
    assert.ok([...a.txt.values()].some((t) => t.length > 255), 'some entries span several character-strings')
    dns.load(a.txt)
    dns.load(b.txt)
    const res = await client().resolveTree(a.url)
    assert.equal(res.seq, 1)
    assert.deepEqual(ids(res.records), ids(records(1, 50)))
    assert.deepEqual(res.links, [b.url])
    assert.deepEqual(res.errors, [])
    assert.equal(res.truncated, false)
    assert.equal(res.skippedRecords, 0)
  })

  it('yields the nodes of a tree and of the tree it links to, each once, with their endpoints', async () => {
    const b = tree(4, 10, 'nb.test')
    const a = tree(3, 50, 'na.test', [b.url])
    dns.load(a.txt)
    dns.load(b.txt)
    const nodes = await collect(client().nodes([a.url, a.url]))
    const want = [...records(3, 50), ...records(4, 10)]
    assert.equal(nodes.length, 60)
    assert.deepEqual(new Set(nodes.map((n) => n.idHex)), ids(want))
    const byId = new Map(nodes.map((n) => [n.idHex, n]))
    for (const r of want) {
      const n = byId.get(hexOf(r.nodeId))!
      assert.deepEqual([n.ip, n.udp, n.tcp], [r.ip, r.udp, r.tcp])
    }
  })

  it('follows a cycle of links to its end', async () => {
    // two trees that link to each other: the URLs are fixed by key and domain, so build both upfront
    const urlX = formatLink(backend.publicKey(treeKey(5)), 'x.test')
    const urlY = formatLink(backend.publicKey(treeKey(6)), 'y.test')
    dns.load(tree(5, 3, 'x.test', [urlY]).txt)
    dns.load(tree(6, 4, 'y.test', [urlX]).txt)
    const nodes = await collect(client().nodes([urlX]))
    assert.deepEqual(new Set(nodes.map((n) => n.idHex)), ids([...records(5, 3), ...records(6, 4)]))
  })

  it('serves a repeated walk from its cache: only the root is asked again', async () => {
    const t = tree(7, 30, 'cache.test')
    dns.load(t.txt)
    const c = client()
    await c.resolveTree(t.url)
    const before = dns.queries.length
    const again = await c.resolveTree(t.url)
    assert.equal(again.records.length, 30)
    assert.deepEqual(dns.queries.slice(before), ['cache.test'])
  })

  it('skips a tampered leaf (hash mismatch) and a missing entry, and keeps the rest', async () => {
    const t = tree(8, 20, 'tamper.test')
    dns.load(t.txt)
    const leaves = [...t.txt].filter(([, text]) => text.startsWith('enr:'))
    const [tamperedName] = leaves[0]!
    const [missingName] = leaves[1]!
    // a valid record of another node under the first leaf's name
    dns.set(tamperedName, records(9, 1)[0]!.toText())
    dns.delete(missingName)
    const errors: DnsDiscError[] = []
    const res = await client({ onError: (e) => errors.push(e) }).resolveTree(t.url)
    assert.equal(res.records.length, 18)
    assert.equal(res.skippedRecords, 1)
    assert.deepEqual(res.errors.map((e) => [e.code, e.domain]).sort(), [
      ['HASH_MISMATCH', tamperedName],
      ['NOT_FOUND', missingName],
    ].sort())
    assert.deepEqual(errors, res.errors)
    assert.equal(res.truncated, false)
  })

  it('refuses a root not signed by the URL key, and goes on to the next tree', async () => {
    const t = tree(10, 5, 'forged.test')
    dns.load(t.txt)
    const forged = makeTree(records(10, 5), [], 2, keyOf(10, 7), 'forged.test')
    dns.set('forged.test', forged.txt.get('forged.test')!)
    await assert.rejects(client().resolveTree(t.url), code('BAD_SIGNATURE'))

    const good = tree(11, 5, 'good.test')
    dns.load(good.txt)
    const errors: DnsDiscError[] = []
    const nodes = await collect(client({ onError: (e) => errors.push(e) }).nodes([t.url, good.url]))
    assert.deepEqual(new Set(nodes.map((n) => n.idHex)), ids(records(11, 5)))
    assert.deepEqual(errors.map((e) => e.code), ['BAD_SIGNATURE'])
  })

  it('types root failures: no name, no root among other TXT records, garbage, rollback', async () => {
    const t = tree(12, 3, 'root.test', [], 5)
    await assert.rejects(client().resolveTree(t.url), code('NOT_FOUND'))
    dns.set('root.test', 'v=spf1 -all')
    await assert.rejects(client().resolveTree(t.url), code('NOT_FOUND'))
    dns.set('root.test', 'enrtree-root:v1 garbage')
    await assert.rejects(client().resolveTree(t.url), code('BAD_ROOT'))
    dns.load(t.txt)
    dns.set('root.test', 'v=spf1 -all', t.txt.get('root.test')!)
    const c = client()
    assert.equal((await c.resolveTree(t.url)).seq, 5)
    // a correctly signed but older root: a resolver replaying it must not roll the tree back
    dns.set('root.test', tree(12, 3, 'root.test', [], 4).txt.get('root.test')!)
    await assert.rejects(c.resolveTree(t.url), code('BAD_ROOT'))
  })

  it('refuses records in the link subtree and links in the record subtree', async () => {
    const [r] = records(13, 1)
    const leaf = r!.toText()
    const link = formatLink(backend.publicKey(treeKey(1)), 'a.test')
    const root = signRoot(entryHash(link), entryHash(leaf), 1, treeKey(13))
    dns.set('kinds.test', formatRoot(root))
    dns.set(`${entryHash(leaf)}.kinds.test`, leaf)
    dns.set(`${entryHash(link)}.kinds.test`, link)
    const res = await client().resolveTree(formatLink(backend.publicKey(treeKey(13)), 'kinds.test'))
    assert.deepEqual(res.records, [])
    assert.deepEqual(res.links, [])
    assert.deepEqual(res.errors.map((e) => e.code), ['BAD_ENTRY', 'BAD_ENTRY'])
  })

  it('stops at maxEntries and maxDepth, and follows at most maxTrees', async () => {
    const t = tree(14, 50, 'big.test')
    dns.load(t.txt)
    const before = dns.queries.length
    const small = await client({ maxEntries: 10 }).resolveTree(t.url)
    assert.equal(small.truncated, true)
    assert.ok(small.records.length < 10)
    assert.deepEqual(small.errors.map((e) => e.code), ['LIMIT'])
    // the root and at most 10 entries were asked for
    assert.ok(dns.queries.length - before <= 11)

    // 50 leaves sit two branch levels below the record root
    const shallow = await client({ maxDepth: 1 }).resolveTree(t.url)
    assert.equal(shallow.truncated, true)
    assert.deepEqual(shallow.records, [])

    const linked = tree(15, 5, 'linked.test')
    const first = tree(16, 5, 'first.test', [linked.url])
    dns.load(linked.txt)
    dns.load(first.txt)
    const errors: DnsDiscError[] = []
    const nodes = await collect(client({ maxTrees: 1, onError: (e) => errors.push(e) }).nodes([first.url]))
    assert.deepEqual(new Set(nodes.map((n) => n.idHex)), ids(records(16, 5)))
    assert.deepEqual(errors.map((e) => e.code), ['LIMIT'])
  })

  it('keeps at most `concurrency` queries in flight', async () => {
    const t = tree(20, 50, 'conc.test')
    dns.load(t.txt)
    let inFlight = 0
    let most = 0
    // hold every answer briefly so that an unbounded client would pile queries up
    dns.defer = (send) => {
      most = Math.max(most, ++inFlight)
      setTimeout(() => {
        inFlight--
        send()
      }, 5)
    }
    try {
      const res = await client({ concurrency: 3 }).resolveTree(t.url)
      assert.equal(res.records.length, 50)
      assert.ok(most <= 3, `${most} queries in flight`)
    } finally {
      dns.defer = undefined
    }
  })

  it('reports TIMEOUT when the server does not answer', async () => {
    const t = tree(17, 2, 'silent.test')
    dns.silent.add('silent.test')
    try {
      await assert.rejects(client({ timeoutMs: 50, tries: 1 }).resolveTree(t.url), code('TIMEOUT'))
    } finally {
      dns.silent.delete('silent.test')
    }
  })

  it('cancels a walk and a node iteration with the AbortSignal', async () => {
    const t = tree(18, 20, 'abort.test')
    dns.load(t.txt)
    const [stuck] = [...t.txt.keys()].filter((n) => n !== 'abort.test')
    dns.silent.add(stuck!.toLowerCase())
    try {
      const ctl = new AbortController()
      dns.onQuery = (name) => {
        if (name === stuck!.toLowerCase()) ctl.abort()
      }
      await assert.rejects(client({ signal: ctl.signal }).resolveTree(t.url), { name: 'AbortError' })

      const ctl2 = new AbortController()
      dns.onQuery = (name) => {
        if (name === stuck!.toLowerCase()) ctl2.abort()
      }
      await assert.rejects(collect(client({ signal: ctl2.signal }).nodes([t.url])), { name: 'AbortError' })

      const before = dns.queries.length
      await assert.rejects(client({ signal: AbortSignal.abort() }).resolveTree(t.url), { name: 'AbortError' })
      assert.equal(dns.queries.length, before)
    } finally {
      dns.onQuery = undefined
      dns.silent.delete(stuck!.toLowerCase())
    }
  })

  it('ends the walk when the consumer leaves the loop early', async () => {
    const t = tree(19, 40, 'early.test')
    dns.load(t.txt)
    const got: Node[] = []
    for await (const n of client({ concurrency: 2 }).nodes([t.url])) {
      got.push(n)
      if (got.length === 3) break
    }
    assert.equal(got.length, 3)
  })

  it('rejects a malformed URL before any query', async () => {
    const before = dns.queries.length
    await assert.rejects(client().resolveTree('enrtree://nokey.test'), code('BAD_URL'))
    await assert.rejects(collect(client().nodes(['https://example.org'])), code('BAD_URL'))
    assert.equal(dns.queries.length, before)
    assert.throws(() => new DnsClient({ servers: ['not-an-ip'] }), { code: 'ERR_INVALID_IP_ADDRESS' })
  })
})
