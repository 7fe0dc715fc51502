/**
 * The discv4 UDP transport (geth's p2p/discover/v4_udp.go): one socket, requests matched to replies,
 * endpoint proofs, and the Kademlia table on top. Everything that reads the socket is bounded: per-IP
 * rate, a duplicate filter, the pending-reply set and the batch-verification queue.
 *
 * Reply matching (replies.ts): a reply must come from the node ID and IP we asked, with the expected type; pongs
 * and ENRResponses must echo our request's hash. Requests time out after 500 ms; a FINDNODE answered
 * by fewer than 16 nodes ends at the first NEIGHBORS packet holding fewer than 12 entries (the sender
 * has nothing more), or at the timeout with what arrived.
 *
 * Endpoint proof: we answer FINDNODE and ENRRequest only for an ID + IP that answered one of our pings
 * within 24 h. A ping from a sender we have not bonded with gets a pong and a ping back, so both sides
 * end up bonded; before we send FINDNODE ourselves we make sure the remote has seen a ping from us.
 */
import type { RemoteInfo, Socket } from 'node:dgram'
import { EventEmitter } from 'node:events'
import { randomBytes } from 'node:crypto'
import { isIPv6 } from 'node:net'
import { backend as defaultBackend } from '../crypto/backend.js'
import { hex, sameBytes } from '../crypto/bytes.js'
import { PACKET_HEADER_SIZE, type CryptoBackend, type PacketCheck } from '../crypto/types.js'
import { ENR } from '../enode/enr.js'
import { Node } from '../enode/node.js'
import { checkRelayIP, isLAN, isUnspecified, parseIP } from '../util/netutil.js'
import type { RLPItem } from '../util/rlp.js'
import { bindSocket, DiscoveryError, PendingRequests, quietError, requestOptions, type PendingRequest, type RequestOptions } from './common.js'
import { DatagramCrypto } from './datagram-crypto.js'
import { EndpointPredictor, type EndpointStatement } from './endpoint.js'
import { BOND_EXPIRATION_MS, MAX_BOND_ATTEMPTS, MAX_PENDING, REPLY_TIMEOUT_MS, emptyDrops, type Discv4Events, type Discv4Options, type Discv4Stats, type DropReason, type NeighborsAnswer } from './udp-options.js'
import { BUCKET_SIZE } from './kademlia.js'
import { lookup, lookupIterator, randomWalk } from './lookup.js'
import { NodeDB } from './nodedb.js'
import { DriftCheck } from './ntp.js'
import { AwaitedReplies, type AwaitedReply } from './replies.js'
import { DEFAULT_RATE_LIMIT, DuplicateFilter, IPRateLimiter, type RateLimitOptions } from './ratelimit.js'
import { MAX_FINDNODE_FAILURES, Table, type LookupTarget, type TableTransport } from './table.js'
import {
  decodeChecked,
  encodeUnsealed,
  expiration,
  isDiscv4Packet,
  isExpired,
  MAX_NEIGHBORS,
  MAX_PACKET_SIZE,
  PACKET_NAMES,
  PacketType,
  WireError,
  type Decoded,
  type Neighbors,
  type Packet,
} from './wire.js'

/** lowest UDP port accepted for a relayed node (geth refuses privileged ports) */
const MIN_RELAY_PORT = 1025

function isDedupedType(t: number): boolean {
  return t === PacketType.FindNode || t === PacketType.ENRRequest
}

/**
 * A discv4 endpoint: one UDP socket, the Kademlia {@link Table} it keeps, and the requests on top (ping,
 * FINDNODE, ENRRequest, lookups), with geth's endpoint proofs, expirations and limits.
 */
