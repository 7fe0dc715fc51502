/**
 * A connected peer: the Hello exchange on a fresh RLPx connection, then the base protocol (Ping/Pong,
 * Disconnect) and the dispatch of every other message to the sub-protocol owning its code.
 *
 * Lifecycle: `Peer.handshake(conn, opts)` → (the caller's own checks, e.g. too many peers, may call
 * `disconnect`) → `run()` → `done` resolves once, after the connection has closed, with why it ended.
 * A peer that stops sending is dropped by the connection's read deadline (RLPx `readTimeout`, 30 s by
 * default): we ping every `pingInterval`, so a live peer always has a Pong on the way.
 */
import { Node } from '../enode/node.js'
import { bytesEqual } from '../crypto/bytes.js'
import type { RLPxConnection } from '../rlpx/conn.js'
import { RLPxError } from '../rlpx/errors.js'
import type { Message } from '../rlpx/frame.js'
import { P2PError } from './errors.js'
import {
  BASE_PROTOCOL_LENGTH,
  BASE_PROTOCOL_VERSION,
  BaseMsg,
  decodeDisconnect,
  decodeHello,
  EMPTY_LIST,
  encodeDisconnect,
  encodeHello,
  MIN_PROTOCOL_VERSION,
  SNAPPY_PROTOCOL_VERSION,
} from './messages.js'
import { disconnectReasonText, DisconnectReason, type Hello } from './base.js'
import { matchCaps, ProtocolRW, type MatchedCap, type Protocol, type ProtocolPeer } from './protocol.js'

/** go-ethereum's values */
const HANDSHAKE_TIMEOUT = 5_000
const PING_INTERVAL = 15_000
/** how long a Disconnect we sent may wait for the peer to close first */
const DISCONNECT_GRACE = 1_000
/** messages queued per protocol before the peer stops reading the socket */
const QUEUE_SIZE = 16

/** How a {@link Peer} introduces itself, what it runs and its deadlines. */
export interface PeerOptions {
  /** our 64-byte public key: the Hello id */
  id: Uint8Array
  clientId: string
  protocols: readonly Protocol[]
  /** our TCP listening port, 0 when not listening */
  listenPort?: number
  /** true when the remote dialled us */
  inbound?: boolean
  /** the socket's remote address, for `peer.node` */
  remoteAddress?: { ip: string; port: number }
  /** deadline for the remote Hello, ms (5 s) */
  handshakeTimeout?: number
  /** ms between our Pings (15 s); keep it well under the connection's readTimeout */
  pingInterval?: number
  /** ms a sent Disconnect may wait for the remote to close before we close (1 s) */
  disconnectGrace?: number
  /** inbound messages queued per protocol before reading pauses (16) */
  queueSize?: number
  /** the base protocol version we announce (5); lower only to act as an old client in tests */
  protocolVersion?: number
}

/** Why a peer ended. `error` is the failure behind it, when there is one. */
export interface PeerEnd {
  reason: DisconnectReason
  /** true when the remote sent the Disconnect (then `reason` is the one it gave) */
  remoteRequested: boolean
  error?: Error
}

/**
 * Send Disconnect(reason) on a connection and close it once the remote has closed or said goodbye
 * too, or after `grace` ms; what else arrives meanwhile is dropped. For refusing a connection nobody
 * else is reading (before or instead of running a Peer on it).
 */
export async function sendDisconnect(conn: RLPxConnection, reason: DisconnectReason, grace = DISCONNECT_GRACE): Promise<void> {
  if (conn.isClosed) return
  conn.write(BaseMsg.Disconnect, encodeDisconnect(reason)).catch(() => undefined)
  const timer = setTimeout(() => conn.close(), grace)
  try {
    const it = conn[Symbol.asyncIterator]()
    for (let r = await it.next(); !r.done && r.value.code !== BaseMsg.Disconnect; r = await it.next());
  } catch {
    // the connection failed: it is closed already
  } finally {
    clearTimeout(timer)
    conn.close()
  }
}

function reasonForConnError(e: unknown): DisconnectReason {
  return e instanceof RLPxError && e.code === 'READ_TIMEOUT' ? DisconnectReason.ReadTimeout : DisconnectReason.NetworkError
}

/** The first message on the connection, under the handshake deadline. */
async function firstMessage(conn: RLPxConnection, timeout: number): Promise<Message> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeout)))
  let r: IteratorResult<Message> | 'timeout'
  try {
    r = await Promise.race([conn[Symbol.asyncIterator]().next(), expired])
  } catch (e) {
    const reason = reasonForConnError(e)
    throw new P2PError('DISCONNECTED', `connection failed before the Hello: ${(e as Error).message}`, { cause: e, reason })
  } finally {
    clearTimeout(timer)
  }
  if (r === 'timeout') {
    conn.close()
    throw new P2PError('HANDSHAKE_TIMEOUT', `no Hello within ${timeout} ms`, { reason: DisconnectReason.ReadTimeout })
  }
  if (r.done) throw new P2PError('DISCONNECTED', 'connection closed before the Hello', { reason: DisconnectReason.Requested })
  return r.value
}

