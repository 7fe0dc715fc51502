/**
 * The discv5 walk of one node: PING (with the handshake) → its record (FINDNODE at distance 0) when
 * ours is missing or older than the one its PONG announces → its table, one log distance per
 * FINDNODE from 256 down. Two empty buckets in a row end the walk once it is as deep as the
 * network's size says tables reach; above that an empty answer may only mean the node has not yet
 * revalidated that bucket's entries (geth serves revalidated entries only). A walk that ends thin is
 * read again later (the core's late reads).
 */
import type { ENR } from '../enode/enr.js'
import { BUCKET_SIZE, logDistance } from '../discover/kademlia.js'
import type { Node } from '../enode/node.js'
import { C, errorCode, errorText, Later, Step, type WalkContext } from './context.js'
import { F, Origin, V5 } from './nodes.js'

/** discv5 FINDNODE failures after which a node's walk ends */
const V5_MAX_FAILURES = 3

/** Pings, fetches the record of and reads the table of every node over discv5. */
export class V5Walk {
  constructor(private readonly c: WalkContext) {}

  /** whether a queued step still has a purpose */
  wanted(i: number): boolean {
    const st = this.c.nodes.v5st[i]
    return !this.c.stopped() && (st === V5.queued || st === V5.active)
  }

  /** another ping is due */
  fire(i: number): void {
    const n = this.c.nodes
    if (n.v5st[i] !== V5.retrying || this.c.stopped()) return
    this.c.retrying(-1)
    n.v5st[i] = V5.queued
    this.c.push(n.origin[i] === Origin.heard ? C.retry : n.origin[i] === Origin.stored ? C.stored : C.storedDead, i * 4 + Step.v5)
    this.c.pump()
  }

  /** One FINDNODE at every distance a thin table may hold, for a table read again: what it names is crawled. */
  sendLate(i: number, item: number): void {
    const c = this.c
    const ds: number[] = []
    for (let d = 256; d >= c.settings.lowest && ds.length < BUCKET_SIZE && d > c.settledDepth() - 2; d--) ds.push(d)
    c.v5!.findnode(c.node(i), ds).then(
      (records) => {
        const now = Date.now()
        const edges = c.wantsEdges()
        let named = 0
        for (const r of records) {
          const x = r.toNode()
          if (!x) continue
          named++
          c.add(x, now, Origin.heard, 'v5', r)
          if (edges) this.edge(i, x)
        }
        c.pump()
        c.planReread(i, 1, named)
        c.ended(i, item)
      },
      () => c.ended(i, item),
    )
  }

  /** The next discv5 request of a node: a PING (with the handshake) first, then its record and its table by distance. */
  send(i: number, item: number): void {
    const n = this.c.nodes
    const node = this.c.node(i)
    const since = performance.now()
    if (n.v5st[i] === V5.queued) {
      n.v5st[i] = V5.pinging
      n.v5pings[i]!++
      this.c.v5!.ping(node).then(
        (pong) => {
          this.c.measured(i, since)
          this.answered(i, pong.enrSeq)
          this.c.ended(i, item)
        },
        (err: unknown) => {
          this.pingFailed(i, err)
          this.c.ended(i, item)
        },
      )
      return
    }
    const d = n.v5d[i]!
    this.c.v5!.findnode(node, [d]).then(
      (records) => {
        this.c.measured(i, since)
        this.nodesAnswer(i, d, records)
        this.c.ended(i, item)
      },
      (err: unknown) => {
        this.findFailed(i, d, err)
        this.c.ended(i, item)
      },
    )
  }

  private answered(i: number, enrSeq: bigint): void {
    const n = this.c.nodes
    if (n.v5st[i] !== V5.pinging || this.c.stopped()) return
    this.c.markAlive(i, F.v5answered)
    n.v5st[i] = V5.active
    // its record first when we have none or an older one than it announces
    const stale = n.enrLen[i] === 0 || enrSeq > BigInt(n.seq[i]!)
    n.v5d[i] = stale ? 0 : 256
    this.c.push(stale ? C.enr : C.table, i * 4 + Step.v5)
    if (!stale) this.c.report(i)
  }

