/**
 * Backend selection and the one place where arguments are checked. Implementations stay thin and
 * assume valid lengths and scalars; they report invalid points by returning null, turned here into
 * typed errors.
 */
import { randomBytes } from 'node:crypto'
import { createJsBackend } from './js.js'
import type { AddonSource } from './addon-path.js'
import { createNativeBackend, nativeAddonOrigin, nativeLoadError } from './native.js'
import { createWasmBackend } from './wasm.js'
import {
  CryptoError,
  ECIES_OVERHEAD,
  MAX_FRAME_SIZE,
  PACKET_HEADER_SIZE,
  type BackendImpl,
  type BackendName,
  type CryptoBackend,
  type FrameCipher,
  type FrameCipherImpl,
  type FrameSecrets,
} from './types.js'

const EMPTY = new Uint8Array(0)
// secp256k1 group order n, big-endian
const N = Uint8Array.from(Buffer.from('fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141', 'hex'))

function len(name: string, b: unknown, n: number): asserts b is Uint8Array {
  if (!(b instanceof Uint8Array)) throw new CryptoError('INVALID_LENGTH', `${name} must be a Uint8Array`)
  if (b.length !== n) throw new CryptoError('INVALID_LENGTH', `${name} must be ${n} bytes, got ${b.length}`)
}

function bytes(name: string, b: unknown): asserts b is Uint8Array {
  if (!(b instanceof Uint8Array)) throw new CryptoError('INVALID_LENGTH', `${name} must be a Uint8Array`)
}

/** 0 < k < n, compared in constant shape over the 32 bytes */
export function privateKeyValid(k: Uint8Array): boolean {
  if (!(k instanceof Uint8Array) || k.length !== 32) return false
  let nonZero = 0
  let lt = 0
  let decided = 0
  for (let i = 0; i < 32; i++) {
    const a = k[i]!
    const b = N[i]!
    nonZero |= a
    if (!decided && a !== b) {
      lt = a < b ? 1 : 0
      decided = 1
    }
  }
  return nonZero !== 0 && lt === 1
}

/** a 33-byte compressed (02/03 prefix) or 64-byte uncompressed public key */
function anyKey(pub: unknown): asserts pub is Uint8Array {
  if (!(pub instanceof Uint8Array)) throw new CryptoError('INVALID_LENGTH', 'public key must be a Uint8Array')
  if (pub.length === 64) return
  if (pub.length !== 33) throw new CryptoError('INVALID_LENGTH', `public key must be 33 or 64 bytes, got ${pub.length}`)
  if (pub[0] !== 2 && pub[0] !== 3) throw new CryptoError('INVALID_PUBLIC_KEY', 'compressed public key must start with 02 or 03')
}

function priv(name: string, k: unknown): asserts k is Uint8Array {
  len(name, k, 32)
  if (!privateKeyValid(k)) throw new CryptoError('INVALID_PRIVATE_KEY', `${name} is not a valid secp256k1 private key`)
}

function checkedFrameCipher(f: FrameCipherImpl): FrameCipher {
  return {
    seal(frameData) {
      bytes('frame data', frameData)
      if (frameData.length > MAX_FRAME_SIZE) throw new CryptoError('FRAME_TOO_LARGE', `frame of ${frameData.length} bytes exceeds 2^24-1`)
      return f.seal(frameData)
    },
    openHeader(header) {
      len('frame header', header, 32)
      const size = f.openHeader(header)
      if (size < 0) throw new CryptoError('BAD_MAC', 'frame header MAC mismatch')
      return size
    },
    openBody(body, size) {
      bytes('frame body', body)
      if (!Number.isInteger(size) || size < 0 || size > MAX_FRAME_SIZE)
        throw new CryptoError('FRAME_TOO_LARGE', `invalid frame size ${size}`)
      const expect = ((size + 15) & ~15) + 16
      if (body.length !== expect) throw new CryptoError('INVALID_LENGTH', `frame body must be ${expect} bytes, got ${body.length}`)
      const plain = f.openBody(body, size)
      if (!plain) throw new CryptoError('BAD_MAC', 'frame MAC mismatch')
      return plain
    },
  }
}

const GCM_TAG = 16

