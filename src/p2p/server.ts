/**
 * The p2p server (geth's p2p/server.go): a TCP listener with a bounded set of pending handshakes,
 * the dial scheduler fed by discovery and the static list, and the peer set. Every connection,
 * inbound or dialled, goes through the same steps: RLPx handshake → checkpoint (self, duplicate,
 * limits) → Hello → checkpoint again (the world may have changed meanwhile) → the peer runs.
 */
import { EventEmitter } from 'node:events'
import { createServer, type Server as NetServer, type Socket } from 'node:net'
import { backend as defaultBackend } from '../crypto/backend.js'
import { hex } from '../crypto/bytes.js'
import { MAX_FRAME_SIZE, type CryptoBackend } from '../crypto/types.js'
import { Node } from '../enode/node.js'
import { Discv4 } from '../discover/udp.js'
import type { Discv4Options } from '../discover/udp-options.js'
import type { NodeDB } from '../discover/nodedb.js'
import { randomWalk } from '../discover/lookup.js'
import type { Table } from '../discover/table.js'
import { v5Table } from '../discover/v5/table.js'
import { Discv5 } from '../discover/v5/udp.js'
import { attachDiscv5 } from '../discover/both.js'
import { RLPxConnection, type ConnectionOptions } from '../rlpx/conn.js'
import { isLAN } from '../util/netutil.js'
import { DialScheduler } from './dial.js'
import { P2PError } from './errors.js'
import { DisconnectReason } from './base.js'
import { Peer, sendDisconnect, type PeerEnd } from './peer.js'
import type { Protocol } from './protocol.js'
import type { NetRestrict } from './netrestrict.js'
import { defaultClientId } from '../util/version.js'

/** Peers at most, inbound and outbound together (geth's default). */
export const DEFAULT_MAX_PEERS = 50
/** Inbound connections in their handshake at once. */
export const DEFAULT_MAX_PENDING_PEERS = 50
/** At most maxPeers / ratio peers are dialled by us; the rest is left to inbound connections. */
export const DEFAULT_DIAL_RATIO = 3
/** geth: an IP that connected to us is refused again for this long */
export const INBOUND_THROTTLE_MS = 30_000
const MAX_THROTTLE_ENTRIES = 10_000
/**
 * largest frame accepted before the Hello exchange is through (a Hello is at most 2 KiB, and what
 * follows it right away is small): 50 pending handshakes then hold at most 50 × 256 KiB, not 50 × 16 MiB
 */
export const PRE_HELLO_MAX_FRAME = 256 * 1024

/** What a {@link Server} is, whom it talks to and its limits. */
export interface ServerConfig {
  /** the node key (32 bytes): its public key is the node's identity */
  privateKey: Uint8Array
  /** Hello client id (default ethp2p/v…/platform/node…) */
  name?: string
  /** the sub-protocols run on every peer that shares one of them */
  protocols: readonly Protocol[]
  /** listen address (default 0.0.0.0) */
  host?: string
  /** TCP port (default 30303; 0 picks one); also the UDP port unless `discPort` says otherwise */
  port?: number
  /** UDP port for discovery (default: the TCP port) */
  discPort?: number
  /** don't listen for inbound connections at all */
  noListen?: boolean
  /** peers at most (default 50) */
  maxPeers?: number
  /** inbound handshakes at once (default 50) */
  maxPendingPeers?: number
  /** dialled peers at most maxPeers / dialRatio (default 3) */
  dialRatio?: number
  /** discovery's first contacts */
  bootnodes?: readonly Node[]
  /** always dialled, and redialled when they drop */
  staticNodes?: readonly Node[]
  /** may connect beyond MaxPeers */
  trustedNodes?: readonly Node[]
  /** only these networks may connect or be dialled */
  netRestrict?: NetRestrict
  /** never dial out (inbound only) */
  noDial?: boolean
  /** run no discovery: peers come from static nodes and inbound connections */
  noDiscovery?: boolean
  /** the address announced in discovery (NAT extip, or a mapped address) */
  externalIP?: string
  /** node database for discovery (default: in memory) */
  db?: NodeDB
  /** passed to the discovery transport (rate limits, NTP, timeouts, …) */
  discovery?: Partial<Discv4Options>
  /** serve discv5 on the discovery port too, with a routing table of its own (default false) */
  discv5?: boolean
  /** serve discv4 (default true); with discv5 and without discv4, discovery is discv5 alone */
  discv4?: boolean
  /** apply the inbound throttle to loopback and LAN peers too (geth exempts them; tests turn it on) */
  limitsOnLAN?: boolean
  /** how long an IP that connected waits before it may again (default 30 s) */
  inboundThrottleMs?: number
  /** RLPx deadlines and limits for every connection */
  rlpx?: ConnectionOptions
  /** ms the TCP connect of a dial may take (default 15 s, as geth) */
  dialTimeout?: number
  /** Peer knobs: ms between Pings, Hello deadline */
  pingInterval?: number
  /** crypto backend (default: the active one) */
  backend?: CryptoBackend
}

