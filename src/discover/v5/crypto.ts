/**
 * discv5's cryptography ("v4" identity scheme): session keys from ECDH and HKDF-SHA256, the
 * id-signature that proves the handshake initiator's identity, and AES-128-GCM message sealing.
 * Curve operations go through the CryptoBackend (native, WASM or JS); AES and HKDF are OpenSSL's.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync } from 'node:crypto'
import type { CryptoBackend } from '../../crypto/types.js'

const KEY_AGREEMENT = Buffer.from('discovery v5 key agreement')
const ID_PROOF = Buffer.from('discovery v5 identity proof')
/** AES-GCM's tag, appended to every ciphertext */
export const GCM_TAG_SIZE = 16

/** The two AES-GCM keys a discv5 handshake derives, one per direction. */
export interface SessionKeys {
  /** the handshake initiator writes with this one, the recipient reads with it */
  initiatorKey: Uint8Array
  recipientKey: Uint8Array
}

/**
 * Keys of a new session: ECDH of one side's ephemeral key with the other's static key (or the other
 * way round: the secret is the same), HKDF-extracted with the challenge data as salt.
 */
export function deriveKeys(b: CryptoBackend, priv: Uint8Array, pub: Uint8Array, idA: Uint8Array, idB: Uint8Array, challengeData: Uint8Array): SessionKeys {
  const secret = b.ecdhPoint(priv, pub)
  const info = Buffer.concat([KEY_AGREEMENT, idA, idB])
  const kd = new Uint8Array(hkdfSync('sha256', secret, challengeData, info, 32))
  return { initiatorKey: kd.slice(0, 16), recipientKey: kd.slice(16, 32) }
}

function idProofHash(challengeData: Uint8Array, ephPub: Uint8Array, destId: Uint8Array): Uint8Array {
  return createHash('sha256').update(ID_PROOF).update(challengeData).update(ephPub).update(destId).digest()
}

/** The initiator's proof of identity: a signature over the challenge, its ephemeral key and the recipient's ID. */
export function idSign(b: CryptoBackend, priv: Uint8Array, challengeData: Uint8Array, ephPub: Uint8Array, destId: Uint8Array): Uint8Array {
  return b.sign(idProofHash(challengeData, ephPub, destId), priv).sig
}

/** Whether `sig` is `pub`'s id-signature over the challenge, the ephemeral key and the recipient's id. */
export function idVerify(b: CryptoBackend, pub: Uint8Array, sig: Uint8Array, challengeData: Uint8Array, ephPub: Uint8Array, destId: Uint8Array): boolean {
  return b.verify(idProofHash(challengeData, ephPub, destId), sig, pub)
}

/** AES-128-GCM: ciphertext ‖ 16-byte tag */
export function seal(key: Uint8Array, nonce: Uint8Array, plain: Uint8Array, ad: Uint8Array): Uint8Array {
  const c = createCipheriv('aes-128-gcm', key, nonce)
  c.setAAD(ad)
  const out = Buffer.concat([c.update(plain), c.final(), c.getAuthTag()])
  return new Uint8Array(out.buffer, out.byteOffset, out.length)
}

/** the plaintext, or null when the tag does not match (wrong key, tampered packet) */
export function open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, ad: Uint8Array): Uint8Array | null {
  if (sealed.length < GCM_TAG_SIZE) return null
  try {
    const d = createDecipheriv('aes-128-gcm', key, nonce)
    d.setAAD(ad)
    d.setAuthTag(sealed.subarray(sealed.length - GCM_TAG_SIZE))
    const out = Buffer.concat([d.update(sealed.subarray(0, sealed.length - GCM_TAG_SIZE)), d.final()])
    return new Uint8Array(out.buffer, out.byteOffset, out.length)
  } catch {
    return null
  }
}
