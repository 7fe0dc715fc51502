/**
 * discv5 on every backend: the spec's packets (ordinary, WHOAREYOU, handshakes with and without a
 * record) mutated and fed to a node that is their addressee (node B), so mutants reach the handshake's
 * key agreement, signature check and decryption. The node never throws, answers only with WHOAREYOU
 * (no bigger than what asked), and its bounds hold.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { ENR } from '../../src/enode/enr.js'
import { Discv5 } from '../../src/discover/v5/udp.js'
import { decodeHeader, decodeMessage, parseHandshake, parseWhoareyou, V5WireError, Flag } from '../../src/discover/v5/wire.js'
import { backends, bytes } from '../crypto/helpers.js'
import { bytesOrMutant, params, typed } from './fuzz.js'

const V = JSON.parse(readFileSync(join(import.meta.dirname, '../vectors/discv5.json'), 'utf8'))
const valid = [V.pingMessage.packet, V.whoareyou.packet, V.pingHandshake.packet, V.pingHandshakeWithRecord.packet].map((h: string) => bytes(h))

for (const b of backends()) {
  describe(`fuzz: discv5 (${b.name})`, () => {
    it('decoders: a value or a V5WireError', () => {
      fc.assert(
        fc.property(bytesOrMutant(valid, 1400), (d) => {
          const h = typed(() => decodeHeader(d, bytes(V.nodeIdB), b), [V5WireError])
          if (!h) return
          if (h.flag === Flag.handshake) typed(() => parseHandshake(h.authdata), [V5WireError])
          if (h.flag === Flag.whoareyou) typed(() => parseWhoareyou(h.authdata), [V5WireError])
          typed(() => decodeMessage(h.message), [V5WireError])
          // and whatever the header says, opening the message with any key is a plaintext or null
          const pt = b.gcmOpen(bytes(V.pingMessage.readKey), h.nonce, h.message, h.ad)
          if (pt) typed(() => decodeMessage(pt), [V5WireError])
        }),
        params(5101, 1500),
      )
    })

    it('the transport: mutants of every spec packet, sent to their addressee, never crash it or amplify', () => {
      const out: Uint8Array[] = []
      // node B of the vectors, knowing node A's record as the handshake vector assumes
      const recordA = ENR.sign(bytes(V.nodeKeyA), { seq: 1n, ip: '127.0.0.1', udp: 30303 }, b)
      const d = Discv5.attach({ privateKey: bytes(V.nodeKeyB), enr: { ip: '127.0.0.1', udp: 30304 }, backend: b, send: (data) => void out.push(data) })
      ;(d as unknown as { store: { records: { set(k: string, v: ENR): void } } }).store.records.set(V.nodeIdA, recordA)
      fc.assert(
        fc.property(bytesOrMutant(valid, 1400), (pkt) => {
          out.length = 0
          d.handle(pkt, { address: '127.0.0.1', port: 30303 })
          for (const o of out) assert.ok(o.length <= Math.max(63, pkt.length), `${o.length} bytes out for ${pkt.length} in`)
        }),
        params(5102, b.name === 'js' ? 300 : 1500),
      )
      void d.close()
    })
  })
}
