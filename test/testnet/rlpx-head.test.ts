/** The testnet's RLPx nodes serve the header of their head; the crawler's dial reads it (and checks its hash). */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { backend, randomPrivateKey } from '../../src/crypto/backend.js'
import { dialNode } from '../../src/crawler/dialer.js'
import { Node } from '../../src/enode/node.js'
import { encodeHeader } from '../../src/eth/header.js'
import { MAINNET, SEPOLIA } from '../../src/eth/networks.js'
import { ethProtocols, localStatus } from '../../src/eth/protocol.js'
import { encodeStatus, EthMsg, ETH_PROTOCOL_LENGTHS } from '../../src/eth/status.js'
import { Server } from '../../src/p2p/server.js'
import { RLPxResponder, TESTNET_HEADS, type RLPxProfile } from '../../src/testnet/rlpx.js'
import { LAGGING_BLOCKS } from '../../src/testnet/testnet.js'

const open: { close(): Promise<void> }[] = []
after(async () => {
  for (const o of open.reverse()) await o.close()
})

async function responder(profile: Omit<RLPxProfile, 'clientId' | 'behaviour'>): Promise<Node> {
  const key = randomPrivateKey()
  const r = await RLPxResponder.listen('127.0.0.1', 0, key, { clientId: 'Geth/v1.15.0-stable/linux-amd64/go1.23.6', behaviour: 'ok', ...profile }, backend)
  open.push(r)
  return new Node(backend.publicKey(key), '127.0.0.1', r.port, r.port)
}

describe('testnet RLPx nodes: GetBlockHeaders for their head', () => {
  for (const versions of [[68], [68, 69]]) {
    it(`eth/${versions.at(-1)}: the header's hash is the announced head; number and time read from it`, async () => {
      const n = await responder({ chain: MAINNET, ethVersions: versions })
      const t0 = Math.floor(Date.now() / 1000)
      const r = await dialNode(n, { privateKey: randomPrivateKey() })
      assert.equal(r.error, undefined)
      assert.equal(r.headError, undefined)
      assert.equal(r.ethVersion, versions.at(-1))
      assert.equal(r.headNumber, Number(TESTNET_HEADS['mainnet']))
      assert.equal(r.headHash, r.head)
      const time = Date.parse(r.headTime!) / 1000
      assert.ok(Math.abs(time - t0) <= 2, `head time ${r.headTime}`)
      assert.ok(r.timings.head! >= r.timings.status!)
    })
  }

  it('a lagging node announces an older head', async () => {
    const n = await responder({ chain: SEPOLIA, ethVersions: [68], headLag: LAGGING_BLOCKS })
    const r = await dialNode(n, { privateKey: randomPrivateKey() })
    assert.equal(r.chain, 'sepolia')
    assert.equal(r.headNumber, Number(TESTNET_HEADS['sepolia']) - LAGGING_BLOCKS)
    assert.ok(Date.parse(r.headTime!) < Date.now() - (LAGGING_BLOCKS - 10) * 12_000)
  })

  it('a header whose hash is not the announced head is ignored, with a note', async () => {
    const key = randomPrivateKey()
    const wrong = encodeHeader({ parentHash: new Uint8Array(32), number: 5n, time: 5n })
    const server = new Server({
      privateKey: key,
      name: 'Liar/v1.0.0',
      protocols: ethProtocols({ chain: MAINNET, versions: [68], head: { number: 22_000_000n, time: BigInt(Math.floor(Date.now() / 1000)), hash: new Uint8Array(32).fill(9) }, headers: () => [wrong] }),
      host: '127.0.0.1',
      port: 0,
      noDiscovery: true,
      noDial: true,
    })
    await server.start()
    open.push({ close: () => server.stop() })
    const r = await dialNode(new Node(backend.publicKey(key), '127.0.0.1', server.port, server.port), { privateKey: randomPrivateKey() })
    assert.equal(r.error, undefined)
    assert.equal(r.headHash, '09'.repeat(32))
    assert.equal(r.headNumber, undefined)
    assert.match(r.headError!, /not the head it announced: ignored/)
  })

  it('a peer that never answers costs no more than the Status deadline', async () => {
    const key = randomPrivateKey()
    const server = new Server({
      privateKey: key,
      name: 'Mute/v1.0.0',
      // answers nothing: an eth/69 that sends its Status, then reads and never writes
      protocols: [
        {
          name: 'eth',
          version: 69,
          length: ETH_PROTOCOL_LENGTHS[69]!,
          run: async (_peer, rw) => {
            await rw.write(EthMsg.Status, encodeStatus(localStatus({ chain: MAINNET, head: { number: 22_000_000n, time: BigInt(Math.floor(Date.now() / 1000)) } }, 69)))
            for await (const _m of rw) void _m
          },
        },
      ],
      host: '127.0.0.1',
      port: 0,
      noDiscovery: true,
      noDial: true,
    })
    await server.start()
    open.push({ close: () => server.stop() })
    const r = await dialNode(new Node(backend.publicKey(key), '127.0.0.1', server.port, server.port), { privateKey: randomPrivateKey(), statusTimeout: 1_000 })
    assert.equal(r.headNumber, 22_000_000)
    assert.equal(r.headTime, undefined)
    assert.match(r.headError!, /no BlockHeaders within/)
    assert.ok(r.timings.head! - (r.timings.hello ?? 0) <= 1_200, `head after ${r.timings.head} ms`)
  })
})
