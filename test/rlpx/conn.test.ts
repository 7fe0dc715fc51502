import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { once } from 'node:events'
import { randomPrivateKey } from '../../src/crypto/backend.js'
import { concatBytes } from '../../src/crypto/bytes.js'
import { ECIES_OVERHEAD, type CryptoBackend } from '../../src/crypto/types.js'
import { RLPxConnection, type ConnectionOptions } from '../../src/rlpx/conn.js'
import { RLPxError } from '../../src/rlpx/errors.js'
import { FrameCodec, type Message } from '../../src/rlpx/frame.js'
import { deriveSecrets, InitiatorHandshake, LEGACY_ACK_SIZE, makeAck, makeAuth, readAck } from '../../src/rlpx/handshake.js'
import { encodeRLP } from '../../src/util/rlp.js'
import { backends, hexOf } from '../crypto/helpers.js'

const servers: Server[] = []
const sockets: Socket[] = []
after(() => {
  for (const s of sockets) s.destroy()
  for (const s of servers) s.close()
})

const isCode = (code: string) => (e: unknown) => e instanceof RLPxError && e.code === code

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, isCode(code))
}

async function serve(onSocket: (s: Socket) => void): Promise<number> {
  const server = createServer((s) => {
    sockets.push(s)
    onSocket(s)
  })
  servers.push(server)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return (server.address() as { port: number }).port
}

/** A loopback listener that runs the recipient handshake on every connection. */
async function listen(b: CryptoBackend, priv: Uint8Array, opts: ConnectionOptions = {}) {
  const accepted: Array<Promise<RLPxConnection>> = []
  const port = await serve((s) => {
    const p = RLPxConnection.accept(s, priv, { backend: b, ...opts })
    p.catch(() => undefined) // each test awaits the ones it cares about
    accepted.push(p)
  })
  /** the n-th accepted connection, once its socket has arrived */
  const nth = async (n: number) => {
    for (let i = 0; i < 200 && accepted.length <= n; i++) await new Promise((r) => setTimeout(r, 10))
    return accepted[n]!
  }
  return { port, nth }
}

async function rawSocket(port: number): Promise<Socket> {
  const s = connect({ host: '127.0.0.1', port })
  sockets.push(s)
  // the peer resets connections it refuses; the tests watch for 'close'
  s.on('error', () => undefined)
  await once(s, 'connect')
  return s
}

/** Read from `s` until `step` yields; the socket stays open (async-iterating a socket would destroy it). */
function readUntil<T>(s: Socket, step: (buf: Uint8Array) => T | null): Promise<T> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0)
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk])
      const r = step(buf)
      if (!r) return
      s.off('data', onData)
      s.off('close', onClose)
      resolve(r)
    }
    const onClose = () => reject(new Error('socket closed first'))
    s.on('data', onData)
    s.once('close', onClose)
  })
}

/** Our handshake on a raw socket, so the test can then write arbitrary frames. */
async function rawInitiator(b: CryptoBackend, port: number, remotePub: Uint8Array) {
  const s = await rawSocket(port)
  const hs = new InitiatorHandshake(b, randomPrivateKey(), remotePub)
  s.write(hs.auth)
  const r = await readUntil(s, (buf) => hs.readAck(buf))
  return { s, codec: new FrameCodec(b.frameCipher(r.secrets)) }
}

async function first(conn: RLPxConnection): Promise<Message> {
  const r = await conn[Symbol.asyncIterator]().next()
  assert.ok(!r.done)
  return r.value
}

/** The next `n` messages as "code:hex", leaving the connection open (a for-await `break` would close it). */
async function take(conn: RLPxConnection, n: number): Promise<string[]> {
  const it = conn[Symbol.asyncIterator]()
  const got: string[] = []
  while (got.length < n) {
    const r = await it.next()
    assert.ok(!r.done)
    got.push(`${r.value.code}:${hexOf(r.value.payload)}`)
  }
  return got
}

