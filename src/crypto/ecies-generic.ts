/**
 * ECIES as RLPx uses it, over a backend's ECDH plus node:crypto's AES/SHA-256/HMAC
 * (the wasm and js backends; the native backend does all of it in one C++ call).
 * Layout: 0x04 ‖ R(64) ‖ iv(16) ‖ AES-128-CTR(ke, iv, m) ‖ HMAC-SHA-256(km, iv ‖ c ‖ s2)(32)
 */
import { createCipheriv, createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { ECIES_OVERHEAD } from './types.js'

/** The two curve operations ECIES needs, from whichever backend runs it. */
export interface EciesPrims {
  ecdh(priv: Uint8Array, pub: Uint8Array): Uint8Array | null
  publicKey(priv: Uint8Array): Uint8Array
}

/** NIST SP 800-56 concatenation KDF with SHA-256, one round: 32 bytes → ke (16) and km = sha256(16). */
function deriveKeys(z: Uint8Array): { ke: Uint8Array; km: Uint8Array } {
  const k = createHash('sha256').update(Uint8Array.of(0, 0, 0, 1)).update(z).digest()
  return { ke: k.subarray(0, 16), km: createHash('sha256').update(k.subarray(16, 32)).digest() }
}

function mac(km: Uint8Array, ivAndCipher: Uint8Array, sharedMacData: Uint8Array): Buffer {
  return createHmac('sha256', km).update(ivAndCipher).update(sharedMacData).digest()
}

/** ECIES encryption (RLPx's flavour) over `p`'s curve operations and Node's AES and HMAC; null for a bad point. */
export function eciesEncryptWith(
  p: EciesPrims,
  pub: Uint8Array,
  plain: Uint8Array,
  sharedMacData: Uint8Array,
  ephPriv: Uint8Array,
  iv: Uint8Array,
): Uint8Array | null {
  const z = p.ecdh(ephPriv, pub)
  if (!z) return null
  const { ke, km } = deriveKeys(z)
  const out = new Uint8Array(ECIES_OVERHEAD + plain.length)
  out[0] = 4
  out.set(p.publicKey(ephPriv), 1)
  out.set(iv, 65)
  const c = createCipheriv('aes-128-ctr', ke, iv)
  out.set(c.update(plain), 81)
  const end = 81 + plain.length
  out.set(mac(km, out.subarray(65, end), sharedMacData), end)
  return out
}

/** ECIES decryption; null on a bad ephemeral key, a wrong key or a MAC mismatch. */
export function eciesDecryptWith(p: EciesPrims, priv: Uint8Array, cipher: Uint8Array, sharedMacData: Uint8Array): Uint8Array | null {
  if (cipher.length < ECIES_OVERHEAD || cipher[0] !== 4) return null
  const z = p.ecdh(priv, cipher.subarray(1, 65))
  if (!z) return null
  const { ke, km } = deriveKeys(z)
  const end = cipher.length - 32
  const expect = mac(km, cipher.subarray(65, end), sharedMacData)
  if (!timingSafeEqual(expect, cipher.subarray(end))) return null
  const d = createCipheriv('aes-128-ctr', ke, cipher.subarray(65, 81))
  return new Uint8Array(d.update(cipher.subarray(81, end)))
}
