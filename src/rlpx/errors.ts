/** Typed RLPx failures: every way a handshake or a framed connection can end carries one code. */

/** What an {@link RLPxError} is about. */
export type RLPxErrorCode =
  /** the whole handshake did not finish within its deadline */
  | 'HANDSHAKE_TIMEOUT'
  /** the auth message could not be decrypted or decoded */
  | 'BAD_AUTH'
  /** the ack message could not be decrypted or decoded */
  | 'BAD_ACK'
  /** a public key (static, ephemeral, or the ECIES one) is not a valid secp256k1 point */
  | 'BAD_KEY'
  /** a handshake message declares a size beyond the limit */
  | 'SIZE_LIMIT'
  /** a frame header or body MAC does not match */
  | 'BAD_MAC'
  /** a frame declares (or a caller asks for) a size beyond the frame limit */
  | 'FRAME_TOO_LARGE'
  /** a frame's content is malformed (message code, compression) */
  | 'BAD_FRAME'
  /** a compressed message claims a decoded size beyond the limit */
  | 'DECOMPRESS_LIMIT'
  | 'READ_TIMEOUT'
  | 'WRITE_TIMEOUT'
  /** the connection is closed (locally, by the peer, or by an abort signal) */
  | 'CLOSED'
  /** the dialled peer could not prove it holds the expected key */
  | 'IDENTITY_MISMATCH'

/** Every way an RLPx handshake or connection can fail, with a code to branch on. */
export class RLPxError extends Error {
  override readonly name = 'RLPxError'
  constructor(
    readonly code: RLPxErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}
