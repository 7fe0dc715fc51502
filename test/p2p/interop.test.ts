/**
 * Our Peer against @ethereumjs/devp2p's RLPx with its ETH (eth/68) protocol over loopback, both
 * directions: Hellos exchanged, eth Status exchanged (ours from src/eth/status.ts with mainnet's
 * fork id at a Prague-era head, theirs from a mainnet Common at its default hardfork, Prague), then a
 * clean Disconnect from either side with the reason seen by the other.
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:net'
import { once } from 'node:events'
import { Common, Mainnet } from '@ethereumjs/common'
import { DISCONNECT_REASON, ETH, RLPx, type Peer as TheirPeer } from '@ethereumjs/devp2p'
import { backend, randomPrivateKey } from '../../src/crypto/backend.js'
import { forkId } from '../../src/eth/forkid.js'
import { MAINNET } from '../../src/eth/networks.js'
import { decodeStatus, encodeStatus, ETH_PROTOCOL_LENGTHS, EthMsg, type Status } from '../../src/eth/status.js'
import { RLPxConnection } from '../../src/rlpx/conn.js'
import { DisconnectReason } from '../../src/p2p/base.js'
import { Peer } from '../../src/p2p/peer.js'
import type { MsgReadWriter, Protocol } from '../../src/p2p/protocol.js'
import { uintBytes } from '../../src/util/rlp.js'

const rlpxs: RLPx[] = []
const servers: Server[] = []
const peers: Peer[] = []
after(() => {
  for (const p of peers) p.disconnect()
  for (const r of rlpxs) r.destroy()
  for (const s of servers) s.close()
})

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
/** a head just after Prague activated: the fork a default mainnet Common is at */
const PRAGUE_HEAD = { number: 22_431_084n, time: 1_746_612_311n + 12n }
const HEAD_HASH = new Uint8Array(32).fill(0xab)
const TD = 58_750_003_716_598_352_816_469n

const ourStatus: Status = {
  layout: 68,
  version: 68,
  networkId: MAINNET.networkId,
  td: TD,
  head: HEAD_HASH,
  genesis: MAINNET.genesisHash,
  forkId: forkId(MAINNET, PRAGUE_HEAD),
}

/** eth/68 as far as the Status: send ours, read theirs, then keep the peer until it ends. */
class EthStatus implements Protocol {
  readonly name = 'eth'
  readonly version = 68
  readonly length = ETH_PROTOCOL_LENGTHS[68]!
  readonly status: Promise<Status>
  private gotStatus!: (s: Status) => void

  constructor() {
    this.status = new Promise((r) => (this.gotStatus = r))
  }

  async run(_peer: Peer, rw: MsgReadWriter): Promise<void> {
    await rw.write(EthMsg.Status, encodeStatus(ourStatus))
    for await (const m of rw) if (m.code === EthMsg.Status) this.gotStatus(decodeStatus(m.payload))
  }
}

function theirNode(listen: boolean): { rlpx: RLPx; priv: Uint8Array } {
  const priv = randomPrivateKey()
  const common = new Common({ chain: Mainnet })
  const rlpx = new RLPx(priv, { dpt: null, maxPeers: 5, capabilities: [ETH.eth68], common, listenPort: listen ? 0 : null })
  rlpxs.push(rlpx)
  return { rlpx, priv }
}

/** Their side once connected: its Peer, and the Status it received from us. */
function theirPeer(rlpx: RLPx): Promise<{ peer: TheirPeer; statusFromUs: Promise<{ td: Uint8Array; genesisHash: Uint8Array }> }> {
  return new Promise((resolve) =>
    rlpx.events.once('peer:added', (peer: TheirPeer) => {
      const eth = peer.getProtocols()[0] as ETH
      const statusFromUs = new Promise<{ td: Uint8Array; genesisHash: Uint8Array }>((r) => eth.events.once('status', r))
      eth.sendStatus({ td: uintBytes(TD), bestHash: HEAD_HASH, genesisHash: MAINNET.genesisHash })
      resolve({ peer, statusFromUs })
    }),
  )
}

function theirRemoval(rlpx: RLPx): Promise<{ reason: number; disconnectWe: boolean | null }> {
  return new Promise((resolve) => rlpx.events.once('peer:removed', (_p: unknown, reason: number, disconnectWe: boolean | null) => resolve({ reason, disconnectWe })))
}

