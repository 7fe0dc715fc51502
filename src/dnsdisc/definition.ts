/**
 * A tree definition, as geth's `devp2p dns` keeps one in a directory: nodes.json (the records) and
 * enrtree-info.json (the tree's URL, seq, root signature, links and when it was signed). This module
 * holds the enrtree-info.json codec and the two steps over a definition, with no file I/O:
 * - signing: build the tree of the records and links and sign its root, choosing the seq;
 * - exporting: rebuild the tree from the definition and check that the stored signature still covers
 *   it, so TXT records are never published for a tree the key's owner did not sign.
 */
import { backend as defaultBackend } from '../crypto/backend.js'
import type { CryptoBackend } from '../crypto/types.js'
import type { ENR } from '../enode/enr.js'
import { buildTree, formatLink, isDnsName, parseLink, rootWithSignature, signRoot, treeTxt, type UnsignedTree } from './tree.js'

/** longest DNS name, characters */
const MAX_NAME = 253
/** an entry's hash label and its dot */
const ENTRY_LABEL = 27
/** longest domain a tree can be published at: its entry names must stay DNS names */
export const MAX_TREE_DOMAIN = MAX_NAME - ENTRY_LABEL

/** enrtree-info.json: geth's field names and meaning. */
export interface TreeInfo {
  /** the `enrtree://` URL of the signed tree (absent before the first signing) */
  url?: string
  seq: number
  /** the root signature: base64url of 65 bytes, as in the root entry's `sig=` */
  signature: string
  /** `enrtree://` URLs of the trees this one links to */
  links: string[]
  /** when the tree was last signed (ISO 8601) */
  lastModified?: string
}

/** A definition that cannot be used: malformed enrtree-info.json, or a signature that no longer fits. */
export class TreeDefinitionError extends Error {
  override readonly name = 'TreeDefinitionError'
}

/** Parse enrtree-info.json's text; `file` names it in errors. */
export function parseTreeInfo(text: string, file: string): TreeInfo {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch (err) {
    throw new TreeDefinitionError(`${file}: invalid JSON: ${(err as Error).message}`)
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TreeDefinitionError(`${file}: expected a JSON object`)
  const o = v as Record<string, unknown>
  const bad = (field: string, want: string): TreeDefinitionError => new TreeDefinitionError(`${file}: "${field}" must be ${want}`)
  const seq = o['seq'] ?? 0
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) throw bad('seq', 'a non-negative integer')
  const signature = o['signature'] ?? ''
  if (typeof signature !== 'string') throw bad('signature', 'a string')
  const links = o['links'] ?? []
  if (!Array.isArray(links) || !links.every((l): l is string => typeof l === 'string')) throw bad('links', 'an array of enrtree:// URLs')
  for (const l of links) checkUrl(l, `${file}: link`)
  const info: TreeInfo = { seq, signature, links }
  if (o['url'] !== undefined && o['url'] !== '') {
    if (typeof o['url'] !== 'string') throw bad('url', 'an enrtree:// URL')
    checkUrl(o['url'], `${file}: url`)
    info.url = o['url']
  }
  if (typeof o['lastModified'] === 'string') info.lastModified = o['lastModified']
  return info
}

function checkUrl(url: string, where: string): void {
  try {
    parseLink(url)
  } catch (err) {
    throw new TreeDefinitionError(`${where}: ${(err as Error).message}`)
  }
}

/** enrtree-info.json's text: geth's field order and four-space indent; url and links only when present. */
export function formatTreeInfo(info: TreeInfo): string {
  const out: Record<string, unknown> = {}
  if (info.url !== undefined) out['url'] = info.url
  out['seq'] = info.seq
  out['signature'] = info.signature
  if (info.links.length > 0) out['links'] = info.links
  if (info.lastModified !== undefined) out['lastModified'] = info.lastModified
  return JSON.stringify(out, null, 4) + '\n'
}

/** What {@link signDefinition} needs. */
export interface SignRequest {
  records: readonly ENR[]
  /** the definition's enrtree-info.json, when it has one */
  previous?: TreeInfo
  /** the tree's private key */
  key: Uint8Array
  /** the tree's domain (default: the previous URL's) */
  domain?: string
  /** the seq to sign (default: see {@link signDefinition}) */
  seq?: number
  /** the links (default: the previous ones) */
  links?: readonly string[]
  now: Date
}

/** What signing gave. */
export interface SignOutcome {
  url: string
  info: TreeInfo
  tree: UnsignedTree
  /** false when the previous signature already covered this very tree and seq: nothing was re-signed */
  changed: boolean
}

/**
 * Sign a definition. The seq is the one asked for; without one it stays when the previous signature
 * already covers the same tree at the same URL (signing again changes nothing), and is the previous
 * seq + 1 otherwise (1 for a first signing), as geth bumps it. A TreeDefinitionError when there is no
 * domain to sign for.
 */
export function signDefinition(req: SignRequest, b: CryptoBackend = defaultBackend): SignOutcome {
  const prev = req.previous
  const domain = req.domain ?? (prev?.url !== undefined ? parseLink(prev.url).domain : undefined)
  if (domain === undefined) throw new TreeDefinitionError('no domain: give one the first time a tree is signed')
  if (!isDnsName(domain)) throw new TreeDefinitionError(`"${domain.slice(0, 60)}" is not a DNS name`)
  // entries live at <26-character hash>.<domain>, and a name has at most 253 characters
  if (domain.length > MAX_TREE_DOMAIN) throw new TreeDefinitionError(`domain of ${domain.length} characters: entry names under it would pass ${MAX_NAME}`)
  const url = formatLink(b.publicKey(req.key), domain)
  const links = [...(req.links ?? prev?.links ?? [])]
  const tree = buildTree(req.records, links, b)
  const prevSeq = prev?.seq ?? 0
  if (req.seq === undefined && prev?.url === url && rootWithSignature(tree, prevSeq, prev.signature, url, b)) {
    return { url, info: { ...prev, links: [...tree.links] }, tree, changed: false }
  }
  const seq = req.seq ?? (prev ? prevSeq + 1 : 1)
  const root = signRoot(tree.eroot, tree.lroot, seq, req.key, b)
  const info: TreeInfo = { url, seq, signature: Buffer.from(root.sig).toString('base64url'), links: [...tree.links], lastModified: req.now.toISOString() }
  return { url, info, tree, changed: true }
}

/** A signed tree, ready to publish. */
export interface ExportedTree {
  url: string
  domain: string
  seq: number
  tree: UnsignedTree
  /** TXT content by fully qualified name, the root at the bare domain */
  txt: Map<string, string>
}

/**
 * Rebuild the tree of `records` and `info`'s links and check `info`'s signature over it; a
 * TreeDefinitionError when the definition was never signed or has changed since.
 */
export function exportDefinition(records: readonly ENR[], info: TreeInfo, b: CryptoBackend = defaultBackend): ExportedTree {
  if (info.url === undefined || info.signature === '') throw new TreeDefinitionError('the tree is not signed: run `ethp2p dns sign` first')
  const tree = buildTree(records, info.links, b)
  const root = rootWithSignature(tree, info.seq, info.signature, info.url, b)
  if (!root) throw new TreeDefinitionError('the signature does not cover this tree (nodes.json or the links changed since signing): run `ethp2p dns sign` again')
  const { domain } = parseLink(info.url)
  return { url: info.url, domain, seq: info.seq, tree, txt: treeTxt(tree, root, domain) }
}
