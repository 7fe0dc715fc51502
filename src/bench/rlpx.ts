/**
 * RLPx on native, WASM and JS side by side with @ethereumjs/devp2p's ECIES doing the same work:
 * complete handshakes (both sides in memory: auth, ack, secrets, frame state) and frame seal+open.
 */
import { ALL_BACKENDS, randomPrivateKey } from '../crypto/backend.js'
import type { BackendName, CryptoBackend } from '../crypto/types.js'
import { FrameCodec } from '../rlpx/frame.js'
import { InitiatorHandshake, RecipientHandshake } from '../rlpx/handshake.js'
import { available, newBench, runBench, task, type Row, type Target } from './harness.js'
import { ethereumjs, type EthereumJs } from './partner.js'

const SIZES = [
  ['1 KiB', 1024],
  ['1 MiB', 1 << 20],
] as const

function handshake(b: CryptoBackend, keyA: Uint8Array, keyB: Uint8Array, pubB: Uint8Array) {
  const ini = new InitiatorHandshake(b, keyA, pubB)
  const r = new RecipientHandshake(b, keyB).readAuth(ini.auth)!
  const i = ini.readAck(r.ack)!
  return [new FrameCodec(b.frameCipher(i.secrets)), new FrameCodec(b.frameCipher(r.secrets))] as const
}

/** Reaches into ECIES's EIP-8 flags the way its Peer class does after reading the size prefix. */
type EjsEcies = InstanceType<EthereumJs['ECIES']> & { _gotEIP8Auth: boolean; _gotEIP8Ack: boolean }

function ejsHandshake(ejs: EthereumJs, keyA: Uint8Array, keyB: Uint8Array, idA: Uint8Array, idB: Uint8Array) {
  const a = new ejs.ECIES(keyA, idA, idB) as EjsEcies
  const b = new ejs.ECIES(keyB, idB, null as unknown as Uint8Array) as EjsEcies
  const auth = a.createAuthEIP8()!
  b._gotEIP8Auth = true
  b.parseAuthEIP8(auth)
  const ack = b.createAckEIP8()!
  a._gotEIP8Ack = true
  a.parseAckEIP8(ack)
  return [a, b] as const
}

/** RLPx suite: handshakes and frame seal+open per backend, and @ethereumjs/devp2p's where installed. */
export async function rlpxBench(names: readonly BackendName[] = ALL_BACKENDS): Promise<{ rows: Row[]; targets: Target[] }> {
  const backends = available(names)
  const ref = backends[0]!
  const keyA = randomPrivateKey()
  const keyB = randomPrivateKey()
  const pubA = ref.publicKey(keyA)
  const pubB = ref.publicKey(keyB)
  const ejs = await ethereumjs()
  const data = new Map(SIZES.map(([label, n]) => [label, new Uint8Array(n).map((_, i) => i & 0xff)]))

  const bench = newBench()
  for (const b of backends) {
    task(bench, 'handshake (both sides)', b.name, () => handshake(b, keyA, keyB, pubB))
    for (const [label] of SIZES) {
      const [out, inc] = handshake(b, keyA, keyB, pubB)
      const payload = data.get(label)!
      task(bench, `frame seal+open ${label}`, b.name, () => {
        inc.push(out.encode(0x10, payload))
        return inc.read()
      })
    }
  }
  const native = backends.find((b) => b.name === 'native')
  if (native) {
    const mib = data.get('1 MiB')!
    task(bench, 'bare keccak256 ×2 1 MiB', 'native', () => {
      native.keccak256(mib)
      return native.keccak256(mib)
    })
  }
  if (ejs) {
    task(bench, 'handshake (both sides)', 'ethereumjs', () => ejsHandshake(ejs, keyA, keyB, pubA, pubB))
    for (const [label] of SIZES) {
      const [a, b] = ejsHandshake(ejs, keyA, keyB, pubA, pubB)
      const payload = data.get(label)!
      task(bench, `frame seal+open ${label}`, 'ethereumjs', () => {
        // the same frame-data as ours: rlp(0x10) ‖ payload
        const msg = new Uint8Array(payload.length + 1)
        msg[0] = 0x10
        msg.set(payload, 1)
        const header = a.createBlockHeader(msg.length)!
        const body = a.createBody(msg)!
        b.parseHeader(header)
        return b.parseBody(body)
      })
    }
  }
  const rows = await runBench(bench)

  const hz = (op: string, impl: string) => rows.find((r) => r.op === op && r.impl === impl)?.hz ?? NaN
  const targets: Target[] = [
    { what: 'native handshakes ÷ @ethereumjs/devp2p ECIES', value: hz('handshake (both sides)', 'native') / hz('handshake (both sides)', 'ethereumjs'), min: 20 },
    { what: 'native 1 MiB frames ÷ @ethereumjs/devp2p ECIES', value: hz('frame seal+open 1 MiB', 'native') / hz('frame seal+open 1 MiB', 'ethereumjs'), min: 10 },
    { what: 'native 1 MiB frames ÷ two bare native keccak passes', value: hz('frame seal+open 1 MiB', 'native') / hz('bare keccak256 ×2 1 MiB', 'native'), min: 0.7 },
  ]
  return { rows, targets }
}
