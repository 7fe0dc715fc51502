/**
 * RFC 4648 base32 without padding, upper case only: the alphabet of EIP-1459 hashes and link keys.
 * Decoding is strict about the alphabet and the length so a name maps to exactly one byte string.
 */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
const VALUE = new Int8Array(128).fill(-1)
for (let i = 0; i < ALPHABET.length; i++) VALUE[ALPHABET.charCodeAt(i)] = i

/** RFC 4648 base32 without padding, as EIP-1459 names entries. */
export function base32Encode(data: Uint8Array): string {
  let out = ''
  let acc = 0
  let bits = 0
  for (const byte of data) {
    acc = ((acc << 8) | byte) & 0xffff
    bits += 8
    while (bits >= 5) {
      bits -= 5
      out += ALPHABET[(acc >> bits) & 31]
    }
  }
  if (bits > 0) out += ALPHABET[(acc << (5 - bits)) & 31]
  return out
}

/** Bytes of `s`, or undefined when it is not unpadded upper-case base32 of a whole number of bytes. */
export function base32Decode(s: string): Uint8Array | undefined {
  // 2, 4, 5 or 7 trailing characters encode 1–4 bytes; 1, 3 or 6 encode none
  const rem = s.length % 8
  if (rem === 1 || rem === 3 || rem === 6) return undefined
  const out = new Uint8Array(Math.floor((s.length * 5) / 8))
  let acc = 0
  let bits = 0
  let o = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    const v = c < 128 ? VALUE[c]! : -1
    if (v < 0) return undefined
    acc = ((acc << 5) | v) & 0xffff
    bits += 5
    if (bits >= 8) {
      bits -= 8
      out[o++] = (acc >> bits) & 0xff
    }
  }
  return out
}
