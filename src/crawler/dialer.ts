/**
 * The crawler's RLPx side: a dial queue fed by discovery while it runs, and a listener for nodes that
 * dial us (nodes behind NAT are only ever seen that way).
 *
 * One dial learns what a node says about itself: the RLPx handshake, its Hello (client id, caps,
 * listen port) and, when it speaks eth, its Status. We run the eth protocol in mirror mode (the peer's
 * own Status goes back to it) so a peer on another fork has no reason to hang up before we have read
 * it; then we say goodbye. A node that answers TooManyPeers right after (or instead of) its Hello is a
 * result too: the reason is recorded.
 *
 * Bounds: dials in flight (`concurrency`), dials in flight per IP (hosts running many nodes are not
 * hammered), queued nodes (`maxQueue`, beyond which nodes are reported as not dialled), and results
 * held until the caller takes them (one per queued or dialled node).
 */
import { EventEmitter, setMaxListeners } from 'node:events'
import { backend as defaultBackend } from '../crypto/backend.js'
import { hex } from '../crypto/bytes.js'
import type { CryptoBackend } from '../crypto/types.js'
import type { Node } from '../enode/node.js'
import { classifyNetwork, MAINNET } from '../eth/networks.js'
import { ethProtocols, type EthSession } from '../eth/protocol.js'
import type { Status } from '../eth/status.js'
import { P2PError } from '../p2p/errors.js'
import { DisconnectReason, disconnectReasonText, type Hello } from '../p2p/base.js'
import { Peer, type PeerEnd } from '../p2p/peer.js'
import type { Protocol } from '../p2p/protocol.js'
import { Server } from '../p2p/server.js'
import { RLPxConnection } from '../rlpx/conn.js'
import { RLPxError } from '../rlpx/errors.js'
import { defaultClientId } from '../util/version.js'
import { parseClientId } from './clientid.js'
import { readHead, type HeadInfo } from './head.js'

/** What a dial (or an inbound connection) learnt: the fields it adds to the node's CrawlRecord. */
export interface DialInfo extends HeadInfo {
  /** the Hello's client id, as sent (sanitised and bounded by parseClientId) */
  clientId?: string
  client?: { name: string; version?: string; os?: string; arch?: string; runtime?: string }
  /** 'eth/68', 'snap/1', … as the Hello listed them */
  caps?: string[]
  listenPort?: number
  p2pVersion?: number
  /** from the eth Status */
  ethVersion?: number
  networkId?: number
  forkId?: { hash: string; next: number }
  /** mainnet | sepolia | holesky | hoodi | unknown, from network id + fork hash */
  chain?: string
  genesis?: string
  /** head block hash (eth/68) or latest block hash (eth/69) */
  head?: string
  /** eth/69 */
  latestBlock?: number
  earliestBlock?: number
  /** total difficulty (eth/68), decimal */
  td?: string
  /** how the connection ended, and who ended it */
  disconnect?: { reason: string; code: number; by: 'remote' | 'local' }
  /** why no Hello (or no Status from an eth peer) was had: timeout, refused, bad handshake, … */
  error?: string
  /** it dialled us */
  inbound?: boolean
}

/** What one dial learnt, with the time each step took. */
export interface DialResult extends DialInfo {
  /** ms from the start: RLPx handshake done, Hello in, Status in, head header in (or given up) */
  timings: { rlpx?: number; hello?: number; status?: number; head?: number; total: number }
}

/** the prefix of a result for a node that was never dialled (queue full, crawl over) */
const NOT_DIALLED = 'not dialled: '

/** why a consensus client (a record with `eth2` and no `eth`) is not dialled: it speaks libp2p, not RLPx */
export const CONSENSUS_NOT_DIALLED = NOT_DIALLED + 'consensus-layer node (libp2p)'

/** a dial error that only says the node was never dialled: nothing was learnt about the node */
export function notDialled(error: string | undefined): boolean {
  return error?.startsWith(NOT_DIALLED) ?? false
}

