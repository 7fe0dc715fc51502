/** Publishing a tree: enrtree-info.json, signing and its seq rules, export checks, TXT JSON and zone text, nodes.json reading. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { backend, randomPrivateKey } from '../../src/crypto/backend.js'
import { hex } from '../../src/crypto/bytes.js'
import { ENR } from '../../src/enode/enr.js'
import { NodesJsonError, parseNodesJson } from '../../src/config/nodesjson.js'
import { exportDefinition, formatTreeInfo, parseTreeInfo, signDefinition, TreeDefinitionError, type TreeInfo } from '../../src/dnsdisc/definition.js'
import { formatLink, hashMatches, parseEntry, parseRoot, verifyRoot, parseLink, buildTree } from '../../src/dnsdisc/tree.js'
import { ENTRY_TTL, formatTxtJson, formatZone, ROOT_TTL, txtStrings } from '../../src/dnsdisc/zone.js'

function records(n: number): ENR[] {
  return Array.from({ length: n }, (_, i) => ENR.sign(randomPrivateKey(), { ip: '127.0.0.1', udp: 30000 + i, tcp: 30000 + i }))
}
const linkKey = randomPrivateKey()
const LINK = formatLink(backend.publicKey(linkKey), 'more.example.org')
const NOW = new Date('2025-01-02T03:04:05.000Z')

describe('signDefinition: seq and signature', () => {
  const key = randomPrivateKey()
  const recs = records(20)

  it('a first signing is seq 1, signed by the key for the domain', () => {
    const out = signDefinition({ records: recs, key, domain: 'nodes.example.org', now: NOW })
    assert.equal(out.changed, true)
    assert.equal(out.url, formatLink(backend.publicKey(key), 'nodes.example.org'))
    assert.deepEqual(out.info, { url: out.url, seq: 1, signature: out.info.signature, links: [], lastModified: NOW.toISOString() })
    const exp = exportDefinition(recs, out.info)
    const root = parseRoot(exp.txt.get('nodes.example.org')!)
    assert.equal(root.seq, 1)
    assert.ok(verifyRoot(root, parseLink(out.url)))
    assert.equal(Buffer.from(root.sig).toString('base64url'), out.info.signature)
  })

  it('the same tree again keeps seq and signature; a changed one gets seq + 1; --seq wins', () => {
    const first = signDefinition({ records: recs, key, domain: 'nodes.example.org', now: NOW })
    const later = new Date(NOW.getTime() + 60_000)
    // no domain: the previous URL's
    const same = signDefinition({ records: [...recs].reverse(), key, previous: first.info, now: later })
    assert.equal(same.changed, false)
    assert.deepEqual(same.info, first.info)

    const grown = signDefinition({ records: [...recs, ...records(1)], key, previous: first.info, now: later })
    assert.equal(grown.changed, true)
    assert.equal(grown.info.seq, 2)
    assert.equal(grown.info.lastModified, later.toISOString())

    const linked = signDefinition({ records: recs, key, previous: first.info, links: [LINK], now: later })
    assert.equal(linked.info.seq, 2)
    assert.deepEqual(linked.info.links, [LINK])
    // links come from the previous info when not given
    assert.equal(signDefinition({ records: recs, key, previous: linked.info, now: later }).changed, false)

    const moved = signDefinition({ records: recs, key, previous: first.info, domain: 'other.example.org', now: later })
    assert.equal(moved.info.seq, 2)
    assert.match(moved.url, /@other\.example\.org$/)

    const otherKey = signDefinition({ records: recs, key: randomPrivateKey(), previous: first.info, now: later })
    assert.equal(otherKey.info.seq, 2)

    const asked = signDefinition({ records: recs, key, previous: first.info, seq: 1, now: later })
    assert.equal(asked.changed, true)
    assert.equal(asked.info.seq, 1)
    assert.equal(signDefinition({ records: recs, key, previous: first.info, seq: 40, now: later }).info.seq, 40)
  })

  it('refuses to sign without a domain, or for a domain too long for entry names', () => {
    assert.throws(() => signDefinition({ records: recs, key, now: NOW }), TreeDefinitionError)
    const long = Array.from({ length: 4 }, () => 'a'.repeat(60)).join('.')
    assert.throws(() => signDefinition({ records: recs, key, domain: long, now: NOW }), /entry names/)
  })
})

describe('exportDefinition', () => {
  const key = randomPrivateKey()
  const recs = records(30)
  const signed = signDefinition({ records: recs, key, domain: 'nodes.example.org', links: [LINK], now: NOW }).info

  it('the TXT records: root at the bare domain, every entry at <hash>.<domain> holding what its hash names', () => {
    const { txt, domain } = exportDefinition(recs, signed)
    assert.equal(domain, 'nodes.example.org')
    const found = new Set<string>()
    const links: string[] = []
    for (const [name, value] of txt) {
      if (name === domain) continue
      const m = /^([A-Z2-7]{26})\.nodes\.example\.org$/.exec(name)
      assert.ok(m, name)
      assert.ok(hashMatches(m[1]!, value))
      const e = parseEntry(value)
      if (e.type === 'enr') found.add(e.record.toText())
      if (e.type === 'link') links.push(e.link.url)
    }
    assert.deepEqual(found, new Set(recs.map((r) => r.toText())))
    assert.deepEqual(links, [LINK])
  })

  it('refuses a tree that changed since signing, or one never signed', () => {
    assert.throws(() => exportDefinition(recs.slice(1), signed), /does not cover this tree/)
    assert.throws(() => exportDefinition(recs, { ...signed, links: [] }), /does not cover this tree/)
    assert.throws(() => exportDefinition(recs, { ...signed, seq: 2 }), /does not cover this tree/)
    // the same signature under another key's URL
    assert.throws(() => exportDefinition(recs, { ...signed, url: formatLink(backend.publicKey(linkKey), 'nodes.example.org') }), /does not cover/)
    assert.throws(() => exportDefinition(recs, { ...signed, signature: 'AAAA' }), /does not cover/)
    const { url: _url, ...unsigned } = signed
    assert.throws(() => exportDefinition(recs, unsigned), /not signed/)
  })
})

describe('enrtree-info.json', () => {
  it("round-trips in geth's field order and indent", () => {
    const info: TreeInfo = { url: LINK, seq: 7, signature: 'c2ln', links: [LINK], lastModified: NOW.toISOString() }
    const text = formatTreeInfo(info)
    assert.equal(text, `{\n    "url": "${LINK}",\n    "seq": 7,\n    "signature": "c2ln",\n    "links": [\n        "${LINK}"\n    ],\n    "lastModified": "${NOW.toISOString()}"\n}\n`)
    assert.deepEqual(parseTreeInfo(text, 'f'), info)
    // geth leaves out an empty url and links
    assert.equal(formatTreeInfo({ seq: 0, signature: '', links: [] }), '{\n    "seq": 0,\n    "signature": ""\n}\n')
  })

  it('bad files are TreeDefinitionErrors that name the file', () => {
    for (const bad of ['[', '[]', '{"seq":-1}', '{"seq":1.5}', '{"signature":3}', '{"links":"x"}', '{"links":["enrtree://nope@x"]}', '{"url":"http://x"}']) {
      assert.throws(() => parseTreeInfo(bad, 'dir/enrtree-info.json'), (e: unknown) => e instanceof TreeDefinitionError && e.message.startsWith('dir/enrtree-info.json: '), bad)
    }
  })
})

describe('TXT JSON and zone text', () => {
  it("to-txt JSON: geth's layout, names sorted", () => {
    const txt = new Map([
      ['nodes.example.org', 'enrtree-root:v1 x'],
      ['B.nodes.example.org', 'b'],
      ['A.nodes.example.org', 'a'],
    ])
    assert.equal(formatTxtJson(txt), '{\n    "A.nodes.example.org": "a",\n    "B.nodes.example.org": "b",\n    "nodes.example.org": "enrtree-root:v1 x"\n}\n')
  })

  it('character-strings: at most 255 bytes each, quotes and backslashes escaped, other bytes as \\DDD', () => {
    assert.equal(txtStrings(''), '""')
    assert.equal(txtStrings('a"b\\c'), '"a\\"b\\\\c"')
    assert.equal(txtStrings('é\n'), '"\\195\\169\\010"')
    const long = 'x'.repeat(255) + 'y'.repeat(255) + 'z'
    assert.equal(txtStrings(long), `"${'x'.repeat(255)}" "${'y'.repeat(255)}" "z"`)
    // the limit is in bytes before escaping: 255 quotes are one string of 510 characters
    assert.equal(txtStrings('"'.repeat(256)), `"${'\\"'.repeat(255)}" "\\""`)
  })

  it('zone text: comments, the root first with the short TTL, entries by name, every name fully qualified', () => {
    const txt = new Map([
      ['B.n.example.org', 'enr:b'],
      ['n.example.org', 'enrtree-root:v1 r'],
      ['A.n.example.org', 'e'.repeat(300)],
    ])
    assert.equal(
      formatZone(txt, 'n.example.org', ['hello']),
      [
        '; hello',
        `n.example.org. ${ROOT_TTL} IN TXT "enrtree-root:v1 r"`,
        `A.n.example.org. ${ENTRY_TTL} IN TXT "${'e'.repeat(255)}" "${'e'.repeat(45)}"`,
        `B.n.example.org. ${ENTRY_TTL} IN TXT "enr:b"`,
        '',
      ].join('\n'),
    )
    assert.equal(ROOT_TTL, 1800)
    assert.equal(ENTRY_TTL, 2_419_200)
  })

  it('a real tree of big records: entries split into strings that join back to the entry', () => {
    const big = Array.from({ length: 5 }, () => ENR.sign(randomPrivateKey(), { ip: '127.0.0.1', udp: 1, extra: { pad: new Uint8Array(150) } }))
    const key = randomPrivateKey()
    const info = signDefinition({ records: big, key, domain: 'n.example.org', now: NOW }).info
    const { txt } = exportDefinition(big, info)
    const zone = formatZone(txt, 'n.example.org')
    let split = 0
    for (const line of zone.trim().split('\n')) {
      const m = /^(\S+)\. \d+ IN TXT (.*)$/.exec(line)!
      const strings = [...m[2]!.matchAll(/"([^"\\]*)"/g)].map((x) => x[1]!)
      assert.ok(strings.every((s) => s.length <= 255))
      if (strings.length > 1) split++
      assert.equal(strings.join(''), txt.get(m[1]!))
    }
    assert.equal(split, 5)
  })
})

describe('nodes.json', () => {
  const recs = records(3)
  const set = Object.fromEntries(recs.map((r) => [hex(r.nodeId), { seq: Number(r.seq), record: r.toText(), score: 1 }]))

  it("reads geth's node set: every record, checked against its ID", () => {
    const got = parseNodesJson(JSON.stringify(set, null, 4), 'nodes.json')
    assert.deepEqual(got.map((r) => r.toText()).sort(), recs.map((r) => r.toText()).sort())
    assert.equal(buildTree(got, []).records.length, 3)
  })

  it('refuses the whole file for one bad entry', () => {
    const [a, b] = Object.keys(set) as [string, string]
    const swapped = { [a]: set[b], [b]: set[a] }
    const tampered = { ...set, [a]: { ...set[a], record: set[a]!.record.slice(0, -4) + 'AAAA' } }
    for (const [bad, why] of [
      ['{', /invalid JSON/],
      ['[]', /expected a JSON object/],
      [JSON.stringify({ [a]: { seq: 1 } }), /no "record"/],
      [JSON.stringify(swapped), /not this ID's/],
      [JSON.stringify(tampered), /nodes\.json: node /],
    ] as const) {
      assert.throws(() => parseNodesJson(bad, 'nodes.json'), (e: unknown) => e instanceof NodesJsonError && why.test(e.message), bad.slice(0, 40))
    }
  })
})

describe('bad input', () => {
  it('nodes.json and enrtree-info.json parsers return or throw their own error, for any text', () => {
    const text = fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify({ x: v, links: v, url: v, seq: v, signature: v })))
    fc.assert(
      fc.property(text, (t) => {
        try {
          parseNodesJson(t, 'f')
        } catch (e) {
          if (!(e instanceof NodesJsonError)) throw e
        }
        try {
          parseTreeInfo(t, 'f')
        } catch (e) {
          if (!(e instanceof TreeDefinitionError)) throw e
        }
      }),
      { numRuns: 500 },
    )
  })

  it('character-strings read back to the same bytes, none over 255', () => {
    // a master-file reader's view of the quoted strings: \X is X, \DDD a byte
    const read = (field: string): Buffer[] =>
      [...field.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => {
        const bytes: number[] = []
        for (let i = 0; i < m[1]!.length; i++) {
          const c = m[1]!.charCodeAt(i)
          if (c !== 0x5c) bytes.push(c)
          else if (/\d/.test(m[1]![i + 1]!)) {
            bytes.push(Number(m[1]!.slice(i + 1, i + 4)))
            i += 3
          } else bytes.push(m[1]!.charCodeAt(++i))
        }
        return Buffer.from(bytes)
      })
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 1200 }), (v) => {
        const parts = read(txtStrings(v))
        assert.ok(parts.every((p) => p.length <= 255))
        assert.equal(Buffer.concat(parts).toString('utf8'), v)
      }),
      { numRuns: 300 },
    )
  })
})
