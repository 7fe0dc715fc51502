/**
 * The discv5 (v5.1) wire format, as pure functions: no sockets, no timers, no state.
 *
 *   packet        = masking-iv ‖ masked-header ‖ message
 *   masked-header = AES-128-CTR(key = dest-id[:16], iv = masking-iv, static-header ‖ authdata)
 *   static-header = "discv5" ‖ version 0x0001 ‖ flag ‖ nonce (12) ‖ authdata-size (2)
 *   message       = AES-128-GCM(session key, nonce, message-type ‖ rlp(message-data),
 *                               ad = masking-iv ‖ static-header ‖ authdata)
 *
 * Flags: 0 an ordinary message (authdata = src-id), 1 WHOAREYOU (authdata = id-nonce ‖ enr-seq, no
 * message), 2 a handshake message (authdata = src-id ‖ sig-size ‖ eph-key-size ‖ id-signature ‖
 * ephemeral key ‖ record). Every decoder throws V5WireError with a code on anything malformed.
 */
import { backend as defaultBackend } from '../../crypto/backend.js'
import type { CryptoBackend } from '../../crypto/types.js'
import { asBigUint, asBytes, asList, asUint, decodeRLP, RLPCursor, RLPError, rlpSize, uintBytes, writeRLP, type RLPItem } from '../../util/rlp.js'

/** the smallest valid packet: masking IV, static header and a 24-byte WHOAREYOU authdata */
export const MIN_PACKET_SIZE = 63
/** the largest packet the spec allows */
export const MAX_PACKET_SIZE = 1280
/** the masking IV that starts every packet */
export const IV_SIZE = 16
/** AES-GCM nonce size */
export const NONCE_SIZE = 12
/** protocol id, version, flag, nonce and authdata size */
export const STATIC_HEADER_SIZE = 23
const PROTOCOL_ID = Buffer.from('discv5')
const VERSION = 1
/** a WHOAREYOU's authdata: id-nonce (16) ‖ enr-seq (8) */
const WHOAREYOU_AUTHDATA = 24
/** a handshake's fixed authdata: src-id ‖ sig-size ‖ eph-key-size */
const HANDSHAKE_HEAD = 34
/** request ids are at most 8 bytes */
export const MAX_REQUEST_ID = 8
/** distances one FINDNODE may ask for */
export const MAX_DISTANCES = 16

/** The packet kinds in the header's flag byte. */
export const Flag = { message: 0, whoareyou: 1, handshake: 2 } as const

/** How a discv5 packet failed to decode. */
export type V5WireErrorCode = 'TOO_SHORT' | 'TOO_LARGE' | 'NOT_DISCV5' | 'BAD_FLAG' | 'BAD_AUTHDATA' | 'BAD_MESSAGE' | 'UNKNOWN_MESSAGE'

/** A discv5 packet or message failed to decode; `code` says how. */
export class V5WireError extends Error {
  override readonly name = 'V5WireError'
  constructor(
    readonly code: V5WireErrorCode,
    message: string,
  ) {
    super(message)
  }
}

/** One packet with its header unmasked. */
export interface Header {
  iv: Uint8Array
  flag: number
  nonce: Uint8Array
  authdata: Uint8Array
  /** masking-iv ‖ static-header ‖ authdata, unmasked: the message's associated data, and a WHOAREYOU's challenge data */
  ad: Uint8Array
  /** the sealed message after the header (empty for WHOAREYOU) */
  message: Uint8Array
}

function staticHeader(flag: number, nonce: Uint8Array, authdataSize: number): Uint8Array {
  const h = new Uint8Array(STATIC_HEADER_SIZE)
  h.set(PROTOCOL_ID, 0)
  h[7] = VERSION
  h[8] = flag
  h.set(nonce, 9)
  h[21] = authdataSize >> 8
  h[22] = authdataSize & 255
  return h
}

/** masking-iv ‖ static-header ‖ authdata: what the message seals against (and a WHOAREYOU's challenge data) */
export function headerData(iv: Uint8Array, flag: number, nonce: Uint8Array, authdata: Uint8Array): Uint8Array {
  if (iv.length !== IV_SIZE || nonce.length !== NONCE_SIZE || authdata.length > 0xffff) throw new V5WireError('BAD_AUTHDATA', 'bad header fields')
  const out = new Uint8Array(IV_SIZE + STATIC_HEADER_SIZE + authdata.length)
  out.set(iv, 0)
  out.set(staticHeader(flag, nonce, authdata.length), IV_SIZE)
  out.set(authdata, IV_SIZE + STATIC_HEADER_SIZE)
  return out
}