/** What one crawler dial is and its deadlines. */
export interface DialOptions {
  /** our node key: the RLPx identity (the crawler's discovery key) */
  privateKey: Uint8Array
  /** TCP connect deadline, ms (5 s: a crawler cannot wait geth's 15 s on every dead node) */
  dialTimeout?: number
  /** RLPx handshake and Hello deadline, ms (5 s) */
  handshakeTimeout?: number
  /** how long to wait for the Status after the Hello, ms (5 s); the head header is asked within it too */
  statusTimeout?: number
  /** how long our Disconnect may wait for the peer to close, ms (1 s) */
  disconnectGrace?: number
  clientId?: string
  /** our TCP listening port for the Hello (0 when not listening) */
  listenPort?: number
  signal?: AbortSignal
  backend?: CryptoBackend
}

const DIAL_TIMEOUT = 5_000
const HANDSHAKE_TIMEOUT = 5_000
const STATUS_TIMEOUT = 5_000

/**
 * eth versions a crawler offers: eth/66 and eth/67 as well, so nodes of geth before 1.13 (which spoke
 * those only) share a capability and send their Status; their Status has eth/68's layout, and the
 * crawler leaves after it (and the head's header), so it needs nothing else those versions carry.
 */
const CRAWL_ETH_VERSIONS = [66, 67, 68, 69]

/**
 * The eth protocols a crawler offers: mirror mode, so the chain given here only fills a Status we
 * never send; `onStatus` hands each peer's Status to whoever waits for that peer.
 */
function crawlProtocols(onStatus: (peer: Peer, status: Status, session: EthSession) => void): Protocol[] {
  return ethProtocols({ chain: MAINNET, mirror: true, statusTimeoutMs: STATUS_TIMEOUT, onStatus, versions: CRAWL_ETH_VERSIONS })
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/** Failures worth one more try: the connection broke, as opposed to refused, timed out or a bad peer. */
function isNetworkError(err: unknown): boolean {
  if (!(err instanceof RLPxError) || err.code !== 'CLOSED') return false
  const code = (err.cause as NodeJS.ErrnoException | undefined)?.code
  if (code !== undefined) return code === 'ECONNRESET' || code === 'EPIPE' || code === 'ETIMEDOUT'
  return /peer closed the connection/.test(err.message)
}

function helloFields(h: Hello, r: DialResult): void {
  const parsed = parseClientId(h.clientId)
  r.clientId = parsed.raw
  const client: NonNullable<DialResult['client']> = { name: parsed.name }
  if (parsed.version !== undefined) client.version = parsed.version
  if (parsed.os !== undefined) client.os = parsed.os
  if (parsed.arch !== undefined) client.arch = parsed.arch
  if (parsed.runtime !== undefined) client.runtime = parsed.runtime
  r.client = client
  // caps are peer-chosen text too: bounded in number, names cut like client ids
  r.caps = h.caps.slice(0, 32).map((c) => `${parseClientId(c.name).raw.slice(0, 32)}/${c.version}`)
  r.listenPort = h.listenPort
  r.p2pVersion = h.protocolVersion
}

/** JSON has no bigint: numbers for what fits (every real network id and block number), text otherwise */
function num(v: bigint): number {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : Number.MAX_SAFE_INTEGER
}

function statusFields(s: Status, r: DialResult): void {
  r.ethVersion = s.version
  r.networkId = num(s.networkId)
  r.forkId = { hash: hex(s.forkId.hash), next: num(s.forkId.next) }
  r.chain = classifyNetwork(s.networkId, s.forkId)
  r.genesis = hex(s.genesis)
  if (s.layout === 69) {
    r.head = hex(s.latestBlockHash)
    r.latestBlock = num(s.latestBlock)
    r.earliestBlock = num(s.earliestBlock)
  } else {
    r.head = hex(s.head)
    r.td = s.td.toString()
  }
}

function endFields(end: PeerEnd, r: DialResult): void {
  r.disconnect = { reason: disconnectReasonText(end.reason), code: end.reason, by: end.remoteRequested ? 'remote' : 'local' }
}

/**
 * Wait for the peer's Status (when it runs eth), its goodbye or `ms`, whichever comes first; ask for
 * the header of its head in what is left of `ms` (head.ts); then disconnect politely and wait until the
 * connection is closed. Fills the Status, the head and the ending. The head never extends the deadline.
 */
async function readStatusAndLeave(peer: Peer, status: Promise<StatusIn>, ms: number, r: DialResult, t0: number, signal?: AbortSignal): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  let onAbort: (() => void) | undefined
  const deadline = Date.now() + ms
  const speaksEth = peer.caps.some((c) => c.name === 'eth')
  const aborted = new Promise<'aborted'>((resolve) => {
    onAbort = () => resolve('aborted')
    if (signal?.aborted) resolve('aborted')
    else signal?.addEventListener('abort', onAbort, { once: true })
  })
  let outcome = await Promise.race([
    status.then((s) => ({ s })),
    peer.done.then(() => 'ended' as const),
    new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms))),
    aborted,
  ])
  clearTimeout(timer)
  if (typeof outcome === 'object') {
    statusFields(outcome.s.status, r)
    r.timings.status = Date.now() - t0
    const head = readHead(outcome.s.session, outcome.s.status, deadline - Date.now(), r)
    if ((await Promise.race([head, aborted])) === 'aborted') outcome = 'aborted'
    else r.timings.head = Date.now() - t0
  } else if (speaksEth && outcome !== 'ended') {
    r.error = outcome === 'timeout' ? `no Status within ${ms} ms` : 'aborted'
  }
  if (onAbort) signal?.removeEventListener('abort', onAbort)
  peer.disconnect(outcome === 'aborted' ? DisconnectReason.ClientQuitting : DisconnectReason.Requested)
  const end = await peer.done
  endFields(end, r)
  // a remote goodbye (TooManyPeers…) is a result in `disconnect`; a failure on our side is an error
  if (speaksEth && r.networkId === undefined && r.error === undefined && !end.remoteRequested && end.error) r.error = `no Status: ${end.error.message}`
}

