/**
 * The discv5 transport: handshakes both ways, encrypted requests and answers, over a socket of its own
 * or over one it shares (discv4's: the owner hands over every datagram that is not discv4, and
 * supplies a send function).
 *
 * Sending to a node without a session: the request goes out as an ordinary packet whose content the
 * node cannot read; it answers WHOAREYOU, and we resend the request inside a handshake packet (new
 * keys, our identity proof, our record when its copy is older). Requests to the same node wait while
 * that handshake is under way. Receiving a packet we cannot decrypt: we answer WHOAREYOU — 63 bytes,
 * never more than the packet that asked (no amplification) — at a bounded rate per IP, and keep that
 * one challenge per remote until its handshake arrives or a second passes.
 *
 * Answers are matched by request id and sender ID. NODES answers arrive in up to `total` packets;
 * records that are not at the asked distances (or beyond what one answer may hold) are dropped, as
 * geth does. Everything is bounded: sessions, challenges, known records, requests in flight.
 */
import type { RemoteInfo, Socket } from 'node:dgram'
import { EventEmitter } from 'node:events'
import { randomBytes } from 'node:crypto'
import { backend as defaultBackend, randomPrivateKey } from '../../crypto/backend.js'
import { hex } from '../../crypto/bytes.js'
import type { CryptoBackend } from '../../crypto/types.js'
import { compressPubkey, ENR, type ENRFields } from '../../enode/enr.js'
import type { Node } from '../../enode/node.js'
import { ipFromBytes, ipToBytes, isLAN } from '../../util/netutil.js'
import { bindSocket, DiscoveryError, PendingRequests, quietError, type PendingRequest } from '../common.js'
import { logDistance } from '../kademlia.js'
import { IPRateLimiter } from '../ratelimit.js'
import { deriveKeys, GCM_TAG_SIZE, idSign, idVerify } from './crypto.js'
import { SessionStore, type Session } from './session.js'
import { VerifiedRecords } from './verified-records.js'
import {
  decodeHeader,
  decodeMessage,
  encodeMessage,
  encodePacket,
  Flag,
  handshakeAuthdata,
  headerData,
  isResponse,
  MAX_PACKET_SIZE,
  MessageType,
  parseHandshake,
  parseWhoareyou,
  V5WireError,
  whoareyouAuthdata,
  type Header,
  type V5Message,
} from './wire.js'

/** how long a discv5 request waits for its reply (geth's respTimeoutV5) */
export const V5_REPLY_TIMEOUT_MS = 500
/** a request that needed a handshake gets this long in all (the spec's 1 s) */
export const V5_HANDSHAKE_TIMEOUT_MS = 1000
/** NODES packets one FINDNODE answer may span, and records it may hold */
const MAX_NODES_PACKETS = 8
const MAX_NODES_RECORDS = 64
/** room for records in one NODES packet: 1280 less header, tag and message framing */
const NODES_ROOM = MAX_PACKET_SIZE - 16 - 23 - 32 - GCM_TAG_SIZE - 24

/** Why a discv5 datagram was dropped (counted in {@link Discv5Stats.dropped}). */
export type V5DropReason = 'not-discv5' | 'malformed' | 'undecryptable' | 'unsolicited' | 'bad-handshake' | 'rate' | 'no-record'

/** whom to send a request to: a record, or a discv4 Node (its public key and endpoint) */
export type V5Target = ENR | Node

interface Peer {
  id: Uint8Array
  idHex: string
  pubkey: Uint8Array
  ip: string
  port: number
}