/** A packet to `destId` from its unmasked header data (see headerData) and the sealed message. */
export function encodePacket(destId: Uint8Array, header: Uint8Array, message: Uint8Array, b: CryptoBackend = defaultBackend): Uint8Array {
  const iv = header.subarray(0, IV_SIZE)
  const masked = b.aesCtr(destId.subarray(0, 16), iv, header.subarray(IV_SIZE))
  const out = new Uint8Array(header.length + message.length)
  out.set(iv, 0)
  out.set(masked, IV_SIZE)
  out.set(message, header.length)
  if (out.length > MAX_PACKET_SIZE) throw new V5WireError('TOO_LARGE', `packet of ${out.length} bytes exceeds ${MAX_PACKET_SIZE}`)
  return out
}

/** Unmask the header of a packet sent to `localId`. Throws NOT_DISCV5 for anything else. */
export function decodeHeader(packet: Uint8Array, localId: Uint8Array, b: CryptoBackend = defaultBackend): Header {
  if (packet.length < MIN_PACKET_SIZE) throw new V5WireError('TOO_SHORT', `packet of ${packet.length} bytes is below ${MIN_PACKET_SIZE}`)
  if (packet.length > MAX_PACKET_SIZE) throw new V5WireError('TOO_LARGE', `packet of ${packet.length} bytes exceeds ${MAX_PACKET_SIZE}`)
  const key = localId.subarray(0, 16)
  const ad = b.v5Header(packet, key)
  // a foreign packet's "size" is noise: say it is foreign rather than cut short
  const sh = ad ? ad.subarray(IV_SIZE, IV_SIZE + STATIC_HEADER_SIZE) : b.aesCtr(key, packet.subarray(0, IV_SIZE), packet.subarray(IV_SIZE, IV_SIZE + STATIC_HEADER_SIZE))
  for (let i = 0; i < PROTOCOL_ID.length; i++) if (sh[i] !== PROTOCOL_ID[i]) throw new V5WireError('NOT_DISCV5', 'not a discv5 packet for this node')
  if (sh[6] !== 0 || sh[7] !== VERSION) throw new V5WireError('NOT_DISCV5', 'not a discv5 packet for this node')
  const flag = sh[8]!
  const size = (sh[21]! << 8) | sh[22]!
  if (!ad) throw new V5WireError('TOO_SHORT', `authdata of ${size} bytes runs past the packet`)
  const end = ad.length
  const message = packet.subarray(end)
  if (flag === Flag.message) {
    if (size !== 32) throw new V5WireError('BAD_AUTHDATA', `message authdata of ${size} bytes, want 32`)
  } else if (flag === Flag.whoareyou) {
    if (size !== WHOAREYOU_AUTHDATA || message.length > 0) throw new V5WireError('BAD_AUTHDATA', 'malformed WHOAREYOU')
  } else if (flag === Flag.handshake) {
    if (size < HANDSHAKE_HEAD) throw new V5WireError('BAD_AUTHDATA', `handshake authdata of ${size} bytes`)
  } else throw new V5WireError('BAD_FLAG', `unknown packet flag ${flag}`)
  return { iv: ad.subarray(0, IV_SIZE), flag, nonce: ad.subarray(IV_SIZE + 9, IV_SIZE + 21), authdata: ad.subarray(IV_SIZE + STATIC_HEADER_SIZE), ad, message }
}

// ---- authdata ---------------------------------------------------------------------------------

/** WHOAREYOU's authdata: the challenge nonce and the record sequence the challenger holds. */
export interface Whoareyou {
  idNonce: Uint8Array
  /** the highest sequence number of the recipient's record the sender knows (0: none) */
  enrSeq: bigint
}

/** WHOAREYOU's authdata bytes. */
export function whoareyouAuthdata(w: Whoareyou): Uint8Array {
  const out = new Uint8Array(WHOAREYOU_AUTHDATA)
  out.set(w.idNonce, 0)
  new DataView(out.buffer).setBigUint64(16, w.enrSeq)
  return out
}

