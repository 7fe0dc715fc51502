/**
 * The discv4 walk of one node: ping (bond) → its own ping back (it now holds our pong, so it will
 * answer) → ENRRequest and, alongside, the table read.
 *
 * The table read asks FINDNODE for a target at log distance d = 256, 255, … from the node: a
 * geth-shaped table answers with exactly bucket d when that bucket is full, or with bucket d plus the
 * closest entries below it, so the walk stops as soon as an answer holds fewer than 16 entries at
 * distance ≤ d (everything below was in it), or after three answers with nothing new. Tables that are
 * not shaped like geth's (bigger buckets) show it when a second probe of the nearest full bucket,
 * with another preimage, brings new nodes; then the full buckets are probed again until they bring
 * nothing new. geth serves only entries it has revalidated: a read that ends thin is read again later
 * (the core's late reads).
 *
 * Lost datagrams are retried: a node is unanswered only after `attempts` pings spread over seconds;
 * an ENRRequest that times out is asked again at once, then after bonding again, and a FINDNODE after
 * bonding again (the node may have missed our pong).
 */
import type { NeighborsAnswer } from '../discover/udp-options.js'
import { BUCKET_SIZE, logDistance } from '../discover/kademlia.js'
import type { Node } from '../enode/node.js'
import { C, errorCode, errorText, Later, Step, type WalkContext } from './context.js'
import { F, Origin, State } from './nodes.js'

/** consecutive answers without anything new after which a table is taken as read */
const STALE_ANSWERS = 3
/** FINDNODE failures after which a node's table is given up (geth drops a node after 5) */
const MAX_FINDNODE_FAILURES = 5

/** one table read in progress */
interface Read {
  /** rows this table gave us */
  seen: Set<number>
  /** full buckets seen, by distance */
  full: number[]
  d: number
  target: Uint8Array
  stale: number
  /** reprobing the full buckets: index into `full` (nearest first), probe number, whether it grew */
  reprobe: boolean
  fi: number
  k: number
  grew: boolean
  /** retries of the current target: after an incomplete answer, after a timeout */
  partial: number
  tries: number
}

/** Bonds with, fetches the record of and reads the table of every node over discv4. */
export class V4Walk {
  private readonly reads = new Map<number, Read>()
  /** answered nodes waiting for a table-read slot */
  private readonly readQueue: number[] = []
  private readQueueHead = 0

  constructor(private readonly c: WalkContext) {}

  /** nodes waiting for a table-read slot */
  get waitingReads(): number {
    return this.readQueue.length - this.readQueueHead
  }

  /** whether a queued step (ping, record, table) still has a purpose */
  wanted(i: number, step: number): boolean {
    const n = this.c.nodes
    const st = n.state[i]!
    if (st === State.done || this.c.stopped()) return false
    const fl = n.flags[i]!
    switch (step) {
      case Step.ping:
        if (!(fl & F.answered)) return st === State.queued
        // a bonding round of an answered node (not once its pong is in and its ping awaited)
        return (fl & F.bonding) !== 0 && (fl & F.bondWait) === 0
      case Step.enr:
        return (fl & F.enrDone) === 0
      default:
        if (fl & F.walkDone) return false
        // a read begins only when there is room for it; otherwise it waits its turn
        if (!this.reads.has(i) && this.reads.size >= this.c.settings.maxReads) {
          this.readQueue.push(i)
          return false
        }
        return true
    }
  }

  /** send the step the schedule took */
  send(i: number, item: number, step: number): void {
    if (step === Step.ping) this.sendPing(i, item)
    else if (step === Step.enr) this.sendENR(i, item)
    else this.sendFindnode(i, item)
  }

  /** a delayed event of node `i`: another ping, or the end of a wait for its ping back */
  fire(i: number, kind: number, gen: number): void {
    const n = this.c.nodes
    if (n.gen[i] !== (gen & 0xffff) || n.state[i] === State.done || this.c.stopped()) return
    if (kind === Later.retry) {
      this.c.retrying(-1)
      n.state[i] = State.queued
      this.c.push(n.origin[i] === Origin.heard ? C.retry : n.origin[i] === Origin.stored ? C.stored : C.storedDead, i * 4 + Step.ping)
    } else if (n.flags[i]! & F.bondWait) {
      // it did not ping back: it may hold our pong from before; ask anyway
      this.bonded(i)
    }
    this.c.pump()
  }

