/** An in-memory network of tables talking through TableTransport, for table and lookup tests. */
import { randomBytes } from 'node:crypto'
import { backend } from '../../src/crypto/backend.js'
import { hex } from '../../src/crypto/bytes.js'
import { Node } from '../../src/enode/node.js'
import { NodeDB } from '../../src/discover/nodedb.js'
import { lookup } from '../../src/discover/lookup.js'
import { Table, type LookupTarget, type TableOptions, type TableTransport } from '../../src/discover/table.js'
import { TIME_SCALE } from '../timing.js'

export function randomNode(ip = '127.0.0.1', port = 30303): Node {
  return new Node(new Uint8Array(randomBytes(64)), ip, port, port)
}

/**
 * A node whose ID is forced (IDs are keccak hashes, so a chosen log distance cannot be reached by
 * picking keys); only the table's use of `id`/`idHex` matters here.
 */
export function nodeWithId(id: Uint8Array, ip = '127.0.0.1', port = 30303): Node {
  return new Node(new Uint8Array(randomBytes(64)), ip, port, port, id)
}

/** a random ID at log distance `d` (1..256) from `base` */
export function idAtDistance(base: Uint8Array, d: number): Uint8Array {
  const id = new Uint8Array(randomBytes(32))
  const bit = 256 - d // index of the highest differing bit, from the left
  for (let i = 0; i < 32; i++) {
    for (let j = 0; j < 8; j++) {
      const pos = i * 8 + j
      const mask = 0x80 >> j
      if (pos < bit) id[i] = (id[i]! & ~mask) | (base[i]! & mask)
      else if (pos === bit) id[i] = (id[i]! & ~mask) | (~base[i]! & mask)
    }
  }
  return id
}

export function randomTarget(): LookupTarget {
  const key = new Uint8Array(randomBytes(64))
  return { key, id: backend.keccak256(key) }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    signal?.throwIfAborted()
    // zero latency still yields to the event loop, without the 1 ms floor of setTimeout
    const t = (ms > 0 ? setTimeout : setImmediate)(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = (): void => {
      if (ms > 0) clearTimeout(t as NodeJS.Timeout)
      else clearImmediate(t as NodeJS.Immediate)
      reject(signal!.reason)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

export class RequestTimeout extends Error {
  override readonly name = 'RequestTimeout'
}

export interface Peer {
  node: Node
  table: Table
  db: NodeDB
  alive: boolean
  /** findnode answers fail (but pings succeed) */
  findnodeBroken: boolean
  seq: bigint
}

export class FakeNet {
  readonly peers = new Map<string, Peer>()
  /** per-request latency */
  delayMs = 0
  inflight = 0
  maxInflight = 0
  findnodeCalls = 0
  pings = 0
  /** signals seen by findnode, to check cancellation */
  readonly signals: AbortSignal[] = []

  add(node: Node, opts: Partial<Omit<TableOptions, 'transport'>> = {}): Peer {
    const net = this
    const transport: TableTransport = {
      self: node,
      async ping(n, signal) {
        net.pings++
        await sleep(net.delayMs, signal)
        const remote = net.peers.get(n.idHex)
        if (!remote?.alive) throw new RequestTimeout(`ping ${n.idHex.slice(0, 8)} timed out`)
        remote.table.addVerifiedNode(node) // the pinged side completes the bond
        return { seq: remote.seq }
      },
      async findnode(n, target, signal) {
        net.findnodeCalls++
        if (signal) net.signals.push(signal)
        net.inflight++
        net.maxInflight = Math.max(net.maxInflight, net.inflight)
        try {
          await sleep(net.delayMs, signal)
          const remote = net.peers.get(n.idHex)
          if (!remote?.alive || remote.findnodeBroken) throw new RequestTimeout(`findnode ${n.idHex.slice(0, 8)} timed out`)
          remote.table.addVerifiedNode(node)
          return remote.table.closest(target.id, 16, true)
        } finally {
          net.inflight--
        }
      },
      randomTarget,
      selfTarget: () => ({ key: node.pubkey, id: node.id }),
      lookup: (target, signal) => lookup(table, target, signal ? { signal } : {}),
    }
    const db = opts.db instanceof NodeDB ? opts.db : new NodeDB()
    const table = new Table({ pingIntervalMs: 60_000, ...opts, db, transport })
    const peer: Peer = { node, table, db, alive: true, findnodeBroken: false, seq: 0n }
    this.peers.set(node.idHex, peer)
    return peer
  }

  async close(): Promise<void> {
    for (const p of this.peers.values()) {
      p.table.close()
      await p.db.close()
    }
  }
}

/** wait until `cond` holds, polling; fails after `ms` (stretched for slow backends, see test/timing.ts) */
export async function until(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms * TIME_SCALE
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(5)
  }
}
