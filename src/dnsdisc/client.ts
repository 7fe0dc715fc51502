/**
 * EIP-1459 client: resolves the signed root of an `enrtree://` tree over DNS, then walks its record and
 * link subtrees with a bounded number of queries in flight, checking every entry against the hash name
 * it was fetched under. A broken entry (missing, tampered, unverifiable record) is recorded and skipped so
 * one bad leaf does not cost the rest of the tree; only a root that cannot be trusted fails the tree.
 */
import { Resolver } from 'node:dns/promises'
import { backend } from '../crypto/backend.js'
import type { ENR } from '../enode/enr.js'
import type { Node } from '../enode/node.js'
import { DnsDiscError } from './errors.js'
import { ENR_PREFIX, hashMatches, isTreeEntry, parseEntry, parseLink, parseRoot, ROOT_PREFIX, verifyRoot, type TreeEntry, type TreeLink } from './tree.js'

/** Where a {@link DnsClient} sends queries and how far a walk may go. */
export interface DnsClientOptions {
  /** DNS servers as "ip", "ip:port" or "[ipv6]:port" (default: the system's) */
  servers?: string[]
  /** per query attempt, in ms (default 5000) */
  timeoutMs?: number
  /** attempts per query before TIMEOUT (default 2: UDP may lose a datagram) */
  tries?: number
  /** entries fetched per tree, root excluded (default 10000) */
  maxEntries?: number
  /** branch levels below a subtree root (default 16; 13 children a level covers any real tree) */
  maxDepth?: number
  /** trees `nodes()` visits, the given ones and those reached over links (default 16) */
  maxTrees?: number
  /** DNS queries in flight per tree (default 8) */
  concurrency?: number
  /** parsed entries kept by hash, shared by all walks of this client (default 10000) */
  cacheSize?: number
  signal?: AbortSignal
  /** told of every error the client recovers from: bad entries, and in `nodes()` whole trees */
  onError?: (err: DnsDiscError) => void
}

/** What walking one tree found. */
export interface TreeResult {
  url: string
  seq: number
  /** verified node records, in walk order */
  records: ENR[]
  /** `enrtree://` URLs of the trees this one links to */
  links: string[]
  /** entries that were skipped, and why */
  errors: DnsDiscError[]
  /** node record entries among those skipped (bad signature, bad encoding, hash mismatch) */
  skippedRecords: number
  /** a bound (maxEntries, maxDepth) stopped the walk before the whole tree was seen */
  truncated: boolean
}

type Subtree = 'enr' | 'link'
interface Pending {
  hash: string
  subtree: Subtree
  depth: number
}

const DEFAULTS = { timeoutMs: 5000, tries: 2, maxEntries: 10_000, maxDepth: 16, maxTrees: 16, concurrency: 8, cacheSize: 10_000 }

