import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { P2PError } from '../../src/p2p/errors.js'
import {
  decodeDisconnect,
  decodeHello,
  encodeDisconnect,
  encodeHello,
  MAX_HELLO_SIZE,
} from '../../src/p2p/messages.js'
import { disconnectReasonText, DisconnectReason, type Hello } from '../../src/p2p/base.js'
import { matchCaps, ProtocolRW } from '../../src/p2p/protocol.js'
import { encodeRLP } from '../../src/util/rlp.js'

const isP2P = (...codes: string[]) => (e: unknown) => e instanceof P2PError && codes.includes(e.code)
const id = Uint8Array.from({ length: 64 }, (_, i) => i + 1)

const hello: Hello = {
  protocolVersion: 5,
  clientId: 'ethp2p/v0.1.0/linux-x64/node20',
  caps: [
    { name: 'eth', version: 68 },
    { name: 'snap', version: 1 },
  ],
  listenPort: 30303,
  id,
}

describe('Hello codec', () => {
  it('round-trips', () => {
    assert.deepEqual(decodeHello(encodeHello(hello)), hello)
    const bare = { ...hello, caps: [], listenPort: 0, clientId: '' }
    assert.deepEqual(decodeHello(encodeHello(bare)), bare)
  })

  it('tolerates extra fields, extra capability elements and trailing bytes (EIP-8)', () => {
    const payload = encodeRLP([5, 'future', [['eth', 68, 'extra'], ['les', 4]], 30303, id, 'more', [[1, 2]]])
    const withTail = Uint8Array.from([...payload, 0x01, 0x02])
    const h = decodeHello(withTail)
    assert.equal(h.protocolVersion, 5)
    assert.equal(h.clientId, 'future')
    assert.deepEqual(h.caps, [
      { name: 'eth', version: 68 },
      { name: 'les', version: 4 },
    ])
    assert.equal(h.listenPort, 30303)
    assert.deepEqual(h.id, id)
  })

  it('accepts integers with leading zero bytes (ethereumjs writes 0 as 0x00)', () => {
    const h = decodeHello(encodeRLP([Uint8Array.of(5), 'x', [], Uint8Array.of(0), id]))
    assert.equal(h.listenPort, 0)
  })

  it('accepts a version above ours', () => {
    assert.equal(decodeHello(encodeHello({ ...hello, protocolVersion: 22 })).protocolVersion, 22)
  })

  it('refuses more than 2 KiB, decoding and encoding', () => {
    const big = encodeRLP([5, 'x'.repeat(MAX_HELLO_SIZE), [], 0, id])
    assert.throws(() => decodeHello(big), isP2P('HELLO_TOO_LARGE'))
    assert.throws(() => encodeHello({ ...hello, clientId: 'x'.repeat(MAX_HELLO_SIZE) }), isP2P('HELLO_TOO_LARGE'))
  })

  it('refuses malformed Hellos with BAD_HELLO', () => {
    const cases: Uint8Array[] = [
      new Uint8Array(0),
      Uint8Array.of(0xff),
      encodeRLP('not a list'),
      encodeRLP([5, 'x', [], 0]), // no id
      encodeRLP([[5], 'x', [], 0, id]), // version is a list
      encodeRLP([5, ['x'], [], 0, id]), // client id is a list
      encodeRLP([5, 'x', 'eth', 0, id]), // caps not a list
      encodeRLP([5, 'x', ['eth'], 0, id]), // a cap not a list
      encodeRLP([5, 'x', [['eth']], 0, id]), // a cap without version
      encodeRLP([5, 'x', [], new Uint8Array(9).fill(1), id]), // port wider than 8 bytes
      encodeRLP([5, 'x', [], 0, [id]]), // id is a list
    ]
    for (const c of cases) assert.throws(() => decodeHello(c), isP2P('BAD_HELLO'), Buffer.from(c).toString('hex'))
  })

  it('random bytes decode to a Hello or a typed error, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          const h = decodeHello(bytes)
          assert.equal(typeof h.protocolVersion, 'number')
          assert.ok(h.id instanceof Uint8Array)
        } catch (e) {
          assert.ok(isP2P('BAD_HELLO', 'HELLO_TOO_LARGE')(e), String(e))
        }
      }),
      { numRuns: 2000 },
    )
  })

  it('random RLP structures decode to a Hello or a typed error', () => {
    const item: fc.Arbitrary<unknown> = fc.letrec<{ item: unknown }>((tie) => ({
      item: fc.oneof({ depthSize: 'small' }, fc.uint8Array({ maxLength: 70 }), fc.array(tie('item'), { maxLength: 6 })),
    })).item
    fc.assert(
      fc.property(item, (v) => {
        try {
          decodeHello(encodeRLP(v))
        } catch (e) {
          assert.ok(isP2P('BAD_HELLO', 'HELLO_TOO_LARGE')(e), String(e))
        }
      }),
      { numRuns: 1000 },
    )
  })
})

