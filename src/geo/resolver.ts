/**
 * Offline geography of an IP address: its country (ISO 3166 alpha-2) and the autonomous system that
 * announces it, from databases on disk — never a lookup over the network.
 *
 * By default both come from npm packages, optional peer dependencies of ethp2p loaded on first use:
 * `@ip-location-db/geo-whois-asn-country-mmdb` (country, an MMDB file, CC0) and `@ip-location-db/asn`
 * (AS number and organisation, CSV; RouteViews and DB-IP data, CC BY 4.0). A directory given as `dir`
 * (`--geoip-dir`) takes MaxMind-layout files instead: `*Country*.mmdb` (GeoLite2-Country, DB-IP
 * country lite, …) and `*ASN*.mmdb` (GeoLite2-ASN, DB-IP ASN lite); what it lacks still comes from the
 * packages. Private, loopback, link-local and special-purpose addresses resolve to nothing.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import type { Reader, Response } from 'maxmind'
import { isLAN, isSpecialNetwork, isUnspecified, parseIP } from '../util/netutil.js'
import { AsnTableV4, AsnTableV6, type AsnEntry } from './asn-table.js'

/** What the databases say of one public address; any field may be missing where they know nothing. */
export interface GeoInfo {
  /** ISO 3166-1 alpha-2 country code, e.g. `US` */
  country?: string
  /** the number of the autonomous system announcing the address */
  asn?: number
  /** the organisation holding that AS */
  asOrg?: string
}

/** Why the databases could not be opened: a bad `--geoip-dir`, or a file that is not a database. */
export type GeoErrorCode = 'BAD_DIR' | 'BAD_DATABASE'

/** Opening the geography databases failed; `code` says how. */
export class GeoError extends Error {
  override readonly name = 'GeoError'
  constructor(
    readonly code: GeoErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options)
  }
}

/** the npm package with the country MMDB */
export const COUNTRY_PACKAGE = '@ip-location-db/geo-whois-asn-country-mmdb'
/** the npm package with the AS number CSV files */
export const ASN_PACKAGE = '@ip-location-db/asn'

/** Options of {@link GeoResolver.open}. */
export interface GeoResolverOptions {
  /** a directory of MaxMind-layout MMDB files (`*Country*.mmdb`, `*ASN*.mmdb`) to use before the packages */
  dir?: string
}

/**
 * Whether `ip` is a public unicast address, the only kind the databases are asked about: not
 * loopback, private (RFC 1918, RFC 4193), link-local, unspecified or special-purpose.
 */
export function isPublicIP(ip: string): boolean {
  const a = parseIP(ip)
  return a !== null && !isUnspecified(a) && !isLAN(ip) && !isSpecialNetwork(ip)
}

/** MaxMind's country layout, DB-IP's, and ip-location-db's flat one */
interface CountryRecord {
  country?: { iso_code?: string }
  registered_country?: { iso_code?: string }
  country_code?: string
}
/** MaxMind's (and DB-IP's) ASN layout */
interface AsnRecord {
  autonomous_system_number?: number
  autonomous_system_organization?: string
}

type Lookup<T> = (ip: string, bytes: Uint8Array) => T | undefined

/** parsed AS tables by file: a process reads each once, however many resolvers it opens */
const V4_TABLES = new Map<string, AsnTableV4>()
const V6_TABLES = new Map<string, AsnTableV6>()

/** the most IPs remembered; past it the cache starts over (a monitor runs for months) */
const CACHE_MAX = 1 << 20

function packageFile(name: string, file: string): string | undefined {
  try {
    return createRequire(import.meta.url).resolve(`${name}/${file}`)
  } catch {
    return undefined
  }
}

async function mmdb<T extends Response>(file: string): Promise<Reader<T>> {
  const { Reader } = await import('maxmind')
  try {
    return new Reader<T>(await readFile(file))
  } catch (err) {
    throw new GeoError('BAD_DATABASE', `${file}: not a readable MMDB file (${(err as Error).message})`, { cause: err })
  }
}

function mmdbIn(dir: string, pattern: RegExp, unless?: RegExp): string | undefined {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.mmdb') && pattern.test(f) && !(unless?.test(f) ?? false))
    .sort()
    .map((f) => join(dir, f))[0]
}

/**
 * Country and AS of IP addresses, cached per address. `lookup` is synchronous; {@link GeoResolver.open}
 * reads the databases (about 0.3 s of CPU for the packaged ones; IPv6 AS ranges on first use).
 */
export class GeoResolver {
  private readonly cache = new Map<string, GeoInfo | null>()
  /** one object per distinct answer, shared by every address that gets it */
  private readonly interned = new Map<string, GeoInfo>()

  private constructor(
    private readonly country: Lookup<string> | undefined,
    private readonly asn: Lookup<AsnEntry> | undefined,
    /** where each part comes from, for logs */
    readonly sources: { country?: string; asn?: string },
    /** packages that would fill a missing part (`npm install …`) */
    readonly missing: string[],
  ) {}

