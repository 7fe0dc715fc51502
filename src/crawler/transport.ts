/**
 * What the crawler needs of the discovery transports: discv4's requests and packet events, and
 * discv5's PING and FINDNODE. Discv4 and Discv5 provide them; tests put fakes behind them.
 */
import type { RequestOptions } from '../discover/common.js'
import type { LookupTarget } from '../discover/table.js'
import type { NeighborsAnswer } from '../discover/udp-options.js'
import type { Packet } from '../discover/wire.js'
import type { ENR } from '../enode/enr.js'
import type { Node } from '../enode/node.js'

/** What the crawler needs of the discovery transport (Discv4 provides it). */
export interface CrawlTransport {
  readonly self: Node
  /** PING `n`; resolves with the record sequence its PONG carries */
  ping(n: Node, opts: RequestOptions): Promise<{ seq?: bigint }>
  /** `n`'s signed record */
  enrRequest(n: Node, opts: RequestOptions): Promise<ENR>
  /** FINDNODE `target` at `n`: what it answers, and whether the answer ended as the sender meant it to */
  neighbors(n: Node, target: LookupTarget, opts: RequestOptions): Promise<NeighborsAnswer>
  /** every verified packet: the crawl learns from a node's own pings that it holds our pong */
  on(event: 'packet', listener: (p: Packet, from: Node) => void): unknown
  /** stops listening for packets (when the crawl ends) */
  off(event: 'packet', listener: (p: Packet, from: Node) => void): unknown
  /** the transport's reply timeout (the crawl's default) */
  readonly replyTimeoutMs?: number
  /** datagrams received and not yet verified */
  readonly backlog?: number
  /**
   * where the transport signs and verifies: 0 on the event loop, N on N threads (Discv4's
   * cryptoThreads); when known, the crawl's default rate follows from it and the measured crypto costs
   */
  readonly cryptoThreads?: number | undefined
  readonly stats?: { packetsIn: number; packetsOut: number }
  /** discv5 on the same socket, for crawls that walk that DHT too (`listenDiscovery`'s `v5`) */
  readonly v5?: CrawlV5 | undefined
}

/** What the crawler needs of discv5 (Discv5 provides it). */
export interface CrawlV5 {
  /** PING `n` (a handshake first when there is no session); resolves with its record sequence */
  ping(n: ENR | Node): Promise<{ enrSeq: bigint }>
  /** FINDNODE at the given log distances: the records `n` answers with */
  findnode(n: ENR | Node, distances: number[]): Promise<ENR[]>
  /** `handshakes`: sessions set up, either side (each costs a few EC operations beyond its datagram) */
  readonly stats: { packetsIn: number; packetsOut: number; handshakes: number }
}