/** Options of {@link Discv5.listen} and {@link Discv5.attach}. */
export interface Discv5Options {
  privateKey: Uint8Array
  /** own socket: address and port to bind (ignored with `send`) */
  host?: string
  port?: number
  /** shared socket: how to send a datagram; the owner calls `handle` with what it receives */
  send?: (data: Uint8Array, port: number, ip: string) => void
  /** our record's fields (ip, udp, tcp, extra entries); the record is signed here */
  enr?: ENRFields
  /** a record to start from instead (shared with discv4); replaced with `setLocalENR` */
  localENR?: ENR
  /** records served for FINDNODE at these distances (distance 0 is always our own record) */
  nodes?: (distances: number[]) => ENR[]
  replyTimeoutMs?: number
  /** own socket: receive and send buffers, bytes (default 4 MiB, as discv4's) */
  socketBufferBytes?: number
  /** WHOAREYOU answers per IP per second (default 20; loopback and LAN exempt unless limitsOnLAN) */
  whoareyouRate?: number
  limitsOnLAN?: boolean
  /** sessions and known records kept (default 10,000): the most recently used this many, at most twice that (see LRU) */
  maxSessions?: number
  maxPending?: number
  backend?: CryptoBackend
}

/** Counters of a {@link Discv5} transport. */
export interface Discv5Stats {
  packetsIn: number
  packetsOut: number
  bytesIn: number
  bytesOut: number
  /** handshakes completed, as initiator and as recipient */
  handshakes: number
  dropped: Record<V5DropReason, number>
  timeouts: number
}

/** Events a {@link Discv5} transport emits. */
export interface Discv5Events {
  /** a message arrived in a session (after decryption) */
  message: [m: V5Message, from: { id: Uint8Array; ip: string; port: number }]
  /** a datagram was dropped */
  drop: [reason: V5DropReason, from: string]
  /** a remote's record, learnt from a handshake or an answer */
  record: [enr: ENR]
  /** a remote completed a handshake with us: it is alive, and this is its record */
  established: [enr: ENR]
}

interface Pending {
  peer: Peer
  /** this request started the handshake others to its node wait for */
  initiator: boolean
  msg: V5Message
  reqIdHex: string
  /** the nonce of the latest packet carrying the request: a WHOAREYOU names it */
  nonceHex: string
  handshakes: number
  req: PendingRequest<V5Message | ENR[]>
  /** NODES accumulation */
  packets: number
  records: ENR[]
  total: number
}

/** Answers one TALKREQ of a protocol: the bytes returned go back in the TALKRESP. */
export type TalkHandler = (request: Uint8Array, from: { id: Uint8Array; ip: string; port: number }) => Uint8Array | Promise<Uint8Array>

function emptyDrops(): Record<V5DropReason, number> {
  return { 'not-discv5': 0, malformed: 0, undecryptable: 0, unsolicited: 0, 'bad-handshake': 0, rate: 0, 'no-record': 0 }
}

/** The discv5 (v5.1) transport: sessions, handshakes both ways, PING, FINDNODE, TALKREQ, serving its table; alone on a socket or sharing discv4's. */
export class Discv5 extends EventEmitter<Discv5Events> {
  readonly id: Uint8Array
  readonly idHex: string
  private readonly b: CryptoBackend
  private readonly key: Uint8Array
  private enr: ENR
  private readonly store: SessionStore
  private readonly pending = new Map<string, Pending>()
  private readonly byNonce = new Map<string, Pending>()
  /** requests waiting for a handshake under way with their node, by session key */
  private readonly waiting = new Map<string, Pending[]>()
  private readonly talk = new Map<string, TalkHandler>()
  /** WHOAREYOU answers per IP: a second's worth at once, then the sustained rate */
  private readonly limiter: IPRateLimiter
  private readonly replyTimeout: number
  private readonly requests: PendingRequests
  private closed = false
  private nodesSource: ((distances: number[]) => ENR[]) | undefined
  /** records already verified, so that a record met again costs no signature check */
  private readonly verified: VerifiedRecords
  readonly stats: Discv5Stats = { packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0, handshakes: 0, dropped: emptyDrops(), timeouts: 0 }

