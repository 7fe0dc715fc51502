/**
 * IP ranges → autonomous system, read from the `@ip-location-db/asn` package's CSV files
 * (`asn-ipv4-num.csv`: `start,end,asn,organisation` with the addresses as integers, sorted, ranges
 * disjoint). IPv4 is held in typed arrays (about 412,000 ranges, 5 MB) and searched by bisection; the
 * IPv6 file is read the first time an IPv6 address is looked up.
 *
 * The parser reads bytes, not strings: only an organisation's name is decoded, once per AS number,
 * so the whole IPv4 file (21 MB) loads in a few hundred milliseconds.
 */

/** An autonomous system: its number and the organisation that holds it. */
export interface AsnEntry {
  asn: number
  asOrg?: string
}

const COMMA = 0x2c
const QUOTE = 0x22
const NL = 0x0a
const CR = 0x0d

/** the organisation names by AS number, decoded once each */
type OrgNames = Map<number, string>

/** parse `org` (plain, or quoted with "" for a quote) in buf[from, to) */
function orgAt(buf: Buffer, from: number, to: number): string {
  if (buf[from] !== QUOTE) return buf.toString('utf8', from, to)
  const inner = buf.toString('utf8', from + 1, to - 1)
  return inner.includes('""') ? inner.replaceAll('""', '"') : inner
}

/** end of the line starting at `i`, honouring quotes */
function lineEnd(buf: Buffer, i: number): number {
  let quoted = false
  for (; i < buf.length; i++) {
    const c = buf[i]
    if (c === QUOTE) quoted = !quoted
    else if (c === NL && !quoted) return i
  }
  return i
}

/** IPv4 ranges, sorted by start. */
export class AsnTableV4 {
  private constructor(
    private readonly starts: Uint32Array,
    private readonly ends: Uint32Array,
    private readonly asns: Uint32Array,
    private readonly orgs: OrgNames,
  ) {}

  /** number of ranges */
  get size(): number {
    return this.starts.length
  }

  /** Parse `asn-ipv4-num.csv`'s bytes; lines that do not parse are skipped. */
  static parse(buf: Buffer): AsnTableV4 {
    // an upper bound on the number of lines sizes the arrays once
    let lines = 1
    for (let i = buf.indexOf(NL); i !== -1; i = buf.indexOf(NL, i + 1)) lines++
    const starts = new Uint32Array(lines)
    const ends = new Uint32Array(lines)
    const asns = new Uint32Array(lines)
    const orgs: OrgNames = new Map()
    let n = 0
    let i = 0
    while (i < buf.length) {
      const end = lineEnd(buf, i)
      let j = i
      let a = 0
      let b = 0
      let asn = 0
      let ok = true
      for (; j < end && buf[j] !== COMMA; j++) a = a * 10 + (buf[j]! - 48)
      ok &&= buf[j] === COMMA && j > i
      const bFrom = ++j
      for (; j < end && buf[j] !== COMMA; j++) b = b * 10 + (buf[j]! - 48)
      ok &&= buf[j] === COMMA && j > bFrom
      const asnFrom = ++j
      for (; j < end && buf[j] !== COMMA; j++) asn = asn * 10 + (buf[j]! - 48)
      ok &&= buf[j] === COMMA && j > asnFrom && Number.isSafeInteger(asn) && a <= b && b <= 0xffffffff
      if (ok && (n === 0 || a > ends[n - 1]!)) {
        starts[n] = a
        ends[n] = b
        asns[n] = asn
        if (!orgs.has(asn)) {
          const to = end > 0 && buf[end - 1] === CR ? end - 1 : end
          if (j + 1 < to) orgs.set(asn, orgAt(buf, j + 1, to))
        }
        n++
      }
      i = end + 1
    }
    return new AsnTableV4(starts.slice(0, n), ends.slice(0, n), asns.slice(0, n), orgs)
  }

  /** the AS announcing the IPv4 address `ip` (as a 32-bit number), or undefined */
  lookup(ip: number): AsnEntry | undefined {
    const { starts } = this
    let lo = 0
    let hi = starts.length - 1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if (starts[mid]! <= ip) lo = mid + 1
      else hi = mid - 1
    }
    if (hi < 0 || this.ends[hi]! < ip) return undefined
    const asn = this.asns[hi]!
    const asOrg = this.orgs.get(asn)
    return asOrg !== undefined ? { asn, asOrg } : { asn }
  }
}

/** IPv6 ranges, sorted by start, as 128-bit BigInts. */
export class AsnTableV6 {
  private constructor(
    private readonly starts: bigint[],
    private readonly ends: bigint[],
    private readonly asns: Uint32Array,
    private readonly orgs: OrgNames,
  ) {}

  /** Parse `asn-ipv6-num.csv`'s text; lines that do not parse are skipped. */
  static parse(buf: Buffer): AsnTableV6 {
    const starts: bigint[] = []
    const ends: bigint[] = []
    const asnList: number[] = []
    const orgs: OrgNames = new Map()
    let i = 0
    while (i < buf.length) {
      const end = lineEnd(buf, i)
      const c1 = buf.indexOf(COMMA, i)
      const c2 = c1 === -1 ? -1 : buf.indexOf(COMMA, c1 + 1)
      const c3 = c2 === -1 ? -1 : buf.indexOf(COMMA, c2 + 1)
      if (c3 !== -1 && c3 < end) {
        try {
          const a = BigInt(buf.toString('latin1', i, c1))
          const b = BigInt(buf.toString('latin1', c1 + 1, c2))
          const asn = Number(buf.toString('latin1', c2 + 1, c3))
          if (a <= b && Number.isSafeInteger(asn) && (starts.length === 0 || a > ends[ends.length - 1]!)) {
            starts.push(a)
            ends.push(b)
            asnList.push(asn)
            const to = buf[end - 1] === CR ? end - 1 : end
            if (!orgs.has(asn) && c3 + 1 < to) orgs.set(asn, orgAt(buf, c3 + 1, to))
          }
        } catch {
          // not a number: skipped
        }
      }
      i = end + 1
    }
    return new AsnTableV6(starts, ends, Uint32Array.from(asnList), orgs)
  }

  /** the AS announcing the IPv6 address `ip` (16 bytes), or undefined */
  lookup(ip: Uint8Array): AsnEntry | undefined {
    let x = 0n
    for (let i = 0; i < 16; i++) x = (x << 8n) | BigInt(ip[i]!)
    const { starts } = this
    let lo = 0
    let hi = starts.length - 1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if (starts[mid]! <= x) lo = mid + 1
      else hi = mid - 1
    }
    if (hi < 0 || this.ends[hi]! < x) return undefined
    const asn = this.asns[hi]!
    const asOrg = this.orgs.get(asn)
    return asOrg !== undefined ? { asn, asOrg } : { asn }
  }
}