const ourOptions = (priv: Uint8Array, eth: EthStatus, inbound: boolean) => ({
  id: backend.publicKey(priv),
  clientId: 'ethp2p-interop',
  protocols: [eth],
  inbound,
})

/** Both sides' Status arrived and says mainnet at Prague. */
async function checkStatus(eth: EthStatus, statusFromUs: Promise<{ td: Uint8Array; genesisHash: Uint8Array }>): Promise<void> {
  const theirs = await eth.status
  assert.equal(theirs.version, 68)
  assert.equal(theirs.networkId, 1n)
  assert.equal(hex(theirs.genesis), hex(MAINNET.genesisHash))
  assert.equal(hex(theirs.forkId.hash), hex(ourStatus.forkId.hash), 'both at Prague')
  const seen = await statusFromUs
  assert.equal(hex(seen.td), hex(uintBytes(TD)))
  assert.equal(hex(seen.genesisHash), hex(MAINNET.genesisHash))
}

describe('p2p interop with @ethereumjs/devp2p (RLPx + ETH)', () => {
  it('we dial it: Hellos, eth Status both ways, our Disconnect reaches it', async () => {
    const them = theirNode(true)
    them.rlpx.listen(0, '127.0.0.1')
    const server = (them.rlpx as unknown as { _server: Server })._server
    if (!server.listening) await once(server, 'listening')
    const { port } = server.address() as { port: number }
    const connected = theirPeer(them.rlpx)
    const removed = theirRemoval(them.rlpx)

    const ours = randomPrivateKey()
    const conn = await RLPxConnection.connect('127.0.0.1', port, ours, backend.publicKey(them.priv))
    const eth = new EthStatus()
    const peer = await Peer.handshake(conn, { ...ourOptions(ours, eth, false), remoteAddress: { ip: '127.0.0.1', port } })
    peers.push(peer)
    assert.match(peer.remoteHello.clientId, /ethereumjs/)
    assert.deepEqual(peer.remoteHello.caps, [{ name: 'eth', version: 68 }])
    assert.equal(peer.node.tcp, port)
    assert.ok(peer.snappy)
    const done = peer.run()

    const { peer: theirs, statusFromUs } = await connected
    assert.equal(hex(theirs.getId()!), hex(backend.publicKey(ours)))
    assert.equal(theirs.getHelloMessage()?.clientId, 'ethp2p-interop')
    await checkStatus(eth, statusFromUs)

    peer.disconnect(DisconnectReason.ClientQuitting)
    assert.deepEqual(await done, { reason: DisconnectReason.ClientQuitting, remoteRequested: false })
    assert.deepEqual(await removed, { reason: DISCONNECT_REASON.CLIENT_QUITTING, disconnectWe: false })
  })

  it('it dials us: Hellos, eth Status both ways, its Disconnect reaches us', async () => {
    const ours = randomPrivateKey()
    const eth = new EthStatus()
    const peer = new Promise<Peer>((resolve, reject) => {
      const server = createServer((s) => {
        RLPxConnection.accept(s, ours)
          .then((conn) => Peer.handshake(conn, { ...ourOptions(ours, eth, true), remoteAddress: { ip: s.remoteAddress!, port: s.remotePort! } }))
          .then(resolve, reject)
      })
      servers.push(server)
      server.listen(0, '127.0.0.1')
    })
    const server = servers.at(-1)!
    if (!server.listening) await once(server, 'listening')
    const { port } = server.address() as { port: number }

    const them = theirNode(false)
    const connected = theirPeer(them.rlpx)
    await them.rlpx.connect({ id: backend.publicKey(ours), address: '127.0.0.1', tcpPort: port })
    const p = await peer
    peers.push(p)
    assert.ok(p.inbound)
    assert.match(p.remoteHello.clientId, /ethereumjs/)
    assert.equal(p.remoteHello.listenPort, 0, 'it does not listen')
    const done = p.run()

    const { peer: theirs, statusFromUs } = await connected
    await checkStatus(eth, statusFromUs)

    theirs.disconnect(DISCONNECT_REASON.TOO_MANY_PEERS)
    assert.deepEqual(await done, { reason: DisconnectReason.TooManyPeers, remoteRequested: true })
  })
})
