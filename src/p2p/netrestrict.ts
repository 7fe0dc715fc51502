/**
 * `--netrestrict`: an allow-list of CIDR networks (geth's netutil.Netlist). The server consults it for
 * every inbound connection and every dial, so `contains` does no allocation beyond parsing the address
 * and compares IPv4 as one 32-bit integer. A v4-mapped IPv6 address (`::ffff:10.1.2.3`) is the IPv4
 * address it carries, on both sides: in the list and in the address looked up.
 */
import { ipFromBytes, parseIP } from '../util/netutil.js'

/** A `--netrestrict` list entry that is not a CIDR network. */
export class NetRestrictError extends Error {
  override readonly name = 'NetRestrictError'
  constructor(
    /** the offending list entry */
    readonly entry: string,
    reason: string,
  ) {
    super(`invalid netrestrict entry ${JSON.stringify(entry.length > 100 ? entry.slice(0, 100) + '…' : entry)}: ${reason}`)
  }
}

interface V6Net {
  /** the network address, already masked */
  net: Uint8Array
  bits: number
}

function isV4Mapped(a: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (a[i] !== 0) return false
  return a[10] === 0xff && a[11] === 0xff
}

function v4Mask(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0
}

function v4Of(a: Uint8Array): number {
  return ((a[12]! << 24) | (a[13]! << 16) | (a[14]! << 8) | a[15]!) >>> 0
}

function v6Match(a: Uint8Array, n: V6Net): boolean {
  const whole = n.bits >> 3
  for (let i = 0; i < whole; i++) if (a[i] !== n.net[i]) return false
  const rest = n.bits & 7
  if (rest === 0) return true
  const mask = (0xff << (8 - rest)) & 0xff
  return (a[whole]! & mask) === n.net[whole]
}

/**
 * A set of IP networks (geth's netutil.Netlist): with one set, only addresses inside may connect or be
 * dialled.
 */
export class NetRestrict {
  /** IPv4 networks as [masked network, mask] pairs */
  private readonly v4: [number, number][] = []
  private readonly v6: V6Net[] = []
  /** the networks in canonical text form, as parsed */
  readonly entries: readonly string[]

  private constructor(cidrs: string[]) {
    const texts: string[] = []
    for (const cidr of cidrs) texts.push(this.add(cidr))
    this.entries = texts
  }

  /**
   * Parse a comma-separated CIDR list; whitespace around entries and empty entries are ignored (geth
   * strips all whitespace too). Host bits after the prefix are allowed and masked off, as Go's
   * ParseCIDR does. Throws NetRestrictError naming the first bad entry.
   */
  static parse(list: string): NetRestrict {
    return new NetRestrict(
      list
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    )
  }

  /** whether the list has no networks (then it allows nothing) */
  get empty(): boolean {
    return this.v4.length === 0 && this.v6.length === 0
  }

  private add(cidr: string): string {
    const slash = cidr.indexOf('/')
    if (slash < 0) throw new NetRestrictError(cidr, 'missing /prefix length')
    const ipText = cidr.slice(0, slash)
    const bitsText = cidr.slice(slash + 1)
    // a zone index names an interface, which a network address cannot have
    const addr = ipText.includes('%') ? null : parseIP(ipText)
    if (!addr) throw new NetRestrictError(cidr, `${JSON.stringify(ipText)} is not an IP address`)
    if (!/^\d{1,3}$/.test(bitsText)) throw new NetRestrictError(cidr, `prefix length ${JSON.stringify(bitsText)} is not a number`)
    let bits = Number(bitsText)
    const writtenV4 = !ipText.includes(':')
    const max = writtenV4 ? 32 : 128
    if (bits > max) throw new NetRestrictError(cidr, `prefix length ${bits} exceeds ${max}`)
    if (!writtenV4 && isV4Mapped(addr) && bits >= 96) bits -= 96 // ::ffff:a.b.c.d/120 is a.b.c.d/24
    else if (!writtenV4) {
      const net = new Uint8Array(16)
      for (let i = 0; i < 16; i++) {
        const keep = Math.max(0, Math.min(8, bits - i * 8))
        net[i] = addr[i]! & ((0xff << (8 - keep)) & 0xff)
      }
      this.v6.push({ net, bits })
      return `${ipFromBytes(net)}/${bits}`
    }
    const mask = v4Mask(bits)
    const net = (v4Of(addr) & mask) >>> 0
    this.v4.push([net, mask])
    return `${net >>> 24}.${(net >>> 16) & 0xff}.${(net >>> 8) & 0xff}.${net & 0xff}/${bits}`
  }

  /** whether `ip` lies in one of the networks; an unparseable address is in none */
  contains(ip: string): boolean {
    const a = parseIP(ip)
    return a !== null && this.containsBytes(a)
  }

  /** as `contains`, for a 4-byte or 16-byte address */
  containsBytes(a: Uint8Array): boolean {
    if (a.length === 4) {
      const n = ((a[0]! << 24) | (a[1]! << 16) | (a[2]! << 8) | a[3]!) >>> 0
      return this.v4.some(([net, mask]) => ((n & mask) >>> 0) === net)
    }
    if (a.length !== 16) return false
    if (isV4Mapped(a)) {
      const n = v4Of(a)
      return this.v4.some(([net, mask]) => ((n & mask) >>> 0) === net)
    }
    return this.v6.some((n) => v6Match(a, n))
  }

  /** the networks, comma-separated, in canonical form */
  toString(): string {
    return this.entries.join(',')
  }
}
