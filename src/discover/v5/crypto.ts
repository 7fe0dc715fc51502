/**
 * discv5's cryptography ("v4" identity scheme): session keys from ECDH and HKDF-SHA256, the
 * id-signature that proves the handshake initiator's identity. Curve operations go through the
 * CryptoBackend (native, WASM or JS), as does the messages' AES-128-GCM (gcmSeal, gcmOpen); HKDF is OpenSSL's.
 */
import { createHash, hkdfSync } from 'node:crypto'
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