/** The events a {@link Server} emits. */
export interface ServerEvents {
  /** a connection passed RLPx and the Hellos and its protocols run */
  'peer:added': [peer: Peer]
  /** a peer ended, and how */
  'peer:removed': [peer: Peer, end: PeerEnd]
  /** the dialer started a dial; `dial:end` follows with the error when it did not become a peer */
  'dial:start': [node: Node, kind: 'static' | 'dynamic']
  'dial:end': [node: Node, kind: 'static' | 'dynamic', error: Error | undefined]
  /** discovery's candidate stream failed; dynamic dialling restarts after retryMs */
  'dial:candidatesError': [error: Error, retryMs: number | undefined]
  /** a connection that never became a peer: the step it failed at and why */
  'conn:failed': [info: { inbound: boolean; ip: string; stage: 'rlpx' | 'checkpoint' | 'hello'; error: Error }]
}

interface Pending {
  socket: Socket
  since: number
}

/** Misuse of a {@link Server} (started twice). */
export class ServerError extends Error {
  override readonly name = 'ServerError'
}

/**
 * A devp2p node: listens for and dials RLPx connections, runs the base protocol and the application's
 * sub-protocols on each peer, keeps the peer set within its limits, and finds peers with discv4.
 */
export class Server extends EventEmitter<ServerEvents> {
  readonly config: ServerConfig
  readonly self: Node
  private readonly b: CryptoBackend
  private readonly peers = new Map<string, Peer>()
  /** inbound sockets whose handshakes are under way: the pending slots */
  private readonly pending = new Set<Pending>()
  /** node IDs with a handshake in progress (either direction), so nobody is connected twice */
  private readonly handshaking = new Set<string>()
  private readonly trusted = new Set<string>()
  private readonly throttle = new Map<string, number>()
  private listener: NetServer | undefined
  private disc: Discv4 | undefined
  private v5: Discv5 | undefined
  private v5own = false
  private v5table: Table | undefined
  private dialer: DialScheduler | undefined
  private running = false
  private tcpPort = 0
  private readonly maxPeers: number
  private readonly maxPending: number
  private readonly maxDialed: number
  readonly stats = { inboundAccepted: 0, inboundRefused: 0, handshakesOk: 0, handshakesFailed: 0 }

  constructor(config: ServerConfig) {
    super()
    this.config = config
    this.b = config.backend ?? defaultBackend
    this.self = new Node(this.b.publicKey(config.privateKey), config.host ?? '0.0.0.0', 0, 0)
    this.maxPeers = config.maxPeers ?? DEFAULT_MAX_PEERS
    this.maxPending = config.maxPendingPeers ?? DEFAULT_MAX_PENDING_PEERS
    const ratio = config.dialRatio ?? DEFAULT_DIAL_RATIO
    this.maxDialed = config.noDial ? 0 : Math.floor(this.maxPeers / (ratio > 0 ? ratio : DEFAULT_DIAL_RATIO))
    for (const n of config.trustedNodes ?? []) this.trusted.add(n.idHex)
  }

  /** the TCP port we listen on (0 before start or with noListen) */
  get port(): number {
    return this.tcpPort
  }

  /** the discovery transport, when discovery runs */
  get discovery(): Discv4 | undefined {
    return this.disc
  }

  /** discv5 and its routing table, when discv5 runs */
  get discoveryV5(): { transport: Discv5; table: Table } | undefined {
    return this.v5 && this.v5table ? { transport: this.v5, table: this.v5table } : undefined
  }

