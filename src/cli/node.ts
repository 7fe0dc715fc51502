/**
 * `ethp2p node`: run a node. First line on stdout is its enode URL; logs go to stderr as JSON;
 * SIGINT/SIGTERM close everything and exit 0.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { hex } from '../crypto/bytes.js'
import { Node } from '../enode/node.js'
import { formatEnode } from '../enode/url.js'
import { Discv4 } from '../discover/udp.js'
import { NodeDB } from '../discover/nodedb.js'
import { loadOrCreateNodeKey, parseNodeKey, readNodeKey } from '../config/nodekey.js'
import { randomPrivateKey } from '../crypto/backend.js'
import { createLogger } from '../util/log.js'

export interface NodeOptions {
  datadir?: string
  host: string
  port: number
  discport?: number
  nodekey?: string
  nodekeyhex?: string
  bootnodes?: Node[]
  nat?: string
  ntp: string
  duration?: number
}

function nodeKey(opts: NodeOptions): Uint8Array {
  if (opts.nodekeyhex !== undefined) return parseNodeKey(opts.nodekeyhex, '--nodekeyhex')
  if (opts.nodekey !== undefined) return readNodeKey(opts.nodekey)
  if (opts.datadir !== undefined) return loadOrCreateNodeKey(join(opts.datadir, 'nodekey'))
  return randomPrivateKey()
}

/** `--nat extip:IP` pins the announced address; `none` leaves it to prediction from pongs */
function externalIP(nat: string | undefined): string | undefined {
  if (nat === undefined || nat === 'none') return undefined
  if (nat.startsWith('extip:')) return nat.slice('extip:'.length)
  throw new Error(`--nat ${nat}: only none and extip:IP are supported`)
}

export async function runNode(opts: NodeOptions): Promise<void> {
  const log = createLogger()
  if (opts.datadir !== undefined) mkdirSync(opts.datadir, { recursive: true })
  const key = nodeKey(opts)
  const db = opts.datadir !== undefined ? new NodeDB({ path: join(opts.datadir, 'nodes') }) : new NodeDB()
  const ext = externalIP(opts.nat)
  const disc = await Discv4.listen({
    privateKey: key,
    host: opts.host,
    port: opts.discport ?? opts.port,
    tcpPort: opts.port,
    db,
    bootnodes: opts.bootnodes ?? [],
    ...(ext !== undefined ? { externalIP: ext } : {}),
    ...(opts.ntp !== 'none' ? { ntpServer: opts.ntp } : {}),
  })
  // a wildcard bind has no address of its own to announce: say loopback, as geth does
  const ip = disc.self.ip === '0.0.0.0' || disc.self.ip === '::' ? '127.0.0.1' : disc.self.ip
  process.stdout.write(formatEnode(new Node(disc.self.pubkey, ip, disc.self.udp, disc.self.tcp)) + '\n')
  log.info({ id: disc.self.idHex, udp: disc.self.udp, enr: disc.localENR.toText(), datadir: opts.datadir ?? null }, 'node started')

  disc.on('endpoint', (ep, enr) => log.info({ ip: ep.ip, port: ep.port, seq: String(enr.seq) }, 'external endpoint predicted, ENR updated'))
  disc.on('clockDrift', (ms) => log.warn({ offsetMs: Math.round(ms) }, 'system clock is off by more than 10 s: discovery packets will look expired; adjust the clock'))
  disc.on('dbError', (err) => log.error({ err }, 'node database write failed'))
  const stats = setInterval(() => {
    const s = disc.stats
    log.info({ table: disc.table.size, packetsIn: s.packetsIn, packetsOut: s.packetsOut, timeouts: s.timeouts, pending: s.pending }, 'discovery')
  }, 60_000)
  stats.unref()

  await new Promise<void>((resolve) => {
    const stop = (why: string): void => {
      log.info({ why }, 'stopping')
      resolve()
    }
    process.once('SIGINT', () => stop('SIGINT'))
    process.once('SIGTERM', () => stop('SIGTERM'))
    // the bound socket keeps the process alive until then
    if (opts.duration !== undefined) setTimeout(() => stop('duration elapsed'), opts.duration * 1000).unref()
  })
  clearInterval(stats)
  await disc.close()
  await db.close()
  log.info({ id: hex(disc.self.id) }, 'stopped')
}
