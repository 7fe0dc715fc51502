/** Small byte helpers shared by the backends. */

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!
  return diff === 0
}

/**
 * Equality of public bytes (keys, hashes) that stops at the first difference: not for secrets (MACs
 * compare with {@link bytesEqual}), but ten times cheaper on the hot path, where two random keys
 * differ in their first byte.
 */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** the parts one after the other, in a new array */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0
  for (const p of parts) n += p.length
  const out = new Uint8Array(n)
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

/** a XOR b, byte by byte, over a's length (b at least as long) */
export function xorBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length)
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!
  return out
}

/** lowercase hex of the bytes (a view: no copy of the underlying buffer) */
export function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
}

/** bytes of a hex string, `0x` prefix allowed; TypeError on anything else */
export function fromHex(s: string): Uint8Array {
  const clean = s.startsWith('0x') ? s.slice(2) : s
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) throw new TypeError('invalid hex string')
  return new Uint8Array(Buffer.from(clean, 'hex'))
}

/**
 * `n` uninitialised bytes carved from Node's shared Buffer pool, as a plain Uint8Array. Above 64
 * bytes `new Uint8Array(n)` allocates its own zeroed store, about a microsecond: more than the AES
 * of a whole discv5 header. The caller must write every byte.
 */
export function pooledBytes(n: number): Uint8Array {
  const b = Buffer.allocUnsafe(n)
  return new Uint8Array(b.buffer, b.byteOffset, n)
}