/** Reads WHOAREYOU's authdata; throws V5WireError(BAD_AUTHDATA) on a wrong size. */
export function parseWhoareyou(authdata: Uint8Array): Whoareyou {
  if (authdata.length !== WHOAREYOU_AUTHDATA) throw new V5WireError('BAD_AUTHDATA', 'malformed WHOAREYOU')
  return { idNonce: authdata.slice(0, 16), enrSeq: new DataView(authdata.buffer, authdata.byteOffset).getBigUint64(16) }
}

/** A handshake packet's authdata: sender id, id-signature, ephemeral key, and the record when asked for. */
export interface HandshakeAuth {
  srcId: Uint8Array
  /** the id-signature (64 bytes for the "v4" scheme) */
  signature: Uint8Array
  /** the initiator's ephemeral public key, 33 bytes compressed */
  ephKey: Uint8Array
  /** the initiator's record when the WHOAREYOU showed an older one, else absent */
  record?: Uint8Array
}

/** A handshake packet's authdata bytes. */
export function handshakeAuthdata(h: HandshakeAuth): Uint8Array {
  const rec = h.record ?? new Uint8Array(0)
  const out = new Uint8Array(HANDSHAKE_HEAD + h.signature.length + h.ephKey.length + rec.length)
  out.set(h.srcId, 0)
  out[32] = h.signature.length
  out[33] = h.ephKey.length
  out.set(h.signature, HANDSHAKE_HEAD)
  out.set(h.ephKey, HANDSHAKE_HEAD + h.signature.length)
  out.set(rec, HANDSHAKE_HEAD + h.signature.length + h.ephKey.length)
  return out
}

/** Reads a handshake packet's authdata; throws V5WireError(BAD_AUTHDATA) when the sizes disagree. */
export function parseHandshake(authdata: Uint8Array): HandshakeAuth {
  if (authdata.length < HANDSHAKE_HEAD) throw new V5WireError('BAD_AUTHDATA', 'handshake authdata too short')
  const sigSize = authdata[32]!
  const keySize = authdata[33]!
  if (sigSize !== 64 || keySize !== 33) throw new V5WireError('BAD_AUTHDATA', `signature of ${sigSize} and key of ${keySize} bytes: not the v4 scheme`)
  const recStart = HANDSHAKE_HEAD + sigSize + keySize
  if (recStart > authdata.length) throw new V5WireError('BAD_AUTHDATA', 'handshake authdata cut short')
  const h: HandshakeAuth = {
    srcId: authdata.slice(0, 32),
    signature: authdata.slice(HANDSHAKE_HEAD, HANDSHAKE_HEAD + sigSize),
    ephKey: authdata.slice(HANDSHAKE_HEAD + sigSize, recStart),
  }
  if (recStart < authdata.length) h.record = authdata.slice(recStart)
  return h
}

// ---- messages ---------------------------------------------------------------------------------

/** The message type bytes. */
export const MessageType = { ping: 1, pong: 2, findnode: 3, nodes: 4, talkreq: 5, talkresp: 6 } as const

/** A decrypted discv5 message. */
export type V5Message =
  | { type: 1; reqId: Uint8Array; enrSeq: bigint }
  | { type: 2; reqId: Uint8Array; enrSeq: bigint; ip: Uint8Array; port: number }
  | { type: 3; reqId: Uint8Array; distances: number[] }
  | { type: 4; reqId: Uint8Array; total: number; records: Uint8Array[] }
  | { type: 5; reqId: Uint8Array; protocol: Uint8Array; request: Uint8Array }
  | { type: 6; reqId: Uint8Array; response: Uint8Array }

/** whether a message answers a request (and so must match one we sent) */
export function isResponse(m: V5Message): boolean {
  return m.type === MessageType.pong || m.type === MessageType.nodes || m.type === MessageType.talkresp
}

/** A message's plaintext: its type byte, then its RLP list. */
export function encodeMessage(m: V5Message): Uint8Array {
  let body: unknown[]
  switch (m.type) {
    case 1:
      body = [m.reqId, uintBytes(m.enrSeq)]
      break
    case 2:
      body = [m.reqId, uintBytes(m.enrSeq), m.ip, uintBytes(m.port)]
      break
    case 3:
      body = [m.reqId, m.distances.map((d) => uintBytes(d))]
      break
    case 4:
      body = [m.reqId, uintBytes(m.total), m.records.map((r) => decodeRLP(r))]
      break
    case 5:
      body = [m.reqId, m.protocol, m.request]
      break
    case 6:
      body = [m.reqId, m.response]
      break
  }
  const out = new Uint8Array(1 + rlpSize(body))
  out[0] = m.type
  writeRLP(body, out, 1)
  return out
}

