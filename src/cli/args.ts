/** Argument parsers for commander: each throws InvalidArgumentError, which the CLI maps to exit 2. */
import { InvalidArgumentError } from 'commander'
import { isIP } from 'node:net'
import type { Node } from '../enode/node.js'
import { ENR } from '../enode/enr.js'
import { EnodeURLError, parseEnode } from '../enode/url.js'
import { NetRestrict, NetRestrictError } from '../p2p/netrestrict.js'
import { NATError, parseNAT } from '../p2p/nat.js'
import { parseListenAddr } from '../metrics/serve.js'
import { parseDuration, UNITS } from '../util/duration.js'

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

/** true or false, as --flag=false spells it */
export function boolArg(v: string): boolean {
  if (v === 'true') return true
  if (v === 'false') return false
  throw new InvalidArgumentError('must be true or false')
}

/** a share: 0 ≤ f < 1 */
export function fractionArg(v: string): number {
  const n = Number(v)
  if (!/^(0(\.\d+)?|\.\d+)$/.test(v) || !(n >= 0 && n < 1)) throw new InvalidArgumentError('must be a fraction in [0, 1)')
  return n
}

/** milliseconds, 0–10000 */
export function millisArg(v: string): number {
  const n = Number(v)
  if (!/^\d+(\.\d+)?$/.test(v) || n > 10_000) throw new InvalidArgumentError('must be a number of milliseconds (0-10000)')
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

/** crawl seeds: enode:// URLs and enr: records, comma-separated */
export function seedsArg(v: string): (Node | ENR)[] {
  const out: (Node | ENR)[] = []
  for (const s of v.split(',').map((x) => x.trim()).filter(Boolean)) {
    try {
      out.push(s.startsWith('enr:') ? ENR.parseText(s) : parseEnode(s))
    } catch (err) {
      throw new InvalidArgumentError(`${s.slice(0, 20)}…: ${(err as Error).message}`)
    }
  }
  return out
}

/** the discovery protocols a crawl walks: v4, v5 or both */
export function protocolsArg(v: string): ('v4' | 'v5')[] {
  const ps = [...new Set(v.split(',').map((x) => x.trim()))]
  if (ps.length === 0 || ps.some((p) => p !== 'v4' && p !== 'v5')) throw new InvalidArgumentError('must be v4, v5 or v4,v5')
  return ps as ('v4' | 'v5')[]
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

/** `30m`, `5s`, `1h30m`, `2d`, `1500ms`; a bare number is seconds. Returns milliseconds. */
export function durationArg(v: string): number {
  try {
    return parseDuration(v)
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message)
  }
}

/** `history prune --before DATE`: an ISO date or date-time (UTC unless zoned) or a duration ago; not in the future. */
export function beforeArg(v: string, now = Date.now()): number {
  let t: number
  const parts = [...v.matchAll(/(\d+)(s|m|h|d|w)/g)]
  if (parts.length > 0 && parts.map((p) => p[0]).join('') === v) t = now - parts.reduce((sum, p) => sum + Number(p[1]) * (p[2] === 'w' ? 7 * UNITS['d']! : UNITS[p[2]!]!), 0)
  else if (/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?)?$/.test(v)) t = Date.parse(/T.*(Z|[+-]\d{2}:\d{2})$/.test(v) || !v.includes('T') ? v : `${v}Z`)
  else throw new InvalidArgumentError('a date (2025-01-31, 2025-01-31T12:00Z) or a duration ago (30d, 12h, 2w)')
  if (!Number.isFinite(t)) throw new InvalidArgumentError(`${v}: not a valid date`)
  if (t > now) throw new InvalidArgumentError(`${v}: in the future (prune would delete every visit)`)
  return t
}

/** a vantage point's name: 1–64 printable characters */
export function vantageArg(v: string): string {
  if (!/^[\x21-\x7e]{1,64}$/.test(v)) throw new InvalidArgumentError('1 to 64 printable characters without spaces')
  return v
}

/** host:port to listen on (checked here, bound by the command) */
export function listenArg(v: string): string {
  try {
    parseListenAddr(v)
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message.replace(/^invalid metrics address /, '').replace(/^"[^"]*": /, ''))
  }
  return v
}

/**
 * DNS servers to ask, comma-separated: IP, IP:PORT or [IPv6]:PORT (what node:dns setServers takes;
 * a host name would need a DNS server to find it).
 */
export function dnsServerArg(v: string, prev: string[] = []): string[] {
  const out: string[] = []
  for (const s of v.split(',').map((x) => x.trim()).filter(Boolean)) {
    const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(s) ?? /^([^:]+):(\d{1,5})$/.exec(s)
    const ip = m ? m[1]! : s
    if (isIP(ip) === 0 || (m && (Number(m[2]) === 0 || Number(m[2]) > 65535))) {
      throw new InvalidArgumentError(`${s.slice(0, 60)}: want IP, IP:PORT or [IPv6]:PORT`)
    }
    out.push(s)
  }
  if (out.length === 0) throw new InvalidArgumentError('want IP, IP:PORT or [IPv6]:PORT')
  return [...prev, ...out]
}
