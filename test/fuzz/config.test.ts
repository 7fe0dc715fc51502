/**
 * Configuration inputs: parseNodeKey (the node key file) returns a key or throws NodeKeyError, and
 * parseNodesList (static-nodes.json / trusted-nodes.json) returns nodes or throws NodesFileError,
 * reporting each bad entry as a warning, for any text.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { NodeKeyError, parseNodeKey } from '../../src/config/nodekey.js'
import { parseNodesList, NodesFileError } from '../../src/config/nodesfile.js'
import { privateKeyValid } from '../../src/crypto/backend.js'
import { EnodeURLError } from '../../src/enode/url.js'
import { params, textMutant, typed } from './fuzz.js'

const KEYS = [
  '4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318',
  '0x4C0883A69102937D6231471B5DBB6204FE5129617082792AE468D01A3F362318\n',
  'fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140',
  '  0000000000000000000000000000000000000000000000000000000000000001  ',
]
const PUB = 'a979fb575495b8d6db44f750317d0f4622bf4c2aa3365d6af7c284339968eef29b69ad0dce72a4d8db5ebb4968de0e3bec910127f134779fbcb0cb6d3331163c'
const FILES = [
  JSON.stringify([`enode://${PUB}@10.3.58.6:30303`, `enode://${PUB}@[::1]:30303?discport=30301`, '']),
  '\ufeff[\n  "enode://' + PUB + '@127.0.0.1:1"\n]\n',
  '[]',
]

describe('fuzz: config files', () => {
  it('parseNodeKey: a valid key or a NodeKeyError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 80 }), fc.string({ maxLength: 80, unit: 'binary' }), textMutant(KEYS)), (t) => {
        const k = typed(() => parseNodeKey(t), [NodeKeyError])
        if (k) assert.ok(privateKeyValid(k))
      }),
      params(13001, 5000),
    )
  })

  it('parseNodesList: nodes (bad entries warned about) or a NodesFileError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.json().map(String), textMutant(FILES)), (t) => {
        let warned = 0
        const nodes = typed(() => parseNodesList(t, 'fuzz.json', { onWarning: (w) => {
          assert.ok(w.error instanceof EnodeURLError)
          warned++
        } }), [NodesFileError])
        if (nodes) assert.ok(nodes.length + warned <= (JSON.parse(t.replace(/^\ufeff/, '')) as unknown[]).length)
      }),
      params(13002, 5000),
    )
  })
})
