// A crawl inside a program: a loopback network with 100 ms round trips and 2 % loss (so it runs
// offline), crawled over discv4 and discv5 on one socket; prints a line per node and a summary.
import { Crawler, Discv4, randomPrivateKey, startTestnet } from 'ethp2p'

const net = await startTestnet({ nodes: 200, rttMs: 100, lossRate: 0.02, discv5: true })
const disc = await Discv4.listen({ privateKey: randomPrivateKey(), host: '127.0.0.1', port: 0, discv5: true })
const crawler = new Crawler({ transport: disc, seeds: net.bootnodes, rate: 2000 })
let answered = 0
for await (const r of crawler.records()) {
  if (!r.answered) continue
  answered++
  if (answered <= 5) console.log(`${r.id.slice(0, 16)} ${r.ip}:${r.udp} ${r.protocols?.join('+')} rtt ${r.rttMs} ms${r.consensus ? ` ${r.consensus.network} ${r.consensus.fork}` : ''}`)
}
const p = crawler.progress()
console.log(`crawl: ${p.found} found, ${answered} answered, ${p.packetsIn + p.packetsOut} datagrams`)
await disc.close()
await net.close()
