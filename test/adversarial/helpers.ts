/**
 * Shared pieces of the adversarial suite: health probes (a fresh peer must still get a pong, a fresh
 * dialler must still complete RLPx + Hello), heap measurement after a forced GC, paced sending, and
 * public keys that are not points of secp256k1.
 */
import assert from 'node:assert/strict'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { backend, randomPrivateKey } from '../../src/crypto/backend.js'
import { hex } from '../../src/crypto/bytes.js'
import type { Discv4 } from '../../src/discover/udp.js'
import { PacketType } from '../../src/discover/wire.js'
import { Peer } from '../../src/p2p/peer.js'
import type { Protocol } from '../../src/p2p/protocol.js'
import type { Server } from '../../src/p2p/server.js'
import { RLPxConnection } from '../../src/rlpx/conn.js'
import { until } from '../discover/fakenet.js'
import { RawPeer } from '../discover/rawpeer.js'

export const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'))

/** x = p + 1 with the y of the curve point (1, y): a real point only if x were reduced mod p */
export const X_OVER_P = bytes('fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc30' + '4218f20ae6c646b363db68605822fb14264ca8d2587fdd6fbc750d587e76a7ee')
/** (1, 1) is not on y² = x³ + 7 */
export const OFF_CURVE = bytes('00'.repeat(31) + '01' + '00'.repeat(31) + '01')
/** x = p exactly, y = 0 */
export const X_IS_P = bytes('fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f' + '00'.repeat(32))
/** the point at infinity has no affine encoding; all zeros is what a careless encoder sends */
export const ZERO_KEY = new Uint8Array(64)
export const BAD_KEYS: ReadonlyArray<readonly [string, Uint8Array]> = [
  ['x ≥ p', X_OVER_P],
  ['x = p', X_IS_P],
  ['off the curve', OFF_CURVE],
  ['zero', ZERO_KEY],
]

/**
 * Heap in use after a full collection, or undefined when the collector cannot be reached. The test
 * runner does not pass --expose-gc, so it is switched on here (the flag only exposes `gc`).
 */
let gcFn: (() => void) | undefined
try {
  setFlagsFromString('--expose-gc')
  gcFn = runInNewContext('gc') as () => void
} catch {
  gcFn = undefined
}
export function heapAfterGC(): number | undefined {
  if (!gcFn) return undefined
  gcFn()
  gcFn()
  return process.memoryUsage().heapUsed
}

/** heap growth since `before` stays under `limit` bytes (skipped, with bookkeeping checks elsewhere, without a GC) */
export function assertHeapBounded(before: number | undefined, limit: number, what: string): void {
  const now = heapAfterGC()
  if (before === undefined || now === undefined) return
  if (now - before > limit) throw new Error(`${what}: heap grew by ${((now - before) / 2 ** 20).toFixed(1)} MiB, bound ${(limit / 2 ** 20).toFixed(0)} MiB`)
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** run `send(i)` for i < n, yielding every `batch` sends so the receiver's socket buffer keeps up */
export async function paced(n: number, send: (i: number) => void, batch = 64): Promise<void> {
  for (let i = 0; i < n; i++) {
    send(i)
    if (i % batch === batch - 1) await sleep(1)
  }
}

let probeHost = 0
/**
 * A fresh identity on a fresh address pings `d` and must get its pong. The socket is read in order,
 * so once the pong is back every datagram that arrived before the probe has been handled. Returns
 * how many pings the probe sent (they count in the node's packetsIn).
 */
export async function answersFreshPing(d: Discv4): Promise<number> {
  probeHost++
  const raw = await RawPeer.create(`127.0.250.${probeHost}`)
  // a flood may still fill the node's socket buffer, where the kernel drops what does not fit:
  // the probe asks again, as a real peer would, a bounded number of times
  let pings = 0
  for (; pings < 20 && raw.of(PacketType.Pong).length === 0; pings++) {
    raw.ping(d)
    await until(() => raw.of(PacketType.Pong).length > 0, 500, 'pong').catch(() => undefined)
  }
  assert.ok(raw.of(PacketType.Pong).length > 0, 'a fresh peer got no pong')
  return pings
}

/** a protocol that accepts anything and does nothing: enough for a Hello to find a shared capability */
export class Sink implements Protocol {
  readonly name = 'sink'
  readonly version = 1
  readonly length = 2
  async run(_peer: Peer, rw: AsyncIterable<unknown>): Promise<void> {
    for await (const _ of rw) void _
  }
}

/** A fresh dialler completes the RLPx handshake and the Hello exchange with `s`, then leaves. */
export async function acceptsFreshPeer(s: Server): Promise<void> {
  const key = randomPrivateKey()
  const conn = await RLPxConnection.connect('127.0.0.1', s.port, key, s.self.pubkey)
  const peer = await Peer.handshake(conn, { id: backend.publicKey(key), clientId: 'probe', protocols: [new Sink()] })
  const run = peer.run()
  const id = hex(backend.keccak256(backend.publicKey(key)))
  await until(() => s.peerList().some((p) => p.node.idHex === id), 5000, 'probe peer registered')
  peer.disconnect()
  await run
  await until(() => !s.peerList().some((p) => p.node.idHex === id), 5000, 'probe peer removed')
}
