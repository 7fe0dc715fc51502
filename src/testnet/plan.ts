/**
 * What the parent of a sharded testnet (testnet.ts) and its shard processes (shard.ts) agree on: the
 * plan a shard is handed, the messages it sends back, and the socket and port helpers both use. Kept
 * apart so the parent never imports the shard's entry module, nor the shard the parent's internals
 * beyond what it needs.
 */
import { createSocket, type Socket } from 'node:dgram'
import type { BackendName } from '../crypto/types.js'
import type { ConditionsOptions } from './conditions.js'
import type { LivenessOptions } from './liveness.js'
import type { Behaviour, ResponderStats } from './responder.js'

/** what a shard is asked to run */
export interface ShardPlan {
  backend: BackendName
  conditions?: ConditionsOptions
  /** geth's liveness filter on the tables' answers */
  liveness?: LivenessOptions
  /** node g listens on base + g when base > 0, otherwise every node on `port` (each has its own IP) */
  base: number
  port: number
  /** global indices [from, to) */
  from: number
  to: number
  /** private keys of the slice, 32 bytes each */
  keys: Uint8Array
  /** signed records of the slice */
  enrs: Uint8Array[]
  seqs: number[]
  /** 0 live, 1 dead, 2 garbage */
  behaviours: Uint8Array
  /** RLPx profile index, or -1 */
  rlpx: Int32Array
  /** tables of the slice: entries[offsets[k]..offsets[k+1]) are global indices */
  offsets: Int32Array
  entries: Int32Array
  /** every node's public key (64 bytes) and ID (32 bytes), by global index */
  pubs: Uint8Array
  ids: Uint8Array
  /**
   * discv5, when the network speaks it: the slice's protocols (0 discv4, 1 both, 2 discv5 only), its
   * discv5 tables (as `offsets`/`entries`) and every node's record, by global index
   */
  v5?: { protocols: Uint8Array; offsets: Int32Array; entries: Int32Array; records: Uint8Array[] }
}

/** What a shard process reports to its parent. */
export type ShardMessage =
  | { type: 'ready' }
  | { type: 'error'; message: string }
  | { type: 'stats'; stats: ResponderStats & { lostIn: number; lostOut: number; overflow: number } }

/** the behaviours, indexed by the byte a shard's node table carries */
export const BEHAVIOURS: readonly Behaviour[] = ['live', 'dead', 'garbage']

/** node g's endpoint port */
export function shardPort(plan: Pick<ShardPlan, 'base' | 'port'>, g: number): number {
  return plan.base > 0 ? plan.base + g : plan.port
}

/** A UDP socket bound to ip:port; rejects with the address in the message when it cannot bind. */
export function bindUdp(ip: string, port: number): Promise<Socket> {
  const s = createSocket({ type: 'udp4' })
  return new Promise((resolve, reject) => {
    s.once('error', (err) => {
      s.close()
      reject(new Error(`cannot bind ${ip}:${port}: ${err.message}`))
    })
    s.bind(port, ip, () => {
      s.removeAllListeners('error')
      resolve(s)
    })
  })
}
