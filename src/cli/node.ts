/**
 * `ethp2p node`: run a node — discovery, the RLPx listener and dialer, eth/68 + eth/69. First line
 * on stdout is its enode URL; logs go to stderr as JSON; SIGINT/SIGTERM close everything and exit 0.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Node } from '../enode/node.js'
import { formatEnode } from '../enode/url.js'
import { logDiscoveryEvents, openNodeDB } from './discovery-log.js'
import { loadOrCreateNodeKey, parseNodeKey, readNodeKey } from '../config/nodekey.js'
import { readNodesFile } from '../config/nodesfile.js'
import { randomPrivateKey } from '../crypto/backend.js'
import { ethProtocols } from '../eth/protocol.js'
import { NETWORKS, type NetworkName } from '../eth/networks.js'
import { Server } from '../p2p/server.js'
import type { NetRestrict } from '../p2p/netrestrict.js'
import { parseNAT, PortMapper } from '../p2p/nat.js'
import { disconnectReasonText } from '../p2p/base.js'
import { P2PMetrics, serveMetrics } from '../metrics/metrics.js'
import { createLogger, type Logger } from '../util/log.js'

/** `ethp2p node`'s parsed options. */
export interface NodeOptions {
  datadir?: string
  host: string
  port: number
  discport?: number
  nodekey?: string
  nodekeyhex?: string
  bootnodes?: Node[]
  maxpeers: number
  maxpendpeers: number
  netrestrict?: NetRestrict
  nat: string
  static?: string
  trusted?: string
  metrics?: string
  network: NetworkName
  nodiscover?: boolean
  discv4?: boolean
  discv5?: boolean
  ntp: string
  duration?: number
}

function nodeKey(opts: NodeOptions): Uint8Array {
  if (opts.nodekeyhex !== undefined) return parseNodeKey(opts.nodekeyhex, '--nodekeyhex')
  if (opts.nodekey !== undefined) return readNodeKey(opts.nodekey)
  if (opts.datadir !== undefined) return loadOrCreateNodeKey(join(opts.datadir, 'nodekey'))
  return randomPrivateKey()
}

/** static/trusted nodes: the named file, else geth's file name in the datadir (absent → none) */
function nodesFile(log: Logger, given: string | undefined, datadir: string | undefined, name: string): Node[] {
  const file = given ?? (datadir !== undefined ? join(datadir, name) : undefined)
  if (file === undefined) return []
  return readNodesFile(file, { onWarning: (w) => log.warn({ file: w.file, entry: w.entry, err: w.error.message }, 'skipping bad node entry') })
}

