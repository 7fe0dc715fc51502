/**
 * The crawl's per-node state, packed: every node found is a row of typed arrays (public key, ID,
 * endpoint, counters, times), its signed record sits in one shared byte arena, and its strings
 * (network, fork, error texts) are small codes into interned tables. A crawl of 100,000 nodes then
 * costs a few hundred bytes a node instead of a handful of objects, closures and timers each.
 *
 * IDs are looked up in an open-addressing hash table over the ID bytes themselves (node IDs are
 * keccak hashes, so their first four bytes are already a uniform hash).
 */
import { randomBytes } from 'node:crypto'
import type { ConsensusInfo } from '../eth/consensus.js'
import { ipv4Text, parseIP, parseIPInto } from '../util/netutil.js'

/** record fields beyond the endpoint: the consensus entries, a client entry, IPv6 and QUIC */
export interface RecordExtras {
  consensus?: ConsensusInfo
  client?: string
  ip6?: string
  udp6?: number
  quic?: number
  quic6?: number
}

/**
 * A public key's slot hash: FNV-1a over all 64 bytes from a seed drawn per process. Public keys, unlike
 * IDs, are the sender's to choose, so a hash of a few fixed bytes would let a peer fill one probe chain.
 */
const PUB_SEED = randomBytes(4).readUInt32LE(0)
function pubHash(pub: Uint8Array): number {
  let h = (0x811c9dc5 ^ PUB_SEED) >>> 0
  for (let k = 0; k < 64; k++) h = Math.imul(h ^ pub[k]!, 0x01000193)
  return h >>> 0
}

/** scratch for setIP: an address is parsed and packed at once */
const IP_BYTES = new Uint8Array(16)

/** per-node flag bits */
export const F = {
  /** answered a ping (or pinged us) during this crawl */
  answered: 1,
  /** pinged us since our last bonding ping: it holds our pong, so it answers FINDNODE and ENRRequest */
  pingedUs: 2,
  /** the record was fetched or given up on */
  enrDone: 4,
  /** the table read ended (read, or given up) */
  walkDone: 8,
  /** a bonding ping (first contact or after a lost reply) is queued or in flight */
  bonding: 16,
  /** an ENRRequest waits for the bond */
  enrWaits: 32,
  /** the next FINDNODE waits for the bond */
  walkWaits: 64,
  /** the record has an `eth2` entry */
  eth2: 128,
  /** the record was handed to `onNode` */
  reported: 256,
  /** an ENRRequest is queued or in flight */
  enrBusy: 512,
  /** a FINDNODE is queued or in flight */
  walkBusy: 1024,
  /** the address is IPv6 (kept in a side map) */
  ipv6: 2048,
  /** waiting after the pong for the node's own ping */
  bondWait: 4096,
  /** not crawled over discv4 (heard of over discv5 only) */
  v4na: 8192,
  /** its record was reported (the node is complete) */
  complete: 16384,
  /** answered over discv5 */
  v5answered: 32768,
  /** the record has an `eth` entry (an execution client) */
  eth: 65536,
  /** a late read of its thin discv4 table is due (see the crawler's `rereads`) */
  late4: 131072,
  /** a late read of its thin discv5 table is due */
  late5: 262144,
} as const

/** a node's discv5 walk */
export const V5 = {
  /** not crawled over discv5 */
  none: 0,
  queued: 1,
  pinging: 2,
  retrying: 3,
  /** answered: its record and table are being read */
  active: 4,
  done: 5,
} as const

/** where a node came from: decides its place in the schedule */
export const Origin = {
  /** heard of in this crawl (a table, a seed, a DNS tree) */
  heard: 0,
  /** from an earlier crawl, where it answered */
  stored: 1,
  /** from an earlier crawl, where it did not answer: checked last */
  storedDead: 2,
} as const

/** life cycle */
export const State = {
  /** waiting for its first or next ping */
  queued: 0,
  /** a ping is in flight */
  pinging: 1,
  /** waiting to ping again */
  retrying: 2,
  /** answered: its record and table are being read */
  active: 3,
  /** reported */
  done: 4,
} as const

