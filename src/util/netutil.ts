/**
 * IP classification and per-subnet counting for the table's IP limits (geth's netutil.DistinctNetSet
 * and AddrIsLAN). Addresses are handled as 16-byte arrays; IPv4 is v4-mapped so both families share one
 * code path, and a v4-mapped IPv6 text form counts as the IPv4 address it carries.
 */
import { randomBytes } from 'node:crypto'
import { isIPv4, isIPv6 } from 'node:net'

/** A string that is not an IPv4 or IPv6 address. */
export class InvalidIPError extends Error {
  override readonly name = 'InvalidIPError'
  constructor(readonly ip: string) {
    super(`invalid IP address ${JSON.stringify(ip)}`)
  }
}

/** scratch for dotted quads read as numbers: [0] the address, [1] a sender */
const V4 = new Int32Array(2)

/**
 * A strict dotted quad (no leading zeros, each part ≤ 255) into out[k] as a signed 32-bit number;
 * false when `ip` is none. Hand-rolled: every datagram and every NEIGHBORS entry is classified, and
 * this is the common case; the hot checks below read IPv4 addresses this way, as plain numbers.
 */
function v4Into(ip: string, out: Int32Array, k: number): boolean {
  let part = 0
  let digits = 0
  let value = 0
  let acc = 0
  for (let i = 0; i <= ip.length; i++) {
    const c = i < ip.length ? ip.charCodeAt(i) : 46 /* '.' ends the last part */
    if (c === 46) {
      if (digits === 0 || part > 3) return false
      acc = (acc << 8) | value
      part++
      digits = 0
      value = 0
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && value === 0) return false // leading zero
      value = value * 10 + (c - 48)
      if (++digits > 3 || value > 255) return false
    } else return false
  }
  if (part !== 4) return false
  out[k] = acc
  return true
}

/** a strict dotted quad into `out[12..16]` (the v4-mapped form's last four bytes); false otherwise */
function parseV4Into(ip: string, out: Uint8Array): boolean {
  if (!v4Into(ip, V4, 0)) return false
  const v = V4[0]!
  out[12] = v >>> 24
  out[13] = (v >>> 16) & 255
  out[14] = (v >>> 8) & 255
  out[15] = v & 255
  return true
}

/** Parse a textual IPv4/IPv6 address into 16 bytes (IPv4 as ::ffff:a.b.c.d); null if not an address. */
export function parseIP(ip: string): Uint8Array | null {
  const out = new Uint8Array(16)
  return parseIPInto(ip, out) ? out : null
}

/**
 * {@link parseIP} into `out` (16 bytes, overwritten); false if `ip` is not an address. The classifiers
 * below parse into module scratch arrays with it: they run for every datagram and every relayed node,
 * and a fresh array each time was the largest allocation of a crawl.
 */
export function parseIPInto(ip: string, out: Uint8Array): boolean {
  out.fill(0)
  if (parseV4Into(ip, out)) {
    out[10] = 0xff
    out[11] = 0xff
    return true
  }
  out.fill(0)
  if (!isIPv6(ip)) return false
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
  return true
}

/** scratch for the classifiers: never held past the call that fills it */
const SCRATCH = new Uint8Array(16)
const SCRATCH2 = new Uint8Array(16)

function isV4Mapped(a: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (a[i] !== 0) return false
  return a[10] === 0xff && a[11] === 0xff
}

/** loopback, RFC 1918 / RFC 4193 private, or link-local: the ranges geth exempts from IP limits */
export function isLAN(ip: string): boolean {
  return parseIPInto(ip, SCRATCH) && lanBytes(SCRATCH)
}

// lanBytes, loopbackBytes and specialBytes run for every datagram and every relayed node: no
// allocation in them (no subarray, destructuring or callbacks)
function lanBytes(a: Uint8Array): boolean {
  if (isV4Mapped(a)) return lanV4(a[12]!, a[13]!)
  return v6Loopback(a) || (a[0]! & 0xfe) === 0xfc || (a[0] === 0xfe && (a[1]! & 0xc0) === 0x80)
}

