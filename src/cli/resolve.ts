/**
 * `ethp2p resolve FILE|-`: adds `country`, `asn` and `asOrg` to JSONL crawl records (from an earlier
 * crawl, or any tool writing one JSON object with an `ip` per line), offline. One line in, one line
 * out, in order, streamed (memory stays flat whatever the file's size). A line that is not a JSON
 * object is reported on stderr and passed through unchanged; a missing file is a bad argument (exit 2).
 */
import { createReadStream, existsSync, statSync } from 'node:fs'
import { createInterface } from 'node:readline'
import type { Readable, Writable } from 'node:stream'
import { once } from 'node:events'
import { InvalidArgumentError } from 'commander'
import { enrichRecord } from '../geo/enrich.js'
import type { GeoResolver } from '../geo/resolver.js'
import { createLogger } from '../util/log.js'
import { openGeo } from './crawl-setup.js'

/** `ethp2p resolve`'s parsed options. */
export interface ResolveCliOptions {
  geoipDir?: string
}

/** What {@link resolveStream} did. */
export interface ResolveCounts {
  /** lines read (and written) */
  lines: number
  /** records that gained a country or an AS */
  enriched: number
  /** lines passed through because they are not JSON objects */
  bad: number
}

/**
 * Enrich every JSONL line of `input` onto `output` (waiting when it is full); bad lines go through
 * unchanged and are reported with `onBad(lineNumber, reason)`.
 */
export async function resolveStream(geo: GeoResolver, input: Readable, output: Writable, onBad: (line: number, reason: string) => void): Promise<ResolveCounts> {
  const counts: ResolveCounts = { lines: 0, enriched: 0, bad: 0 }
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    counts.lines++
    let out = line
    if (line.trim() !== '') {
      let value: unknown
      try {
        value = JSON.parse(line)
      } catch (err) {
        value = err as Error
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Error) {
        counts.bad++
        onBad(counts.lines, value instanceof Error ? `not JSON (${value.message})` : 'not a JSON object')
      } else {
        const r = value as { ip?: unknown; country?: string; asn?: number; asOrg?: string }
        const before = r.country !== undefined || r.asn !== undefined
        enrichRecord(geo, r)
        if (!before && (r.country !== undefined || r.asn !== undefined)) counts.enriched++
        out = JSON.stringify(r)
      }
    }
    if (!output.write(out + '\n')) await once(output, 'drain')
  }
  return counts
}

/** `ethp2p resolve FILE|-`: enriched JSONL on stdout, a line per bad input line and a summary on stderr. */
export async function runResolve(file: string, opts: ResolveCliOptions): Promise<void> {
  if (file !== '-' && !(existsSync(file) && statSync(file).isFile())) throw new InvalidArgumentError(`${file}: no such file`)
  const geo = await openGeo(opts, createLogger())
  const input = file === '-' ? process.stdin : createReadStream(file)
  const counts = await resolveStream(geo, input, process.stdout, (n, reason) => process.stderr.write(`resolve: line ${n}: ${reason}; passed through unchanged\n`))
  process.stderr.write(`resolve: ${counts.lines} lines, ${counts.enriched} records enriched, ${counts.bad} passed through\n`)
}