export class Discv4 extends EventEmitter<Discv4Events> implements TableTransport {
  readonly self: Node
  readonly db: NodeDB
  readonly table: Table
  private readonly ownsDB: boolean
  private readonly b: CryptoBackend
  private readonly key: Uint8Array
  private readonly replyTimeout: number
  private readonly limiter: IPRateLimiter | undefined
  private readonly limitsOnLAN: boolean
  private readonly dups = new DuplicateFilter()
  private readonly predictor: EndpointPredictor
  /** requests awaiting a reply, by IP (their node's key is checked on each reply: no hex per datagram) */
  private readonly awaited = new AwaitedReplies()
  private readonly requests = new PendingRequests(MAX_PENDING, 'discovery')
  /** waiters for a ping from a node we just pinged (ensureBond), by id|ip */
  private readonly pingWaiters = new Map<string, () => void>()
  /** when we last completed a bonding round with id|ip (answered ping, ping-back window waited) */
  private readonly bondAttempts = new Map<string, number>()
  /** signing and verification, inline or in batches off the event loop */
  private readonly crypto: DatagramCrypto<RemoteInfo, { ip: string; udp: number }>
  /** asks the NTP server (when one is set) after a run of timeouts whether our clock is off */
  private readonly drift: DriftCheck
  private enr: ENR
  private readonly enrEntries: Record<string, RLPItem>
  private announcedIP: string | undefined
  private readonly fixedIP: boolean
  private closed = false
  /**
   * Where datagrams go that are not discv4 (their first 32 bytes are no keccak of the rest), after the
   * size and per-IP rate checks: discv5 attaches here (both.ts) to share our socket, as geth does.
   * Unset, they are dropped as malformed.
   */
  onUnhandled: ((data: Buffer, from: RemoteInfo) => void) | undefined
  readonly stats: Discv4Stats = { packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0, dropped: emptyDrops(), timeouts: 0, pending: 0, sendErrors: 0 }

  private constructor(
    private readonly socket: Socket,
    private readonly opts: Discv4Options,
    boundPort: number,
  ) {
    super()
    this.b = opts.backend ?? defaultBackend
    this.key = opts.privateKey
    this.replyTimeout = opts.replyTimeoutMs ?? REPLY_TIMEOUT_MS
    this.limitsOnLAN = opts.limitsOnLAN ?? false
    this.limiter = opts.rateLimit === false ? undefined : new IPRateLimiter(opts.rateLimit ?? DEFAULT_RATE_LIMIT)
    this.predictor = new EndpointPredictor(opts.endpointStatements ?? 10)
    this.drift = new DriftCheck(
      opts.ntpServer,
      (offset) => !this.closed && this.emit('clockDrift', offset),
      (err) => !this.closed && this.emit('ntpError', err),
    )
    this.ownsDB = opts.db === undefined
    this.db = opts.db ?? new NodeDB()
    const host = opts.host ?? '0.0.0.0'
    const hostBytes = parseIP(host)
    this.fixedIP = opts.externalIP !== undefined
    this.announcedIP = opts.externalIP ?? (hostBytes && !isUnspecified(hostBytes) ? host : undefined)
    this.self = new Node(this.b.publicKey(this.key), this.announcedIP ?? host, boundPort, opts.tcpPort ?? boundPort)
    this.enrEntries = opts.enrEntries ?? {}
    // a restarted node must publish a higher sequence number than anything it signed before
    const seq = this.db.localSeq() + 1n
    this.enr = this.signENR(seq)
    this.db.storeLocalSeq(seq).catch((err: unknown) => this.emit('dbError', err))
    this.table = new Table({
      transport: this,
      db: this.db,
      bootnodes: opts.bootnodes ?? [],
      ipLimitsOnLAN: this.limitsOnLAN,
      ...(opts.pingIntervalMs !== undefined ? { pingIntervalMs: opts.pingIntervalMs } : {}),
      ...(opts.refreshIntervalMs !== undefined ? { refreshIntervalMs: opts.refreshIntervalMs } : {}),
    })
    this.table.on('dbError', (err) => this.emit('dbError', err))
    const threads = opts.cryptoThreads
    const placement = { batchVerify: threads !== undefined ? threads > 0 : (opts.batchVerify ?? false), batchSign: (threads ?? 0) > 0, threads: threads || undefined }
    const hooks = { verified: (c: PacketCheck, from: RemoteInfo) => this.handleChecked(c, from), sealed: (d: Uint8Array, to: { ip: string; udp: number }) => this.transmit(d, to) }
    this.crypto = new DatagramCrypto(this.b, this.key, placement, { ...hooks, sealFailed: (n) => (this.stats.sendErrors += n), closed: () => this.closed })
    socket.on('message', (data, from) => this.onDatagram(data, from))
    // a failed send (unreachable host…) surfaces here; the socket stays usable
    socket.on('error', () => this.stats.sendErrors++)
  }

