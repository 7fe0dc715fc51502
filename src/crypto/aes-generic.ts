/** AES-128-CTR and AES-128-GCM through node:crypto (OpenSSL), for the WASM and JS backends. */
import { createCipheriv, createDecipheriv } from 'node:crypto'
import { pooledBytes } from './bytes.js'

const TAG = 16

function bytes(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.length)
}

/** `data` XOR the AES-128-CTR key stream of `key` from `iv` */
export function aesCtr(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  return bytes(createCipheriv('aes-128-ctr', key, iv).update(data))
}

const IV = 16
const STATIC_HEADER = 23

/** masking-iv ‖ static header ‖ authdata unmasked, or null when the authdata runs past the packet */
export function v5Header(packet: Uint8Array, maskKey: Uint8Array): Uint8Array | null {
  if (packet.length < IV + STATIC_HEADER) return null
  const d = createDecipheriv('aes-128-ctr', maskKey, packet.subarray(0, IV))
  const sh = d.update(packet.subarray(IV, IV + STATIC_HEADER))
  const end = IV + STATIC_HEADER + ((sh[21]! << 8) | sh[22]!)
  if (end > packet.length) return null
  const out = pooledBytes(end)
  out.set(packet.subarray(0, IV), 0)
  out.set(sh, IV)
  out.set(d.update(packet.subarray(IV + STATIC_HEADER, end)), IV + STATIC_HEADER)
  return out
}

/** ciphertext ‖ 16-byte tag */
export function gcmSeal(key: Uint8Array, nonce: Uint8Array, plain: Uint8Array, ad: Uint8Array): Uint8Array {
  const c = createCipheriv('aes-128-gcm', key, nonce)
  c.setAAD(ad)
  return bytes(Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]))
}

/** the plaintext, or null when the tag does not match */
export function gcmOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, ad: Uint8Array): Uint8Array | null {
  try {
    const d = createDecipheriv('aes-128-gcm', key, nonce)
    d.setAAD(ad)
    d.setAuthTag(sealed.subarray(sealed.length - TAG))
    return bytes(Buffer.concat([d.update(sealed.subarray(0, sealed.length - TAG)), d.final()]))
  } catch {
    return null
  }
}
