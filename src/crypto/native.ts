/** Native backend: the N-API addon (native/*.cc), loaded with node-gyp-build. */
import { availableParallelism } from 'node:os'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { checkFromStatus } from './packet-codes.js'
import type { BackendImpl, FrameCipherImpl, KeccakState, PacketCheck } from './types.js'

interface Addon {
  keccak256(data: Uint8Array): Uint8Array
  Keccak: new () => { update(d: Uint8Array): void; digest(): Uint8Array }
  sign(hash: Uint8Array, priv: Uint8Array): Uint8Array
  recover(hash: Uint8Array, sig: Uint8Array, rec: number): Uint8Array | null
  ecdh(priv: Uint8Array, pub: Uint8Array): Uint8Array | null
  publicKey(priv: Uint8Array): Uint8Array
  publicKeyValid(pub: Uint8Array): boolean
  verifyPacket(d: Uint8Array, pubOut: Uint8Array): number
  verifyBatch(ds: Uint8Array[], status: Int32Array, keys: Uint8Array): Promise<void>
  eciesEncrypt(pub: Uint8Array, plain: Uint8Array, smd: Uint8Array, eph: Uint8Array, iv: Uint8Array): Uint8Array | null
  eciesDecrypt(priv: Uint8Array, cipher: Uint8Array, smd: Uint8Array): Uint8Array | null
  FrameCipher: new (aes: Uint8Array, mac: Uint8Array, egressSeed: Uint8Array, ingressSeed: Uint8Array) => FrameCipherImpl
  closest(target: Uint8Array, ids: Uint8Array, k: number): Uint32Array
}

const root = fileURLToPath(new URL('../../', import.meta.url))
let addon: Addon | undefined
let loadError = ''

function load(): Addon {
  if (addon) return addon
  if (loadError) throw new Error(loadError)
  try {
    const require = createRequire(import.meta.url)
    // ETHP2P_ADDON names a specific build (the sanitizer build in scripts/asan.sh) instead of build/Release
    const override = process.env.ETHP2P_ADDON
    addon = override ? (require(override) as Addon) : (require('node-gyp-build') as (dir: string) => Addon)(root)
    return addon
  } catch (e) {
    loadError = (e as Error).message.split('\n')[0] ?? 'unknown error'
    throw e
  }
}

export function nativeLoadError(): string {
  return loadError
}

class NativeKeccak implements KeccakState {
  constructor(private readonly s: { update(d: Uint8Array): void; digest(): Uint8Array }) {}
  update(data: Uint8Array): this {
    this.s.update(data)
    return this
  }
  digest(): Uint8Array {
    return this.s.digest()
  }
}

/** libuv runs each chunk on its own pool thread; more chunks than cores only adds overhead */
const threads = Math.max(1, Math.min(4, availableParallelism()))
const MIN_PARALLEL = 8

export function createNativeBackend(): BackendImpl {
  const a = load()
  const verifyPacket = (d: Uint8Array): PacketCheck => {
    const pub = new Uint8Array(64)
    return checkFromStatus(d, a.verifyPacket(d, pub), pub)
  }
  return {
    name: 'native',
    keccak256: (d) => a.keccak256(d),
    keccak: () => new NativeKeccak(new a.Keccak()),
    sign(hash, priv) {
      const r = a.sign(hash, priv)
      return { sig: r.subarray(0, 64), recovery: (r[64]! & 1) as 0 | 1 }
    },
    recover: (h, s, r) => a.recover(h, s, r),
    ecdh: (k, p) => a.ecdh(k, p),
    publicKey: (k) => a.publicKey(k),
    publicKeyValid: (p) => a.publicKeyValid(p),
    verifyPacket,
    async verifyPackets(ds) {
      const n = ds.length
      const status = new Int32Array(n)
      const keys = new Uint8Array(n * 64)
      const parts = n >= MIN_PARALLEL ? threads : 1
      const chunk = Math.ceil(n / parts) || 1
      const jobs: Promise<void>[] = []
      for (let s = 0; s < n; s += chunk) {
        const e = Math.min(n, s + chunk)
        jobs.push(a.verifyBatch(ds.slice(s, e), status.subarray(s, e), keys.subarray(s * 64, e * 64)))
      }
      await Promise.all(jobs)
      return ds.map((d, i) => checkFromStatus(d, status[i]!, keys.slice(i * 64, i * 64 + 64)))
    },
    eciesEncrypt: (p, m, s, e, iv) => a.eciesEncrypt(p, m, s, e, iv),
    eciesDecrypt: (k, c, s) => a.eciesDecrypt(k, c, s),
    frameCipher: (s) => new a.FrameCipher(s.aesSecret, s.macSecret, s.egressMacSeed, s.ingressMacSeed),
    closest: (t, ids, k) => a.closest(t, ids, k),
  }
}
