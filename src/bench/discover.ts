/**
 * discv4 datagram decoding: hash + signature check + RLP decode + key validation, per backend and
 * against @ethereumjs/devp2p's decoder on the same bytes.
 */
import type { BackendName } from '../crypto/types.js'
import { decodePacket, encodePacket, expiration, PacketType, type NeighborNode } from '../discover/wire.js'
import { available, newBench, runBench, task, type Row, type Target } from './harness.js'
import { ethereumjs } from './partner.js'

/** discv4 codec suite: decode+verify of a ping and a 12-node neighbors per backend, and @ethereumjs/devp2p's where installed. */
export async function discoverBench(names: readonly BackendName[]): Promise<{ rows: Row[]; targets: Target[] }> {
  const backends = available(names)
  const ref = backends[0]!
  const priv = ref.keccak256(Buffer.from('bench key'))
  const ejs = await ethereumjs()
  const ep = { ip: '10.0.0.1', udp: 30303, tcp: 30303 }
  const ping = encodePacket({ type: PacketType.Ping, version: 4, from: ep, to: ep, expiration: expiration() + 3600, enrSeq: 7n }, priv, ref).datagram
  const nodes: NeighborNode[] = Array.from({ length: 12 }, (_, i) => ({
    ip: `10.0.${i}.1`,
    udp: 30303,
    tcp: 30303,
    pubkey: ref.publicKey(ref.keccak256(Uint8Array.of(i))),
  }))
  const neighbors = encodePacket({ type: PacketType.Neighbors, nodes, expiration: expiration() + 3600 }, priv, ref).datagram

  const bench = newBench()
  for (const b of backends) {
    task(bench, 'decode+verify ping', b.name, () => decodePacket(ping, b))
    task(bench, 'decode+verify neighbors (12 keys)', b.name, () => decodePacket(neighbors, b))
  }
  if (ejs) {
    task(bench, 'decode+verify ping', 'ethereumjs', () => ejs.decode(ping))
    task(bench, 'decode+verify neighbors (12 keys)', 'ethereumjs', () => ejs.decode(neighbors))
  }
  const rows = await runBench(bench)
  const hz = (op: string, impl: string) => rows.find((r) => r.op === op && r.impl === impl)?.hz ?? NaN
  const targets: Target[] = [
    { what: 'native decode+verify ping ÷ @ethereumjs/devp2p decode', value: hz('decode+verify ping', 'native') / hz('decode+verify ping', 'ethereumjs'), min: 20 },
  ]
  return { rows, targets }
}
