/**
 * Adding a record's geography where the record is written: `country`, `asn` and `asOrg` of its `ip`,
 * kept when the databases know nothing (a record that already has them, e.g. read back by
 * `ethp2p resolve`, is not stripped).
 */
import type { GeoInfo, GeoResolver } from './resolver.js'

/** `r` with the country and AS of its `ip` (the same object, changed in place); unchanged when none is known */
export function enrichRecord<T extends { ip?: unknown } & GeoInfo>(resolver: GeoResolver, r: T): T {
  if (typeof r.ip !== 'string') return r
  const info = resolver.lookup(r.ip)
  if (info === undefined) return r
  if (info.country !== undefined) r.country = info.country
  if (info.asn !== undefined) r.asn = info.asn
  if (info.asOrg !== undefined) r.asOrg = info.asOrg
  return r
}
