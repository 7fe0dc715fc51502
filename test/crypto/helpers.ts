/** Test helper: every crypto test runs against each backend that this machine can load. */
import { createRequire } from 'node:module'
import { ALL_BACKENDS, loadBackend } from '../../src/crypto/backend.js'
import { nativeAddonOrigin } from '../../src/crypto/native.js'
import type { CryptoBackend } from '../../src/crypto/types.js'

export const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex')
export const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/^0x/, ''), 'hex'))

/**
 * All three backends. The native addon is required unless ETHP2P_NO_NATIVE=1 says this machine
 * has no compiler (then its absence is reported by the `native addon loads` test instead of hidden).
 */
export function backends(): CryptoBackend[] {
  const out: CryptoBackend[] = []
  for (const name of ALL_BACKENDS) {
    if (name === 'native' && process.env.ETHP2P_NO_NATIVE === '1') continue
    out.push(loadBackend(name))
  }
  return out
}

/**
 * The addon module itself, below the backend's checks: the very file the native backend loaded
 * (prebuild, local build or ETHP2P_ADDON's sanitizer build), so raw-call tests exercise what runs.
 */
export function rawAddon<T>(): T {
  loadBackend('native')
  const origin = nativeAddonOrigin()
  if (!origin) throw new Error('native addon loaded but its origin is unknown')
  return createRequire(import.meta.url)(origin.path) as T
}
