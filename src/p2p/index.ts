/** The p2p layer: the base protocol, capabilities and sub-protocols, and peers. */
export { P2PError, type P2PErrorCode } from './errors.js'
export {
  BASE_PROTOCOL_LENGTH,
  BASE_PROTOCOL_VERSION,
  BaseMsg,
  decodeDisconnect,
  decodeHello,
  EMPTY_LIST,
  encodeDisconnect,
  encodeHello,
  MAX_HELLO_SIZE,
  MIN_PROTOCOL_VERSION,
  SNAPPY_PROTOCOL_VERSION,
} from './messages.js'
export { disconnectReasonText, DisconnectReason, type Cap, type Hello } from './base.js'
export { matchCaps, type MatchedCap, type Message, type MsgReadWriter, type Protocol, type ProtocolPeer } from './protocol.js'
export { Peer, sendDisconnect, type PeerEnd, type PeerOptions } from './peer.js'
