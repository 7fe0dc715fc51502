/**
 * A crawl embedded in a program: enumerate a discv4 network and keep what you need of each node.
 *
 * It crawls a 200-node loopback network started in this process, so it runs offline. To crawl the
 * real network, listen on a public address and seed the crawler with bootnodes instead:
 * `seeds: MAINNET_BOOTNODES.map(parseEnode)`.
 */
import { Crawler, Discv4, randomPrivateKey, startTestnet } from 'ethp2p'

const net = await startTestnet({ nodes: 200 })
// the crawler talks through an ordinary discv4 endpoint: it needs no table of its own
const disc = await Discv4.listen({ privateKey: randomPrivateKey(), host: '127.0.0.1', port: 0 })
try {
  const crawler = new Crawler({ transport: disc, seeds: net.bootnodes })
  let found = 0
  let answered = 0
  const networks = new Map<string, number>()
  // one final record per node, as soon as the crawl is done with it; the loop ends with the crawl
  for await (const record of crawler.records()) {
    found++
    if (!record.answered) continue
    answered++
    const network = record.network ?? '(no eth entry)'
    networks.set(network, (networks.get(network) ?? 0) + 1)
  }
  const live = net.nodes.filter((n) => n.behaviour === 'live').length
  console.log(`found ${found} of ${net.nodes.length} nodes; ${answered} of the ${live} live ones answered`)
  for (const [network, n] of [...networks].sort()) console.log(`  ${network}: ${n}`)
} finally {
  await disc.close()
  await net.close()
}
