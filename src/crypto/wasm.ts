/**
 * WASM backend: the same C core as the addon (native/*.c, libsecp256k1, XKCP keccak) built for wasm32
 * by native/wasm/build.sh; the committed module has no imports. AES/HMAC/SHA-256 come from node:crypto.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { aesCtr, gcmOpen, gcmSeal, v5Header } from './aes-generic.js'
import { closestJs } from './closest.js'
import { eciesDecryptWith, eciesEncryptWith } from './ecies-generic.js'
import { GenericFrameCipher } from './frame-generic.js'
import { checkFromStatus } from './packet-codes.js'
import { sealPacketWith } from './packet-generic.js'
import type { BackendImpl, KeccakState, PacketCheck, Signature } from './types.js'
import { verifyInWorkers } from './worker-pool.js'

interface Exports {
  memory: WebAssembly.Memory
  _initialize(): void
  malloc(n: number): number
  free(p: number): void
  ep_init(): number
  ep_keccak256(p: number, n: number, out: number): void
  ep_keccak_size(): number
  ep_keccak_init(st: number): void
  ep_keccak_update(st: number, p: number, n: number): void
  ep_keccak_digest(st: number, out: number): void
  ep_sign(h: number, k: number, out: number): number
  ep_recover(h: number, s: number, rec: number, out: number): number
  ep_ecdh(k: number, p: number, out: number): number
  ep_pubkey(k: number, out: number): number
  ep_pubkey_valid(p: number): number
  ep_ecdh_point(k: number, p: number, n: number, out: number): number
  ep_pubkey_parse(p: number, n: number, out: number): number
  ep_verify(h: number, s: number, p: number, n: number): number
  ep_verify_packet(p: number, n: number, out: number): number
  ep_verify_packet_from(p: number, n: number, expected: number, out: number): number
  ep_closest(t: number, ids: number, n: number, k: number, out: number): number
}

/** the committed WASM build of the C core (native/wasm/build.sh) */
export const WASM_PATH = fileURLToPath(new URL('../../native/wasm/ethp2p.wasm', import.meta.url))

// fixed slots inside one allocation
const A = 0 // 32: hash / target
const B = 32 // 64: private key / signature / public key input
const OUT = 96 // 65: results
const C = 192 // 64: a second key input (verify's public key)
const FIXED_SIZE = 256

class WasmCore {
  private readonly e: Exports
  private u8: Uint8Array
  private readonly fixed: number
  private scratch = 0
  private scratchSize = 0
  private readonly states = new FinalizationRegistry<number>((p) => this.e.free(p))

  constructor() {
    const mod = new WebAssembly.Module(readFileSync(WASM_PATH))
    this.e = new WebAssembly.Instance(mod, {}).exports as unknown as Exports
    this.e._initialize()
    if (!this.e.ep_init()) throw new Error('secp256k1 context creation failed in wasm')
    this.fixed = this.e.malloc(FIXED_SIZE)
    this.u8 = new Uint8Array(this.e.memory.buffer)
  }

  /** memory growth detaches the old view */
  private heap(): Uint8Array {
    if (this.u8.byteLength === 0) this.u8 = new Uint8Array(this.e.memory.buffer)
    return this.u8
  }

  private input(data: Uint8Array, extra = 0): number {
    const need = data.length + extra
    if (need > this.scratchSize) {
      if (this.scratch) this.e.free(this.scratch)
      this.scratchSize = Math.max(need, 4096)
      this.scratch = this.e.malloc(this.scratchSize)
      if (!this.scratch) throw new RangeError('wasm out of memory')
    }
    this.heap().set(data, this.scratch)
    return this.scratch
  }

  private put(slot: number, data: Uint8Array): number {
    this.heap().set(data, this.fixed + slot)
    return this.fixed + slot
  }

  private out(n: number): Uint8Array {
    return this.heap().slice(this.fixed + OUT, this.fixed + OUT + n)
  }

  keccak256(data: Uint8Array): Uint8Array {
    this.e.ep_keccak256(this.input(data), data.length, this.fixed + OUT)
    return this.out(32)
  }

  keccak(): KeccakState {
    const st = this.e.malloc(this.e.ep_keccak_size())
    this.e.ep_keccak_init(st)
    const self = this
    const state: KeccakState = {
      update(data) {
        self.e.ep_keccak_update(st, self.input(data), data.length)
        return this
      },
      digest() {
        self.e.ep_keccak_digest(st, self.fixed + OUT)
        return self.out(32)
      },
    }
    this.states.register(state, st)
    return state
  }

