/**
 * A selected node set as text: geth's `nodes.json`, one enode URL or one `enr:` record per line, crawl
 * records as JSON lines or CSV (the crawl's own columns), or one JSON document. Pure.
 */
import { fromHex } from '../crypto/bytes.js'
import { Node } from '../enode/node.js'
import { formatEnode } from '../enode/url.js'
import { csvHeader, csvLine, formatNodesJson, nodeSet } from '../crawler/output.js'
import type { NodeSetItem } from './filter.js'

/** The output formats. */
export const NODESET_FORMATS = ['nodes.json', 'enodes', 'enrs', 'jsonl', 'csv', 'json'] as const

/** One output format. */
export type NodeSetFormat = (typeof NODESET_FORMATS)[number]

/** Is `s` an output format? */
export function isNodeSetFormat(s: string): s is NodeSetFormat {
  return (NODESET_FORMATS as readonly string[]).includes(s)
}

/** The media type each format is served as. */
export const FORMAT_TYPES: Readonly<Record<NodeSetFormat, string>> = {
  'nodes.json': 'application/json; charset=utf-8',
  json: 'application/json; charset=utf-8',
  enodes: 'text/plain; charset=utf-8',
  enrs: 'text/plain; charset=utf-8',
  jsonl: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
}

/**
 * Whether a node can be written in `format`: `nodes.json` and `enrs` need its signed record, `enodes`
 * an IP address (a node that only dialled us may have none on record).
 */
export function usableIn(format: NodeSetFormat): (item: NodeSetItem) => boolean {
  if (format === 'nodes.json' || format === 'enrs') return (i) => i.record.enr !== undefined && i.record.seq !== undefined
  if (format === 'enodes') return (i) => i.record.ip !== ''
  return () => true
}

/** a node as its enode URL; its node ID is known, so no hash is computed again */
function enodeOf(i: NodeSetItem): string {
  const r = i.record
  return formatEnode(new Node(fromHex(r.id), r.ip, r.udp, r.tcp, fromHex(i.nodeId)))
}

const lines = (xs: string[]): string => xs.map((x) => x + '\n').join('')

/** what the `json` format writes per node: the record and its bookkeeping (times in ISO 8601) */
function jsonNode(i: NodeSetItem): Record<string, unknown> {
  const iso = (t: number | undefined): string | undefined => (t === undefined ? undefined : new Date(t).toISOString())
  return { ...i.record, nodeId: i.nodeId, score: i.score, firstResponse: iso(i.firstResponse), lastResponse: iso(i.lastResponse), lastCheck: iso(i.lastCheck) }
}

/**
 * `items` as `format` text (every line ends in a line break). `json` is one object: `meta`'s fields,
 * then `matched` (before any limit) and `nodes`.
 */
export function formatNodeSet(items: NodeSetItem[], format: NodeSetFormat, meta: Record<string, unknown> = {}, matched = items.length): string {
  switch (format) {
    case 'nodes.json': {
      const byId = new Map(items.map((i) => [i.record.id, i]))
      return formatNodesJson(nodeSet(items.map((i) => i.record), (id) => byId.get(id)))
    }
    case 'enodes':
      return lines(items.map(enodeOf))
    case 'enrs':
      return lines(items.flatMap((i) => (i.record.enr !== undefined ? [i.record.enr] : [])))
    case 'jsonl':
      return lines(items.map((i) => JSON.stringify(i.record)))
    case 'csv':
      return lines([csvHeader(), ...items.map((i) => csvLine(i.record))])
    case 'json':
      return JSON.stringify({ ...meta, matched, nodes: items.map(jsonNode) }) + '\n'
  }
}
