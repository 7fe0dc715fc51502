import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomPrivateKey } from '../../src/crypto/backend.js'
import { Server } from '../../src/p2p/server.js'
import { DisconnectReason } from '../../src/p2p/base.js'
import type { PeerEnd } from '../../src/p2p/peer.js'
import { ethProtocols, localStatus, type EthProtocolOptions } from '../../src/eth/protocol.js'
import { MAINNET, SEPOLIA } from '../../src/eth/networks.js'
import { EthMsg, encodeStatus, type Status } from '../../src/eth/status.js'
import { encodeRLP, decodeRLP } from '../../src/util/rlp.js'
import type { MsgReadWriter, Protocol } from '../../src/p2p/protocol.js'
import { until } from '../discover/fakenet.js'

const servers: Server[] = []
after(async () => {
  await Promise.all(servers.map((s) => s.stop()))
})

interface Probe {
  server: Server
  statuses: Status[]
  ends: PeerEnd[]
}

async function node(eth: Partial<EthProtocolOptions> & { extra?: Protocol[] } = {}): Promise<Probe> {
  const statuses: Status[] = []
  const protocols = [...ethProtocols({ chain: MAINNET, ...eth, onStatus: (_p, s) => statuses.push(s) }), ...(eth.extra ?? [])]
  const server = new Server({ privateKey: randomPrivateKey(), host: '127.0.0.1', port: 0, protocols, noDiscovery: true })
  servers.push(server)
  await server.start()
  const ends: PeerEnd[] = []
  server.on('peer:removed', (_p, end) => ends.push(end))
  return { server, statuses, ends }
}

describe('eth protocol', () => {
  it('agrees on eth/68 with an eth/68-only peer and exchanges the legacy Status', async () => {
    const a = await node()
    const b = await node({ versions: [68] })
    b.server.addStatic(a.server.localNode)
    await until(() => a.statuses.length === 1 && b.statuses.length === 1, 3000, 'statuses')
    assert.equal(a.statuses[0]!.layout, 68)
    assert.equal(b.statuses[0]!.version, 68)
    assert.equal(a.server.peerList()[0]!.caps[0]!.version, 68)
  })

  it('agrees on eth/69 with an eth/69 peer and exchanges the block-range Status', async () => {
    const a = await node()
    const c = await node({ versions: [69] })
    c.server.addStatic(a.server.localNode)
    await until(() => a.statuses.length === 1 && c.statuses.length === 1, 3000, 'statuses')
    assert.equal(a.statuses[0]!.layout, 69)
    assert.equal(c.statuses[0]!.layout, 69)
  })

  it('drops a peer on another network with SubprotocolError', async () => {
    const a = await node()
    const d = await node({ chain: SEPOLIA })
    d.server.addStatic(a.server.localNode)
    await until(() => a.ends.length === 1 && d.ends.length === 1, 3000, 'both ended')
    const reasons = [a.ends[0]!, d.ends[0]!].map((e) => e.reason)
    assert.ok(reasons.includes(DisconnectReason.SubprotocolError), String(reasons))
    assert.equal(a.statuses.length + d.statuses.length, 0)
  })

  it('mirrors the peer Status when asked (crawler mode), whatever its network', async () => {
    const a = await node({ chain: SEPOLIA })
    const crawler = await node({ mirror: true })
    crawler.server.addStatic(a.server.localNode)
    await until(() => crawler.statuses.length === 1 && a.statuses.length === 1, 3000, 'statuses')
    assert.equal(crawler.statuses[0]!.networkId, SEPOLIA.networkId)
    assert.equal(a.server.peerCount, 1, 'the peer keeps us')
  })

  it('answers requests with empty replies echoing the request id', async () => {
    const a = await node()
    // a raw eth/69 client that sends its Status, then a GetBlockHeaders
    const replies: { code: number; payload: Uint8Array }[] = []
    const raw: Protocol = {
      name: 'eth',
      version: 69,
      length: 18,
      async run(_peer, rw: MsgReadWriter) {
        await rw.write(EthMsg.Status, encodeStatus(localStatus({ chain: MAINNET }, 69)))
        await rw.read() // their Status
        await rw.write(EthMsg.GetBlockHeaders, encodeRLP([Uint8Array.of(0x2a), [Uint8Array.of(1), Uint8Array.of(1), new Uint8Array(0), new Uint8Array(0)]]))
        replies.push(await rw.read())
      },
    }
    const client = new Server({ privateKey: randomPrivateKey(), host: '127.0.0.1', port: 0, protocols: [raw], noDiscovery: true })
    servers.push(client)
    await client.start()
    client.addStatic(a.server.localNode)
    await until(() => replies.length === 1, 3000, 'reply')
    assert.equal(replies[0]!.code, EthMsg.BlockHeaders)
    const [id, headers] = decodeRLP(replies[0]!.payload) as [Uint8Array, unknown[]]
    assert.deepEqual([[...id], headers], [[0x2a], []])
  })
})
