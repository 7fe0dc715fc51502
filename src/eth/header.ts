/**
 * Block headers as the crawler reads a peer's head: GetBlockHeaders (eth/66+: [request-id, [origin,
 * amount, skip, reverse]]) and its BlockHeaders answer ([request-id, [header, …]]), pure codecs over
 * bytes. Of a header only the number, the timestamp, the parent hash and the hash (keccak-256 of the
 * header's RLP) are read; the rest is checked for shape (field count, fixed widths) and otherwise
 * ignored, so every fork's layout (15 fields before London, 21 since Prague) reads the same way.
 *
 * Bounds: a BlockHeaders payload over {@link MAX_HEADERS_PAYLOAD} bytes, or carrying more headers than
 * the caller allows, is refused; malformed input is an EthError with code BAD_HEADERS.
 */
import { backend } from '../crypto/backend.js'
import { asBigUint, asBytes, asList, asUint, decodeRLP, encodeRLP, RLPError, uintBytes, type RLPItem } from '../util/rlp.js'
import { EthError } from './status.js'

/** geth's soft response limit: a BlockHeaders message past this is not one we asked for */
export const MAX_HEADERS_PAYLOAD = 2 * 1024 * 1024
/** geth serves at most this many headers per request */
export const MAX_HEADERS_SERVE = 1024
/** a header's field count: 15 before London; Prague's has 21; later forks may append a few */
const MIN_FIELDS = 15
const MAX_FIELDS = 32

/** What the crawler reads of a block header. */
export interface BlockHeader {
  number: bigint
  /** unix seconds */
  time: bigint
  /** 32 bytes */
  parentHash: Uint8Array
  /** keccak-256 of the header's RLP: the block hash */
  hash: Uint8Array
}

/** A GetBlockHeaders request: from `origin` (a 32-byte hash or a number), `amount` headers `skip` apart. */
export interface GetBlockHeaders {
  requestId: bigint
  origin: Uint8Array | bigint
  amount: number
  skip: number
  reverse: boolean
}

/** The fields a header is built from; the rest are the empty values of a block with no transactions. */
export interface HeaderFields {
  parentHash: Uint8Array
  number: bigint
  /** unix seconds */
  time: bigint
  gasLimit?: bigint
  /** at most 32 bytes on mainnet; not checked here */
  extra?: Uint8Array
  baseFee?: bigint
}

