/**
 * What a protocol walker (walk-v4.ts, walk-v5.ts) sees of the crawl: the packed node state, the
 * transports, the settings, and the core's services — queueing a step, ending a request, adding the
 * nodes an answer names, reporting. The core (crawl.ts) builds one; a walker never sees the Crawler,
 * so a new protocol is one new walker against this contract.
 */
import type { CryptoBackend } from '../crypto/types.js'
import type { ENR } from '../enode/enr.js'
import type { Node } from '../enode/node.js'
import type { CrawlNodes } from './nodes.js'
import type { CrawlErrorCode } from './options.js'
import type { CrawlProtocol } from './record.js'
import type { ClassShare } from './schedule.js'
import type { TargetTable } from './targets.js'
import type { CrawlTransport, CrawlV5 } from './transport.js'

/** what a queued step asks of its node (the low two bits of a schedule item) */
export const Step = { ping: 0, enr: 1, findnode: 2, v5: 3 } as const
/** delayed events (the low two bits of a delay item) */
export const Later = { retry: 0, bondWait: 1, v5retry: 2, reread: 3 } as const

/** schedule classes, in the order of `CLASSES` */
export const C = { bond: 0, enr: 1, fresh: 2, table: 3, retry: 4, stored: 5, storedDead: 6 } as const
/**
 * Bonding again and record requests finish work already begun: first. Fresh nodes (likely alive),
 * table reads (how nodes are found), retries (mostly dead, sometimes lost) and nodes from an earlier
 * crawl share the rest by weight; nodes that were dead in the earlier crawl take what is left.
 */
export const CLASSES: readonly ClassShare[] = ['first', 'first', 4, 3, 2, 1, 'last']

/** The crawl's settings with every default applied. */
export interface Settings {
  attempts: number
  crossAttempts: number
  retryDelay: number
  enrAttempts: number
  findnodeAttempts: number
  baseTimeout: number
  maxReads: number
  reprobes: number
  lowest: number
}

/** The crawl as a walker uses it. */
export interface WalkContext {
  readonly nodes: CrawlNodes
  readonly transport: CrawlTransport
  /** discv5, when the crawl walks it */
  readonly v5: CrawlV5 | undefined
  readonly backend: CryptoBackend
  readonly targets: TargetTable
  readonly settings: Settings
  /** the crawl is over: answers still arriving change nothing */
  stopped(): boolean
  /** queue a step (`i * 4 + Step.x`) in a schedule class */
  push(cls: number, item: number): void
  /** send what the schedule allows now */
  pump(): void
  /** a request ended: free its slot, see whether the node is done, send more */
  ended(i: number, item: number): void
  /** fire `kind` for node `i` in `ms` */
  delay(i: number, kind: number, ms: number): void
  /** nodes waiting for another ping: +1 or −1 */
  retrying(delta: number): void
  /** the reply timeout for `i` */
  timeout(i: number): number
  /** a reply from `i` to a request sent at `since` (performance.now()) */
  measured(i: number, since: number): void
  /** node `i` as the transports take it */
  node(i: number): Node
  /** answered on any protocol */
  alive(i: number): boolean
  /** first sign of life over one protocol (`F.answered` or `F.v5answered`) */
  markAlive(i: number, flag: number): void
  /** a node an answer named, heard of over `via`: its row, or -1 when it is not kept (call pump() after the answer's last) */
  add(n: Node, firstSeen: number, origin: number, via: CrawlProtocol, record?: ENR): number
  /** keep a signed record of node `i` */
  takeRecord(i: number, r: ENR): void
  /** hand `i` to the dial queue when it is worth a dial */
  report(i: number): void
  /** `i`'s discv4 part is over */
  finish(i: number): void
  /** report `i` when every protocol is done with it */
  complete(i: number): void
  /** something went wrong with `i`; the crawl goes on */
  nodeError(i: number, code: CrawlErrorCode, message: string): void
  /** read `i`'s thin table over protocol `p` (0 discv4, 1 discv5) again later */
  planReread(i: number, p: 0 | 1, served: number): void
  /** the log distance down to which tables in a network of the size found so far hold entries */
  settledDepth(): number
  /** whether anyone takes the crawl's edges (an `edge` listener): without one a walker skips that work */
  wantsEdges(): boolean
  /** node `from`'s table lists node `to` at log distance `distance` (repeats are dropped) */
  edge(from: number, to: number, distance: number): void
}

/** a failure's message, whatever was thrown */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/** a failure's code (`TIMEOUT`, `BAD_RECORD`, …), when it has one */
export function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined
}
