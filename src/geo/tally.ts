/**
 * Nodes per country and per autonomous system, the largest first, and the share on well-known hosting
 * ASes: one ranking for the crawl's closing summary, the monitor's per-crawl line and the history's
 * `geoCounts` (`stats`, the dashboard), so they order, cut and count alike.
 */
import { isHostingAsn } from './hosting.js'

/** A crawl's nodes by country and by AS, the `top` largest of each, and the share on hosting ASes. */
export interface GeoRanking {
  /** most nodes first (ties by country code), at most `top`; the rest summed under `others` */
  countries: { country: string; nodes: number }[]
  /** most nodes first (ties by AS number), at most `top` */
  ases: { asn: number; asOrg: string | null; nodes: number; hosting: boolean }[]
  /** nodes with a known country / AS */
  withCountry: number
  withAsn: number
  /** of the nodes with a known AS, those on a well-known hosting or cloud AS (src/geo/hosting.ts) */
  hosted: number
  /** hosted / withAsn (0 when no AS is known) */
  hostingShare: number
  /** nodes in the countries and ASes past `top` */
  others: { countries: number; ases: number }
  /** how many countries and ASes there are in all, so a reader can say "+N more" */
  distinct: { countries: number; ases: number }
}

/** Counts nodes by country and AS as they come; `rank` orders and cuts them. */
export class GeoTally {
  private readonly countries = new Map<string, number>()
  private readonly ases = new Map<number, { asOrg: string | null; nodes: number }>()

  /** `n` nodes in `country` (ISO 3166 alpha-2) */
  addCountry(country: string, n = 1): void {
    this.countries.set(country, (this.countries.get(country) ?? 0) + n)
  }

  /** `n` nodes on AS `asn`; the first organisation name given for it is kept */
  addAsn(asn: number, asOrg: string | null | undefined, n = 1): void {
    const a = this.ases.get(asn)
    if (a) {
      a.nodes += n
      a.asOrg ??= asOrg || null
    } else this.ases.set(asn, { asOrg: asOrg || null, nodes: n })
  }

  /** one record's country and AS, when it has them */
  add(r: { country?: string | undefined; asn?: number | undefined; asOrg?: string | undefined }): void {
    if (r.country !== undefined) this.addCountry(r.country)
    if (r.asn !== undefined) this.addAsn(r.asn, r.asOrg)
  }

  /** whether any node had a country or an AS */
  get empty(): boolean {
    return this.countries.size === 0 && this.ases.size === 0
  }

  /** the `top` largest countries and ASes, the rest summed, and the hosting share over all ASes */
  rank(top: number): GeoRanking {
    const countries = [...this.countries].map(([country, nodes]) => ({ country, nodes })).sort((a, b) => b.nodes - a.nodes || a.country.localeCompare(b.country))
    const ases = [...this.ases].map(([asn, a]) => ({ asn, asOrg: a.asOrg, nodes: a.nodes, hosting: isHostingAsn(asn) })).sort((a, b) => b.nodes - a.nodes || a.asn - b.asn)
    const sum = (xs: { nodes: number }[]): number => xs.reduce((s, x) => s + x.nodes, 0)
    const withAsn = sum(ases)
    const hosted = sum(ases.filter((a) => a.hosting))
    return {
      countries: countries.slice(0, top),
      ases: ases.slice(0, top),
      withCountry: sum(countries),
      withAsn,
      hosted,
      hostingShare: withAsn === 0 ? 0 : hosted / withAsn,
      others: { countries: sum(countries.slice(top)), ases: sum(ases.slice(top)) },
      distinct: { countries: countries.length, ases: ases.length },
    }
  }
}
