/** Typed p2p-layer failures: codec errors, handshake refusals and misuse of a closed peer. */
import type { DisconnectReason, Hello } from './base.js'

/** What a {@link P2PError} is about. */
export type P2PErrorCode =
  /** a Hello payload is not a valid Hello */
  | 'BAD_HELLO'
  /** a Hello payload is larger than the base protocol allows (2 KiB) */
  | 'HELLO_TOO_LARGE'
  /** a Disconnect payload carries no readable reason */
  | 'BAD_DISCONNECT'
  /** the remote Hello did not arrive within the handshake deadline */
  | 'HANDSHAKE_TIMEOUT'
  /** the peer ended (either side, with `reason`): during the handshake, or before a read/write */
  | 'DISCONNECTED'
  /** a protocol wrote a message code outside its own range */
  | 'INVALID_CODE'

/** A p2p-layer failure: a bad Hello or Disconnect, a handshake refusal, or use of a peer that has ended. */
export class P2PError extends Error {
  override readonly name = 'P2PError'
  /** the Disconnect reason that ended the peer, when there is one */
  readonly reason: DisconnectReason | undefined
  /** true when the remote side sent the Disconnect */
  readonly remoteRequested: boolean
  /** the remote Hello, when the refusal came after it was read (a crawler still wants the client id) */
  readonly hello: Hello | undefined

  constructor(
    readonly code: P2PErrorCode,
    message: string,
    options: { cause?: unknown; reason?: DisconnectReason; remoteRequested?: boolean; hello?: Hello } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.reason = options.reason
    this.remoteRequested = options.remoteRequested ?? false
    this.hello = options.hello
  }
}
