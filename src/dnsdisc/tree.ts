/**
 * EIP-1459 tree codec: `enrtree://` links, the signed root, branch / record / link entries, the hash
 * names entries live under, and a tree builder. Pure functions over strings and bytes, no DNS.
 *
 * Entry names are base32(keccak256(text)) cut to 16 bytes; a client accepts any cut of 12–32 bytes and
 * checks that it prefixes the hash of the text it got back, so a resolver cannot substitute content.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { backend as defaultBackend } from '../crypto/backend.js'
import { bytesEqual } from '../crypto/bytes.js'
import type { CryptoBackend } from '../crypto/types.js'
import { compressPubkey, ENR, ENRError } from '../enode/enr.js'
import { base32Decode, base32Encode } from './base32.js'
import { DnsDiscError } from './errors.js'

/** EIP-1459 entry prefixes */
export const ROOT_PREFIX = 'enrtree-root:v1'
/** link entries, and the URL form of a tree reference */
export const LINK_PREFIX = 'enrtree://'
/** branch entries: comma-separated child hashes */
export const BRANCH_PREFIX = 'enrtree-branch:'
/** leaf entries holding a node record */
export const ENR_PREFIX = 'enr:'

/**
 * Largest branch TXT the builder writes. A whole answer must stay under the 512-byte UDP limit; after
 * the DNS header, the question (a hash name plus the domain) and the answer's fixed fields, about 400
 * bytes remain, and geth keeps a margin below that for longer domains.
 */
export const MAX_BRANCH_TXT = 370
/** bytes of keccak256 kept in the names this builder writes */
const HASH_BYTES = 16
const MIN_HASH_BYTES = 12
const MAX_HASH_BYTES = 32
/** base32 of 16 bytes is 26 characters, plus a comma: 13 children fit in a branch */
const MAX_CHILDREN = Math.floor(MAX_BRANCH_TXT / (Math.ceil((HASH_BYTES * 8) / 5) + 1))
const SECP256K1_N_HALF = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n

const utf8 = new TextEncoder()

/** A parsed `enrtree://<key>@<domain>` reference to a tree. */
export interface TreeLink {
  /** the URL text, as given */
  readonly url: string
  readonly domain: string
  /** 64-byte uncompressed public key that signs the tree's root */
  readonly pubkey: Uint8Array
  /** the same key in 33-byte compressed form, as the URL carries it */
  readonly compressed: Uint8Array
}

/** A tree's signed root: where its two subtrees start and its sequence number. */
export interface RootEntry {
  /** hash of the subtree holding node records */
  readonly eroot: string
  /** hash of the subtree holding links to other trees */
  readonly lroot: string
  readonly seq: number
  /** 65 bytes: r ‖ s ‖ recovery id */
  readonly sig: Uint8Array
  /** the text that was signed: the entry up to, not including, " sig=" */
  readonly signedText: string
}

/** A parsed non-root entry. */
export type TreeEntry =
  | { readonly type: 'branch'; readonly children: readonly string[] }
  | { readonly type: 'enr'; readonly record: ENR }
  | { readonly type: 'link'; readonly link: TreeLink }

/** DNS names of at most 253 characters in labels of 1–63 letters, digits, '-' or '_'. */
export function isDnsName(d: string): boolean {
  if (d.length === 0 || d.length > 253) return false
  return d.split('.').every((l) => l.length > 0 && l.length <= 63 && /^[A-Za-z0-9_-]+$/.test(l))
}

/** The 64-byte key of a compressed secp256k1 point, or undefined when it is not on the curve. */
function decompress(key: Uint8Array): Uint8Array | undefined {
  if (key.length !== 33 || (key[0] !== 2 && key[0] !== 3)) return undefined
  try {
    return secp256k1.Point.fromBytes(key).toBytes(false).subarray(1)
  } catch {
    return undefined
  }
}

