import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { backend } from '../../src/crypto/backend.js'
import { ENR } from '../../src/enode/enr.js'
import { base32Decode, base32Encode } from '../../src/dnsdisc/base32.js'
import {
  DnsDiscError,
  entryHash,
  formatLink,
  formatRoot,
  hashMatches,
  makeTree,
  MAX_BRANCH_TXT,
  parseEntry,
  parseLink,
  parseRoot,
  signRoot,
  verifyRoot,
} from '../../src/dnsdisc/index.js'
import { bytes, hexOf } from '../crypto/helpers.js'

// The example tree in EIP-1459's text (zone file), name → TXT content.
const EIP_ZONE: Record<string, string> = {
  '@': 'enrtree-root:v1 e=JWXYDBPXYWG6FX3GMDIBFA6CJ4 l=C7HRFPF3BLGF3YR4DY5KX3SMBE seq=1 sig=o908WmNp7LibOfPsr4btQwatZJ5URBr2ZAuxvK4UWHlsB9sUOTJQaGAlLPVAhM__XJesCHxLISo94z5Z2a463gA',
  C7HRFPF3BLGF3YR4DY5KX3SMBE: 'enrtree://AM5FCQLWIZX2QFPNJAP7VUERCCRNGRHWZG3YYHIUV7BVDQ5FDPRT2@morenodes.example.org',
  JWXYDBPXYWG6FX3GMDIBFA6CJ4: 'enrtree-branch:2XS2367YHAXJFGLZHVAWLQD4ZY,H4FHT4B454P6UXFD7JCYQ5PWDY,MHTDO6TMUBRIA2XWG5LUDACK24',
  '2XS2367YHAXJFGLZHVAWLQD4ZY':
    'enr:-HW4QOFzoVLaFJnNhbgMoDXPnOvcdVuj7pDpqRvh6BRDO68aVi5ZcjB3vzQRZH2IcLBGHzo8uUN3snqmgTiE56CH3AMBgmlkgnY0iXNlY3AyNTZrMaECC2_24YYkYHEgdzxlSNKQEnHhuNAbNlMlWJxrJxbAFvA',
  H4FHT4B454P6UXFD7JCYQ5PWDY:
    'enr:-HW4QAggRauloj2SDLtIHN1XBkvhFZ1vtf1raYQp9TBW2RD5EEawDzbtSmlXUfnaHcvwOizhVYLtr7e6vw7NAf6mTuoCgmlkgnY0iXNlY3AyNTZrMaECjrXI8TLNXU0f8cthpAMxEshUyQlK-AM0PW2wfrnacNI',
  MHTDO6TMUBRIA2XWG5LUDACK24:
    'enr:-HW4QLAYqmrwllBEnzWWs7I5Ev2IAs7x_dZlbYdRdMUx5EyKHDXp7AV5CkuPGUPdvbv1_Ms1CPfhcGCvSElSosZmyoqAgmlkgnY0iXNlY3AyNTZrMaECriawHKWdDRk2xeZkrOXBQ0dfMFLHY4eENZwdufn1S1o',
}
// The EIP names the signer's public key in its text; its URL example carries a different key.
const EIP_SIGNER = '9f88229042fef9200246f49f94d9b77c4e954721442714e85850cb6d9e5daf2d880ea0e53cb3ac1a75f9923c2726a4f941f7d326781baa6380754a360de5c2b6'
const EIP_URL = 'enrtree://AM5FCQLWIZX2QFPNJAP7VUERCCRNGRHWZG3YYHIUV7BVDQ5FDPRT2@nodes.example.org'

const code = (c: string) => (e: unknown) => e instanceof DnsDiscError && e.code === c

function records(n: number, extra?: Uint8Array): ENR[] {
  return Array.from({ length: n }, (_, i) => {
    const key = backend.keccak256(Uint8Array.of(0xd5, i >> 8, i & 0xff))
    return ENR.sign(key, { ip: `127.0.${i >> 8}.${(i & 0xff) + 1}`, udp: 30303, tcp: 30303, ...(extra ? { extra: { pad: extra } } : {}) })
  })
}

