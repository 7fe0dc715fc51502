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
import { BUCKET_SIZE } from '../discover/kademlia.js'
import { fork, type ChildProcess } from 'node:child_process'
import type { Socket } from 'node:dgram'
import { fileURLToPath } from 'node:url'
import { backend as defaultBackend, randomPrivateKey } from '../crypto/backend.js'
import type { CryptoBackend } from '../crypto/types.js'
import { ENR } from '../enode/enr.js'
import { Node } from '../enode/node.js'
import { forkHashes, type ChainSpec } from '../eth/forkid.js'
import { eth2Entry, latestDigest } from '../eth/consensus.js'
import { MAINNET, SEPOLIA } from '../eth/networks.js'
import { uintBytes } from '../util/rlp.js'
import { Conditions, type ConditionsOptions, type ConditionStats } from './conditions.js'
import { livenessProblem, type LivenessOptions } from './liveness.js'
import { Responder, type Behaviour, type ResponderStats } from './responder.js'
import { RLPxResponder, TESTNET_CLIENT_IDS, type RLPxBehaviour, type RLPxProfile } from './rlpx.js'
import { BEHAVIOURS, bindUdp, shardPort, type ShardMessage, type ShardPlan } from './plan.js'

/** nodes that fit the address plan (127.1-255.y.z, two per /24) */
export const MAX_TESTNET_NODES = 100_000
/** sockets bound at once while starting */
const BIND_BATCH = 256
/** nodes one process holds: a UDP socket each, a TCP listener for those with RLPx, under 20,000 files */
export const NODES_PER_PROCESS = 8000

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
  /** mean round trip of the nodes' replies, ms (default 0: loopback speed); see conditions.ts */
  rttMs?: number
  /** probability that a datagram to or from a node is lost (default 0) */
  lossRate?: number
  /** seed of the simulated delays and losses, for a repeatable run */
  seed?: number
  /**
   * nodes answer discv5 too, on the same port (default false); a share of the live ones
   * (`v5OnlyFraction`, default 0.2) speak discv5 only and carry consensus-layer (`eth2`) records
   */
  discv5?: boolean
  v5OnlyFraction?: number
  /** in a discv5 network, a share of the live nodes that speak discv4 only (default 0: older execution clients) */
  v4OnlyFraction?: number
  /**
   * tables that answer with revalidated entries only, as geth's do (liveness.ts); default: every
   * entry is served, as in a settled network
   */
  liveness?: LivenessOptions
  /**
   * child processes to run the nodes in (default: 1, this process, up to NODES_PER_PROCESS nodes;
   * more take one child per NODES_PER_PROCESS). A process may hold 20,000 files here.
   */
  shards?: number
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
  /** the discovery protocols it speaks */
  protocols: Protocol[]
  /** its discv5 routing table (discv5 nodes only), when it speaks discv5 */
  table5?: Node[]
}

/** A discovery protocol a testnet node speaks. */
export type Protocol = 'v4' | 'v5'
const PROTOCOLS: Protocol[][] = [['v4'], ['v4', 'v5'], ['v5']]

/** A running loopback network. */
export interface Testnet {
  /** live nodes to start from (they speak discv4, and discv5 when the network does) */
  bootnodes: Node[]
  /** the same nodes' records (what a discv5 crawl starts from) */
  bootENRs: ENR[]
  nodes: TestnetNode[]
  stats: ResponderStats
  /** datagrams lost on purpose (and delayed ones dropped for lack of room), when conditions are simulated */
  conditions?: ConditionStats
  /** Close every socket; the network is gone when this resolves. */
  close(): Promise<void>
}