describe('Disconnect codec', () => {
  const assigned = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x10]

  it('names every assigned reason as geth logs it', () => {
    const texts = assigned.map((r) => disconnectReasonText(r))
    assert.deepEqual(texts, [
      'disconnect requested',
      'network error',
      'breach of protocol',
      'useless peer',
      'too many peers',
      'already connected',
      'incompatible p2p protocol version',
      'invalid node identity',
      'client quitting',
      'unexpected identity',
      'connected to self',
      'read timeout',
      'subprotocol error',
    ])
    for (const r of [0x0c, 0x0d, 0x0e, 0x0f, 0x11, 0xff]) assert.equal(disconnectReasonText(r), `unknown disconnect reason ${r}`)
    assert.equal(DisconnectReason.SubprotocolError, 0x10)
  })

  it('encodes [reason] and reads it back for every code 0x00–0x10', () => {
    for (let r = 0; r <= 0x10; r++) {
      assert.deepEqual(encodeDisconnect(r), encodeRLP([r]))
      assert.equal(decodeDisconnect(encodeDisconnect(r)), r)
    }
  })

  it('accepts the bare form, an empty payload and an empty list', () => {
    for (const r of assigned) assert.equal(decodeDisconnect(encodeRLP(r)), r)
    assert.equal(decodeDisconnect(Uint8Array.of(0x80)), DisconnectReason.Requested)
    assert.equal(decodeDisconnect(Uint8Array.of(0x00)), DisconnectReason.Requested)
    assert.equal(decodeDisconnect(new Uint8Array(0)), DisconnectReason.Requested)
    assert.equal(decodeDisconnect(encodeRLP([])), DisconnectReason.Requested)
    // extra list elements and trailing bytes are tolerated
    assert.equal(decodeDisconnect(encodeRLP([4, 'why'])), DisconnectReason.TooManyPeers)
    assert.equal(decodeDisconnect(Uint8Array.of(0xc1, 0x03, 0xaa)), DisconnectReason.UselessPeer)
  })

  it('refuses unreadable reasons with BAD_DISCONNECT', () => {
    for (const c of [Uint8Array.of(0xc2, 0xc1), encodeRLP([[4]]), encodeRLP(new Uint8Array(5).fill(1)), Uint8Array.of(0xb8)])
      assert.throws(() => decodeDisconnect(c), isP2P('BAD_DISCONNECT'), Buffer.from(c).toString('hex'))
  })

  it('random bytes give a reason or the typed error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        try {
          const r = decodeDisconnect(bytes)
          assert.ok(Number.isInteger(r) && r >= 0)
        } catch (e) {
          assert.ok(isP2P('BAD_DISCONNECT')(e), String(e))
        }
      }),
      { numRuns: 2000 },
    )
  })
})

