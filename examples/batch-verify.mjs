// Batch verification of discv4 packets off the event loop: 2,000 signed pings checked in one call
// on every core, on each backend this machine can load.
import { ALL_BACKENDS, encodePacket, loadBackend, PacketType, randomPrivateKey } from 'ethp2p'

const key = randomPrivateKey()
const packets = Array.from({ length: 2000 }, (_, i) =>
  encodePacket({ type: PacketType.Ping, version: 4, from: { ip: '127.0.0.1', udp: 30303, tcp: 30303 }, to: { ip: '127.0.0.1', udp: 30304, tcp: 0 }, expiration: Math.floor(Date.now() / 1000) + 20 + i }, key).datagram,
)
for (const name of ALL_BACKENDS) {
  let b
  try {
    b = loadBackend(name)
  } catch {
    console.log(`${name}: not available here`)
    continue
  }
  const t0 = performance.now()
  const checks = await b.verifyPackets(name === 'js' ? packets.slice(0, 200) : packets)
  const ms = performance.now() - t0
  const ok = checks.filter((c) => c.ok && c.type === PacketType.Ping).length
  console.log(`${name}: ${ok} of ${checks.length} valid, ${Math.round((checks.length * 1000) / ms)} packets/s`)
}