/** node i's address: 127.a.b.c with a ≥ 1, so nothing lands on 127.0.0.x */
export function testnetIP(i: number): string {
  const net = i >> 1
  return `127.${1 + (net >> 8)}.${net & 255}.${1 + (i & 1)}`
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
  const rtt = opts.rttMs ?? 0
  const loss = opts.lossRate ?? 0
  if (!(rtt >= 0 && rtt <= 10_000)) throw new TestnetError('rtt must be within 0..10000 ms')
  if (!(loss >= 0 && loss < 1)) throw new TestnetError('loss must be within 0..1')
  const conditions = rtt > 0 || loss > 0 ? new Conditions({ rttMs: rtt, loss, ...(opts.seed !== undefined ? { seed: opts.seed } : {}) }) : undefined
  const deadCount = Math.round(count * dead)
  const garbageCount = Math.round(count * garbage)
  // live nodes first, so the bootnodes (taken from the front) answer
  const behaviourOf = (i: number): Behaviour => (i >= count - deadCount ? 'dead' : i >= count - deadCount - garbageCount ? 'garbage' : 'live')
  const rlpxShare = opts.rlpxFraction ?? 0.5
  if (!(rlpxShare >= 0 && rlpxShare <= 1)) throw new TestnetError('rlpxFraction must be within 0..1')
  const v5only = opts.discv5 ? (opts.v5OnlyFraction ?? 0.2) : 0
  if (!(v5only >= 0 && v5only < 1)) throw new TestnetError('v5OnlyFraction must be within 0..1')
  const v4only = opts.discv5 ? (opts.v4OnlyFraction ?? 0) : 0
  if (!(v4only >= 0 && v4only + v5only < 1)) throw new TestnetError('v4OnlyFraction must be ≥ 0 and leave room for nodes that speak both')
  const liveProblem = opts.liveness && livenessProblem(opts.liveness)
  if (liveProblem) throw new TestnetError(liveProblem)
  const bootCount = opts.bootnodes ?? 3
  const every = (i: number, f: number): boolean => Math.floor((i + 1) * f) > Math.floor(i * f)
  // 0 discv4 only, 1 both, 2 discv5 only; the first live nodes (the bootnodes) speak both
  const protoOf = (i: number): number => {
    if (!opts.discv5) return 0
    if (behaviourOf(i) !== 'live' || i < bootCount) return 1
    return every(i, v5only) ? 2 : every(i + 7, v4only) ? 0 : 1
  }
  // spread evenly over the live nodes: node i is one when floor((i+1)·f) steps up; consensus nodes have none
  const rlpxIndex = (i: number): number | undefined =>
    behaviourOf(i) === 'live' && protoOf(i) !== 2 && Math.floor((i + 1) * rlpxShare) > Math.floor(i * rlpxShare) ? Math.floor(i * rlpxShare) : undefined
  const shards = opts.shards ?? Math.ceil(count / NODES_PER_PROCESS)
  if (!Number.isInteger(shards) || shards < 1 || shards > count) throw new TestnetError(`shards must be 1..${count}`)
  if (shards > 1) {
    const conditionOpts = rtt > 0 || loss > 0 ? { rttMs: rtt, loss, seed: opts.seed ?? (Math.random() * 2 ** 32) >>> 0 } : undefined
    return startSharded({ count, base, shards, behaviourOf, rlpxIndex, protoOf, bootnodes: bootCount, b, ...(conditionOpts ? { conditions: conditionOpts } : {}), ...(opts.liveness ? { liveness: opts.liveness } : {}) })
  }

  const sockets: Socket[] = []
  try {
    for (let i = 0; i < count; i += BIND_BATCH) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(BIND_BATCH, count - i) }, (_, j) =>
          bindUdp(testnetIP(i + j), base === 0 ? 0 : base + i + j).catch((err: Error) => {
            throw new TestnetError(err.message)
          }),
        ),
      )
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
    const proto = protoOf(i)
    const enr = nodeRecord(i, key, ip, port, tcp, profile, b, proto === 2)
    members.push({ node, behaviour: behaviourOf(i), enr, table: [], protocols: PROTOCOLS[proto]!, ...(profile ? { rlpx: profile } : {}) })
  }
  assignTables(members)
  const recordOf = recordLookup(members)
  const live = livenessOf(opts.liveness)
  for (const [i, m] of members.entries()) {
    const v5 = m.table5 ? { only: !m.protocols.includes('v4'), table: m.table5, recordOf, enr: m.enr, ...(live.v5 ? { liveness: live.v5 } : {}) } : undefined
    const r = new Responder(sockets[i]!, m.node, keys[i]!, m.enr.raw, m.enr.seq, m.behaviour, b, stats, conditions, v5, live.v4)
    r.table = m.table
    responders.push(r)
  }

  const boot = members.filter((m) => m.behaviour === 'live').slice(0, bootCount)
  let closed = false
  return {
    bootnodes: boot.map((m) => m.node),
    bootENRs: boot.map((m) => m.enr),
    nodes: members,
    stats,
    ...(conditions ? { conditions: conditions.stats } : {}),
    async close() {
      if (closed) return
      closed = true
      conditions?.close()
      await Promise.all([...responders.map((r) => r.close()), ...listeners.map((l) => l.close())])
    },
  }
}