/**
 * One p2p connection past RLPx: the Hello exchange, Ping/Pong, Disconnect, and the matched sub-protocols,
 * each reading and writing its own message codes.
 */
export class Peer implements ProtocolPeer {
  /** what the remote said in its Hello (its id is the RLPx key: checked) */
  readonly remoteHello: Hello
  /** the remote node: public key, id, and the address it is reachable on as far as we know */
  readonly node: Node
  readonly inbound: boolean
  /** the protocols running on this peer, in code order */
  readonly caps: readonly MatchedCap[]
  /** whether messages are snappy-compressed (both Hellos said version ≥ 5) */
  readonly snappy: boolean
  /** resolves once, after the connection has closed; never rejects */
  readonly done: Promise<PeerEnd>
  private resolveDone!: (end: PeerEnd) => void
  private readonly rws: ProtocolRW[]
  private endState: PeerEnd | undefined
  private started = false
  private reading = false
  private pingTimer: NodeJS.Timeout | undefined

  private constructor(
    private readonly conn: RLPxConnection,
    private readonly opts: PeerOptions,
    hello: Hello,
    caps: MatchedCap[],
    snappy: boolean,
  ) {
    this.remoteHello = hello
    this.inbound = opts.inbound ?? false
    this.caps = caps
    this.snappy = snappy
    const addr = opts.remoteAddress
    // an inbound socket's port is ephemeral: the node is reachable on the port its Hello announced
    this.node = new Node(conn.remotePubkey, addr?.ip ?? '', 0, this.inbound || !addr ? hello.listenPort : addr.port)
    this.done = new Promise((r) => (this.resolveDone = r))
    const send = (code: number, payload: Uint8Array) => this.send(code, payload)
    this.rws = caps.map((c) => new ProtocolRW(c, send, opts.queueSize ?? QUEUE_SIZE))
  }

  /**
   * Exchange Hellos on a fresh RLPx connection (both sides send at once) and check the remote's:
   * version, identity (must be the RLPx key, and not ours), shared capabilities. A refusal sends the
   * matching Disconnect, closes the connection and throws a P2PError carrying `reason`; so does a
   * Disconnect from the remote (`remoteRequested`), a dead connection or the deadline.
   */
  static async handshake(conn: RLPxConnection, opts: PeerOptions): Promise<Peer> {
    const grace = opts.disconnectGrace ?? DISCONNECT_GRACE
    const ours: Hello = {
      protocolVersion: opts.protocolVersion ?? BASE_PROTOCOL_VERSION,
      clientId: opts.clientId,
      caps: opts.protocols.map((p) => ({ name: p.name, version: p.version })),
      listenPort: opts.listenPort ?? 0,
      id: opts.id,
    }
    let payload: Uint8Array
    try {
      payload = encodeHello(ours)
    } catch (e) {
      conn.close()
      throw e
    }
    // a failed write also ends the connection, which the read below reports
    conn.write(BaseMsg.Hello, payload).catch(() => undefined)
    const first = await firstMessage(conn, opts.handshakeTimeout ?? HANDSHAKE_TIMEOUT)

    let hello: Hello | undefined
    const refuse = async (reason: DisconnectReason, why: string, cause?: unknown): Promise<never> => {
      await sendDisconnect(conn, reason, grace)
      throw new P2PError('DISCONNECTED', `${why}: ${disconnectReasonText(reason)}`, { reason, cause, ...(hello && { hello }) })
    }
    if (first.code === BaseMsg.Disconnect) {
      let reason = DisconnectReason.Requested
      try {
        reason = decodeDisconnect(first.payload)
      } catch {
        // an unreadable reason is still a goodbye
      }
      conn.close()
      throw new P2PError('DISCONNECTED', `remote disconnected during the handshake: ${disconnectReasonText(reason)}`, { reason, remoteRequested: true })
    }
    if (first.code !== BaseMsg.Hello) return refuse(DisconnectReason.BreachOfProtocol, `expected Hello, got message 0x${first.code.toString(16)}`)
    try {
      hello = decodeHello(first.payload)
    } catch (e) {
      return refuse(DisconnectReason.BreachOfProtocol, (e as Error).message, e)
    }
    if (hello.protocolVersion < MIN_PROTOCOL_VERSION) return refuse(DisconnectReason.IncompatibleVersion, `remote speaks p2p v${hello.protocolVersion}`)
    // from here on the remote expects compression, our Disconnects included
    const snappy = hello.protocolVersion >= SNAPPY_PROTOCOL_VERSION && ours.protocolVersion >= SNAPPY_PROTOCOL_VERSION
    conn.setSnappy(snappy)
    if (hello.id.length !== 64 || hello.id.every((b) => b === 0)) return refuse(DisconnectReason.InvalidIdentity, 'Hello id is not a public key')
    if (!bytesEqual(hello.id, conn.remotePubkey)) return refuse(DisconnectReason.UnexpectedIdentity, 'Hello id differs from the RLPx key')
    if (bytesEqual(hello.id, opts.id)) return refuse(DisconnectReason.ConnectedToSelf, 'Hello id is ours')
    const caps = matchCaps(opts.protocols, hello.caps)
    if (caps.length === 0) return refuse(DisconnectReason.UselessPeer, 'no shared capability')
    return new Peer(conn, opts, hello, caps, snappy)
  }

