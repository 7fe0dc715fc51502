/** Native backend: the N-API addon (native/*.cc), a shipped prebuild or a local build (addon-path.ts). */
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { loadAddon, type AddonCandidate } from './addon-path.js'
import { pooledBytes } from './bytes.js'
import { checkFromStatus } from './packet-codes.js'
import type { BackendImpl, FrameCipherImpl, KeccakState, PacketCheck } from './types.js'

/** Fixed-size results are written into a caller's array; see native/addon.cc for why. */
interface Addon {
  keccak256(data: Uint8Array, out: Uint8Array): void
  Keccak: new () => { update(d: Uint8Array): void; digest(out: Uint8Array): void }
  sign(hash: Uint8Array, priv: Uint8Array, out: Uint8Array): boolean
  recover(hash: Uint8Array, sig: Uint8Array, rec: number, out: Uint8Array): boolean
  ecdh(priv: Uint8Array, pub: Uint8Array, out: Uint8Array): boolean
  publicKey(priv: Uint8Array, out: Uint8Array): boolean
  publicKeyValid(pub: Uint8Array): boolean
  ecdhPoint(priv: Uint8Array, pub: Uint8Array, out: Uint8Array): boolean
  publicKeyParse(pub: Uint8Array, out: Uint8Array): boolean
  verify(hash: Uint8Array, sig: Uint8Array, pub: Uint8Array): boolean
  verifyPacket(d: Uint8Array, pubOut: Uint8Array): number
  verifyPacketFrom(d: Uint8Array, expected: Uint8Array, pubOut: Uint8Array): number
  sealPacket(d: Uint8Array, priv: Uint8Array): boolean
  sealBatch(ds: Uint8Array[], priv: Uint8Array, workers: number): Promise<void>
  verifyBatch(ds: Uint8Array[], status: Int32Array, keys: Uint8Array, workers: number, expected?: (Uint8Array | undefined)[]): Promise<void>
  eciesEncrypt(pub: Uint8Array, plain: Uint8Array, smd: Uint8Array, eph: Uint8Array, iv: Uint8Array): Uint8Array | null
  eciesDecrypt(priv: Uint8Array, cipher: Uint8Array, smd: Uint8Array): Uint8Array | null
  FrameCipher: new (aes: Uint8Array, mac: Uint8Array, egressSeed: Uint8Array, ingressSeed: Uint8Array) => FrameCipherImpl
  closest(target: Uint8Array, ids: Uint8Array, k: number): Uint32Array
  aesCtr(key: Uint8Array, iv: Uint8Array, data: Uint8Array, out: Uint8Array): boolean
  v5Header(packet: Uint8Array, maskKey: Uint8Array, out: Uint8Array): number
  gcmSeal(key: Uint8Array, nonce: Uint8Array, plain: Uint8Array, ad: Uint8Array, out: Uint8Array): boolean
  gcmOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, ad: Uint8Array, out: Uint8Array): boolean
}

const root = fileURLToPath(new URL('../../', import.meta.url))
let addon: Addon | undefined
let origin: AddonCandidate | undefined
let loadError = ''

function load(): Addon {
  if (addon) return addon
  if (loadError) throw new Error(loadError)
  const r = loadAddon(root)
  if (!r.ok) {
    loadError = r.error
    throw new Error(loadError)
  }
  origin = r.origin
  addon = r.module as Addon
  return addon
}

/** Why the native addon did not load (empty while it loaded or was not tried). */
export function nativeLoadError(): string {
  return loadError
}

/** The file the native addon was loaded from and how it was found, once it loaded. */
export function nativeAddonOrigin(): AddonCandidate | undefined {
  return origin
}

/**
 * Reusable output arrays, off the V8 heap so the addon reads their address without V8 moving them out
 * first. Calls are synchronous and each thread loads its own copy of this module, so one of each size is
 * enough; callers always get a fresh copy (slice).
 */
const scratch32 = new Uint8Array(new ArrayBuffer(32))
const scratch64 = new Uint8Array(new ArrayBuffer(64))
const scratch65 = new Uint8Array(new ArrayBuffer(65))
const scratch33 = new Uint8Array(new ArrayBuffer(33))
// a discv5 datagram's worth; longer inputs get an array of their own
const scratchPacket = new Uint8Array(new ArrayBuffer(1280))

function outFor(n: number): Uint8Array {
  return n <= scratchPacket.length ? scratchPacket.subarray(0, n) : new Uint8Array(new ArrayBuffer(n))
}