/** the liveness filter of each protocol's tables */
export function livenessOf(opts: LivenessOptions | undefined): { v4?: LivenessOptions; v5?: LivenessOptions } {
  if (!opts) return {}
  const on = opts.protocols ?? ['v4', 'v5']
  return { ...(on.includes('v4') ? { v4: opts } : {}), ...(on.includes('v5') ? { v5: opts } : {}) }
}

const forkOf = new Map<ChainSpec, Uint8Array>()
function latestFork(chain: ChainSpec): Uint8Array {
  let h = forkOf.get(chain)
  if (!h) forkOf.set(chain, (h = forkHashes(chain).at(-1)!))
  return h
}

/** Node i's signed record: over half the nodes announce their chain's current fork in an `eth` entry, a fifth an `eth2` entry. */
function nodeRecord(i: number, key: Uint8Array, ip: string, udp: number, tcp: number, profile: RLPxProfile | undefined, b: CryptoBackend, consensus = false): ENR {
  const extra: Parameters<typeof ENR.sign>[1]['extra'] = {}
  if (consensus) {
    // a beacon node: current mainnet (or, for every fourth, hoodi) fork, no next fork, some subnets
    extra['eth2'] = eth2Entry(latestDigest(i % 4 === 3 ? 'hoodi' : 'mainnet'), Uint8Array.of(0, 0, 0, 0), 2n ** 64n - 1n)
    extra['attnets'] = Uint8Array.of(1 << (i % 8), 0, 0, 0, 0, 0, 0, i % 3 === 0 ? 0xff : 0)
    extra['syncnets'] = Uint8Array.of(i % 16)
    return ENR.sign(key, { seq: BigInt(1 + (i % 7)), ip, udp, tcp, extra }, b)
  }
  // an execution client that announces an `eth2` entry announces its `eth` one too: only consensus
  // clients carry `eth2` alone
  if (i % 2 === 0 || i % 5 === 0) extra['eth'] = [[latestFork(profile?.chain === SEPOLIA ? SEPOLIA : MAINNET), uintBytes(0)]]
  if (i % 5 === 0) extra['eth2'] = new Uint8Array(16).fill(i & 255)
  return ENR.sign(key, { seq: BigInt(1 + (i % 7)), ip, udp, tcp, extra }, b)
}

/** discv4 tables over the nodes that speak discv4, discv5 tables over those that speak discv5 */
function assignTables(members: TestnetNode[]): void {
  const v4 = members.filter((m) => m.protocols.includes('v4'))
  buildTables(v4.map((m) => m.node)).forEach((t, k) => (v4[k]!.table = t))
  const v5 = members.filter((m) => m.protocols.includes('v5'))
  if (v5.length > 0) buildTables(v5.map((m) => m.node)).forEach((t, k) => (v5[k]!.table5 = t))
}

function recordLookup(members: TestnetNode[]): (n: Node) => ENR | undefined {
  const byNode = new Map(members.map((m) => [m.node, m.enr]))
  return (n) => byNode.get(n)
}

interface ShardedSetup {
  count: number
  base: number
  shards: number
  behaviourOf: (i: number) => Behaviour
  rlpxIndex: (i: number) => number | undefined
  protoOf: (i: number) => number
  bootnodes: number
  b: CryptoBackend
  conditions?: ConditionsOptions
  liveness?: LivenessOptions
}

