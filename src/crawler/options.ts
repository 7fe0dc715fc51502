/**
 * A crawl's options, progress counters, events and per-node errors: what an embedder of the
 * `Crawler` reads and writes, apart from the crawler itself.
 */
import type { CryptoBackend } from '../crypto/types.js'
import type { ENR } from '../enode/enr.js'
import type { Node } from '../enode/node.js'
import type { CrawlProtocol, DiscoveryRecord, PreviousNode } from './record.js'
import type { TargetTable } from './targets.js'
import type { CrawlTransport } from './transport.js'

/** Counters of a crawl so far; `Crawler.run` resolves to the final ones. */
export interface CrawlProgress {
  found: number
  answered: number
  unanswered: number
  /** steps waiting to be sent */
  queued: number
  /** requests in flight */
  inFlight: number
  /** nodes waiting for another ping */
  retrying: number
  /** nodes not kept because the node bound was reached */
  dropped: number
  /** late reads of thin tables sent (see `rereads`): tables that served revalidated entries only */
  lateReads: number
  packetsIn: number
  packetsOut: number
  /** datagrams per second in force: --rate, or less while replies queue up */
  sendRate: number
  elapsedMs: number
}

/** How a `Crawler` starts and what bounds it. */
export interface CrawlerOptions {
  transport: CrawlTransport
  /** where to start: nodes (crawled over every protocol in `protocols`) and records (over discv5, and discv4 too when they carry an `eth` entry) */
  seeds?: Iterable<Node | ENR>
  /** the DHTs to walk (default: discv4, and discv5 when the transport has it) */
  protocols?: CrawlProtocol[]
  previous?: Iterable<PreviousNode>
  /**
   * datagrams sent per second, requests and replies (default: what the machine's measured crypto costs
   * allow where the transport signs and verifies, see CrawlTransport.cryptoThreads; without that, by
   * backend: native 3000, wasm 1500, js 250)
   */
  rate?: number
  /** requests in flight at most (default 4096) */
  maxPending?: number
  /** requests in flight to one IP (default 4) and to one /24 or /48 (default 16): politeness */
  perIP?: number
  perNet?: number
  /** pings before a node counts as unanswered (default 4) */
  attempts?: number
  /**
   * pings over one protocol to a node that answered the other (default 3): it is alive and near, so
   * silence means it does not speak this protocol more likely than that a datagram was lost
   */
  crossAttempts?: number
  /** first retry delay; doubles each attempt (default 500 ms) */
  retryDelayMs?: number
  /**
   * ENRRequest attempts once a node answered (default 6). Each attempt rides on a fresh bond, and a
   * bond fails silently when its ping back or our pong is lost, so under loss a few more attempts
   * than pings are needed to fetch every record.
   */
  enrAttempts?: number
  /** attempts per FINDNODE target (default 3) */
  findnodeAttempts?: number
  /** reply timeout before any round trip to the node is measured (default: the transport's, 500 ms) */
  replyTimeoutMs?: number
  /** table reads in progress at once (default 2048) */
  maxReads?: number
  /** extra probes per full bucket when a table turns out bigger than geth's (default 2; 0: none) */
  reprobes?: number
  /**
   * Late reads of a table that answered thin (fewer than 16 nodes in all while the crawl knows many
   * more): geth serves only entries it has revalidated, one every 1.5 s on average, so a young table
   * shows more a little later. Each waits `rereadDelayMs` (default 10 s) and is one request (FINDNODE
   * far from the node, or every distance at once over discv5); they stop when one brings no more than
   * the read before (default 2; 0: none). The node's record does not wait for them.
   */
  rereads?: number
  rereadDelayMs?: number
  /** lowest log distance asked (default 240: geth's last bucket holds everything at ≤ 240) */
  lowestDistance?: number
  /** nodes kept; further ones are counted as dropped (default 1 000 000) */
  maxNodes?: number
  durationMs?: number
  signal?: AbortSignal
  targets?: TargetTable
  backend?: CryptoBackend
  /**
   * Called once per node worth an RLPx dial, with its record, as soon as that is known (before its
   * table is read): a node that answered discv4 once its ENR is in (or given up), and a node that
   * answered discv5 whose record has an `eth` entry and a TCP port. Consensus clients (`eth2`, no
   * `eth`) speak libp2p and are never handed over. The hook an RLPx dial queue plugs into to run in
   * parallel with discovery.
   */
  onNode?: (record: DiscoveryRecord) => void
}

/** The events a `Crawler` emits. */
export interface CrawlerEvents {
  /** a node answered for the first time (public key, 128 hex): it is alive; its record follows later */
  answer: [id: string]
  /** a node's final record; exactly once per node found */
  record: [record: DiscoveryRecord]
  /** something went wrong with one node; the crawl goes on */
  nodeError: [error: CrawlError]
  /**
   * A table entry: node `from` (public key, 128 hex, as a record's `id`) answered FINDNODE listing
   * node `to` at log distance `distance` from itself (the bucket it keeps it in: the distance asked
   * for entries of the bucket asked, over discv4 and discv5 alike). Once per (from, to) pair in a
   * crawl. Edges are only tracked while a listener is attached: a crawl without one pays nothing.
   */
  edge: [from: string, to: string, distance: number]
}

/** What a {@link CrawlError} is about. */
export type CrawlErrorCode = 'UNANSWERED' | 'BAD_RECORD' | 'FINDNODE_FAILED' | 'ENR_FAILED'

/** Something that went wrong with one node; the crawl goes on (a `nodeError` event). */
export class CrawlError extends Error {
  override readonly name = 'CrawlError'
  constructor(
    readonly code: CrawlErrorCode,
    /** `ip:udp` of the node */
    readonly endpoint: string,
    message: string,
  ) {
    super(message)
  }
}
