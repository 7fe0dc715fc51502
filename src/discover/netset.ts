/**
 * IP classification and per-subnet counting for the table's IP limits (geth's netutil.DistinctNetSet
 * and AddrIsLAN). Addresses are handled as 16-byte arrays; IPv4 is v4-mapped so both families share one
 * code path, and a v4-mapped IPv6 text form counts as the IPv4 address it carries.
 */
import { isIPv4, isIPv6 } from 'node:net'

export class InvalidIPError extends Error {
  override readonly name = 'InvalidIPError'
  constructor(readonly ip: string) {
    super(`invalid IP address ${JSON.stringify(ip)}`)
  }
}

/** Parse a textual IPv4/IPv6 address into 16 bytes (IPv4 as ::ffff:a.b.c.d); null if not an address. */
export function parseIP(ip: string): Uint8Array | null {
  const out = new Uint8Array(16)
  if (isIPv4(ip)) {
    out[10] = 0xff
    out[11] = 0xff
    ip.split('.').forEach((p, i) => (out[12 + i] = Number(p)))
    return out
  }
  if (!isIPv6(ip)) return null
  let text = ip.split('%')[0]! // drop a zone index
  // an embedded dotted quad becomes two hex groups
  const dot = text.lastIndexOf(':')
  const tail = text.slice(dot + 1)
  if (isIPv4(tail)) {
    const q = tail.split('.').map(Number)
    text = `${text.slice(0, dot + 1)}${((q[0]! << 8) | q[1]!).toString(16)}:${((q[2]! << 8) | q[3]!).toString(16)}`
  }
  const [head = '', rest] = text.split('::')
  const hs = head === '' ? [] : head.split(':')
  const ts = rest === undefined || rest === '' ? [] : rest.split(':')
  const groups = rest === undefined ? hs : [...hs, ...Array<string>(8 - hs.length - ts.length).fill('0'), ...ts]
  groups.forEach((g, i) => {
    const v = parseInt(g, 16)
    out[2 * i] = v >> 8
    out[2 * i + 1] = v & 0xff
  })
  return out
}

function isV4Mapped(a: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (a[i] !== 0) return false
  return a[10] === 0xff && a[11] === 0xff
}

/** loopback, RFC 1918 / RFC 4193 private, or link-local: the ranges geth exempts from IP limits */
export function isLAN(ip: string): boolean {
  const a = parseIP(ip)
  if (!a) return false
  if (isV4Mapped(a)) {
    const [b0 = 0, b1 = 0] = a.subarray(12)
    return b0 === 127 || b0 === 10 || (b0 === 172 && (b1 & 0xf0) === 16) || (b0 === 192 && b1 === 168) || (b0 === 169 && b1 === 254)
  }
  const loopback = a.subarray(0, 15).every((b) => b === 0) && a[15] === 1
  return loopback || (a[0]! & 0xfe) === 0xfc || (a[0] === 0xfe && (a[1]! & 0xc0) === 0x80)
}

/** whether the address is the unspecified one (0.0.0.0 or ::), which no table entry may carry */
export function isUnspecified(a: Uint8Array): boolean {
  const from = isV4Mapped(a) ? 12 : 0
  for (let i = from; i < 16; i++) if (a[i] !== 0) return false
  return true
}

/**
 * Counts addresses per subnet prefix and refuses more than `limit` in one prefix. The prefix length is
 * in bits of the address family (24 means /24 for IPv4 and /24 for IPv6, as geth does).
 */
export class DistinctNetSet {
  private readonly members = new Map<string, number>()

  constructor(
    readonly subnet: number,
    readonly limit: number,
  ) {}

  private key(ip: string): string {
    const a = parseIP(ip)
    if (!a) throw new InvalidIPError(ip)
    const v4 = isV4Mapped(a)
    const bytes = v4 ? a.subarray(12) : a
    const bits = Math.min(this.subnet, bytes.length * 8)
    let k = v4 ? '4:' : '6:'
    for (let i = 0; i * 8 < bits; i++) {
      const keep = Math.min(8, bits - i * 8)
      k += (bytes[i]! & ((0xff << (8 - keep)) & 0xff)).toString(16).padStart(2, '0')
    }
    return k
  }

  /** count `ip` unless its subnet is full; reports whether it was counted */
  add(ip: string): boolean {
    const k = this.key(ip)
    const n = this.members.get(k) ?? 0
    if (n >= this.limit) return false
    this.members.set(k, n + 1)
    return true
  }

  remove(ip: string): void {
    const k = this.key(ip)
    const n = this.members.get(k)
    if (n === undefined) return
    if (n <= 1) this.members.delete(k)
    else this.members.set(k, n - 1)
  }

  /** how many counted addresses share `ip`'s subnet */
  count(ip: string): number {
    return this.members.get(this.key(ip)) ?? 0
  }
}
