/**
 * native/modinv.c on its own, compiled both ways (the addon and the wasm module), against BigInt.
 * Recovery checks its inverses and falls back to the library's, so a wrong modinv.c would only be
 * slow there, never wrong: these tests are what shows the fast path is right.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { WASM_PATH } from '../../src/crypto/wasm.js'
import { rawAddon } from './helpers.js'

const P = 2n ** 256n - 2n ** 32n - 977n
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n

const toBytes = (x: bigint): Uint8Array => new Uint8Array(Buffer.from(x.toString(16).padStart(64, '0'), 'hex'))
const toBig = (b: Uint8Array): bigint => BigInt(`0x${Buffer.from(b).toString('hex')}`)

function modPow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n
  for (b %= m; e > 0n; e >>= 1n, b = (b * b) % m) if (e & 1n) r = (r * b) % m
  return r
}

type Inverse = (modulus: 0 | 1, x: Uint8Array) => Uint8Array | null

function nativeInverse(): Inverse | undefined {
  if (process.env.ETHP2P_NO_NATIVE === '1') return undefined
  const addon = rawAddon<{ modInverse(m: number, x: Uint8Array, out: Uint8Array): boolean }>()
  return (m, x) => {
    const out = new Uint8Array(new ArrayBuffer(32))
    return addon.modInverse(m, x, out) ? out : null
  }
}

function wasmInverse(): Inverse {
  const e = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(WASM_PATH)), {}).exports as unknown as {
    memory: WebAssembly.Memory
    _initialize(): void
    ep_init(): number
    malloc(n: number): number
    ep_modinv(m: number, x: number, out: number): number
  }
  e._initialize()
  assert.equal(e.ep_init(), 1)
  const buf = e.malloc(64)
  return (m, x) => {
    new Uint8Array(e.memory.buffer).set(x, buf)
    return e.ep_modinv(m, buf, buf + 32) ? new Uint8Array(e.memory.buffer).slice(buf + 32, buf + 64) : null
  }
}

const builds: [string, Inverse | undefined][] = [
  ['native', nativeInverse()],
  ['wasm', wasmInverse()],
]

for (const [name, inverse] of builds) {
  if (!inverse) continue
  describe(`modinv.c [${name}]`, () => {
    for (const [label, modulus, M] of [['p', 0, P], ['n', 1, N]] as const) {
      it(`inverts mod ${label}: edge values and 3000 random ones agree with BigInt`, () => {
        const edges = [1n, 2n, 3n, M - 1n, M - 2n, M / 2n, (M + 1n) / 2n, 2n ** 62n, 2n ** 62n - 1n, 2n ** 64n + 1n, 2n ** 128n, 2n ** 255n, 2n ** 248n - 1n]
        // random values of every size: small ones take other divstep paths than full-width ones
        const random = Array.from({ length: 3000 }, (_, i) => {
          const x = toBig(randomBytes(32)) >> BigInt(i % 256)
          return x % M || 1n
        })
        for (const x of [...edges, ...random]) {
          const got = inverse(modulus, toBytes(x))
          assert.ok(got, `no inverse of ${x.toString(16)} mod ${label}`)
          assert.equal(toBig(got), modPow(x, M - 2n, M), `inverse of ${x.toString(16)} mod ${label}`)
        }
      })
      it(`refuses 0 and values ≥ the modulus (mod ${label})`, () => {
        for (const x of [0n, M, M + 1n, 2n ** 256n - 1n]) assert.equal(inverse(modulus, toBytes(x)), null, x.toString(16))
      })
    }
  })
}