  /** Bind the socket and start the table (seeds, bootnodes, refresh). */
  static async listen(opts: Discv4Options): Promise<Discv4> {
    const socket = await bindSocket(opts.host ?? '0.0.0.0', opts.port ?? 30303, opts.socketBufferBytes)
    const t = new Discv4(socket, opts, socket.address().port)
    t.table.start()
    return t
  }

  /** where datagrams are signed and verified: Discv4Options.cryptoThreads as given (undefined when not) */
  get cryptoThreads(): number | undefined { return this.opts.cryptoThreads }

  /** the reply timeout requests use unless they set their own */
  get replyTimeoutMs(): number {
    return this.replyTimeout
  }

  /** Send a datagram of a protocol sharing our socket (discv5); nothing once closed. May throw on a bad address. */
  sendDatagram(data: Uint8Array, port: number, ip: string): void {
    if (!this.closed) this.socket.send(data, port, ip)
  }

  /** datagrams received and waiting for batch verification: a sender that outpaces us sees it grow */
  get backlog(): number {
    return this.crypto.backlog
  }

  /** our current signed record */
  get localENR(): ENR {
    return this.enr
  }

  private signENR(seq: bigint): ENR {
    const fields: Parameters<typeof ENR.sign>[1] = { seq, udp: this.self.udp, tcp: this.self.tcp, extra: this.enrEntries }
    if (this.announcedIP !== undefined) {
      if (isIPv6(this.announcedIP)) fields.ip6 = this.announcedIP
      else fields.ip = this.announcedIP
    }
    return ENR.sign(this.key, fields, this.b)
  }

  /** the endpoint peers report seeing us at, once enough agree */
  predictedEndpoint(): EndpointStatement | undefined {
    return this.predictor.predict()
  }

  // ---- sending -------------------------------------------------------------------------------

  /**
   * Sign and send `p`; `onHash` learns its hash (replies echo it) before it leaves. Counted as sent at
   * once (a sender pacing on the count sees it while a batch signs). Never throws: a closed socket or
   * an unusable address just means no reply comes (the request times out or close() failed it).
   */
  private send(n: { ip: string; udp: number }, p: Packet, onHash?: (hash: Uint8Array) => void): void {
    if (this.closed) return
    const datagram = encodeUnsealed(p)
    this.stats.packetsOut++
    this.stats.bytesOut += datagram.length
    this.crypto.seal(datagram, n, onHash)
  }

  private transmit(datagram: Uint8Array, n: { ip: string; udp: number }): void {
    if (this.closed) return
    try {
      // without a callback an asynchronous failure (unreachable host…) arrives as the socket's
      // 'error' event, counted there: no closure per datagram
      this.socket.send(datagram, n.udp, n.ip)
    } catch {
      this.stats.sendErrors++
    }
  }

  private ourEndpoint(): { ip: string | null; udp: number; tcp: number } {
    return { ip: this.announcedIP ?? null, udp: this.self.udp, tcp: this.self.tcp }
  }