  private constructor(
    private readonly opts: Discv5Options,
    private readonly sendRaw: (data: Uint8Array, port: number, ip: string) => void,
    private readonly socket?: Socket,
  ) {
    super()
    this.b = opts.backend ?? defaultBackend
    this.verified = new VerifiedRecords(16_384, this.b)
    this.key = opts.privateKey
    this.enr = opts.localENR ?? ENR.sign(this.key, { seq: 1n, ...opts.enr }, this.b)
    this.id = this.enr.nodeId
    this.idHex = hex(this.id)
    this.store = new SessionStore({ sessions: opts.maxSessions ?? 10_000, challenges: 10_000, records: opts.maxSessions ?? 10_000 })
    this.limiter = new IPRateLimiter({ perMinute: (opts.whoareyouRate ?? 20) * 60, burst: opts.whoareyouRate ?? 20, maxTracked: 10_000 })
    this.replyTimeout = opts.replyTimeoutMs ?? V5_REPLY_TIMEOUT_MS
    this.requests = new PendingRequests(opts.maxPending ?? 10_000, 'discv5')
    this.nodesSource = opts.nodes
  }

  /** A transport with a socket of its own. */
  static async listen(opts: Discv5Options): Promise<Discv5> {
    const socket = await bindSocket(opts.host ?? '0.0.0.0', opts.port ?? 30303, opts.socketBufferBytes)
    socket.on('error', () => undefined)
    const enr = opts.localENR ? {} : { enr: { udp: socket.address().port, ...opts.enr } }
    const d = new Discv5({ ...opts, ...enr }, (data, port, ip) => socket.send(data, port, ip), socket)
    socket.on('message', (data, from) => d.handle(data, from))
    return d
  }

  /** A transport on a socket someone else owns: it calls `handle` for our datagrams and we send with `opts.send`. */
  static attach(opts: Discv5Options & { send: (data: Uint8Array, port: number, ip: string) => void }): Discv5 {
    return new Discv5(opts, opts.send)
  }

  /** the bound port (own socket only) */
  get port(): number | undefined {
    return this.socket?.address().port
  }

  /** this node's current record (shared with discv4 when the socket is) */
  get localENR(): ENR {
    return this.enr
  }

  /** Replace our record (a new sequence number); peers learn it from our pings and handshakes. */
  setLocalENR(enr: ENR): void {
    if (enr.nodeIdHex !== this.idHex) throw new RangeError('the record belongs to another node')
    this.enr = enr
  }

  /** Serve FINDNODE from `source` (records at the asked distances) from now on. */
  serveFrom(source: (distances: number[]) => ENR[]): void {
    this.nodesSource = source
  }

  /** Answer TALKREQ for `protocol`; without a handler the answer is an empty TALKRESP. */
  onTalk(protocol: string, handler: TalkHandler): void {
    this.talk.set(protocol, handler)
  }

  /** a record we know for this node ID (hex), if any */
  knownRecord(idHex: string): ENR | undefined {
    return this.store.records.peek(idHex)
  }

  // ---- requests --------------------------------------------------------------------------------

  /** PING: the node's record sequence number and the endpoint it sees us at */
  async ping(n: V5Target, signal?: AbortSignal): Promise<{ enrSeq: bigint; ip: string; port: number }> {
    const m = await this.request(n, { type: MessageType.ping, reqId: new Uint8Array(0), enrSeq: this.enr.seq }, signal)
    if (m instanceof Array || m.type !== MessageType.pong) throw new DiscoveryError('BAD_RESPONSE', 'expected PONG')
    return { enrSeq: m.enrSeq, ip: ipFromBytes(m.ip) ?? '', port: m.port }
  }

  /** FINDNODE: the records the node holds at these log distances from itself (0: its own record) */
  async findnode(n: V5Target, distances: number[], signal?: AbortSignal): Promise<ENR[]> {
    const ds = [...new Set(distances)].filter((d) => Number.isInteger(d) && d >= 0 && d <= 256)
    if (ds.length === 0 || ds.length > 16) throw new RangeError('distances: 1 to 16 integers in 0..256')
    const r = await this.request(n, { type: MessageType.findnode, reqId: new Uint8Array(0), distances: ds }, signal)
    if (!(r instanceof Array)) throw new DiscoveryError('BAD_RESPONSE', 'expected NODES')
    return r
  }

  /** the node's current record */
  async requestENR(n: V5Target, signal?: AbortSignal): Promise<ENR> {
    const [r] = await this.findnode(n, [0], signal)
    if (!r) throw new DiscoveryError('BAD_RESPONSE', 'no record in the answer')
    return r
  }