type Typed = Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array

function grown<T extends Typed>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n)
  b.set(a)
  return b
}

/** Interned strings: a code per distinct text, bounded (past the bound, one catch-all code). */
export class Interner {
  private readonly codes = new Map<string, number>()
  private readonly texts: string[] = ['']
  constructor(
    private readonly max: number,
    private readonly overflow: string,
  ) {}
  code(s: string): number {
    const c = this.codes.get(s)
    if (c !== undefined) return c
    if (this.texts.length >= this.max) return this.codeOverflow()
    this.texts.push(s)
    this.codes.set(s, this.texts.length - 1)
    return this.texts.length - 1
  }
  private codeOverflow(): number {
    let c = this.codes.get(this.overflow)
    if (c === undefined) {
      this.texts.push(this.overflow)
      c = this.texts.length - 1
      this.codes.set(this.overflow, c)
    }
    return c
  }
  /** the text of `c`; code 0 is "none" */
  text(c: number): string | undefined {
    return c === 0 ? undefined : this.texts[c]
  }
}

/** Every node a crawl knows of, as columns of packed typed arrays indexed by a small integer (about 1 KB a node in all), with its record in an arena. */
export class CrawlNodes {
  size = 0
  private cap: number
  pub: Uint8Array
  id: Uint8Array
  ip4: Uint32Array
  udp: Uint16Array
  tcp: Uint16Array
  state: Uint8Array
  origin: Uint8Array
  flags: Uint32Array
  /** discv5: walk state, pings, next distance (0: its record), empty answers in a row, failures */
  v5st: Uint8Array
  v5pings: Uint8Array
  v5d: Uint16Array
  v5empty: Uint8Array
  v5fails: Uint8Array
  /** records its discv5 table gave in the walk under way */
  v5got: Uint16Array
  /** ping attempts made without an answer (the record's `attempts` once it answers or gives up) */
  pings: Uint8Array
  enrFails: Uint8Array
  fnFails: Uint8Array
  /** requests in flight to the node */
  out: Uint8Array
  /** bumped to cancel the node's delayed events */
  gen: Uint16Array
  /** lowest round trip measured, ms + 1 (0: none yet) */
  rtt: Uint16Array
  /** distinct nodes its table gave us */
  neighbors: Uint16Array
  firstSeen: Float64Array
  lastSeen: Float64Array
  seq: Float64Array
  enrOff: Uint32Array
  enrLen: Uint16Array
  network: Uint8Array
  fork: Uint8Array
  error: Uint16Array
  private arena = new Uint8Array(1 << 16)
  private arenaUsed = 0
  private slots: Int32Array
  /** the same rows by public key: a node listed again is found without hashing its key into an ID */
  private pubSlots: Int32Array
  private readonly ip6 = new Map<number, string>()
  private readonly recordEndpoint = new Map<number, { ip: string; udp: number; tcp: number }>()
  readonly networks = new Interner(250, 'other')
  readonly forks = new Interner(250, 'other')
  readonly errors = new Interner(4000, 'other error')

  constructor(initial = 1024) {
    const n = Math.max(16, initial)
    this.cap = n
    this.pub = new Uint8Array(n * 64)
    this.id = new Uint8Array(n * 32)
    this.ip4 = new Uint32Array(n)
    this.udp = new Uint16Array(n)
    this.tcp = new Uint16Array(n)
    this.state = new Uint8Array(n)
    this.origin = new Uint8Array(n)
    this.flags = new Uint32Array(n)
    this.v5st = new Uint8Array(n)
    this.v5pings = new Uint8Array(n)
    this.v5d = new Uint16Array(n)
    this.v5empty = new Uint8Array(n)
    this.v5fails = new Uint8Array(n)
    this.v5got = new Uint16Array(n)
    this.pings = new Uint8Array(n)
    this.enrFails = new Uint8Array(n)
    this.fnFails = new Uint8Array(n)
    this.out = new Uint8Array(n)
    this.gen = new Uint16Array(n)
    this.rtt = new Uint16Array(n)
    this.neighbors = new Uint16Array(n)
    this.firstSeen = new Float64Array(n)
    this.lastSeen = new Float64Array(n)
    this.seq = new Float64Array(n)
    this.enrOff = new Uint32Array(n)
    this.enrLen = new Uint16Array(n)
    this.network = new Uint8Array(n)
    this.fork = new Uint8Array(n)
    this.error = new Uint16Array(n)
    this.slots = new Int32Array(n * 2).fill(-1)
    this.pubSlots = new Int32Array(n * 2).fill(-1)
  }

