/** `ethp2p keygen`: a new node key (hex, as geth's nodekey file); prints the public key. */
import { writeFileSync } from 'node:fs'
import { backend, randomPrivateKey } from '../crypto/backend.js'
import { hex } from '../crypto/bytes.js'

/** `ethp2p keygen`: a new node key, written to `out` (never over an existing file) or printed. */
export function keygen(opts: { out?: string }): void {
  const key = randomPrivateKey()
  if (opts.out) {
    // never overwrite an existing identity: 'wx' fails if the file exists
    writeFileSync(opts.out, hex(key), { flag: 'wx', mode: 0o600 })
  } else {
    console.error(`private key: ${hex(key)}`)
  }
  console.log(hex(backend.publicKey(key)))
}
