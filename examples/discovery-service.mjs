// Discovery alone, both protocols on one UDP port: bootstrapped from a loopback network, it walks
// random lookups for a few seconds and reports the nodes it learns, then answers its own FINDNODE.
import { Discv4, randomPrivateKey, startTestnet } from 'ethp2p'

const net = await startTestnet({ nodes: 100, discv5: true })
const disc = await Discv4.listen({ privateKey: randomPrivateKey(), host: '127.0.0.1', port: 0, bootnodes: net.bootnodes, discv5: true })
await disc.table.waitInit()
const seen = new Set()
const stop = AbortSignal.timeout(5000)
try {
  for await (const n of disc.randomNodes(stop)) {
    seen.add(n.idHex)
    if (seen.size >= 50) break
  }
} catch (err) {
  // the walk ends when its signal does
  if (!stop.aborted) throw err
}
console.log(`discovery: ${seen.size} nodes found, ${disc.table.size} in the table, record ${disc.localENR.toText().slice(0, 24)}…`)
// the discv5 side on the same port knows the same record
console.log(`discv5 record seq ${disc.v5.localENR.seq}, same as discv4's: ${disc.v5.localENR.seq === disc.localENR.seq}`)
await disc.close()
await net.close()