  /**
   * Open the databases: `dir`'s files first, then the packages. Throws GeoError('BAD_DIR') when `dir`
   * is not a directory or holds neither kind of file; a missing package only leaves its part out
   * (listed in `missing`).
   */
  static async open(opts: GeoResolverOptions = {}): Promise<GeoResolver> {
    let countryFile: string | undefined
    let asnFile: string | undefined
    if (opts.dir !== undefined) {
      if (!existsSync(opts.dir) || !statSync(opts.dir).isDirectory()) throw new GeoError('BAD_DIR', `${opts.dir}: not a directory`)
      countryFile = mmdbIn(opts.dir, /country/i)
      // ip-location-db's country files carry 'asn' in their names (geo-whois-asn-country)
      asnFile = mmdbIn(opts.dir, /asn/i, /country/i)
      if (countryFile === undefined && asnFile === undefined) throw new GeoError('BAD_DIR', `${opts.dir}: no *Country*.mmdb or *ASN*.mmdb file in it`)
    }
    const missing: string[] = []
    const sources: { country?: string; asn?: string } = {}

    let country: Lookup<string> | undefined
    countryFile ??= packageFile(COUNTRY_PACKAGE, 'geo-whois-asn-country.mmdb')
    if (countryFile !== undefined) {
      const reader = await mmdb<CountryRecord & Response>(countryFile)
      country = (ip) => {
        const r = reader.get(ip)
        return r?.country?.iso_code ?? r?.country_code ?? r?.registered_country?.iso_code
      }
      sources.country = countryFile
    } else missing.push(COUNTRY_PACKAGE)

    let asn: Lookup<AsnEntry> | undefined
    if (asnFile !== undefined) {
      const reader = await mmdb<AsnRecord & Response>(asnFile)
      asn = (ip) => {
        const r = reader.get(ip)
        const n = r?.autonomous_system_number
        if (n === undefined) return undefined
        const org = r?.autonomous_system_organization
        return org !== undefined ? { asn: n, asOrg: org } : { asn: n }
      }
      sources.asn = asnFile
    } else {
      const v4File = packageFile(ASN_PACKAGE, 'asn-ipv4-num.csv')
      const v6File = packageFile(ASN_PACKAGE, 'asn-ipv6-num.csv')
      if (v4File !== undefined) {
        let v4 = V4_TABLES.get(v4File)
        if (v4 === undefined) V4_TABLES.set(v4File, (v4 = AsnTableV4.parse(await readFile(v4File))))
        const table4 = v4
        let v6: AsnTableV6 | null | undefined = v6File !== undefined ? V6_TABLES.get(v6File) : undefined
        asn = (_ip, a) => {
          if (isV4Mapped(a)) {
            return table4.lookup(((a[12]! << 24) | (a[13]! << 16) | (a[14]! << 8) | a[15]!) >>> 0)
          }
          // IPv6 ranges are read when the first IPv6 address comes (few crawled endpoints are IPv6)
          if (v6 === undefined) {
            v6 = v6File !== undefined ? AsnTableV6.parse(readFileSyncSafe(v6File)) : null
            if (v6 !== null) V6_TABLES.set(v6File!, v6)
          }
          return v6?.lookup(a)
        }
        sources.asn = v4File
      } else missing.push(ASN_PACKAGE)
    }
    return new GeoResolver(country, asn, sources, missing)
  }

  /** whether any database was found */
  get available(): boolean {
    return this.country !== undefined || this.asn !== undefined
  }

  /** Country and AS of `ip`; undefined for a private, loopback or special address, or one the databases do not know. */
  lookup(ip: string): GeoInfo | undefined {
    const hit = this.cache.get(ip)
    if (hit !== undefined) return hit ?? undefined
    const info = this.resolve(ip)
    if (this.cache.size >= CACHE_MAX) this.cache.clear()
    this.cache.set(ip, info ?? null)
    return info
  }

  private resolve(ip: string): GeoInfo | undefined {
    if (!isPublicIP(ip)) return undefined
    const bytes = parseIP(ip)!
    const country = this.country?.(ip, bytes)
    const as = this.asn?.(ip, bytes)
    if (country === undefined && as === undefined) return undefined
    const key = `${country ?? ''}|${as?.asn ?? ''}|${as?.asOrg ?? ''}`
    let info = this.interned.get(key)
    if (info === undefined) {
      info = Object.freeze({
        ...(country !== undefined ? { country } : {}),
        ...(as !== undefined ? { asn: as.asn } : {}),
        ...(as?.asOrg !== undefined ? { asOrg: as.asOrg } : {}),
      })
      this.interned.set(key, info)
    }
    return info
  }
}

function readFileSyncSafe(file: string): Buffer {
  try {
    return readFileSync(file)
  } catch {
    return Buffer.alloc(0)
  }
}

function isV4Mapped(a: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (a[i] !== 0) return false
  return a[10] === 0xff && a[11] === 0xff
}