describe('dnsdisc tree: the EIP-1459 example', () => {
  const signerLink = parseLink(formatLink(bytes(EIP_SIGNER), 'nodes.example.org'))

  it('verifies the example root against the public key the EIP names', () => {
    const root = parseRoot(EIP_ZONE['@']!)
    assert.equal(root.seq, 1)
    assert.equal(root.eroot, 'JWXYDBPXYWG6FX3GMDIBFA6CJ4')
    assert.equal(root.lroot, 'C7HRFPF3BLGF3YR4DY5KX3SMBE')
    assert.equal(root.sig.length, 65)
    assert.equal(formatRoot(root), EIP_ZONE['@'])
    assert.equal(verifyRoot(root, signerLink), true)
  })

  it('parses the example URL; its key is the linked tree\'s, not the root signer', () => {
    const l = parseLink(EIP_URL)
    assert.equal(l.domain, 'nodes.example.org')
    assert.equal(l.compressed.length, 33)
    assert.equal(formatLink(l.pubkey, l.domain), EIP_URL)
    assert.notEqual(hexOf(l.pubkey), EIP_SIGNER)
    assert.equal(verifyRoot(parseRoot(EIP_ZONE['@']!), l), false)
  })

  it('every example entry hashes to its name and parses to its kind', () => {
    for (const [name, text] of Object.entries(EIP_ZONE)) {
      if (name === '@') continue
      assert.equal(entryHash(text), name)
      assert.equal(hashMatches(name, text), true)
      // a 12-byte cut of the name is a valid (shorter) reference to the same entry
      assert.equal(hashMatches(name.slice(0, 20), text), true)
    }
    const branch = parseEntry(EIP_ZONE.JWXYDBPXYWG6FX3GMDIBFA6CJ4!)
    assert.equal(branch.type, 'branch')
    assert.deepEqual(branch.type === 'branch' && branch.children, ['2XS2367YHAXJFGLZHVAWLQD4ZY', 'H4FHT4B454P6UXFD7JCYQ5PWDY', 'MHTDO6TMUBRIA2XWG5LUDACK24'])
    const link = parseEntry(EIP_ZONE.C7HRFPF3BLGF3YR4DY5KX3SMBE!)
    assert.equal(link.type === 'link' && link.link.domain, 'morenodes.example.org')
    for (const h of ['2XS2367YHAXJFGLZHVAWLQD4ZY', 'H4FHT4B454P6UXFD7JCYQ5PWDY', 'MHTDO6TMUBRIA2XWG5LUDACK24']) {
      const e = parseEntry(EIP_ZONE[h]!)
      assert.equal(e.type, 'enr')
      // the example records carry no address
      assert.equal(e.type === 'enr' && e.record.toNode(), undefined)
    }
  })

  it('rejects a changed entry under its old name, and a changed root', () => {
    const text = EIP_ZONE.JWXYDBPXYWG6FX3GMDIBFA6CJ4!.replace('2XS2', '2XS3')
    assert.equal(hashMatches('JWXYDBPXYWG6FX3GMDIBFA6CJ4', text), false)
    const root = parseRoot(EIP_ZONE['@']!.replace('seq=1', 'seq=2'))
    assert.equal(verifyRoot(root, signerLink), false)
  })
})

