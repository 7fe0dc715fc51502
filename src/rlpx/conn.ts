/**
 * An RLPx connection over a net.Socket: the handshake under one deadline, then framed messages both
 * ways with read/write deadlines and back-pressure. Every failure destroys the socket and is reported
 * as an RLPxError: by the pending handshake, by `write`, by the message iterator and by `closed`.
 */
import { connect as netConnect, type Socket } from 'node:net'
import { backend as activeBackend } from '../crypto/backend.js'
import type { CryptoBackend } from '../crypto/types.js'
import { RLPxError } from './errors.js'
import { FrameCodec, MAX_MESSAGE_SIZE, type Message } from './frame.js'
import { InitiatorHandshake, RecipientHandshake, type HandshakeRandomness, type HandshakeResult } from './handshake.js'

/** Deadlines and limits of an {@link RLPxConnection}. */
export interface ConnectionOptions {
  /** deadline for the whole handshake, ms (go-ethereum: 5 s) */
  handshakeTimeout?: number
  /** longest wait for the next complete frame while reading, ms (go-ethereum: 30 s) */
  readTimeout?: number
  /** longest time written data may stay unflushed without progress, ms (go-ethereum: 20 s) */
  writeTimeout?: number
  /** largest frame accepted from the peer (default 2^24 - 1) */
  maxFrameSize?: number
  /** received-but-undelivered bytes beyond which the socket is paused (default 16 MiB) */
  maxBuffered?: number
  /** cancels the handshake (and `connect`'s dial) */
  signal?: AbortSignal
  /** crypto backend (default: the active one) */
  backend?: CryptoBackend
  /** pinned handshake randomness, for tests */
  randomness?: HandshakeRandomness
}

/** {@link ConnectionOptions} for {@link RLPxConnection.connect}, plus the connect deadline. */
export interface DialOptions extends ConnectionOptions {
  /** deadline for the TCP connect, ms (go-ethereum: 15 s) */
  dialTimeout?: number
}

const HANDSHAKE_TIMEOUT = 5_000
const READ_TIMEOUT = 30_000
const WRITE_TIMEOUT = 20_000
const DIAL_TIMEOUT = 15_000

function abortError(signal: AbortSignal): RLPxError {
  return new RLPxError('CLOSED', 'aborted', { cause: signal.reason })
}

function asRLPxError(e: unknown, what: string): RLPxError {
  return e instanceof RLPxError ? e : new RLPxError('CLOSED', `${what}: ${(e as Error)?.message ?? String(e)}`, { cause: e })
}

/**
 * Feed socket bytes to `step` until it yields, under the handshake deadline and the abort signal.
 * Bytes after the peer's handshake message (a first frame sent right behind an ack) are returned.
 */
function handshakeOn<T extends HandshakeResult>(
  socket: Socket,
  opts: ConnectionOptions,
  step: (buf: Uint8Array) => T | null,
): Promise<{ result: T; rest: Uint8Array }> {
  return new Promise((resolve, reject) => {
    let buf: Uint8Array = new Uint8Array(0)
    const cleanup = () => {
      clearTimeout(timer)
      socket.off('data', onData)
      socket.off('end', onEnd)
      socket.off('close', onEnd)
      socket.off('error', onError)
      opts.signal?.removeEventListener('abort', onAbort)
    }
    const failWith = (e: RLPxError) => {
      cleanup()
      socket.destroy()
      reject(e)
    }
    const onData = (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk])
      let result: T | null
      try {
        result = step(buf)
      } catch (e) {
        return failWith(asRLPxError(e, 'handshake'))
      }
      if (!result) return
      cleanup()
      resolve({ result, rest: buf.subarray(result.consumed) })
    }
    const onEnd = () => failWith(new RLPxError('CLOSED', 'peer closed the connection during the handshake'))
    const onError = (e: Error) => failWith(new RLPxError('CLOSED', `socket error during the handshake: ${e.message}`, { cause: e }))
    const onAbort = () => failWith(abortError(opts.signal!))
    const ms = opts.handshakeTimeout ?? HANDSHAKE_TIMEOUT
    const timer = setTimeout(() => failWith(new RLPxError('HANDSHAKE_TIMEOUT', `handshake not done within ${ms} ms`)), ms)
    if (opts.signal?.aborted) return onAbort()
    opts.signal?.addEventListener('abort', onAbort, { once: true })
    socket.on('data', onData)
    socket.on('end', onEnd)
    socket.on('close', onEnd)
    socket.on('error', onError)
  })
}

