/**
 * The dashboard's `GET /api/nodeset`: a stored crawl's node set with `ethp2p nodeset filter`'s filters
 * and formats (one implementation, src/nodeset). Parameters: the filters by their CLI names
 * (`network`, `client`, `min-version`, `synced=1`, …), `format` (json by default; nodes.json, enodes,
 * enrs, jsonl, csv), `crawl=N` or the latest complete crawl of `vantage`. The latest node set is
 * cached per crawl (its scores replay the vantage point's history), so a page or script polling it
 * costs one query per new crawl.
 */
import type { History } from '../history/db.js'
import { chooseCrawl, crawlNodeSet } from '../history/nodeset.js'
import type { CrawlPoint } from '../history/query.js'
import { FILTER_PARAMS, NodeSetError, parseNodeFilter, selectNodes, type NodeSource } from '../nodeset/filter.js'
import { FORMAT_TYPES, formatNodeSet, isNodeSetFormat, NODESET_FORMATS, usableIn } from '../nodeset/format.js'

/** An answer: status, media type, body. */
export interface NodesetResponse {
  status: number
  type: string
  body: string
}

/** the parameters besides the filters */
const OTHER_PARAMS = ['format', 'crawl', 'vantage']

const refuse = (status: number, error: string): NodesetResponse => ({ status, type: FORMAT_TYPES.json, body: JSON.stringify({ error }) })

/** The `/api/nodeset` handler over `h`; bad parameters are answered 400, a crawl that is not there 404. */
export function nodesetHandler(h: History): (params: URLSearchParams) => Promise<NodesetResponse> {
  let cached: { crawl: CrawlPoint; source: NodeSource } | undefined
  return async (p) => {
    const unknown = [...p.keys()].find((k) => !(FILTER_PARAMS as readonly string[]).includes(k) && !OTHER_PARAMS.includes(k))
    if (unknown !== undefined) return refuse(400, `${unknown.slice(0, 64)}: not a parameter (${[...FILTER_PARAMS, ...OTHER_PARAMS].join(', ')})`)
    const format = p.get('format') ?? 'json'
    if (!isNodeSetFormat(format)) return refuse(400, `format: one of ${NODESET_FORMATS.join(', ')}`)
    const crawlParam = p.get('crawl')
    if (crawlParam !== null && !/^[1-9]\d{0,14}$/.test(crawlParam)) return refuse(400, 'crawl: a crawl id')
    try {
      const filter = parseNodeFilter((name) => p.get(name) ?? undefined)
      const vantage = p.get('vantage')
      const crawl = await chooseCrawl(h, { ...(crawlParam !== null ? { crawl: Number(crawlParam) } : {}), ...(vantage ? { vantage: vantage.slice(0, 128) } : {}) })
      if (cached?.crawl.id !== crawl.id) cached = { crawl, source: await crawlNodeSet(h, crawl) }
      const { items, matched } = selectNodes(cached.source, filter, usableIn(format))
      return { status: 200, type: FORMAT_TYPES[format], body: formatNodeSet(items, format, { crawl }, matched) }
    } catch (err) {
      if (err instanceof NodeSetError) return refuse(err.code === 'NO_CRAWL' ? 404 : 400, err.message)
      throw err
    }
  }
}
