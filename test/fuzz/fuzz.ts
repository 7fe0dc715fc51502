/**
 * Shared pieces of the fuzz suite: run counts and seeds, "value or typed error" checks, and mutations
 * of valid encodings (random bytes alone rarely get past a decoder's first check).
 *
 * Every property has a fixed seed, so a failure reproduces; fast-check prints the seed and the path of
 * the shrunk counterexample. FUZZ_RUNS=N raises every property to at least N cases, FUZZ_SEED=S shifts
 * every seed by S to explore inputs the default seeds never reach.
 */
import fc from 'fast-check'

export function params(seed: number, numRuns: number): { seed: number; numRuns: number } {
  const runs = Number(process.env.FUZZ_RUNS)
  const shift = Number(process.env.FUZZ_SEED)
  return {
    seed: seed + (Number.isInteger(shift) ? shift : 0),
    numRuns: Number.isInteger(runs) && runs > numRuns ? runs : numRuns,
  }
}

type ErrorClass = abstract new (...args: never[]) => Error

/**
 * Run `f`: its value, or undefined when it threw one of `types`. Anything else it throws is rethrown,
 * so the property fails with that input. A typed error that wraps another keeps it as `cause`; a cause
 * outside `causes` is a bug hidden behind the typed error and is rethrown too.
 */
export function typed<T>(f: () => T, types: ErrorClass[], causes: ErrorClass[] = types): T | undefined {
  try {
    return f()
  } catch (e) {
    if (!types.some((t) => e instanceof t)) throw e
    const cause = (e as Error).cause
    if (cause !== undefined && !causes.some((t) => cause instanceof t)) throw cause
    return undefined
  }
}

/** The same for async functions. */
export async function typedAsync<T>(f: () => Promise<T>, types: ErrorClass[]): Promise<T | undefined> {
  try {
    return await f()
  } catch (e) {
    if (!types.some((t) => e instanceof t)) throw e
    return undefined
  }
}

/** Byte values where RLP (and most length-prefixed formats) change meaning. */
const BOUNDARY_BYTES = [0x00, 0x01, 0x7f, 0x80, 0x81, 0xb7, 0xb8, 0xbf, 0xc0, 0xc1, 0xf7, 0xf8, 0xff]
const byteValue = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(...BOUNDARY_BYTES))

export type Mutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; value: number }
  | { op: 'truncate'; at: number }
  | { op: 'extend'; bytes: Uint8Array }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; count: number }
  | { op: 'duplicate'; at: number; count: number }
  /** move a length-field byte (an RLP item header, or whatever `fields` names) up or down */
  | { op: 'length'; which: number; delta: number }

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: byteValue }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('extend' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 40 }) }),
  fc.record({
    op: fc.constant('length' as const),
    which: fc.nat(),
    delta: fc.constantFrom(-1, 1, -2, 2, -8, 8, 0x37, -0x37, 0x38, -0x38, 0x40, -0x40, 0x80),
  }),
)

function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts))
}

export function applyMutation(d: Uint8Array, m: Mutation, fields: readonly number[]): Uint8Array {
  const n = d.length
  switch (m.op) {
    case 'flip':
    case 'set': {
      if (n === 0) return d
      const out = Uint8Array.from(d)
      const at = m.at % n
      out[at] = m.op === 'flip' ? out[at]! ^ (1 << m.bit) : m.value
      return out
    }
    case 'truncate':
      return d.slice(0, n === 0 ? 0 : m.at % n)
    case 'extend':
      return concat(d, m.bytes)
    case 'insert': {
      const at = m.at % (n + 1)
      return concat(d.subarray(0, at), m.bytes, d.subarray(at))
    }
    case 'delete': {
      const at = n === 0 ? 0 : m.at % n
      return concat(d.subarray(0, at), d.subarray(at + m.count))
    }
    case 'duplicate': {
      const at = n === 0 ? 0 : m.at % n
      return concat(d.subarray(0, at + m.count), d.subarray(at))
    }
    case 'length': {
      const pos = fields.length > 0 ? fields[m.which % fields.length]! : n > 0 ? m.which % n : -1
      if (pos < 0 || pos >= n) return d
      const out = Uint8Array.from(d)
      out[pos] = (out[pos]! + m.delta) & 0xff
      return out
    }
  }
}

/**
 * Offsets of every RLP header byte (prefix and long-form length bytes) in the items that lie in
 * data[start, end), descending into lists. Tolerant: it stops where the structure stops making sense,
 * so it can run on an already mutated encoding.
 */
