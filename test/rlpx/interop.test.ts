/**
 * Interop with @ethereumjs/devp2p's RLPx (its RLPx class, no DPT) over loopback, both directions:
 * the ECIES handshake completes, Hellos cross, then snappy-compressed p2p and sub-protocol messages
 * flow both ways. Its side speaks p2p v5, so after the Hellos both ends compress.
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:net'
import { once } from 'node:events'
import { RLPx, type Capabilities, type Peer, type RLPxOptions } from '@ethereumjs/devp2p'
import { randomPrivateKey } from '../../src/crypto/backend.js'
import type { CryptoBackend } from '../../src/crypto/types.js'
import { RLPxConnection } from '../../src/rlpx/conn.js'
import { snappy } from '../../src/rlpx/snappy.js'
import { decodeRLP, encodeRLP } from '../../src/util/rlp.js'
import { backends, hexOf } from '../crypto/helpers.js'

const HELLO = 0x00
const PING = 0x02
const PONG = 0x03
/** the first sub-protocol code: 'tst' is the only shared capability */
const TST = 0x10

/** A one-message sub-protocol on the ethereumjs side that records what it gets and can answer. */
class TestProtocol {
  static last: TestProtocol | undefined
  readonly received: Array<{ code: number; data: Uint8Array }> = []
  constructor(
    _version: number,
    _peer: Peer,
    readonly send: (code: number, data: Uint8Array) => void,
  ) {
    TestProtocol.last = this
  }
  _handleMessage(code: number, data: Uint8Array): void {
    this.received.push({ code, data })
  }
}
const capability = { name: 'tst', version: 1, length: 2, constructor: TestProtocol } as unknown as Capabilities

const rlpxs: RLPx[] = []
const servers: Server[] = []
after(() => {
  for (const r of rlpxs) r.destroy()
  for (const s of servers) s.close()
})

function ethereumjsNode(listen: boolean): { rlpx: RLPx; priv: Uint8Array } {
  const priv = randomPrivateKey()
  // `common` only supplies optional custom crypto; the defaults are what we want to interoperate with
  const rlpx = new RLPx(priv, { dpt: null, maxPeers: 5, capabilities: [capability], common: undefined as unknown as RLPxOptions['common'], listenPort: listen ? 0 : null })
  rlpxs.push(rlpx)
  return { rlpx, priv }
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (cond()) return
    await new Promise((r) => setTimeout(r, 10))
  }
  throw new Error(`timed out waiting for ${what}`)
}

/** Their Hello, our Hello, then Ping→Pong and sub-protocol messages both ways, all compressed. */
async function exercise(b: CryptoBackend, conn: RLPxConnection, ourPriv: Uint8Array, theirPub: Uint8Array): Promise<void> {
  const it = conn[Symbol.asyncIterator]()
  const hello = await it.next()
  assert.ok(!hello.done)
  assert.equal(hello.value.code, HELLO)
  const fields = decodeRLP(hello.value.payload, true) as Uint8Array[]
  assert.equal(fields[0]![0], 5, 'p2p version 5')
  assert.equal(hexOf(fields[4]!), hexOf(theirPub), 'Hello id is the RLPx key')
  TestProtocol.last = undefined
  await conn.write(HELLO, encodeRLP([5, 'ethp2p-test', [['tst', 1]], 0, b.publicKey(ourPriv)]))
  conn.setSnappy(true)

  await conn.write(PING, encodeRLP([]))
  const pong = await it.next()
  assert.ok(!pong.done)
  assert.deepEqual([pong.value.code, hexOf(pong.value.payload)], [PONG, 'c0'])

  const payload = encodeRLP([new Uint8Array(3000).fill(0x61), 'interop'])
  await conn.write(TST + 1, payload)
  await until(() => (TestProtocol.last?.received.length ?? 0) > 0, 'the sub-protocol message')
  const got = TestProtocol.last!.received[0]!
  assert.equal(got.code, 1)
  // ethereumjs hands sub-protocols the decompressed payload
  assert.equal(hexOf(got.data), hexOf(payload))

  // ethereumjs sub-protocols compress their own payloads
  TestProtocol.last!.send(0, snappy.compress(encodeRLP(['back'])))
  const back = await it.next()
  assert.ok(!back.done)
  assert.deepEqual([back.value.code, hexOf(back.value.payload)], [TST, hexOf(encodeRLP(['back']))])
  conn.close()
}

for (const b of backends()) {
  describe(`rlpx interop with @ethereumjs/devp2p [${b.name}]`, () => {
    it('we dial it: handshake, Hellos, compressed messages both ways', async () => {
      const them = ethereumjsNode(true)
      them.rlpx.listen(0, '127.0.0.1')
      const server = (them.rlpx as unknown as { _server: Server })._server
      if (!server.listening) await once(server, 'listening')
      const port = (server.address() as { port: number }).port
      const ours = randomPrivateKey()
      const theirPub = b.publicKey(them.priv)
      const conn = await RLPxConnection.connect('127.0.0.1', port, ours, theirPub, { backend: b })
      await exercise(b, conn, ours, theirPub)
    })

    it('it dials us: handshake, Hellos, compressed messages both ways', async () => {
      const ours = randomPrivateKey()
      const accepted: Array<Promise<RLPxConnection>> = []
      const server = createServer((s) => accepted.push(RLPxConnection.accept(s, ours, { backend: b })))
      servers.push(server)
      server.listen(0, '127.0.0.1')
      await once(server, 'listening')
      const port = (server.address() as { port: number }).port
      const them = ethereumjsNode(false)
      const added = new Promise<void>((resolve) => them.rlpx.events.once('peer:added', () => resolve()))
      await them.rlpx.connect({ id: b.publicKey(ours), address: '127.0.0.1', tcpPort: port })
      await until(() => accepted.length > 0, 'the inbound connection')
      const conn = await accepted[0]!
      assert.equal(hexOf(conn.remotePubkey), hexOf(b.publicKey(them.priv)))
      await exercise(b, conn, ours, b.publicKey(them.priv))
      await added
    })
  })
}
