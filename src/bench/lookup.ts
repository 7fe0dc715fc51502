/**
 * An iterative lookup on a 1,000-node network of our real Discv4 nodes (table, endpoint proofs,
 * revalidation: everything a deployed node runs) on loopback.
 *
 * The network runs in a child process (this module is its entry point), so the looking-up node in the
 * parent has a core of its own and a lookup's time is network time, not time shared with its peers.
 * Nodes join in batches through one hub, each running its initial self-lookup as geth does on start;
 * every node is on its own 127.x.y.z address. The fresh node bootstraps from the hub, then runs
 * random-target lookups one after another: median time and packets (both directions, including the
 * pings that bond with nodes met for the first time), and how many of the true 16 closest it found.
 *
 * @ethereumjs/devp2p is not measured here: its DPT has no lookup. `findneighbours` sends a FINDNODE
 * and returns; replies are not matched to requests, nodes are pinged 200 ms apart as they come, and
 * nothing converges on a target or ends, so there is no "lookup" whose time or packets to count.
 */
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { backend, randomPrivateKey } from '../crypto/backend.js'
import type { BackendName } from '../crypto/types.js'
import { Discv4 } from '../discover/udp.js'
import { formatEnode, parseEnode } from '../enode/url.js'
import { testnetIP } from '../testnet/testnet.js'
import type { Row, Target } from './harness.js'

const NODES = Number(process.env['ETHP2P_BENCH_LOOKUP_NODES'] ?? 1000)
const LOOKUPS = 20
/** nodes started at once; each batch finishes its self-lookups before the next joins */
const BATCH = 250

interface Net {
  /** the hub's enode */
  hub: string
  /** every node's ID, hex: the truth a lookup's result is checked against */
  ids: string[]
}

async function serveNetwork(count: number): Promise<void> {
  const nodes: Discv4[] = []
  const hub = await Discv4.listen({ privateKey: randomPrivateKey(), host: testnetIP(0), port: 0 })
  nodes.push(hub)
  for (let i = 1; i < count; i += BATCH) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(BATCH, count - i) }, (_, j) => Discv4.listen({ privateKey: randomPrivateKey(), host: testnetIP(i + j), port: 0, bootnodes: [hub.self] })),
    )
    await Promise.all(batch.map((d) => d.table.waitInit()))
    nodes.push(...batch)
  }
  process.stdout.write(JSON.stringify({ hub: formatEnode(hub.self), ids: nodes.map((d) => d.self.idHex) } satisfies Net) + '\n')
  process.stdin.resume()
  await new Promise((resolve) => process.stdin.once('end', resolve))
  await Promise.all(nodes.map((d) => d.close()))
}

/** XOR distance order of two IDs towards `target` */
function closer(target: Uint8Array, a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < 32; i++) {
    const x = a[i]! ^ target[i]!
    const y = b[i]! ^ target[i]!
    if (x !== y) return x - y
  }
  return 0
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

export async function lookupBench(_names: readonly BackendName[]): Promise<{ rows: Row[]; targets: Target[] }> {
  const startedAt = Date.now()
  const p = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), 'network', String(NODES)], { stdio: ['pipe', 'pipe', 'inherit'] })
  const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()))
  try {
    const net = await new Promise<Net>((resolve, reject) => {
      createInterface({ input: p.stdout }).once('line', (l) => resolve(JSON.parse(l) as Net))
      p.once('exit', (code) => reject(new Error(`lookup network exited with ${code}`)))
    })
    const startup = (Date.now() - startedAt) / 1000
    const ids = net.ids.map((h) => Buffer.from(h, 'hex'))
    const me = await Discv4.listen({ privateKey: randomPrivateKey(), host: '127.0.0.1', port: 0, bootnodes: [parseEnode(net.hub)] })
    try {
      // the initial self-lookup fills our table: what any node does once before serving lookups
      await me.table.waitInit()
      const times: number[] = []
      const packets: number[] = []
      const found: number[] = []
      for (let i = 0; i < LOOKUPS; i++) {
        const target = me.randomTarget()
        const before = me.stats.packetsIn + me.stats.packetsOut
        const t0 = performance.now()
        const result = await me.lookup(target)
        times.push(performance.now() - t0)
        packets.push(me.stats.packetsIn + me.stats.packetsOut - before)
        const truth = new Set([...ids].sort((a, b) => closer(target.id, a, b)).slice(0, 16).map((id) => id.toString('hex')))
        found.push(result.filter((n) => truth.has(n.idHex)).length)
      }
      const ms = median(times)
      console.log(`network: ${NODES} Discv4 nodes in a child process (started in ${startup.toFixed(1)} s); ${LOOKUPS} random-target lookups from a fresh node`)
      console.log(`lookup: median ${ms.toFixed(1)} ms (min ${Math.min(...times).toFixed(1)}, max ${Math.max(...times).toFixed(1)}), median ${median(packets)} packets, median ${median(found)}/16 of the true closest found`)
      console.log('@ethereumjs/devp2p: not comparable — DPT has no lookup (fire-and-forget FINDNODE, no convergence, no end)')
      return { rows: [{ op: `lookup, ${NODES}-node network (lookups/s, one at a time)`, impl: backend.name, hz: 1000 / ms, rme: 0 }], targets: [] }
    } finally {
      await me.close()
    }
  } finally {
    p.stdin.end()
    await exited
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2] === 'network') {
  await serveNetwork(Number(process.argv[3]))
}
