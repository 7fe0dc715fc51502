/**
 * Adversarial load on the p2p server over loopback: bad keys in auth and ack, a thousand connections
 * that never finish the handshake, oversized frames and a decompression bomb from connected peers,
 * and a peer that stops reading. After each, a fresh dialler must still complete RLPx + Hello, and
 * what the server holds (pending slots, peers, heap) must stay bounded. The codec-level versions of
 * these cases live in test/rlpx/*.test.ts; here they go through the whole server.
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { connect, createServer, type Server as NetServer, type Socket } from 'node:net'
import { once } from 'node:events'
import { backend, randomPrivateKey } from '../../src/crypto/backend.js'
import { concatBytes } from '../../src/crypto/bytes.js'
import { ECIES_OVERHEAD } from '../../src/crypto/types.js'
import { Node } from '../../src/enode/node.js'
import { encodeHello } from '../../src/p2p/messages.js'
import type { Peer, PeerEnd } from '../../src/p2p/peer.js'
import type { MsgReadWriter, Protocol } from '../../src/p2p/protocol.js'
import { DEFAULT_MAX_PENDING_PEERS, Server, type ServerConfig } from '../../src/p2p/server.js'
import { RLPxConnection } from '../../src/rlpx/conn.js'
import { RLPxError } from '../../src/rlpx/errors.js'
import { FrameCodec } from '../../src/rlpx/frame.js'
import { InitiatorHandshake, LEGACY_ACK_SIZE, LEGACY_AUTH_SIZE } from '../../src/rlpx/handshake.js'
import { Peer as PeerClass } from '../../src/p2p/peer.js'
import { encodeRLP } from '../../src/util/rlp.js'
import { until } from '../discover/fakenet.js'
import { acceptsFreshPeer, assertHeapBounded, BAD_KEYS, bytes, heapAfterGC, Sink, sleep } from './helpers.js'

const servers: Server[] = []
const listeners: NetServer[] = []
const sockets: Socket[] = []
after(async () => {
  for (const s of sockets) s.destroy()
  for (const l of listeners) l.close()
  await Promise.all(servers.map((s) => s.stop()))
})

const MiB = 2 ** 20

/** echoes code 0 back as code 1: what a peer can make the server write (the Sink is what probes speak) */
class Echo implements Protocol {
  readonly name = 'echo'
  readonly version = 1
  readonly length = 2
  async run(_peer: Peer, rw: MsgReadWriter): Promise<void> {
    for await (const m of rw) if (m.code === 0) await rw.write(1, m.payload)
  }
}

async function start(cfg: Partial<ServerConfig> = {}): Promise<Server> {
  const s = new Server({ privateKey: randomPrivateKey(), host: '127.0.0.1', port: 0, protocols: [new Echo(), new Sink()], noDiscovery: true, noDial: true, ...cfg })
  servers.push(s)
  await s.start()
  return s
}

function rawSocket(port: number): Promise<Socket> {
  const s = connect({ host: '127.0.0.1', port })
  sockets.push(s)
  // the server resets what it refuses; tests watch for 'close'
  s.on('error', () => undefined)
  return once(s, 'connect').then(() => s)
}

/** read from `s` until `step` yields, leaving the socket open */
function readUntil<T>(s: Socket, step: (buf: Uint8Array) => T | null): Promise<T> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0)
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk])
      const r = step(buf)
      if (!r) return
      s.off('data', onData)
      s.off('close', onClose)
      resolve(r)
    }
    const onClose = (): void => reject(new Error('socket closed first'))
    s.on('data', onData)
    s.once('close', onClose)
  })
}

/** a peer driven by hand: our handshake on a raw socket, then whatever frames the test writes */
async function rawPeer(s: Server, hello = true): Promise<{ sock: Socket; codec: FrameCodec; id: string }> {
  const key = randomPrivateKey()
  const sock = await rawSocket(s.port)
  const hs = new InitiatorHandshake(backend, key, s.self.pubkey)
  sock.write(hs.auth)
  const r = await readUntil(sock, (buf) => hs.readAck(buf))
  const codec = new FrameCodec(backend.frameCipher(r.secrets))
  const pub = backend.publicKey(key)
  const id = new Node(pub, '127.0.0.1', 0, 0).idHex
  if (hello) {
    sock.write(codec.encode(0x00, encodeHello({ protocolVersion: 5, clientId: 'adversary', caps: [{ name: 'echo', version: 1 }], listenPort: 0, id: pub })))
    await until(() => s.peerList().some((p) => p.node.idHex === id), 5000, 'raw peer registered')
    // both Hellos said v5: from here on message payloads are snappy-compressed both ways
  }
  return { sock, codec, id }
}

