/**
 * The parts of the `eth` wire protocol a crawler needs: the Status handshake in both layouts, the
 * message codes, and empty replies to requests so a peer is not left waiting while we read its Status.
 *
 *   eth/64–68: [version, networkid, td, blockhash, genesis, forkid]
 *   eth/69+ (EIP-7642): [version, networkid, genesis, forkid, earliestBlock, latestBlock, latestBlockHash]
 *
 * The layout follows the version the message itself declares; the caller compares it with the
 * negotiated version. Codes are relative to the eth offset in the RLPx message space.
 */
import { asBigUint, asBytes, asList, asUint, decodeRLP, encodeRLP, RLPError, uintBytes, type RLPItem } from '../util/rlp.js'
import type { ForkId } from './forkid.js'

/** eth protocol message codes, relative to the protocol's offset on the connection. */
export const EthMsg = {
  Status: 0x00,
  NewBlockHashes: 0x01,
  Transactions: 0x02,
  GetBlockHeaders: 0x03,
  BlockHeaders: 0x04,
  GetBlockBodies: 0x05,
  BlockBodies: 0x06,
  NewBlock: 0x07,
  NewPooledTransactionHashes: 0x08,
  GetPooledTransactions: 0x09,
  PooledTransactions: 0x0a,
  GetReceipts: 0x0f,
  Receipts: 0x10,
  /** eth/69+ */
  BlockRangeUpdate: 0x11,
  /** eth/71+ */
  GetBlockAccessLists: 0x12,
  BlockAccessLists: 0x13,
  /** eth/72+ */
  GetCells: 0x14,
  Cells: 0x15,
} as const

/** Number of message codes each eth version reserves (its capability length in the offset table). */
export const ETH_PROTOCOL_LENGTHS: Readonly<Record<number, number>> = { 66: 17, 67: 17, 68: 17, 69: 18, 70: 18, 71: 20, 72: 22 }

/** The oldest Status we can read: eth/64 introduced the fork id, and the layout held until eth/68. */
export const MIN_ETH_VERSION = 64
/** First version with the EIP-7642 layout. */
export const ETH69 = 69

/** What an {@link EthError} is about. */
export type EthErrorCode = 'BAD_RLP' | 'BAD_STATUS' | 'UNSUPPORTED_VERSION' | 'BAD_REQUEST' | 'INVALID_FIELD' | 'BAD_HEADERS'

/** An eth message that cannot be read (bad RLP, a malformed Status, an unsupported version). */
export class EthError extends Error {
  override readonly name = 'EthError'
  constructor(
    readonly code: EthErrorCode,
    message: string,
  ) {
    super(message)
  }
}

interface StatusCommon {
  version: number
  networkId: bigint
  /** 32 bytes */
  genesis: Uint8Array
  forkId: ForkId
}

/** eth/64–68 Status */
export interface StatusLegacy extends StatusCommon {
  layout: 68
  /** total difficulty of the head (frozen at the merge) */
  td: bigint
  /** 32-byte head block hash */
  head: Uint8Array
}

/** eth/69+ Status (EIP-7642): the block range the peer serves instead of the difficulty. */
export interface StatusRange extends StatusCommon {
  layout: 69
  earliestBlock: bigint
  latestBlock: bigint
  /** 32 bytes */
  latestBlockHash: Uint8Array
}

/** An eth Status in either layout, told apart by `layout`. */
export type Status = StatusLegacy | StatusRange

/** Field widths as geth reads them: uint32 version, uint64 numbers, difficulty up to 256 bits. */
const VERSION_BYTES = 4
const U64_BYTES = 8
const TD_BYTES = 32

/** Encode a Status in its layout; a field out of its wire width is an INVALID_FIELD EthError. */
export function encodeStatus(s: Status): Uint8Array {
  checkFields(s)
  const forkId = [s.forkId.hash, uintBytes(s.forkId.next)]
  const head = [uintBytes(s.version), uintBytes(s.networkId)]
  if (s.layout === 68) return encodeRLP([...head, uintBytes(s.td), s.head, s.genesis, forkId])
  return encodeRLP([...head, s.genesis, forkId, uintBytes(s.earliestBlock), uintBytes(s.latestBlock), s.latestBlockHash])
}

/**
 * Decode a Status payload. Extra list elements after the known ones, and bytes after the list, are
 * ignored (EIP-8: a later version may append fields); anything else malformed is an EthError.
 */
