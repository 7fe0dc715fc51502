/**
 * `ethp2p testnet`: a loopback discv4 network of N nodes. First stdout line: the bootnode enode URLs,
 * comma-separated (what `crawl --bootnodes` takes). Runs until --duration or SIGINT/SIGTERM, exit 0.
 */
import { formatEnode } from '../enode/url.js'
import { startTestnet } from '../testnet/testnet.js'
import { createLogger } from '../util/log.js'

export interface TestnetCliOptions {
  nodes: number
  basePort?: number
  duration?: number
}

export async function runTestnet(opts: TestnetCliOptions): Promise<void> {
  const log = createLogger()
  const net = await startTestnet({ nodes: opts.nodes, ...(opts.basePort !== undefined ? { basePort: opts.basePort } : {}) })
  process.stdout.write(net.bootnodes.map((n) => formatEnode(n)).join(',') + '\n')
  const count = (b: string): number => net.nodes.filter((n) => n.behaviour === b).length
  log.info({ nodes: opts.nodes, live: count('live'), dead: count('dead') }, 'testnet running')
  await new Promise<void>((resolve) => {
    const stop = (why: string): void => {
      log.info({ why, packetsIn: net.stats.packetsIn, packetsOut: net.stats.packetsOut }, 'stopping')
      resolve()
    }
    process.once('SIGINT', () => stop('SIGINT'))
    process.once('SIGTERM', () => stop('SIGTERM'))
    // the bound sockets keep the process alive until then
    if (opts.duration !== undefined) setTimeout(() => stop('duration elapsed'), opts.duration * 1000).unref()
  })
  await net.close()
}