/** Wrap an implementation with the argument checks and typed errors every caller relies on. */
export function checked(impl: BackendImpl): CryptoBackend {
  return {
    name: impl.name,
    keccak256(data) {
      bytes('data', data)
      return impl.keccak256(data)
    },
    keccak() {
      const s = impl.keccak()
      const update = s.update.bind(s)
      s.update = (data: Uint8Array) => {
        bytes('data', data)
        return update(data)
      }
      return s
    },
    sign(hash, key) {
      len('hash', hash, 32)
      priv('private key', key)
      return impl.sign(hash, key)
    },
    recover(hash, sig, recovery) {
      len('hash', hash, 32)
      len('signature', sig, 64)
      if (!Number.isInteger(recovery) || recovery < 0 || recovery > 3)
        throw new CryptoError('INVALID_SIGNATURE', `recovery id must be 0..3, got ${recovery}`)
      const pub = impl.recover(hash, sig, recovery)
      if (!pub) throw new CryptoError('INVALID_SIGNATURE', 'signature does not recover to a public key')
      return pub
    },
    ecdh(key, pub) {
      priv('private key', key)
      len('public key', pub, 64)
      const x = impl.ecdh(key, pub)
      if (!x) throw new CryptoError('INVALID_PUBLIC_KEY', 'public key is not a valid secp256k1 point')
      return x
    },
    publicKey(key) {
      priv('private key', key)
      return impl.publicKey(key)
    },
    publicKeyValid(pub) {
      return pub instanceof Uint8Array && pub.length === 64 && impl.publicKeyValid(pub)
    },
    ecdhPoint(key, pub) {
      priv('private key', key)
      anyKey(pub)
      const p = impl.ecdhPoint(key, pub)
      if (!p) throw new CryptoError('INVALID_PUBLIC_KEY', 'public key is not a valid secp256k1 point')
      return p
    },
    publicKeyDecompress(pub) {
      anyKey(pub)
      const p = impl.publicKeyParse(pub)
      if (!p) throw new CryptoError('INVALID_PUBLIC_KEY', 'public key is not a valid secp256k1 point')
      return p
    },
    verify(hash, sig, pub) {
      if (!(hash instanceof Uint8Array) || hash.length !== 32 || !(sig instanceof Uint8Array) || sig.length !== 64) return false
      if (!(pub instanceof Uint8Array) || !(pub.length === 64 || (pub.length === 33 && (pub[0] === 2 || pub[0] === 3)))) return false
      return impl.verify(hash, sig, pub)
    },
    privateKeyValid,
    verifyPacket(d, expected) {
      bytes('datagram', d)
      if (expected !== undefined) len('expected signer', expected, 64)
      return impl.verifyPacket(d, expected)
    },
    sealPacket(d, key) {
      bytes('datagram', d)
      if (d.length < PACKET_HEADER_SIZE + 1) throw new CryptoError('INVALID_LENGTH', `datagram must hold the ${PACKET_HEADER_SIZE}-byte header and a type, got ${d.length} bytes`)
      priv('private key', key)
      if (!impl.sealPacket(d, key)) throw new CryptoError('INVALID_PRIVATE_KEY', 'signing failed')
    },
    verifyPackets(ds, threads, expected) {
      try {
        if (!Array.isArray(ds)) throw new CryptoError('INVALID_LENGTH', 'datagrams must be an array')
        for (const d of ds) bytes('datagram', d)
        if (expected !== undefined) {
          if (!Array.isArray(expected) || expected.length !== ds.length) throw new CryptoError('INVALID_LENGTH', 'expected signers must be an array as long as the datagrams')
          for (const e of expected) if (e !== undefined) len('expected signer', e, 64)
        }
      } catch (err) {
        return Promise.reject(err)
      }
      return impl.verifyPackets(ds, threads, expected)
    },
    sealPackets(ds, key, threads = 1) {
      try {
        if (!Array.isArray(ds)) throw new CryptoError('INVALID_LENGTH', 'datagrams must be an array')
        for (const d of ds) {
          bytes('datagram', d)
          if (d.length < PACKET_HEADER_SIZE + 1) throw new CryptoError('INVALID_LENGTH', `datagram must hold the ${PACKET_HEADER_SIZE}-byte header and a type, got ${d.length} bytes`)
        }
        priv('private key', key)
      } catch (err) {
        return Promise.reject(err)
      }
      if (!Number.isInteger(threads) || threads < 1) return Promise.reject(new CryptoError('INVALID_LENGTH', `threads must be a positive integer, got ${threads}`))
      return ds.length === 0 ? Promise.resolve() : impl.sealPackets(ds, key, threads)
    },
    eciesEncrypt(pub, plain, sharedMacData = EMPTY, opts = {}) {
      len('public key', pub, 64)
      bytes('plaintext', plain)
      bytes('shared mac data', sharedMacData)
      const eph = opts.ephPriv ?? randomPrivateKey()
      priv('ephemeral key', eph)
      const iv = opts.iv ?? randomBytes(16)
      len('iv', iv, 16)
      const out = impl.eciesEncrypt(pub, plain, sharedMacData, eph, iv)
      if (!out) throw new CryptoError('INVALID_PUBLIC_KEY', 'public key is not a valid secp256k1 point')
      return out
    },
    eciesDecrypt(key, cipher, sharedMacData = EMPTY) {
      priv('private key', key)
      bytes('ciphertext', cipher)
      bytes('shared mac data', sharedMacData)
      if (cipher.length < ECIES_OVERHEAD) throw new CryptoError('DECRYPT_FAILED', `ECIES message too short (${cipher.length} bytes)`)
      const out = impl.eciesDecrypt(key, cipher, sharedMacData)
      if (!out) throw new CryptoError('DECRYPT_FAILED', 'ECIES decryption failed (bad key or MAC)')
      return out
    },
    frameCipher(s: FrameSecrets) {
      len('aes secret', s.aesSecret, 32)
      len('mac secret', s.macSecret, 32)
      bytes('egress mac seed', s.egressMacSeed)
      bytes('ingress mac seed', s.ingressMacSeed)
      return checkedFrameCipher(impl.frameCipher(s))
    },
    closest(target, ids, k) {
      len('target', target, 32)
      bytes('ids', ids)
      if (ids.length % 32 !== 0) throw new CryptoError('INVALID_LENGTH', 'ids must be a packed array of 32-byte IDs')
      if (!Number.isInteger(k) || k < 0) throw new CryptoError('INVALID_LENGTH', `k must be a non-negative integer, got ${k}`)
      return impl.closest(target, ids, Math.min(k, ids.length / 32))
    },
    aesCtr(key, iv, data) {
      len('AES key', key, 16)
      len('IV', iv, 16)
      bytes('data', data)
      return impl.aesCtr(key, iv, data)
    },
    v5Header(packet, maskKey) {
      bytes('packet', packet)
      len('masking key', maskKey, 16)
      return impl.v5Header(packet, maskKey)
    },
    gcmSeal(key, nonce, plain, ad) {
      len('AES key', key, 16)
      len('nonce', nonce, 12)
      bytes('plaintext', plain)
      bytes('associated data', ad)
      return impl.gcmSeal(key, nonce, plain, ad)
    },
    gcmOpen(key, nonce, sealed, ad) {
      len('AES key', key, 16)
      len('nonce', nonce, 12)
      bytes('ciphertext', sealed)
      bytes('associated data', ad)
      return sealed.length < GCM_TAG ? null : impl.gcmOpen(key, nonce, sealed, ad)
    },
  }
}