describe('capability matching', () => {
  const p = (name: string, version: number, length: number) => ({ name, version, length })

  it('picks the highest version both sides list, per name', () => {
    const local = [p('eth', 67, 17), p('eth', 68, 17), p('eth', 69, 18)]
    const m = matchCaps(local, [
      { name: 'eth', version: 66 },
      { name: 'eth', version: 67 },
      { name: 'eth', version: 68 },
      { name: 'eth', version: 70 },
    ])
    assert.deepEqual(
      m.map((c) => [c.name, c.version, c.offset, c.length]),
      [['eth', 68, 16, 17]],
    )
    assert.equal(m[0]!.protocol, local[1])
  })

  it('orders matched protocols by name and lays codes out from 16', () => {
    const local = [p('snap', 1, 8), p('eth', 68, 17), p('bzz', 2, 5), p('les', 4, 23)]
    const remote = [
      { name: 'snap', version: 1 },
      { name: 'les', version: 4 },
      { name: 'eth', version: 68 },
      { name: 'bzz', version: 2 },
    ]
    assert.deepEqual(
      matchCaps(local, remote).map((c) => [c.name, c.offset]),
      [
        ['bzz', 16],
        ['eth', 21],
        ['les', 38],
        ['snap', 61],
      ],
    )
  })

  it('compares names as bytes, as go-ethereum sorts them', () => {
    // U+FF21 sorts before U+1F600 as UTF-16 code units but after it as UTF-8 bytes
    const local = [p('\u{1F600}', 1, 1), p('\uFF21', 1, 1)]
    const remote = local.map((c) => ({ name: c.name, version: 1 }))
    assert.deepEqual(
      matchCaps(local, remote).map((c) => c.name),
      ['\uFF21', '\u{1F600}'],
    )
  })

  it('finds nothing when names or versions differ', () => {
    assert.deepEqual(matchCaps([p('eth', 68, 17)], [{ name: 'eth', version: 67 }]), [])
    assert.deepEqual(matchCaps([p('eth', 68, 17)], [{ name: 'snap', version: 68 }]), [])
    assert.deepEqual(matchCaps([p('eth', 68, 17)], []), [])
    assert.deepEqual(matchCaps([], [{ name: 'eth', version: 68 }]), [])
  })

  it('keeps the first of duplicate local entries', () => {
    const local = [p('eth', 68, 17), p('eth', 68, 99)]
    const m = matchCaps(local, [{ name: 'eth', version: 68 }])
    assert.equal(m.length, 1)
    assert.equal(m[0]!.length, 17)
  })
})

describe('protocol read/writer', () => {
  const cap = { name: 'tst', version: 1, offset: 16, length: 3, protocol: { name: 'tst', version: 1, length: 3 } }
  const end = { reason: DisconnectReason.Requested, remoteRequested: true }

  it('holds back the sender once its queue is full, until the protocol reads', async () => {
    const rw = new ProtocolRW(cap, async () => undefined, 2)
    let freed = false
    await rw.push({ code: 0, payload: Uint8Array.of(1) })
    const second = rw.push({ code: 1, payload: Uint8Array.of(2) }).then(() => (freed = true))
    await new Promise((r) => setImmediate(r))
    assert.equal(freed, false, 'a full queue keeps the reader waiting')
    assert.deepEqual(await rw.read(), { code: 0, payload: Uint8Array.of(1) })
    await second
    assert.equal(freed, true)
    assert.deepEqual(await rw.read(), { code: 1, payload: Uint8Array.of(2) })
  })

  it('writes codes at its offset and refuses codes outside its range', async () => {
    const sent: number[] = []
    const rw = new ProtocolRW(cap, async (code) => void sent.push(code), 2)
    await rw.write(2, new Uint8Array(0))
    assert.deepEqual(sent, [18])
    for (const bad of [3, -1, 1.5]) await assert.rejects(rw.write(bad, new Uint8Array(0)), isP2P('INVALID_CODE'))
  })

  it('delivers what was queued, then ends its iterator and fails reads and writes', async () => {
    const rw = new ProtocolRW(cap, async () => undefined, 4)
    const waiting = rw.read()
    await rw.push({ code: 2, payload: new Uint8Array(0) })
    assert.equal((await waiting).code, 2)
    await rw.push({ code: 1, payload: new Uint8Array(0) })
    const queued = rw.read()
    rw.close(end)
    assert.equal((await queued).code, 1)
    const codes: number[] = []
    for await (const m of rw) codes.push(m.code)
    assert.deepEqual(codes, [])
    await assert.rejects(rw.read(), (e) => isP2P('DISCONNECTED')(e) && (e as P2PError).remoteRequested)
    await assert.rejects(rw.write(0, new Uint8Array(0)), isP2P('DISCONNECTED'))
  })

  it('a reader waiting when the peer ends is released', async () => {
    const rw = new ProtocolRW(cap, async () => undefined, 4)
    const waiting = rw.read()
    rw.close(end)
    await assert.rejects(waiting, isP2P('DISCONNECTED'))
  })
})