  /** One FINDNODE far from the node, whose thin table is read again: what it names is crawled. */
  sendLate(i: number, item: number): void {
    const c = this.c
    const target = c.targets.targetAt(c.nodes.nodeId(i), 256)
    c.transport.neighbors(c.node(i), { key: target, id: c.backend.keccak256(target) }, { timeoutMs: c.timeout(i), bond: false }).then(
      (a) => {
        const now = Date.now()
        const edges = c.wantsEdges()
        const self = c.nodes.nodeId(i)
        for (const x of a.nodes) {
          c.add(x, now, Origin.heard, 'v4')
          if (edges) this.edge(i, x, logDistance(x.id, self))
        }
        c.pump()
        c.planReread(i, 0, a.nodes.length)
        c.ended(i, item)
      },
      () => c.ended(i, item),
    )
  }

  /** node `i` lists `x` at distance `ld` (a node the crawl did not keep is no edge) */
  private edge(i: number, x: Node, ld: number): void {
    const row = this.c.nodes.find(x.id)
    if (row >= 0) this.c.edge(i, row, ld)
  }

  /** the node's discv4 part ends: its table read, if any, with it */
  dropRead(i: number): void {
    if (this.reads.delete(i)) this.c.nodes.flags[i]! |= F.walkDone
  }

  private sendPing(i: number, item: number): void {
    const n = this.c.nodes
    const first = !(n.flags[i]! & F.answered)
    if (first) {
      n.state[i] = State.pinging
      n.pings[i]!++
      n.flags[i]! |= F.bonding
    } else {
      // bonding again: its next ping says it has our fresh pong
      n.flags[i]! &= ~F.pingedUs
    }
    const since = performance.now()
    this.c.transport.ping(this.c.node(i), { timeoutMs: this.c.timeout(i), bond: false }).then(
      () => {
        this.c.measured(i, since)
        this.answered(i)
        this.c.ended(i, item)
      },
      (err: unknown) => {
        this.pingFailed(i, err)
        this.c.ended(i, item)
      },
    )
  }

  /** a pong, or the node's own ping: it is alive */
  private answered(i: number): void {
    const n = this.c.nodes
    if (n.state[i] === State.done) return
    n.lastSeen[i] = Date.now()
    if (!(n.flags[i]! & F.answered)) {
      this.c.markAlive(i, F.answered)
      if (n.state[i] === State.retrying) {
        this.c.retrying(-1)
        n.gen[i] = (n.gen[i]! + 1) & 0xffff
      }
      n.state[i] = State.active
      n.flags[i]! |= F.bonding
    }
    if (!(n.flags[i]! & F.bonding) || n.flags[i]! & F.bondWait) return
    if (n.flags[i]! & F.pingedUs) return this.bonded(i)
    // Its ping follows its pong at once, but a busy peer may take a while to send it, and asking
    // before our pong to it arrived gets nothing. A node that does not ping back (it holds our pong
    // from before) only waits here: no datagram or slot is spent.
    const rtt = n.rtt[i]! - 1
    n.flags[i]! |= F.bondWait
    this.c.delay(i, Later.bondWait, Math.min(this.c.settings.baseTimeout, Math.max(100, rtt)))
  }

  private pingFailed(i: number, err: unknown): void {
    const n = this.c.nodes
    if (n.state[i] === State.done || this.c.stopped()) return
    if (n.flags[i]! & F.answered) {
      // a bonding round of an answered node went unanswered: the retried request will tell
      if (n.flags[i]! & F.bonding && !(n.flags[i]! & F.bondWait)) this.bonded(i)
      return
    }
    if (n.state[i] !== State.pinging) return
    const alive = this.c.alive(i)
    if (n.pings[i]! < (alive ? this.c.settings.crossAttempts : this.c.settings.attempts)) {
      n.state[i] = State.retrying
      this.c.retrying(1)
      this.c.delay(i, Later.retry, this.c.settings.retryDelay * 2 ** (n.pings[i]! - 1))
      return
    }
    // alive over discv5: it does not speak discv4, which its record's `protocols` says
    if (!alive) {
      n.error[i] = n.errors.code(`no answer after ${n.pings[i]} attempts (${errorCode(err) === 'TIMEOUT' ? 'ping timed out' : errorText(err)})`)
      this.c.nodeError(i, 'UNANSWERED', `no answer after ${n.pings[i]} attempts: ${errorText(err)}`)
    }
    this.c.finish(i)
  }

  /** the node pinged us: it is alive, and it holds our pong (the transport answered at once) */
  theirPing(from: Node): void {
    const i = this.c.nodes.findByPubkey(from.pubkey)
    if (i < 0 || this.c.nodes.ip(i) !== from.ip) return
    const n = this.c.nodes
    n.flags[i]! |= F.pingedUs
    if (n.state[i] === State.done || this.c.stopped()) return
    if (!(n.flags[i]! & F.answered)) {
      // its own ping answers for it (our pong to it may be what got lost)
      this.answered(i)
    } else if (n.flags[i]! & F.bondWait) {
      this.bonded(i)
    }
    this.c.pump()
  }

