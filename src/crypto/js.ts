/** Pure-JS backend: @noble/curves and @noble/hashes; AES/HMAC/SHA-256 from node:crypto (shared with wasm). */
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { closestJs } from './closest.js'
import { aesCtr, gcmOpen, gcmSeal, v5Header } from './aes-generic.js'
import { eciesDecryptWith, eciesEncryptWith } from './ecies-generic.js'
import { GenericFrameCipher } from './frame-generic.js'
import { checkPacketWith, sealPacketWith } from './packet-generic.js'
import type { BackendImpl, KeccakState, PacketCheck, Signature } from './types.js'
import { verifyInWorkers } from './worker-pool.js'

const Point = secp256k1.Point

class NobleKeccak implements KeccakState {
  private h = keccak_256.create()
  update(data: Uint8Array): this {
    this.h.update(data)
    return this
  }
  digest(): Uint8Array {
    return this.h.clone().digest()
  }
}

function pointFrom64(pub: Uint8Array): InstanceType<typeof Point> | null {
  const full = new Uint8Array(65)
  full[0] = 4
  full.set(pub, 1)
  try {
    return Point.fromBytes(full)
  } catch {
    return null
  }
}

function recover(hash: Uint8Array, sig: Uint8Array, recovery: number): Uint8Array | null {
  try {
    const s = secp256k1.Signature.fromBytes(sig, 'compact').addRecoveryBit(recovery)
    return s.recoverPublicKey(hash).toBytes(false).subarray(1)
  } catch {
    return null
  }
}

/** a 33-byte compressed or 64-byte public key as a point, or null */
function pointFromAny(pub: Uint8Array): InstanceType<typeof Point> | null {
  if (pub.length === 64) return pointFrom64(pub)
  try {
    return Point.fromBytes(pub)
  } catch {
    return null
  }
}

function ecdh(priv: Uint8Array, pub: Uint8Array): Uint8Array | null {
  const p = pointFrom64(pub)
  if (!p) return null
  return p.multiply(secp256k1.Point.Fn.fromBytes(priv)).toBytes(true).subarray(1)
}

/** The pure-JS backend: @noble/curves and @noble/hashes, Node's crypto for AES and HMAC. */
export function createJsBackend(): BackendImpl {
  // no cheaper check than recovery here: an expected signer is ignored, which gives the same answer
  const verifyPacket = (d: Uint8Array): PacketCheck => checkPacketWith(d, keccak_256, recover)
  const sign = (hash: Uint8Array, priv: Uint8Array): Signature => {
    const rec = secp256k1.sign(hash, priv, { prehash: false, format: 'recovered', lowS: true })
    return { sig: rec.slice(1), recovery: (rec[0]! & 1) as 0 | 1 }
  }
  return {
    name: 'js',
    keccak256: (data) => keccak_256(data),
    keccak: () => new NobleKeccak(),
    sign,
    recover,
    ecdh,
    publicKey: (priv) => secp256k1.getPublicKey(priv, false).subarray(1),
    publicKeyValid: (pub) => pointFrom64(pub) !== null,
    ecdhPoint(priv, pub) {
      const p = pointFromAny(pub)
      return p ? p.multiply(secp256k1.Point.Fn.fromBytes(priv)).toBytes(true) : null
    },
    publicKeyParse: (pub) => pointFromAny(pub)?.toBytes(false).subarray(1) ?? null,
    verify(hash, sig, pub) {
      const p = pointFromAny(pub)
      if (!p) return false
      try {
        return secp256k1.verify(sig, hash, p.toBytes(true), { prehash: false, lowS: true, format: 'compact' })
      } catch {
        return false
      }
    },
    verifyPacket,
    sealPacket: (d, priv) => sealPacketWith(d, priv, keccak_256, sign),
    // on the event loop: the worker pool verifies only
    async sealPackets(ds, priv) {
      for (const d of ds) sealPacketWith(d, priv, keccak_256, sign)
    },
    verifyPackets: (datagrams) => verifyInWorkers('js', datagrams, verifyPacket),
    eciesEncrypt: (pub, plain, smd, eph, iv) => eciesEncryptWith(jsPrims, pub, plain, smd, eph, iv),
    eciesDecrypt: (priv, cipher, smd) => eciesDecryptWith(jsPrims, priv, cipher, smd),
    frameCipher: (secrets) => new GenericFrameCipher(secrets, () => new NobleKeccak()),
    closest: closestJs,
    aesCtr,
    v5Header,
    gcmSeal,
    gcmOpen,
  }
}

const jsPrims = {
  ecdh,
  publicKey: (priv: Uint8Array) => secp256k1.getPublicKey(priv, false).subarray(1),
}
