/**
 * A loopback discv4 network for demos, tests and benchmarks: N nodes in one process, each with its own
 * key, record and UDP socket on its own 127.x.y.z address (two per /24, so no /24 limit hides one).
 *
 * Tables are laid out the way a settled geth network ends up: for every node and every log distance,
 * up to 16 nodes picked at random among those at that distance (all of them when fewer). With IDs
 * sorted, the nodes at distance d from x are one contiguous run (x's prefix with the next bit
 * flipped), so building all tables costs N × buckets binary searches. Dead nodes stay listed in
 * others' tables, as departed nodes do in real ones, and never answer.
 *
 * A share of the live nodes (`rlpxFraction`) also accepts RLPx on its TCP port (see rlpx.ts): varied
 * client ids, mainnet or sepolia Status, some busy. The others announce a TCP port nobody listens on,
 * as nodes behind a firewall do.
 */
import { createSocket, type Socket } from 'node:dgram'
import { backend as defaultBackend, randomPrivateKey } from '../crypto/backend.js'
import type { CryptoBackend } from '../crypto/types.js'
import { ENR } from '../enode/enr.js'
import { Node } from '../enode/node.js'
import { forkHashes } from '../eth/forkid.js'
import { MAINNET, SEPOLIA } from '../eth/networks.js'
import { uintBytes } from '../util/rlp.js'
import { Responder, type Behaviour, type ResponderStats } from './responder.js'
import { RLPxResponder, TESTNET_CLIENT_IDS, type RLPxBehaviour, type RLPxProfile } from './rlpx.js'

const BUCKET_SIZE = 16
/** nodes that fit the address plan (127.1-255.y.z, two per /24) */
export const MAX_TESTNET_NODES = 100_000
/** sockets bound at once while starting */
const BIND_BATCH = 256

/** A testnet that cannot start: a bad option, or a socket that cannot bind. */
export class TestnetError extends Error {
  override readonly name = 'TestnetError'
}

/** The size and make-up of a {@link startTestnet} network. */
export interface TestnetOptions {
  /** how many nodes (at most {@link MAX_TESTNET_NODES}) */
  nodes: number
  /** node i listens on basePort + i (default: a free port each) */
  basePort?: number
  /** share of nodes that never answer (default 0.1) */
  deadFraction?: number
  /** share of nodes that answer everything with garbage (default 0) */
  garbageFraction?: number
  /** share of nodes (live ones only) that also answer RLPx on their TCP port (default 0.5) */
  rlpxFraction?: number
  /** how many live nodes to hand out as bootnodes (default 3) */
  bootnodes?: number
  backend?: CryptoBackend
}

/** One node of a testnet, with the ground truth tests check a crawl against. */
export interface TestnetNode {
  node: Node
  behaviour: Behaviour
  /** what it answers to ENRRequest */
  enr: ENR
  /** its routing table (shared Node objects; ground truth for tests) */
  table: Node[]
  /** what its RLPx side answers, when it has one */
  rlpx?: RLPxProfile
}

/** A running loopback network. */
export interface Testnet {
  /** live nodes to start from */
  bootnodes: Node[]
  nodes: TestnetNode[]
  stats: ResponderStats
  /** Close every socket; the network is gone when this resolves. */
  close(): Promise<void>
}

/** node i's address: 127.a.b.c with a ≥ 1, so nothing lands on 127.0.0.x */
export function testnetIP(i: number): string {
  const net = i >> 1
  return `127.${1 + (net >> 8)}.${net & 255}.${1 + (i & 1)}`
}

function bind(ip: string, port: number): Promise<Socket> {
  const s = createSocket({ type: 'udp4' })
  return new Promise((resolve, reject) => {
    s.once('error', (err) => {
      s.close()
      reject(new TestnetError(`cannot bind ${ip}:${port}: ${err.message}`))
    })
    s.bind(port, ip, () => {
      s.removeAllListeners('error')
      resolve(s)
    })
  })
}

