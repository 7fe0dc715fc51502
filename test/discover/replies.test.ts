import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { PendingRequest } from '../../src/discover/common.js'
import { AwaitedReplies, type AwaitedReply } from '../../src/discover/replies.js'
import { PacketType, type Decoded } from '../../src/discover/wire.js'

const key = (b: number): Uint8Array => new Uint8Array(64).fill(b)
const req = {} as PendingRequest<unknown>

function reply(type: number, pub: Uint8Array, answer: boolean | 'no-match', seen: Decoded[]): AwaitedReply {
  return {
    type,
    pub,
    req,
    onReply: (d) => {
      seen.push(d)
      return answer
    },
  }
}

const pong = { packet: { type: PacketType.Pong }, hash: new Uint8Array(32), pubkey: key(1) } as unknown as Decoded

describe('awaited replies', () => {
  it('names the likely signer of reply types only, the first one awaited from that address', () => {
    const a = new AwaitedReplies()
    const first = reply(PacketType.Pong, key(1), true, [])
    a.add('10.0.0.1', first)
    a.add('10.0.0.1', reply(PacketType.Pong, key(2), true, []))
    assert.deepEqual(a.likelySigner('10.0.0.1', PacketType.Pong), key(1))
    assert.equal(a.likelySigner('10.0.0.2', PacketType.Pong), undefined)
    assert.equal(a.likelySigner('10.0.0.1', PacketType.Neighbors), undefined)
    // requests are never replies: a PING or FINDNODE gets no guess, whatever waits
    a.add('10.0.0.1', reply(PacketType.Ping, key(3), true, []))
    assert.equal(a.likelySigner('10.0.0.1', PacketType.Ping), undefined)
    a.remove('10.0.0.1', first)
    assert.deepEqual(a.likelySigner('10.0.0.1', PacketType.Pong), key(2))
  })

  it('hands a reply only to a request from that address, type and key, and forgets removed ones', () => {
    const a = new AwaitedReplies()
    const seen: Decoded[] = []
    const other: Decoded[] = []
    const r = reply(PacketType.Pong, key(1), true, seen)
    a.add('10.0.0.1', reply(PacketType.Pong, key(2), true, other))
    a.add('10.0.0.1', r)
    assert.equal(a.match(pong, '10.0.0.9', key(1)), false, 'another address')
    assert.equal(a.match(pong, '10.0.0.1', key(9)), false, 'another key')
    // a NEIGHBORS awaited from the same node is no PONG's match
    const nb: Decoded[] = []
    a.add('10.0.0.1', reply(PacketType.Neighbors, key(1), true, nb))
    assert.equal(a.match(pong, '10.0.0.1', key(1)), true)
    assert.equal(seen.length, 1)
    assert.equal(other.length, 0)
    assert.equal(nb.length, 0)
    a.remove('10.0.0.1', r)
    assert.equal(a.match(pong, '10.0.0.1', key(1)), false, 'removed')
    assert.equal(a.requests().length, 2)
    // a request that says no-match leaves the reply unsolicited
    const b = new AwaitedReplies()
    b.add('10.0.0.1', reply(PacketType.Pong, key(1), 'no-match', seen))
    assert.equal(b.match(pong, '10.0.0.1', key(1)), false)
  })
})