  /** this node as others reach it */
  get localNode(): Node {
    const d = this.disc?.self
    const ip = this.config.externalIP ?? (d?.ip && d.ip !== '0.0.0.0' && d.ip !== '::' ? d.ip : this.listenIP())
    return new Node(this.self.pubkey, ip, d?.udp ?? this.tcpPort, this.tcpPort)
  }

  private listenIP(): string {
    const h = this.config.host ?? '0.0.0.0'
    return h === '0.0.0.0' || h === '::' ? '127.0.0.1' : h
  }

  /** peers connected now */
  get peerCount(): number {
    return this.peers.size
  }

  /** the peers connected now */
  peerList(): Peer[] {
    return [...this.peers.values()]
  }

  /** inbound and outbound peer counts (metrics) */
  peerCounts(): { inbound: number; outbound: number } {
    let inbound = 0
    for (const p of this.peers.values()) if (p.inbound) inbound++
    return { inbound, outbound: this.peers.size - inbound }
  }

  /** inbound connections still in their handshake */
  get pendingCount(): number {
    return this.pending.size
  }

  /** Listens, starts discovery and the dialer; resolves once the sockets are bound. */
  async start(): Promise<void> {
    if (this.running) throw new ServerError('server already started')
    this.running = true
    const host = this.config.host ?? '0.0.0.0'
    if (!this.config.noListen) {
      this.listener = createServer({ noDelay: true }, (s) => this.onInbound(s))
      await new Promise<void>((resolve, reject) => {
        this.listener!.once('error', reject)
        this.listener!.listen(this.config.port ?? 30303, host, () => {
          this.listener!.off('error', reject)
          resolve()
        })
      })
      // a listener error after start (EMFILE…) must not take the process down
      this.listener.on('error', () => undefined)
      this.tcpPort = (this.listener.address() as { port: number }).port
    }
    if (!this.config.noDiscovery && this.config.discv4 !== false) {
      this.disc = await Discv4.listen({
        ...this.config.discovery,
        privateKey: this.config.privateKey,
        host,
        port: this.config.discPort ?? this.tcpPort,
        tcpPort: this.tcpPort,
        bootnodes: [...(this.config.bootnodes ?? [])],
        backend: this.b,
        ...(this.config.db ? { db: this.config.db } : {}),
        ...(this.config.externalIP !== undefined ? { externalIP: this.config.externalIP } : {}),
      })
    }
    if (!this.config.noDiscovery && this.config.discv5) {
      // beside discv4, discv5 shares its socket (its key, record and LAN policy); alone, it binds its own
      if (this.disc) {
        const limitsOnLAN = this.config.discovery?.limitsOnLAN
        this.v5 = attachDiscv5(this.disc, { privateKey: this.config.privateKey, backend: this.b, ...(limitsOnLAN !== undefined ? { limitsOnLAN } : {}) })
      } else {
        this.v5own = true
        const ip = this.config.externalIP ?? (host !== '0.0.0.0' && host !== '::' ? host : undefined)
        this.v5 = await Discv5.listen({
          privateKey: this.config.privateKey,
          host,
          port: this.config.discPort ?? this.tcpPort,
          enr: { tcp: this.tcpPort, ...(ip !== undefined ? { ip } : {}) },
          backend: this.b,
        })
      }
      const self = new Node(this.b.publicKey(this.config.privateKey), this.v5.localENR.ip ?? host, this.v5.localENR.udp ?? 0, this.tcpPort)
      this.v5table = v5Table(this.v5, self, { bootnodes: [...(this.config.bootnodes ?? [])] })
      this.v5table.start()
    }
    if (!this.config.noDial) {
      const disc = this.disc
      const table5 = this.v5table
      this.dialer = new DialScheduler({
        selfId: this.self.idHex,
        maxDialPeers: this.maxDialed,
        dial: (n, _kind, signal) => this.dial(n, signal),
        busy: (id) => this.peers.has(id) || this.handshaking.has(id),
        ...(this.config.netRestrict ? { allowed: (ip: string) => this.config.netRestrict!.contains(ip) } : {}),
        ...(disc ? { candidates: () => dialable(disc.randomNodes()) } : table5 ? { candidates: () => dialable(randomWalk(table5)) } : {}),
      })
      this.dialer.on('candidatesError', (err, retryMs) => this.emit('dial:candidatesError', err, retryMs))
      this.dialer.on('dialStart', (n, kind) => this.emit('dial:start', n, kind))
      this.dialer.on('dialEnd', (n, kind, err) => this.emit('dial:end', n, kind, err))
      for (const n of this.config.staticNodes ?? []) this.dialer.addStatic(n)
      this.dialer.start()
    }
  }