/** Parse an `enrtree://<key>@<domain>` URL; a bad key or domain is a BAD_URL DnsDiscError. */
export function parseLink(url: string): TreeLink {
  if (!url.startsWith(LINK_PREFIX)) throw new DnsDiscError('BAD_URL', `"${url.slice(0, 40)}" does not start with ${LINK_PREFIX}`)
  const rest = url.slice(LINK_PREFIX.length)
  const at = rest.indexOf('@')
  if (at < 0) throw new DnsDiscError('BAD_URL', 'tree URL has no public key before "@"')
  const compressed = base32Decode(rest.slice(0, at))
  const pubkey = compressed && decompress(compressed)
  if (!compressed || !pubkey) throw new DnsDiscError('BAD_URL', 'tree URL key is not a base32 compressed secp256k1 key')
  const domain = rest.slice(at + 1)
  if (!isDnsName(domain)) throw new DnsDiscError('BAD_URL', `tree URL domain "${domain.slice(0, 60)}" is not a DNS name`)
  return { url, domain, pubkey, compressed }
}

/** `enrtree://` URL of the tree at `domain` signed by the 64-byte `pubkey`. */
export function formatLink(pubkey: Uint8Array, domain: string): string {
  if (!isDnsName(domain)) throw new DnsDiscError('BAD_URL', `"${domain.slice(0, 60)}" is not a DNS name`)
  return `${LINK_PREFIX}${base32Encode(compressPubkey(pubkey))}@${domain}`
}

/** Whether `s` names an entry: base32 of 12 to 32 bytes. */
export function isValidHash(s: string): boolean {
  const b = base32Decode(s)
  return b !== undefined && b.length >= MIN_HASH_BYTES && b.length <= MAX_HASH_BYTES
}

/** The name an entry with this text is published under (without the domain). */
export function entryHash(text: string, b: CryptoBackend = defaultBackend): string {
  return base32Encode(b.keccak256(utf8.encode(text)).subarray(0, HASH_BYTES))
}

/** Whether `text` is the content for `hash`: the decoded name prefixes keccak256(text). */
export function hashMatches(hash: string, text: string, b: CryptoBackend = defaultBackend): boolean {
  const want = base32Decode(hash)
  if (!want || want.length < MIN_HASH_BYTES || want.length > MAX_HASH_BYTES) return false
  return bytesEqual(b.keccak256(utf8.encode(text)).subarray(0, want.length), want)
}

const ROOT_RE = /^enrtree-root:v1 e=([A-Z2-7]+) l=([A-Z2-7]+) seq=(\d+) sig=([A-Za-z0-9_-]+)=?$/

/** Parse a root entry's text (the signature is checked by {@link verifyRoot}). */
export function parseRoot(text: string): RootEntry {
  const m = ROOT_RE.exec(text)
  if (!m) throw new DnsDiscError('BAD_ROOT', `root entry is not "${ROOT_PREFIX} e=… l=… seq=… sig=…"`)
  const [, eroot, lroot, seqText, sigText] = m as unknown as [string, string, string, string, string]
  if (!isValidHash(eroot) || !isValidHash(lroot)) throw new DnsDiscError('BAD_ROOT', 'root entry has an invalid subtree hash')
  const seq = Number(seqText)
  if (!Number.isSafeInteger(seq)) throw new DnsDiscError('BAD_ROOT', `root sequence number ${seqText.slice(0, 30)} is too large`)
  const sig = new Uint8Array(Buffer.from(sigText, 'base64url'))
  if (sig.length !== 65) throw new DnsDiscError('BAD_ROOT', `root signature of ${sig.length} bytes, expected 65`)
  return { eroot, lroot, seq, sig, signedText: text.slice(0, text.indexOf(' sig=')) }
}

/** A root entry's TXT text. */
export function formatRoot(r: RootEntry): string {
  return `${r.signedText} sig=${Buffer.from(r.sig).toString('base64url')}`
}

