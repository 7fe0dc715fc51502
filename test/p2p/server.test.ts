import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { randomPrivateKey } from '../../src/crypto/backend.js'
import { Server, type ServerConfig } from '../../src/p2p/server.js'
import { DisconnectReason } from '../../src/p2p/base.js'
import { NetRestrict } from '../../src/p2p/netrestrict.js'
import { P2PError } from '../../src/p2p/errors.js'
import { Peer } from '../../src/p2p/peer.js'
import type { MsgReadWriter, Protocol } from '../../src/p2p/protocol.js'
import { RLPxConnection } from '../../src/rlpx/conn.js'
import { until } from '../discover/fakenet.js'

const servers: Server[] = []
const sockets: Socket[] = []
after(async () => {
  for (const s of sockets) s.destroy()
  await Promise.all(servers.map((s) => s.stop()))
})

/** echoes message 0 back as message 1; remembers each peer's writer and the echoes it got */
class Echo implements Protocol {
  readonly name = 'echo'
  readonly version = 1
  readonly length = 2
  readonly rws = new Map<string, MsgReadWriter>()
  readonly echoes: Uint8Array[] = []
  async run(peer: Peer, rw: MsgReadWriter): Promise<void> {
    this.rws.set(peer.node.idHex, rw)
    for await (const m of rw) {
      if (m.code === 0) await rw.write(1, m.payload)
      else this.echoes.push(m.payload)
    }
  }
}

async function start(cfg: Partial<ServerConfig> = {}): Promise<Server & { echo: Echo }> {
  const echo = new Echo()
  const s = new Server({ privateKey: randomPrivateKey(), host: '127.0.0.1', port: 0, protocols: [echo], noDiscovery: true, noDial: true, ...cfg })
  servers.push(s)
  await s.start()
  return Object.assign(s, { echo })
}

/** dial `s` as a bare client with its own key: RLPx + Hello with the echo capability */
async function client(s: Server, caps: Protocol[] = [new Echo()]): Promise<Peer> {
  const key = randomPrivateKey()
  const conn = await RLPxConnection.connect('127.0.0.1', s.port, key, s.self.pubkey)
  const { backend } = await import('../../src/crypto/backend.js')
  const peer = await Peer.handshake(conn, { id: backend.publicKey(key), clientId: 'test', protocols: caps })
  void peer.run()
  return peer
}

/** the Disconnect reason a refused client got, or undefined once it has been a peer for a while */
async function refusedWith(p: Promise<Peer>): Promise<DisconnectReason | undefined> {
  try {
    const peer = await p
    // a refusal may also come right after the Hello, from the server's second checkpoint
    let timer: NodeJS.Timeout | undefined
    const end = await Promise.race([peer.done, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), 300)))])
    clearTimeout(timer)
    return end?.remoteRequested ? end.reason : undefined
  } catch (e) {
    return e instanceof P2PError ? e.reason : undefined
  }
}

