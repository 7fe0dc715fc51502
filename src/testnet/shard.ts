/**
 * One shard of a testnet too big for one process (a process may hold 20,000 files here, and every
 * node holds a socket or two). The parent plans the whole network — keys, addresses, records,
 * tables — and forks shards; each binds its slice of nodes and answers for them. Tables arrive as
 * global node indices with every node's public key and ID packed, so a shard needs no other shard.
 * A shard reports its counters every half second and exits when told to or when its parent goes.
 */
import { loadBackend } from '../crypto/backend.js'
import { Node } from '../enode/node.js'
import { Conditions } from './conditions.js'
import { ENR } from '../enode/enr.js'
import { Responder, type ResponderStats, type V5Side } from './responder.js'
import { RLPxResponder } from './rlpx.js'
import { BEHAVIOURS, bindUdp, shardPort, type ShardMessage, type ShardPlan } from './plan.js'
import { livenessOf, rlpxProfile, testnetIP } from './testnet.js'

async function run(plan: ShardPlan): Promise<() => Promise<void>> {
  const b = loadBackend(plan.backend)
  const conditions = plan.conditions ? new Conditions(plan.conditions) : undefined
  const stats: ResponderStats = { packetsIn: 0, packetsOut: 0 }
  const nodes = new Map<number, Node>()
  const nodeOf = (g: number): Node => {
    let n = nodes.get(g)
    if (!n) {
      const port = shardPort(plan, g)
      n = new Node(plan.pubs.subarray(g * 64, g * 64 + 64), testnetIP(g), port, port, plan.ids.subarray(g * 32, g * 32 + 32))
      nodes.set(g, n)
    }
    return n
  }
  const records = new Map<number, ENR>()
  const recordOf = (g: number): ENR => {
    let r = records.get(g)
    if (!r) records.set(g, (r = ENR.decode(plan.v5!.records[g]!, b)))
    return r
  }
  const globalOf = new Map<Node, number>()
  const live = livenessOf(plan.liveness)
  const v5side = (k: number): V5Side | undefined => {
    const v5 = plan.v5
    if (!v5 || v5.protocols[k] === 0) return undefined
    const table = Array.from(v5.entries.subarray(v5.offsets[k]!, v5.offsets[k + 1]!), (g) => {
      const n = nodeOf(g)
      globalOf.set(n, g)
      return n
    })
    return { only: v5.protocols[k] === 2, table, recordOf: (n) => recordOf(globalOf.get(n)!), enr: recordOf(plan.from + k), ...(live.v5 ? { liveness: live.v5 } : {}) }
  }
  const responders: Responder[] = []
  const listeners: RLPxResponder[] = []
  const close = async (): Promise<void> => {
    conditions?.close()
    await Promise.all([...responders.map((r) => r.close()), ...listeners.map((l) => l.close())])
  }
  try {
    const count = plan.to - plan.from
    for (let k0 = 0; k0 < count; k0 += 256) {
      const batch = Array.from({ length: Math.min(256, count - k0) }, (_, j) => k0 + j)
      const sockets = await Promise.all(batch.map((k) => bindUdp(testnetIP(plan.from + k), shardPort(plan, plan.from + k))))
      for (const [j, k] of batch.entries()) {
        const g = plan.from + k
        const key = plan.keys.subarray(k * 32, k * 32 + 32)
        const r = new Responder(sockets[j]!, nodeOf(g), key, plan.enrs[k]!, BigInt(plan.seqs[k]!), BEHAVIOURS[plan.behaviours[k]!]!, b, stats, conditions, v5side(k), live.v4)
        r.table = Array.from(plan.entries.subarray(plan.offsets[k]!, plan.offsets[k + 1]!), nodeOf)
        responders.push(r)
      }
      const rl = batch.filter((k) => plan.rlpx[k]! >= 0)
      listeners.push(
        ...(await Promise.all(rl.map((k) => RLPxResponder.listen(testnetIP(plan.from + k), shardPort(plan, plan.from + k), plan.keys.subarray(k * 32, k * 32 + 32), rlpxProfile(plan.rlpx[k]!), b)))),
      )
    }
  } catch (err) {
    await close()
    throw err
  }
  const report = (): Promise<void> =>
    new Promise((resolve) => {
      const msg: ShardMessage = { type: 'stats', stats: { ...stats, lostIn: conditions?.stats.lostIn ?? 0, lostOut: conditions?.stats.lostOut ?? 0, overflow: conditions?.stats.overflow ?? 0 } }
      if (!process.connected) return resolve()
      process.send!(msg, () => resolve())
    })
  const timer = setInterval(() => void report(), 500)
  return async () => {
    clearInterval(timer)
    await close()
    // the final counters reach the parent before the shard exits
    await report()
  }
}

// the shard's entry point: driven over IPC by startTestnet
if (process.send !== undefined && process.argv[2] === 'ethp2p-testnet-shard') {
  let stop: (() => Promise<void>) | undefined
  let stopping = false
  const exit = async (): Promise<void> => {
    if (stopping) return
    stopping = true
    await stop?.().catch(() => undefined)
    process.disconnect?.()
    process.exit(0)
  }
  process.on('disconnect', () => void exit())
  process.on('message', (m: { type: 'start'; plan: ShardPlan } | { type: 'close' }) => {
    if (m.type === 'close') return void exit()
    run(m.plan).then(
      (s) => {
        stop = s
        process.send!({ type: 'ready' } satisfies ShardMessage)
      },
      (err: unknown) => {
        process.send!({ type: 'error', message: err instanceof Error ? err.message : String(err) } satisfies ShardMessage)
        void exit()
      },
    )
  })
}