/** a peer's Status and the session to ask it for more */
interface StatusIn {
  status: Status
  session: EthSession
}

/** Per-peer Status waiters behind one shared protocol instance. */
class StatusWaiters {
  private readonly waiters = new Map<Peer, (s: StatusIn) => void>()
  readonly protocols = crawlProtocols((peer, status, session) => this.waiters.get(peer)?.({ status, session }))
  wait(peer: Peer): Promise<StatusIn> {
    const p = new Promise<StatusIn>((resolve) => this.waiters.set(peer, resolve))
    void peer.done.then(() => this.waiters.delete(peer))
    return p
  }
}

/**
 * Dial one node: connect, RLPx handshake, Hello, Status, goodbye. Never throws: failures are in
 * `error` (and `disconnect` when the peer said why). `retry` dials once more after a network error.
 */
export async function dialNode(n: Node, opts: DialOptions, retry = true, waiters = new StatusWaiters()): Promise<DialResult> {
  const t0 = Date.now()
  const r: DialResult = { timings: { total: 0 } }
  const hsTimeout = opts.handshakeTimeout ?? HANDSHAKE_TIMEOUT
  let conn: RLPxConnection
  try {
    conn = await RLPxConnection.connect(n.ip, n.tcp, opts.privateKey, n.pubkey, {
      dialTimeout: opts.dialTimeout ?? DIAL_TIMEOUT,
      handshakeTimeout: hsTimeout,
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.backend ? { backend: opts.backend } : {}),
    })
  } catch (err) {
    if (retry && !opts.signal?.aborted && isNetworkError(err)) return dialNode(n, opts, false, waiters)
    r.error = `rlpx: ${errorText(err)}`
    r.timings.total = Date.now() - t0
    return r
  }
  r.timings.rlpx = Date.now() - t0
  let peer: Peer
  try {
    peer = await Peer.handshake(conn, {
      id: (opts.backend ?? defaultBackend).publicKey(opts.privateKey),
      clientId: opts.clientId ?? defaultClientId(),
      protocols: waiters.protocols,
      listenPort: opts.listenPort ?? 0,
      remoteAddress: { ip: n.ip, port: n.tcp },
      handshakeTimeout: hsTimeout,
      disconnectGrace: opts.disconnectGrace ?? 1_000,
    })
  } catch (err) {
    conn.close()
    if (err instanceof P2PError && err.reason !== undefined) endFields({ reason: err.reason, remoteRequested: err.remoteRequested }, r)
    // refused after its Hello (no shared capability, say): who it is still counts
    if (err instanceof P2PError && err.hello) helloFields(err.hello, r)
    r.error = `hello: ${errorText(err)}`
    r.timings.total = Date.now() - t0
    return r
  }
  r.timings.hello = Date.now() - t0
  helloFields(peer.remoteHello, r)
  const status = waiters.wait(peer)
  void peer.run()
  await readStatusAndLeave(peer, status, opts.statusTimeout ?? STATUS_TIMEOUT, r, t0, opts.signal)
  r.timings.total = Date.now() - t0
  return r
}

