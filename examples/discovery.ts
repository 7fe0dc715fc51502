/**
 * Discovery on its own: a discv4 node that joins a network, answers the others, and hands out a
 * stream of nodes with their signed records: what a dialer, a monitor or a DNS-list publisher needs,
 * with no RLPx and no server.
 *
 * It joins a 100-node loopback network started in this process, so it runs offline; on the real
 * network, listen on a public address with real bootnodes (and a NodeDB `path` to remember peers).
 */
import { Discv4, formatEnode, randomPrivateKey, startTestnet } from 'ethp2p'

const net = await startTestnet({ nodes: 100, deadFraction: 0 })
const disc = await Discv4.listen({ privateKey: randomPrivateKey(), host: '127.0.0.1', port: 0, bootnodes: net.bootnodes })
try {
  console.log(`listening as ${formatEnode(disc.self)}`)
  const wanted = 20
  const records = new Map<string, string>()
  // random lookups, one after the other: an endless stream of nodes the table learns of
  for await (const node of disc.randomNodes(AbortSignal.timeout(60_000))) {
    if (records.has(node.idHex)) continue
    // its signed record (ENRRequest, after the endpoint proof discv4 requires)
    const enr = await disc.enrRequest(node).catch(() => undefined)
    if (!enr) continue
    records.set(node.idHex, `seq ${enr.seq} at ${enr.ip}:${enr.udp}`)
    if (records.size === wanted) break
  }
  for (const [id, where] of records) console.log(`${id.slice(0, 16)}… ${where}`)
  console.log(`${records.size} nodes with records; the table holds ${disc.table.nodes().length}`)
} finally {
  await disc.close()
  await net.close()
}