export function decodeStatus(data: Uint8Array): Status {
  const list = rlpList(data, 'Status')
  try {
    const version = asUint(list[0], 'version', VERSION_BYTES)
    if (version < MIN_ETH_VERSION) throw new EthError('UNSUPPORTED_VERSION', `Status: eth/${version} predates fork ids`)
    const networkId = asBigUint(list[1], 'network id', U64_BYTES)
    if (version < ETH69) {
      return {
        layout: 68,
        version,
        networkId,
        td: asBigUint(list[2], 'total difficulty', TD_BYTES),
        head: copy(list[3], 'head hash', 32),
        genesis: copy(list[4], 'genesis hash', 32),
        forkId: decodeForkId(list[5]),
      }
    }
    return {
      layout: 69,
      version,
      networkId,
      genesis: copy(list[2], 'genesis hash', 32),
      forkId: decodeForkId(list[3]),
      earliestBlock: asBigUint(list[4], 'earliest block', U64_BYTES),
      latestBlock: asBigUint(list[5], 'latest block', U64_BYTES),
      latestBlockHash: copy(list[6], 'latest block hash', 32),
    }
  } catch (err) {
    if (err instanceof RLPError) throw new EthError('BAD_STATUS', `Status: ${err.message}`)
    throw err
  }
}

function decodeForkId(item: RLPItem | undefined): ForkId {
  const l = asList(item, 'fork id')
  return { hash: copy(l[0], 'fork hash', 4), next: asBigUint(l[1], 'fork next', U64_BYTES) }
}

/** Decoded fields own their bytes: the input may be a frame buffer its owner reuses. */
function copy(item: RLPItem | undefined, what: string, size: number): Uint8Array {
  return Uint8Array.from(asBytes(item, what, size))
}

/** A message's RLP list, tolerating trailing bytes as geth's stream decoder does. */
function rlpList(data: Uint8Array, what: string): RLPItem[] {
  let item: RLPItem
  try {
    item = decodeRLP(data, true)
  } catch (err) {
    throw new EthError('BAD_RLP', `${what}: ${(err as Error).message}`)
  }
  if (!Array.isArray(item)) throw new EthError('BAD_RLP', `${what}: expected a list`)
  return item
}

/** Refuse to put on the wire what a peer would reject as malformed. */
function checkFields(s: Status): void {
  const fail = (what: string): never => {
    throw new EthError('INVALID_FIELD', `Status: ${what}`)
  }
  const fits = (v: bigint, bytes: number): boolean => v >= 0n && v < 1n << BigInt(8 * bytes)
  if (!Number.isInteger(s.version) || s.version < MIN_ETH_VERSION || s.version >= 2 ** 32) fail(`bad version ${s.version}`)
  if ((s.layout === 69) !== s.version >= ETH69) fail(`eth/${s.version} does not use the eth/${s.layout} layout`)
  if (!fits(s.networkId, U64_BYTES)) fail('network id out of range')
  if (s.genesis.length !== 32) fail('genesis hash must be 32 bytes')
  if (s.forkId.hash.length !== 4 || !fits(s.forkId.next, U64_BYTES)) fail('bad fork id')
  if (s.layout === 68) {
    if (!fits(s.td, TD_BYTES)) fail('total difficulty out of range')
    if (s.head.length !== 32) fail('head hash must be 32 bytes')
  } else {
    if (!fits(s.earliestBlock, U64_BYTES) || !fits(s.latestBlock, U64_BYTES)) fail('block range out of range')
    if (s.latestBlockHash.length !== 32) fail('latest block hash must be 32 bytes')
  }
}

/** An eth message: code relative to the eth offset, RLP payload. */
export interface EthMessage {
  code: number
  payload: Uint8Array
}

/**
 * The reply saying "I have none of that" to a request, echoing its request id, so a peer that asks
 * while we only want its Status gets an answer instead of timing us out. Undefined for codes that are
 * not requests we answer (announcements, replies, and GetCells, whose reply must carry a custody mask
 * we do not have). `version` is the negotiated eth version: eth/70 added a flag to Receipts.
 */
export function emptyReply(code: number, payload: Uint8Array, version: number): EthMessage | undefined {
  const replyCode = REPLIES.get(code)
  if (replyCode === undefined) return undefined
  const list = rlpList(payload, 'request')
  let requestId: bigint
  try {
    requestId = asBigUint(list[0], 'request id', U64_BYTES)
  } catch (err) {
    throw new EthError('BAD_REQUEST', `request 0x${code.toString(16)}: ${(err as Error).message}`)
  }
  const id = uintBytes(requestId)
  // eth/70 Receipts: [request-id, lastBlockIncomplete, receipts]; false encodes as the empty string
  const body = code === EthMsg.GetReceipts && version >= 70 ? [id, new Uint8Array(0), []] : [id, []]
  return { code: replyCode, payload: encodeRLP(body) }
}

const REPLIES: ReadonlyMap<number, number> = new Map([
  [EthMsg.GetBlockHeaders, EthMsg.BlockHeaders],
  [EthMsg.GetBlockBodies, EthMsg.BlockBodies],
  [EthMsg.GetPooledTransactions, EthMsg.PooledTransactions],
  [EthMsg.GetReceipts, EthMsg.Receipts],
  [EthMsg.GetBlockAccessLists, EthMsg.BlockAccessLists],
])
