/**
 * What describes a discv4 endpoint (udp.ts): its limits and timeouts, its options, its traffic
 * counters, its events and the shape of a FINDNODE answer. Kept apart from the transport so the transport file
 * holds only its behaviour.
 */
import type { ENR } from '../enode/enr.js'
import type { Node } from '../enode/node.js'
import type { CryptoBackend } from '../crypto/types.js'
import type { RLPItem } from '../util/rlp.js'
import type { EndpointStatement } from './endpoint.js'
import type { NodeDB } from './nodedb.js'
import type { RateLimitOptions } from './ratelimit.js'
import type { Packet } from './wire.js'

/** how long a request waits for its reply (geth's 500 ms) */
export const REPLY_TIMEOUT_MS = 500
/** an endpoint proof (a pong received) is good for this long */
export const BOND_EXPIRATION_MS = 24 * 3600_000
/** bound on requests awaiting a reply */
export const MAX_PENDING = 20_000
/** bonding rounds remembered (oldest forgotten first) */
export const MAX_BOND_ATTEMPTS = 50_000
/** bound on datagrams waiting for batch verification */
export const MAX_VERIFY_QUEUE = 8192
/** datagrams verified in one batch */
export const VERIFY_BATCH = 256
/**
 * A short batch waits this long for company: every batch pays a fixed cost to reach the thread pool
 * and back (~25 µs of CPU, half a verification), so a crawler receiving thousands of datagrams a
 * second verifies them a few dozen at a time rather than one by one. At 1 ms a crawl's batches held
 * 7 datagrams on average (+5 µs a datagram); at 4 ms about 20 (+1 µs). A few milliseconds are
 * nothing next to a round trip or a 500 ms reply timeout.
 */
export const VERIFY_GATHER_MS = 4
/** a batch at least this long goes without waiting */
export const VERIFY_GATHER_BELOW = 32
/**
 * Signing batches gather the same way: a batch costs the same hand-off, and what one turn of the
 * event loop sends (a reply or two, a few paced requests) is a small batch. Reply timeouts start
 * when a request is handed over, so a request's clock runs these extra milliseconds too.
 */
export const SIGN_GATHER_MS = 2
/** a signing batch this long goes at once */
export const SIGN_GATHER_BELOW = 32

/** One FINDNODE answer: the nodes, and whether it ended as the sender meant it to (not at the timeout). */
export interface NeighborsAnswer {
  nodes: Node[]
  /** false when the timeout ended it after a full 12-entry packet: the rest may have been lost */
  complete: boolean
}

/** Why a datagram was dropped (counted in {@link Discv4Stats.dropped}). */
export type DropReason = 'too-large' | 'rate' | 'duplicate' | 'queue-full' | 'verify' | 'malformed' | 'expired' | 'unsolicited' | 'unbonded' | 'self'

/** What a {@link Discv4} endpoint is and its limits. */
export interface Discv4Options {
  /** the node key (32 bytes) */
  privateKey: Uint8Array
  /** address to bind (default 0.0.0.0) */
  host?: string
  /** UDP port (default 30303; 0 picks a free one) */
  port?: number
  /** TCP port announced in pings and the ENR (default: the UDP port) */
  tcpPort?: number
  /** the IP announced in our ENR when known (NAT extip); otherwise predicted from pongs */
  externalIP?: string
  /** node database (default: in-memory) */
  db?: NodeDB
  /** first contacts for the table */
  bootnodes?: Node[]
  /** extra ENR entries, e.g. `eth` with the fork id */
  enrEntries?: Record<string, RLPItem>
  /**
   * apply the per-IP packet rate and the table's /24 limits to loopback and LAN too, and count LAN
   * peers' endpoint statements (geth exempts LAN from all three; tests turn them on)
   */
  limitsOnLAN?: boolean
  /** per-IP ingress limit; false disables it */
  rateLimit?: RateLimitOptions | false
  /** how long a request waits for its reply (default 500 ms, as geth) */
  replyTimeoutMs?: number
  /** verify datagrams in batches off the event loop (crawler load) rather than one by one */
  batchVerify?: boolean
  /**
   * Where signatures and verifications run: 0 on the event loop, one datagram at a time (the least
   * CPU per datagram); N > 0 in batches on up to N threads (native: libuv's pool), leaving the event
   * loop the protocol (the most datagrams per second). Overrides batchVerify; unset, signing stays
   * on the event loop and verification follows batchVerify.
   */
  cryptoThreads?: number
  /** NTP server checked after 32 consecutive timeouts, as host:port; off when absent */
  ntpServer?: string
  /** distinct peers that must agree before our external endpoint is predicted (default 10) */
  endpointStatements?: number
  /** table revalidation and refresh periods (see TableOptions) */
  pingIntervalMs?: number
  refreshIntervalMs?: number
  /** crypto backend (default: the active one) */
  backend?: CryptoBackend
  /** socket receive and send buffers, bytes (default 4 MiB: common.ts's DEFAULT_SOCKET_BUFFER_BYTES) */
  socketBufferBytes?: number
}

/** Traffic counters of a {@link Discv4} endpoint. */
export interface Discv4Stats {
  packetsIn: number
  packetsOut: number
  bytesIn: number
  bytesOut: number
  /** datagrams dropped, by reason */
  dropped: Record<DropReason, number>
  timeouts: number
  pending: number
  /** datagrams the socket refused to send (bad address) */
  sendErrors: number
}

/** The events a {@link Discv4} endpoint emits. */
export interface Discv4Events {
  /** a verified packet arrived (after all checks) */
  packet: [packet: Packet, from: Node]
  /** a datagram was dropped */
  drop: [reason: DropReason, from: string]
  /** our predicted external endpoint changed and the ENR was re-signed */
  endpoint: [ep: EndpointStatement, enr: ENR]
  /** the local clock is off by more than 10 s (ms, positive: we are behind) */
  clockDrift: [offsetMs: number]
  /** a background DB write failed */
  dbError: [err: unknown]
  /** the clock-drift check could not reach its NTP server */
  ntpError: [err: Error]
  /** close() began: a protocol sharing our socket (discv5, see both.ts) closes with us */
  close: []
}

/** every drop counter at zero */
export function emptyDrops(): Record<DropReason, number> {
  return { 'too-large': 0, rate: 0, duplicate: 0, 'queue-full': 0, verify: 0, malformed: 0, expired: 0, unsolicited: 0, unbonded: 0, self: 0 }
}
