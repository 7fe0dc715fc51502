/**
 * Batch verification of discv4 packets: hash, signer recovery and type of many datagrams in one call,
 * spread over the libuv thread pool (native) or worker threads (WASM), off the event loop. A busy
 * listener or a packet capture has datagrams to check; here 2,000 signed pings from 20 keys are made
 * up and three are spoiled on the way: the batch says which are good and who signed each.
 */
import { PacketType, backend, decodePacket, encodePacket, randomPrivateKey, type Ping } from 'ethp2p'

const keys = Array.from({ length: 20 }, () => randomPrivateKey())
const ping: Ping = {
  type: PacketType.Ping,
  version: 4,
  from: { ip: '127.0.0.1', udp: 30303, tcp: 30303 },
  to: { ip: '127.0.0.2', udp: 30303, tcp: 30303 },
  expiration: Math.floor(Date.now() / 1000) + 20,
}
const datagrams = Array.from({ length: 2000 }, (_, i) => encodePacket(ping, keys[i % keys.length]!).datagram)

// layout: keccak256(signature ‖ type ‖ payload) (32) ‖ signature (65) ‖ type ‖ payload
datagrams[10]![40]! ^= 1 // damaged in transit: the hash no longer matches
datagrams[20] = datagrams[20]!.subarray(0, 90) // cut short
const forged = datagrams[30]!
forged.fill(0, 32, 64) // a signature whose r is zero, behind a hash that matches it
forged.set(backend.keccak256(forged.subarray(32)), 0)

const started = performance.now()
const checks = await backend.verifyPackets(datagrams)
const ms = performance.now() - started

const signers = new Set<string>()
const rejected = new Map<string, number>()
for (const c of checks) {
  if (c.ok) signers.add(Buffer.from(c.pubkey).toString('hex'))
  else rejected.set(c.error, (rejected.get(c.error) ?? 0) + 1)
}
const valid = checks.filter((c) => c.ok).length
console.log(`${backend.name} backend: ${datagrams.length} datagrams checked in ${ms.toFixed(1)} ms`)
console.log(`valid: ${valid}, from ${signers.size} signers`)
for (const [error, n] of [...rejected].sort()) console.log(`rejected ${error}: ${n}`)
// a valid one decoded in full (decodePacket verifies again, one datagram at a time)
const first = decodePacket(datagrams[0]!)
if (first.packet.type === PacketType.Ping) console.log(`first: ping version ${first.packet.version} from ${first.packet.from.ip}`)