/** the top 48 bits of an ID, exact in a double */
function prefix48(id: Uint8Array): number {
  let v = 0
  for (let i = 0; i < 6; i++) v = v * 256 + id[i]!
  return v
}

/** first index in the sorted `keys` whose value is ≥ v */
function lowerBound(keys: Float64Array, v: number): number {
  let lo = 0
  let hi = keys.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (keys[mid]! < v) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Tables for every node: up to 16 random picks per log distance (see the file comment). */
function buildTables(nodes: Node[]): Node[][] {
  const order = nodes.map((n, i) => ({ k: prefix48(n.id), i })).sort((a, b) => a.k - b.k)
  const keys = Float64Array.from(order, (o) => o.k)
  return nodes.map((n) => {
    const x = prefix48(n.id)
    const table: Node[] = []
    // bits: length of the shared prefix; stop once x is alone in its subtree (deeper buckets are empty)
    for (let bits = 0; bits < 30; bits++) {
      const span = 2 ** (47 - bits)
      const mine = Math.floor(x / span)
      const lo = (mine ^ 1) * span
      const from = lowerBound(keys, lo)
      const to = lowerBound(keys, lo + span)
      const count = to - from
      if (count <= BUCKET_SIZE) for (let j = from; j < to; j++) table.push(nodes[order[j]!.i]!)
      else {
        const picked = new Set<number>()
        while (picked.size < BUCKET_SIZE) picked.add(from + Math.floor(Math.random() * count))
        for (const j of picked) table.push(nodes[order[j]!.i]!)
      }
      const ownFrom = lowerBound(keys, mine * span)
      const ownTo = lowerBound(keys, (mine + 1) * span)
      if (ownTo - ownFrom <= 1) break
    }
    return table
  })
}

/** Start the network; every socket is bound and every table filled when this resolves. */
export async function startTestnet(opts: TestnetOptions): Promise<Testnet> {
  const b = opts.backend ?? defaultBackend
  const count = opts.nodes
  if (!Number.isInteger(count) || count < 1 || count > MAX_TESTNET_NODES) throw new TestnetError(`nodes must be 1..${MAX_TESTNET_NODES}`)
  const base = opts.basePort ?? 0
  if (base !== 0 && (base < 1025 || base + count - 1 > 65535)) throw new TestnetError(`ports ${base}..${base + count - 1} do not fit 1025..65535`)
  const dead = opts.deadFraction ?? 0.1
  const garbage = opts.garbageFraction ?? 0
  if (!(dead >= 0 && garbage >= 0 && dead + garbage < 1)) throw new TestnetError('dead and garbage fractions must be ≥ 0 and leave live nodes')
  const deadCount = Math.round(count * dead)
  const garbageCount = Math.round(count * garbage)
  // live nodes first, so the bootnodes (taken from the front) answer
  const behaviourOf = (i: number): Behaviour => (i >= count - deadCount ? 'dead' : i >= count - deadCount - garbageCount ? 'garbage' : 'live')
  const rlpxShare = opts.rlpxFraction ?? 0.5
  if (!(rlpxShare >= 0 && rlpxShare <= 1)) throw new TestnetError('rlpxFraction must be within 0..1')
  // spread evenly over the live nodes: node i is one when floor((i+1)·f) steps up
  const rlpxIndex = (i: number): number | undefined =>
    behaviourOf(i) === 'live' && Math.floor((i + 1) * rlpxShare) > Math.floor(i * rlpxShare) ? Math.floor(i * rlpxShare) : undefined

  const sockets: Socket[] = []
  try {
    for (let i = 0; i < count; i += BIND_BATCH) {
      const batch = await Promise.all(Array.from({ length: Math.min(BIND_BATCH, count - i) }, (_, j) => bind(testnetIP(i + j), base === 0 ? 0 : base + i + j)))
      sockets.push(...batch)
    }
  } catch (err) {
    for (const s of sockets) s.close()
    throw err
  }

  const keys = Array.from({ length: count }, () => randomPrivateKey())
  const profiles = Array.from({ length: count }, (_, i) => {
    const k = rlpxIndex(i)
    return k === undefined ? undefined : rlpxProfile(k)
  })
  const listeners: RLPxResponder[] = []
  const want = profiles.flatMap((p, i) => (p ? [i] : []))
  try {
    for (let j = 0; j < want.length; j += BIND_BATCH) {
      const batch = await Promise.all(want.slice(j, j + BIND_BATCH).map((i) => RLPxResponder.listen(testnetIP(i), sockets[i]!.address().port, keys[i]!, profiles[i]!, b)))
      listeners.push(...batch)
    }
  } catch (err) {
    for (const s of sockets) s.close()
    await Promise.all(listeners.map((l) => l.close()))
    throw err
  }
  const tcpOf = new Map(want.map((i, j) => [i, listeners[j]!.port]))

  // half the nodes announce their chain's current fork in an `eth` entry, a fifth an `eth2` entry
  const latestFork = { mainnet: forkHashes(MAINNET).at(-1)!, sepolia: forkHashes(SEPOLIA).at(-1)! }
  const stats: ResponderStats = { packetsIn: 0, packetsOut: 0 }
  const members: TestnetNode[] = []
  const responders: Responder[] = []
  for (let i = 0; i < count; i++) {
    const key = keys[i]!
    const ip = testnetIP(i)
    const port = sockets[i]!.address().port
    // without RLPx the node still announces a TCP port (its UDP one): dials there are refused
    const tcp = tcpOf.get(i) ?? port
    const node = new Node(b.publicKey(key), ip, port, tcp)
    const profile = profiles[i]
    const extra: Parameters<typeof ENR.sign>[1]['extra'] = {}
    if (i % 2 === 0) extra['eth'] = [[profile?.chain === SEPOLIA ? latestFork.sepolia : latestFork.mainnet, uintBytes(0)]]
    if (i % 5 === 0) extra['eth2'] = new Uint8Array(16).fill(i & 255)
    const enr = ENR.sign(key, { seq: BigInt(1 + (i % 7)), ip, udp: port, tcp, extra }, b)
    const behaviour = behaviourOf(i)
    responders.push(new Responder(sockets[i]!, node, key, enr.raw, enr.seq, behaviour, b, stats))
    members.push({ node, behaviour, enr, table: [], ...(profile ? { rlpx: profile } : {}) })
  }
  const tables = buildTables(members.map((m) => m.node))
  responders.forEach((r, i) => {
    r.table = tables[i]!
    members[i]!.table = tables[i]!
  })

  const bootnodes = members
    .filter((m) => m.behaviour === 'live')
    .slice(0, opts.bootnodes ?? 3)
    .map((m) => m.node)
  let closed = false
  return {
    bootnodes,
    nodes: members,
    stats,
    async close() {
      if (closed) return
      closed = true
      await Promise.all([...responders.map((r) => r.close()), ...listeners.map((l) => l.close())])
    },
  }
}

/**
 * The k-th RLPx node: client ids round-robin, a third on sepolia, a quarter speaking only eth/68 (the
 * older Status layout), a fifth busy right after Hello, a tenth busy instead of it.
 */
function rlpxProfile(k: number): RLPxProfile {
  const behaviour: RLPxBehaviour = k % 10 === 9 ? 'busy-instead-of-hello' : k % 5 === 3 ? 'busy-after-hello' : 'ok'
  return {
    clientId: TESTNET_CLIENT_IDS[k % TESTNET_CLIENT_IDS.length]!,
    chain: k % 3 === 2 ? SEPOLIA : MAINNET,
    ethVersions: k % 4 === 1 ? [68] : [68, 69],
    behaviour,
  }
}
