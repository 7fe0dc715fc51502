/** Argument parsers for commander: each throws InvalidArgumentError, which the CLI maps to exit 2. */
import { InvalidArgumentError } from 'commander'
import { isIP } from 'node:net'
import type { Node } from '../enode/node.js'
import { EnodeURLError, parseEnode } from '../enode/url.js'
import { NetRestrict, NetRestrictError } from '../p2p/netrestrict.js'
import { NATError, parseNAT } from '../p2p/nat.js'

/** commander parser: a port number 0–65535 */
export function portArg(v: string): number {
  if (!/^\d{1,5}$/.test(v) || Number(v) > 65535) throw new InvalidArgumentError('must be a port number (0-65535)')
  return Number(v)
}

/** commander parser: an integer ≥ 1 */
export function positiveIntArg(v: string): number {
  if (!/^\d{1,9}$/.test(v) || Number(v) === 0) throw new InvalidArgumentError('must be a positive integer')
  return Number(v)
}

/** commander parser: a positive number of seconds (fractions allowed) */
export function secondsArg(v: string): number {
  const n = Number(v)
  if (!/^\d+(\.\d+)?$/.test(v) || !(n > 0)) throw new InvalidArgumentError('must be a positive number of seconds')
  return n
}

/** commander parser: an IPv4 or IPv6 address */
export function ipArg(v: string): string {
  if (isIP(v) === 0) throw new InvalidArgumentError('must be an IP address')
  return v
}

/** comma-separated enode URLs */
export function enodesArg(v: string): Node[] {
  const out: Node[] = []
  for (const url of v.split(',').map((s) => s.trim()).filter(Boolean)) {
    try {
      out.push(parseEnode(url))
    } catch (err) {
      throw new InvalidArgumentError(err instanceof EnodeURLError ? err.message : String(err))
    }
  }
  return out
}

/** commander parser: a comma-separated CIDR list */
export function netrestrictArg(v: string): NetRestrict {
  try {
    return NetRestrict.parse(v)
  } catch (err) {
    throw new InvalidArgumentError(err instanceof NetRestrictError ? err.message : String(err))
  }
}

/** validated here, built by the command (parsing does no I/O) */
export function natArg(v: string): string {
  try {
    parseNAT(v)
  } catch (err) {
    throw new InvalidArgumentError(err instanceof NATError ? err.message : String(err))
  }
  return v
}
