/**
 * Peers over loopback RLPx: two of ours, or one of ours against a raw connection that plays the
 * remote by hand (to send what our Peer never would, or to stay silent).
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { backend, randomPrivateKey } from '../../src/crypto/backend.js'
import type { RLPxConnection } from '../../src/rlpx/conn.js'
import type { Message } from '../../src/rlpx/frame.js'
import { P2PError } from '../../src/p2p/errors.js'
import { DisconnectReason } from '../../src/p2p/base.js'
import { BaseMsg, decodeDisconnect, decodeHello, EMPTY_LIST, encodeDisconnect, encodeHello } from '../../src/p2p/messages.js'
import { Peer, type PeerEnd, type PeerOptions } from '../../src/p2p/peer.js'
import type { Protocol } from '../../src/p2p/protocol.js'
import { encodeRLP } from '../../src/util/rlp.js'
import { connPair, Echo, pub, Resources, utf8, type ConnPair } from './helpers.js'

const res = new Resources()
after(() => res.close())

type Side = Partial<PeerOptions> & { protocols: readonly Protocol[] }

/** Hellos on both ends of a fresh connection; the dialer is `a`, the listener `b`. */
async function handshakeBoth(a: Side, b: Side, opts: { pair?: ConnPair; run?: boolean } = {}): Promise<[PromiseSettledResult<Peer>, PromiseSettledResult<Peer>]> {
  const p = opts.pair ?? (await connPair(res))
  // a server runs a peer as soon as its handshake is done: only a running peer reads a later Disconnect
  const started = (peer: Peer) => {
    if (opts.run) void peer.run()
    return peer
  }
  const results = await Promise.allSettled([
    Peer.handshake(p.dialer, { id: pub(p.dialerKey), clientId: 'peer-a', listenPort: 30303, ...a }).then(started),
    Peer.handshake(p.listener, { id: pub(p.listenerKey), clientId: 'peer-b', inbound: true, ...b }).then(started),
  ])
  for (const r of results) if (r.status === 'fulfilled') res.peers.push(r.value)
  return results
}

async function peers(a: Side, b: Side): Promise<[Peer, Peer]> {
  const [ra, rb] = await handshakeBoth(a, b)
  if (ra.status === 'rejected') throw ra.reason
  if (rb.status === 'rejected') throw rb.reason
  return [ra.value, rb.value]
}