describe('dnsdisc tree: codec', () => {
  it('base32 matches RFC 4648 vectors and round-trips', () => {
    const vectors: [string, string][] = [['', ''], ['f', 'MY'], ['fo', 'MZXQ'], ['foo', 'MZXW6'], ['foob', 'MZXW6YQ'], ['fooba', 'MZXW6YTB'], ['foobar', 'MZXW6YTBOI']]
    for (const [plain, enc] of vectors) {
      assert.equal(base32Encode(new TextEncoder().encode(plain)), enc)
      assert.deepEqual(base32Decode(enc), new TextEncoder().encode(plain))
    }
    for (const bad of ['A', 'ABC', 'ABCDEF', 'mzxw6', 'MZXW6=', 'MZX1']) assert.equal(base32Decode(bad), undefined, bad)
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => assert.deepEqual(base32Decode(base32Encode(b)), b)))
  })

  it('rejects malformed tree URLs with BAD_URL', () => {
    const key = EIP_URL.slice('enrtree://'.length, EIP_URL.indexOf('@'))
    for (const bad of [
      'enr://' + key + '@nodes.example.org',
      'enrtree://nodes.example.org',
      `enrtree://${key.slice(0, -4)}@nodes.example.org`,
      `enrtree://${key.toLowerCase()}@nodes.example.org`,
      // 33 bytes that are not a point: prefix 02 and x = 2^256 - 1 (≥ p)
      `enrtree://${base32Encode(Uint8Array.from([2, ...new Array<number>(32).fill(0xff)]))}@nodes.example.org`,
      `enrtree://${key}@`,
      `enrtree://${key}@nodes..example.org`,
      `enrtree://${key}@nodes example.org`,
    ]) {
      assert.throws(() => parseLink(bad), code('BAD_URL'), bad)
    }
  })

  it('parses roots strictly', () => {
    const ok = EIP_ZONE['@']!
    assert.throws(() => parseRoot(ok.replace(' l=C7HRFPF3BLGF3YR4DY5KX3SMBE', '')), code('BAD_ROOT'))
    assert.throws(() => parseRoot(ok.replace('enrtree-root:v1', 'enrtree-root:v2')), code('BAD_ROOT'))
    assert.throws(() => parseRoot(ok.replace('e=JWXYDBPXYWG6FX3GMDIBFA6CJ4', 'e=JWXY')), code('BAD_ROOT'))
    assert.throws(() => parseRoot(ok.slice(0, -4)), code('BAD_ROOT'))
    assert.throws(() => parseRoot(ok.replace('seq=1', 'seq=99999999999999999999')), code('BAD_ROOT'))
    assert.throws(() => parseRoot(ok + ' x=1'), code('BAD_ROOT'))
  })

  it('accepts both recovery-id forms and refuses other keys and high-s copies', () => {
    const priv = bytes('11'.repeat(32))
    const link = parseLink(formatLink(backend.publicKey(priv), 'nodes.test'))
    const other = parseLink(formatLink(backend.publicKey(bytes('22'.repeat(32))), 'nodes.test'))
    const root = signRoot('JWXYDBPXYWG6FX3GMDIBFA6CJ4', 'C7HRFPF3BLGF3YR4DY5KX3SMBE', 7, priv)
    assert.ok(root.sig[64] === 0 || root.sig[64] === 1)
    assert.equal(verifyRoot(parseRoot(formatRoot(root)), link), true)
    const legacy = Uint8Array.from(root.sig)
    legacy[64] = root.sig[64]! + 27
    assert.equal(verifyRoot({ ...root, sig: legacy }, link), true)
    assert.equal(verifyRoot(root, other), false)
    // s → n − s is the same signature mirrored: valid ECDSA, refused as malleable
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
    const s = BigInt('0x' + hexOf(root.sig.subarray(32, 64)))
    const high = Uint8Array.from(root.sig)
    high.set(bytes((n - s).toString(16).padStart(64, '0')), 32)
    high[64] = root.sig[64]! ^ 1
    assert.equal(verifyRoot({ ...root, sig: high }, link), false)
  })

  it('parses entries and types their errors', () => {
    assert.deepEqual(parseEntry('enrtree-branch:'), { type: 'branch', children: [] })
    assert.throws(() => parseEntry('enrtree-branch:AAAA,BBBB'), code('BAD_ENTRY'))
    assert.throws(() => parseEntry('enrtree-branch:' + 'A'.repeat(53)), code('BAD_ENTRY'))
    assert.throws(() => parseEntry('enrtree-x:'), code('BAD_ENTRY'))
    assert.throws(() => parseEntry('enrtree://nodes.example.org'), code('BAD_ENTRY'))
    assert.throws(() => parseEntry('enr:!!'), code('BAD_ENTRY'))
    // flip one byte inside the signature of a valid record
    const r = records(1)[0]!
    const raw = Uint8Array.from(r.raw)
    raw[10]! ^= 1
    assert.throws(() => parseEntry('enr:' + Buffer.from(raw).toString('base64url')), code('BAD_SIGNATURE'))
  })
})