  /** TALKREQ: the response bytes (empty when the node does not speak `protocol`) */
  async talkReq(n: V5Target, protocol: string | Uint8Array, payload: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
    const p = typeof protocol === 'string' ? new TextEncoder().encode(protocol) : protocol
    const m = await this.request(n, { type: MessageType.talkreq, reqId: new Uint8Array(0), protocol: p, request: payload }, signal)
    if (m instanceof Array || m.type !== MessageType.talkresp) throw new DiscoveryError('BAD_RESPONSE', 'expected TALKRESP')
    return m.response
  }

  private peerOf(n: V5Target): Peer {
    if (n instanceof ENR) {
      const node = n.toNode()
      if (!node) throw new DiscoveryError('NO_ENDPOINT', 'the record has no UDP endpoint')
      this.store.records.set(n.nodeIdHex, n)
      return { id: n.nodeId, idHex: n.nodeIdHex, pubkey: n.pubkey, ip: node.ip, port: node.udp }
    }
    return { id: n.id, idHex: n.idHex, pubkey: n.pubkey, ip: n.ip, port: n.udp }
  }

  private request(n: V5Target, msg: V5Message, signal?: AbortSignal): Promise<V5Message | ENR[]> {
    if (this.closed) return Promise.reject(new DiscoveryError('CLOSED', 'discv5 closed'))
    const peer = this.peerOf(n)
    const reqId = new Uint8Array(randomBytes(8))
    msg.reqId = reqId
    let p: Pending
    return this.requests.start<V5Message | ENR[]>(
      {
        closed: this.closed,
        signal,
        timeoutMs: this.replyTimeout,
        onTimeout: (req) => {
          this.stats.timeouts++
          req.reject(quietError('TIMEOUT', `${MESSAGE_NAMES[msg.type]} to ${peer.ip}:${peer.port} timed out`))
        },
        onSettle: () => {
          this.pending.delete(p.reqIdHex)
          if (this.byNonce.get(p.nonceHex) === p) this.byNonce.delete(p.nonceHex)
          if (p.initiator) this.handOver(SessionStore.key(peer.idHex, peer.ip, peer.port))
        },
      },
      (req) => {
        p = { peer, initiator: false, msg, reqIdHex: hex(reqId), nonceHex: '', handshakes: 0, req, packets: 0, records: [], total: 0 }
        this.pending.set(p.reqIdHex, p)
        const key = SessionStore.key(peer.idHex, peer.ip, peer.port)
        const queue = this.waiting.get(key)
        // a handshake with this node is under way: go once it is done
        if (queue && !this.store.sessions.peek(key)) {
          if (queue.length < 64) queue.push(p)
          else req.reject(new DiscoveryError('TOO_MANY_PENDING', 'too many requests wait for one handshake'))
          return
        }
        if (!this.store.sessions.peek(key)) {
          this.waiting.set(key, [])
          p.initiator = true
        }
        this.sendRequest(p)
      },
    )
  }

  /**
   * The request that started a handshake is over. The requests that waited go now: in the session
   * when there is one, else the first of them starts a handshake of its own (the node may have lost
   * the first attempt's packets).
   */
  private handOver(key: string): void {
    const queue = this.waiting.get(key)
    this.waiting.delete(key)
    const live = (queue ?? []).filter((q) => this.pending.has(q.reqIdHex))
    if (live.length === 0) return
    if (!this.store.sessions.peek(key)) {
      const [first, ...rest] = live
      first!.initiator = true
      this.waiting.set(key, rest)
      return this.sendRequest(first!)
    }
    for (const q of live) this.sendRequest(q)
  }