  /** the remote's 32-byte node id */
  get id(): Uint8Array {
    return this.node.id
  }

  /** why the peer ended, once it has */
  get ended(): PeerEnd | undefined {
    return this.endState
  }

  /**
   * Start pinging, dispatching messages and the protocols. Resolves with `done`. Calling it again,
   * or after `disconnect`, just returns `done`.
   */
  run(): Promise<PeerEnd> {
    if (this.started || this.endState) return this.done
    this.started = true
    const interval = this.opts.pingInterval ?? PING_INTERVAL
    this.pingTimer = setInterval(() => this.send(BaseMsg.Ping, EMPTY_LIST).catch(() => undefined), interval)
    this.startReading()
    this.caps.forEach((cap, i) => {
      const rw = this.rws[i]!
      Promise.resolve()
        .then(() => cap.protocol.run(this, rw))
        .then(
          () => this.end({ reason: DisconnectReason.ClientQuitting, remoteRequested: false }, true),
          (e: unknown) => this.end({ reason: DisconnectReason.SubprotocolError, remoteRequested: false, error: asError(e) }, true),
        )
    })
    return this.done
  }

  /** Send Disconnect(reason) and close the connection once the remote has (or after the grace). */
  disconnect(reason: DisconnectReason = DisconnectReason.Requested): void {
    this.end({ reason, remoteRequested: false }, true)
  }

  private send(code: number, payload: Uint8Array): Promise<void> {
    if (this.endState) return Promise.reject(new P2PError('DISCONNECTED', 'peer disconnected', this.endState))
    return this.conn.write(code, payload)
  }

  private startReading(): void {
    if (this.reading) return
    this.reading = true
    void this.readLoop()
  }

  /** Dispatch until the peer ends, then drain until the remote closes or says goodbye too. */
  private async readLoop(): Promise<void> {
    const it = this.conn[Symbol.asyncIterator]()
    for (;;) {
      let r: IteratorResult<Message>
      try {
        r = await it.next()
      } catch (e) {
        return this.end({ reason: reasonForConnError(e), remoteRequested: false, error: asError(e) }, false)
      }
      // closed locally: by our own end, or by whoever holds the connection (then nothing is left to say)
      if (r.done) return this.end({ reason: DisconnectReason.Requested, remoteRequested: false }, false)
      if (!this.endState) await this.dispatch(r.value)
      else if (r.value.code === BaseMsg.Disconnect) this.conn.close()
    }
  }

  private async dispatch(m: Message): Promise<void> {
    switch (m.code) {
      case BaseMsg.Ping:
        this.send(BaseMsg.Pong, EMPTY_LIST).catch(() => undefined)
        return
      case BaseMsg.Disconnect: {
        let reason = DisconnectReason.Requested
        let error: Error | undefined
        try {
          reason = decodeDisconnect(m.payload)
        } catch (e) {
          error = asError(e)
        }
        return this.end({ reason, remoteRequested: true, ...(error && { error }) }, false)
      }
    }
    // the rest of the base range (Pong, a repeated Hello, codes not yet assigned) is ignored, as geth does
    if (m.code < BASE_PROTOCOL_LENGTH) return
    const i = this.caps.findIndex((c) => m.code >= c.offset && m.code < c.offset + c.length)
    if (i < 0) {
      const error = new P2PError('INVALID_CODE', `message code 0x${m.code.toString(16)} belongs to no running protocol`)
      return this.end({ reason: DisconnectReason.BreachOfProtocol, remoteRequested: false, error }, true)
    }
    await this.rws[i]!.push({ code: m.code - this.caps[i]!.offset, payload: m.payload })
  }

  /**
   * The one way a peer ends: record why, stop pinging and the protocols, say goodbye if asked (then
   * close once the remote has, or after the grace), and resolve `done` once the connection is closed.
   */
  private end(end: PeerEnd, sayGoodbye: boolean): void {
    if (this.endState) return
    this.endState = end
    clearInterval(this.pingTimer)
    for (const rw of this.rws) rw.close(end)
    void this.conn.closed.then(() => this.resolveDone(end))
    if (!sayGoodbye || this.conn.isClosed) return this.conn.close()
    this.conn.write(BaseMsg.Disconnect, encodeDisconnect(end.reason)).catch(() => undefined)
    const timer = setTimeout(() => this.conn.close(), this.opts.disconnectGrace ?? DISCONNECT_GRACE)
    void this.conn.closed.then(() => clearTimeout(timer))
    this.startReading()
  }
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e))
}