/**
 * An RLPx connection over a TCP socket: the handshake under one deadline, then framed messages both ways
 * with read/write deadlines and back-pressure. Read messages by iterating it.
 */
export class RLPxConnection implements AsyncIterable<Message> {
  /** the peer's static public key (64 bytes); when dialling, the key that was dialled */
  readonly remotePubkey: Uint8Array
  /** resolves when the connection ends: with the failure, or undefined after a plain local `close()` */
  readonly closed: Promise<RLPxError | undefined>
  private resolveClosed!: (e: RLPxError | undefined) => void
  private readonly codec: FrameCodec
  private readonly queue: Message[] = []
  private queuedBytes = 0
  /** readers waiting for a message, first come first served */
  private waiters: { resolve: (r: IteratorResult<Message>) => void; reject: (e: RLPxError) => void }[] = []
  private ended = false
  private failure: RLPxError | undefined
  private framesIn = 0
  private readTimer: NodeJS.Timeout | undefined
  private writeTimer: NodeJS.Timeout | undefined
  private unflushed = 0
  private drainWaiters: Array<{ resolve: () => void; reject: (e: RLPxError) => void }> = []
  private readonly readTimeout: number
  private readonly writeTimeout: number
  private readonly maxBuffered: number

  private constructor(
    private readonly socket: Socket,
    result: HandshakeResult,
    rest: Uint8Array,
    private readonly initiator: boolean,
    b: CryptoBackend,
    opts: ConnectionOptions,
  ) {
    this.remotePubkey = Uint8Array.from(result.remotePubkey)
    this.codec = new FrameCodec(b.frameCipher(result.secrets), { maxFrameSize: opts.maxFrameSize })
    this.readTimeout = opts.readTimeout ?? READ_TIMEOUT
    this.writeTimeout = opts.writeTimeout ?? WRITE_TIMEOUT
    this.maxBuffered = opts.maxBuffered ?? MAX_MESSAGE_SIZE
    this.closed = new Promise((r) => (this.resolveClosed = r))
    socket.on('data', (chunk: Buffer) => this.onData(chunk))
    socket.on('end', () => this.fail(new RLPxError('CLOSED', 'peer closed the connection')))
    socket.on('close', () => this.fail(new RLPxError('CLOSED', 'connection closed')))
    socket.on('error', (e) => this.fail(new RLPxError('CLOSED', `socket error: ${e.message}`, { cause: e })))
    socket.on('drain', () => this.onDrain())
    this.armRead()
    // the socket may have gone between the handshake's last byte and here, its 'close' already emitted
    if (socket.destroyed) this.fail(new RLPxError('CLOSED', 'connection closed'))
    else if (rest.length > 0) this.onData(rest)
  }