/** an IPv4 address with first octets b0, b1 is loopback, private or link-local */
function lanV4(b0: number, b1: number): boolean {
  return b0 === 127 || b0 === 10 || (b0 === 172 && (b1 & 0xf0) === 16) || (b0 === 192 && b1 === 168) || (b0 === 169 && b1 === 254)
}

function v6Loopback(a: Uint8Array): boolean {
  for (let i = 0; i < 15; i++) if (a[i] !== 0) return false
  return a[15] === 1
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
    const a = SCRATCH
    if (!parseIPInto(ip, a)) throw new InvalidIPError(ip)
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

/** The wire form of an address: 4 bytes for IPv4 (also when written v4-mapped), else 16. */
export function ipToBytes(ip: string): Uint8Array {
  const a = parseIP(ip)
  if (!a) throw new InvalidIPError(ip)
  return isV4Mapped(a) ? a.slice(12) : a
}

/**
 * IPv4 texts made lately, by address: a crawl reads each node's address in every NEIGHBORS that lists
 * it (dozens of times), and building the text anew was a large share of decoding's allocations. An
 * open-addressed table of int32 keys, as a Map keyed by the address would box every key above 2^30
 * (most addresses) on each lookup; multiply-shift hashing. Cleared when half full, so it stays bounded (about 1 MB).
 */
const V4_SLOTS = 32_768
/** a random odd multiplier per process: the addresses are the peers' to choose, the probe chains are not */
const V4_MUL = randomBytes(4).readUInt32LE(0) | 1
const V4_KEYS = new Int32Array(V4_SLOTS)
const V4_TEXT: (string | undefined)[] = new Array<string | undefined>(V4_SLOTS).fill(undefined)
let v4Used = 0

function v4Text(b: Uint8Array, at: number): string {
  return v4TextOf((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!)
}

/** the dotted quad of `v`, the address as a signed 32-bit number */
function v4TextOf(v: number): string {
  const mask = V4_SLOTS - 1
  let s = Math.imul(v, V4_MUL) >>> 17
  for (;; s = (s + 1) & mask) {
    const t = V4_TEXT[s]
    if (t === undefined) break
    if (V4_KEYS[s] === v) return t
  }
  if (v4Used >= V4_SLOTS >> 1) {
    V4_TEXT.fill(undefined)
    v4Used = 0
    s = Math.imul(v, V4_MUL) >>> 17
  }
  const t = `${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`
  V4_KEYS[s] = v
  V4_TEXT[s] = t
  v4Used++
  return t
}

/** The dotted quad of an IPv4 address given as a 32-bit unsigned number (kept, see V4_SLOTS). */
export function ipv4Text(v: number): string {
  return v4TextOf(v | 0)
}

/** Text form of a 4- or 16-byte address (v4-mapped IPv6 becomes dotted IPv4); null for other lengths. */
export function ipFromBytes(b: Uint8Array): string | null {
  if (b.length === 4) return v4Text(b, 0)
  if (b.length !== 16) return null
  if (isV4Mapped(b)) return v4Text(b, 12)
  const groups: string[] = []
  for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16))
  // compress the longest run of zero groups, as RFC 5952 asks
  let best = -1
  let bestLen = 1
  for (let i = 0; i < 8; ) {
    let j = i
    while (j < 8 && groups[j] === '0') j++
    if (j - i > bestLen) [best, bestLen] = [i, j - i]
    i = j === i ? i + 1 : j
  }
  if (best < 0) return groups.join(':')
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`
}

/** whether `ip` is a loopback address (127.0.0.0/8, ::1, or IPv4-mapped loopback) */
export function isLoopback(ip: string): boolean {
  return parseIPInto(ip, SCRATCH) && loopbackBytes(SCRATCH)
}

function loopbackBytes(a: Uint8Array): boolean {
  if (isV4Mapped(a)) return a[12] === 127
  return v6Loopback(a)
}

/** IANA special-purpose and documentation ranges, multicast and broadcast: never a real peer. */
const SPECIAL_V4: [number, number][] = (
  [
    ['0.0.0.0', 8], ['192.0.0.0', 29], ['192.0.0.9', 32], ['192.0.0.170', 31], ['192.0.2.0', 24],
    ['192.31.196.0', 24], ['192.52.193.0', 24], ['192.88.99.0', 24], ['192.175.48.0', 24],
    ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
  ] as const
).map(([ip, bits]) => [v4Number(ip), bits])
/** the same as (network, mask) pairs for one AND and compare each */
const SPECIAL_V4_MASKS: Uint32Array = Uint32Array.from(SPECIAL_V4.flatMap(([net, bits]) => [(net & maskOf(bits)) >>> 0, maskOf(bits)]))
function maskOf(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0
}
const SPECIAL_V6: [Uint8Array, number][] = (
  [
    ['100::', 64], ['2001::', 32], ['2001:1::1', 128], ['2001:2::', 48], ['2001:3::', 32], ['2001:4:112::', 48],
    ['2001:5::', 32], ['2001:10::', 28], ['2001:20::', 28], ['2001:db8::', 32], ['2002::', 16], ['ff00::', 8],
  ] as const
).map(([ip, bits]) => [parseIP(ip)!, bits])

function v4Number(ip: string): number {
  return ip.split('.').reduce((acc, p) => acc * 256 + Number(p), 0)
}

function prefixMatch(a: Uint8Array, net: Uint8Array, bits: number): boolean {
  for (let i = 0; i * 8 < bits; i++) {
    const keep = Math.min(8, bits - i * 8)
    const mask = (0xff << (8 - keep)) & 0xff
    if ((a[i]! & mask) !== (net[i]! & mask)) return false
  }
  return true
}

/** whether `ip` lies in a special-purpose, documentation, multicast or broadcast range (never a real peer) */
export function isSpecialNetwork(ip: string): boolean {
  return parseIPInto(ip, SCRATCH) && specialBytes(SCRATCH)
}

function specialBytes(a: Uint8Array): boolean {
  if (isV4Mapped(a)) return specialV4((a[12]! << 24) | (a[13]! << 16) | (a[14]! << 8) | a[15]!)
  for (const [net, bits] of SPECIAL_V6) if (prefixMatch(a, net, bits)) return true
  return false
}

/** the IPv4 address `v` (a signed 32-bit number) lies in a special-purpose range */
function specialV4(v: number): boolean {
  const m = SPECIAL_V4_MASKS
  for (let i = 0; i < m.length; i += 2) if ((v & m[i + 1]!) >>> 0 === m[i]) return true
  return false
}

/** Why a relayed node address is implausible (see {@link checkRelayIP}). */
export type RelayError = 'unspecified' | 'special' | 'loopback' | 'lan'

/**
 * Whether a node address `addr` relayed to us by `sender` (in NEIGHBORS) is plausible: never
 * unspecified or special-purpose, and loopback / LAN addresses only from a sender in the same kind
 * of network. Returns the reason it is not, or null.
 */
export function checkRelayIP(sender: string, addr: string): RelayError | null {
  // a dotted quad (nearly every relayed address) is checked as a number
  if (v4Into(addr, V4, 0)) return relayV4(sender, V4[0]!)
  const a = SCRATCH
  if (!parseIPInto(addr, a) || isUnspecified(a)) return 'unspecified'
  if (specialBytes(a)) return 'special'
  const loopback = loopbackBytes(a)
  const lan = lanBytes(a)
  if (!loopback && !lan) return null
  const s = parseIPInto(sender, SCRATCH2) ? SCRATCH2 : null
  if (loopback && !(s && loopbackBytes(s))) return 'loopback'
  if (lan && !(s && lanBytes(s))) return 'lan'
  return null
}

function relayV4(sender: string, v: number): RelayError | null {
  if (v === 0) return 'unspecified'
  if (specialV4(v)) return 'special'
  const loopback = v >>> 24 === 127
  if (!loopback && !lanV4(v >>> 24, (v >>> 16) & 255)) return null
  let senderLoopback: boolean
  let senderLAN: boolean
  if (v4Into(sender, V4, 1)) {
    const s = V4[1]!
    senderLoopback = s >>> 24 === 127
    senderLAN = lanV4(s >>> 24, (s >>> 16) & 255)
  } else {
    const ok = parseIPInto(sender, SCRATCH2)
    senderLoopback = ok && loopbackBytes(SCRATCH2)
    senderLAN = ok && lanBytes(SCRATCH2)
  }
  if (loopback) return senderLoopback ? null : 'loopback'
  return senderLAN ? null : 'lan'
}