  /**
   * Register a pending reply. `onReply` sees each matching packet and says whether the request is
   * complete; the promise settles with `result()` when it is, or on timeout via `onTimeout`.
   */
  private expect<T>(
    n: Node,
    type: number,
    onReply: (d: Decoded) => boolean | 'no-match',
    result: () => T,
    onTimeout: () => T | Error,
    opts: RequestOptions,
  ): Promise<T> {
    let p: AwaitedReply
    return this.requests.start<T>(
      {
        closed: this.closed,
        signal: opts.signal,
        timeoutMs: opts.timeoutMs ?? this.replyTimeout,
        onTimeout: (req) => {
          this.stats.timeouts++
          this.drift.timeout()
          const r = onTimeout()
          // the timeout may turn what arrived into a (partial) result
          if (r instanceof Error) req.reject(r)
          else req.resolve(result())
        },
        onSettle: () => {
          this.awaited.remove(n.ip, p)
          this.stats.pending = this.requests.size
        },
      },
      (req) => {
        p = {
          type,
          pub: n.pubkey,
          req: req as PendingRequest<unknown>,
          onReply: (d) => {
            const r = onReply(d)
            if (r === true) req.resolve(result())
            return r
          },
        }
        this.awaited.add(n.ip, p)
        this.stats.pending = this.requests.size
      },
    )
  }

  private timeoutError(what: string, n: Node): DiscoveryError {
    return quietError('TIMEOUT', `${what} to ${n.ip}:${n.udp} timed out`)
  }

  /** Ping `n`; resolves with its ENR sequence number (if it sent one) when the pong arrives. */
  ping(n: Node, options?: AbortSignal | RequestOptions): Promise<{ seq?: bigint }> {
    const opts = requestOptions(options)
    // set before the ping leaves, so before any pong can match
    let hash: Uint8Array | undefined
    let seq: bigint | undefined
    const promise = this.expect<{ seq?: bigint }>(
      n,
      PacketType.Pong,
      (d) => {
        if (d.packet.type !== PacketType.Pong || !hash || !sameBytes(d.packet.replyTok, hash)) return 'no-match'
        seq = d.packet.enrSeq
        return true
      },
      () => (seq === undefined ? {} : { seq }),
      () => this.timeoutError('ping', n),
      opts,
    )
    this.send(n, { type: PacketType.Ping, version: 4, from: this.ourEndpoint(), to: { ip: n.ip, udp: n.udp, tcp: n.tcp }, expiration: expiration(), enrSeq: this.enr.seq }, (h) => (hash = h))
    return promise
  }

