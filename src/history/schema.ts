/**
 * The crawl history's tables as Kysely sees them. Times are epoch milliseconds and flags are 0/1
 * integers in both engines, so every query reads the same values from SQLite and PostgreSQL.
 */
import type { Generated } from 'kysely'

/** One crawl by one vantage point; written whole with its visits in one transaction. */
export interface CrawlsTable {
  id: Generated<number>
  /** the monitor's --vantage name */
  vantage: string
  started_at: number
  ended_at: number
  /** the crawl options, JSON */
  options: string
  /** 1: stopped early (SIGINT): its visits are kept, but it takes no part in series, churn or uptime */
  interrupted: number
  found: number
  answered: number
  /** nodes dialled (or that dialled us), with a Hello, with a Status */
  dialled: number
  hello: number
  status: number
  /** answering nodes never seen answering before, answering again after a gap, not answering since the vantage's previous crawl */
  new_nodes: number
  returning_nodes: number
  gone_nodes: number
  /** migration 0006: 1 once `history prune` deleted its visits and edges (its counts stay) */
  pruned: Generated<number>
  /** migration 0007: the monitor's key for the crawl (a UUID, unique), so a retried write is recognised; null in crawls written without one */
  crawl_key: string | null
}

/** One node (public key), shared by every vantage point. */
export interface NodesTable {
  id: Generated<number>
  /** 128-hex uncompressed public key without the 04 prefix */
  pubkey: string
  /** 64-hex keccak256(pubkey): the id geth shows */
  node_id: string
  /** start of the first crawl that listed it */
  first_seen: number
  /** start of the last crawl in which it answered (null: never) */
  last_seen: number | null
  /** the latest crawl that listed it (by start time) and that crawl's start: the view below is from it */
  last_crawl: number
  last_visit: number
  ip: string
  udp: number
  tcp: number
  client_id: string | null
  client_name: string | null
}

/** One node in one crawl. */
export interface VisitsTable {
  crawl_id: number
  node: number
  ip: string
  udp: number
  tcp: number
  answered: number
  /** bond attempts the crawler made */
  attempts: number | null
  /** round trip of its first answer, ms */
  rtt_ms: number | null
  enr_seq: number | null
  enr: string | null
  /** network and fork state of its ENR `eth` entry */
  network: string | null
  fork: string | null
  eth2: number
  neighbors: number | null
  client_id: string | null
  client_name: string | null
  client_version: string | null
  client_os: string | null
  client_arch: string | null
  client_runtime: string | null
  /** go, rust, java, dotnet, … from the runtime */
  client_language: string | null
  /** space-separated 'eth/68 snap/1' */
  caps: string | null
  network_id: number | null
  fork_hash: string | null
  fork_next: number | null
  /** the chain the Status names: mainnet, sepolia, … or unknown */
  chain: string | null
  disconnect: string | null
  disconnect_by: string | null
  inbound: number
  error: string | null
  dial_error: string | null
  /** discovery protocols it answered on, '+'-joined ('v4+v5'); those tried when it answered none; null: not recorded (a discv4-only crawl) */
  protocols: string | null
  /** 'execution' or 'consensus', when the crawl said */
  layer: string | null
  /** ISO 3166 alpha-2 country of its IP (offline database); null for private addresses, unknown ones and visits written before */
  country: string | null
  /** the autonomous system announcing its IP, and its holder (as `country`) */
  asn: number | null
  as_org: string | null
  /** migration 0005: the head it announced (number, 64-hex hash, block time in ms since the epoch) and whether it was synced (1/0; null: no head or no reference) */
  head_number: number | null
  head_hash: string | null
  head_time: number | null
  synced: number | null
}

/** A run of consecutive crawls of one vantage point in which a node answered. */
export interface SessionsTable {
  id: Generated<number>
  node: number
  vantage: string
  first_crawl: number
  last_crawl: number
  started_at: number
  /** start of the last crawl of the run */
  last_seen: number
  /** start of the first crawl that missed it (null: still up) */
  ended_at: number | null
  crawls: number
}

/** Per-crawl counts by dimension (client, version, os, network, fork id, …), derived from its visits. */
export interface CrawlCountsTable {
  crawl_id: number
  dim: string
  key: string
  n: number
}

/** One table entry of one crawl (`monitor --neighbors`): `from_node`'s table lists `to_node`. */
export interface EdgesTable {
  crawl_id: number
  /** the node that answered FINDNODE (nodes.id) */
  from_node: number
  /** the node its table lists (nodes.id) */
  to_node: number
  /** the log distance at which `from_node` lists it (its bucket) */
  distance: number
}

/** Migration 0006: per vantage point, UTC day and dimension, the per-crawl counts summed over the day's crawls. */
export interface DailyCountsTable {
  vantage: string
  /** epoch ms of the day's 00:00 UTC */
  day: number
  dim: string
  key: string
  /** the day's crawls of that vantage point (not interrupted) the sum is over */
  crawls: number
  /** the sum of the key's count over those crawls */
  n: number
}

/**
 * Migration 0008: per node and vantage point, the uptime sessions `history prune` folded (closed ones
 * that ended before its cut) and deleted.
 */
export interface UptimeTotalsTable {
  node: number
  vantage: string
  /** sessions folded in */
  sessions: number
  /** crawls the node answered in them (the sum of their `crawls`) */
  answered: number
  /** the vantage point's crawls (not interrupted) from `first_seen` through `last_seen` */
  crawls: number
  /** start of the first crawl it answered in, of the last one (both within the folded sessions) */
  first_seen: number
  last_seen: number
  /** start of the crawl that closed the last folded session */
  ended_at: number
}

/** The history's tables, as Kysely sees them. */
export interface HistorySchema {
  crawls: CrawlsTable
  nodes: NodesTable
  visits: VisitsTable
  sessions: SessionsTable
  crawl_counts: CrawlCountsTable
  edges: EdgesTable
  daily_counts: DailyCountsTable
  uptime_totals: UptimeTotalsTable
}
