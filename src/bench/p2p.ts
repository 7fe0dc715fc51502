/**
 * Connection setup between two local servers: TCP connect, RLPx handshake, Hello both ways, the peer
 * added on both ends — then a Disconnect, so every connection is a fresh one. A fixed number of dials
 * run at once; the rate is completed setups per second, both ends in this one process (so each setup
 * pays both sides' ECIES and signatures on these 2 cores).
 */
import { backend, randomPrivateKey } from '../crypto/backend.js'
import type { BackendName } from '../crypto/types.js'
import { Peer } from '../p2p/peer.js'
import type { Protocol } from '../p2p/protocol.js'
import { DisconnectReason } from '../p2p/base.js'
import { Server } from '../p2p/server.js'
import { RLPxConnection } from '../rlpx/conn.js'
import type { Row, Target } from './harness.js'

const DURATION_MS = 4000
const PARALLEL = 8

/** a protocol that just stays up until the peer goes */
const idle: Protocol = {
  name: 'bench',
  version: 1,
  length: 1,
  async run(_peer, rw) {
    for await (const _ of rw);
  },
}

/** Connection-setup suite: TCP, RLPx handshake and Hello per second between two local endpoints. */
export async function p2pBench(_names: readonly BackendName[]): Promise<{ rows: Row[]; targets: Target[] }> {
  // every dial comes from 127.0.0.1: the inbound throttle exempts loopback, as it does LAN peers
  const server = new Server({ privateKey: randomPrivateKey(), host: '127.0.0.1', port: 0, protocols: [idle], noDiscovery: true, noDial: true, maxPeers: 1000 })
  await server.start()
  let done = 0
  let failed = 0
  const deadline = Date.now() + DURATION_MS
  // one identity per worker: a worker's connection ends before its next one starts, while two
  // workers sharing a key would be refused as "already connected"
  const worker = async (): Promise<void> => {
    const key = randomPrivateKey()
    const id = backend.publicKey(key)
    while (Date.now() < deadline) {
      try {
        const conn = await RLPxConnection.connect('127.0.0.1', server.port, key, server.self.pubkey)
        const peer = await Peer.handshake(conn, { id, clientId: 'bench', protocols: [idle] })
        done++
        peer.disconnect(DisconnectReason.Requested)
        await peer.done
      } catch {
        failed++
      }
    }
  }
  const t0 = performance.now()
  await Promise.all(Array.from({ length: PARALLEL }, worker))
  const seconds = (performance.now() - t0) / 1000
  await server.stop()
  console.log(`${done} connections set up in ${seconds.toFixed(1)} s, ${PARALLEL} at a time (${failed} failed), backend ${backend.name}`)
  return { rows: [{ op: 'connection setup (TCP + RLPx + Hello), both ends', impl: backend.name, hz: done / seconds, rme: 0 }], targets: [] }
}