  /** row of the node with this 32-byte ID, or -1 */
  find(id: Uint8Array): number {
    const mask = this.slots.length - 1
    for (let s = this.hash(id) & mask; ; s = (s + 1) & mask) {
      const i = this.slots[s]!
      if (i < 0 || this.idEquals(i, id)) return i
    }
  }

  /** row of the node with this 64-byte public key, or -1 */
  findByPubkey(pub: Uint8Array): number {
    const mask = this.pubSlots.length - 1
    for (let s = pubHash(pub) & mask; ; s = (s + 1) & mask) {
      const i = this.pubSlots[s]!
      if (i < 0 || this.pubEquals(i, pub)) return i
    }
  }

  /** Add a node (the caller checked it is new); returns its row. */
  add(pub: Uint8Array, id: Uint8Array, ip: string, udp: number, tcp: number, origin: number, firstSeen: number): number {
    if (this.size === this.cap) this.grow()
    const i = this.size++
    this.pub.set(pub, i * 64)
    this.id.set(id, i * 32)
    this.setIP(i, ip)
    this.udp[i] = udp
    this.tcp[i] = tcp
    this.origin[i] = origin
    this.firstSeen[i] = firstSeen
    this.lastSeen[i] = firstSeen
    if ((this.size << 1) > this.slots.length) this.rehash()
    else this.insertSlot(i)
    return i
  }

  private setIP(i: number, ip: string): void {
    const b = IP_BYTES
    // 16 bytes, IPv4 as ::ffff:a.b.c.d
    if (parseIPInto(ip, b) && b[10] === 0xff && b[11] === 0xff && b.subarray(0, 10).every((x) => x === 0)) {
      this.ip4[i] = ((b[12]! << 24) | (b[13]! << 16) | (b[14]! << 8) | b[15]!) >>> 0
      this.flags[i]! &= ~F.ipv6
    } else {
      this.ip6.set(i, ip)
      this.flags[i]! |= F.ipv6
    }
  }

  ip(i: number): string {
    if (this.flags[i]! & F.ipv6) return this.ip6.get(i)!
    return ipv4Text(this.ip4[i]!)
  }

  /**
   * Politeness keys: the IP, and its network (/24 for IPv4, /48 for IPv6). IPv4 keys are the address
   * (below 2^32) and its /24 (2^32 and up); IPv6 ones are negative, from their textual prefix.
   */
  ipKey(i: number): number {
    if (!(this.flags[i]! & F.ipv6)) return this.ip4[i]!
    return -1 - this.v6Key(this.ip6.get(i)!, 16)
  }

  netKey(i: number): number {
    if (!(this.flags[i]! & F.ipv6)) return 2 ** 32 + (this.ip4[i]! >>> 8)
    return -1 - this.v6Key(this.ip6.get(i)!, 6)
  }

  /** IPv6 addresses and prefixes as small integers: one per distinct key, so bounded by the nodes */
  private readonly v6Keys = new Map<string, number>()
  private v6Key(ip: string, bytes: number): number {
    const b = parseIP(ip)
    const k = b ? `${bytes}:${Buffer.from(b.subarray(0, bytes)).toString('hex')}` : ip
    let v = this.v6Keys.get(k)
    if (v === undefined) {
      v = this.v6Keys.size
      this.v6Keys.set(k, v)
    }
    return v
  }

  pubkey(i: number): Uint8Array {
    return this.pub.subarray(i * 64, i * 64 + 64)
  }

  nodeId(i: number): Uint8Array {
    return this.id.subarray(i * 32, i * 32 + 32)
  }

