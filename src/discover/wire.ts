/**
 * discv4 packets (geth's p2p/discover/v4wire): pure encode/sign and decode/verify, no sockets.
 *
 * Datagram: hash(32) ‖ signature(65) ‖ type(1) ‖ rlp(body), hash = keccak256(signature ‖ type ‖ body),
 * signature over keccak256(type ‖ body). Decoding is EIP-8 tolerant: extra list elements and bytes after
 * the list are ignored, any ping version is accepted, and EIP-868's enr-seq is read only when it is a
 * plain integer (two EIP-8 vectors put a list in that slot).
 */
import { backend as defaultBackend } from '../crypto/backend.js'
import { PACKET_HASH_SIZE, PACKET_HEADER_SIZE, type CryptoBackend, type PacketCheck } from '../crypto/types.js'
import { ipFromBytes, ipToBytes } from '../util/netutil.js'
import { asBigUint, asBytes, asList, asUint, decodeRLP, encodeRLP, RLPCursor, RLPError, rlpSize, uintBytes, writeRLP, type RLPItem } from '../util/rlp.js'

/** The largest discv4 datagram, sent or accepted (bytes). */
export const MAX_PACKET_SIZE = 1280
/** neighbors entries that fit a 1280-byte datagram with room to spare (geth computes the same 12) */
export const MAX_NEIGHBORS = 12
/** how far in the future our packets expire */
export const EXPIRATION_S = 20

/** discv4 packet type bytes. */
export const PacketType = {
  Ping: 1,
  Pong: 2,
  FindNode: 3,
  Neighbors: 4,
  ENRRequest: 5,
  ENRResponse: 6,
} as const
/** One of the {@link PacketType} values. */
export type PacketTypeCode = (typeof PacketType)[keyof typeof PacketType]

/** Packet type names for logs and metrics. */
export const PACKET_NAMES: Record<number, string> = {
  1: 'ping',
  2: 'pong',
  3: 'findnode',
  4: 'neighbors',
  5: 'enrRequest',
  6: 'enrResponse',
}

/** A UDP/TCP endpoint as ping and pong carry it. */
export interface Endpoint {
  /** null when the packet carried no valid 4- or 16-byte address (geth ignores it then) */
  ip: string | null
  udp: number
  tcp: number
}

/** One entry of a NEIGHBORS reply. */
export interface NeighborNode {
  ip: string
  udp: number
  tcp: number
  /** 64-byte public key, checked to be on the curve */
  pubkey: Uint8Array
}

/** PING: asks for a PONG, proving our endpoint to the recipient (and theirs to us once it answers). */
export interface Ping {
  type: 1
  version: number
  from: Endpoint
  to: Endpoint
  expiration: number
  enrSeq?: bigint
}
/** PONG: the answer to a PING, echoing its hash. */
export interface Pong {
  type: 2
  to: Endpoint
  /** hash of the ping this answers */
  replyTok: Uint8Array
  expiration: number
  enrSeq?: bigint
}
/** FINDNODE: asks for the recipient's closest nodes to a target (answered only after an endpoint proof). */
export interface FindNode {
  type: 3
  /** any 64 bytes; the remote sorts by keccak256(target) */
  target: Uint8Array
  expiration: number
}
/** NEIGHBORS: up to 12 nodes per datagram in answer to FINDNODE (16 come in two datagrams). */
export interface Neighbors {
  type: 4
  nodes: NeighborNode[]
  expiration: number
  /** entries dropped for an invalid public key or address (not sent by us; counted on decode) */
  skipped?: number
}
/** ENRREQUEST (EIP-868): asks for the recipient's signed node record. */
export interface ENRRequest {
  type: 5
  expiration: number
}
/** ENRRESPONSE (EIP-868): the record, and the hash of the request it answers. */
export interface ENRResponse {
  type: 6
  /** hash of the ENRRequest this answers */
  replyTok: Uint8Array
  /** the encoded record (decode and verify with ENR.decode) */
  record: Uint8Array
}
/** Any discv4 packet, told apart by `type`. */
export type Packet = Ping | Pong | FindNode | Neighbors | ENRRequest | ENRResponse

/** What a {@link WireError} is about. */
export type WireErrorCode = 'TOO_LARGE' | 'TOO_SHORT' | 'BAD_HASH' | 'BAD_SIGNATURE' | 'UNKNOWN_TYPE' | 'MALFORMED'

/**
 * A datagram that cannot be a valid discv4 packet: too large or short, bad hash or signature, unknown
 * type, or a malformed body. Listeners drop such datagrams and count them.
 */