  /** Add a static node: dialled now and redialled whenever it drops. */
  addStatic(n: Node): void {
    this.dialer?.addStatic(n)
  }

  /** Trust a node: it may connect even when the peer limit is reached. */
  addTrusted(n: Node): void {
    this.trusted.add(n.idHex)
  }

  /** Disconnect every peer (ClientQuitting), close the listener, the dialer and discovery. */
  async stop(): Promise<void> {
    if (!this.running) return
    this.running = false
    this.dialer?.stop()
    const closing = this.listener ? new Promise<void>((r) => this.listener!.close(() => r())) : Promise.resolve()
    for (const p of this.pending) p.socket.destroy()
    this.pending.clear()
    const peers = [...this.peers.values()]
    for (const p of peers) p.disconnect(DisconnectReason.ClientQuitting)
    await Promise.all(peers.map((p) => p.done))
    this.v5table?.close()
    if (this.v5own) await this.v5?.close()
    await this.disc?.close()
    await closing
  }

  // ---- connection setup ----------------------------------------------------------------------

  private onInbound(socket: Socket): void {
    const ip = normalizeIP(socket.remoteAddress ?? '')
    const refuse = (): void => {
      this.stats.inboundRefused++
      socket.destroy()
    }
    if (!this.running || !ip) return refuse()
    if (this.config.netRestrict && !this.config.netRestrict.contains(ip)) return refuse()
    if (this.throttled(ip)) return refuse()
    if (this.pending.size >= this.maxPending && !this.evictIdle()) return refuse()
    this.stats.inboundAccepted++
    const slot: Pending = { socket, since: Date.now() }
    this.pending.add(slot)
    socket.once('close', () => this.pending.delete(slot))
    void this.setupInbound(socket, ip, slot)
  }

  /**
   * Free a pending slot by closing the oldest connection that has not sent a byte: idle sockets
   * never lock a real peer out (a peer that sent its auth is mid-handshake and keeps its slot).
   */
  private evictIdle(): boolean {
    let oldest: Pending | undefined
    for (const p of this.pending) if (p.socket.bytesRead === 0 && (!oldest || p.since < oldest.since)) oldest = p
    if (!oldest) return false
    this.pending.delete(oldest)
    oldest.socket.destroy()
    return true
  }

  /** geth's inbound throttle: one connection attempt per IP per 30 s; LAN exempt unless asked */
  private throttled(ip: string): boolean {
    if (!this.config.limitsOnLAN && isLAN(ip)) return false
    const now = Date.now()
    const until = this.throttle.get(ip)
    if (until !== undefined && until > now) return true
    if (this.throttle.size >= MAX_THROTTLE_ENTRIES) {
      for (const [k, t] of this.throttle) if (t <= now) this.throttle.delete(k)
      // still full of live entries: forget the oldest rather than grow
      if (this.throttle.size >= MAX_THROTTLE_ENTRIES) this.throttle.delete(this.throttle.keys().next().value!)
    }
    this.throttle.set(ip, now + (this.config.inboundThrottleMs ?? INBOUND_THROTTLE_MS))
    return false
  }

  private async setupInbound(socket: Socket, ip: string, slot: Pending): Promise<void> {
    let conn: RLPxConnection
    try {
      conn = await RLPxConnection.accept(socket, this.config.privateKey, this.rlpxOptions())
    } catch (e) {
      this.pending.delete(slot)
      this.failed(true, ip, 'rlpx', e)
      return
    }
    try {
      await this.setupPeer(conn, true, ip, socket.remotePort ?? 0)
    } finally {
      this.pending.delete(slot)
    }
  }

  /** The dialer's dial: resolves once the node is a running peer. */
  private async dial(n: Node, signal: AbortSignal): Promise<void> {
    let conn: RLPxConnection
    this.handshaking.add(n.idHex)
    try {
      conn = await RLPxConnection.connect(n.ip, n.tcp, this.config.privateKey, n.pubkey, {
        ...this.rlpxOptions(),
        signal,
        ...(this.config.dialTimeout !== undefined ? { dialTimeout: this.config.dialTimeout } : {}),
      })
    } catch (e) {
      this.handshaking.delete(n.idHex)
      this.failed(false, n.ip, 'rlpx', e)
      throw e
    }
    this.handshaking.delete(n.idHex)
    const err = await this.setupPeer(conn, false, n.ip, n.tcp)
    if (err) throw err
  }

