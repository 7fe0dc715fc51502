/** The p2p layer: the base protocol, capabilities and sub-protocols, and peers. */
export { P2PError, type P2PErrorCode } from './errors.js'
export {
  BASE_PROTOCOL_LENGTH,
  BASE_PROTOCOL_VERSION,
  BaseMsg,
  decodeDisconnect,
  decodeHello,
  disconnectReasonText,
  DisconnectReason,
  EMPTY_LIST,
  encodeDisconnect,
  encodeHello,
  MAX_HELLO_SIZE,
  MIN_PROTOCOL_VERSION,
  SNAPPY_PROTOCOL_VERSION,
  type Cap,
  type Hello,
} from './messages.js'
export { matchCaps, type MatchedCap, type Message, type MsgReadWriter, type Protocol } from './protocol.js'
export { Peer, sendDisconnect, type PeerEnd, type PeerOptions } from './peer.js'