  /** Bonded (both sides hold a pong): send the record request and the table read, or resume them. */
  private bonded(i: number): void {
    const n = this.c.nodes
    n.flags[i]! &= ~(F.bonding | F.bondWait)
    n.gen[i] = (n.gen[i]! + 1) & 0xffff
    const fl = n.flags[i]!
    if (!(fl & F.enrDone) && (!(fl & F.enrBusy) || fl & F.enrWaits)) {
      n.flags[i] = (n.flags[i]! | F.enrBusy) & ~F.enrWaits
      this.c.push(C.enr, i * 4 + Step.enr)
    }
    if (!(fl & F.walkDone) && (!(fl & F.walkBusy) || fl & F.walkWaits)) {
      n.flags[i] = (n.flags[i]! | F.walkBusy) & ~F.walkWaits
      this.c.push(C.table, i * 4 + Step.findnode)
    }
  }

  /** A request to an answered node timed out: bond again (it may have missed our pong), then retry. */
  private rebond(i: number, waits: number): void {
    const n = this.c.nodes
    n.flags[i]! |= waits
    if (n.flags[i]! & F.bonding) return
    n.flags[i]! |= F.bonding
    this.c.push(C.bond, i * 4 + Step.ping)
  }

  private sendENR(i: number, item: number): void {
    const since = performance.now()
    this.c.transport.enrRequest(this.c.node(i), { timeoutMs: this.c.timeout(i), bond: false }).then(
      (r) => {
        this.c.measured(i, since)
        this.c.takeRecord(i, r)
        this.enrDone(i)
        this.c.ended(i, item)
      },
      (err: unknown) => {
        this.enrFailed(i, err)
        this.c.ended(i, item)
      },
    )
  }

  private enrFailed(i: number, err: unknown): void {
    const n = this.c.nodes
    if (n.state[i] === State.done || this.c.stopped()) return
    const code = errorCode(err)
    if (code === 'TIMEOUT' && ++n.enrFails[i]! < this.c.settings.enrAttempts) {
      // The node holds our pong for a day: a first silence is a lost datagram more often than a lost
      // bond, so ask again at once; after that, bond again first.
      if (n.enrFails[i] === 1) return this.c.push(C.enr, i * 4 + Step.enr)
      return this.rebond(i, F.enrWaits)
    }
    // it answered the ping but not the ENRRequest (pre-EIP-868 clients), or sent a bad record: still a live node
    const msg = `ENRRequest failed: ${code === 'TIMEOUT' ? 'timed out' : errorText(err)}`
    n.error[i] = n.errors.code(msg)
    this.c.nodeError(i, code === 'BAD_RECORD' ? 'BAD_RECORD' : 'ENR_FAILED', msg)
    this.enrDone(i)
  }

  private enrDone(i: number): void {
    const n = this.c.nodes
    n.flags[i] = (n.flags[i]! | F.enrDone) & ~(F.enrBusy | F.enrWaits)
    if (n.state[i] !== State.done) this.c.report(i)
  }

  private sendFindnode(i: number, item: number): void {
    let r = this.reads.get(i)
    if (!r) {
      r = { seen: new Set(), full: [], d: 256, target: this.c.targets.targetAt(this.c.nodes.nodeId(i), 256), stale: 0, reprobe: false, fi: 0, k: 1, grew: false, partial: 0, tries: 0 }
      this.reads.set(i, r)
    }
    const read = r
    const target = read.target
    this.c.transport.neighbors(this.c.node(i), { key: target, id: this.c.backend.keccak256(target) }, { timeoutMs: this.c.timeout(i), bond: false }).then(
      (a) => {
        // no round trip from NEIGHBORS: they echo nothing, so a late answer to an earlier FINDNODE
        // would pass for a fast answer to this one (pongs and ENR responses name their request)
        this.neighborsAnswer(i, read, a)
        this.c.ended(i, item)
      },
      (err: unknown) => {
        this.findnodeFailed(i, read, err)
        this.c.ended(i, item)
      },
    )
  }

