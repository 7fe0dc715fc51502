/**
 * A finished crawl as the spool holds it on disk: its meta (with its key), its records and its edges,
 * as gzipped JSON. Pure: bytes in, bytes out. gzip's CRC-32 catches a damaged file; the shape is
 * checked on the way in, so a file that is not ours is refused with a typed error, never thrown deep
 * inside the writer.
 */
import { gunzipSync, gzipSync } from 'node:zlib'
import { EdgeList } from './edges.js'
import type { HistoryRecord } from './visit.js'
import type { CrawlMeta } from './write.js'

/** A crawl waiting in the spool: `meta.key` is set (the crawl's UUID). */
export interface SpooledCrawl {
  meta: CrawlMeta & { key: string }
  records: HistoryRecord[]
  edges?: EdgeList
}

/** A spool file could not be read back as a crawl. */
export class SpoolFormatError extends Error {
  override readonly name = 'SpoolFormatError'
  readonly code = 'SPOOL_CORRUPT'
}

const VERSION = 1
/** a spooled crawl unpacks to this much at most: far above a mainnet crawl, and a bound on a bad file */
export const MAX_SPOOLED_JSON = 2 ** 30
/** the key is a UUID (crypto.randomUUID) */
const KEY = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

interface Wire {
  v: number
  meta: CrawlMeta & { key: string }
  records: HistoryRecord[]
  /** every public key once, then (from, to, distance) as indexes into it */
  edges?: { keys: string[]; list: number[] }
}

/** gzipped JSON of one crawl */
export function encodeSpooled(c: SpooledCrawl): Buffer {
  const wire: Wire = { v: VERSION, meta: c.meta, records: c.records }
  if (c.edges !== undefined) {
    const index = new Map<string, number>()
    const keys: string[] = []
    const list: number[] = []
    const at = (k: string): number => {
      let i = index.get(k)
      if (i === undefined) index.set(k, (i = keys.push(k) - 1))
      return i
    }
    for (const e of c.edges) list.push(at(e.from), at(e.to), e.distance)
    wire.edges = { keys, list }
  }
  // level 1: a spooled crawl is written once and read once; speed matters more than the last bytes
  return gzipSync(JSON.stringify(wire), { level: 1 })
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const isStrings = (v: unknown): boolean => v === undefined || (Array.isArray(v) && v.every((s) => typeof s === 'string'))
const isNat = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0

/** what the writer relies on in a record: the rest is optional and checked where it is stored */
function isRecord(r: unknown): r is HistoryRecord {
  if (!isObject(r)) return false
  return typeof r['id'] === 'string' && typeof r['ip'] === 'string' && isNat(r['udp']) && isNat(r['tcp']) && isStrings(r['caps']) && isStrings(r['protocols'])
}

function isMeta(m: unknown): m is Wire['meta'] {
  if (!isObject(m)) return false
  return (
    typeof m['vantage'] === 'string' &&
    isNat(m['startedAt']) &&
    isNat(m['endedAt']) &&
    isObject(m['options']) &&
    (m['interrupted'] === undefined || typeof m['interrupted'] === 'boolean') &&
    typeof m['key'] === 'string' &&
    KEY.test(m['key'])
  )
}

/** Read back what {@link encodeSpooled} wrote; throws SpoolFormatError for anything else. */
export function decodeSpooled(buf: Uint8Array): SpooledCrawl {
  let wire: unknown
  try {
    wire = JSON.parse(gunzipSync(buf, { maxOutputLength: MAX_SPOOLED_JSON }).toString('utf8'))
  } catch (err) {
    throw new SpoolFormatError(`not a spooled crawl: ${(err as Error).message}`, { cause: err })
  }
  if (!isObject(wire) || wire['v'] !== VERSION) throw new SpoolFormatError(`not a spooled crawl of version ${VERSION}`)
  if (!isMeta(wire['meta'])) throw new SpoolFormatError('the spooled crawl has no valid meta (vantage, times, options, key)')
  const records = wire['records']
  if (!Array.isArray(records) || !records.every(isRecord)) throw new SpoolFormatError('the spooled crawl has a record without id, ip, udp or tcp')
  const out: SpooledCrawl = { meta: wire['meta'], records }
  const e = wire['edges']
  if (e !== undefined) {
    if (!isObject(e) || !Array.isArray(e['keys']) || !isStrings(e['keys']) || !Array.isArray(e['list']) || e['list'].length % 3 !== 0) throw new SpoolFormatError('the spooled crawl has malformed edges')
    const keys = e['keys'] as string[]
    const list = e['list'] as unknown[]
    const edges = new EdgeList()
    for (let k = 0; k < list.length; k += 3) {
      const [f, t, d] = [list[k], list[k + 1], list[k + 2]]
      if (!isNat(f) || !isNat(t) || !isNat(d) || f >= keys.length || t >= keys.length || d > 256) throw new SpoolFormatError('the spooled crawl has an edge out of range')
      edges.add(keys[f]!, keys[t]!, d)
    }
    out.edges = edges
  }
  return out
}
