/**
 * `static-nodes.json` / `trusted-nodes.json` (geth's format): a JSON array of enode URL strings.
 *
 * Behaviour follows geth's node/config.go parsePersistentNodes:
 * - a missing file means no nodes;
 * - plain JSON, no comments (geth's loader is a strict JSON decoder);
 * - empty strings are skipped silently (geth does so, which lets a list end in "" for easy editing);
 * - an entry that is not a valid enode URL is skipped and reported through `onWarning`, because geth
 *   logs such an entry and keeps the others — one bad line should not cost every other peer.
 * Where geth only logs and carries on with no nodes (unreadable file, invalid JSON, not an array of
 * strings) we throw NodesFileError instead: the user named the file, so silently ignoring all of it hides
 * the mistake. Files over 1 MiB are refused before they are read (a list of thousands of URLs is ~200 KiB).
 */
import { readFileSync, statSync } from 'node:fs'
import type { Node } from '../enode/node.js'
import { parseEnode } from '../enode/url.js'

/** a nodes file larger than this is refused unread (bytes) */
export const MAX_NODES_FILE_SIZE = 1 << 20

/** A nodes file that cannot be read or is not a JSON array of enode URLs. */
export class NodesFileError extends Error {
  override readonly name = 'NodesFileError'
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file}: ${reason}`)
  }
}

/** An entry skipped because it is not a valid enode URL. */
export interface NodesFileWarning {
  file: string
  /** position in the array */
  index: number
  entry: string
  error: Error
}

/** How {@link readNodesFile} reports what it skips. */
export interface ReadNodesOptions {
  /** told about each skipped entry; entries are skipped whether or not it is given */
  onWarning?: (w: NodesFileWarning) => void
}

/** Read a nodes file; a missing file gives []. Throws NodesFileError for everything else that is wrong. */
export function readNodesFile(file: string, opts: ReadNodesOptions = {}): Node[] {
  let text: string
  try {
    const st = statSync(file)
    if (!st.isFile()) throw new NodesFileError(file, 'not a regular file')
    if (st.size > MAX_NODES_FILE_SIZE) throw new NodesFileError(file, `${st.size} bytes exceeds the ${MAX_NODES_FILE_SIZE}-byte limit`)
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if (err instanceof NodesFileError) throw err
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw new NodesFileError(file, `cannot read: ${(err as Error).message}`)
  }
  // the file may have grown between stat and read
  if (Buffer.byteLength(text) > MAX_NODES_FILE_SIZE) throw new NodesFileError(file, `exceeds the ${MAX_NODES_FILE_SIZE}-byte limit`)
  return parseNodesList(text, file, opts)
}

/** Parse the text of a nodes file; `file` names it in errors and warnings. */
export function parseNodesList(text: string, file: string, opts: ReadNodesOptions = {}): Node[] {
  let list: unknown
  try {
    list = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text) // editors on Windows add a BOM
  } catch (err) {
    throw new NodesFileError(file, `invalid JSON: ${describeSyntaxError(text, err as Error)}`)
  }
  if (!Array.isArray(list)) throw new NodesFileError(file, 'expected a JSON array of enode URLs')
  const nodes: Node[] = []
  list.forEach((entry: unknown, index) => {
    if (typeof entry !== 'string') throw new NodesFileError(file, `entry ${index} is ${entry === null ? 'null' : typeof entry}, not an enode URL string`)
    if (entry === '') return
    try {
      nodes.push(parseEnode(entry))
    } catch (err) {
      opts.onWarning?.({ file, index, entry, error: err as Error })
    }
  })
  return nodes
}

/** V8's message plus the line and column, which V8 gives only as an offset (if at all) */
function describeSyntaxError(text: string, err: Error): string {
  const m = /position (\d+)/.exec(err.message)
  if (!m) return err.message
  const before = text.slice(0, Number(m[1]))
  const line = before.split('\n').length
  const col = before.length - before.lastIndexOf('\n')
  return `${err.message} (line ${line}, column ${col})`
}