  /** Send (or resend) a pending request in an ordinary packet: sealed with the session, or unreadable to provoke WHOAREYOU. */
  private sendRequest(p: Pending): void {
    const s = this.store.sessions.get(SessionStore.key(p.peer.idHex, p.peer.ip, p.peer.port))
    const pt = encodeMessage(p.msg)
    const nonce = new Uint8Array(randomBytes(12))
    const hd = headerData(new Uint8Array(randomBytes(16)), Flag.message, nonce, this.id)
    const body = s ? this.b.gcmSeal(s.writeKey, nonce, pt, hd) : new Uint8Array(randomBytes(pt.length + GCM_TAG_SIZE))
    this.track(p, nonce)
    this.out(encodePacket(p.peer.id, hd, body, this.b), p.peer.port, p.peer.ip)
  }

  private track(p: Pending, nonce: Uint8Array): void {
    if (this.byNonce.get(p.nonceHex) === p) this.byNonce.delete(p.nonceHex)
    p.nonceHex = hex(nonce)
    this.byNonce.set(p.nonceHex, p)
  }

  private out(data: Uint8Array, port: number, ip: string): void {
    if (this.closed) return
    this.stats.packetsOut++
    this.stats.bytesOut += data.length
    try {
      this.sendRaw(data, port, ip)
    } catch {
      // an unusable address: the request times out
    }
  }

  // ---- receiving -------------------------------------------------------------------------------

  private drop(reason: V5DropReason, from: string): void {
    this.stats.dropped[reason]++
    this.emit('drop', reason, from)
  }

  /** Whether `data` is a discv5 packet for us (an unmasking of its static header: cheap). */
  accepts(data: Uint8Array): boolean {
    try {
      decodeHeader(data, this.id, this.b)
      return true
    } catch {
      return false
    }
  }

  /** One datagram from the socket (ours, or the shared one). Never throws. */
  handle(data: Uint8Array, from: Pick<RemoteInfo, 'address' | 'port'>): void {
    if (this.closed) return
    const ip = from.address.startsWith('::ffff:') && from.address.includes('.') ? from.address.slice(7) : from.address
    this.stats.packetsIn++
    this.stats.bytesIn += data.length
    let h: Header
    try {
      h = decodeHeader(data, this.id, this.b)
    } catch (err) {
      return this.drop(err instanceof V5WireError && err.code === 'NOT_DISCV5' ? 'not-discv5' : 'malformed', ip)
    }
    try {
      if (h.flag === Flag.message) this.onMessagePacket(h, ip, from.port, data.length)
      else if (h.flag === Flag.whoareyou) this.onWhoareyou(h, ip, from.port)
      else this.onHandshake(h, ip, from.port)
    } catch (err) {
      // a decoder's complaint about a peer's bytes; anything else is ours to see
      if (err instanceof V5WireError) this.drop('malformed', ip)
      else throw err
    }
  }

  private onMessagePacket(h: Header, ip: string, port: number, size: number): void {
    const src = h.authdata
    const key = SessionStore.key(hex(src), ip, port)
    const s = this.store.sessions.get(key)
    const pt = s ? this.b.gcmOpen(s.readKey, h.nonce, h.message, h.ad) : null
    if (!pt) return this.challenge(src, ip, port, h.nonce, size)
    this.dispatch(decodeMessage(pt), src, ip, port, s!)
  }

  /** Answer an unreadable packet with WHOAREYOU: the handshake starts here. */
  private challenge(src: Uint8Array, ip: string, port: number, nonce: Uint8Array, size: number): void {
    // the smallest packet is as big as a WHOAREYOU (63 bytes): we never send more than we got
    if (size < 63) return this.drop('undecryptable', ip)
    if ((this.opts.limitsOnLAN || !isLAN(ip)) && !this.limiter.allow(ip)) return this.drop('rate', ip)
    this.drop('undecryptable', ip)
    const idHex = hex(src)
    const known = this.store.records.peek(idHex)
    const knownSeq = known?.seq ?? 0n
    const hd = headerData(new Uint8Array(randomBytes(16)), Flag.whoareyou, nonce, whoareyouAuthdata({ idNonce: new Uint8Array(randomBytes(16)), enrSeq: knownSeq }))
    this.store.challenges.set(SessionStore.key(idHex, ip, port), { data: hd, sentAt: Date.now(), knownSeq })
    this.out(encodePacket(src, hd, new Uint8Array(0), this.b), port, ip)
  }