/** an honest client running Echo; returns a function that checks an echo round trip */
async function honestPeer(s: Server): Promise<{ peer: PeerClass; roundTrip: () => Promise<void> }> {
  const key = randomPrivateKey()
  const conn = await RLPxConnection.connect('127.0.0.1', s.port, key, s.self.pubkey)
  let rw!: MsgReadWriter
  const ready = new Promise<void>((r) => {
    const proto: Protocol = {
      name: 'echo',
      version: 1,
      length: 2,
      run: async (_p, w) => {
        rw = w
        r()
        await new Promise(() => undefined)
      },
    }
    void PeerClass.handshake(conn, { id: backend.publicKey(key), clientId: 'honest', protocols: [proto] }).then((p) => {
      peers.push(p)
      void p.run()
    })
  })
  await ready
  const peer = peers.at(-1)!
  const roundTrip = async (): Promise<void> => {
    const payload = new Uint8Array(randomBytes(100))
    await rw.write(0, payload)
    const m = await rw.read()
    assert.equal(m.code, 1)
    assert.equal(Buffer.from(m.payload).toString('hex'), Buffer.from(payload).toString('hex'))
  }
  return { peer, roundTrip }
}
const peers: PeerClass[] = []
after(() => {
  for (const p of peers) p.disconnect()
})

/** the RLPxError code somewhere in an error's cause chain */
function rlpxCode(e: unknown): string | undefined {
  for (let x = e; x instanceof Error; x = x.cause) if (x instanceof RLPxError) return x.code
  return undefined
}

/** an EIP-8 handshake message with a plaintext of our choosing, sealed to `to` */
function sealEip8(to: Uint8Array, body: unknown): Uint8Array {
  const plain = concatBytes(encodeRLP(body as Parameters<typeof encodeRLP>[0]), new Uint8Array(100))
  const prefix = Uint8Array.of((plain.length + ECIES_OVERHEAD) >> 8, (plain.length + ECIES_OVERHEAD) & 0xff)
  return concatBytes(prefix, backend.eciesEncrypt(to, plain, prefix))
}