/** A fresh secp256k1 private key from the OS's CSPRNG. */
export function randomPrivateKey(): Uint8Array {
  for (;;) {
    const k = new Uint8Array(randomBytes(32))
    if (privateKeyValid(k)) return k
  }
}

const loaded = new Map<BackendName, CryptoBackend>()

/** A specific backend; throws CryptoError('BACKEND_UNAVAILABLE') when it cannot load here. */
export function loadBackend(name: BackendName): CryptoBackend {
  const have = loaded.get(name)
  if (have) return have
  let impl: BackendImpl
  try {
    impl = name === 'native' ? createNativeBackend() : name === 'wasm' ? createWasmBackend() : createJsBackend()
  } catch (e) {
    throw new CryptoError('BACKEND_UNAVAILABLE', `${name} backend unavailable: ${(e as Error).message}`)
  }
  const b = checked(impl)
  loaded.set(name, b)
  return b
}

function select(): CryptoBackend {
  const forced = process.env.ETHP2P_BACKEND
  if (forced) {
    if (forced !== 'native' && forced !== 'wasm' && forced !== 'js')
      throw new CryptoError('BACKEND_UNAVAILABLE', `ETHP2P_BACKEND must be native, wasm or js, got "${forced}"`)
    return loadBackend(forced)
  }
  for (const name of ['native', 'wasm'] as const) {
    try {
      return loadBackend(name)
    } catch {
      // fall through to the next backend
    }
  }
  return loadBackend('js')
}

/** The active backend, chosen once at load: native, else wasm, else js (ETHP2P_BACKEND forces one). */
export const backend: CryptoBackend = select()

/**
 * Whether the native addon loads here and, when it does, where it came from (`prebuild`,
 * `local build` or `ETHP2P_ADDON`) and which file; when it does not, why. `ethp2p info` prints this.
 */
export function addonStatus(): { loaded: boolean; source?: AddonSource; path?: string; error?: string } {
  try {
    loadBackend('native')
    const origin = nativeAddonOrigin()
    return { loaded: true, source: origin?.source, path: origin?.path }
  } catch {
    return { loaded: false, error: nativeLoadError() }
  }
}

/** The backend names, fastest first (the order selection tries them in). */
export const ALL_BACKENDS: readonly BackendName[] = ['native', 'wasm', 'js']