  /** Our request met a node without our session: resend it in a handshake packet. */
  private onWhoareyou(h: Header, ip: string, port: number): void {
    const p = this.byNonce.get(hex(h.nonce))
    if (!p || p.peer.ip !== ip || p.peer.port !== port || p.handshakes >= 2) return this.drop('unsolicited', ip)
    p.handshakes++
    const w = parseWhoareyou(h.authdata)
    const challenge = h.ad
    const eph = randomPrivateKey()
    const ephPub = compressPubkey(this.b.publicKey(eph))
    const keys = deriveKeys(this.b, eph, p.peer.pubkey, this.id, p.peer.id, challenge)
    const authdata = handshakeAuthdata({
      srcId: this.id,
      signature: idSign(this.b, this.key, challenge, ephPub, p.peer.id),
      ephKey: ephPub,
      ...(w.enrSeq < this.enr.seq ? { record: this.enr.raw } : {}),
    })
    const key = SessionStore.key(p.peer.idHex, ip, port)
    this.store.sessions.set(key, { writeKey: keys.initiatorKey, readKey: keys.recipientKey })
    const nonce = new Uint8Array(randomBytes(12))
    const hd = headerData(new Uint8Array(randomBytes(16)), Flag.handshake, nonce, authdata)
    this.track(p, nonce)
    // the handshake costs a round trip more: the request's clock restarts with the handshake's allowance
    p.req.extend(V5_HANDSHAKE_TIMEOUT_MS)
    this.out(encodePacket(p.peer.id, hd, this.b.gcmSeal(keys.initiatorKey, nonce, encodeMessage(p.msg), hd), this.b), port, ip)
    this.stats.handshakes++
    // requests that waited for this handshake go now, in the new session
    p.initiator = false
    this.handOver(key)
  }

  /** A remote answers our WHOAREYOU: check its proof, derive the session, read its message. */
  private onHandshake(h: Header, ip: string, port: number): void {
    const auth = parseHandshake(h.authdata)
    const idHex = hex(auth.srcId)
    const key = SessionStore.key(idHex, ip, port)
    const ch = this.store.challenges.peek(key)
    if (!ch || Date.now() - ch.sentAt > V5_HANDSHAKE_TIMEOUT_MS) return this.drop('unsolicited', ip)
    let record = this.store.records.peek(idHex)
    if (auth.record) {
      let r: ENR
      try {
        r = ENR.decode(auth.record, this.b)
      } catch {
        return this.drop('bad-handshake', ip)
      }
      if (r.nodeIdHex !== idHex) return this.drop('bad-handshake', ip)
      if (!record || r.seq >= record.seq) record = r
    }
    if (!record) return this.drop('no-record', ip)
    if (!idVerify(this.b, record.pubkey, auth.signature, ch.data, auth.ephKey, this.id)) return this.drop('bad-handshake', ip)
    let keys
    try {
      keys = deriveKeys(this.b, this.key, auth.ephKey, auth.srcId, this.id, ch.data)
    } catch {
      return this.drop('bad-handshake', ip)
    }
    const pt = this.b.gcmOpen(keys.initiatorKey, h.nonce, h.message, h.ad)
    if (!pt) return this.drop('bad-handshake', ip)
    // one challenge, one handshake
    this.store.challenges.delete(key)
    const s: Session = { writeKey: keys.recipientKey, readKey: keys.initiatorKey }
    this.store.sessions.set(key, s)
    this.store.records.set(idHex, record)
    this.stats.handshakes++
    this.emit('record', record)
    this.emit('established', record)
    this.dispatch(decodeMessage(pt), auth.srcId, ip, port, s)
  }

  // ---- messages --------------------------------------------------------------------------------

