/**
 * An iterative lookup from our Discv4 node on a 1,000-node loopback network.
 *
 * The network is the testnet (src/testnet): nodes that answer as a settled geth network does — pong
 * and ping-back to strangers, FINDNODE only after an endpoint proof, NEIGHBORS with the 16 entries of
 * a geth-shaped table closest to the target, in 12 + 4. Its tables are laid out at start, so a
 * 1,000-node network is ready in seconds instead of the minutes 1,000 full Discv4 nodes need to
 * bootstrap each other in batches (and even then they converge poorly: a batch does not know itself).
 * It runs in a child process (this module is its entry point), so a lookup's time is network time,
 * not time shared with the responders. Two networks: every node live, and 10 % dead (departed nodes
 * still listed in tables, as on mainnet: each costs a 500 ms reply timeout when asked).
 *
 * The fresh node bootstraps (its initial refresh: self-lookup and three random ones), then runs random
 * lookups one after another: median time, packets (both directions, including the pings that bond
 * with nodes met for the first time), and how many of the true 16 closest live nodes it returned.
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
import { startTestnet } from '../testnet/testnet.js'
import type { Row, Target } from './harness.js'

const NODES = Number(process.env['ETHP2P_BENCH_LOOKUP_NODES'] ?? 1000)
const LOOKUPS = 20

interface Net {
  bootnodes: string[]
  /** every live node's ID, hex: the truth a lookup's result is checked against */
  ids: string[]
}

async function serveNetwork(count: number, deadFraction: number): Promise<void> {
  const net = await startTestnet({ nodes: count, deadFraction })
  const ids = net.nodes.filter((n) => n.behaviour === 'live').map((n) => n.node.idHex)
  process.stdout.write(JSON.stringify({ bootnodes: net.bootnodes.map((n) => formatEnode(n)), ids } satisfies Net) + '\n')
  process.stdin.resume()
  await new Promise((resolve) => process.stdin.once('end', resolve))
  await net.close()
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

interface Result {
  ms: number
  packets: number
  found: number
}

/** LOOKUPS lookups from a fresh node on a network of NODES with `dead` of them departed */
async function measure(dead: number): Promise<Result> {
  const p = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), 'network', String(NODES), String(dead)], { stdio: ['pipe', 'pipe', 'inherit'] })
  const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()))
  try {
    const net = await new Promise<Net>((resolve, reject) => {
      createInterface({ input: p.stdout }).once('line', (l) => resolve(JSON.parse(l) as Net))
      p.once('exit', (code) => reject(new Error(`lookup network exited with ${code}`)))
    })
    const ids = net.ids.map((h) => Buffer.from(h, 'hex'))
    const me = await Discv4.listen({ privateKey: randomPrivateKey(), host: '127.0.0.1', port: 0, bootnodes: net.bootnodes.map((e) => parseEnode(e)) })
    try {
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
      return { ms: median(times), packets: median(packets), found: median(found) }
    } finally {
      await me.close()
    }
  } finally {
    p.stdin.end()
    await exited
  }
}

/** Lookup suite: time and packets of random-target lookups on a loopback network, all live and with dead nodes. */
export async function lookupBench(_names: readonly BackendName[]): Promise<{ rows: Row[]; targets: Target[] }> {
  console.log(`${NODES}-node loopback testnet in a child process; ${LOOKUPS} random-target lookups from a fresh Discv4 node, medians:`)
  const rows: Row[] = []
  for (const dead of [0, 0.1]) {
    const r = await measure(dead)
    const what = dead === 0 ? 'all live' : `${dead * 100} % dead`
    console.log(`  ${what.padEnd(10)} ${r.ms.toFixed(1).padStart(7)} ms  ${String(r.packets).padStart(4)} packets  ${r.found}/16 of the true closest`)
    rows.push({ op: `lookup, ${NODES} nodes, ${what} (lookups/s)`, impl: backend.name, hz: 1000 / r.ms, rme: 0 })
  }
  console.log('@ethereumjs/devp2p: not comparable — DPT has no lookup (fire-and-forget FINDNODE, no convergence, no end)')
  return { rows, targets: [] }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2] === 'network') {
  await serveNetwork(Number(process.argv[3]), Number(process.argv[4]))
}
