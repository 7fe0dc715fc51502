/**
 * discv5 session state: established session keys per remote (node ID and UDP endpoint, so a node that
 * moves must handshake again), the challenge we sent each remote, and the records we know. All three
 * are bounded maps that forget the least recently used entry first.
 */
import type { ENR } from '../../enode/enr.js'

/** A Map that keeps at most `max` entries, forgetting the least recently used. */
export class LRU<K, V> {
  private readonly m = new Map<K, V>()
  constructor(readonly max: number) {}
  get(k: K): V | undefined {
    const v = this.m.get(k)
    if (v !== undefined) {
      this.m.delete(k)
      this.m.set(k, v)
    }
    return v
  }
  peek(k: K): V | undefined {
    return this.m.get(k)
  }
  set(k: K, v: V): void {
    this.m.delete(k)
    this.m.set(k, v)
    if (this.m.size > this.max) this.m.delete(this.m.keys().next().value as K)
  }
  delete(k: K): boolean {
    return this.m.delete(k)
  }
  get size(): number {
    return this.m.size
  }
  clear(): void {
    this.m.clear()
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