  /** Dial host:port and run the initiator handshake against `remotePubkey`. */
  static connect(host: string, port: number, priv: Uint8Array, remotePubkey: Uint8Array, opts: DialOptions = {}): Promise<RLPxConnection> {
    return new Promise<Socket>((resolve, reject) => {
      if (opts.signal?.aborted) return reject(abortError(opts.signal))
      const socket = netConnect({ host, port, noDelay: true })
      const ms = opts.dialTimeout ?? DIAL_TIMEOUT
      const done = (e?: RLPxError) => {
        clearTimeout(timer)
        socket.off('connect', onConnect)
        socket.off('error', onError)
        opts.signal?.removeEventListener('abort', onAbort)
        if (!e) return resolve(socket)
        socket.destroy()
        reject(e)
      }
      const onConnect = () => done()
      const onError = (e: Error) => done(new RLPxError('CLOSED', `dial ${host}:${port}: ${e.message}`, { cause: e }))
      const onAbort = () => done(abortError(opts.signal!))
      const timer = setTimeout(() => done(new RLPxError('HANDSHAKE_TIMEOUT', `dial ${host}:${port} not connected within ${ms} ms`)), ms)
      socket.once('connect', onConnect)
      socket.once('error', onError)
      opts.signal?.addEventListener('abort', onAbort, { once: true })
    }).then((socket) => RLPxConnection.initiate(socket, priv, remotePubkey, opts))
  }

  /** Run the initiator handshake on a connected socket. */
  static async initiate(socket: Socket, priv: Uint8Array, remotePubkey: Uint8Array, opts: ConnectionOptions = {}): Promise<RLPxConnection> {
    const b = opts.backend ?? activeBackend
    let hs: InitiatorHandshake
    try {
      hs = new InitiatorHandshake(b, priv, remotePubkey, opts.randomness)
    } catch (e) {
      socket.destroy()
      throw asRLPxError(e, 'handshake')
    }
    const pending = handshakeOn(socket, opts, (buf) => hs.readAck(buf))
    if (!socket.destroyed) socket.write(hs.auth)
    const { result, rest } = await pending
    return new RLPxConnection(socket, result, rest, true, b, opts)
  }

  /** Run the recipient handshake on an accepted socket. */
  static async accept(socket: Socket, priv: Uint8Array, opts: ConnectionOptions = {}): Promise<RLPxConnection> {
    const b = opts.backend ?? activeBackend
    const hs = new RecipientHandshake(b, priv, opts.randomness)
    const { result, rest } = await handshakeOn(socket, opts, (buf) => hs.readAuth(buf))
    socket.write(result.ack)
    return new RLPxConnection(socket, result, rest, false, b, opts)
  }

  /**
   * The largest frame accepted from now on. A server keeps it small until the Hello is through, so a
   * stranger cannot make a pending handshake hold a 16 MiB frame.
   */
  setMaxFrameSize(n: number): void {
    this.codec.setMaxFrameSize(n)
  }

  /** Compress every later message both ways (p2p v5, once both Hellos are exchanged). */
  setSnappy(on: boolean): void {
    this.codec.snappy = on
  }

  /** Why the connection ended, once it has (undefined while open or after a plain local close). */
  get error(): RLPxError | undefined {
    return this.failure
  }

  /** the connection has ended (either way) */
  get isClosed(): boolean {
    return this.ended
  }

  /**
   * Send one message. Resolves once the socket accepts more (immediately unless its buffer is full,
   * then on 'drain'); rejects with the connection's error if it ends first. A message too large to
   * frame is refused without closing the connection.
   */
  write(code: number, payload: Uint8Array): Promise<void> {
    if (this.ended) return Promise.reject(this.failure ?? new RLPxError('CLOSED', 'connection closed'))
    let frame: Uint8Array
    try {
      frame = this.codec.encode(code, payload)
    } catch (e) {
      return Promise.reject(e)
    }
    this.unflushed++
    if (!this.writeTimer) this.armWrite()
    const ok = this.socket.write(frame, () => this.onFlushed())
    if (ok) return Promise.resolve()
    return new Promise((resolve, reject) => this.drainWaiters.push({ resolve, reject }))
  }