for (const b of backends()) {
  describe(`rlpx connection over loopback [${b.name}]`, () => {
    const serverKey = randomPrivateKey()
    const serverPub = b.publicKey(serverKey)

    it('serves concurrent readers in order, and ends every waiting one when the connection closes', async () => {
      const { port, nth } = await listen(b, serverKey)
      const client = await RLPxConnection.connect('127.0.0.1', port, randomPrivateKey(), serverPub, { backend: b })
      const server = await nth(0)
      const it = server[Symbol.asyncIterator]()
      const [r1, r2] = [it.next(), it.next()]
      const r3 = it.next()
      await client.write(0x10, Uint8Array.of(1))
      await client.write(0x11, Uint8Array.of(2))
      assert.deepEqual([(await r1).value?.code, (await r2).value?.code], [0x10, 0x11])
      server.close()
      assert.equal((await r3).done, true)
      client.close()
    })

    it('handshakes, exchanges messages both ways (snappy on, 1 MiB included) and closes cleanly', async () => {
      const { port, nth } = await listen(b, serverKey)
      const clientKey = randomPrivateKey()
      const client = await RLPxConnection.connect('127.0.0.1', port, clientKey, serverPub, { backend: b })
      const server = await nth(0)
      assert.equal(hexOf(server.remotePubkey), hexOf(b.publicKey(clientKey)))
      assert.equal(hexOf(client.remotePubkey), hexOf(serverPub))
      // Hellos go uncompressed, then both switch
      await client.write(0x00, Uint8Array.of(0xc0))
      await server.write(0x00, Uint8Array.of(0xc1, 0x05))
      assert.deepEqual(await take(server, 1), ['0:c0'])
      assert.deepEqual(await take(client, 1), ['0:c105'])
      client.setSnappy(true)
      server.setSnappy(true)
      const big = new Uint8Array(1 << 20).map((_, i) => (i * 7) & 0xff)
      const sent: Message[] = [
        { code: 0x02, payload: Uint8Array.of(0xc0) },
        { code: 0x10, payload: big },
        { code: 0x11, payload: new Uint8Array(0) },
      ]
      await Promise.all(sent.map((m) => client.write(m.code, m.payload)))
      await server.write(0x03, Uint8Array.of(0xc0))
      assert.deepEqual(await take(client, 1), ['3:c0'])
      const got: Message[] = []
      for await (const m of server) {
        got.push(m)
        if (got.length === sent.length) break
      }
      assert.deepEqual(got.map((m) => [m.code, hexOf(m.payload)]), sent.map((m) => [m.code, hexOf(m.payload)]))
      // the loop's break closed the server side; the client sees the peer go
      assert.equal(await server.closed, undefined)
      await rejectsWith(first(client), 'CLOSED')
      await rejectsWith(client.write(0x02, Uint8Array.of(0xc0)), 'CLOSED')
    })

    it('accepts a Disconnect compressed or raw once snappy is on', async () => {
      const { port, nth } = await listen(b, serverKey)
      const client = await RLPxConnection.connect('127.0.0.1', port, randomPrivateKey(), serverPub, { backend: b })
      const server = await nth(0)
      client.setSnappy(true)
      server.setSnappy(true)
      await server.write(0x03, Uint8Array.of(0xc0))
      await server.write(0x01, Uint8Array.of(0xc1, 0x04))
      // a peer that sends its Disconnect uncompressed
      server.setSnappy(false)
      await server.write(0x01, Uint8Array.of(0xc1, 0x08))
      assert.deepEqual(await take(client, 3), ['3:c0', '1:c104', '1:c108'])
    })

    it('honours back-pressure: writes wait for drain, a slow reader pauses the socket, nothing is lost', async () => {
      const { port, nth } = await listen(b, serverKey, { maxBuffered: 64 * 1024 })
      const client = await RLPxConnection.connect('127.0.0.1', port, randomPrivateKey(), serverPub, { backend: b })
      const server = await nth(0)
      const chunk = (i: number) => new Uint8Array(256 * 1024).fill(i)
      const writes = Array.from({ length: 32 }, (_, i) => client.write(0x10, chunk(i)))
      const pending = await Promise.race([writes[31]!.then(() => 'done'), new Promise((r) => setImmediate(() => r('pending')))])
      assert.equal(pending, 'pending', 'the last write waits for the socket to drain')
      const it = server[Symbol.asyncIterator]()
      for (let i = 0; i < 32; i++) {
        const r = await it.next()
        assert.ok(!r.done)
        assert.equal(r.value.payload.length, 256 * 1024)
        assert.equal(r.value.payload[0], i)
      }
      await Promise.all(writes)
      client.close()
    })

    it('fails writes with WRITE_TIMEOUT when the peer stops reading', async () => {
      const { port, nth } = await listen(b, serverKey, { writeTimeout: 300 })
      const raw = await rawInitiator(b, port, serverPub)
      const server = await nth(0)
      // the peer stops reading: kernel buffers fill, a write then waits for a drain that never comes
      raw.s.pause()
      const big = new Uint8Array(1 << 20)
      const writeUntilStuck = async () => {
        for (let i = 0; i < 64; i++) await server.write(0x10, big)
      }
      await rejectsWith(writeUntilStuck(), 'WRITE_TIMEOUT')
      assert.equal((await server.closed)?.code, 'WRITE_TIMEOUT')
    })

    it('answers a legacy auth with a legacy ack over TCP', async () => {
      const { port, nth } = await listen(b, serverKey)
      const s = await rawSocket(port)
      const key = randomPrivateKey()
      s.write(makeAuth(b, { priv: key, remotePubkey: serverPub, ephemeralKey: randomPrivateKey(), nonce: new Uint8Array(32).fill(9) }, {}, true))
      const ack = await readUntil(s, (buf) => readAck(b, key, buf))
      assert.equal(ack.body.legacy, true)
      assert.equal(ack.wire.length, LEGACY_ACK_SIZE)
      assert.equal(hexOf((await nth(0)).remotePubkey), hexOf(b.publicKey(key)))
    })

    it('refuses tampered frames (one bit in header, header MAC, body, frame MAC) with BAD_MAC and closes', async () => {
      const { port, nth } = await listen(b, serverKey)
      let n = 0
      for (const at of [5, 20, 40, -1]) {
        const raw = await rawInitiator(b, port, serverPub)
        const server = await nth(n++)
        const f = Uint8Array.from(raw.codec.encode(0x10, new Uint8Array(30).fill(1)))
        f[at < 0 ? f.length + at : at]! ^= 0x80
        raw.s.write(f)
        await rejectsWith(first(server), 'BAD_MAC')
        assert.equal(server.error?.code, 'BAD_MAC')
        await once(raw.s, 'close')
      }
    })

    it('refuses an oversized frame from its header and a snappy bomb from its length header', async () => {
      const { port, nth } = await listen(b, serverKey, { maxFrameSize: 4096 })
      const raw = await rawInitiator(b, port, serverPub)
      const server = await nth(0)
      raw.s.write(raw.codec.encode(0x10, new Uint8Array(64 * 1024)))
      await rejectsWith(first(server), 'FRAME_TOO_LARGE')

      const raw2 = await rawInitiator(b, port, serverPub)
      const server2 = await nth(1)
      server2.setSnappy(true)
      // varint 0x80 0x80 0x80 0x10 = 32 MiB claimed, two bytes carried
      raw2.s.write(raw2.codec.encode(0x10, Uint8Array.of(0x80, 0x80, 0x80, 0x10, 0x00, 0x61)))
      await rejectsWith(first(server2), 'DECOMPRESS_LIMIT')
      await once(raw2.s, 'close')
    })

    it('refuses a handshake size prefix over 2048 at once', async () => {
      const { port, nth } = await listen(b, serverKey)
      const s = await rawSocket(port)
      s.write(Uint8Array.of(0x08, 0x01, 0x04))
      await rejectsWith(nth(0), 'SIZE_LIMIT')
      await once(s, 'close')
    })

    it('drops a peer that connects and sends nothing at the handshake deadline', async () => {
      const { port, nth } = await listen(b, serverKey, { handshakeTimeout: 300 })
      const s = await rawSocket(port)
      await rejectsWith(nth(0), 'HANDSHAKE_TIMEOUT')
      await once(s, 'close')
    })

    it('drops a peer that goes silent after the handshake at the read deadline', async () => {
      const { port, nth } = await listen(b, serverKey, { readTimeout: 300 })
      const raw = await rawInitiator(b, port, serverPub)
      const server = await nth(0)
      assert.equal((await server.closed)?.code, 'READ_TIMEOUT')
      await once(raw.s, 'close')
    })

    it('rejects an auth carrying a static key with x ≥ p with BAD_KEY', async () => {
      const { port, nth } = await listen(b, serverKey)
      const bad = new Uint8Array(64)
      bad.set(Buffer.from('fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc30', 'hex'))
      bad[63] = 1
      const plain = concatBytes(encodeRLP([new Uint8Array(65), bad, new Uint8Array(32), 4]), new Uint8Array(100))
      const prefix = Uint8Array.of((plain.length + ECIES_OVERHEAD) >> 8, (plain.length + ECIES_OVERHEAD) & 0xff)
      const s = await rawSocket(port)
      s.write(concatBytes(prefix, b.eciesEncrypt(serverPub, plain, prefix)))
      await rejectsWith(nth(0), 'BAD_KEY')
      await once(s, 'close')
    })

    it('refuses to dial an invalid public key', async () => {
      const { port } = await listen(b, serverKey)
      await rejectsWith(RLPxConnection.connect('127.0.0.1', port, randomPrivateKey(), new Uint8Array(64).fill(1), { backend: b }), 'BAD_KEY')
    })

    it('a recipient without the dialled key cannot answer: IDENTITY_MISMATCH', async () => {
      // an impostor that knows the dialler's public key but not the dialled private key
      const clientKey = randomPrivateKey()
      const port = await serve((s) => {
        s.once('data', () => {
          const eph = randomPrivateKey()
          const nonce = new Uint8Array(32).fill(3)
          const ack = makeAck(b, { remotePubkey: b.publicKey(clientKey), ephemeralKey: eph, nonce })
          // it cannot read the auth, so it has to guess the initiator's ephemeral key and nonce
          const secrets = deriveSecrets(b, {
            initiator: false,
            ephemeralKey: eph,
            remoteEphemeralPubkey: b.publicKey(randomPrivateKey()),
            localNonce: nonce,
            remoteNonce: new Uint8Array(32),
            sent: ack,
            received: new Uint8Array(0),
          })
          s.write(concatBytes(ack, new FrameCodec(b.frameCipher(secrets)).encode(0x00, Uint8Array.of(0xc0))))
        })
      })
      const conn = await RLPxConnection.connect('127.0.0.1', port, clientKey, serverPub, { backend: b })
      await rejectsWith(first(conn), 'IDENTITY_MISMATCH')
    })

    it('dialling the wrong key fails the recipient with BAD_AUTH and the dialler with CLOSED', async () => {
      const { port, nth } = await listen(b, serverKey)
      const wrong = b.publicKey(randomPrivateKey())
      await rejectsWith(RLPxConnection.connect('127.0.0.1', port, randomPrivateKey(), wrong, { backend: b }), 'CLOSED')
      await rejectsWith(nth(0), 'BAD_AUTH')
    })

    it('an abort signal cancels a pending handshake', async () => {
      const port = await serve(() => undefined)
      const s = await rawSocket(port)
      const ac = new AbortController()
      const p = RLPxConnection.initiate(s, randomPrivateKey(), serverPub, { backend: b, signal: ac.signal })
      ac.abort()
      await rejectsWith(p, 'CLOSED')
      assert.ok(s.destroyed)
    })
  })
}