describe('server: bad public keys in the handshake', () => {
  it('refuses auths with a static key ≥ p / off the curve (EIP-8 and legacy) or an unrecoverable signature, then serves a fresh peer', async () => {
    const s = await start()
    const failures: string[] = []
    s.on('conn:failed', (f) => failures.push(`${f.stage}:${rlpxCode(f.error)}`))
    const sig = concatBytes(new Uint8Array(randomBytes(64)), Uint8Array.of(0))
    const nonce = new Uint8Array(32).fill(7)
    const auths: Array<[string, Uint8Array]> = []
    for (const [what, key] of BAD_KEYS) {
      auths.push([`EIP-8 ${what}`, sealEip8(s.self.pubkey, [sig, key, nonce, 4])])
      const legacy = backend.eciesEncrypt(s.self.pubkey, concatBytes(sig, new Uint8Array(32), key, nonce, Uint8Array.of(0)))
      assert.equal(legacy.length, LEGACY_AUTH_SIZE)
      auths.push([`legacy ${what}`, legacy])
    }
    // a good static key, but a signature whose r is ≥ p: no ephemeral key can be recovered from it
    const rOverP = concatBytes(bytes('fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc30'), new Uint8Array(32).fill(1), Uint8Array.of(0))
    auths.push(['signature r ≥ p', sealEip8(s.self.pubkey, [rOverP, backend.publicKey(randomPrivateKey()), nonce, 4])])
    for (const [what, auth] of auths) {
      const sock = await rawSocket(s.port)
      sock.write(auth)
      await once(sock, 'close')
      assert.ok(!sock.destroyed || sock.bytesRead === 0, `${what}: the server answered`)
    }
    await until(() => failures.length === auths.length, 3000, 'every auth refused')
    for (const [i, f] of failures.entries()) assert.match(f, /^rlpx:(BAD_KEY|BAD_AUTH)$/, auths[i]![0])
    assert.equal(failures.filter((f) => f === 'rlpx:BAD_KEY').length, 2 * BAD_KEYS.length, failures.join(' '))
    assert.equal(s.pendingCount, 0)
    await acceptsFreshPeer(s)
  })

  it('a dialled node answering with an ephemeral key ≥ p / off the curve (EIP-8 and legacy ack) fails the dial with BAD_KEY', async () => {
    const s = await start({ noDial: false })
    const ends: Array<{ label: string; code: string | undefined }> = []
    const labels = new Map<string, string>()
    for (const [what, key] of BAD_KEYS) {
      for (const legacy of [false, true]) {
        const nonce = new Uint8Array(32).fill(3)
        const ack = legacy ? backend.eciesEncrypt(s.self.pubkey, concatBytes(key, nonce, Uint8Array.of(0))) : sealEip8(s.self.pubkey, [key, nonce, 4])
        if (legacy) assert.equal(ack.length, LEGACY_ACK_SIZE)
        // a listener that answers any auth with the forged ack
        const l = createServer((c) => {
          sockets.push(c)
          c.on('error', () => undefined)
          c.once('data', () => c.write(ack))
        })
        listeners.push(l)
        l.listen(0, '127.0.0.1')
        await once(l, 'listening')
        const port = (l.address() as { port: number }).port
        const n = new Node(backend.publicKey(randomPrivateKey()), '127.0.0.1', 0, port)
        labels.set(n.idHex, `${legacy ? 'legacy' : 'EIP-8'} ${what}`)
        s.addStatic(n)
      }
    }
    s.on('dial:end', (n, _kind, err) => {
      if (labels.has(n.idHex) && !ends.some((e) => e.label === labels.get(n.idHex))) ends.push({ label: labels.get(n.idHex)!, code: rlpxCode(err) })
    })
    await until(() => ends.length === labels.size, 8000, 'every forged ack refused')
    for (const e of ends) assert.equal(e.code, 'BAD_KEY', e.label)
    assert.equal(s.peerCount, 0)
    await acceptsFreshPeer(s)
  })
})

describe('server: handshake exhaustion', () => {
  it('1,000 connections that never finish the handshake: at most 50 pending, deadlines free them, a real peer gets in', async () => {
    const s = await start({ rlpx: { handshakeTimeout: 800 } })
    const heap0 = heapAfterGC()
    // a real auth cut short: those connections are mid-handshake and cannot be evicted as idle
    const partial = new InitiatorHandshake(backend, randomPrivateKey(), s.self.pubkey).auth.subarray(0, 40)
    let maxPending = 0
    let closed = 0
    const sample = setInterval(() => (maxPending = Math.max(maxPending, s.pendingCount)), 2)
    try {
      for (let batch = 0; batch < 10; batch++) {
        const opened = await Promise.all(
          Array.from({ length: 100 }, async (_, i) => {
            const sock = await rawSocket(s.port)
            sock.once('close', () => closed++)
            if (i % 4 === 0) sock.write(partial)
            return sock
          }),
        )
        assert.equal(opened.length, 100)
        maxPending = Math.max(maxPending, s.pendingCount)
      }
      await until(() => s.stats.inboundAccepted + s.stats.inboundRefused >= 1000, 5000, 'all 1000 seen by the server')
      // the server closes every one of them: refused, evicted as idle, or at the handshake deadline
      await until(() => closed === 1000, 10_000, `all closed by the server (${closed})`)
      await until(() => s.pendingCount === 0, 3000, 'pending slots free')
    } finally {
      clearInterval(sample)
    }
    assert.ok(maxPending <= DEFAULT_MAX_PENDING_PEERS, `pending peaked at ${maxPending}`)
    assert.ok(maxPending > 0)
    assert.equal(s.peerCount, 0)
    await acceptsFreshPeer(s)
    assertHeapBounded(heap0, 48 * MiB, '1000 idle connections')
  })
})

