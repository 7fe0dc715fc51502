/** RLPx: the encrypted, framed transport under the p2p layer. */
export { RLPxError, type RLPxErrorCode } from './errors.js'
export {
  HANDSHAKE_VERSION,
  MAX_HANDSHAKE_SIZE,
  InitiatorHandshake,
  RecipientHandshake,
  deriveSecrets,
  makeAck,
  makeAuth,
  readAck,
  readAuth,
  type AckBody,
  type AuthBody,
  type HandshakeRandomness,
  type HandshakeResult,
} from './handshake.js'
export { DISCONNECT_CODE, FrameCodec, MAX_MESSAGE_SIZE, type FrameOptions, type Message } from './frame.js'
export { RLPxConnection, type ConnectionOptions, type DialOptions } from './conn.js'