/** a shared port for every node when none is given (each node has its own IP) */
function randomPort(): number {
  return 20_000 + Math.floor(Math.random() * 40_000)
}

/**
 * A testnet spread over child processes (shard.ts). Everything is planned here — with a port known
 * in advance (each node on its own IP, so all can share one number) the records and tables are
 * final before any shard starts — and each shard only binds and answers for its slice.
 */
async function startSharded(o: ShardedSetup): Promise<Testnet> {
  const { count, b } = o
  const keys = new Uint8Array(count * 32)
  const pubs = new Uint8Array(count * 64)
  const ids = new Uint8Array(count * 32)
  for (let i = 0; i < count; i++) {
    keys.set(randomPrivateKey(), i * 32)
    pubs.set(b.publicKey(keys.subarray(i * 32, i * 32 + 32)), i * 64)
    ids.set(b.keccak256(pubs.subarray(i * 64, i * 64 + 64)), i * 32)
  }
  const behaviours = Uint8Array.from({ length: count }, (_, i) => BEHAVIOURS.indexOf(o.behaviourOf(i)))
  const rlpx = Int32Array.from({ length: count }, (_, i) => o.rlpxIndex(i) ?? -1)
  for (let attempt = 1; ; attempt++) {
    const port = o.base > 0 ? 0 : randomPort()
    const plan = { base: o.base, port }
    const nodes = Array.from({ length: count }, (_, i) => {
      const p = shardPort(plan, i)
      return new Node(pubs.slice(i * 64, i * 64 + 64), testnetIP(i), p, p, ids.slice(i * 32, i * 32 + 32))
    })
    const members: TestnetNode[] = nodes.map((node, i) => {
      const profile = rlpx[i]! >= 0 ? rlpxProfile(rlpx[i]!) : undefined
      const proto = o.protoOf(i)
      const enr = nodeRecord(i, keys.subarray(i * 32, i * 32 + 32), node.ip, node.udp, node.tcp, profile, b, proto === 2)
      return { node, behaviour: o.behaviourOf(i), enr, table: [], protocols: PROTOCOLS[proto]!, ...(profile ? { rlpx: profile } : {}) }
    })
    assignTables(members)
    const indexOf = new Map(nodes.map((n, i) => [n, i]))
    try {
      return await launchShards(o, members, indexOf, { keys, pubs, ids, behaviours, rlpx, plan })
    } catch (err) {
      // another program holds that port on one of our addresses: another port, a few times
      if (o.base > 0 || attempt >= 3 || !/EADDRINUSE/.test((err as Error).message)) throw err
    }
  }
}

