/** RLP: decodeRLP and the typed readers return a value or throw RLPError, whatever the bytes. */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { RLP } from '@ethereumjs/rlp'
import { asBigUint, asBytes, asList, asUint, decodeRLP, encodeRLP, MAX_RLP_DEPTH, RLPError, rlpSize, writeRLP, type RLPItem } from '../../src/util/rlp.js'
import { bytesOrMutant, params, typed } from './fuzz.js'

/** nested items with short and long strings and lists, so every header form is present */
const item: fc.Arbitrary<RLPItem> = fc.letrec<{ item: RLPItem }>((tie) => ({
  item: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.uint8Array({ maxLength: 70 }),
    fc.array(tie('item'), { maxLength: 6 }),
  ),
})).item

const VALID = [
  encodeRLP([]),
  encodeRLP(new Uint8Array(0)),
  encodeRLP(Uint8Array.of(0x7f)),
  encodeRLP(new Uint8Array(56).fill(1)),
  encodeRLP(new Uint8Array(300).fill(2)),
  encodeRLP([new Uint8Array(60), [Uint8Array.of(1), [Uint8Array.of(0x80)]], new Uint8Array(0)]),
  encodeRLP(Array.from({ length: 30 }, (_, i) => Uint8Array.of(i, i))),
]

function isItem(x: unknown): boolean {
  return x instanceof Uint8Array || (Array.isArray(x) && x.every(isItem))
}

/** RLP of `depth` lists nested around `inner`, built without recursion */
function nested(depth: number, inner: Uint8Array = encodeRLP([])): Uint8Array {
  const headers: Uint8Array[] = []
  let len = inner.length
  for (let i = 0; i < depth; i++) {
    const lb: number[] = []
    for (let v = len; v > 0; v = Math.floor(v / 256)) lb.unshift(v & 0xff)
    const h = len <= 55 ? Uint8Array.of(0xc0 + len) : Uint8Array.of(0xf7 + lb.length, ...lb)
    headers.push(h)
    len += h.length
  }
  return new Uint8Array(Buffer.concat([...headers.reverse(), inner]))
}

/** what @ethereumjs/rlp (the reference the decoder replaced) makes of `d`: the item, or 'error' */
function reference(d: Uint8Array, trailing: boolean): RLPItem | 'error' {
  try {
    return (trailing ? RLP.decode(d, true).data : RLP.decode(d)) as RLPItem
  } catch {
    return 'error'
  }
}

function depthOf(x: RLPItem): number {
  return Array.isArray(x) ? 1 + Math.max(0, ...x.map(depthOf)) : 0
}

describe('fuzz: RLP', () => {
  it('decodeRLP: an item or an RLPError, strict and trailing-tolerant', () => {
    const valid = [...VALID, ...fc.sample(item.map(encodeRLP), { seed: 1, numRuns: 20 })]
    fc.assert(
      fc.property(bytesOrMutant(valid, 400), fc.boolean(), (d, trailing) => {
        const r = typed(() => decodeRLP(d, trailing), [RLPError])
        if (r !== undefined) assert.ok(isItem(r))
        // a strict decode of a non-empty input is canonical: the item has exactly that encoding
        if (r !== undefined && !trailing && d.length > 0) assert.deepEqual(encodeRLP(r), d)
      }),
      params(5001, 5000),
    )
  })

  it('typed readers: a value or an RLPError for any item', () => {
    fc.assert(
      fc.property(item, fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 10 }), (it, size, width) => {
        typed(() => asList(it, 'x'), [RLPError])
        typed(() => asBytes(it, 'x', size), [RLPError])
        const big = typed(() => asBigUint(it, 'x', width), [RLPError])
        if (big !== undefined) assert.ok(big >= 0n && big < 1n << BigInt(8 * width))
        const n = typed(() => asUint(it, 'x', width), [RLPError])
        if (n !== undefined) assert.ok(Number.isSafeInteger(n) && n >= 0)
      }),
      params(5002, 5000),
    )
  })

  it('agrees with @ethereumjs/rlp on every input it does not refuse for depth', () => {
    const valid = [...VALID, ...fc.sample(item.map(encodeRLP), { seed: 2, numRuns: 20 })]
    fc.assert(
      // empty input aside: @ethereumjs/rlp's stream mode returns no item for it at all
      fc.property(bytesOrMutant(valid, 400).filter((d) => d.length > 0), fc.boolean(), (d, trailing) => {
        const ours = typed(() => decodeRLP(d, trailing), [RLPError]) ?? 'error'
        assert.deepEqual(ours, reference(d, trailing))
      }),
      params(5003, 5000),
    )
  })

  it('encodes as @ethereumjs/rlp does: nested bytes, integers, strings, hex strings and empty values', () => {
    const scalar = fc.oneof(
      fc.uint8Array({ maxLength: 70 }),
      fc.uint8Array({ minLength: 1, maxLength: 1 }),
      fc.nat(),
      fc.bigInt({ min: 0n, max: (1n << 200n) - 1n }),
      fc.string({ maxLength: 60 }),
      fc.stringMatching(/^0x[0-9a-f]{0,9}$/),
      fc.constantFrom(null, undefined, 0, 0n, '', '0x'),
    )
    const input = fc.letrec<{ x: unknown }>((tie) => ({ x: fc.oneof({ depthSize: 'small' }, scalar, fc.array(tie('x'), { maxLength: 5 })) })).x
    fc.assert(
      fc.property(input, (x) => {
        const ours = encodeRLP(x)
        assert.deepEqual(ours, RLP.encode(x as Parameters<typeof RLP.encode>[0]))
        assert.equal(rlpSize(x), ours.length)
        // written behind a prefix, as a datagram's body is
        const out = new Uint8Array(3 + ours.length)
        assert.equal(writeRLP(x, out, 3), out.length)
        assert.deepEqual(out.subarray(3), ours)
      }),
      params(5004, 3000),
    )
    // lengths across the one- to four-byte length headers
    for (const n of [55, 56, 255, 256, 65_535, 65_536, 1 << 24]) {
      const b = new Uint8Array(n).fill(7)
      assert.deepEqual(encodeRLP(b), RLP.encode(b), `${n} bytes`)
      assert.deepEqual(encodeRLP([b, [b]]), RLP.encode([b, [b]]), `lists around ${n} bytes`)
    }
    assert.throws(() => encodeRLP(-1), RLPError)
    assert.throws(() => encodeRLP([1.5]), RLPError)
    assert.throws(() => encodeRLP({}), RLPError)
  })

  it('deep nesting is refused in linear time, never a stack overflow or a copy per level', () => {
    // nested(n) is n lists around an empty one
    assert.equal(depthOf(decodeRLP(nested(MAX_RLP_DEPTH - 1))), MAX_RLP_DEPTH)
    assert.throws(() => decodeRLP(nested(MAX_RLP_DEPTH)), RLPError)
    assert.throws(() => decodeRLP(nested(100_000)), RLPError)
    // the shape that made @ethereumjs/rlp copy 16 MiB per level: a maximal message of nested lists
    assert.throws(() => decodeRLP(nested(10_000, encodeRLP(new Uint8Array(16 << 20))), true), RLPError)
  })
})