/** a fresh copy when `out` is the scratch array */
function own(out: Uint8Array): Uint8Array {
  if (out.buffer !== scratchPacket.buffer) return out
  const copy = pooledBytes(out.length)
  copy.set(out)
  return copy
}

class NativeKeccak implements KeccakState {
  constructor(private readonly s: { update(d: Uint8Array): void; digest(out: Uint8Array): void }) {}
  update(data: Uint8Array): this {
    this.s.update(data)
    return this
  }
  digest(): Uint8Array {
    this.s.digest(scratch32)
    return scratch32.slice()
  }
}

/** pool workers per batch: one per core (libuv's pool has 4 threads unless UV_THREADPOOL_SIZE says otherwise) */
const threads = Math.max(1, Math.min(4, availableParallelism()))
/** below this a batch takes one pool thread: queueing a second worker costs more than it saves */
const MIN_PARALLEL = 64

/** The native backend over the addon; throws when no addon loads here. */
export function createNativeBackend(): BackendImpl {
  const a = load()
  const verifyPacket = (d: Uint8Array, expected?: Uint8Array): PacketCheck => {
    const status = expected ? a.verifyPacketFrom(d, expected, scratch64) : a.verifyPacket(d, scratch64)
    return checkFromStatus(d, status, status < 0 ? scratch64 : scratch64.slice())
  }
  return {
    name: 'native',
    keccak256(d) {
      a.keccak256(d, scratch32)
      return scratch32.slice()
    },
    keccak: () => new NativeKeccak(new a.Keccak()),
    sign(hash, priv) {
      if (!a.sign(hash, priv, scratch65)) throw new Error('signing failed (invalid private key)')
      return { sig: scratch65.slice(0, 64), recovery: (scratch65[64]! & 1) as 0 | 1 }
    },
    recover: (h, s, r) => (a.recover(h, s, r, scratch64) ? scratch64.slice() : null),
    ecdh: (k, p) => (a.ecdh(k, p, scratch32) ? scratch32.slice() : null),
    publicKey(k) {
      if (!a.publicKey(k, scratch64)) throw new Error('invalid private key')
      return scratch64.slice()
    },
    publicKeyValid: (p) => a.publicKeyValid(p),
    ecdhPoint: (k, p) => (a.ecdhPoint(k, p, scratch33) ? scratch33.slice() : null),
    publicKeyParse: (p) => (a.publicKeyParse(p, scratch64) ? scratch64.slice() : null),
    verify: (h, s, p) => a.verify(h, s, p),
    verifyPacket,
    sealPacket: (d, k) => a.sealPacket(d, k),
    // like verification: one pool thread below MIN_PARALLEL datagrams
    sealPackets: (ds, k, most) => a.sealBatch(ds, k, ds.length >= MIN_PARALLEL ? most : 1),
    async verifyPackets(ds, most = threads, expected) {
      const n = ds.length
      const status = new Int32Array(n)
      const keys = new Uint8Array(n * 64)
      // pool workers share the batch through one atomic index, so a busy core does not hold the rest up
      await a.verifyBatch(ds, status, keys, n >= MIN_PARALLEL ? most : 1, expected)
      return ds.map((d, i) => checkFromStatus(d, status[i]!, keys.slice(i * 64, i * 64 + 64)))
    },
    eciesEncrypt: (p, m, s, e, iv) => a.eciesEncrypt(p, m, s, e, iv),
    eciesDecrypt: (k, c, s) => a.eciesDecrypt(k, c, s),
    frameCipher: (s) => new a.FrameCipher(s.aesSecret, s.macSecret, s.egressMacSeed, s.ingressMacSeed),
    closest: (t, ids, k) => a.closest(t, ids, k),
    aesCtr(k, iv, d) {
      const out = outFor(d.length)
      if (!a.aesCtr(k, iv, d, out)) throw new Error('AES-CTR failed')
      return own(out)
    },
    v5Header(p, k) {
      const out = outFor(p.length)
      const end = a.v5Header(p, k, out)
      return end < 0 ? null : own(out.subarray(0, end))
    },
    gcmSeal(k, nonce, p, ad) {
      const out = outFor(p.length + 16)
      if (!a.gcmSeal(k, nonce, p, ad, out)) throw new Error('AES-GCM failed')
      return own(out)
    },
    gcmOpen(k, nonce, s, ad) {
      const out = outFor(s.length - 16)
      return a.gcmOpen(k, nonce, s, ad, out) ? own(out) : null
    },
  }
}
