/**
 * The base protocol's vocabulary, shared by its codec (messages.ts), its errors (errors.ts) and the
 * layers above: why a connection ends, what a capability is, and the Hello's shape. Types and
 * constants only, so every p2p module can import it without a cycle.
 */

/** Why a connection ends, as carried by Disconnect. 0x0c–0x0f are unassigned. */
export enum DisconnectReason {
  /** asked for by the application, or the local user */
  Requested = 0x00,
  /** TCP-level failure */
  NetworkError = 0x01,
  /** the peer sent something the protocol does not allow */
  BreachOfProtocol = 0x02,
  /** no capability in common, or nothing this side needs from it */
  UselessPeer = 0x03,
  /** the peer limit is reached */
  TooManyPeers = 0x04,
  /** a connection to this node exists already */
  AlreadyConnected = 0x05,
  /** the base protocol version is too old */
  IncompatibleVersion = 0x06,
  /** the Hello's node id does not match the RLPx key */
  InvalidIdentity = 0x07,
  /** shutting down */
  ClientQuitting = 0x08,
  /** the dialled node answered with another key */
  UnexpectedIdentity = 0x09,
  /** the remote is this node */
  ConnectedToSelf = 0x0a,
  /** nothing arrived within the read deadline (pings included) */
  ReadTimeout = 0x0b,
  /** a sub-protocol (eth, …) failed; the reason is in its own logs */
  SubprotocolError = 0x10,
}

/** Human text per reason, worded as go-ethereum logs them so logs from both read alike. */
const REASON_TEXT: ReadonlyMap<number, string> = new Map([
  [DisconnectReason.Requested, 'disconnect requested'],
  [DisconnectReason.NetworkError, 'network error'],
  [DisconnectReason.BreachOfProtocol, 'breach of protocol'],
  [DisconnectReason.UselessPeer, 'useless peer'],
  [DisconnectReason.TooManyPeers, 'too many peers'],
  [DisconnectReason.AlreadyConnected, 'already connected'],
  [DisconnectReason.IncompatibleVersion, 'incompatible p2p protocol version'],
  [DisconnectReason.InvalidIdentity, 'invalid node identity'],
  [DisconnectReason.ClientQuitting, 'client quitting'],
  [DisconnectReason.UnexpectedIdentity, 'unexpected identity'],
  [DisconnectReason.ConnectedToSelf, 'connected to self'],
  [DisconnectReason.ReadTimeout, 'read timeout'],
  [DisconnectReason.SubprotocolError, 'subprotocol error'],
])

/** The human text of a disconnect reason, as geth words it; unknown codes say so with their number. */
export function disconnectReasonText(reason: number): string {
  return REASON_TEXT.get(reason) ?? `unknown disconnect reason ${reason}`
}

/** A capability: a sub-protocol name and one of its versions. */
export interface Cap {
  name: string
  version: number
}

/** The base protocol's handshake message, sent by both sides first thing after RLPx. */
export interface Hello {
  protocolVersion: number
  clientId: string
  caps: Cap[]
  /** the TCP port the sender listens on, 0 when it does not */
  listenPort: number
  /** the sender's 64-byte public key; checked against the RLPx key by the peer, not here */
  id: Uint8Array
}
