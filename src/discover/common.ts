/**
 * What discv4 (udp.ts) and discv5 (v5/udp.ts) share, as geth's p2p/discover/common.go: the socket
 * setup, the one error type of a failed request, request options, and the bookkeeping of requests
 * awaiting an answer. Neither transport imports the other; both import this.
 */
import { createSocket, type Socket } from 'node:dgram'
import { isIPv6 } from 'node:net'

/**
 * Default socket receive and send buffers: a crawler's replies arrive in bursts of hundreds of
 * datagrams, and the kernel's usual 208 KiB holds fewer than a hundred NEIGHBORS or NODES packets.
 */
export const DEFAULT_SOCKET_BUFFER_BYTES = 4 << 20

/** How a discovery request failed. */
export type DiscoveryErrorCode =
  /** no answer within the reply timeout */
  | 'TIMEOUT'
  /** the transport closed, or the request was aborted without a reason of its own */
  | 'CLOSED'
  /** the bound on requests awaiting an answer was reached */
  | 'TOO_MANY_PENDING'
  /** the datagram could not be sent */
  | 'SEND_FAILED'
  /** a record in the answer is invalid or belongs to another node */
  | 'BAD_RECORD'
  /** the answer is not the kind the request asks for */
  | 'BAD_RESPONSE'
  /** the target's record names no UDP endpoint */
  | 'NO_ENDPOINT'

/** A discv4 or discv5 request that failed; `code` says how. */
export class DiscoveryError extends Error {
  override readonly name = 'DiscoveryError'
  constructor(
    readonly code: DiscoveryErrorCode,
    message: string,
  ) {
    super(message)
  }
}

/**
 * A DiscoveryError without a stack trace, for failures that are a normal outcome (a request timing
 * out): a crawl has thousands of them, and capturing each one's stack cost more than the request.
 */
export function quietError(code: DiscoveryErrorCode, message: string): DiscoveryError {
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    return new DiscoveryError(code, message)
  } finally {
    Error.stackTraceLimit = limit
  }
}

/**
 * Options of one request. `timeoutMs` overrides the reply timeout (a crawler that measured a node's
 * round trip waits longer for a slow one); `bond: false` skips discv4's implicit endpoint-proof round
 * before FINDNODE and ENRRequest, for callers that bond themselves.
 */
export interface RequestOptions {
  /** aborts the request */
  signal?: AbortSignal
  /** how long the request waits for its answer, ms */
  timeoutMs?: number
  /** discv4: bond first when the node holds no proof for us (default true) */
  bond?: boolean
}

/** Request options from the shorthand callers may pass: a bare signal, or nothing. */
export function requestOptions(o: AbortSignal | RequestOptions | undefined): RequestOptions {
  return o === undefined ? {} : o instanceof AbortSignal ? { signal: o } : o
}

/**
 * A UDP socket bound to host:port (IPv6 when the host is), with its buffers raised to `bufferBytes`
 * when the kernel permits (it caps them at its maximum; refused, the defaults still work, with more
 * loss under load).
 */
export async function bindSocket(host: string, port: number, bufferBytes = DEFAULT_SOCKET_BUFFER_BYTES): Promise<Socket> {
  const socket = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', reuseAddr: false })
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject)
    socket.bind(port, host, () => {
      socket.off('error', reject)
      resolve()
    })
  })
  try {
    socket.setRecvBufferSize(bufferBytes)
    socket.setSendBufferSize(bufferBytes)
  } catch {
    // not permitted here: see above
  }
  return socket
}

/** One request awaiting its answer, as its transport settles it. Settling twice does nothing. */
export interface PendingRequest<T> {
  /** the answer arrived (or the timeout turned what arrived into one) */
  resolve(value: T): void
  /** the request failed */
  reject(err: Error): void
  /** restart the request's clock with `ms` (a handshake costs a round trip more) */
  extend(ms: number): void
}

/** How {@link PendingRequests.start} runs one request. */
export interface PendingStart<T> {
  /** the transport is closed: the request fails with CLOSED at once */
  closed: boolean
  signal?: AbortSignal | undefined
  timeoutMs: number
  /** the clock ran out: settle the request (reject with TIMEOUT, or resolve with a partial answer) */
  onTimeout(req: PendingRequest<T>): void
  /** the request settled, however: drop the transport's own indexes of it */
  onSettle?(): void
}

/**
 * The bookkeeping of requests awaiting an answer, shared by both transports: a cap on how many, one
 * timer each, abort by signal, and a single settlement that clears all of it.
 */
export class PendingRequests {
  private count = 0

  constructor(
    /** most requests pending at once */
    readonly max: number,
    /** what the transport is called in CLOSED messages */
    private readonly what: string,
  ) {}

  /** requests pending now */
  get size(): number {
    return this.count
  }

  /**
   * Start a request. Rejects at once with CLOSED or TOO_MANY_PENDING; throws the signal's reason when
   * it is already aborted. `register` files the request in the transport's indexes and sends it.
   * An abort rejects with the signal's reason (CLOSED when it is no Error).
   */
  start<T>(o: PendingStart<T>, register: (req: PendingRequest<T>) => void): Promise<T> {
    if (o.closed) return Promise.reject(new DiscoveryError('CLOSED', `${this.what} closed`))
    if (this.count >= this.max) return Promise.reject(new DiscoveryError('TOO_MANY_PENDING', `${this.max} requests already pending`))
    o.signal?.throwIfAborted()
    return new Promise<T>((resolve, reject) => {
      const req = new Request<T>(this.release, o, resolve, reject)
      this.count++
      req.extend(o.timeoutMs)
      if (o.signal) {
        req.onAbort = () => req.reject(o.signal!.reason instanceof Error ? o.signal!.reason : new DiscoveryError('CLOSED', 'aborted'))
        o.signal.addEventListener('abort', req.onAbort, { once: true })
      }
      register(req)
    })
  }

  /** a request settled: one function for all of them */
  private readonly release = (): void => {
    this.count--
  }
}

/**
 * One pending request: methods on a class and a timer that calls a shared function, where closures
 * per request (a crawl starts thousands a second) were a good part of what each one allocated.
 */
class Request<T> implements PendingRequest<T> {
  private timer: NodeJS.Timeout | undefined
  private done = false
  onAbort: (() => void) | undefined

  constructor(
    private readonly release: () => void,
    private readonly o: PendingStart<T>,
    private readonly ok: (value: T) => void,
    private readonly fail: (err: Error) => void,
  ) {}

  resolve(value: T): void {
    if (this.finish()) this.ok(value)
  }

  reject(err: Error): void {
    if (this.finish()) this.fail(err)
  }

  extend(ms: number): void {
    if (this.done) return
    clearTimeout(this.timer)
    this.timer = setTimeout(timedOut, ms, this)
  }

  /** the clock ran out: the transport settles the request */
  timeout(): void {
    this.o.onTimeout(this)
  }

  /** settle once: false when settled before */
  private finish(): boolean {
    if (this.done) return false
    this.done = true
    clearTimeout(this.timer)
    if (this.onAbort) this.o.signal?.removeEventListener('abort', this.onAbort)
    this.release()
    this.o.onSettle?.()
    return true
  }
}

function timedOut(req: { timeout(): void }): void {
  req.timeout()
}
