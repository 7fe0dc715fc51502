/**
 * RLP for codecs that read untrusted bytes: every decoding failure becomes an RLPError, and integers
 * are read the way geth reads them (canonical: no leading zero bytes, bounded width), so a value has
 * exactly one encoding. Encoder and decoder are ours, held to @ethereumjs/rlp by test/fuzz/rlp.test.ts.
 */

/** A decoded RLP value: a byte string, or a list of items. */
export type RLPItem = Uint8Array | RLPItem[]

/** Input that is not canonical RLP, nests too deep, or is not the shape a codec expects. */
export class RLPError extends Error {
  override readonly name = 'RLPError'
}

/**
 * Lists nest deeper than this nowhere in devp2p (an eth message goes about six deep). The bound keeps
 * recursion on hostile input far from the stack limit.
 */
export const MAX_RLP_DEPTH = 256

/**
 * Decode one RLP item; extra bytes after it are an error unless `allowTrailing` (EIP-8 tolerance).
 * Canonical forms only, as @ethereumjs/rlp and geth read them (a single byte below 0x80 is never
 * prefixed, long forms only past 55 bytes, no leading zeros in lengths); an empty input reads as the
 * empty string, as @ethereumjs/rlp has it. Not @ethereumjs/rlp's decoder itself: that one copies every
 * list's contents at every level, so a 16 MiB message of nested lists cost minutes of copying.
 * Here lists are walked in place and only byte strings are copied, once: linear in the input.
 */
export function decodeRLP(data: Uint8Array, allowTrailing = false): RLPItem {
  if (data.length === 0) return new Uint8Array(0)
  const item = decodeItem(data, 0, data.length, 0)
  if (!allowTrailing && after !== data.length) throw new RLPError(`invalid RLP: ${data.length - after} bytes after the item`)
  return item
}

/**
 * The offset after the item decodeItem read last: a module variable rather than a returned pair, so
 * decoding allocates the items and nothing else (a datagram's NEIGHBORS holds some 60 of them).
 */
let after = 0
/** the payload of the item readHeader read last: [start, stop) */
let start = 0
let stop = 0

/**
 * Read the header of the item at data[pos] (pos < end): its payload goes to `start`/`stop`; returns
 * whether it is a list. Canonical forms only; nothing may extend past `end`.
 */
function readHeader(data: Uint8Array, pos: number, end: number): boolean {
  const b = data[pos]!
  if (b < 0x80) {
    start = pos
    stop = pos + 1
    return false
  }
  const isList = b >= 0xc0
  const short = isList ? b <= 0xf7 : b <= 0xb7
  let len: number
  if (short) {
    len = b - (isList ? 0xc0 : 0x80)
    start = pos + 1
  } else {
    const ll = b - (isList ? 0xf7 : 0xb7)
    if (pos + 1 + ll > end) throw new RLPError('invalid RLP: not enough bytes for the length')
    if (data[pos + 1] === 0) throw new RLPError('invalid RLP: length with leading zeros')
    len = 0
    for (let i = 1; i <= ll; i++) len = len * 256 + data[pos + i]!
    if (len <= 55) throw new RLPError('invalid RLP: long form for a length under 56')
    start = pos + 1 + ll
  }
  stop = start + len
  if (stop > end) throw new RLPError(`invalid RLP: item of ${len} bytes runs past its input`)
  if (!isList && len === 1 && short && data[start]! < 0x80) throw new RLPError('invalid RLP: single byte < 0x80 must not be prefixed')
  return isList
}

/** The item at data[pos] (pos < end), leaving the offset after it in `after`; nothing may extend past `end`. */
function decodeItem(data: Uint8Array, pos: number, end: number, depth: number): RLPItem {
  if (!readHeader(data, pos, end)) {
    after = stop
    return data.slice(start, stop)
  }
  if (depth >= MAX_RLP_DEPTH) throw new RLPError(`invalid RLP: lists nested deeper than ${MAX_RLP_DEPTH}`)
  const items: RLPItem[] = []
  const listStop = stop
  for (let p = start; p < listStop; p = after) items.push(decodeItem(data, p, listStop, depth + 1))
  after = listStop
  return items
}

/** Check the item at data[pos] as decodeItem would, building nothing; returns the offset after it. */
function skipItem(data: Uint8Array, pos: number, end: number, depth: number): number {
  if (!readHeader(data, pos, end)) return stop
  if (depth >= MAX_RLP_DEPTH) throw new RLPError(`invalid RLP: lists nested deeper than ${MAX_RLP_DEPTH}`)
  const listStop = stop
  for (let p = start; p < listStop; ) p = skipItem(data, p, listStop, depth + 1)
  return listStop
}

