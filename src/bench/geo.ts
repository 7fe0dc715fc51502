/**
 * The cost of a crawl's geography (`--suite geo`): CPU to enrich 10,000 records with public IPs
 * (random unicast IPv4 addresses, one in a hundred IPv6), each IP new to the cache as in a crawl,
 * against the CPU a 10,000-node crawl takes, measured in the same run: the crawl suite's loopback
 * crawl (the cheapest of its crawls, so the share is the largest). Opening the databases is timed
 * apart: it happens once per process (a monitor pays it once for all its crawls).
 */
import type { BackendName } from '../crypto/types.js'
import { enrichRecord } from '../geo/enrich.js'
import { GeoResolver, isPublicIP } from '../geo/resolver.js'
import { child, withTestnet, type CrawlJob, type Run } from './crawl.js'
import type { Row, Target } from './harness.js'

const RECORDS = 10_000
/** the target: enrichment adds at most this share to a crawl's CPU */
const MAX_SHARE = 0.05

function cpuMs(): number {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

/** deterministic xorshift, so every run enriches the same addresses */
function addresses(n: number, seed = 22): string[] {
  let x = seed
  const next = (): number => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return x >>> 0
  }
  const out: string[] = []
  while (out.length < n) {
    const v = next()
    const ip =
      out.length % 100 === 99
        ? `2a01:4f8:${(v & 0xffff).toString(16)}:${(v >>> 16).toString(16)}::2`
        : `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`
    if (isPublicIP(ip)) out.push(ip)
  }
  return out
}

/** Enrichment CPU per 10k records and its share of a 10k-node crawl's CPU. */
export async function geoBench(_names: readonly BackendName[]): Promise<{ rows: Row[]; targets: Target[] }> {
  const ips = addresses(RECORDS)
  const rows: Row[] = []
  const targets: Target[] = []
  const t0 = cpuMs()
  const geo = await GeoResolver.open()
  // the IPv6 ranges are read on the first IPv6 address: counted with the opening
  geo.lookup('2a01:4f8::1')
  const openMs = cpuMs() - t0
  if (!geo.available) {
    console.log(`geo: no databases (npm install ${geo.missing.join(' ')}); nothing to measure`)
    return { rows, targets }
  }
  console.log(`geo: opening the databases: ${openMs.toFixed(0)} ms of CPU (once per process)`)
  const runs: number[] = []
  for (let run = 0; run < 5; run++) {
    // a fresh resolver's cache, over the same tables: every IP is new, as in a crawl
    const fresh = await GeoResolver.open()
    const records = ips.map((ip, i) => ({ id: i.toString(16), ip, udp: 30303 }))
    const t = cpuMs()
    let known = 0
    for (const r of records) if (enrichRecord(fresh, r as typeof r & { asn?: number }).asn !== undefined) known++
    runs.push(cpuMs() - t)
    if (run === 0) console.log(`geo: ${known} of ${RECORDS} random public addresses have an AS`)
  }
  runs.sort((a, b) => a - b)
  const ms = runs[Math.floor(runs.length / 2)]!
  const crawl = await withTestnet({ nodes: RECORDS }, (net) => child<Run>('ours', { net } satisfies CrawlJob).result)
  const crawlS = crawl.cpuS ?? NaN
  const share = ms / 1000 / crawlS
  const withOpen = (ms + openMs) / 1000 / crawlS
  console.log(`geo: enrich ${RECORDS} records: ${ms.toFixed(1)} ms of CPU (median of ${runs.length}), ${((1000 * ms) / RECORDS).toFixed(2)} µs per record`)
  console.log(`geo: a ${RECORDS}-node loopback crawl (this run, the crawl suite's setup): ${crawlS.toFixed(1)} s of CPU, ${crawl.answered ?? 0} nodes answered`)
  console.log(`geo: enrichment ${(100 * share).toFixed(2)} % of that crawl's CPU; with opening the databases: ${(100 * withOpen).toFixed(2)} %`)
  rows.push({ op: `enrich ${RECORDS / 1000}k records (records/s)`, impl: 'geo', hz: (RECORDS * 1000) / ms, rme: 0 })
  rows.push({ op: 'open the geography databases (/s)', impl: 'geo', hz: 1000 / openMs, rme: 0 })
  targets.push({ what: `geo: enrichment's share of a 10k-node crawl's CPU, inverted (≥ ${1 / MAX_SHARE} means ≤ ${100 * MAX_SHARE} %)`, value: 1 / share, min: 1 / MAX_SHARE })
  return { rows, targets }
}
