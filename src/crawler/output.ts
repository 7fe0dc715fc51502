/**
 * Crawl outputs: JSON lines (one record per node, DESIGN.md's fields), CSV, geth's nodes.json node set
 * (cmd/devp2p/nodeset.go: keyed by node ID, seq, record, score, first/last response, last check, so
 * devp2p's dns tooling reads our crawl), and the closing summary.
 */
import { once } from 'node:events'
import { createWriteStream, writeFileSync, type WriteStream } from 'node:fs'
import type { Writable } from 'node:stream'
import { backend } from '../crypto/backend.js'
import { hex } from '../crypto/bytes.js'
import type { CrawlRecord } from './crawl.js'
import type { CrawlDiff, StoredNode } from './store.js'

/** A line-per-record sink over a file or stdout; `close()` waits until everything is written. */
class LineWriter {
  private constructor(
    private readonly out: Writable,
    private readonly owned: boolean,
  ) {}

  static toFile(path: string): LineWriter {
    return new LineWriter(createWriteStream(path), true)
  }

  static toStream(out: Writable): LineWriter {
    return new LineWriter(out, false)
  }

  async line(s: string): Promise<void> {
    // respect backpressure so a slow consumer bounds memory instead of the buffer growing
    if (!this.out.write(s + '\n')) await once(this.out, 'drain')
  }

  async close(): Promise<void> {
    if (!this.owned) return
    const f = this.out as WriteStream
    await new Promise<void>((resolve, reject) => f.end((err?: Error | null) => (err ? reject(err) : resolve())))
  }
}

export class JsonlWriter {
  private constructor(private readonly w: LineWriter) {}
  static toFile(path: string): JsonlWriter {
    return new JsonlWriter(LineWriter.toFile(path))
  }
  static toStream(out: Writable): JsonlWriter {
    return new JsonlWriter(LineWriter.toStream(out))
  }
  write(r: CrawlRecord): Promise<void> {
    return this.w.line(JSON.stringify(r))
  }
  close(): Promise<void> {
    return this.w.close()
  }
}

const CSV_COLUMNS = ['id', 'ip', 'udp', 'tcp', 'seq', 'answered', 'network', 'fork', 'eth2', 'neighbors', 'firstSeen', 'lastSeen', 'enr', 'error'] as const

/** RFC 4180 quoting: only fields holding a comma, quote or line break are quoted */
function csvField(v: unknown): string {
  const s = v === undefined ? '' : String(v)
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

export class CsvWriter {
  private constructor(private readonly w: LineWriter) {}
  static async toFile(path: string): Promise<CsvWriter> {
    const c = new CsvWriter(LineWriter.toFile(path))
    await c.w.line(CSV_COLUMNS.join(','))
    return c
  }
  write(r: CrawlRecord): Promise<void> {
    return this.w.line(CSV_COLUMNS.map((k) => csvField(r[k])).join(','))
  }
  close(): Promise<void> {
    return this.w.close()
  }
}

/** one entry of geth's nodes.json */
export interface NodeSetEntry {
  seq: number
  record: string
  score?: number
  firstResponse?: string
  lastResponse?: string
  lastCheck?: string
}

/**
 * geth's node set from this crawl: every node that sent a record, keyed by its 64-hex node ID
 * (keccak256 of the public key). Scores and first responses come from the store when there is one.
 */
export function nodeSet(records: Iterable<CrawlRecord>, stored?: (id: string) => StoredNode | undefined): Record<string, NodeSetEntry> {
  const out: Record<string, NodeSetEntry> = {}
  for (const r of records) {
    if (r.enr === undefined || r.seq === undefined) continue
    const s = stored?.(r.id)
    const e: NodeSetEntry = { seq: r.seq, record: r.enr }
    const score = s?.score ?? (r.answered ? 1 : 0)
    if (score > 0) e.score = score
    const first = s?.firstResponse ?? (r.answered ? Date.parse(r.lastSeen) : undefined)
    const last = s?.lastResponse ?? (r.answered ? Date.parse(r.lastSeen) : undefined)
    if (first !== undefined) e.firstResponse = new Date(first).toISOString()
    if (last !== undefined) e.lastResponse = new Date(last).toISOString()
    e.lastCheck = new Date(s?.lastCheck ?? Date.parse(r.lastSeen)).toISOString()
    out[hex(backend.keccak256(Buffer.from(r.id, 'hex')))] = e
  }
  return out
}

export function writeNodesJson(path: string, set: Record<string, NodeSetEntry>): void {
  // geth sorts by ID (Go map keys) and indents by four spaces
  const sorted = Object.fromEntries(Object.entries(set).sort(([a], [b]) => (a < b ? -1 : 1)))
  writeFileSync(path, JSON.stringify(sorted, null, 4) + '\n')
}

export interface CrawlSummary {
  found: number
  answered: number
  unanswered: number
  /** answered nodes by the network of their `eth` entry ('none' without one) */
  networks: Record<string, number>
  eth2: number
  seconds: number
  since?: { new: number; gone: number; changed: number; same: number }
}

export function summarize(records: Iterable<CrawlRecord>, seconds: number, diff?: CrawlDiff): CrawlSummary {
  const s: CrawlSummary = { found: 0, answered: 0, unanswered: 0, networks: {}, eth2: 0, seconds: Math.round(seconds * 10) / 10 }
  for (const r of records) {
    s.found++
    if (!r.answered) {
      s.unanswered++
      continue
    }
    s.answered++
    const net = r.network ?? 'none'
    s.networks[net] = (s.networks[net] ?? 0) + 1
    if (r.eth2) s.eth2++
  }
  if (diff) s.since = { new: diff.new.length, gone: diff.gone.length, changed: diff.changed.length, same: diff.same }
  return s
}

/** the summary as a few human lines (stderr) */
export function formatSummary(s: CrawlSummary): string {
  const nets = Object.entries(s.networks)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')
  const lines = [`crawl: ${s.found} found, ${s.answered} answered, ${s.unanswered} unanswered in ${s.seconds} s`, `networks: ${nets || '-'}; eth2 entries: ${s.eth2}`]
  if (s.since) lines.push(`since: ${s.since.new} new, ${s.since.gone} gone, ${s.since.changed} changed, ${s.since.same} same`)
  return lines.join('\n')
}