  private rlpxOptions(): ConnectionOptions {
    return { ...this.config.rlpx, backend: this.b, maxFrameSize: Math.min(PRE_HELLO_MAX_FRAME, this.config.rlpx?.maxFrameSize ?? MAX_FRAME_SIZE) }
  }

  /** why a connection to `id` may not become a peer right now, if it may not */
  private checkpoint(id: string, inbound: boolean): DisconnectReason | undefined {
    if (!this.running) return DisconnectReason.ClientQuitting
    if (id === this.self.idHex) return DisconnectReason.ConnectedToSelf
    if (this.peers.has(id)) return DisconnectReason.AlreadyConnected
    if (this.trusted.has(id)) return undefined
    if (this.peers.size >= this.maxPeers) return DisconnectReason.TooManyPeers
    if (inbound && this.peerCounts().inbound >= this.maxPeers - this.maxDialed) return DisconnectReason.TooManyPeers
    return undefined
  }

  /** Checkpoint, Hello, checkpoint, run. Resolves with the error when the connection did not become a peer. */
  private async setupPeer(conn: RLPxConnection, inbound: boolean, ip: string, port: number): Promise<Error | undefined> {
    const id = hex(this.b.keccak256(conn.remotePubkey))
    // an inbound duplicate of a dial in progress loses, as does anything the checkpoint refuses
    const early = this.checkpoint(id, inbound) ?? (inbound && this.handshaking.has(id) ? DisconnectReason.AlreadyConnected : undefined)
    if (early !== undefined) {
      await sendDisconnect(conn, early)
      return this.failed(inbound, ip, 'checkpoint', new P2PError('DISCONNECTED', `refused: ${DisconnectReason[early]}`, { reason: early }))
    }
    this.handshaking.add(id)
    let peer: Peer
    try {
      peer = await Peer.handshake(conn, {
        id: this.self.pubkey,
        clientId: this.config.name ?? defaultClientId(),
        protocols: this.config.protocols,
        listenPort: this.tcpPort,
        inbound,
        remoteAddress: { ip, port },
        ...(this.config.rlpx?.handshakeTimeout !== undefined ? { handshakeTimeout: this.config.rlpx.handshakeTimeout } : {}),
        ...(this.config.pingInterval !== undefined ? { pingInterval: this.config.pingInterval } : {}),
      })
    } catch (e) {
      this.handshaking.delete(id)
      return this.failed(inbound, ip, 'hello', e)
    }
    this.handshaking.delete(id)
    conn.setMaxFrameSize(this.config.rlpx?.maxFrameSize ?? MAX_FRAME_SIZE)
    const late = this.checkpoint(id, inbound)
    if (late !== undefined) {
      peer.disconnect(late)
      await peer.done
      return this.failed(inbound, ip, 'checkpoint', new P2PError('DISCONNECTED', `refused: ${DisconnectReason[late]}`, { reason: late }))
    }
    this.peers.set(id, peer)
    this.stats.handshakesOk++
    this.dialer?.peerAdded(peer.node, !inbound)
    this.emit('peer:added', peer)
    void peer.run().then((end) => {
      this.peers.delete(id)
      this.dialer?.peerRemoved(peer.node)
      this.emit('peer:removed', peer, end)
    })
    return undefined
  }

  private failed(inbound: boolean, ip: string, stage: 'rlpx' | 'checkpoint' | 'hello', e: unknown): Error {
    const error = e instanceof Error ? e : new Error(String(e))
    this.stats.handshakesFailed++
    this.emit('conn:failed', { inbound, ip, stage, error })
    return error
  }
}

/** a dual-stack listener reports IPv4 peers v4-mapped */
function normalizeIP(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip
}

/** discovery finds nodes without a TCP port too; only the others can be dialled */
async function* dialable(nodes: AsyncIterable<Node>): AsyncGenerator<Node, void> {
  for await (const n of nodes) if (n.tcp > 0) yield n
}