  private neighborsAnswer(i: number, r: Read, a: NeighborsAnswer): void {
    const n = this.c.nodes
    if (n.state[i] === State.done || this.c.stopped()) return
    n.lastSeen[i] = Date.now()
    const self = n.nodeId(i)
    let fresh = 0
    let within = 0
    let atD = 0
    const now = Date.now()
    const edges = this.c.wantsEdges()
    for (const x of a.nodes) {
      // a kept node's ID is stored: no keccak of its key
      const row = this.c.add(x, now, Origin.heard, 'v4')
      // read in place from the packed IDs: no view made per entry
      const ld = row >= 0 ? logDistance(n.id, self, row * 32) : logDistance(x.id, self)
      if (ld <= r.d) within++
      if (ld === r.d) atD++
      if (edges && row >= 0) this.c.edge(i, row, ld)
      if (row >= 0 && !r.seen.has(row)) {
        r.seen.add(row)
        fresh++
      }
    }
    this.c.pump()
    n.neighbors[i] = Math.min(65535, r.seen.size)
    r.tries = 0
    // the rest of a split answer was lost: ask the same once more
    if (!a.complete && r.partial < 1) {
      r.partial++
      return this.ask(i)
    }
    r.partial = 0
    if (!r.reprobe) {
      if (atD >= BUCKET_SIZE) r.full.push(r.d)
      r.stale = fresh === 0 ? r.stale + 1 : 0
      // fewer than 16 at ≤ d: every entry at ≤ d was in this answer
      const end = a.nodes.length < BUCKET_SIZE || within < BUCKET_SIZE || r.stale >= STALE_ANSWERS || r.d <= this.c.settings.lowest
      if (!end) {
        r.d--
        r.target = this.c.targets.targetAt(self, r.d)
        return this.ask(i)
      }
      // nearest full bucket first: a geth table answers it the same way twice and we stop there
      r.reprobe = true
      r.full.reverse()
      r.fi = 0
      r.k = 1
      r.grew = false
    } else if (fresh === 0) {
      if (!r.grew) return this.walkDone(i, r.seen.size)
      r.fi++
      r.k = 1
      r.grew = false
    } else {
      r.grew = true
      r.k++
    }
    this.nextProbe(i, r)
  }

  /** the next reprobe of a full bucket, or the end of the read */
  private nextProbe(i: number, r: Read): void {
    const id = this.c.nodes.nodeId(i)
    while (r.fi < r.full.length) {
      const target = r.k <= this.c.settings.reprobes ? this.variant(id, r.full[r.fi]!, r.k) : undefined
      if (target) {
        r.d = r.full[r.fi]!
        r.target = target
        return this.ask(i)
      }
      if (!r.grew) break
      r.fi++
      r.k = 1
      r.grew = false
    }
    this.walkDone(i, r.seen.size)
  }

  private ask(i: number): void {
    this.c.push(C.table, i * 4 + Step.findnode)
  }

  private findnodeFailed(i: number, r: Read, err: unknown): void {
    const n = this.c.nodes
    if (n.state[i] === State.done || this.c.stopped()) return
    const timeout = errorCode(err) === 'TIMEOUT'
    if (timeout && ++r.tries < this.c.settings.findnodeAttempts && ++n.fnFails[i]! < MAX_FINDNODE_FAILURES) return this.rebond(i, F.walkWaits)
    const msg = `FINDNODE failed: ${timeout ? 'timed out' : errorText(err)}`
    n.error[i] = n.errors.code(msg)
    this.c.nodeError(i, 'FINDNODE_FAILED', msg)
    this.walkDone(i)
  }

  /** The table read ended: read through (with the distinct nodes it `served`) or given up. */
  private walkDone(i: number, served?: number): void {
    const n = this.c.nodes
    n.flags[i] = (n.flags[i]! | F.walkDone) & ~(F.walkBusy | F.walkWaits)
    if (this.reads.delete(i)) this.pullRead()
    if (served !== undefined) this.c.planReread(i, 0, served)
  }

  /** Give a free read slot to the longest-waiting node; false when nobody waits. */
  pullRead(): boolean {
    const n = this.c.nodes
    while (this.readQueueHead < this.readQueue.length) {
      const next = this.readQueue[this.readQueueHead++]!
      if (this.readQueueHead > 4096 && this.readQueueHead * 2 > this.readQueue.length) {
        this.readQueue.splice(0, this.readQueueHead)
        this.readQueueHead = 0
      }
      if (n.state[next] !== State.done && !(n.flags[next]! & F.walkDone)) {
        this.c.push(C.table, next * 4 + Step.findnode)
        this.c.pump()
        return true
      }
    }
    return false
  }

  /**
   * Another target at distance `d` from `id`: flip prefix bits below the first differing one, so the
   * target stays in the same bucket but sorts its entries differently. None when no bit is free.
   */
  private variant(id: Uint8Array, d: number, k: number): Uint8Array | undefined {
    const bit = 15 - (256 - d)
    if (k > bit) return undefined
    // flipping the highest free bit first puts the other half of the bucket in front; the bits below
    // the flipped one are free
    const prefix = ((id[0]! << 8) | id[1]!) ^ (1 << bit) ^ (1 << (bit - k))
    return this.c.targets.withPrefix(prefix >>> (bit - k), 16 - (bit - k))
  }
}
