/**
 * The record types the crawl's outputs and its store share: a node as the crawl writes it, what the
 * store keeps of it across crawls, and how two crawls differ. Types only, so output.ts and store.ts
 * both import from here and neither from the other.
 */
import type { CrawlRecord as DiscoveryRecord } from './crawl.js'
import type { DialInfo } from './dialer.js'

/**
 * A node as the crawl writes it: discovery's record and what its dial learnt. `error` stays discovery's
 * (why it did not answer); `dialError` is why the dial got no Hello or Status, or why there was none.
 */
export type DialledRecord = DiscoveryRecord & Omit<DialInfo, 'error'> & { dialError?: string }

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