function reqId(item: RLPItem | undefined): Uint8Array {
  const id = asBytes(item, 'request id')
  if (id.length > MAX_REQUEST_ID) throw new V5WireError('BAD_MESSAGE', `request id of ${id.length} bytes exceeds ${MAX_REQUEST_ID}`)
  return id
}

/**
 * NODES read in place (see RLPCursor): each record is the slice of the message that encodes it, where
 * decoding every record into items and encoding them again was most of a discv5 crawl's allocations.
 * Accepts and refuses what the generic path does (the whole message checked, nothing after it).
 */
function decodeNodes(body: Uint8Array): V5Message {
  if (body.length === 0) throw new RLPError('message: expected a list')
  const c = new RLPCursor(body)
  const end = c.list(body.length, 'message')
  if (end !== body.length) throw new RLPError(`invalid RLP: ${body.length - end} bytes after the item`)
  const idAt = c.bytes(end, 'request id')
  const id = body.slice(idAt, c.stop)
  if (id.length > MAX_REQUEST_ID) throw new V5WireError('BAD_MESSAGE', `request id of ${id.length} bytes exceeds ${MAX_REQUEST_ID}`)
  const total = c.uint(end, 'total', 1)
  const recordsEnd = c.list(end, 'records')
  const records: Uint8Array[] = []
  while (c.pos < recordsEnd) {
    if (body[c.pos]! < 0xc0) throw new RLPError('record: expected a list')
    const from = c.next(recordsEnd, 'record', 2)
    records.push(body.slice(from, c.pos))
  }
  c.skipTo(end, 1)
  return { type: MessageType.nodes, reqId: id, total, records }
}

/** Decode a message's plaintext (type ‖ rlp). Extra list elements are ignored, as the spec allows. */
export function decodeMessage(pt: Uint8Array): V5Message {
  if (pt.length < 2) throw new V5WireError('BAD_MESSAGE', 'empty message')
  const type = pt[0]!
  if (type === MessageType.nodes) {
    try {
      return decodeNodes(pt.subarray(1))
    } catch (err) {
      if (err instanceof RLPError) throw new V5WireError('BAD_MESSAGE', err.message)
      throw err
    }
  }
  let l: RLPItem[]
  try {
    l = asList(decodeRLP(pt.subarray(1)), 'message')
  } catch (err) {
    throw new V5WireError('BAD_MESSAGE', `message is not an RLP list: ${(err as Error).message}`)
  }
  try {
    switch (type) {
      case 1:
        return { type, reqId: reqId(l[0]), enrSeq: asBigUint(l[1], 'enr-seq') }
      case 2: {
        const ip = asBytes(l[2], 'recipient ip')
        if (ip.length !== 4 && ip.length !== 16) throw new V5WireError('BAD_MESSAGE', `recipient ip of ${ip.length} bytes`)
        const port = asUint(l[3], 'recipient port', 2)
        return { type, reqId: reqId(l[0]), enrSeq: asBigUint(l[1], 'enr-seq'), ip, port }
      }
      case 3: {
        const ds = asList(l[1], 'distances')
        if (ds.length > MAX_DISTANCES) throw new V5WireError('BAD_MESSAGE', `${ds.length} distances exceed ${MAX_DISTANCES}`)
        const distances = ds.map((d) => asUint(d, 'distance', 2))
        if (distances.some((d) => d > 256)) throw new V5WireError('BAD_MESSAGE', 'distance beyond 256')
        return { type, reqId: reqId(l[0]), distances }
      }
      case 5:
        return { type, reqId: reqId(l[0]), protocol: asBytes(l[1], 'protocol'), request: asBytes(l[2], 'request') }
      case 6:
        return { type, reqId: reqId(l[0]), response: asBytes(l[1], 'response') }
      default:
        throw new V5WireError('UNKNOWN_MESSAGE', `message type ${type}`)
    }
  } catch (err) {
    if (err instanceof V5WireError) throw err
    if (err instanceof RLPError) throw new V5WireError('BAD_MESSAGE', err.message)
    throw err
  }
}