  sign(hash: Uint8Array, priv: Uint8Array): Uint8Array | null {
    return this.e.ep_sign(this.put(A, hash), this.put(B, priv), this.fixed + OUT) ? this.out(65) : null
  }

  recover(hash: Uint8Array, sig: Uint8Array, rec: number): Uint8Array | null {
    return this.e.ep_recover(this.put(A, hash), this.put(B, sig), rec, this.fixed + OUT) ? this.out(64) : null
  }

  ecdh(priv: Uint8Array, pub: Uint8Array): Uint8Array | null {
    return this.e.ep_ecdh(this.put(A, priv), this.put(B, pub), this.fixed + OUT) ? this.out(32) : null
  }

  publicKey(priv: Uint8Array): Uint8Array {
    if (!this.e.ep_pubkey(this.put(A, priv), this.fixed + OUT)) throw new Error('invalid private key')
    return this.out(64)
  }

  ecdhPoint(priv: Uint8Array, pub: Uint8Array): Uint8Array | null {
    return this.e.ep_ecdh_point(this.put(A, priv), this.put(B, pub), pub.length, this.fixed + OUT) ? this.out(33) : null
  }

  publicKeyParse(pub: Uint8Array): Uint8Array | null {
    return this.e.ep_pubkey_parse(this.put(B, pub), pub.length, this.fixed + OUT) ? this.out(64) : null
  }

  verify(hash: Uint8Array, sig: Uint8Array, pub: Uint8Array): boolean {
    return this.e.ep_verify(this.put(A, hash), this.put(B, sig), this.put(C, pub), pub.length) === 1
  }

  publicKeyValid(pub: Uint8Array): boolean {
    return this.e.ep_pubkey_valid(this.put(B, pub)) === 1
  }

  verifyPacket(d: Uint8Array, expected?: Uint8Array): PacketCheck {
    const at = this.input(d)
    const status = expected ? this.e.ep_verify_packet_from(at, d.length, this.put(B, expected), this.fixed + OUT) : this.e.ep_verify_packet(at, d.length, this.fixed + OUT)
    return checkFromStatus(d, status, status >= 0 ? this.out(64) : new Uint8Array(64))
  }

  closest(target: Uint8Array, ids: Uint8Array, k: number): Uint32Array {
    const p = this.input(ids, k * 4)
    const n = this.e.ep_closest(this.put(A, target), p, ids.length >>> 5, k, p + ids.length)
    const heap = this.heap()
    return new Uint32Array(heap.slice(p + ids.length, p + ids.length + n * 4).buffer)
  }
}

/** The WASM backend: the same C core as the addon, compiled to wasm32, one instance per thread. */
export function createWasmBackend(): BackendImpl {
  const w = new WasmCore()
  const prims = { ecdh: w.ecdh.bind(w), publicKey: w.publicKey.bind(w) }
  const verifyPacket = w.verifyPacket.bind(w)
  const keccak256 = w.keccak256.bind(w)
  const sign = (hash: Uint8Array, priv: Uint8Array): Signature => {
    const r = w.sign(hash, priv)
    if (!r) throw new Error('signing failed')
    return { sig: r.subarray(0, 64), recovery: (r[64]! & 1) as 0 | 1 }
  }
  return {
    name: 'wasm',
    keccak256,
    keccak: w.keccak.bind(w),
    sign,
    recover: w.recover.bind(w),
    ecdh: prims.ecdh,
    publicKey: prims.publicKey,
    publicKeyValid: w.publicKeyValid.bind(w),
    ecdhPoint: w.ecdhPoint.bind(w),
    publicKeyParse: w.publicKeyParse.bind(w),
    verify: w.verify.bind(w),
    verifyPacket,
    sealPacket: (d, priv) => sealPacketWith(d, priv, keccak256, sign),
    // on the event loop: the worker pool verifies only
    async sealPackets(ds, priv) {
      for (const d of ds) sealPacketWith(d, priv, keccak256, sign)
    },
    verifyPackets: (ds, _threads, expected) => verifyInWorkers('wasm', ds, verifyPacket, expected),
    eciesEncrypt: (pub, plain, smd, eph, iv) => eciesEncryptWith(prims, pub, plain, smd, eph, iv),
    eciesDecrypt: (priv, cipher, smd) => eciesDecryptWith(prims, priv, cipher, smd),
    frameCipher: (s) => new GenericFrameCipher(s, () => w.keccak()),
    closest: (t, ids, k) => (ids.length === 0 ? closestJs(t, ids, k) : w.closest(t, ids, k)),
    aesCtr,
    v5Header,
    gcmSeal,
    gcmOpen,
  }
}
