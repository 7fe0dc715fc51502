/** Crypto hot paths on native, WASM and JS side by side, plus @ethereumjs/devp2p where it has the same work. */
import { ALL_BACKENDS } from '../crypto/backend.js'
import type { BackendName, CryptoBackend } from '../crypto/types.js'
import { available, newBench, runBench, task, type Row, type Target } from './harness.js'
import { ethereumjs } from './partner.js'

const BATCH = 256

/** A ping: from @ethereumjs/devp2p's encoder when it is installed, so both decoders see identical bytes. */
function pingDatagram(b: CryptoBackend, priv: Uint8Array, ejs: Awaited<ReturnType<typeof ethereumjs>>): Uint8Array {
  const ep = { address: '127.0.0.1', udpPort: 30303, tcpPort: 30303 }
  if (ejs) return ejs.encode('ping', { version: 4, from: ep, to: ep, timestamp: Math.floor(Date.now() / 1000) + 60 }, priv)
  // a structurally similar 98+ byte datagram signed by us
  const body = Uint8Array.of(1, ...new Uint8Array(60).fill(0xc0))
  const { sig, recovery } = b.sign(b.keccak256(body), priv)
  const rest = Uint8Array.of(...sig, recovery, ...body)
  return Uint8Array.of(...b.keccak256(rest), ...rest)
}

/** Crypto suite: every hot path on each backend side by side. */
export async function cryptoBench(names: readonly BackendName[] = ALL_BACKENDS): Promise<{ rows: Row[]; targets: Target[] }> {
  const backends = available(names)
  const ref = backends[0]!
  const priv = ref.keccak256(Buffer.from('bench key'))
  const peer = ref.keccak256(Buffer.from('bench peer'))
  const peerPub = ref.publicKey(peer)
  const hash = ref.keccak256(Buffer.from('bench message'))
  const { sig, recovery } = ref.sign(hash, priv)
  const ejs = await ethereumjs()
  const ping = pingDatagram(ref, priv, ejs)
  const batch = Array.from({ length: BATCH }, () => ping)
  const data1280 = new Uint8Array(1280).fill(0xab)
  const ids = new Uint8Array(5000 * 32)
  for (let i = 0; i < 5000; i++) ids.set(ref.keccak256(Uint8Array.of(i & 0xff, i >> 8)), i * 32)
  const eciesMsg = new Uint8Array(200).fill(1)
  const eciesCt = ref.eciesEncrypt(peerPub, eciesMsg)

  const bench = newBench()
  for (const b of backends) {
    task(bench, 'keccak256 1280 B', b.name, () => b.keccak256(data1280))
    task(bench, 'sign', b.name, () => b.sign(hash, priv))
    task(bench, 'recover', b.name, () => b.recover(hash, sig, recovery))
    task(bench, 'ecdh', b.name, () => b.ecdh(priv, peerPub))
    task(bench, 'verifyPacket (ping)', b.name, () => b.verifyPacket(ping))
    task(bench, `verifyPackets batch (per packet)`, b.name, () => b.verifyPackets(batch), BATCH)
    task(bench, 'ecies decrypt 200 B', b.name, () => b.eciesDecrypt(peer, eciesCt))
    task(bench, 'closest 16 of 5000', b.name, () => b.closest(hash, ids, 16))
  }
  if (ejs) task(bench, 'verifyPacket (ping)', 'ethereumjs', () => ejs.decode(ping))
  const rows = await runBench(bench, 5)

  const hz = (op: string, impl: string) => rows.find((r) => r.op === op && r.impl === impl)?.hz ?? NaN
  const targets: Target[] = [
    { what: 'native recover ÷ js recover', value: hz('recover', 'native') / hz('recover', 'js'), min: 25 },
    { what: 'native verifyPacket ÷ @ethereumjs/devp2p decode (same ping)', value: hz('verifyPacket (ping)', 'native') / hz('verifyPacket (ping)', 'ethereumjs'), min: 20 },
    { what: 'native verifyPacket ÷ bare native recover', value: hz('verifyPacket (ping)', 'native') / hz('recover', 'native'), min: 0.85 },
    { what: 'wasm recover ÷ js recover', value: hz('recover', 'wasm') / hz('recover', 'js'), min: 5 },
    { what: 'native keccak256 1280 B ÷ js', value: hz('keccak256 1280 B', 'native') / hz('keccak256 1280 B', 'js'), min: 5 },
    { what: 'native batch verify ÷ single-call verify', value: hz('verifyPackets batch (per packet)', 'native') / hz('verifyPacket (ping)', 'native'), min: 1.6 },
  ]
  return { rows, targets }
}