/**
 * Whether the root is signed by the link's key. The recovery byte is ignored (publishers write 0/1 or
 * 27/28; geth checks r ‖ s alone), so both recovery ids are tried; high-s copies are refused as geth does.
 */
export function verifyRoot(r: RootEntry, link: TreeLink, b: CryptoBackend = defaultBackend): boolean {
  const rs = r.sig.subarray(0, 64)
  let s = 0n
  for (const x of rs.subarray(32)) s = (s << 8n) | BigInt(x)
  if (s > SECP256K1_N_HALF) return false
  const hash = b.keccak256(utf8.encode(r.signedText))
  for (const rec of [0, 1]) {
    try {
      if (bytesEqual(compressPubkey(b.recover(hash, rs, rec)), link.compressed)) return true
    } catch {
      // not recoverable with this id: try the other
    }
  }
  return false
}

/** The part of a root entry that its signature covers. */
function rootText(eroot: string, lroot: string, seq: number): string {
  if (!Number.isSafeInteger(seq) || seq < 0) throw new DnsDiscError('BAD_ROOT', `sequence number ${seq} is not a non-negative integer`)
  return `${ROOT_PREFIX} e=${eroot} l=${lroot} seq=${seq}`
}

/** Sign a root entry with the tree's key. */
export function signRoot(eroot: string, lroot: string, seq: number, priv: Uint8Array, b: CryptoBackend = defaultBackend): RootEntry {
  const signedText = rootText(eroot, lroot, seq)
  const { sig, recovery } = b.sign(b.keccak256(utf8.encode(signedText)), priv)
  const full = new Uint8Array(65)
  full.set(sig)
  full[64] = recovery
  return { eroot, lroot, seq, sig: full, signedText }
}

/** Whether a TXT string is a tree entry at all (other TXT records may share the name). */
export function isTreeEntry(text: string): boolean {
  return text.startsWith(BRANCH_PREFIX) || text.startsWith(ENR_PREFIX) || text.startsWith(LINK_PREFIX)
}

/** Parse a branch, record or link entry; node records are verified (throws BAD_SIGNATURE). */
export function parseEntry(text: string, b: CryptoBackend = defaultBackend): TreeEntry {
  if (text.startsWith(BRANCH_PREFIX)) {
    const body = text.slice(BRANCH_PREFIX.length)
    const children = body === '' ? [] : body.split(',')
    if (!children.every(isValidHash)) throw new DnsDiscError('BAD_ENTRY', 'branch entry has an invalid child hash')
    return { type: 'branch', children }
  }
  if (text.startsWith(LINK_PREFIX)) {
    try {
      return { type: 'link', link: parseLink(text) }
    } catch (e) {
      throw new DnsDiscError('BAD_ENTRY', `link entry: ${(e as Error).message}`)
    }
  }
  if (text.startsWith(ENR_PREFIX)) {
    try {
      return { type: 'enr', record: ENR.parseText(text, b) }
    } catch (e) {
      if (!(e instanceof ENRError)) throw e
      throw new DnsDiscError(e.code === 'BAD_SIGNATURE' ? 'BAD_SIGNATURE' : 'BAD_ENTRY', `node record: ${e.message}`)
    }
  }
  throw new DnsDiscError('BAD_ENTRY', `unknown entry type "${text.slice(0, 20)}"`)
}

/** A built tree: what to publish in DNS for it. */
export interface Tree {
  /** the `enrtree://` URL clients use */
  readonly url: string
  readonly root: RootEntry
  /** TXT content by fully qualified name: the root at `domain`, entries at `<hash>.<domain>` */
  readonly txt: Map<string, string>
}

/** A tree's entries before its root is signed: what {@link buildTree} makes of records and links. */
export interface UnsignedTree {
  /** hash of the top entry of the node record subtree */
  readonly eroot: string
  /** hash of the top entry of the link subtree */
  readonly lroot: string
  /** entry text by hash, root excluded */
  readonly entries: ReadonlyMap<string, string>
  /** the records the tree holds: one per node (the highest seq), sorted by node ID */
  readonly records: readonly ENR[]
  /** the links, as given */
  readonly links: readonly string[]
}