  private dispatch(m: V5Message, src: Uint8Array, ip: string, port: number, s: Session): void {
    const from = { id: src, ip, port }
    this.emit('message', m, from)
    if (isResponse(m)) return this.onResponse(m, src, ip)
    switch (m.type) {
      case MessageType.ping:
        this.reply(s, src, ip, port, { type: MessageType.pong, reqId: m.reqId, enrSeq: this.enr.seq, ip: ipToBytes(ip), port })
        break
      case MessageType.findnode:
        this.serveFindnode(s, src, ip, port, m.reqId, m.distances)
        break
      case MessageType.talkreq: {
        const handler = this.talk.get(new TextDecoder().decode(m.protocol))
        const answer = (response: Uint8Array): void => this.reply(s, src, ip, port, { type: MessageType.talkresp, reqId: m.reqId, response })
        if (!handler) return answer(new Uint8Array(0))
        Promise.resolve()
          .then(() => handler(m.request, from))
          .then(answer, () => answer(new Uint8Array(0)))
        break
      }
    }
  }

  private reply(s: Session, dest: Uint8Array, ip: string, port: number, m: V5Message): void {
    const nonce = new Uint8Array(randomBytes(12))
    const hd = headerData(new Uint8Array(randomBytes(16)), Flag.message, nonce, this.id)
    this.out(encodePacket(dest, hd, this.b.gcmSeal(s.writeKey, nonce, encodeMessage(m), hd), this.b), port, ip)
  }

  private serveFindnode(s: Session, dest: Uint8Array, ip: string, port: number, reqId: Uint8Array, distances: number[]): void {
    const records: ENR[] = []
    const seen = new Set<string>()
    for (const d of distances) {
      const found = d === 0 ? [this.enr] : (this.nodesSource?.([d]) ?? []).filter((r) => logDistance(r.nodeId, this.id) === d)
      for (const r of found) {
        const k = r.nodeIdHex
        if (seen.has(k) || records.length >= 16) continue
        seen.add(k)
        records.push(r)
      }
    }
    // as few packets as the records fit in; always one, empty when we know nobody there
    const packets: ENR[][] = [[]]
    let room = NODES_ROOM
    for (const r of records) {
      if (r.raw.length + 3 > room && packets.at(-1)!.length > 0) {
        packets.push([])
        room = NODES_ROOM
      }
      packets.at(-1)!.push(r)
      room -= r.raw.length + 3
    }
    for (const recs of packets) this.reply(s, dest, ip, port, { type: MessageType.nodes, reqId, total: packets.length, records: recs.map((r) => r.raw) })
  }

  private onResponse(m: V5Message, src: Uint8Array, ip: string): void {
    const p = this.pending.get(hex(m.reqId))
    if (!p || hex(src) !== p.peer.idHex) return this.drop('unsolicited', ip)
    if (m.type === MessageType.pong && p.msg.type === MessageType.ping) return p.req.resolve(m)
    if (m.type === MessageType.talkresp && p.msg.type === MessageType.talkreq) return p.req.resolve(m)
    if (m.type !== MessageType.nodes || p.msg.type !== MessageType.findnode) return this.drop('unsolicited', ip)
    const asked = p.msg.distances
    p.packets++
    p.total ||= Math.min(Math.max(1, m.total), MAX_NODES_PACKETS)
    for (const raw of m.records) {
      if (p.records.length >= MAX_NODES_RECORDS) break
      const r = this.verified.decode(raw)
      if (!r) continue
      const d = logDistance(r.nodeId, p.peer.id)
      // not at a distance we asked for: dropped, as geth does
      if (!asked.includes(d)) continue
      p.records.push(r)
      this.store.records.set(r.nodeIdHex, r)
      this.emit('record', r)
    }
    if (p.packets >= p.total) p.req.resolve(p.records)
  }

  /** Fail every request, forget every session; close our own socket. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    const err = new DiscoveryError('CLOSED', 'discv5 closed')
    for (const p of [...this.pending.values()]) p.req.reject(err)
    this.waiting.clear()
    this.store.sessions.clear()
    this.store.challenges.clear()
    if (this.socket) await new Promise<void>((resolve) => this.socket!.close(() => resolve()))
  }
}

const MESSAGE_NAMES: Record<number, string> = { 1: 'PING', 2: 'PONG', 3: 'FINDNODE', 4: 'NODES', 5: 'TALKREQ', 6: 'TALKRESP' }