describe('p2p server', () => {
  it('finds a peer through discovery, connects and runs a protocol both ways', async () => {
    const a = await start({ noDiscovery: false, noDial: false })
    const b = await start({ noDiscovery: false, noDial: false, bootnodes: [a.localNode] })
    await until(() => a.peerCount === 1 && b.peerCount === 1, 8000, 'peers connected')
    await until(() => b.echo.rws.has(a.self.idHex) && a.echo.rws.has(b.self.idHex), 2000, 'the echo protocol runs on both')
    await b.echo.rws.get(a.self.idHex)!.write(0, Uint8Array.of(0xc1, 0x07))
    await a.echo.rws.get(b.self.idHex)!.write(0, Uint8Array.of(0xc1, 0x08))
    await until(() => a.echo.echoes.length === 1 && b.echo.echoes.length === 1, 2000, 'echoes')
    assert.deepEqual([...b.echo.echoes[0]!], [0xc1, 0x07])
    assert.deepEqual([...a.echo.echoes[0]!], [0xc1, 0x08])
    const [pa] = a.peerList()
    assert.equal(pa!.remoteHello.clientId.split('/')[0], 'ethp2p')
  })

  it('refuses peers beyond MaxPeers with TooManyPeers, but lets trusted nodes in', async () => {
    const trustedKey = randomPrivateKey()
    const { backend } = await import('../../src/crypto/backend.js')
    const { Node } = await import('../../src/enode/node.js')
    const s = await start({ maxPeers: 1, dialRatio: 1_000, trustedNodes: [new Node(backend.publicKey(trustedKey), '127.0.0.1', 0, 0)] })
    await client(s)
    await until(() => s.peerCount === 1, 2000, 'first peer')
    assert.equal(await refusedWith(client(s)), DisconnectReason.TooManyPeers)
    const conn = await RLPxConnection.connect('127.0.0.1', s.port, trustedKey, s.self.pubkey)
    await Peer.handshake(conn, { id: backend.publicKey(trustedKey), clientId: 'trusted', protocols: [new Echo()] })
    await until(() => s.peerCount === 2, 2000, 'trusted peer beyond MaxPeers')
  })

  it('keeps room for dialled peers: inbound peers stop at MaxPeers - MaxPeers/DialRatio', async () => {
    const s = await start({ maxPeers: 6, dialRatio: 3, noDial: false })
    const reasons = []
    for (let i = 0; i < 5; i++) reasons.push(await refusedWith(client(s)))
    assert.equal(s.peerCount, 4)
    assert.equal(reasons.filter((r) => r === DisconnectReason.TooManyPeers).length, 1)
  })

  it('refuses a peer with no shared capability as useless', async () => {
    const s = await start()
    const failures: string[] = []
    s.on('conn:failed', (f) => failures.push(`${f.stage}:${(f.error as P2PError).reason}`))
    const other: Protocol = { name: 'other', version: 1, length: 1, run: async () => undefined }
    const err = await client(s, [other]).then(
      () => assert.fail('connected'),
      (e: unknown) => e as P2PError,
    )
    assert.equal(err.reason, DisconnectReason.UselessPeer)
    assert.match(err.hello?.clientId ?? '', /^ethp2p\//, 'the refused Hello is kept: a crawler still learns the client')
    await until(() => failures.length === 1, 2000, 'failure event')
    assert.equal(failures[0], `hello:${DisconnectReason.UselessPeer}`)
    assert.equal(s.peerCount, 0)
  })

  it('accepts only small frames until the Hello is through', async () => {
    const s = await start()
    const failures: string[] = []
    s.on('conn:failed', (f) => failures.push(`${f.stage}:${(f.error.cause as { code?: string } | undefined)?.code}`))
    const key = randomPrivateKey()
    const conn = await RLPxConnection.connect('127.0.0.1', s.port, key, s.self.pubkey)
    await conn.write(0x10, new Uint8Array(300 * 1024))
    await until(() => failures.length === 1, 3000, 'refusal')
    assert.deepEqual(failures, ['hello:FRAME_TOO_LARGE'])
    // after the Hello the full limit applies: a 1 MiB message goes out and its echo comes back
    await client(s)
    await until(() => s.peerCount === 1 && s.echo.rws.size === 1, 2000, 'peer')
    await [...s.echo.rws.values()][0]!.write(0, new Uint8Array(1 << 20).fill(7))
    await until(() => s.echo.echoes.length === 1, 3000, '1 MiB echo')
    assert.equal(s.echo.echoes[0]!.length, 1 << 20)
  })

  it('applies NetRestrict to inbound connections', async () => {
    const closed = await start({ netRestrict: NetRestrict.parse('10.0.0.0/8') })
    await assert.rejects(client(closed))
    assert.equal(closed.stats.inboundRefused, 1)
    const open = await start({ netRestrict: NetRestrict.parse('10.0.0.0/8,127.0.0.0/8') })
    await client(open)
    await until(() => open.peerCount === 1, 2000, 'allowed peer')
  })

  it('throttles repeated inbound connections from one IP when limits apply to LAN', async () => {
    const s = await start({ limitsOnLAN: true })
    await client(s)
    await assert.rejects(client(s))
    assert.equal(s.stats.inboundRefused, 1)
    const lan = await start()
    await client(lan)
    await client(lan)
    await until(() => lan.peerCount === 2, 2000, 'loopback is exempt by default')
  })

  it('lets a real peer in past hundreds of idle connections holding the pending slots', async () => {
    const s = await start({ maxPendingPeers: 50 })
    const idle: Socket[] = []
    for (let i = 0; i < 300; i++) {
      const sock = connect(s.port, '127.0.0.1')
      sock.on('error', () => undefined)
      sockets.push(sock)
      idle.push(sock)
    }
    await until(() => s.stats.inboundAccepted >= 300, 5000, 'idle connections accepted')
    assert.ok(s.pendingCount <= 50, `pending ${s.pendingCount}`)
    const t0 = Date.now()
    await client(s)
    await until(() => s.peerCount === 1, 5000, 'peer past the idle crowd')
    assert.ok(Date.now() - t0 < 5000)
  })

  it('refuses newcomers while every pending slot holds a connection that is mid-handshake', async () => {
    const s = await start({ maxPendingPeers: 3, rlpx: { handshakeTimeout: 2000 } })
    const busy: Socket[] = []
    for (let i = 0; i < 3; i++) {
      const sock = connect(s.port, '127.0.0.1', () => sock.write(Uint8Array.of(0x01)))
      sock.on('error', () => undefined)
      sockets.push(sock)
      busy.push(sock)
    }
    await until(() => s.pendingCount === 3, 2000, 'slots taken')
    await new Promise((r) => setTimeout(r, 50)) // the byte has arrived
    await assert.rejects(client(s))
    // the deadline frees the slots, and then a peer gets in
    await until(() => s.pendingCount === 0, 4000, 'deadline frees the slots')
    await client(s)
    await until(() => s.peerCount === 1, 2000, 'peer after the slots freed')
  })

  it('stop() disconnects peers with ClientQuitting and closes the listener and discovery', async () => {
    const s = await start({ noDiscovery: false })
    const p = await client(s)
    await until(() => s.peerCount === 1, 2000, 'peer')
    const port = s.port
    await s.stop()
    const end = await p.done
    assert.equal(end.reason, DisconnectReason.ClientQuitting)
    assert.equal(end.remoteRequested, true)
    assert.equal(s.peerCount, 0)
    await assert.rejects(
      new Promise((resolve, reject) => {
        const sock = connect(port, '127.0.0.1', () => resolve(sock))
        sock.on('error', reject)
      }),
    )
  })
})
