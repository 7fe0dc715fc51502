/**
 * Between a node's signed record and its output line: what the crawl keeps of an ENR in the packed
 * node state (decoding it again would verify it again), and the {@link DiscoveryRecord} built from
 * that state when the node is reported.
 */
import { hex } from '../crypto/bytes.js'
import type { ENR } from '../enode/enr.js'
import { clientEntry, consensusInfo, quicPorts } from '../eth/consensus.js'
import { matchForkHash } from '../eth/networks.js'
import { F, V5, type CrawlNodes, type RecordExtras } from './nodes.js'
import type { CrawlProtocol, DiscoveryRecord } from './record.js'

/**
 * Keep node `i`'s raw record and what the output needs of it. The record's endpoint wins for the
 * output; the crawl keeps talking to the address that answered.
 */
export function takeRecord(n: CrawlNodes, i: number, r: ENR): void {
  n.setRecord(i, r.raw)
  n.seq[i] = Number(r.seq)
  // a newer record says afresh what the node is
  n.flags[i] = (n.flags[i]! & ~(F.eth | F.eth2)) | (r.isEth2 ? F.eth2 : 0) | (r.entries.has('eth') ? F.eth : 0)
  n.network[i] = 0
  n.fork[i] = 0
  const ep = r.toNode()
  if (ep && (ep.ip !== n.ip(i) || ep.udp !== n.udp[i] || ep.tcp !== n.tcp[i])) n.setRecordEndpoint(i, { ip: ep.ip, udp: ep.udp, tcp: ep.tcp })
  if (n.flags[i]! & F.eth) {
    // an `eth` entry that is no fork id of a known chain (or none at all) is some other chain's
    const fid = r.ethForkId
    const m = fid && matchForkHash(fid.hash)
    n.network[i] = n.networks.code(m?.network ?? 'unknown')
    if (m?.fork !== undefined) n.fork[i] = n.forks.code(m.fork)
  }
  // consensus entries, a client entry, IPv6 and QUIC: kept only for the records that have them
  const x: RecordExtras = { ...quicPorts(r.entries) }
  const consensus = consensusInfo(r.entries)
  if (consensus) x.consensus = consensus
  const client = clientEntry(r.entries)
  if (client !== undefined) x.client = client
  if (r.ip6 !== undefined) x.ip6 = r.ip6
  if (r.udp6 !== undefined) x.udp6 = r.udp6
  if (Object.keys(x).length > 0) n.setExtras(i, x)
}

/** answered on any protocol */
export function isAlive(n: CrawlNodes, i: number): boolean {
  return (n.flags[i]! & (F.answered | F.v5answered)) !== 0
}

/**
 * Node `i` as it stands. `withProtocols`: the crawl walks discv5, so the record says where the node
 * answered (a discv4-only crawl keeps its records as they were).
 */
export function buildRecord(n: CrawlNodes, i: number, withProtocols: boolean): DiscoveryRecord {
  const ep = n.announced(i) ?? { ip: n.ip(i), udp: n.udp[i]!, tcp: n.tcp[i]! }
  const answered = isAlive(n, i)
  const fl = n.flags[i]!
  const r: DiscoveryRecord = {
    id: hex(n.pubkey(i)),
    ip: ep.ip,
    udp: ep.udp,
    tcp: ep.tcp,
    firstSeen: new Date(n.firstSeen[i]!).toISOString(),
    lastSeen: new Date(n.lastSeen[i]!).toISOString(),
    answered,
    eth2: (fl & F.eth2) !== 0,
  }
  if (answered && (fl & (F.answered | F.eth)) !== 0) r.layer = 'execution'
  else if (answered && fl & F.eth2) r.layer = 'consensus'
  if (withProtocols) {
    const tried: CrawlProtocol[] = [...(fl & F.v4na ? [] : ['v4' as const]), ...(n.v5st[i] !== V5.none ? ['v5' as const] : [])]
    const on = tried.filter((p) => (p === 'v4' ? fl & F.answered : fl & F.v5answered))
    r.protocols = on.length > 0 ? on : tried
  }
  const x = n.extras(i)
  if (x) Object.assign(r, { ...(x.consensus ? { consensus: x.consensus } : {}), ...(x.client !== undefined ? { enrClient: x.client } : {}), ...(x.ip6 !== undefined ? { ip6: x.ip6, ...(x.udp6 !== undefined ? { udp6: x.udp6 } : {}) } : {}), ...(x.quic !== undefined ? { quic: x.quic } : {}), ...(x.quic6 !== undefined ? { quic6: x.quic6 } : {}) })
  const raw = n.record(i)
  if (raw) {
    r.enr = 'enr:' + Buffer.from(raw).toString('base64url')
    r.seq = n.seq[i]!
  }
  const pings = fl & F.v4na ? n.v5pings[i]! : n.pings[i]!
  if (pings > 0) r.attempts = pings
  if (n.rtt[i]! > 0) r.rttMs = n.rtt[i]! - 1
  const network = n.networks.text(n.network[i]!)
  if (network !== undefined) r.network = network
  const fork = n.forks.text(n.fork[i]!)
  if (fork !== undefined) r.fork = fork
  if (answered) r.neighbors = n.neighbors[i]!
  const error = n.errors.text(n.error[i]!)
  if (error !== undefined) r.error = error
  return r
}
