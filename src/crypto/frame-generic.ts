/**
 * RLPx frame cipher over a backend's incremental keccak and node:crypto AES (wasm and js backends).
 * Ciphers are created once per connection; CTR streams continue across frames as the spec requires.
 */
import { createCipheriv, createDecipheriv, type Cipher, type Decipher } from 'node:crypto'
import type { FrameCipherImpl, FrameSecrets, KeccakState } from './types.js'

/** protocol header-data that every current implementation sends: rlp([0, 0]) (capability-id, context-id) */
export const ZERO_HEADER = Uint8Array.of(0xc2, 0x80, 0x80)

const ZERO_IV = new Uint8Array(16)

/** RLPx frame cipher over Node's AES and any backend's keccak: what the WASM and JS backends use. */
export class GenericFrameCipher implements FrameCipherImpl {
  private readonly enc: Cipher
  private readonly dec: Decipher
  private readonly macCipher: Cipher
  private readonly egress: KeccakState
  private readonly ingress: KeccakState

  constructor(s: FrameSecrets, newKeccak: () => KeccakState) {
    this.enc = createCipheriv('aes-256-ctr', s.aesSecret, ZERO_IV)
    this.dec = createDecipheriv('aes-256-ctr', s.aesSecret, ZERO_IV)
    this.macCipher = createCipheriv('aes-256-ecb', s.macSecret, null).setAutoPadding(false)
    this.egress = newKeccak().update(s.egressMacSeed)
    this.ingress = newKeccak().update(s.ingressMacSeed)
  }

  /** mac ← keccak.update(AES-ECB(mac-secret, digest[:16]) ^ seed); returns the new digest[:16] */
  private macStep(mac: KeccakState, seed: Uint8Array): Uint8Array {
    const block = this.macCipher.update(mac.digest().subarray(0, 16))
    for (let i = 0; i < 16; i++) block[i] = block[i]! ^ seed[i]!
    return mac.update(block).digest().subarray(0, 16)
  }

  private frameMac(mac: KeccakState, cipherText: Uint8Array): Uint8Array {
    const seed = mac.update(cipherText).digest().subarray(0, 16)
    return this.macStep(mac, seed)
  }

  seal(frameData: Uint8Array): Uint8Array {
    const size = frameData.length
    const padded = (size + 15) & ~15
    const out = new Uint8Array(32 + padded + 16)
    const header = out.subarray(0, 16)
    header[0] = size >>> 16
    header[1] = (size >>> 8) & 0xff
    header[2] = size & 0xff
    header.set(ZERO_HEADER, 3)
    header.set(this.enc.update(header))
    out.set(this.macStep(this.egress, header), 16)
    const body = out.subarray(32, 32 + padded)
    body.set(frameData)
    body.set(this.enc.update(body))
    out.set(this.frameMac(this.egress, body), 32 + padded)
    return out
  }

  openHeader(h: Uint8Array): number {
    const expect = this.macStep(this.ingress, h.subarray(0, 16))
    if (!macEqual(expect, h.subarray(16, 32))) return -1
    const plain = this.dec.update(h.subarray(0, 16))
    return (plain[0]! << 16) | (plain[1]! << 8) | plain[2]!
  }

  openBody(body: Uint8Array, size: number): Uint8Array | null {
    const padded = body.length - 16
    const ct = body.subarray(0, padded)
    const expect = this.frameMac(this.ingress, ct)
    if (!macEqual(expect, body.subarray(padded))) return null
    const plain = this.dec.update(ct)
    return new Uint8Array(plain.buffer, plain.byteOffset, size)
  }
}

function macEqual(a: Uint8Array, b: Uint8Array): boolean {
  let d = 0
  for (let i = 0; i < 16; i++) d |= a[i]! ^ b[i]!
  return d === 0
}