async function launchShards(
  o: ShardedSetup,
  members: TestnetNode[],
  indexOf: Map<Node, number>,
  packed: { keys: Uint8Array; pubs: Uint8Array; ids: Uint8Array; behaviours: Uint8Array; rlpx: Int32Array; plan: { base: number; port: number } },
): Promise<Testnet> {
  const entry = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './shard.ts' : './shard.js', import.meta.url))
  const per = Math.ceil(o.count / o.shards)
  const children: ChildProcess[] = []
  const shardStats: ShardStats[] = []
  const stats: ResponderStats = { packetsIn: 0, packetsOut: 0 }
  const conditions: ConditionStats = { lostIn: 0, lostOut: 0, overflow: 0 }
  const sum = (): void => {
    for (const k of ['packetsIn', 'packetsOut'] as const) stats[k] = shardStats.reduce((a, x) => a + x[k], 0)
    for (const k of ['lostIn', 'lostOut', 'overflow'] as const) conditions[k] = shardStats.reduce((a, x) => a + x[k], 0)
  }
  const exited: Promise<void>[] = []
  const closeAll = async (): Promise<void> => {
    for (const c of children) if (c.connected) c.send({ type: 'close' })
    const kill = setTimeout(() => children.forEach((c) => c.exitCode === null && c.kill('SIGKILL')), 10_000)
    await Promise.all(exited)
    clearTimeout(kill)
  }
  try {
    await Promise.all(
      Array.from({ length: o.shards }, (_, s) => {
        const from = s * per
        const to = Math.min(o.count, from + per)
        const packTables = (of: (m: TestnetNode) => Node[] | undefined): { offsets: Int32Array; entries: Int32Array } => {
          const offsets = new Int32Array(to - from + 1)
          const flat: number[] = []
          for (let g = from; g < to; g++) {
            for (const n of of(members[g]!) ?? []) flat.push(indexOf.get(n)!)
            offsets[g - from + 1] = flat.length
          }
          return { offsets, entries: Int32Array.from(flat) }
        }
        const t4 = packTables((m) => m.table)
        const v5 = members.some((m) => m.table5) ? { ...packTables((m) => m.table5), protocols: Uint8Array.from(members.slice(from, to), (m) => PROTOCOLS.findIndex((p) => p.join() === m.protocols.join())), records: members.map((m) => m.enr.raw) } : undefined
        const plan: ShardPlan = {
          backend: o.b.name,
          ...(o.conditions ? { conditions: { ...o.conditions, seed: ((o.conditions.seed ?? 0) + s) >>> 0 } } : {}),
          ...(o.liveness ? { liveness: o.liveness } : {}),
          ...packed.plan,
          from,
          to,
          keys: packed.keys.slice(from * 32, to * 32),
          enrs: members.slice(from, to).map((m) => m.enr.raw),
          seqs: members.slice(from, to).map((m) => Number(m.enr.seq)),
          behaviours: packed.behaviours.slice(from, to),
          rlpx: packed.rlpx.slice(from, to),
          offsets: t4.offsets,
          entries: t4.entries,
          ...(v5 ? { v5 } : {}),
          pubs: packed.pubs,
          ids: packed.ids,
        }
        const child = fork(entry, ['ethp2p-testnet-shard'], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
        children.push(child)
        const mine: ShardStats = { packetsIn: 0, packetsOut: 0, lostIn: 0, lostOut: 0, overflow: 0 }
        shardStats.push(mine)
        exited.push(new Promise((resolve) => child.once('exit', () => resolve())))
        return new Promise<void>((resolve, reject) => {
          child.on('message', (m: ShardMessage) => {
            if (m.type === 'ready') resolve()
            else if (m.type === 'error') reject(new TestnetError(`shard ${s}: ${m.message}`))
            else {
              Object.assign(mine, m.stats)
              sum()
            }
          })
          child.once('exit', (code) => reject(new TestnetError(`shard ${s} exited (${code}) before it was ready`)))
          child.send({ type: 'start', plan })
        })
      }),
    )
  } catch (err) {
    await closeAll()
    throw err
  }
  let closed: Promise<void> | undefined
  const boot = members.filter((m) => m.behaviour === 'live').slice(0, o.bootnodes)
  return {
    bootnodes: boot.map((m) => m.node),
    bootENRs: boot.map((m) => m.enr),
    nodes: members,
    stats,
    ...(o.conditions ? { conditions } : {}),
    close: () => (closed ??= closeAll()),
  }
}

type ShardStats = ResponderStats & ConditionStats

/**
 * The k-th RLPx node: client ids round-robin, a third on sepolia, a quarter speaking only eth/68 (the
 * older Status layout), a fifth busy right after Hello, a tenth busy instead of it, and a tenth (k ≡ 7
 * mod 10, of both Status layouts) LAGGING_BLOCKS behind its chain's head: not synced.
 */
export function rlpxProfile(k: number): RLPxProfile {
  const behaviour: RLPxBehaviour = k % 10 === 9 ? 'busy-instead-of-hello' : k % 5 === 3 ? 'busy-after-hello' : 'ok'
  return {
    clientId: TESTNET_CLIENT_IDS[k % TESTNET_CLIENT_IDS.length]!,
    chain: k % 3 === 2 ? SEPOLIA : MAINNET,
    ethVersions: k % 4 === 1 ? [68] : [68, 69],
    behaviour,
    ...(k % 10 === 7 ? { headLag: LAGGING_BLOCKS } : {}),
  }
}

/** how far behind its chain's head a lagging testnet node is: well past the 64 blocks of `synced` */
export const LAGGING_BLOCKS = 1000
