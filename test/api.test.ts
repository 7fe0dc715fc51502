/** The public API: what an embedder imports works together without reaching into internals. */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import * as api from '../src/index.js'
import { REPLY_TIMEOUT_MS } from './timing.js'

const open: api.Discv4[] = []
after(async () => {
  for (const d of open) await d.close()
})

describe('public API', () => {
  it('runs discovery between two nodes using only exported names', async () => {
    const a = await api.Discv4.listen({ privateKey: api.randomPrivateKey(), host: '127.0.0.1', port: 0, replyTimeoutMs: REPLY_TIMEOUT_MS })
    const b = await api.Discv4.listen({ privateKey: api.randomPrivateKey(), host: '127.0.0.1', port: 0, replyTimeoutMs: REPLY_TIMEOUT_MS, bootnodes: [api.parseEnode(api.formatEnode(a.self))] })
    open.push(a, b)
    await b.table.waitInit()
    const record = await b.enrRequest(a.self)
    assert.ok(record instanceof api.ENR)
    assert.equal(api.ENR.parseText(record.toText()).seq, a.localENR.seq)
    assert.ok(b.table.nodes().some((n) => n.idHex === a.self.idHex))
  })

  it('exposes typed errors an embedder can match on', () => {
    assert.throws(() => api.parseEnode('enode://nope'), api.EnodeURLError)
    assert.throws(() => api.decodePacket(new Uint8Array(10)), api.WireError)
    assert.throws(() => api.decodeStatus(Uint8Array.of(0xc0)), api.EthError)
    assert.equal(api.classifyNetwork(1, api.forkId(api.MAINNET, { number: 0n, time: 0n })), 'mainnet')
  })
})