  /**
   * Make sure `n` holds an endpoint proof for us before we ask it something: if it has not pinged us
   * within 24 h (or keeps failing), ping it and give it a moment to ping us back, as geth does.
   */
  private async ensureBond(n: Node, signal?: AbortSignal): Promise<void> {
    const now = Date.now()
    const key = `${n.idHex}|${n.ip}`
    const stale = now - this.db.lastPingReceived(n.id, n.ip) > BOND_EXPIRATION_MS
    // A node that already holds a proof for us answers our ping but does not ping back; one bonding
    // round is enough then, or every FINDNODE to it would wait out the ping-back window again.
    // Repeated FINDNODE failures (counted by the table) bring the round back.
    const tried = this.bondAttempts.get(key)
    const recentlyTried = tried !== undefined && now - tried < BOND_EXPIRATION_MS
    if ((!stale || recentlyTried) && this.db.findFails(n.id, n.ip) < MAX_FINDNODE_FAILURES) return
    this.bondAttempts.delete(key)
    if (this.bondAttempts.size >= MAX_BOND_ATTEMPTS) this.bondAttempts.delete(this.bondAttempts.keys().next().value!)
    const theirPing = new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.pingWaiters.delete(key)
        resolve()
      }, this.replyTimeout)
      this.pingWaiters.set(key, () => {
        clearTimeout(t)
        this.pingWaiters.delete(key)
        resolve()
      })
    })
    try {
      await this.ping(n, signal)
    } catch (err) {
      this.pingWaiters.get(key)?.()
      throw err
    }
    this.bondAttempts.set(key, Date.now())
    await theirPing
  }

  /** Ask `n` for the nodes closest to `target`; all NEIGHBORS packets of the answer, at most 16 nodes. */
  async findnode(n: Node, target: LookupTarget, options?: AbortSignal | RequestOptions): Promise<Node[]> {
    return (await this.neighbors(n, target, options)).nodes
  }

  /** FINDNODE, saying whether the answer is whole (see NeighborsAnswer). */
  async neighbors(n: Node, target: LookupTarget, options?: AbortSignal | RequestOptions): Promise<NeighborsAnswer> {
    const opts = requestOptions(options)
    if (opts.bond !== false) await this.ensureBond(n, opts.signal)
    const nodes: Node[] = []
    let packets = 0
    let complete = false
    const promise = this.expect<NeighborsAnswer>(
      n,
      PacketType.Neighbors,
      (d) => {
        const p = d.packet as Neighbors
        packets++
        for (const e of p.nodes) {
          if (nodes.length >= BUCKET_SIZE) break
          if (e.udp < MIN_RELAY_PORT || checkRelayIP(n.ip, e.ip) !== null) continue
          // one node per public key (the ID is its hash), the last entry winning; never ourselves
          if (sameBytes(e.pubkey, this.self.pubkey)) continue
          const found = new Node(e.pubkey, e.ip, e.udp, e.tcp)
          const k = nodes.findIndex((x) => sameBytes(x.pubkey, e.pubkey))
          if (k >= 0) nodes[k] = found
          else nodes.push(found)
        }
        // a short packet is the sender's last one
        complete = nodes.length >= BUCKET_SIZE || p.nodes.length + (p.skipped ?? 0) < MAX_NEIGHBORS
        return complete
      },
      () => ({ nodes, complete }),
      () => {
        if (packets > 0) return { nodes, complete: false }
        // no answer: maybe it holds no proof for us after all, so the next request bonds again
        this.bondAttempts.delete(`${n.idHex}|${n.ip}`)
        return this.timeoutError('findnode', n)
      },
      opts,
    )
    this.send(n, { type: PacketType.FindNode, target: target.key, expiration: expiration() })
    return promise
  }

  /** Fetch `n`'s signed record (EIP-868); the record must belong to `n`'s ID. */
  async enrRequest(n: Node, options?: AbortSignal | RequestOptions): Promise<ENR> {
    const opts = requestOptions(options)
    if (opts.bond !== false) await this.ensureBond(n, opts.signal)
    let hash: Uint8Array | undefined
    let record: ENR | Error | undefined
    const promise = this.expect<ENR | Error | undefined>(
      n,
      PacketType.ENRResponse,
      (d) => {
        if (d.packet.type !== PacketType.ENRResponse || !hash || !sameBytes(d.packet.replyTok, hash)) return 'no-match'
        try {
          const r = ENR.decode(d.packet.record, this.b)
          record = r.nodeId.length === 32 && hex(r.nodeId) === n.idHex ? r : new DiscoveryError('BAD_RECORD', 'record is signed by another node')
        } catch (err) {
          record = new DiscoveryError('BAD_RECORD', `invalid record: ${(err as Error).message}`)
        }
        return true
      },
      () => record,
      () => {
        this.bondAttempts.delete(`${n.idHex}|${n.ip}`) // as for FINDNODE: bond again next time
        return this.timeoutError('ENRRequest', n)
      },
      opts,
    )
    this.send(n, { type: PacketType.ENRRequest, expiration: expiration() }, (h) => (hash = h))
    const r = await promise
    if (r === undefined) throw new DiscoveryError('BAD_RECORD', 'no record')
    if (r instanceof Error) throw r
    return r
  }

  /** TableTransport: the node as its current record describes it */
  async requestENR(n: Node, signal?: AbortSignal): Promise<{ node: Node; seq: bigint }> {
    const r = await this.enrRequest(n, signal)
    return { node: r.toNode() ?? n, seq: r.seq }
  }

  randomTarget(): LookupTarget {
    const key = new Uint8Array(randomBytes(64))
    return { key, id: this.b.keccak256(key) }
  }

  selfTarget(): LookupTarget {
    return { key: this.self.pubkey, id: this.self.id }
  }

  // ---- lookups -------------------------------------------------------------------------------

  /** the 16 nodes closest to `target` found by an iterative lookup (a random target when omitted) */
  lookup(target: LookupTarget = this.randomTarget(), signal?: AbortSignal): Promise<Node[]> {
    return lookup(this.table, target, signal ? { signal } : {})
  }

  /** newly found nodes of one lookup, as they arrive */
  lookupIterator(target: LookupTarget = this.randomTarget(), signal?: AbortSignal): AsyncGenerator<Node, void> {
    return lookupIterator(this.table, target, signal ? { signal } : {})
  }

  /** an endless stream of nodes from successive random lookups, until `signal` aborts or close() */
  randomNodes(signal?: AbortSignal): AsyncGenerator<Node, void> {
    return randomWalk(this.table, signal ? { signal } : {})
  }

  // ---- receiving -----------------------------------------------------------------------------

  private drop(reason: DropReason, from: string): void {
    this.stats.dropped[reason]++
    this.emit('drop', reason, from)
  }

  private onDatagram(data: Buffer, rinfo: RemoteInfo): void {
    if (this.closed) return
    // a dual-stack socket reports IPv4 senders v4-mapped; node identity uses the plain form
    const from = rinfo.address.startsWith('::ffff:') && rinfo.address.includes('.') ? { ...rinfo, address: rinfo.address.slice(7) } : rinfo
    this.stats.packetsIn++
    this.stats.bytesIn += data.length
    if (data.length > MAX_PACKET_SIZE) return this.drop('too-large', from.address)
    // one per-IP budget for everything on the socket: a discv5 flood spends the same tokens
    if (this.limiter && (this.limitsOnLAN || !isLAN(from.address)) && !this.limiter.allow(from.address)) return this.drop('rate', from.address)
    // a datagram whose first 32 bytes are not the keccak of the rest is no discv4 packet: discv5's
    if (this.onUnhandled && !isDiscv4Packet(data, this.b)) {
      this.stats.packetsIn--
      this.stats.bytesIn -= data.length
      return this.onUnhandled(data, from)
    }
    // A replayed FINDNODE or ENRRequest inside the expiry window is dropped unverified: those are
    // the requests worth replaying for amplification (the first 32 bytes are the hash, byte 97 the
    // type; a forged type fails the hash check later). Pings are not filtered: a peer that pings
    // twice within one second sends byte-identical pings and must get both pongs.
    if (data.length > PACKET_HEADER_SIZE && isDedupedType(data[PACKET_HEADER_SIZE]!) && this.dups.seen(data.toString('latin1', 0, 32))) {
      return this.drop('duplicate', from.address)
    }
    const likely = data.length > PACKET_HEADER_SIZE ? this.awaited.likelySigner(from.address, data[PACKET_HEADER_SIZE]!) : undefined
    if (!this.crypto.verify(data, from, likely)) this.drop('queue-full', from.address)
  }

  private handleChecked(check: ReturnType<CryptoBackend['verifyPacket']>, from: RemoteInfo): void {
    if (this.closed) return
    let d: Decoded
    try {
      d = decodeChecked(check, this.b)
    } catch (err) {
      const code = err instanceof WireError ? err.code : 'MALFORMED'
      return this.drop(code === 'BAD_HASH' || code === 'BAD_SIGNATURE' || code === 'TOO_SHORT' ? 'verify' : 'malformed', from.address)
    }
    if (sameBytes(d.pubkey, this.self.pubkey)) return this.drop('self', from.address)
    const sender = new Node(d.pubkey, from.address, from.port, d.packet.type === PacketType.Ping ? d.packet.from.tcp : 0)
    const p = d.packet
    if ('expiration' in p && isExpired(p.expiration)) return this.drop('expired', from.address)
    switch (p.type) {
      case PacketType.Ping:
        this.onPing(d, sender)
        break
      case PacketType.Pong:
      case PacketType.Neighbors:
      case PacketType.ENRResponse:
        if (!this.awaited.match(d, sender.ip, sender.pubkey)) return this.drop('unsolicited', from.address)
        this.drift.answered()
        if (p.type === PacketType.Pong) this.onPong(p.to, sender)
        break
      case PacketType.FindNode:
        if (!this.bonded(sender)) return this.drop('unbonded', from.address)
        this.onFindnode(d, sender)
        break
      case PacketType.ENRRequest:
        if (!this.bonded(sender)) return this.drop('unbonded', from.address)
        this.send(sender, { type: PacketType.ENRResponse, replyTok: d.hash, record: this.enr.raw })
        break
    }
    this.emit('packet', p, sender)
  }

  private bonded(n: Node): boolean {
    return Date.now() - this.db.lastPongReceived(n.id, n.ip) < BOND_EXPIRATION_MS
  }

  private onPing(d: Decoded, sender: Node): void {
    const ping = d.packet as Extract<Packet, { type: 1 }>
    this.send(sender, { type: PacketType.Pong, to: { ip: sender.ip, udp: sender.udp, tcp: ping.from.tcp }, replyTok: d.hash, expiration: expiration(), enrSeq: this.enr.seq })
    const now = Date.now()
    this.dbWrite(this.db.updateLastPingReceived(sender.id, sender.ip, now))
    if (this.pingWaiters.size > 0) this.pingWaiters.get(`${sender.idHex}|${sender.ip}`)?.()
    if (this.bonded(sender)) {
      this.table.addVerifiedNode(sender, ping.enrSeq ?? 0n)
      return
    }
    // unknown sender: ping back so that both sides hold an endpoint proof
    this.ping(sender)
      .then(({ seq }) => this.table.addVerifiedNode(sender, seq ?? ping.enrSeq ?? 0n))
      .catch(() => undefined)
  }

  private onPong(to: { ip: string | null; udp: number }, sender: Node): void {
    this.dbWrite(this.db.updateLastPongReceived(sender.id, sender.ip, Date.now()))
    // what the peer saw as our address; LAN peers see a LAN address, which says nothing about NAT
    if (to.ip === null || (!this.limitsOnLAN && isLAN(sender.ip))) return
    this.predictor.add(sender.ip, { ip: to.ip, port: to.udp })
    const ep = this.predictor.predict()
    if (!ep || this.fixedIP || ep.ip === this.announcedIP) return
    this.announcedIP = ep.ip
    this.enr = this.signENR(this.enr.seq + 1n)
    this.dbWrite(this.db.storeLocalSeq(this.enr.seq))
    this.emit('endpoint', ep, this.enr)
  }

  private onFindnode(d: Decoded, sender: Node): void {
    const target = this.b.keccak256((d.packet as Extract<Packet, { type: 3 }>).target)
    const closest = this.table.closest(target, BUCKET_SIZE, true).filter((n) => checkRelayIP(sender.ip, n.ip) === null)
    // always at least one packet, empty when we know nobody
    for (let i = 0; i === 0 || i < closest.length; i += MAX_NEIGHBORS) {
      const chunk = closest.slice(i, i + MAX_NEIGHBORS).map((n) => ({ ip: n.ip, udp: n.udp, tcp: n.tcp, pubkey: n.pubkey }))
      this.send(sender, { type: PacketType.Neighbors, nodes: chunk, expiration: expiration() })
    }
  }

  private dbWrite(p: Promise<void>): void {
    p.catch((err: unknown) => {
      if (!this.closed) this.emit('dbError', err)
    })
  }

  /** Stop the table, fail pending requests, close the socket (and the DB if we opened it). */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.emit('close')
    this.table.close()
    const err = new DiscoveryError('CLOSED', 'discovery closed')
    for (const req of this.awaited.requests()) req.reject(err)
    for (const w of [...this.pingWaiters.values()]) w()
    await new Promise<void>((resolve) => this.socket.close(() => resolve()))
    if (this.ownsDB) await this.db.close()
  }
}

