/**
 * The crawl's record types, in one place: what discovery learnt of a node, the node as the crawl
 * writes it (with its dial), nodes carried over from an earlier crawl, what the store keeps of them
 * and how two crawls differ. Types only: the crawler, its outputs and its store all read them here.
 */
import type { ConsensusInfo } from '../eth/consensus.js'
import type { DialInfo } from './dialer.js'

/** the discovery protocols a crawl walks */
export type CrawlProtocol = 'v4' | 'v5'

/** One node as discovery saw it (a Crawler's `record` event); with --dial, {@link CrawlRecord} adds what the dial learnt. */
export interface DiscoveryRecord {
  /** 128-hex public key */
  id: string
  ip: string
  udp: number
  tcp: number
  /** the signed record (enr:…) when the node sent one */
  enr?: string
  seq?: number
  /** ISO times: first heard of (carried over from earlier crawls), last answered (or last listed, if never) */
  firstSeen: string
  lastSeen: string
  /** it answered our ping (or pinged us) */
  answered: boolean
  /** pings sent before it answered, or before we gave up on it */
  attempts?: number
  /** the lowest round trip measured to it, ms */
  rttMs?: number
  /** the network its `eth` ENR entry names (fork hash of a known chain), 'unknown' for other chains */
  network?: string
  /** the fork state that hash belongs to */
  fork?: string
  /** it announces a consensus-layer (`eth2`) entry */
  eth2: boolean
  /**
   * which client it is, when it answered: `execution` (it answered discv4, or its record has an
   * `eth` entry) or `consensus` (an `eth2` entry and no `eth`: a libp2p node, not dialled over RLPx)
   */
  layer?: 'execution' | 'consensus'
  /** the discovery protocols it answered on (those tried, when it answered none) */
  protocols?: CrawlProtocol[]
  /** what its `eth2`, `attnets`, `syncnets` and `cgc` entries say */
  consensus?: ConsensusInfo
  /** its record's EIP-7636 `client` entry */
  enrClient?: string
  /** the IPv6 endpoint and QUIC ports its record announces */
  ip6?: string
  udp6?: number
  quic?: number
  quic6?: number
  /** distinct nodes its table gave us */
  neighbors?: number
  /** why it did not answer, or what failed after it did */
  error?: string
  /**
   * ISO 3166-1 alpha-2 country of `ip`, from an offline database (src/geo); absent for private and
   * loopback addresses, or when no database knows the address
   */
  country?: string
  /** the number of the autonomous system announcing `ip` (offline database, as `country`) */
  asn?: number
  /** the organisation holding that autonomous system */
  asOrg?: string
}

/** A node carried over from an earlier crawl (the store): re-checked, its first sighting kept. */
export interface PreviousNode {
  id: string
  ip: string
  udp: number
  tcp: number
  firstSeen: number
  /** it answered in that crawl; nodes that did not are checked after everything else */
  answered?: boolean
}


/**
 * A node as the crawl writes it (the --out line): discovery's record and what its dial learnt. `error`
 * stays discovery's (why it did not answer); `dialError` is why the dial got no Hello or Status, or why
 * there was none.
 */
export type CrawlRecord = DiscoveryRecord &
  Omit<DialInfo, 'error'> & {
    dialError?: string
    /**
     * its head is within SYNC_DISTANCE blocks of its chain's reference head (crawler/head.ts). Known only
     * once the crawl is over: set in the summary, the report and the history, not in the streamed JSONL/CSV.
     */
    synced?: boolean
  }

/** what the latest dial of a node learnt; `error` is the dial's own error, not discovery's */
export interface StoredDial extends DialInfo {
  /** ms since the epoch */
  dialledAt: number
}

/** what the store keeps of a node across crawls */
export interface StoredNode {
  id: string
  ip: string
  udp: number
  tcp: number
  enr?: string
  seq?: number
  /** ms since the epoch */
  firstSeen: number
  firstResponse?: number
  lastResponse?: number
  lastCheck: number
  score: number
  answered: boolean
  /** the latest dial's findings; a crawl that did not dial the node keeps them */
  dial?: StoredDial
}

/** How a crawl differs from an earlier one. */
export interface CrawlDiff {
  /** answered now, unknown to the earlier crawl or unanswered there */
  new: string[]
  /** answered in the earlier crawl, not now */
  gone: string[]
  /** answered in both, with another record sequence number or endpoint, or another client id (both dialled with a Hello) */
  changed: string[]
  /** answered in both, unchanged */
  same: number
}
