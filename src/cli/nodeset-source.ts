/**
 * Reading `ethp2p nodeset filter`'s SRC: a crawl's JSONL or a geth `nodes.json` (a file, or `-` for
 * stdin; which one is told by the first key of the text, a 64-hex node ID only in a nodes.json), or
 * a history (`sqlite:FILE`, `postgres://…`). Memory is bounded: JSONL lines longer than MAX_LINE
 * are refused as bad lines, a nodes.json longer than MAX_JSON_BYTES as too large.
 */
import { createReadStream, existsSync, statSync } from 'node:fs'
import type { Readable } from 'node:stream'
import { InvalidArgumentError } from 'commander'
import { describe, HistoryError, openHistory, parseDbSpec } from '../history/db.js'
import { chooseCrawl, crawlNodeSet } from '../history/nodeset.js'
import type { CrawlPoint } from '../history/query.js'
import { NodeSetError, type NodeSource } from '../nodeset/filter.js'
import { crawlRecordOf, crawlSource, nodesJsonSource } from '../nodeset/read.js'
import type { CrawlRecord } from '../crawler/record.js'

/** a crawl record is a few KiB at most (its ENR is at most 300 bytes) */
const MAX_LINE = 64 * 1024
/** a nodes.json of a million nodes is about 500 MB; this is more than any network holds, and what a JS string takes */
const MAX_JSON_BYTES = 256 * 1024 * 1024

/** how much text is read before the kind is decided (a nodes.json's first key is within its first 70 characters) */
const SNIFF_BYTES = 4096

/** A source read: its nodes, and the stored crawl they come from when the source is a history. */
export interface ReadSource {
  source: NodeSource
  crawl?: CrawlPoint
  /** what SRC was, for messages */
  label: string
}

/** Whether SRC names a history rather than a file. */
export function isHistorySpec(src: string): boolean {
  return src.startsWith('sqlite:') || /^postgres(ql)?:\/\//.test(src)
}

/** Lines of a stream, each at most MAX_LINE characters; a longer one comes as `undefined`, read past. */
async function* boundedLines(input: AsyncIterable<string>): AsyncGenerator<string | undefined> {
  let pending = ''
  let skipping = false
  for await (const chunk of input) {
    let start = 0
    for (let nl = chunk.indexOf('\n'); nl !== -1; nl = chunk.indexOf('\n', start)) {
      const line = pending + chunk.slice(start, nl)
      pending = ''
      start = nl + 1
      if (skipping || line.length > MAX_LINE) yield undefined
      else yield line
      skipping = false
    }
    if (skipping) continue
    pending += chunk.slice(start)
    if (pending.length > MAX_LINE) {
      pending = ''
      skipping = true
    }
  }
  if (skipping) yield undefined
  else if (pending !== '') yield pending
}

/** the stream's text, as chunks, with its first chunks held back until the kind is known */
async function sniff(input: Readable): Promise<{ kind: 'jsonl' | 'nodes.json'; chunks: AsyncIterable<string> }> {
  input.setEncoding('utf8')
  const it = input[Symbol.asyncIterator]() as AsyncIterator<string>
  const head: string[] = []
  let text = ''
  // the first key decides: 64 hex characters are a node ID (nodes.json), anything else a record field
  while (text.length < SNIFF_BYTES) {
    const n = await it.next()
    if (n.done) break
    head.push(n.value)
    text += n.value
  }
  const kind = /^\s*\{\s*"[0-9a-f]{64}"/.test(text) ? 'nodes.json' : 'jsonl'
  const chunks = (async function* () {
    yield* head
    for (let n = await it.next(); !n.done; n = await it.next()) yield n.value
  })()
  return { kind, chunks }
}

/** Read SRC (a file or `-`); bad lines and entries are told to `onBad`, and left out. */
async function readFile(src: string, onBad: (where: string, reason: string) => void): Promise<NodeSource> {
  if (src !== '-' && !(existsSync(src) && statSync(src).isFile())) throw new InvalidArgumentError(`${src}: no such file`)
  const { kind, chunks } = await sniff(src === '-' ? process.stdin : createReadStream(src))
  if (kind === 'nodes.json') {
    let text = ''
    for await (const c of chunks) {
      text += c
      if (text.length > MAX_JSON_BYTES) throw new NodeSetError('TOO_LARGE', `${src}: a nodes.json larger than ${MAX_JSON_BYTES >> 20} MiB`)
    }
    return nodesJsonSource(text, (id, reason) => onBad(`node ${id.slice(0, 16)}…`, reason))
  }
  const records: CrawlRecord[] = []
  let n = 0
  for await (const line of boundedLines(chunks)) {
    n++
    if (line === undefined) {
      onBad(`line ${n}`, `longer than ${MAX_LINE} characters`)
      continue
    }
    if (line.trim() === '') continue
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch (err) {
      onBad(`line ${n}`, `not JSON (${(err as Error).message})`)
      continue
    }
    const r = crawlRecordOf(value)
    if (typeof r === 'string') onBad(`line ${n}`, r)
    else records.push(r)
  }
  return crawlSource(records)
}

/** Read SRC with the crawl choice of a history (`--crawl`, `--vantage`, which files refuse). */
export async function readSource(src: string, choice: { crawl?: number; vantage?: string }, onBad: (where: string, reason: string) => void): Promise<ReadSource> {
  if (!isHistorySpec(src)) {
    if (choice.crawl !== undefined || choice.vantage !== undefined) throw new InvalidArgumentError('--crawl and --vantage choose a crawl of a history (sqlite:FILE or postgres://…)')
    return { source: await readFile(src, onBad), label: src === '-' ? 'stdin' : src }
  }
  let spec
  try {
    spec = parseDbSpec(src)
  } catch (err) {
    throw err instanceof HistoryError ? new InvalidArgumentError(err.message) : err
  }
  // opening a history creates it: a node set is read from one that exists
  if (spec.engine === 'sqlite' && !existsSync(spec.file)) throw new InvalidArgumentError(`${spec.file}: no such file`)
  const h = await openHistory(spec, { poolSize: 1 })
  try {
    const crawl = await chooseCrawl(h, choice).catch((err: unknown) => {
      throw err instanceof NodeSetError && choice.crawl !== undefined ? new InvalidArgumentError(err.message) : err
    })
    return { source: await crawlNodeSet(h, crawl), crawl, label: `${describe(spec)} crawl ${crawl.id}` }
  } finally {
    await h.close()
  }
}
