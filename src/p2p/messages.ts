/**
 * The base ("p2p") protocol spoken on every RLPx connection before any capability: message codes,
 * the Hello and Disconnect codecs (the reasons and the Hello's shape are in base.ts). Pure functions over bytes.
 *
 *   Hello      [protocolVersion, clientId, [[capName, capVersion], …], listenPort, nodeId, …]
 *   Disconnect [reason] — also seen as a bare `reason`, or with no payload at all
 *   Ping/Pong  []
 */
import { asBytes, asList, decodeRLP, encodeRLP, RLPError, uintBytes, type RLPItem } from '../util/rlp.js'
import { DisconnectReason, type Hello } from './base.js'
import { P2PError } from './errors.js'

/** The version we speak: 5 added snappy compression of every message after the Hellos. */
export const BASE_PROTOCOL_VERSION = 5
/** The first version whose peers compress (both sides must say at least this). */
export const SNAPPY_PROTOCOL_VERSION = 5
/** Older Hellos are refused with IncompatibleVersion: every live client has spoken v4+ since 2015. */
export const MIN_PROTOCOL_VERSION = 4
/** Message codes the base protocol reserves; the first capability starts here. */
export const BASE_PROTOCOL_LENGTH = 16
/** A Hello larger than this is refused before decoding. */
export const MAX_HELLO_SIZE = 2 * 1024

/** The base protocol's message codes (0x00–0x03; 0x04–0x0f are reserved). */
export const BaseMsg = {
  Hello: 0x00,
  Disconnect: 0x01,
  Ping: 0x02,
  Pong: 0x03,
} as const

/** Ping and Pong payload: the empty list. */
export const EMPTY_LIST: Uint8Array = encodeRLP([])

const utf8 = new TextEncoder()
// not fatal: a client id is display text, and one odd byte must not cost us the peer
const text = new TextDecoder('utf-8', { fatal: false })

/** Encode a Hello; one larger than {@link MAX_HELLO_SIZE} is a HELLO_TOO_LARGE P2PError. */
export function encodeHello(h: Hello): Uint8Array {
  const caps = h.caps.map((c) => [utf8.encode(c.name), uintBytes(c.version)])
  const out = encodeRLP([uintBytes(h.protocolVersion), utf8.encode(h.clientId), caps, uintBytes(h.listenPort), h.id])
  if (out.length > MAX_HELLO_SIZE) throw new P2PError('HELLO_TOO_LARGE', `Hello of ${out.length} bytes, over ${MAX_HELLO_SIZE}`)
  return out
}

/**
 * Decode a Hello. Elements after the known ones (in the Hello and in each capability) and bytes after
 * the list are ignored, as EIP-8 asks; a missing or mistyped field is a BAD_HELLO P2PError.
 */
export function decodeHello(payload: Uint8Array): Hello {
  if (payload.length > MAX_HELLO_SIZE) throw new P2PError('HELLO_TOO_LARGE', `Hello of ${payload.length} bytes, over ${MAX_HELLO_SIZE}`)
  try {
    const l = asList(decodeRLP(payload, true), 'Hello')
    return {
      protocolVersion: looseUint(l[0], 'protocol version'),
      clientId: text.decode(asBytes(l[1], 'client id')),
      caps: asList(l[2], 'capabilities').map((item) => {
        const c = asList(item, 'capability')
        return { name: text.decode(asBytes(c[0], 'capability name')), version: looseUint(c[1], 'capability version') }
      }),
      listenPort: looseUint(l[3], 'listen port'),
      id: Uint8Array.from(asBytes(l[4], 'node id')),
    }
  } catch (e) {
    if (e instanceof RLPError) throw new P2PError('BAD_HELLO', `Hello: ${e.message}`, { cause: e })
    throw e
  }
}

/** A Disconnect payload as the spec has it: `[reason]`. */
export function encodeDisconnect(reason: DisconnectReason): Uint8Array {
  return encodeRLP([uintBytes(reason)])
}

/**
 * The reason in a Disconnect payload: `[reason]` (the spec), a bare `reason` (some clients), or
 * nothing (an empty payload or list reads as Requested). Anything else is a BAD_DISCONNECT P2PError.
 */
export function decodeDisconnect(payload: Uint8Array): DisconnectReason {
  if (payload.length === 0) return DisconnectReason.Requested
  try {
    let item = decodeRLP(payload, true)
    if (Array.isArray(item)) {
      if (item.length === 0) return DisconnectReason.Requested
      item = item[0]!
    }
    return looseUint(item, 'reason', 4)
  } catch (e) {
    if (e instanceof RLPError) throw new P2PError('BAD_DISCONNECT', `Disconnect: ${e.message}`, { cause: e })
    throw e
  }
}

/**
 * An unsigned integer read leniently: leading zero bytes are accepted because some encoders emit
 * them (ethereumjs writes 0 as 0x00); only the width is bounded. Beyond 2^53 precision is lost, which
 * no version, port or reason can use.
 */
function looseUint(item: RLPItem | undefined, what: string, maxBytes = 8): number {
  const b = asBytes(item, what)
  if (b.length > maxBytes) throw new RLPError(`${what}: integer wider than ${maxBytes} bytes`)
  let v = 0
  for (const x of b) v = v * 256 + x
  return v
}
