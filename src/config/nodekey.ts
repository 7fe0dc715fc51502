/**
 * The node key file (geth's format: 64 hex characters, optional surrounding whitespace). A key is
 * created once, written exclusively with mode 0600, and never rewritten: the node's identity must
 * survive restarts and crashes.
 */
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs'
import { hex } from '../crypto/bytes.js'
import { privateKeyValid, randomPrivateKey } from '../crypto/backend.js'

/** A node key file that cannot be read or holds no valid private key. */
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

/** Read a hex node key file (geth's format); throws NodeKeyError. */
export function readNodeKey(file: string): Uint8Array {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new NodeKeyError(`cannot read ${file}: ${(err as Error).message}`)
  }
  return parseNodeKey(text, file)
}

/**
 * Read `file`, or create it with a fresh key when it does not exist. The key is written and synced
 * under a temporary name and then hard-linked into place: creating `file` itself and writing into it
 * afterwards left an empty key file, which no later start could read, when the process was killed
 * between the two steps. link() never replaces an existing file, so a key once in place stays.
 */
export function loadOrCreateNodeKey(file: string): Uint8Array {
  try {
    return parseNodeKey(readFileSync(file, 'utf8'), file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err instanceof NodeKeyError ? err : new NodeKeyError(`cannot read ${file}: ${(err as Error).message}`)
  }
  const tmp = `${file}.${process.pid}.tmp`
  const key = randomPrivateKey()
  try {
    const fd = openSync(tmp, 'w', 0o600)
    try {
      writeSync(fd, hex(key))
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    linkSync(tmp, file)
  } catch (err) {
    // another start created it first: that key is the node's
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readNodeKey(file)
    throw new NodeKeyError(`cannot create ${file}: ${(err as Error).message}`)
  } finally {
    try {
      unlinkSync(tmp)
    } catch {
      // not created, or already gone
    }
  }
  return key
}