function positiveInt(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`)
  return v
}

/**
 * An EIP-1459 client: walks and verifies node-list trees published in DNS TXT records, as geth's
 * p2p/dnsdisc does, within the bounds of its options.
 */
export class DnsClient {
  private readonly opts: typeof DEFAULTS
  private readonly servers: string[] | undefined
  private readonly signal: AbortSignal | undefined
  private readonly onError: ((err: DnsDiscError) => void) | undefined
  /** entries by hash; entries are content-addressed, so one cache serves every domain */
  private readonly cache = new Map<string, TreeEntry>()
  /** highest root seq seen per tree, so a resolver cannot roll a tree back */
  private readonly seqs = new Map<string, number>()

  constructor(options: DnsClientOptions = {}) {
    const o = { ...DEFAULTS }
    for (const k of Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]) {
      const v = options[k]
      if (v !== undefined) o[k] = positiveInt(k, v)
    }
    this.opts = o
    this.servers = options.servers
    // setServers throws on a malformed address: surface that here rather than at the first walk
    this.resolver()
    this.signal = options.signal
    this.onError = options.onError
  }

  /** Resolve and walk the whole tree at `url` (links are listed, not followed). */
  async resolveTree(url: string): Promise<TreeResult> {
    const link = parseLink(url)
    return this.walk(link, this.signal ?? new AbortController().signal)
  }

  /**
   * Nodes with a usable address from the trees at `urls` and the trees they link to (at most maxTrees),
   * each node once, yielded as the walk finds them. A tree whose root fails is reported to onError and
   * skipped; an abort of the client's signal ends the iteration with the signal's reason.
   */
  async *nodes(urls: readonly string[]): AsyncGenerator<Node, void, undefined> {
    const start = urls.map((u) => parseLink(u))
    // stops the walk when the consumer leaves the loop early, as well as on the client's signal
    const ctl = new AbortController()
    const onAbort = (): void => ctl.abort(this.signal!.reason)
    if (this.signal?.aborted) onAbort()
    this.signal?.addEventListener('abort', onAbort, { once: true })

    const found: Node[] = []
    let wake: (() => void) | undefined
    let finished = false
    let failure: unknown
    const seenNodes = new Set<string>()
    const onRecord = (r: ENR): void => {
      const n = r.toNode()
      if (!n || seenNodes.has(n.idHex)) return
      seenNodes.add(n.idHex)
      found.push(n)
      wake?.()
    }
    const run = async (): Promise<void> => {
      const seenTrees = new Set<string>()
      const trees: TreeLink[] = []
      const enqueue = (l: TreeLink): void => {
        const key = treeKey(l)
        if (seenTrees.has(key)) return
        if (seenTrees.size >= this.opts.maxTrees) {
          this.report(new DnsDiscError('LIMIT', `not following the link to ${l.url}: ${this.opts.maxTrees} trees visited`, l.domain))
          return
        }
        seenTrees.add(key)
        trees.push(l)
      }
      start.forEach(enqueue)
      for (let i = 0; i < trees.length; i++) {
        let res: TreeResult
        try {
          res = await this.walk(trees[i]!, ctl.signal, onRecord)
        } catch (e) {
          if (e instanceof DnsDiscError && !ctl.signal.aborted) {
            this.report(e)
            continue
          }
          throw e
        }
        for (const u of res.links) enqueue(parseLink(u))
      }
    }
    run().then(
      () => {
        finished = true
        wake?.()
      },
      (e: unknown) => {
        failure = e
        finished = true
        wake?.()
      },
    )
    try {
      for (;;) {
        const n = found.shift()
        if (n) {
          yield n
          continue
        }
        if (finished) break
        await new Promise<void>((r) => (wake = r))
        wake = undefined
      }
      if (failure !== undefined) throw failure
    } finally {
      this.signal?.removeEventListener('abort', onAbort)
      if (!finished) ctl.abort()
    }
  }

  private report(err: DnsDiscError): void {
    this.onError?.(err)
  }

  private resolver(): Resolver {
    const r = new Resolver({ timeout: this.opts.timeoutMs, tries: this.opts.tries })
    if (this.servers) r.setServers(this.servers)
    return r
  }

  /** TXT strings at `name`, each record's character-strings joined (long records arrive in ≤255-byte pieces). */
  private async txt(resolver: Resolver, name: string, signal: AbortSignal): Promise<string[]> {
    try {
      const recs = await resolver.resolveTxt(name)
      return recs.map((chunks) => chunks.join(''))
    } catch (e) {
      signal.throwIfAborted()
      const code = (e as NodeJS.ErrnoException).code
      if (code === 'ENOTFOUND' || code === 'ENODATA') throw new DnsDiscError('NOT_FOUND', 'no such name or no TXT record', name)
      if (code === 'ETIMEOUT') throw new DnsDiscError('TIMEOUT', `no answer after ${this.opts.tries} × ${this.opts.timeoutMs} ms`, name)
      throw new DnsDiscError('DNS_ERROR', `query failed: ${code ?? (e as Error).message}`, name)
    }
  }

  private async walk(link: TreeLink, signal: AbortSignal, onRecord?: (r: ENR) => void): Promise<TreeResult> {
    signal.throwIfAborted()
    const resolver = this.resolver()
    // cancel() fails every query in flight on this resolver, which ends the walk promptly
    const onAbort = (): void => resolver.cancel()
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      return await this.walkWith(resolver, link, signal, onRecord)
    } finally {
      signal.removeEventListener('abort', onAbort)
    }
  }

  private async walkWith(resolver: Resolver, link: TreeLink, signal: AbortSignal, onRecord?: (r: ENR) => void): Promise<TreeResult> {
    const texts = await this.txt(resolver, link.domain, signal)
    const rootText = texts.find((t) => t.startsWith(ROOT_PREFIX))
    if (rootText === undefined) throw new DnsDiscError('NOT_FOUND', 'no enrtree-root TXT record', link.domain)
    let root
    try {
      root = parseRoot(rootText)
    } catch (e) {
      throw new DnsDiscError((e as DnsDiscError).code, (e as Error).message, link.domain)
    }
    if (!verifyRoot(root, link, backend)) throw new DnsDiscError('BAD_SIGNATURE', 'root is not signed by the key in the tree URL', link.domain)
    const key = treeKey(link)
    const lastSeq = this.seqs.get(key)
    if (lastSeq !== undefined && root.seq < lastSeq) throw new DnsDiscError('BAD_ROOT', `root seq ${root.seq} is older than seq ${lastSeq} seen before`, link.domain)
    this.seqs.set(key, root.seq)

    const result: TreeResult = { url: link.url, seq: root.seq, records: [], links: [], errors: [], skippedRecords: 0, truncated: false }
    const fail = (err: DnsDiscError): void => {
      result.errors.push(err)
      this.report(err)
    }
    const visited = new Set<string>()
    const queue: Pending[] = []
    const push = (p: Pending): void => {
      if (visited.has(p.hash)) return
      if (p.depth > this.opts.maxDepth || visited.size >= this.opts.maxEntries) {
        if (!result.truncated) {
          const what = p.depth > this.opts.maxDepth ? `depth ${this.opts.maxDepth}` : `${this.opts.maxEntries} entries`
          fail(new DnsDiscError('LIMIT', `walk stopped at ${what}`, link.domain))
        }
        result.truncated = true
        return
      }
      visited.add(p.hash)
      queue.push(p)
    }

    const visit = async (p: Pending): Promise<void> => {
      const name = `${p.hash}.${link.domain}`
      let entry = this.cache.get(p.hash)
      if (entry) {
        // refresh its place in the LRU order
        this.cache.delete(p.hash)
        this.cache.set(p.hash, entry)
      } else {
        let text: string | undefined
        try {
          text = (await this.txt(resolver, name, signal)).find(isTreeEntry)
          if (text === undefined) throw new DnsDiscError('NOT_FOUND', 'no tree entry among the TXT records', name)
          if (!hashMatches(p.hash, text, backend)) throw new DnsDiscError('HASH_MISMATCH', 'entry content does not match its hash name', name)
          entry = parseEntry(text, backend)
        } catch (e) {
          if (!(e instanceof DnsDiscError) || signal.aborted) throw e
          if (text?.startsWith(ENR_PREFIX)) result.skippedRecords++
          fail(e.domain === undefined ? new DnsDiscError(e.code, e.message, name) : e)
          return
        }
        this.remember(p.hash, entry)
      }
      switch (entry.type) {
        case 'branch':
          for (const h of entry.children) push({ hash: h, subtree: p.subtree, depth: p.depth + 1 })
          return
        case 'enr':
          if (p.subtree !== 'enr') return fail(new DnsDiscError('BAD_ENTRY', 'node record in the link subtree', name))
          result.records.push(entry.record)
          onRecord?.(entry.record)
          return
        case 'link':
          if (p.subtree !== 'link') return fail(new DnsDiscError('BAD_ENTRY', 'link in the node record subtree', name))
          result.links.push(entry.link.url)
          return
      }
    }

    push({ hash: root.lroot, subtree: 'link', depth: 0 })
    push({ hash: root.eroot, subtree: 'enr', depth: 0 })
    await new Promise<void>((resolve, reject) => {
      let active = 0
      let stopped = false
      const pump = (): void => {
        while (!stopped && active < this.opts.concurrency && queue.length > 0) {
          // random order, as EIP-1459 advises: clients sharing a list do not all start at its first leaf
          const i = Math.floor(Math.random() * queue.length)
          const p = queue[i]!
          queue[i] = queue[queue.length - 1]!
          queue.pop()
          active++
          visit(p).then(
            () => {
              active--
              pump()
            },
            (e: unknown) => {
              stopped = true
              reject(e)
            },
          )
        }
        if (!stopped && active === 0 && queue.length === 0) resolve()
      }
      pump()
    })
    return result
  }

  private remember(hash: string, entry: TreeEntry): void {
    if (this.cache.size >= this.opts.cacheSize) this.cache.delete(this.cache.keys().next().value!)
    this.cache.set(hash, entry)
  }
}

function treeKey(l: TreeLink): string {
  return `${Buffer.from(l.compressed).toString('hex')}@${l.domain.toLowerCase()}`
}
