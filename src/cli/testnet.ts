/**
 * `ethp2p testnet`: a loopback discv4 network of N nodes. First stdout line: the bootnode enode URLs,
 * comma-separated (what `crawl --bootnodes` takes). Runs until --duration or SIGINT/SIGTERM, exit 0.
 */
import { formatEnode } from '../enode/url.js'
import { startTestnet, type TestnetOptions } from '../testnet/testnet.js'
import { createLogger } from '../util/log.js'

/** `ethp2p testnet`'s parsed options. */
export interface TestnetCliOptions {
  nodes: number
  basePort?: number
  duration?: number
  rtt?: number
  loss?: number
  dead?: number
  /** tables that serve revalidated entries only, this share checked at the start (geth's liveness filter) */
  youngTables?: number
  /** with discv5: this share of the live nodes speaks discv4 only */
  v4Only?: number
  discv5?: boolean
}

/** the testnet options the CLI's simulation flags ask for */
export function simulated(o: { rtt?: number; loss?: number; dead?: number; youngTables?: number; v4Only?: number }): Pick<TestnetOptions, 'rttMs' | 'lossRate' | 'deadFraction' | 'liveness' | 'v4OnlyFraction'> {
  return {
    ...(o.rtt !== undefined ? { rttMs: o.rtt } : {}),
    ...(o.loss !== undefined ? { lossRate: o.loss } : {}),
    ...(o.dead !== undefined ? { deadFraction: o.dead } : {}),
    ...(o.youngTables !== undefined ? { liveness: { checked: o.youngTables } } : {}),
    ...(o.v4Only !== undefined ? { v4OnlyFraction: o.v4Only } : {}),
  }
}

/** `ethp2p testnet`: starts the network, prints its bootnodes first, runs until the duration or a signal. */
export async function runTestnet(opts: TestnetCliOptions): Promise<void> {
  const log = createLogger()
  const net = await startTestnet({ nodes: opts.nodes, ...(opts.basePort !== undefined ? { basePort: opts.basePort } : {}), ...simulated(opts), ...(opts.discv5 ? { discv5: true } : {}) })
  // listen for signals before telling anyone we are up: a SIGINT right after the first line must
  // still close the network cleanly
  const stopped = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'))
    process.once('SIGTERM', () => resolve('SIGTERM'))
    // the bound sockets keep the process alive until then
    if (opts.duration !== undefined) setTimeout(() => resolve('duration elapsed'), opts.duration * 1000).unref()
  })
  process.stdout.write(net.bootnodes.map((n) => formatEnode(n)).join(',') + '\n')
  const count = (b: string): number => net.nodes.filter((n) => n.behaviour === b).length
  log.info({ nodes: opts.nodes, live: count('live'), dead: count('dead'), ...(opts.discv5 ? { bootENRs: net.bootENRs.map((r) => r.toText()) } : {}) }, 'testnet running')
  const why = await stopped
  log.info({ why, packetsIn: net.stats.packetsIn, packetsOut: net.stats.packetsOut, ...(net.conditions ?? {}) }, 'stopping')
  await net.close()
}