function refusedWith(r: PromiseSettledResult<Peer>, reason: DisconnectReason, remoteRequested: boolean): void {
  assert.equal(r.status, 'rejected')
  const e = (r as PromiseRejectedResult).reason
  assert.ok(e instanceof P2PError, String(e))
  assert.equal(e.code, 'DISCONNECTED')
  assert.equal(e.reason, reason, e.message)
  assert.equal(e.remoteRequested, remoteRequested)
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
/** a message as [code, payload hex]: payloads may come back as Buffers */
const msg = (m: Message): [number, string] => [m.code, hex(m.payload)]

function endedWith(end: PeerEnd, reason: DisconnectReason, remoteRequested: boolean): void {
  assert.deepEqual([DisconnectReason[end.reason] ?? end.reason, end.remoteRequested], [DisconnectReason[reason], remoteRequested], end.error?.message)
}

/** The remote played by hand: its messages in order, and what it sends. */
class Raw {
  private readonly it: AsyncIterator<Message>
  constructor(readonly conn: RLPxConnection) {
    this.it = conn[Symbol.asyncIterator]()
  }
  async next(): Promise<Message> {
    const r = await this.it.next()
    assert.ok(!r.done, 'connection ended')
    return r.value
  }
  /** the next message that is not a Ping or Pong */
  async nextOther(): Promise<Message> {
    for (let i = 0; i < 1000; i++) {
      const m = await this.next()
      if (m.code !== BaseMsg.Ping && m.code !== BaseMsg.Pong) return m
    }
    throw new Error('only pings')
  }
  send(code: number, payload: Uint8Array): Promise<void> {
    return this.conn.write(code, payload)
  }
}

/** A raw dialer against one of our Peers (the listener). */
async function rawAgainstPeer(opts: Partial<PeerOptions> & { protocols: readonly Protocol[] }, pairOpts: Parameters<typeof connPair>[1] = {}) {
  const pair = await connPair(res, pairOpts)
  const peer = Peer.handshake(pair.listener, { id: pub(pair.listenerKey), clientId: 'ours', inbound: true, ...opts })
  peer.then((p) => res.peers.push(p), () => undefined)
  return { raw: new Raw(pair.dialer), peer, pair }
}

/** The raw side's Hello as our Peer expects it (v5, echo/1, its own key); then both compress. */
async function rawHello(raw: Raw, pair: ConnPair, over: Partial<Parameters<typeof encodeHello>[0]> = {}): Promise<void> {
  const ours = await raw.next()
  assert.equal(ours.code, BaseMsg.Hello)
  const h = { protocolVersion: 5, clientId: 'raw', caps: [{ name: 'echo', version: 1 }], listenPort: 0, id: pub(pair.dialerKey), ...over }
  await raw.send(BaseMsg.Hello, encodeHello(h))
  raw.conn.setSnappy(h.protocolVersion >= 5 && decodeHello(ours.payload).protocolVersion >= 5)
}

describe('Peer: Hello exchange and protocols', () => {
  it('exchanges Hellos, matches caps, runs a protocol both ways, ends cleanly', async () => {
    const ea = new Echo()
    const eb = new Echo()
    const [a, b] = await peers({ protocols: [ea] }, { protocols: [eb, { name: 'other', version: 3, length: 4, run: async () => undefined }] })

    assert.equal(a.remoteHello.clientId, 'peer-b')
    assert.equal(b.remoteHello.clientId, 'peer-a')
    assert.equal(b.remoteHello.listenPort, 30303)
    assert.equal(a.remoteHello.protocolVersion, 5)
    assert.deepEqual(a.remoteHello.caps, [
      { name: 'echo', version: 1 },
      { name: 'other', version: 3 },
    ])
    assert.deepEqual(a.node.pubkey, a.remoteHello.id)
    assert.deepEqual(a.id, backend.keccak256(a.remoteHello.id))
    assert.equal(b.node.tcp, 30303, 'an inbound peer is reachable on the port it announced')
    assert.deepEqual([a.inbound, b.inbound], [false, true])
    assert.deepEqual(
      a.caps.map((c) => [c.name, c.version, c.offset, c.length]),
      [['echo', 1, 16, 2]],
    )
    assert.deepEqual([a.snappy, b.snappy], [true, true])

    const doneA = a.run()
    const doneB = b.run()
    const rwA = await ea.rw
    const rwB = await eb.rw
    await rwA.write(0, utf8('from a'))
    assert.deepEqual(msg(await ea.replies.next()), [1, hex(utf8('from a'))])
    await rwB.write(0, utf8('from b'))
    assert.deepEqual(msg(await eb.replies.next()), [1, hex(utf8('from b'))])

    a.disconnect()
    endedWith(await doneA, DisconnectReason.Requested, false)
    endedWith(await doneB, DisconnectReason.Requested, true)
    await assert.rejects(rwA.write(0, utf8('late')), (e) => e instanceof P2PError && e.code === 'DISCONNECTED')
  })

  it('delivers many messages in order through a small queue', async () => {
    const ea = new Echo()
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const got: number[] = []
    const sink: Protocol = {
      name: 'echo',
      version: 1,
      length: 2,
      async run(_peer, rw) {
        await gate // read nothing until the sender is done: its messages back up behind a 2-slot queue
        for await (const m of rw) {
          got.push(m.payload[0]!)
          if (got.length === 200) return
        }
      },
    }
    const [a, b] = await peers({ protocols: [ea] }, { protocols: [sink], queueSize: 2 })
    void a.run()
    const doneB = b.run()
    const rw = await ea.rw
    for (let i = 0; i < 200; i++) await rw.write(1, Uint8Array.of(i))
    release()
    // the sink returns after the 200th message, which ends the peer as a quitting client
    endedWith(await doneB, DisconnectReason.ClientQuitting, false)
    assert.deepEqual(
      got,
      Array.from({ length: 200 }, (_, i) => i),
    )
  })

  it('delivers the Disconnect reason to the other side', async () => {
    const [a, b] = await peers({ protocols: [new Echo()] }, { protocols: [new Echo()] })
    const doneA = a.run()
    const doneB = b.run()
    b.disconnect(DisconnectReason.TooManyPeers)
    endedWith(await doneB, DisconnectReason.TooManyPeers, false)
    endedWith(await doneA, DisconnectReason.TooManyPeers, true)
    assert.equal(a.ended?.reason, DisconnectReason.TooManyPeers)
  })

  it('a disconnect before run ends the peer without starting it', async () => {
    const [a, b] = await peers({ protocols: [new Echo()] }, { protocols: [new Echo()] })
    b.disconnect(DisconnectReason.AlreadyConnected)
    const doneA = a.run()
    endedWith(await b.run(), DisconnectReason.AlreadyConnected, false)
    endedWith(await doneA, DisconnectReason.AlreadyConnected, true)
  })

  it('a protocol that throws ends the peer with SubprotocolError on both sides', async () => {
    const boom: Protocol = {
      name: 'echo',
      version: 1,
      length: 2,
      run: async () => {
        throw new Error('boom')
      },
    }
    const [a, b] = await peers({ protocols: [boom] }, { protocols: [new Echo()] })
    const doneA = a.run()
    const doneB = b.run()
    const endA = await doneA
    endedWith(endA, DisconnectReason.SubprotocolError, false)
    assert.equal(endA.error?.message, 'boom')
    endedWith(await doneB, DisconnectReason.SubprotocolError, true)
  })

  it('the highest shared version runs', async () => {
    const a1 = new Echo(1)
    const a2 = new Echo(2)
    const b2 = new Echo(2)
    const [a, b] = await peers({ protocols: [a1, a2] }, { protocols: [new Echo(1), b2, new Echo(3)] })
    assert.deepEqual(
      [a.caps.map((c) => c.version), b.caps.map((c) => c.version)],
      [[2], [2]],
    )
    void a.run()
    void b.run()
    await (await a2.rw).write(0, utf8('v2'))
    assert.deepEqual(msg(await a2.replies.next()), [1, hex(utf8('v2'))])
    a.disconnect()
    await b.done
  })
})

describe('Peer: handshake refusals', () => {
  it('refuses a Hello whose id is not the RLPx key: UnexpectedIdentity', async () => {
    const [ra, rb] = await handshakeBoth({ protocols: [new Echo()], id: pub(randomPrivateKey()) }, { protocols: [new Echo()] }, { run: true })
    refusedWith(rb, DisconnectReason.UnexpectedIdentity, false)
    // a's view of b was fine; it learns of the refusal once it runs
    assert.equal(ra.status, 'fulfilled')
    endedWith(await (ra as PromiseFulfilledResult<Peer>).value.done, DisconnectReason.UnexpectedIdentity, true)
  })

  it('refuses an id that is not a public key: InvalidIdentity', async () => {
    const [ra, rb] = await handshakeBoth({ protocols: [new Echo()], id: new Uint8Array(63).fill(7) }, { protocols: [new Echo()] }, { run: true })
    refusedWith(rb, DisconnectReason.InvalidIdentity, false)
    endedWith(await (ra as PromiseFulfilledResult<Peer>).value.done, DisconnectReason.InvalidIdentity, true)
  })

  it('refuses itself: ConnectedToSelf', async () => {
    const pair = await connPair(res, { sameKey: true })
    const [ra, rb] = await handshakeBoth({ protocols: [new Echo()] }, { protocols: [new Echo()] }, { pair })
    refusedWith(ra, DisconnectReason.ConnectedToSelf, false)
    refusedWith(rb, DisconnectReason.ConnectedToSelf, false)
  })

  it('refuses a peer with no shared capability: UselessPeer', async () => {
    const [ra, rb] = await handshakeBoth({ protocols: [new Echo(1)] }, { protocols: [new Echo(2), { name: 'zzz', version: 1, length: 1, run: async () => undefined }] })
    refusedWith(ra, DisconnectReason.UselessPeer, false)
    refusedWith(rb, DisconnectReason.UselessPeer, false)
  })

  it('talks to a p2p v4 peer without compression', async () => {
    const ea = new Echo()
    const [a, b] = await peers({ protocols: [ea], protocolVersion: 4 }, { protocols: [new Echo()] })
    assert.deepEqual([a.snappy, b.snappy], [false, false])
    assert.equal(b.remoteHello.protocolVersion, 4)
    void a.run()
    void b.run()
    // a large repetitive payload would shrink if either side compressed it
    const payload = new Uint8Array(4096).fill(0x61)
    await (await ea.rw).write(0, payload)
    assert.deepEqual(msg(await ea.replies.next()), [1, hex(payload)])
    a.disconnect()
    endedWith(await b.done, DisconnectReason.Requested, true)
  })

  it('refuses a p2p version older than 4: IncompatibleVersion', async () => {
    const [ra, rb] = await handshakeBoth({ protocols: [new Echo()], protocolVersion: 3 }, { protocols: [new Echo()] }, { run: true })
    refusedWith(rb, DisconnectReason.IncompatibleVersion, false)
    endedWith(await (ra as PromiseFulfilledResult<Peer>).value.done, DisconnectReason.IncompatibleVersion, true)
  })

  it('reports a Disconnect sent instead of a Hello', async () => {
    const { raw, peer } = await rawAgainstPeer({ protocols: [new Echo()] })
    await raw.send(BaseMsg.Disconnect, encodeRLP(DisconnectReason.TooManyPeers))
    await assert.rejects(peer, (e) => e instanceof P2PError && e.reason === DisconnectReason.TooManyPeers && e.remoteRequested)
  })

  it('refuses a malformed Hello or another message first: BreachOfProtocol', async () => {
    for (const [code, payload] of [
      [BaseMsg.Hello, encodeRLP(['not', 'a', 'hello'])],
      [BaseMsg.Hello, encodeRLP([5, 'x'.repeat(3000), [], 0, new Uint8Array(64)])],
      [BaseMsg.Ping, EMPTY_LIST],
    ] as const) {
      const { raw, peer } = await rawAgainstPeer({ protocols: [new Echo()] })
      await raw.send(code, payload)
      assert.equal((await raw.next()).code, BaseMsg.Hello)
      const bye = await raw.next()
      assert.deepEqual([bye.code, decodeDisconnect(bye.payload)], [BaseMsg.Disconnect, DisconnectReason.BreachOfProtocol])
      raw.conn.close()
      await assert.rejects(peer, (e) => e instanceof P2PError && e.reason === DisconnectReason.BreachOfProtocol && !e.remoteRequested)
    }
  })

  it('gives up when no Hello comes within the deadline', async () => {
    const { peer } = await rawAgainstPeer({ protocols: [new Echo()], handshakeTimeout: 100 })
    await assert.rejects(peer, (e) => e instanceof P2PError && e.code === 'HANDSHAKE_TIMEOUT')
  })

  it('sends the refusal compressed once both Hellos say v5', async () => {
    const { raw, peer, pair } = await rawAgainstPeer({ protocols: [new Echo()] })
    await rawHello(raw, pair, { caps: [{ name: 'nope', version: 1 }] })
    const bye = await raw.next()
    assert.deepEqual([bye.code, decodeDisconnect(bye.payload)], [BaseMsg.Disconnect, DisconnectReason.UselessPeer])
    raw.conn.close()
    await assert.rejects(peer, (e) => e instanceof P2PError && e.reason === DisconnectReason.UselessPeer)
  })
})

describe('Peer: base protocol while running', () => {
  it('pings on its own and answers Pings', async () => {
    const { raw, peer, pair } = await rawAgainstPeer({ protocols: [new Echo()], pingInterval: 20 })
    await rawHello(raw, pair)
    const p = await peer
    void p.run()
    // its own Ping arrives on the configured interval
    for (let i = 0; i < 1000; i++) if ((await raw.next()).code === BaseMsg.Ping) break
    await raw.send(BaseMsg.Ping, EMPTY_LIST)
    let pong = false
    for (let i = 0; i < 1000 && !pong; i++) pong = (await raw.next()).code === BaseMsg.Pong
    assert.ok(pong)
    await raw.send(BaseMsg.Disconnect, encodeDisconnect(DisconnectReason.ClientQuitting))
    endedWith(await p.done, DisconnectReason.ClientQuitting, true)
  })

  it('ignores unassigned base codes and refuses codes beyond its protocols: BreachOfProtocol', async () => {
    const echo = new Echo()
    const { raw, peer, pair } = await rawAgainstPeer({ protocols: [echo] })
    await rawHello(raw, pair)
    const p = await peer
    void p.run()
    await raw.send(0x05, EMPTY_LIST)
    await raw.send(BaseMsg.Hello, EMPTY_LIST)
    await raw.send(BaseMsg.Pong, EMPTY_LIST)
    // still alive: the echo protocol answers (16 is echo's code 0)
    await raw.send(16, utf8('still here'))
    assert.deepEqual(msg(await raw.nextOther()), [17, hex(utf8('still here'))])
    await raw.send(18, EMPTY_LIST)
    const bye = await raw.nextOther()
    assert.deepEqual([bye.code, decodeDisconnect(bye.payload)], [BaseMsg.Disconnect, DisconnectReason.BreachOfProtocol])
    raw.conn.close()
    const end = await p.done
    endedWith(end, DisconnectReason.BreachOfProtocol, false)
    assert.ok(end.error instanceof P2PError && end.error.code === 'INVALID_CODE')
  })

  it('drops a silent peer at the read timeout', async () => {
    const { raw, peer, pair } = await rawAgainstPeer({ protocols: [new Echo()] }, { listener: { readTimeout: 300 } })
    await rawHello(raw, pair)
    const p = await peer
    const end = await p.run()
    endedWith(end, DisconnectReason.ReadTimeout, false)
  })

  it('records an unreadable Disconnect as a remote request', async () => {
    const { raw, peer, pair } = await rawAgainstPeer({ protocols: [new Echo()] })
    await rawHello(raw, pair)
    const p = await peer
    void p.run()
    await raw.send(BaseMsg.Disconnect, encodeRLP([[1]]))
    const end = await p.done
    endedWith(end, DisconnectReason.Requested, true)
    assert.ok(end.error instanceof P2PError && end.error.code === 'BAD_DISCONNECT')
  })
})