const EMPTY_LIST_HASH = Uint8Array.from(Buffer.from('1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347', 'hex'))
const EMPTY_ROOT = Uint8Array.from(Buffer.from('56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421', 'hex'))
const EMPTY_REQUESTS_HASH = Uint8Array.from(Buffer.from('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'hex'))

/**
 * The RLP of a post-Prague header (21 fields) with `h`'s number, time, parent and the empty roots of a
 * block without transactions: what the testnet serves. Its hash is {@link headerHash} of the result.
 */
export function encodeHeader(h: HeaderFields): Uint8Array {
  if (h.parentHash.length !== 32) throw new EthError('INVALID_FIELD', 'header: parent hash must be 32 bytes')
  if (h.number < 0n || h.number >= 1n << 64n || h.time < 0n || h.time >= 1n << 64n) throw new EthError('INVALID_FIELD', 'header: number or time out of range')
  const zero32 = new Uint8Array(32)
  return encodeRLP([
    h.parentHash,
    EMPTY_LIST_HASH, // ommers
    new Uint8Array(20), // coinbase
    zero32, // state root
    EMPTY_ROOT, // transactions
    EMPTY_ROOT, // receipts
    new Uint8Array(256), // bloom
    uintBytes(0), // difficulty (0 since the merge)
    uintBytes(h.number),
    uintBytes(h.gasLimit ?? 36_000_000n),
    uintBytes(0), // gas used
    uintBytes(h.time),
    h.extra ?? new Uint8Array(0),
    zero32, // prevrandao
    new Uint8Array(8), // nonce
    uintBytes(h.baseFee ?? 1_000_000_000n),
    EMPTY_ROOT, // withdrawals
    uintBytes(0), // blob gas used
    uintBytes(0), // excess blob gas
    zero32, // parent beacon root
    EMPTY_REQUESTS_HASH,
  ])
}

/** The block hash: keccak-256 of the header's RLP. */
export function headerHash(rlp: Uint8Array): Uint8Array {
  return backend.keccak256(rlp)
}

/** Encode a GetBlockHeaders request (eth/66+ layout). */
export function encodeGetBlockHeaders(r: GetBlockHeaders): Uint8Array {
  if (r.origin instanceof Uint8Array && r.origin.length !== 32) throw new EthError('INVALID_FIELD', 'GetBlockHeaders: origin hash must be 32 bytes')
  const origin = r.origin instanceof Uint8Array ? r.origin : uintBytes(r.origin)
  return encodeRLP([uintBytes(r.requestId), [origin, uintBytes(r.amount), uintBytes(r.skip), uintBytes(r.reverse ? 1 : 0)]])
}

/** Decode a GetBlockHeaders request; a malformed one is an EthError (BAD_REQUEST). */
export function decodeGetBlockHeaders(payload: Uint8Array): GetBlockHeaders {
  try {
    const list = asList(decodeRLP(payload, true), 'GetBlockHeaders')
    const requestId = asBigUint(list[0], 'request id', 8)
    const q = asList(list[1], 'query')
    const o = asBytes(q[0], 'origin')
    const origin = o.length === 32 ? Uint8Array.from(o) : asBigUint(o, 'origin number', 8)
    return { requestId, origin, amount: asUint(q[1], 'amount', 6), skip: asUint(q[2], 'skip', 6), reverse: asUint(q[3], 'reverse', 1) !== 0 }
  } catch (err) {
    if (err instanceof RLPError) throw new EthError('BAD_REQUEST', `GetBlockHeaders: ${err.message}`)
    throw err
  }
}

/** A BlockHeaders answer from headers already in RLP (each one a complete header encoding). */
export function encodeBlockHeaders(requestId: bigint, headers: readonly Uint8Array[]): Uint8Array {
  const id = encodeRLP(uintBytes(requestId))
  const inner = listOf(headers)
  return listOf([id, inner])
}

/** the RLP list of already-encoded items */
function listOf(items: readonly Uint8Array[]): Uint8Array {
  const len = items.reduce((n, b) => n + b.length, 0)
  const lenBytes = len <= 55 ? [] : [...uintBytes(len)]
  const out = new Uint8Array(1 + lenBytes.length + len)
  out[0] = len <= 55 ? 0xc0 + len : 0xf7 + lenBytes.length
  out.set(lenBytes, 1)
  let o = 1 + lenBytes.length
  for (const b of items) {
    out.set(b, o)
    o += b.length
  }
  return out
}

/**
 * Decode a BlockHeaders answer: its request id and what is read of each header (at most `maxHeaders`).
 * Anything malformed (bad RLP, a header of the wrong shape, too many or too large) is an EthError
 * with code BAD_HEADERS.
 */
export function decodeBlockHeaders(payload: Uint8Array, maxHeaders = MAX_HEADERS_SERVE): { requestId: bigint; headers: BlockHeader[] } {
  if (payload.length > MAX_HEADERS_PAYLOAD) throw new EthError('BAD_HEADERS', `BlockHeaders: ${payload.length} bytes, over ${MAX_HEADERS_PAYLOAD}`)
  try {
    const list = asList(decodeRLP(payload, true), 'BlockHeaders')
    const requestId = asBigUint(list[0], 'request id', 8)
    const items = asList(list[1], 'headers')
    if (items.length > maxHeaders) throw new EthError('BAD_HEADERS', `BlockHeaders: ${items.length} headers, asked for at most ${maxHeaders}`)
    return { requestId, headers: items.map(decodeHeaderItem) }
  } catch (err) {
    if (err instanceof RLPError) throw new EthError('BAD_HEADERS', `BlockHeaders: ${err.message}`)
    throw err
  }
}

/** Decode one header's RLP (see {@link decodeBlockHeaders} for the errors). */
export function decodeHeader(rlp: Uint8Array): BlockHeader {
  try {
    return decodeHeaderItem(decodeRLP(rlp))
  } catch (err) {
    if (err instanceof RLPError) throw new EthError('BAD_HEADERS', `header: ${err.message}`)
    throw err
  }
}

function decodeHeaderItem(item: RLPItem): BlockHeader {
  const f = asList(item, 'header')
  if (f.length < MIN_FIELDS || f.length > MAX_FIELDS) throw new RLPError(`header: ${f.length} fields, want ${MIN_FIELDS}–${MAX_FIELDS}`)
  asBytes(f[1], 'ommers hash', 32)
  asBytes(f[2], 'coinbase', 20)
  asBytes(f[6], 'bloom', 256)
  asBytes(f[14], 'nonce', 8)
  const parentHash = Uint8Array.from(asBytes(f[0], 'parent hash', 32))
  const number = asBigUint(f[8], 'number', 8)
  const time = asBigUint(f[11], 'time', 8)
  // decodeRLP reads canonical RLP only, so this encoding is the bytes the peer sent
  return { number, time, parentHash, hash: headerHash(encodeRLP(item)) }
}