describe('server: hostile frames from connected peers', () => {
  it('drops a peer sending an oversized frame header (before and after Hello) and one sending a snappy bomb; the others keep working', async () => {
    const s = await start({ rlpx: { maxFrameSize: 256 * 1024 } })
    const honest = await Promise.all([0, 1, 2].map(() => honestPeer(s)))
    await until(() => s.peerCount === 3, 3000, 'honest peers')
    const removed = new Map<string, PeerEnd>()
    s.on('peer:removed', (p, end) => removed.set(p.node.idHex, end))
    const failed: string[] = []
    s.on('conn:failed', (f) => failed.push(`${f.stage}:${rlpxCode(f.error)}`))

    // before Hello: the header of a 1 MiB frame, and nothing else (the body never needs to arrive)
    const early = await rawPeer(s, false)
    early.sock.write(early.codec.encode(0x00, new Uint8Array(MiB)).subarray(0, 32))
    await once(early.sock, 'close')
    await until(() => failed.length === 1, 3000, 'early attacker refused')
    assert.equal(failed[0], 'hello:FRAME_TOO_LARGE')

    // after Hello, as a running peer
    const big = await rawPeer(s)
    big.sock.write(big.codec.encode(0x10, new Uint8Array(MiB)).subarray(0, 32))
    await once(big.sock, 'close')
    await until(() => removed.has(big.id), 3000, 'oversized-frame peer removed')
    assert.equal(rlpxCode(removed.get(big.id)!.error), 'FRAME_TOO_LARGE')

    // a snappy payload claiming 32 MiB (varint 0x80 0x80 0x80 0x10) in a few bytes
    const heap0 = heapAfterGC()
    const bomb = await rawPeer(s)
    bomb.sock.write(bomb.codec.encode(0x10, Uint8Array.of(0x80, 0x80, 0x80, 0x10, 0x00, 0x61)))
    await once(bomb.sock, 'close')
    await until(() => removed.has(bomb.id), 3000, 'bomb peer removed')
    assert.equal(rlpxCode(removed.get(bomb.id)!.error), 'DECOMPRESS_LIMIT')
    assertHeapBounded(heap0, 16 * MiB, 'snappy bomb')

    assert.equal(s.peerCount, 3, 'the honest peers are still connected')
    for (const h of honest) await h.roundTrip()
    await acceptsFreshPeer(s)
  })

  it('a peer that stops reading while the server writes: buffering stays bounded, the write deadline drops it', async () => {
    const s = await start({ rlpx: { writeTimeout: 1000, maxBuffered: MiB } })
    const honest = await honestPeer(s)
    const removed = new Map<string, PeerEnd>()
    s.on('peer:removed', (p, end) => removed.set(p.node.idHex, end))
    const slow = await rawPeer(s)
    slow.codec.snappy = true
    slow.sock.pause()
    const base = process.memoryUsage()
    let peak = 0
    const sample = setInterval(() => {
      const m = process.memoryUsage()
      peak = Math.max(peak, m.heapUsed + m.arrayBuffers - base.heapUsed - base.arrayBuffers)
    }, 5)
    // echo requests of 64 KiB (incompressible), up to 32 MiB in all; we only write while our own
    // socket buffer is small, so what gets through is what the server chose to read
    const payload = encodeRLP(new Uint8Array(randomBytes(64 * 1024)))
    let sent = 0
    try {
      for (let i = 0; i < 512 && !slow.sock.destroyed && !removed.has(slow.id); i++) {
        while (slow.sock.writableLength > MiB && !slow.sock.destroyed && !removed.has(slow.id)) await sleep(5)
        const frame = slow.codec.encode(0x10, payload)
        slow.sock.write(frame)
        sent += frame.length
      }
      await until(() => removed.has(slow.id), 10_000, 'slow reader dropped')
    } finally {
      clearInterval(sample)
    }
    assert.equal(rlpxCode(removed.get(slow.id)!.error), 'WRITE_TIMEOUT')
    // the server stopped reading instead of buffering: it took in its 1 MiB message buffer, the
    // protocol queue (16 messages) and what the kernel's socket buffers hold, then we stalled
    assert.ok(sent < 24 * MiB, `${(sent / MiB).toFixed(1)} MiB went in before the stall`)
    assert.ok(peak < 64 * MiB, `memory grew by ${(peak / MiB).toFixed(1)} MiB while the reader stalled`)
    await honest.roundTrip()
    await acceptsFreshPeer(s)
  })
})