export class WireError extends Error {
  override readonly name = 'WireError'
  constructor(
    readonly code: WireErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/** A verified, decoded datagram: the packet, its hash and its signer. */
export interface Decoded {
  packet: Packet
  /** the packet hash (pongs and ENRResponses echo it) */
  hash: Uint8Array
  /** the signer's 64-byte public key */
  pubkey: Uint8Array
}

/** expiration timestamp for a packet sent now */
export function expiration(nowMs = Date.now()): number {
  return Math.floor(nowMs / 1000) + EXPIRATION_S
}

/** whether an expiration timestamp (seconds) lies in the past */
export function isExpired(exp: number, nowMs = Date.now()): boolean {
  return exp < nowMs / 1000
}

function endpointItem(e: Endpoint): RLPItem[] {
  return [e.ip === null ? new Uint8Array(0) : ipToBytes(e.ip), uintBytes(e.udp), uintBytes(e.tcp)]
}

function bodyItems(p: Packet): RLPItem[] {
  switch (p.type) {
    case 1: {
      const items = [uintBytes(p.version), endpointItem(p.from), endpointItem(p.to), uintBytes(p.expiration)]
      if (p.enrSeq !== undefined) items.push(uintBytes(p.enrSeq))
      return items
    }
    case 2: {
      const items = [endpointItem(p.to), p.replyTok, uintBytes(p.expiration)]
      if (p.enrSeq !== undefined) items.push(uintBytes(p.enrSeq))
      return items
    }
    case 3:
      return [p.target, uintBytes(p.expiration)]
    case 4:
      return [p.nodes.map((n) => [ipToBytes(n.ip), uintBytes(n.udp), uintBytes(n.tcp), n.pubkey]), uintBytes(p.expiration)]
    case 5:
      return [uintBytes(p.expiration)]
    case 6:
      return [p.replyTok, decodeRLP(p.record)]
  }
}

/** Encode and sign a packet with `priv`; throws WireError TOO_LARGE past 1280 bytes. */
export function encodePacket(p: Packet, priv: Uint8Array, b: CryptoBackend = defaultBackend): { datagram: Uint8Array; hash: Uint8Array } {
  const datagram = encodeUnsealed(p)
  b.sealPacket(datagram, priv)
  return { datagram, hash: datagram.subarray(0, PACKET_HASH_SIZE) }
}

/**
 * A packet laid out as sent, its 97-byte header (hash, signature) still zero for
 * {@link CryptoBackend.sealPacket} or sealPackets to fill; throws WireError TOO_LARGE past 1280 bytes.
 */
export function encodeUnsealed(p: Packet): Uint8Array {
  if (p.type === PacketType.Neighbors && p.nodes.length > MAX_NEIGHBORS) {
    throw new WireError('TOO_LARGE', `neighbors carries at most ${MAX_NEIGHBORS} nodes, got ${p.nodes.length}`)
  }
  const body = bodyItems(p)
  const size = PACKET_HEADER_SIZE + 1 + rlpSize(body)
  if (size > MAX_PACKET_SIZE) throw new WireError('TOO_LARGE', `packet of ${size} bytes exceeds ${MAX_PACKET_SIZE}`)
  const datagram = new Uint8Array(size)
  datagram[PACKET_HEADER_SIZE] = p.type
  writeRLP(body, datagram, PACKET_HEADER_SIZE + 1)
  return datagram
}

function decodeEndpoint(item: RLPItem | undefined, what: string): Endpoint {
  const l = asList(item, what)
  if (l.length < 3) throw new RLPError(`${what}: expected [ip, udp, tcp]`)
  return { ip: ipFromBytes(asBytes(l[0], `${what} ip`)), udp: asUint(l[1], `${what} udp`, 2), tcp: asUint(l[2], `${what} tcp`, 2) }
}

/** EIP-868 enr-seq, read only when it is a plain integer */
function lenientSeq(item: RLPItem | undefined): bigint | undefined {
  if (item === undefined) return undefined
  try {
    return asBigUint(item, 'enr-seq')
  } catch {
    return undefined
  }
}

/**
 * NEIGHBORS read in place (see RLPCursor): the packet a crawl receives most, whose generic decoding
 * built an array and four views per entry only to drop them. Accepts and refuses what the generic
 * path does: at least [nodes, expiration], every item checked, bytes after the packet list ignored.
 */
function decodeNeighbors(payload: Uint8Array, b: CryptoBackend): Neighbors {
  if (payload.length === 0) throw new RLPError('packet: expected a list')
  const c = new RLPCursor(payload)
  // a missing item (fewer than [nodes, expiration] or [ip, udp, tcp, id]) throws as the cursor reads it
  const packetEnd = c.list(payload.length, 'packet')
  const nodesEnd = c.list(packetEnd, 'nodes')
  const nodes: NeighborNode[] = []
  let skipped = 0
  while (c.pos < nodesEnd) {
    const entryEnd = c.list(nodesEnd, 'node')
    const ipAt = c.bytes(entryEnd, 'node ip')
    const ipLen = c.stop - ipAt
    const udp = c.uint(entryEnd, 'node udp', 2)
    const tcp = c.uint(entryEnd, 'node tcp', 2)
    const keyAt = c.bytes(entryEnd, 'node id', 64)
    c.skipTo(entryEnd, 3)
    const ip = ipLen === 4 || ipLen === 16 ? ipFromBytes(payload.subarray(ipAt, ipAt + ipLen)) : null
    const pubkey = payload.slice(keyAt, keyAt + 64)
    // an entry that is not a real node is dropped, the rest of the packet is still good
    if (ip === null || !b.publicKeyValid(pubkey)) skipped++
    else nodes.push({ ip, udp, tcp, pubkey })
  }
  const expiration = c.uint(packetEnd, 'expiration', 8)
  c.skipTo(packetEnd, 1)
  return { type: 4, nodes, expiration, skipped }
}

function decodeBody(type: number, payload: Uint8Array, b: CryptoBackend): Packet {
  if (type === PacketType.Neighbors) return decodeNeighbors(payload, b)
  const l = asList(decodeRLP(payload, true), 'packet')
  const need = (n: number): void => {
    if (l.length < n) throw new RLPError(`${PACKET_NAMES[type]}: expected at least ${n} elements, got ${l.length}`)
  }
  switch (type) {
    case 1: {
      need(4)
      const p: Ping = {
        type: 1,
        version: asUint(l[0], 'version'),
        from: decodeEndpoint(l[1], 'from'),
        to: decodeEndpoint(l[2], 'to'),
        expiration: asUint(l[3], 'expiration', 8),
      }
      const seq = lenientSeq(l[4])
      if (seq !== undefined) p.enrSeq = seq
      return p
    }
    case 2: {
      need(3)
      const p: Pong = { type: 2, to: decodeEndpoint(l[0], 'to'), replyTok: asBytes(l[1], 'reply token', 32), expiration: asUint(l[2], 'expiration', 8) }
      const seq = lenientSeq(l[3])
      if (seq !== undefined) p.enrSeq = seq
      return p
    }
    case 3:
      need(2)
      return { type: 3, target: asBytes(l[0], 'target', 64), expiration: asUint(l[1], 'expiration', 8) }
    case 5:
      need(1)
      return { type: 5, expiration: asUint(l[0], 'expiration', 8) }
    case 6: {
      need(2)
      const replyTok = asBytes(l[0], 'reply token', 32)
      if (!Array.isArray(l[1])) throw new RLPError('record: expected a list')
      return { type: 6, replyTok, record: encodeRLP(l[1]) }
    }
    default:
      throw new WireError('UNKNOWN_TYPE', `unknown packet type ${type}`)
  }
}

/** Decode the body of a datagram that the backend already verified (the batch path). */
export function decodeChecked(check: PacketCheck, b: CryptoBackend = defaultBackend): Decoded {
  if (!check.ok) {
    const code = check.error === 'too-short' ? 'TOO_SHORT' : check.error === 'bad-hash' ? 'BAD_HASH' : 'BAD_SIGNATURE'
    throw new WireError(code, `packet rejected: ${check.error}`)
  }
  try {
    return { packet: decodeBody(check.type, check.payload, b), hash: check.hash, pubkey: check.pubkey }
  } catch (err) {
    if (err instanceof WireError) throw err
    // the cause keeps a non-RLP failure (a bug, not a bad packet) visible to tests and logs
    throw new WireError('MALFORMED', `${PACKET_NAMES[check.type] ?? 'packet'}: ${(err as Error).message}`, { cause: err })
  }
}

/**
 * Verify (hash, signature: one backend call) and decode a datagram. Throws WireError; never anything
 * else for any input.
 */
export function decodePacket(datagram: Uint8Array, b: CryptoBackend = defaultBackend): Decoded {
  if (datagram.length > MAX_PACKET_SIZE) throw new WireError('TOO_LARGE', `datagram of ${datagram.length} bytes exceeds ${MAX_PACKET_SIZE}`)
  return decodeChecked(b.verifyPacket(datagram), b)
}

/**
 * Whether `data` carries discv4's hash (its first 32 bytes are the keccak256 of the rest): how a
 * socket shared with discv5 tells the two protocols apart before any signature check.
 */
export function isDiscv4Packet(data: Uint8Array, b: Pick<CryptoBackend, 'keccak256'>): boolean {
  if (data.length < PACKET_HEADER_SIZE + 1) return false
  const h = b.keccak256(data.subarray(32))
  for (let i = 0; i < 32; i++) if (h[i] !== data[i]) return false
  return true
}