/**
 * The entries of the tree of `records` and `links` (enrtree:// URLs). Records are sorted by node ID so
 * the same set always gives the same tree (a signature made once can be checked against a rebuild);
 * of two records for one node the higher seq wins. Branches hold at most 13 children so each branch
 * TXT stays within MAX_BRANCH_TXT bytes; a subtree of one leaf is the leaf itself, and an empty one is
 * an empty branch.
 */
export function buildTree(records: readonly ENR[], links: readonly string[], b: CryptoBackend = defaultBackend): UnsignedTree {
  const byId = new Map<string, ENR>()
  for (const r of records) {
    const key = Buffer.from(r.nodeId).toString('hex')
    const have = byId.get(key)
    if (!have || r.seq > have.seq) byId.set(key, r)
  }
  const sorted = [...byId.entries()].sort(([a], [c]) => (a < c ? -1 : a > c ? 1 : 0)).map(([, r]) => r)
  const linkTexts = links.map((l) => parseLink(l).url)

  const entries = new Map<string, string>()
  const add = (text: string): string => {
    const h = entryHash(text, b)
    entries.set(h, text)
    return h
  }
  // the text of a subtree's top entry; every entry below it is added on the way
  const build = (texts: readonly string[]): string => {
    if (texts.length === 1) return texts[0]!
    if (texts.length <= MAX_CHILDREN) return BRANCH_PREFIX + texts.map(add).join(',')
    const subtrees: string[] = []
    for (let i = 0; i < texts.length; i += MAX_CHILDREN) subtrees.push(build(texts.slice(i, i + MAX_CHILDREN)))
    return build(subtrees)
  }
  const eroot = add(build(sorted.map((r) => r.toText())))
  const lroot = add(build(linkTexts))
  return { eroot, lroot, entries, records: sorted, links: linkTexts }
}

/**
 * The root of `tree` at `seq` with a signature made before (as enrtree-info.json keeps it: base64url
 * of 65 bytes), or undefined when that signature is not the key's in `url` over this very root, which
 * is how a tree that changed since it was signed shows.
 */
export function rootWithSignature(tree: UnsignedTree, seq: number, sig: string, url: string, b: CryptoBackend = defaultBackend): RootEntry | undefined {
  const bytes = /^[A-Za-z0-9_-]+=?$/.test(sig) ? new Uint8Array(Buffer.from(sig, 'base64url')) : undefined
  if (bytes?.length !== 65) return undefined
  const root: RootEntry = { eroot: tree.eroot, lroot: tree.lroot, seq, sig: bytes, signedText: rootText(tree.eroot, tree.lroot, seq) }
  return verifyRoot(root, parseLink(url), b) ? root : undefined
}

/** The TXT records of `tree` under `root` at `domain`: the root at the bare domain, entries at `<hash>.<domain>`. */
export function treeTxt(tree: UnsignedTree, root: RootEntry, domain: string): Map<string, string> {
  const txt = new Map<string, string>([[domain, formatRoot(root)]])
  for (const [h, text] of tree.entries) txt.set(`${h}.${domain}`, text)
  return txt
}

/** Build and sign the tree of `records` and `links` (enrtree:// URLs) at `domain` (`buildTree`, then the root signed). */
export function makeTree(records: readonly ENR[], links: readonly string[], seq: number, priv: Uint8Array, domain: string, b: CryptoBackend = defaultBackend): Tree {
  if (!isDnsName(domain)) throw new DnsDiscError('BAD_URL', `"${domain.slice(0, 60)}" is not a DNS name`)
  const tree = buildTree(records, links, b)
  const root = signRoot(tree.eroot, tree.lroot, seq, priv, b)
  return { url: formatLink(b.publicKey(priv), domain), root, txt: treeTxt(tree, root, domain) }
}
