/**
 * EIP-1459 entries: parseEntry, parseRoot and parseLink return a value or throw DnsDiscError for any
 * TXT text a resolver hands back, on every backend (node records in entries are verified with it).
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { DnsDiscError, hashMatches, isValidHash, makeTree, parseEntry, parseLink, parseRoot, verifyRoot } from '../../src/dnsdisc/index.js'
import { ENR } from '../../src/enode/enr.js'
import { backends, bytes } from '../crypto/helpers.js'
import { params, textMutant, typed } from './fuzz.js'

const TREE_KEY = bytes('49a7b37aa6f6645917e7b807e9d1c00d4fa71f18343b0d4122a4d2df64dd6fee')
const LINK = 'enrtree://AM5FCQLWIZX2QFPNJAP7VUERCCRNGRHWZG3YYHIUV7BVDQ5FDPRT2@morenodes.example.org'

for (const b of backends()) {
  describe(`fuzz: DNS discovery entries (${b.name})`, () => {
    const records = Array.from({ length: 15 }, (_, i) => ENR.sign(new Uint8Array(32).fill(i + 1), { ip: `10.0.0.${i + 1}`, udp: 30303, tcp: 30303 }, b))
    const tree = makeTree(records, [LINK], 3, TREE_KEY, 'nodes.example.org', b)
    const texts = [...tree.txt.values()]
    const link = parseLink(tree.url)
    const prefixed = fc.tuple(fc.constantFrom('enrtree-root:v1 ', 'enrtree-branch:', 'enrtree://', 'enr:'), fc.string({ maxLength: 120 })).map(([p, s]) => p + s)
    const anyText = fc.oneof(fc.string({ maxLength: 200, unit: 'binary' }), prefixed, textMutant([...texts, tree.url]))

    it('parseEntry: random, prefixed and mutated entries give an entry or a DnsDiscError', () => {
      fc.assert(
        fc.property(anyText, (t) => {
          const e = typed(() => parseEntry(t, b), [DnsDiscError])
          if (e?.type === 'branch') assert.ok(e.children.every(isValidHash))
        }),
        params(12001, b.name === 'js' ? 1000 : 3000),
      )
    })

    it('parseRoot and verifyRoot: a root or a DnsDiscError, and verification only says yes or no', () => {
      fc.assert(
        fc.property(anyText, (t) => {
          const r = typed(() => parseRoot(t), [DnsDiscError])
          if (r) assert.equal(typeof verifyRoot(r, link, b), 'boolean')
        }),
        params(12002, b.name === 'js' ? 1000 : 3000),
      )
    })

    it('parseLink, isValidHash and hashMatches on any text', () => {
      fc.assert(
        fc.property(anyText, anyText, (t, u) => {
          const l = typed(() => parseLink(t), [DnsDiscError])
          if (l) assert.equal(l.pubkey.length, 64)
          assert.equal(typeof isValidHash(t), 'boolean')
          assert.equal(typeof hashMatches(t, u, b), 'boolean')
        }),
        params(12003, 3000),
      )
    })
  })
}
