/** enode URLs: parseEnode returns a Node or throws EnodeURLError for any string; valid ones round-trip. */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { EnodeURLError, formatEnode, parseEnode } from '../../src/enode/url.js'
import { params, textMutant, typed } from './fuzz.js'

const PUB = 'a979fb575495b8d6db44f750317d0f4622bf4c2aa3365d6af7c284339968eef29b69ad0dce72a4d8db5ebb4968de0e3bec910127f134779fbcb0cb6d3331163c'
const VALID = [
  `enode://${PUB}@10.3.58.6:30303`,
  `enode://${PUB}@10.3.58.6:30303?discport=30301`,
  `enode://${PUB}@[2001:db8:3c4d:15::abcd:ef12]:65535?discport=0`,
  `enode://${PUB}@[::ffff:1.2.3.4]:1`,
  `enode://${PUB.toUpperCase()}@127.0.0.1:0?foo=bar&discport=9`,
]

describe('fuzz: enode URLs', () => {
  it('random strings, random tails and mutated URLs give a Node or an EnodeURLError', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 300, unit: 'binary' }),
          fc.string({ maxLength: 80 }).map((s) => `enode://${PUB}@${s}`),
          fc.string({ maxLength: 200 }).map((s) => `enode://${s}`),
          textMutant(VALID),
        ),
        (url) => {
          const n = typed(() => parseEnode(url), [EnodeURLError])
          if (!n) return
          assert.ok(Number.isInteger(n.udp) && n.udp >= 0 && n.udp <= 0xffff)
          assert.ok(Number.isInteger(n.tcp) && n.tcp >= 0 && n.tcp <= 0xffff)
          // what parses is a node we can write back out and read again unchanged
          assert.ok(parseEnode(formatEnode(n)).equals(n))
        },
      ),
      params(8001, 5000),
    )
  })
})