export function rlpHeaders(data: Uint8Array, start = 0, end = data.length, out: number[] = [], depth = 0): number[] {
  let p = start
  while (p < end && depth < 64) {
    const b = data[p]!
    out.push(p)
    if (b < 0x80) {
      p += 1
      continue
    }
    let len: number
    let hdr: number
    if (b <= 0xb7 || (b >= 0xc0 && b <= 0xf7)) {
      len = b - (b <= 0xb7 ? 0x80 : 0xc0)
      hdr = 1
    } else {
      const ll = b - (b <= 0xbf ? 0xb7 : 0xf7)
      if (p + 1 + ll > end) return out
      len = 0
      for (let i = 1; i <= ll; i++) {
        out.push(p + i)
        len = len * 256 + data[p + i]!
      }
      hdr = 1 + ll
    }
    const next = p + hdr + len
    if (next > end) return out
    if (b >= 0xc0) rlpHeaders(data, p + hdr, next, out, depth + 1)
    p = next
  }
  return out
}

export interface MutantOptions {
  /** offsets of length fields in an encoding (default: its RLP headers) */
  fields?: (d: Uint8Array) => number[]
  maxMutations?: number
}

/** One of `valid`, changed by 1 to `maxMutations` mutations. */
export function mutant(valid: readonly Uint8Array[], opts: MutantOptions = {}): fc.Arbitrary<Uint8Array> {
  const fields = opts.fields ?? ((d: Uint8Array) => rlpHeaders(d))
  return fc
    .tuple(fc.nat(valid.length - 1), fc.array(mutation, { minLength: 1, maxLength: opts.maxMutations ?? 4 }))
    .map(([i, ms]) => ms.reduce((d, m) => applyMutation(d, m, fields(d)), valid[i]!))
}

/** Random bytes or a mutant of a valid encoding, about half each. */
export function bytesOrMutant(valid: readonly Uint8Array[], maxLength: number, opts: MutantOptions = {}): fc.Arbitrary<Uint8Array> {
  return fc.oneof(fc.uint8Array({ maxLength }), mutant(valid, opts))
}

/** Copy `d` into a larger buffer at an odd offset: native code must not assume aligned or whole buffers. */
export function unaligned(d: Uint8Array, offset: number): Uint8Array {
  const host = new Uint8Array(d.length + offset + 7)
  host.set(d, offset)
  return host.subarray(offset, offset + d.length)
}

/** Characters that carry meaning in the text formats (URLs, TXT entries, JSON, hex). */
const TEXT_CHARS = '@:/?#[]=&%.,;+-_ \t\n0123456789abcdefABCDEFxXgG"\\{}enodr'

export type TextMutation =
  | { op: 'replace'; at: number; ch: string }
  | { op: 'insert'; at: number; s: string }
  | { op: 'delete'; at: number; count: number }
  | { op: 'truncate'; at: number }
  | { op: 'duplicate'; at: number; count: number }

const textMutation: fc.Arbitrary<TextMutation> = fc.oneof(
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), ch: fc.oneof(fc.constantFrom(...TEXT_CHARS), fc.string({ minLength: 1, maxLength: 1, unit: 'binary' })) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), s: fc.oneof(fc.constantFrom(...TEXT_CHARS), fc.string({ maxLength: 8, unit: 'binary' })) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 30 }) }),
)

function applyText(s: string, m: TextMutation): string {
  const n = s.length
  const at = (k: number, extra = 0) => k % (n + extra || 1)
  switch (m.op) {
    case 'replace':
      return n === 0 ? m.ch : s.slice(0, at(m.at)) + m.ch + s.slice(at(m.at) + 1)
    case 'insert':
      return s.slice(0, at(m.at, 1)) + m.s + s.slice(at(m.at, 1))
    case 'delete':
      return s.slice(0, at(m.at)) + s.slice(at(m.at) + m.count)
    case 'truncate':
      return s.slice(0, at(m.at))
    case 'duplicate':
      return s.slice(0, at(m.at) + m.count) + s.slice(at(m.at))
  }
}

/** One of `valid`, changed by 1 to 4 character-level mutations. */
export function textMutant(valid: readonly string[]): fc.Arbitrary<string> {
  return fc.tuple(fc.nat(valid.length - 1), fc.array(textMutation, { minLength: 1, maxLength: 4 })).map(([i, ms]) => ms.reduce(applyText, valid[i]!))
}
