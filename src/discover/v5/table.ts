/**
 * discv5's routing table: the same Kademlia core as discv4's (discover/table.ts: buckets of 16,
 * replacements, /24 limits, revalidation, refresh; discover/lookup.ts: iterative lookups, alpha 3),
 * driven through discv5 instead. FINDNODE asks by distance rather than by target, so a lookup step
 * towards a target asks for the log distance of the target from the node and its two neighbours, as
 * geth does. Nodes that complete a handshake with us enter as verified; nodes listed in answers as
 * seen. FINDNODE from peers is served from the table's entries at the asked distances.
 */
import { randomBytes } from 'node:crypto'
import { hex } from '../../crypto/bytes.js'
import { ENR } from '../../enode/enr.js'
import type { Node } from '../../enode/node.js'
import { logDistance } from '../kademlia.js'
import { lookup } from '../lookup.js'
import { NodeDB } from '../nodedb.js'
import { Table, type LookupTarget, type TableTransport } from '../table.js'
import type { Discv5 } from './udp.js'

/** the distances one lookup step asks for: the target's from the node, and its neighbours */
export function lookupDistances(target: Uint8Array, node: Uint8Array): number[] {
  const td = logDistance(target, node)
  return [td, td + 1, td - 1].filter((d) => d >= 1 && d <= 256)
}

/** The table's view of discv5. */
export class V5TableTransport implements TableTransport {
  /** the table this transport drives, set by {@link v5Table} once both exist; refresh lookups walk it */
  table: Table | undefined
  constructor(
    private readonly v5: Discv5,
    readonly self: Node,
  ) {}

  async ping(n: Node, signal?: AbortSignal): Promise<{ seq?: bigint }> {
    const p = await this.v5.ping(n, signal)
    return { seq: p.enrSeq }
  }

  async findnode(n: Node, target: LookupTarget, signal?: AbortSignal): Promise<Node[]> {
    const records = await this.v5.findnode(n, lookupDistances(target.id, n.id), signal)
    return records.flatMap((r) => r.toNode() ?? [])
  }

  randomTarget(): LookupTarget {
    const id = new Uint8Array(randomBytes(32))
    return { key: id, id }
  }

  selfTarget(): LookupTarget {
    return { key: this.self.id, id: this.self.id }
  }

  async requestENR(n: Node, signal?: AbortSignal): Promise<{ node: Node; seq: bigint }> {
    const r = await this.v5.requestENR(n, signal)
    return { node: r.toNode() ?? n, seq: r.seq }
  }

  lookup(target: LookupTarget, signal?: AbortSignal): Promise<Node[]> {
    if (!this.table) return Promise.reject(new RangeError('no table attached to this transport'))
    return lookup(this.table, target, signal ? { signal } : {})
  }
}

/** Options of {@link v5Table}. */
export interface V5TableOptions {
  /** records, or nodes (public key and endpoint) that speak discv5 */
  bootnodes?: (ENR | Node)[]
  pingIntervalMs?: number
  refreshIntervalMs?: number
  ipLimitsOnLAN?: boolean
}

/**
 * A discv5 table over `v5`: fed by handshakes and answers, serving FINDNODE. Call `start()`; the
 * table closes with `close()` (the transport is the caller's).
 */
export function v5Table(v5: Discv5, self: Node, opts: V5TableOptions = {}): Table {
  const transport = new V5TableTransport(v5, self)
  const table = new Table({
    transport,
    // a table of its own kind: its seeds are not discv4's
    db: new NodeDB(),
    bootnodes: (opts.bootnodes ?? []).flatMap((r) => (r instanceof ENR ? (r.toNode() ?? []) : [r])),
    ...(opts.pingIntervalMs !== undefined ? { pingIntervalMs: opts.pingIntervalMs } : {}),
    ...(opts.refreshIntervalMs !== undefined ? { refreshIntervalMs: opts.refreshIntervalMs } : {}),
    ...(opts.ipLimitsOnLAN !== undefined ? { ipLimitsOnLAN: opts.ipLimitsOnLAN } : {}),
  })
  transport.table = table
  v5.on('established', (r) => {
    const n = r.toNode()
    if (n) table.addVerifiedNode(n, r.seq)
  })
  v5.serveFrom((distances) =>
    table
      .nodes()
      .filter((n) => distances.includes(logDistance(n.id, self.id)))
      .flatMap((n) => v5.knownRecord(hex(n.id)) ?? []),
  )
  return table
}