  /**
   * Messages in arrival order; ends after a local close, throws the RLPxError of any other ending.
   * Leaving a for-await loop early closes the connection (as with streams); call `next()` on an
   * iterator directly to read a few messages and keep the connection.
   */
  [Symbol.asyncIterator](): AsyncIterator<Message> {
    return {
      next: () => {
        const m = this.queue.shift()
        if (m) return this.deliver(m)
        if (this.ended) return this.failure ? Promise.reject(this.failure) : Promise.resolve({ done: true, value: undefined })
        return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }))
      },
      return: () => {
        this.close()
        return Promise.resolve({ done: true, value: undefined })
      },
    }
  }

  /** End the connection: data already written is flushed, then the socket closes. */
  close(reason?: RLPxError): void {
    if (this.ended) return
    this.finish(reason)
    this.socket.end()
    // a peer that never reads would keep a half-closed socket around: bound it by the write deadline
    setTimeout(() => this.socket.destroy(), this.writeTimeout).unref()
  }

  private deliver(m: Message): Promise<IteratorResult<Message>> {
    this.queuedBytes -= m.payload.length
    if (this.socket.isPaused() && this.queuedBytes <= this.maxBuffered && !this.ended) {
      this.socket.resume()
      this.armRead()
    }
    try {
      return Promise.resolve({ done: false, value: this.codec.inflate(m) })
    } catch (e) {
      const err = asRLPxError(e, 'message')
      this.fail(err)
      return Promise.reject(err)
    }
  }

  private onData(chunk: Uint8Array): void {
    if (this.ended) return
    this.codec.push(chunk)
    while (!this.ended) {
      let m: Message | null
      try {
        m = this.codec.readRaw()
      } catch (e) {
        let err = asRLPxError(e, 'frame')
        if (err.code === 'BAD_MAC' && this.initiator && this.framesIn === 0)
          err = new RLPxError('IDENTITY_MISMATCH', 'the dialled peer could not derive the session keys (first frame MAC invalid)', { cause: err })
        return this.fail(err)
      }
      if (!m) break
      this.framesIn++
      this.armRead()
      this.queuedBytes += m.payload.length
      const w = this.waiters.shift()
      if (w) {
        this.deliver(m).then(w.resolve, w.reject)
        continue
      }
      this.queue.push(m)
    }
    if (this.queuedBytes > this.maxBuffered && !this.socket.isPaused()) {
      // the consumer is behind: stop reading (and stop the read deadline, which is not the peer's fault)
      this.socket.pause()
      clearTimeout(this.readTimer)
      this.readTimer = undefined
    }
  }

  /** (re)start the read deadline; refresh() reuses the timer, so a frame costs no new one */
  private armRead(): void {
    if (this.ended) return
    if (this.readTimer) this.readTimer.refresh()
    else this.readTimer = setTimeout(() => this.fail(new RLPxError('READ_TIMEOUT', `no frame within ${this.readTimeout} ms`)), this.readTimeout)
  }

  private armWrite(): void {
    if (this.ended) return
    if (this.writeTimer) this.writeTimer.refresh()
    else this.writeTimer = setTimeout(() => this.fail(new RLPxError('WRITE_TIMEOUT', `write not flushed within ${this.writeTimeout} ms`)), this.writeTimeout)
  }

  private onFlushed(): void {
    this.unflushed--
    if (this.unflushed > 0) this.armWrite()
    else {
      clearTimeout(this.writeTimer)
      this.writeTimer = undefined
    }
  }

  private onDrain(): void {
    const ws = this.drainWaiters
    this.drainWaiters = []
    for (const w of ws) w.resolve()
  }

  /** A failure: record it, destroy the socket, and wake whoever waits. */
  private fail(err: RLPxError): void {
    if (this.ended) return
    this.finish(err)
    this.socket.destroy()
  }

  private finish(err: RLPxError | undefined): void {
    this.ended = true
    this.failure = err
    clearTimeout(this.readTimer)
    clearTimeout(this.writeTimer)
    const closedErr = err ?? new RLPxError('CLOSED', 'connection closed')
    for (const w of this.drainWaiters) w.reject(closedErr)
    this.drainWaiters = []
    for (const w of this.waiters) {
      if (err) w.reject(err)
      else w.resolve({ done: true, value: undefined })
    }
    this.waiters = []
    this.resolveClosed(err)
  }
}