  /** Keep the node's signed record. */
  setRecord(i: number, raw: Uint8Array): void {
    if (this.arenaUsed + raw.length > this.arena.length) {
      let n = this.arena.length * 2
      while (this.arenaUsed + raw.length > n) n *= 2
      this.arena = grown(this.arena, n)
    }
    this.arena.set(raw, this.arenaUsed)
    this.enrOff[i] = this.arenaUsed
    this.enrLen[i] = raw.length
    this.arenaUsed += raw.length
  }

  record(i: number): Uint8Array | undefined {
    const n = this.enrLen[i]!
    if (n === 0) return undefined
    const o = this.enrOff[i]!
    return this.arena.subarray(o, o + n)
  }

  /** the endpoint the node's record announces, when it differs from the one we reached */
  setRecordEndpoint(i: number, ep: { ip: string; udp: number; tcp: number }): void {
    this.recordEndpoint.set(i, ep)
  }

  announced(i: number): { ip: string; udp: number; tcp: number } | undefined {
    return this.recordEndpoint.get(i)
  }

  /** what a consensus node's record says (kept for nodes with an eth2 entry only) */
  private readonly consensus = new Map<number, RecordExtras>()
  setExtras(i: number, x: RecordExtras): void {
    this.consensus.set(i, x)
  }
  extras(i: number): RecordExtras | undefined {
    return this.consensus.get(i)
  }

  private hash(id: Uint8Array): number {
    return ((id[0]! << 24) | (id[1]! << 16) | (id[2]! << 8) | id[3]!) >>> 0
  }

  private idEquals(i: number, id: Uint8Array): boolean {
    const o = i * 32
    const a = this.id
    for (let k = 0; k < 32; k++) if (a[o + k] !== id[k]) return false
    return true
  }

  private pubEquals(i: number, pub: Uint8Array): boolean {
    const o = i * 64
    const a = this.pub
    for (let k = 0; k < 64; k++) if (a[o + k] !== pub[k]) return false
    return true
  }

  private insertSlot(i: number): void {
    const mask = this.slots.length - 1
    let s = this.hash(this.nodeId(i)) & mask
    while (this.slots[s]! >= 0) s = (s + 1) & mask
    this.slots[s] = i
    let p = pubHash(this.pub.subarray(i * 64, i * 64 + 64)) & mask
    while (this.pubSlots[p]! >= 0) p = (p + 1) & mask
    this.pubSlots[p] = i
  }

  private rehash(): void {
    this.slots = new Int32Array(this.slots.length * 2).fill(-1)
    this.pubSlots = new Int32Array(this.slots.length).fill(-1)
    for (let i = 0; i < this.size; i++) this.insertSlot(i)
  }

  private grow(): void {
    const n = this.cap * 2
    this.pub = grown(this.pub, n * 64)
    this.id = grown(this.id, n * 32)
    this.ip4 = grown(this.ip4, n)
    this.udp = grown(this.udp, n)
    this.tcp = grown(this.tcp, n)
    this.state = grown(this.state, n)
    this.origin = grown(this.origin, n)
    this.flags = grown(this.flags, n)
    this.v5st = grown(this.v5st, n)
    this.v5pings = grown(this.v5pings, n)
    this.v5d = grown(this.v5d, n)
    this.v5empty = grown(this.v5empty, n)
    this.v5fails = grown(this.v5fails, n)
    this.v5got = grown(this.v5got, n)
    this.pings = grown(this.pings, n)
    this.enrFails = grown(this.enrFails, n)
    this.fnFails = grown(this.fnFails, n)
    this.out = grown(this.out, n)
    this.gen = grown(this.gen, n)
    this.rtt = grown(this.rtt, n)
    this.neighbors = grown(this.neighbors, n)
    this.firstSeen = grown(this.firstSeen, n)
    this.lastSeen = grown(this.lastSeen, n)
    this.seq = grown(this.seq, n)
    this.enrOff = grown(this.enrOff, n)
    this.enrLen = grown(this.enrLen, n)
    this.network = grown(this.network, n)
    this.fork = grown(this.fork, n)
    this.error = grown(this.error, n)
    this.cap = n
  }
}