/**
 * Reads RLP in place, one item after another, for the decoders of hot messages (a discv4 NEIGHBORS):
 * what decodeRLP accepts and refuses, without building an array per list and a view per byte string.
 * `list()` enters a list and returns where its items end; `bytes()` and `uint()` read one item;
 * `skipTo()` checks the items left before an offset (as decodeRLP would) and moves past them.
 */
export class RLPCursor {
  /** offset of the next item */
  pos: number

  constructor(
    readonly data: Uint8Array,
    pos = 0,
  ) {
    this.pos = pos
  }

  /** the next item must be a list (`what` names it in errors); returns the offset its items end at */
  list(end: number, what: string): number {
    if (this.pos >= end) throw new RLPError(`${what}: missing`)
    if (!readHeader(this.data, this.pos, end)) throw new RLPError(`${what}: expected a list`)
    this.pos = start
    return stop
  }

  /** the next item must be a byte string (of exactly `size` bytes when given): its [start, stop) in `data` */
  bytes(end: number, what: string, size?: number): number {
    if (this.pos >= end) throw new RLPError(`${what}: missing`)
    if (readHeader(this.data, this.pos, end)) throw new RLPError(`${what}: expected a byte string`)
    if (size !== undefined && stop - start !== size) throw new RLPError(`${what}: expected ${size} bytes, got ${stop - start}`)
    this.pos = stop
    return start
  }

  /** where the byte string bytes() read last ends */
  get stop(): number {
    return stop
  }

  /** the next item as a canonical unsigned integer of at most `maxBytes` (≤ 6) bytes, as asUint reads it */
  uint(end: number, what: string, maxBytes = 6): number {
    const from = this.bytes(end, what)
    return uintIn(this.data, from, stop, what, maxBytes)
  }

  /**
   * Check the next item, whatever it is, as decodeRLP would (at list depth `depth`) and move past it:
   * returns its offset, so its canonical encoding is `data[returned, pos)`.
   */
  next(end: number, what: string, depth: number): number {
    if (this.pos >= end) throw new RLPError(`${what}: missing`)
    const from = this.pos
    this.pos = skipItem(this.data, from, end, depth)
    return from
  }

  /** check the items left before `end` (at list depth `depth`) and move to `end` */
  skipTo(end: number, depth: number): void {
    for (let p = this.pos; p < end; ) p = skipItem(this.data, p, end, depth)
    this.pos = end
  }
}

/**
 * RLP of a byte string, or of nested arrays of them. Codecs pass integers through {@link uintBytes};
 * other values are taken as @ethereumjs/rlp takes them (see scalarBytes).
 */
export function encodeRLP(item: unknown): Uint8Array {
  const out = new Uint8Array(rlpSize(item))
  writeRLP(item, out, 0)
  return out
}

/**
 * Bytes the RLP of `item` takes. With {@link writeRLP} a codec encodes straight into the buffer it
 * sends (a discv4 datagram behind its header), with no copy per level as a concatenating encoder makes.
 */
export function rlpSize(item: unknown): number {
  if (Array.isArray(item)) {
    let n = 0
    for (const x of item) n += rlpSize(x)
    return headerSize(n) + n
  }
  const b = item instanceof Uint8Array ? item : scalarBytes(item)
  return b.length === 1 && b[0]! < 0x80 ? 1 : headerSize(b.length) + b.length
}

/** Write the RLP of `item` into `out` from `at` (room checked by the caller, see rlpSize); returns the end. */
export function writeRLP(item: unknown, out: Uint8Array, at: number): number {
  if (Array.isArray(item)) {
    let n = 0
    for (const x of item) n += rlpSize(x)
    at = writeHeader(out, at, 0xc0, n)
    for (const x of item) at = writeRLP(x, out, at)
    return at
  }
  const b = item instanceof Uint8Array ? item : scalarBytes(item)
  if (b.length === 1 && b[0]! < 0x80) {
    out[at] = b[0]!
    return at + 1
  }
  at = writeHeader(out, at, 0x80, b.length)
  out.set(b, at)
  return at + b.length
}

/**
 * Besides bytes and lists, encodeRLP takes values as @ethereumjs/rlp does (tests build odd messages
 * with them): a number or bigint as its minimal big-endian bytes (0: empty), a string as UTF-8 or,
 * written 0x…, as hex, null or undefined as empty; anything else is an RLPError.
 */
