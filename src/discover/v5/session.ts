/**
 * discv5 session state: established session keys per remote (node ID and UDP endpoint, so a node that
 * moves must handshake again), the challenge we sent each remote, and the records we know. All three
 * are bounded maps that forget the entries unused the longest first (see LRU).
 */
import type { ENR } from '../../enode/enr.js'

/**
 * A bounded map that forgets the entries unused the longest, in two generations: entries go into the
 * current one; once it holds `keep`, it becomes the previous one and the one before is forgotten; a
 * hit in the previous generation moves the entry back into the current one. So the `keep` most
 * recently used entries are always there, and never more than twice as many. A hit in the current
 * generation changes nothing, where a strict LRU deletes and inserts on every hit: at crawl rates that
 * made V8 rebuild the map's table over and over, and each rebuilt table (and each new key replacing an
 * equal one) was old-generation garbage.
 */
export class LRU<K, V> {
  private cur = new Map<K, V>()
  private prev = new Map<K, V>()
  constructor(readonly keep: number) {}
  get(k: K): V | undefined {
    const v = this.cur.get(k)
    if (v !== undefined) return v
    const old = this.prev.get(k)
    if (old !== undefined) {
      this.prev.delete(k)
      this.insert(k, old)
    }
    return old
  }
  /** the entry, without marking it used */
  peek(k: K): V | undefined {
    const v = this.cur.get(k)
    return v !== undefined ? v : this.prev.get(k)
  }
  set(k: K, v: V): void {
    const had = this.cur.get(k)
    if (had !== undefined) {
      // the same value again (a crawl meets each record many times) costs one lookup
      if (had !== v) this.cur.set(k, v)
      return
    }
    this.prev.delete(k)
    this.insert(k, v)
  }
  private insert(k: K, v: V): void {
    if (this.cur.size >= this.keep) {
      this.prev = this.cur
      this.cur = new Map()
    }
    this.cur.set(k, v)
  }
  delete(k: K): boolean {
    const a = this.cur.delete(k)
    return this.prev.delete(k) || a
  }
  get size(): number {
    return this.cur.size + this.prev.size
  }
  clear(): void {
    this.cur.clear()
    this.prev.clear()
  }
}

/** An established discv5 session with one node at one endpoint: its keys and nonce counter. */
export interface Session {
  writeKey: Uint8Array
  readKey: Uint8Array
}

/** A WHOAREYOU we sent and the answer it waits for. */
export interface Challenge {
  /** masking-iv ‖ static-header ‖ authdata of our WHOAREYOU: what the handshake signs and salts with */
  data: Uint8Array
  sentAt: number
  /** the record sequence number of the remote we knew when we asked */
  knownSeq: bigint
}

/** sessions, challenges and records, by remote */
export class SessionStore {
  readonly sessions: LRU<string, Session>
  readonly challenges: LRU<string, Challenge>
  /** records of remotes (from handshakes, NODES answers and the nodes we were asked to contact), by ID hex */
  readonly records: LRU<string, ENR>

  constructor(max: { sessions: number; challenges: number; records: number }) {
    this.sessions = new LRU(max.sessions)
    this.challenges = new LRU(max.challenges)
    this.records = new LRU(max.records)
  }

  /** the key of a remote: its ID and the endpoint it speaks from */
  static key(idHex: string, ip: string, port: number): string {
    return `${idHex}@${ip}:${port}`
  }
}
