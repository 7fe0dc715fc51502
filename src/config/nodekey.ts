/**
 * The node key file (geth's format: 64 hex characters, optional surrounding whitespace). A key is
 * created once, written exclusively with mode 0600, and never rewritten: the node's identity must
 * survive restarts and crashes.
 */
import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs'
import { hex } from '../crypto/bytes.js'
import { privateKeyValid, randomPrivateKey } from '../crypto/backend.js'

export class NodeKeyError extends Error {
  override readonly name = 'NodeKeyError'
}

/** Parse a hex private key; throws NodeKeyError on anything but a valid secp256k1 scalar. */
export function parseNodeKey(text: string, where = 'node key'): Uint8Array {
  const s = text.trim().replace(/^0x/, '')
  if (!/^[0-9a-fA-F]{64}$/.test(s)) throw new NodeKeyError(`${where}: want 64 hex characters`)
  const key = new Uint8Array(Buffer.from(s, 'hex'))
  if (!privateKeyValid(key)) throw new NodeKeyError(`${where}: not a valid secp256k1 private key`)
  return key
}

export function readNodeKey(file: string): Uint8Array {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new NodeKeyError(`cannot read ${file}: ${(err as Error).message}`)
  }
  return parseNodeKey(text, file)
}

/** Read `file`, or create it with a fresh key when it does not exist. */
export function loadOrCreateNodeKey(file: string): Uint8Array {
  let fd: number
  try {
    fd = openSync(file, 'wx', 0o600)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readNodeKey(file)
    throw new NodeKeyError(`cannot create ${file}: ${(err as Error).message}`)
  }
  const key = randomPrivateKey()
  try {
    writeSync(fd, hex(key))
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  return key
}