/** Bounds of the crawler's dial queue. */
export interface DialerOptions extends Omit<DialOptions, 'signal'> {
  /** dials in flight (default 32) */
  concurrency?: number
  /** dials in flight towards one IP (default 2) */
  perIP?: number
  /** nodes waiting for a dial; more are reported as not dialled (default 100 000) */
  maxQueue?: number
}

/** The dial queue's counters. */
export interface DialerStats {
  queued: number
  inFlight: number
  /** dials finished, whatever their outcome */
  dialled: number
  /** of those, with a Hello */
  hello: number
  /** of those, with a Status */
  status: number
  /** inbound peers recorded */
  inbound: number
}

/** The events a {@link Dialer} emits. */
export interface DialerEvents {
  /** a node's dial is over (`id` is the 128-hex public key, as in CrawlRecord) */
  result: [id: string, result: DialResult]
  /** a node dialled us and said Hello */
  inbound: [node: Node, result: DialResult]
  /** every queued and running dial is over */
  idle: []
}

/** Dial queue plus inbound listener; see the file comment. */
export class Dialer extends EventEmitter<DialerEvents> {
  private readonly concurrency: number
  private readonly perIP: number
  private readonly maxQueue: number
  /** queued or in flight, by id: the dedupe and the "is a result coming?" answer */
  private readonly pending = new Set<string>()
  private queue: Node[] = []
  private head = 0
  private readonly parked = new Map<string, Node[]>()
  private parkedCount = 0
  private readonly ipInFlight = new Map<string, number>()
  private inFlight = 0
  private stopped = false
  private readonly abort = new AbortController()
  private readonly waiters = new StatusWaiters()
  private server: Server | undefined
  /** inbound peers being read: `stop` waits for them so their results are not lost */
  private readonly inboundRunning = new Set<Promise<void>>()
  readonly stats: DialerStats = { queued: 0, inFlight: 0, dialled: 0, hello: 0, status: 0, inbound: 0 }

  constructor(private readonly opts: DialerOptions) {
    super()
    this.concurrency = opts.concurrency ?? 32
    this.perIP = opts.perIP ?? 2
    this.maxQueue = opts.maxQueue ?? 100_000
    // every dial in flight listens on the one dialer-wide signal
    setMaxListeners(0, this.abort.signal)
  }

  /** Queue a node for one dial; nodes without a TCP port, known ones and ours are ignored. */
  add(n: Node): void {
    if (n.tcp === 0 || this.pending.has(hex(n.pubkey))) return
    const id = hex(n.pubkey)
    if (this.stopped || this.queue.length - this.head + this.parkedCount >= this.maxQueue) {
      // reported at once, so whoever waits for the node's result is not kept waiting
      this.emit('result', id, { error: NOT_DIALLED + (this.stopped ? 'the crawl ended' : 'dial queue full'), timings: { total: 0 } })
      return
    }
    this.pending.add(id)
    this.queue.push(n)
    this.pump()
  }

  /** a result for this node is still to come */
  isPending(id: string): boolean {
    return this.pending.has(id)
  }

  get idle(): boolean {
    return this.pending.size === 0
  }

  progress(): DialerStats {
    return { ...this.stats, queued: this.queue.length - this.head + this.parkedCount, inFlight: this.inFlight }
  }

