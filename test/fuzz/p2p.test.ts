/** p2p base protocol: decodeHello and decodeDisconnect return a value or throw P2PError for any payload. */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { DisconnectReason } from '../../src/p2p/base.js'
import { decodeDisconnect, decodeHello, encodeDisconnect, encodeHello, MAX_HELLO_SIZE } from '../../src/p2p/messages.js'
import { P2PError } from '../../src/p2p/errors.js'
import { encodeRLP, RLPError, uintBytes } from '../../src/util/rlp.js'
import { bytesOrMutant, params, typed } from './fuzz.js'

const ID = new Uint8Array(64).fill(0x42)
const HELLOS = [
  encodeHello({ protocolVersion: 5, clientId: 'Geth/v1.15.0-stable/linux-amd64/go1.23', caps: [{ name: 'eth', version: 68 }, { name: 'eth', version: 69 }, { name: 'snap', version: 1 }], listenPort: 30303, id: ID }),
  encodeHello({ protocolVersion: 4, clientId: '', caps: [], listenPort: 0, id: ID }),
  // EIP-8: extra elements in the Hello and in a capability
  encodeRLP([uintBytes(22), new TextEncoder().encode('future'), [[new TextEncoder().encode('les'), uintBytes(4), uintBytes(9)]], uintBytes(1), ID, uintBytes(7), [ID]]),
]
const DISCONNECTS = [encodeDisconnect(DisconnectReason.TooManyPeers), encodeRLP(uintBytes(DisconnectReason.UselessPeer)), encodeRLP([]), new Uint8Array(0)]

describe('fuzz: p2p Hello and Disconnect', () => {
  it('decodeHello: random and mutated Hellos give a Hello or a P2PError', () => {
    fc.assert(
      fc.property(fc.oneof(bytesOrMutant(HELLOS, 400), fc.uint8Array({ minLength: MAX_HELLO_SIZE - 2, maxLength: MAX_HELLO_SIZE + 2 })), (d) => {
        const h = typed(() => decodeHello(d), [P2PError], [RLPError])
        if (!h) return
        // integers are read leniently up to 8 bytes (precision may go past 2^53): finite, never negative
        const uint = (n: number): boolean => Number.isFinite(n) && n >= 0
        assert.ok(uint(h.protocolVersion) && uint(h.listenPort))
        assert.ok(h.caps.every((c) => typeof c.name === 'string' && uint(c.version)))
      }),
      params(11001, 5000),
    )
  })

  it('decodeDisconnect: any payload gives a reason or a P2PError', () => {
    fc.assert(
      fc.property(bytesOrMutant(DISCONNECTS, 40), (d) => {
        const r = typed(() => decodeDisconnect(d), [P2PError], [RLPError])
        if (r !== undefined) assert.ok(Number.isSafeInteger(r) && r >= 0)
      }),
      params(11002, 5000),
    )
  })
})