  private pingFailed(i: number, err: unknown): void {
    const n = this.c.nodes
    if (n.v5st[i] !== V5.pinging || this.c.stopped()) return
    if (n.v5pings[i]! < (n.flags[i]! & F.answered ? this.c.settings.crossAttempts : this.c.settings.attempts)) {
      n.v5st[i] = V5.retrying
      this.c.retrying(1)
      this.c.delay(i, Later.v5retry, this.c.settings.retryDelay * 2 ** (n.v5pings[i]! - 1))
      return
    }
    if (n.flags[i]! & F.v4na) {
      n.error[i] = n.errors.code(`no answer after ${n.v5pings[i]} attempts (${errorCode(err) === 'TIMEOUT' ? 'discv5 ping timed out' : errorText(err)})`)
      this.c.nodeError(i, 'UNANSWERED', `no discv5 answer after ${n.v5pings[i]} attempts: ${errorText(err)}`)
    }
    this.done(i)
  }

  /** A NODES answer: its own record at distance 0, else the nodes of one bucket. */
  private nodesAnswer(i: number, d: number, records: ENR[]): void {
    const n = this.c.nodes
    if (n.v5st[i] !== V5.active || this.c.stopped()) return
    n.v5fails[i] = 0
    if (d === 0) {
      const own = records.find((r) => this.sameId(r.nodeId, i))
      if (own) this.c.takeRecord(i, own)
      this.c.report(i)
      n.v5d[i] = 256
      this.c.push(C.table, i * 4 + Step.v5)
      return
    }
    const now = Date.now()
    const edges = this.c.wantsEdges()
    for (const r of records) {
      const node = r.toNode()
      if (!node) continue
      this.c.add(node, now, Origin.heard, 'v5', r)
      if (edges) this.edge(i, node)
    }
    this.c.pump()
    n.neighbors[i] = Math.min(65535, n.neighbors[i]! + records.length)
    n.v5got[i] = Math.min(65535, n.v5got[i]! + records.length)
    n.v5empty[i] = records.length === 0 ? n.v5empty[i]! + 1 : 0
    // Two empty buckets in a row: the rest of the table, nearer still, is as empty — once the walk is
    // as deep as the network's size says tables reach. Above that an empty answer may only mean the
    // node has not yet checked that bucket's entries (geth serves checked entries only).
    if ((n.v5empty[i]! >= 2 && d <= this.c.settledDepth()) || d - 1 < this.c.settings.lowest) {
      this.c.planReread(i, 1, n.v5got[i]!)
      return this.done(i)
    }
    n.v5d[i] = d - 1
    this.c.push(C.table, i * 4 + Step.v5)
  }

  private findFailed(i: number, d: number, err: unknown): void {
    const n = this.c.nodes
    if (n.v5st[i] !== V5.active || this.c.stopped()) return
    if (++n.v5fails[i]! < V5_MAX_FAILURES) {
      this.c.push(C.table, i * 4 + Step.v5)
      return
    }
    if (n.error[i] === 0) n.error[i] = n.errors.code(`discv5 FINDNODE ${d === 0 ? '(record)' : ''} failed: ${errorCode(err) === 'TIMEOUT' ? 'timed out' : errorText(err)}`.replace('  ', ' '))
    this.done(i)
  }

  /** node `i` lists `x`, at the log distance between them (a node the crawl did not keep is no edge) */
  private edge(i: number, x: Node): void {
    const row = this.c.nodes.find(x.id)
    if (row >= 0) this.c.edge(i, row, logDistance(x.id, this.c.nodes.nodeId(i)))
  }

  private done(i: number): void {
    this.c.nodes.v5st[i] = V5.done
    this.c.report(i)
    this.c.complete(i)
  }

  private sameId(id: Uint8Array, i: number): boolean {
    const o = i * 32
    const a = this.c.nodes.id
    for (let k = 0; k < 32; k++) if (a[o + k] !== id[k]) return false
    return true
  }
}