describe('dnsdisc tree: makeTree', () => {
  const priv = bytes('33'.repeat(32))
  const linkTo = formatLink(backend.publicKey(bytes('44'.repeat(32))), 'other.test')

  it('builds a verifiable tree of 50 records with branches within the TXT bound', () => {
    const recs = records(50)
    const tree = makeTree(recs, [linkTo], 3, priv, 'nodes.test')
    const link = parseLink(tree.url)
    const root = parseRoot(tree.txt.get('nodes.test')!)
    assert.equal(root.seq, 3)
    assert.equal(verifyRoot(root, link), true)
    const leaves = new Set<string>()
    const links: string[] = []
    let branches = 0
    for (const [name, text] of tree.txt) {
      if (name === 'nodes.test') continue
      assert.ok(name.endsWith('.nodes.test'))
      assert.equal(hashMatches(name.slice(0, -'.nodes.test'.length), text), true)
      const e = parseEntry(text)
      if (e.type === 'branch') {
        branches++
        assert.ok(text.length <= MAX_BRANCH_TXT, `branch of ${text.length} bytes`)
        assert.ok(e.children.length <= 13)
        for (const c of e.children) assert.ok(tree.txt.has(`${c}.nodes.test`), 'dangling child')
      } else if (e.type === 'enr') leaves.add(hexOf(e.record.nodeId))
      else links.push(e.link.url)
    }
    // 50 leaves: 4 branches of ≤ 13 under one top branch
    assert.equal(branches, 5)
    assert.deepEqual(leaves, new Set(recs.map((r) => hexOf(r.nodeId))))
    assert.deepEqual(links, [linkTo])
    assert.equal(tree.txt.size, 1 + 50 + 5 + 1)
  })

  it('is the same tree for the same set in any order, keeping the newest record of a node', () => {
    const recs = records(20)
    const a = makeTree(recs, [], 1, priv, 'nodes.test')
    const newer = ENR.sign(backend.keccak256(Uint8Array.of(0xd5, 0, 0)), { seq: 9n, ip: '10.0.0.1', udp: 1, tcp: 1 })
    const b = makeTree([newer, ...recs.slice().reverse()], [], 1, priv, 'nodes.test')
    assert.deepEqual([...makeTree(recs.slice().reverse(), [], 1, priv, 'nodes.test').txt].sort(), [...a.txt].sort())
    assert.ok([...b.txt.values()].includes(newer.toText()))
    assert.ok(![...b.txt.values()].includes(recs[0]!.toText()))
  })

  it('points the root straight at a single leaf, and at an empty branch when there are no links', () => {
    const [r] = records(1)
    const tree = makeTree([r!], [], 1, priv, 'one.test')
    const root = parseRoot(tree.txt.get('one.test')!)
    assert.equal(tree.txt.get(`${root.eroot}.one.test`), r!.toText())
    assert.equal(tree.txt.get(`${root.lroot}.one.test`), 'enrtree-branch:')
  })

  it('refuses a bad link or domain', () => {
    assert.throws(() => makeTree([], ['enrtree://x@y'], 1, priv, 'nodes.test'), code('BAD_URL'))
    assert.throws(() => makeTree([], [], 1, priv, ''), code('BAD_URL'))
  })
})
