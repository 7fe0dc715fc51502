/**
 * `ethp2p dns sign | to-txt | to-zonefile`: EIP-1459 node lists from a tree definition directory in
 * geth's layout (DIR/nodes.json and DIR/enrtree-info.json). Only the files live here; the signing and
 * checking are src/dnsdisc/definition.ts's, the formats src/dnsdisc/zone.ts's.
 *
 * A DIR that is not a directory or holds no nodes.json is a bad argument (exit 2), like a missing
 * --domain on a first signing; a nodes.json or enrtree-info.json that cannot be used is a failure (1).
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { InvalidArgumentError } from 'commander'
import { readNodeKey } from '../config/nodekey.js'
import { readNodesJson } from '../config/nodesjson.js'
import type { ENR } from '../enode/enr.js'
import { exportDefinition, formatTreeInfo, MAX_TREE_DOMAIN, parseTreeInfo, signDefinition, type ExportedTree, type TreeInfo } from '../dnsdisc/definition.js'
import { isDnsName, parseLink } from '../dnsdisc/tree.js'
import { formatTxtJson, formatZone } from '../dnsdisc/zone.js'

/** `dns sign`'s options. */
export interface DnsSignOptions {
  domain?: string
  seq?: number
  link?: string[]
}

const NODES = 'nodes.json'
const INFO = 'enrtree-info.json'
/** enrtree-info.json is a few links and a signature: anything bigger is not one */
const MAX_INFO_SIZE = 1 << 20

/** commander parser: the tree's domain */
export function domainArg(v: string): string {
  if (!isDnsName(v)) throw new InvalidArgumentError('must be a DNS name (labels of letters, digits, - or _)')
  if (v.length > MAX_TREE_DOMAIN) throw new InvalidArgumentError(`at most ${MAX_TREE_DOMAIN} characters, so that entry names under it stay DNS names`)
  return v
}

/** commander parser: a tree seq, a non-negative integer */
export function seqArg(v: string): number {
  if (!/^\d{1,15}$/.test(v)) throw new InvalidArgumentError('must be a non-negative integer')
  return Number(v)
}

/** commander parser: `--link`, repeatable, each comma-separated enrtree:// URLs */
export function linkArg(v: string, prev: string[] = []): string[] {
  const urls = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  for (const u of urls) {
    try {
      parseLink(u)
    } catch (err) {
      throw new InvalidArgumentError(`${u.slice(0, 60)}: ${(err as Error).message}`)
    }
  }
  return [...prev, ...urls]
}

/** DIR's nodes.json records and its enrtree-info.json (undefined when it has none). */
function readDefinition(dir: string): { records: ENR[]; info: TreeInfo | undefined } {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InvalidArgumentError(`${dir}: not a directory`)
  const nodesFile = join(dir, NODES)
  if (!existsSync(nodesFile)) throw new InvalidArgumentError(`${dir} has no ${NODES}`)
  const records = readNodesJson(nodesFile)
  const infoFile = join(dir, INFO)
  if (!existsSync(infoFile)) return { records, info: undefined }
  const size = statSync(infoFile).size
  if (size > MAX_INFO_SIZE) throw new Error(`${infoFile}: ${size} bytes is too big for a tree's info`)
  return { records, info: parseTreeInfo(readFileSync(infoFile, 'utf8'), infoFile) }
}

/** Replace `file` whole or not at all: a kill mid-write leaves the old content. */
function writeFileAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`
  try {
    const fd = openSync(tmp, 'w', 0o644)
    try {
      writeSync(fd, text)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, file)
  } finally {
    if (existsSync(tmp)) unlinkSync(tmp)
  }
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`
}

/** `ethp2p dns sign DIR KEYFILE`: sign the tree, write DIR/enrtree-info.json, print its URL first. */
export function runDnsSign(dir: string, keyFile: string, opts: DnsSignOptions): void {
  const { records, info } = readDefinition(dir)
  if (opts.domain === undefined && info?.url === undefined) throw new InvalidArgumentError(`--domain is needed: ${dir} has no signed tree to take it from`)
  const key = readNodeKey(keyFile)
  const prevSeq = info?.seq ?? 0
  if (opts.seq !== undefined && info !== undefined && opts.seq < prevSeq) {
    console.error(`warning: seq ${opts.seq} is below the previous seq ${prevSeq}: clients that saw that one keep it`)
  }
  const out = signDefinition({
    records,
    key,
    now: new Date(),
    ...(info ? { previous: info } : {}),
    ...(opts.domain !== undefined ? { domain: opts.domain } : {}),
    ...(opts.seq !== undefined ? { seq: opts.seq } : {}),
    ...(opts.link !== undefined ? { links: opts.link } : {}),
  })
  if (out.changed) writeFileAtomic(join(dir, INFO), formatTreeInfo(out.info))
  console.log(out.url)
  const what = `${plural(out.tree.records.length, 'record')}, ${plural(out.tree.links.length, 'link')}, ${plural(out.tree.entries.size + 1, 'TXT record')}`
  console.error(out.changed ? `signed seq ${out.info.seq}: ${what}` : `unchanged since seq ${out.info.seq} was signed: ${what}`)
}

function exported(dir: string): ExportedTree {
  const { records, info } = readDefinition(dir)
  return exportDefinition(records, info ?? { seq: 0, signature: '', links: [] })
}

/** `ethp2p dns to-txt DIR [OUT]`: geth's TXT JSON of the signed tree, to OUT or stdout ("-" or none). */
export function runDnsToTxt(dir: string, out: string | undefined): void {
  const json = formatTxtJson(exported(dir).txt)
  if (out === undefined || out === '-') process.stdout.write(json)
  else writeFileAtomic(out, json)
}

/** `ethp2p dns to-zonefile DIR`: the signed tree's TXT records in master-file form, on stdout. */
export function runDnsToZonefile(dir: string): void {
  const t = exported(dir)
  const comments = [
    `EIP-1459 tree ${t.url}`,
    `seq ${t.seq}: ${plural(t.tree.records.length, 'node record')}, ${plural(t.tree.links.length, 'link')}`,
    `TXT records only: include them in the zone that holds ${t.domain} (it has the SOA and NS records)`,
  ]
  process.stdout.write(formatZone(t.txt, t.domain, comments))
}