  /**
   * Listen for inbound RLPx on `host:port` (TCP) with the same identity; peers that say Hello are
   * recorded (Status awaited as for dials) and sent away. Resolves with the bound port.
   */
  async listen(host: string, port: number): Promise<number> {
    const server = new Server({
      privateKey: this.opts.privateKey,
      name: this.opts.clientId ?? defaultClientId(),
      protocols: this.waiters.protocols,
      host,
      port,
      noDial: true,
      noDiscovery: true,
      rlpx: { handshakeTimeout: this.opts.handshakeTimeout ?? HANDSHAKE_TIMEOUT },
      ...(this.opts.backend ? { backend: this.opts.backend } : {}),
    })
    server.on('peer:added', (peer) => this.onInboundPeer(peer))
    await server.start()
    this.server = server
    return server.port
  }

  private onInboundPeer(peer: Peer): void {
    if (!peer.inbound) return
    const t0 = Date.now()
    const r: DialResult = { inbound: true, timings: { hello: 0, total: 0 } }
    helloFields(peer.remoteHello, r)
    const status = this.waiters.wait(peer)
    const running = readStatusAndLeave(peer, status, this.opts.statusTimeout ?? STATUS_TIMEOUT, r, t0, this.abort.signal).then(() => {
      r.timings.total = Date.now() - t0
      this.stats.inbound++
      this.emit('inbound', peer.node, r)
    })
    this.inboundRunning.add(running)
    void running.finally(() => this.inboundRunning.delete(running))
  }

  /** Wait until every queued dial is done (the crawl is over and nothing new comes). */
  async drain(): Promise<void> {
    if (this.idle) return
    await new Promise<void>((resolve) => this.once('idle', resolve))
  }

  /** Abort dials in flight, report queued nodes as not dialled, close the listener. */
  async stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true
      this.abort.abort(new Error('crawl stopped'))
      const left = [...this.queue.slice(this.head), ...[...this.parked.values()].flat()]
      this.queue = []
      this.head = 0
      this.parked.clear()
      this.parkedCount = 0
      for (const n of left) this.finish(hex(n.pubkey), { error: `${NOT_DIALLED}the crawl ended`, timings: { total: 0 } })
    }
    await this.drain()
    await this.server?.stop()
    this.server = undefined
    await Promise.all(this.inboundRunning)
  }

  private pump(): void {
    while (!this.stopped && this.inFlight < this.concurrency && this.head < this.queue.length) {
      const n = this.queue[this.head++]!
      if (this.head > 4096 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head)
        this.head = 0
      }
      if ((this.ipInFlight.get(n.ip) ?? 0) >= this.perIP) {
        const l = this.parked.get(n.ip)
        if (l) l.push(n)
        else this.parked.set(n.ip, [n])
        this.parkedCount++
        continue
      }
      this.launch(n)
    }
  }

  private launch(n: Node): void {
    const ip = n.ip
    this.ipInFlight.set(ip, (this.ipInFlight.get(ip) ?? 0) + 1)
    this.inFlight++
    const opts: DialOptions = { ...this.opts, signal: this.abort.signal, listenPort: this.opts.listenPort ?? this.server?.port ?? 0 }
    void dialNode(n, opts, true, this.waiters).then((r) => {
      this.inFlight--
      const left = (this.ipInFlight.get(ip) ?? 1) - 1
      if (left > 0) this.ipInFlight.set(ip, left)
      else this.ipInFlight.delete(ip)
      this.stats.dialled++
      if (r.clientId !== undefined) this.stats.hello++
      if (r.networkId !== undefined) this.stats.status++
      this.finish(hex(n.pubkey), r)
      // a parked node of this IP goes first: its turn came while it waited
      const l = this.parked.get(ip)
      if (l && !this.stopped) {
        const next = l.shift()!
        this.parkedCount--
        if (l.length === 0) this.parked.delete(ip)
        this.launch(next)
      }
      this.pump()
      if (this.idle) this.emit('idle')
    })
  }

  private finish(id: string, r: DialResult): void {
    this.pending.delete(id)
    this.emit('result', id, r)
  }
}