function scalarBytes(v: unknown): Uint8Array {
  if (typeof v === 'number' || typeof v === 'bigint') {
    if (typeof v === 'number' && !(Number.isSafeInteger(v) && v >= 0)) throw new RLPError(`cannot encode ${v}`)
    if (typeof v === 'bigint' && v < 0n) throw new RLPError(`cannot encode ${v}`)
    return v ? uintBytes(v) : new Uint8Array(0)
  }
  if (typeof v === 'string') {
    if (/^0x[0-9a-fA-F]*$/.test(v)) return Uint8Array.from(Buffer.from(v.length % 2 ? `0${v.slice(2)}` : v.slice(2), 'hex'))
    return new TextEncoder().encode(v)
  }
  if (v === null || v === undefined) return new Uint8Array(0)
  throw new RLPError(`cannot encode a ${typeof v}`)
}

function headerSize(len: number): number {
  if (len < 56) return 1
  let n = 1
  for (let x = len; x > 0; x = Math.floor(x / 256)) n++
  return n
}

/** a string (base 0x80) or list (0xc0) header for a payload of `len` bytes */
function writeHeader(out: Uint8Array, at: number, base: number, len: number): number {
  if (len < 56) {
    out[at] = base + len
    return at + 1
  }
  const size = headerSize(len) - 1
  out[at] = base + 55 + size
  for (let i = size, x = len; i > 0; i--, x = Math.floor(x / 256)) out[at + i] = x % 256
  return at + 1 + size
}

/** `item` as a list, or an RLPError naming `what`. */
export function asList(item: RLPItem | undefined, what: string): RLPItem[] {
  if (!Array.isArray(item)) throw new RLPError(`${what}: expected a list`)
  return item
}

/** `item` as a byte string (of exactly `size` bytes when given), or an RLPError naming `what`. */
export function asBytes(item: RLPItem | undefined, what: string, size?: number): Uint8Array {
  if (!(item instanceof Uint8Array)) throw new RLPError(`${what}: expected a byte string`)
  if (size !== undefined && item.length !== size) throw new RLPError(`${what}: expected ${size} bytes, got ${item.length}`)
  return item
}

/** A canonical unsigned integer of at most `maxBytes` bytes. */
export function asBigUint(item: RLPItem | undefined, what: string, maxBytes = 8): bigint {
  const b = asBytes(item, what)
  if (b.length > maxBytes) throw new RLPError(`${what}: integer wider than ${maxBytes} bytes`)
  if (b.length > 0 && b[0] === 0) throw new RLPError(`${what}: non-canonical integer (leading zero)`)
  let v = 0n
  for (const x of b) v = (v << 8n) | BigInt(x)
  return v
}

/** A canonical unsigned integer that fits a JS number (at most 6 bytes). */
export function asUint(item: RLPItem | undefined, what: string, maxBytes = 6): number {
  const b = asBytes(item, what)
  return uintIn(b, 0, b.length, what, maxBytes)
}

/** data[from, to) as a canonical unsigned integer of at most `maxBytes` (≤ 6) bytes: asUint's and RLPCursor's reading */
function uintIn(data: Uint8Array, from: number, to: number, what: string, maxBytes: number): number {
  const max = Math.min(maxBytes, 6)
  if (to - from > max) throw new RLPError(`${what}: integer wider than ${max} bytes`)
  if (to > from && data[from] === 0) throw new RLPError(`${what}: non-canonical integer (leading zero)`)
  // plain arithmetic: six bytes stay below 2^53, and ports and expirations are read per datagram
  let v = 0
  for (let i = from; i < to; i++) v = v * 256 + data[i]!
  return v
}

/** Minimal big-endian bytes of a non-negative integer (empty for zero), as RLP wants integers. */
export function uintBytes(v: number | bigint): Uint8Array {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) {
    // the common case (ports, expirations, sequence numbers) without BigInt arithmetic
    let n = 0
    for (let x = v; x > 0; x = Math.floor(x / 256)) n++
    const out = new Uint8Array(n)
    for (let i = n - 1, x = v; i >= 0; i--, x = Math.floor(x / 256)) out[i] = x % 256
    return out
  }
  let n = BigInt(v)
  if (n < 0n) throw new RangeError('negative integer')
  const out: number[] = []
  while (n > 0n) {
    out.unshift(Number(n & 0xffn))
    n >>= 8n
  }
  return Uint8Array.from(out)
}