/** `ethp2p node`: key, node DB, server with discovery and eth, NAT, metrics; runs until SIGINT/SIGTERM. */
export async function runNode(opts: NodeOptions): Promise<void> {
  const log = createLogger()
  if (opts.datadir !== undefined) mkdirSync(opts.datadir, { recursive: true })
  const key = nodeKey(opts)
  const staticNodes = nodesFile(log, opts.static, opts.datadir, 'static-nodes.json')
  const trustedNodes = nodesFile(log, opts.trusted, opts.datadir, 'trusted-nodes.json')
  const nat = parseNAT(opts.nat)
  const extip = opts.nat.startsWith('extip:') ? opts.nat.slice('extip:'.length) : undefined
  const db = openNodeDB(log, opts.datadir !== undefined ? join(opts.datadir, 'nodes') : undefined)
  const server = new Server({
    privateKey: key,
    protocols: ethProtocols({ chain: NETWORKS[opts.network] }),
    host: opts.host,
    port: opts.port,
    ...(opts.discport !== undefined ? { discPort: opts.discport } : {}),
    maxPeers: opts.maxpeers,
    maxPendingPeers: opts.maxpendpeers,
    bootnodes: opts.bootnodes ?? [],
    staticNodes,
    trustedNodes,
    ...(opts.netrestrict ? { netRestrict: opts.netrestrict } : {}),
    ...(extip !== undefined ? { externalIP: extip } : {}),
    noDiscovery: opts.nodiscover === true,
    discv4: opts.discv4 !== false,
    discv5: opts.discv5 !== false,
    db,
    discovery: opts.ntp !== 'none' ? { ntpServer: opts.ntp } : {},
  })
  await server.start()
  // listen for signals before telling anyone we are up: a SIGTERM right after the first line must
  // still stop the node cleanly
  const stopped = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'))
    process.once('SIGTERM', () => resolve('SIGTERM'))
    // the listening sockets keep the process alive until then
    if (opts.duration !== undefined) setTimeout(() => resolve('duration elapsed'), opts.duration * 1000).unref()
  })
  process.stdout.write(formatEnode(server.localNode) + '\n')
  const disc = server.discovery
  const v5 = server.discoveryV5
  log.info(
    {
      id: server.self.idHex,
      tcp: server.port,
      udp: disc?.self.udp ?? v5?.transport.port ?? null,
      enr: disc?.localENR.toText() ?? v5?.transport.localENR.toText() ?? null,
      protocols: [...(disc ? ['discv4'] : []), ...(v5 ? ['discv5'] : [])],
      network: opts.network,
      datadir: opts.datadir ?? null,
    },
    'node started',
  )

  server.on('peer:added', (p) => log.info({ id: p.node.idHex, ip: p.node.ip, inbound: p.inbound, client: p.remoteHello.clientId, caps: p.caps.map((c) => `${c.name}/${c.version}`) }, 'peer added'))
  server.on('peer:removed', (p, end) => log.info({ id: p.node.idHex, reason: disconnectReasonText(end.reason), remote: end.remoteRequested }, 'peer removed'))
  disc?.on('endpoint', (ep, enr) => log.info({ ip: ep.ip, port: ep.port, seq: String(enr.seq) }, 'external endpoint predicted, ENR updated'))
  if (disc) logDiscoveryEvents(log, disc)

  const stopping = new AbortController()
  const mapper = nat && extip === undefined ? new PortMapper(nat, { tcpPort: server.port, udpPort: disc?.self.udp ?? server.port, name: 'ethp2p' }) : undefined
  if (mapper) {
    mapper.on('mapped', (m) => log.info(m, 'port mapped'))
    mapper.on('mapFailed', (proto, port, err) => log.warn({ proto, port, err: err.message }, 'port mapping failed'))
    mapper.on('externalIP', (ip) => log.info({ ip, nat: nat!.name }, 'external address from the gateway'))
    mapper.start(stopping.signal).catch((err: unknown) => log.warn({ err: (err as Error).message }, 'NAT port mapping unavailable'))
  }

  server.on('dial:candidatesError', (err, retryMs) => log.warn({ err: err.message, retryMs }, 'discovery candidates failed; dynamic dialling paused'))

  let metricsServer: { close(): Promise<void> } | undefined
  if (opts.metrics !== undefined) {
    const metrics = new P2PMetrics({ discovery: () => server.discovery, peers: () => server.peerCounts() })
    server.on('dial:start', () => metrics.dialAttempted())
    server.on('dial:end', (_n, _k, err) => (err ? metrics.dialFailed(err.name) : metrics.dialSucceeded()))
    server.on('peer:added', () => metrics.handshake(true))
    server.on('conn:failed', () => metrics.handshake(false))
    const m = await serveMetrics(opts.metrics, metrics.registry, stopping.signal)
    metricsServer = m
    log.info({ port: m.port }, 'metrics at /metrics')
  }

  const stats = setInterval(() => {
    const s = disc?.stats
    log.info({ peers: server.peerCount, pending: server.pendingCount, table: disc?.table.size ?? 0, packetsIn: s?.packetsIn ?? 0, packetsOut: s?.packetsOut ?? 0 }, 'status')
  }, 60_000)
  stats.unref()

  log.info({ why: await stopped }, 'stopping')
  clearInterval(stats)
  stopping.abort()
  await server.stop()
  await mapper?.stop()
  await nat?.close()
  await metricsServer?.close()
  await db.close()
  log.info({ id: server.self.idHex }, 'stopped')
}
