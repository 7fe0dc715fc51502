/**
 * geth's `nodes.json` node set (as `ethp2p crawl --nodes-json` and geth's `devp2p crawl` write it): a
 * JSON object keyed by 64-hex node ID, each value `{ seq, record, score?, firstResponse?, … }` with
 * `record` an `enr:` text. Reading checks every record's signature and that it belongs to its key, as
 * geth's loader does; one bad entry fails the file, because what is read here gets signed and published
 * and a silently dropped node would go missing from the list.
 */
import { readFileSync, statSync } from 'node:fs'
import { hex } from '../crypto/bytes.js'
import { ENR } from '../enode/enr.js'

/** a nodes.json larger than this is refused unread (bytes; a full mainnet crawl is ~10 MiB) */
export const MAX_NODES_JSON_SIZE = 64 << 20

/** A nodes.json that cannot be read or holds an entry that is not a valid record of its node. */
export class NodesJsonError extends Error {
  override readonly name = 'NodesJsonError'
}

/** Read and check a nodes.json file; throws NodesJsonError. */
export function readNodesJson(file: string): ENR[] {
  let text: string
  try {
    const st = statSync(file)
    if (!st.isFile()) throw new NodesJsonError(`${file}: not a regular file`)
    if (st.size > MAX_NODES_JSON_SIZE) throw new NodesJsonError(`${file}: ${st.size} bytes exceeds the ${MAX_NODES_JSON_SIZE}-byte limit`)
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if (err instanceof NodesJsonError) throw err
    throw new NodesJsonError(`${file}: cannot read: ${(err as Error).message}`)
  }
  return parseNodesJson(text, file)
}

/** Parse the text of a nodes.json; `file` names it in errors. */
export function parseNodesJson(text: string, file: string): ENR[] {
  if (text.length > MAX_NODES_JSON_SIZE) throw new NodesJsonError(`${file}: exceeds the ${MAX_NODES_JSON_SIZE}-byte limit`)
  let set: unknown
  try {
    set = JSON.parse(text)
  } catch (err) {
    throw new NodesJsonError(`${file}: invalid JSON: ${(err as Error).message}`)
  }
  if (typeof set !== 'object' || set === null || Array.isArray(set)) throw new NodesJsonError(`${file}: expected a JSON object of node ID → { seq, record }`)
  const out: ENR[] = []
  for (const [id, entry] of Object.entries(set)) {
    const where = `${file}: node ${id.slice(0, 16)}`
    const record = (entry as { record?: unknown } | null)?.record
    if (typeof record !== 'string') throw new NodesJsonError(`${where}: no "record" string`)
    let enr: ENR
    try {
      enr = ENR.parseText(record)
    } catch (err) {
      throw new NodesJsonError(`${where}: ${(err as Error).message}`)
    }
    if (hex(enr.nodeId) !== id.toLowerCase()) throw new NodesJsonError(`${where}: the record is node ${hex(enr.nodeId).slice(0, 16)}'s, not this ID's`)
    out.push(enr)
  }
  return out
}
