/**
 * `ethp2p nodeset filter SRC [filters] [--format F] [-o FILE]`: the nodes of a crawl, a geth
 * `nodes.json` or a stored crawl that pass every filter, best score first, in the format asked (geth's
 * `devp2p nodeset filter`, with our records' fields as filters). The filters and formats are the
 * library's (src/nodeset), shared with the dashboard's `/api/nodeset`.
 */
import { writeFileSync } from 'node:fs'
import { InvalidArgumentError } from 'commander'
import { enrichRecord } from '../geo/enrich.js'
import { checkFilterFor, NodeSetError, parseNodeFilter, selectNodes, type FilterParam, type NodeFilter } from '../nodeset/filter.js'
import { formatNodeSet, isNodeSetFormat, NODESET_FORMATS, usableIn, type NodeSetFormat } from '../nodeset/format.js'
import { createLogger } from '../util/log.js'
import { openGeo } from './crawl-setup.js'
import { readSource, type ReadSource } from './nodeset-source.js'

/** `ethp2p nodeset filter`'s options as commander gives them: the filters as text, parsed by the library. */
export interface NodesetCliOptions {
  network?: string
  fork?: string
  client?: string
  minVersion?: string
  protocol?: string
  country?: string
  asn?: string
  synced?: boolean
  answeredWithin?: string
  limit?: string
  format?: string
  out?: string
  crawl?: number
  vantage?: string
  geoipDir?: string
}

/** bad lines told one by one before they are only counted */
const BAD_SHOWN = 10

/** `--min-version` for `min-version`, and so on */
const optionKey = (p: FilterParam): keyof NodesetCliOptions => p.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) as keyof NodesetCliOptions

/** The filters of the command line; a bad one is a bad argument (exit 2). */
export function cliFilter(opts: NodesetCliOptions): NodeFilter {
  try {
    return parseNodeFilter((p) => {
      const v = opts[optionKey(p)]
      return v === undefined ? undefined : String(v)
    })
  } catch (err) {
    throw err instanceof NodeSetError ? new InvalidArgumentError(`--${err.message}`) : err
  }
}

/** --format, else by -o's extension (.jsonl, .csv, .txt for enodes), else geth's nodes.json */
export function outputFormat(format: string | undefined, out: string | undefined): NodeSetFormat {
  if (format !== undefined) {
    if (!isNodeSetFormat(format)) throw new InvalidArgumentError(`--format: one of ${NODESET_FORMATS.join(', ')}`)
    return format
  }
  if (out?.endsWith('.jsonl')) return 'jsonl'
  if (out?.endsWith('.csv')) return 'csv'
  if (out?.endsWith('.txt')) return 'enodes'
  return 'nodes.json'
}

/** Country and AS for the records that have neither, when a filter asks for them (a nodes.json has none). */
async function addGeography(read: ReadSource, f: NodeFilter, geoipDir: string | undefined): Promise<void> {
  if (f.country === undefined && f.asn === undefined) return
  const bare = read.source.items.filter((i) => i.record.country === undefined && i.record.asn === undefined)
  if (bare.length === 0) return
  const geo = await openGeo(geoipDir !== undefined ? { geoipDir } : {}, createLogger())
  for (const i of bare) enrichRecord(geo, i.record)
}

/** Write `text` to stdout and wait until it is taken. */
function toStdout(text: string): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(text, (err) => (err ? reject(err) : resolve())))
}

/** `ethp2p nodeset filter SRC …`: the node set on stdout or in -o FILE, a summary line on stderr. */
export async function runNodesetFilter(src: string, opts: NodesetCliOptions): Promise<void> {
  const filter = cliFilter(opts)
  const format = outputFormat(opts.format, opts.out)
  let bad = 0
  const onBad = (where: string, reason: string): void => {
    if (++bad <= BAD_SHOWN) process.stderr.write(`nodeset: ${where}: ${reason}; left out\n`)
  }
  const choice = { ...(opts.crawl !== undefined ? { crawl: opts.crawl } : {}), ...(opts.vantage !== undefined ? { vantage: opts.vantage } : {}) }
  const read = await readSource(src, choice, onBad)
  try {
    checkFilterFor(read.source.kind, filter)
  } catch (err) {
    throw err instanceof NodeSetError ? new InvalidArgumentError(`--${err.message}`) : err
  }
  await addGeography(read, filter, opts.geoipDir)
  const { items, matched } = selectNodes(read.source, filter, usableIn(format))
  const meta = read.crawl ? { crawl: read.crawl } : {}
  const text = formatNodeSet(items, format, meta, matched)
  if (opts.out !== undefined) writeFileSync(opts.out, text)
  else await toStdout(text)
  const limited = items.length < matched ? ` (${matched} matched, --limit ${filter.limit})` : ''
  const skipped = bad > 0 ? `; ${bad} bad ${bad === 1 ? 'entry' : 'entries'} left out` : ''
  process.stderr.write(`nodeset: ${items.length} of ${read.source.items.length} nodes of ${read.label}${limited} as ${format}${opts.out !== undefined ? ` in ${opts.out}` : ''}${skipped}\n`)
}
