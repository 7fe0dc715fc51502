/**
 * Ethereum Node Records (EIP-778) with the "v4" identity scheme: rlp([signature, seq, k, v, …]) with
 * keys sorted and unique, at most 300 bytes, signed (64-byte r‖s) over keccak256(rlp([seq, k, v, …])) by
 * the key in "secp256k1" (33-byte compressed). Text form: "enr:" + unpadded base64url.
 *
 * Verification recovers the signer with both recovery ids and compares its compressed form with the
 * record's key, which gives the uncompressed key (needed for the node ID) without a square root.
 */
import { backend as defaultBackend } from '../crypto/backend.js'
import { hex } from '../crypto/bytes.js'
import type { CryptoBackend } from '../crypto/types.js'
import { asBigUint, asBytes, asList, decodeRLP, encodeRLP, RLPError, uintBytes, type RLPItem } from '../util/rlp.js'
import { ipFromBytes, ipToBytes } from '../util/netutil.js'
import { Node } from './node.js'

/** The largest record EIP-778 allows (bytes); larger ones are refused before decoding. */
export const MAX_RECORD_SIZE = 300
const SECP256K1_N_HALF = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n

/** What an {@link ENRError} is about. */
export type ENRErrorCode = 'TOO_LARGE' | 'MALFORMED' | 'NOT_SORTED' | 'DUPLICATE_KEY' | 'UNKNOWN_SCHEME' | 'BAD_KEY' | 'BAD_SIGNATURE' | 'BAD_TEXT'

/** A record that is too large, malformed, badly ordered, of an unknown identity scheme, or not signed by its key. */
export class ENRError extends Error {
  override readonly name = 'ENRError'
  constructor(
    readonly code: ENRErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/** What {@link ENR.sign} puts in a record: `id`, `secp256k1` and the signature are added by it. */
export interface ENRFields {
  seq?: bigint
  ip?: string
  udp?: number
  tcp?: number
  ip6?: string
  udp6?: number
  tcp6?: number
  /** further entries as RLP-encodable values (bytes, or nested lists of bytes) */
  extra?: Record<string, RLPItem>
}

const text = new TextDecoder()
const utf8 = new TextEncoder()

/** compressed (33-byte) form of a 64-byte public key */
export function compressPubkey(pub: Uint8Array): Uint8Array {
  const out = new Uint8Array(33)
  out[0] = (pub[63]! & 1) === 1 ? 3 : 2
  out.set(pub.subarray(0, 32), 1)
  return out
}

/** A verified node record: its entries, its signer and the node ID derived from that key. */
export class ENR {
  /** toNode's answer once worked out (null: none) */
  private node: Node | null | undefined
  private idHex: string | undefined

  private constructor(
    readonly seq: bigint,
    readonly signature: Uint8Array,
    /** entries in key order; values are decoded RLP items */
    readonly entries: ReadonlyMap<string, RLPItem>,
    /** the 64-byte public key of the signer */
    readonly pubkey: Uint8Array,
    /** the encoded record */
    readonly raw: Uint8Array,
    readonly nodeId: Uint8Array,
  ) {}

  /** Decode and verify a record; throws ENRError on anything malformed or unsigned. */
  static decode(raw: Uint8Array, b: CryptoBackend = defaultBackend): ENR {
    if (raw.length > MAX_RECORD_SIZE) throw new ENRError('TOO_LARGE', `record of ${raw.length} bytes exceeds ${MAX_RECORD_SIZE}`)
    let list: RLPItem[]
    let seq: bigint
    let sig: Uint8Array
    const entries = new Map<string, RLPItem>()
    try {
      list = asList(decodeRLP(raw), 'record')
      if (list.length < 2 || list.length % 2 !== 0) throw new RLPError('record: expected signature, seq and key/value pairs')
      sig = asBytes(list[0], 'signature')
      seq = asBigUint(list[1], 'seq')
      let prev: string | undefined
      for (let i = 2; i < list.length; i += 2) {
        const key = text.decode(asBytes(list[i], 'key'))
        if (prev !== undefined && key <= prev) {
          throw new ENRError(key === prev ? 'DUPLICATE_KEY' : 'NOT_SORTED', `record keys ${key === prev ? 'repeat' : 'not sorted'} at "${key}"`)
        }
        prev = key
        entries.set(key, list[i + 1]!)
      }
    } catch (err) {
      if (err instanceof ENRError) throw err
      // the cause keeps a non-RLP failure (a bug, not a bad record) visible to tests and logs
      throw new ENRError('MALFORMED', (err as Error).message, { cause: err })
    }
    const id = entries.get('id')
    if (!(id instanceof Uint8Array) || text.decode(id) !== 'v4') throw new ENRError('UNKNOWN_SCHEME', 'identity scheme is not "v4"')
    const key = entries.get('secp256k1')
    if (!(key instanceof Uint8Array) || key.length !== 33 || (key[0] !== 2 && key[0] !== 3)) throw new ENRError('BAD_KEY', 'secp256k1 entry is not a 33-byte compressed key')
    if (sig.length !== 64) throw new ENRError('BAD_SIGNATURE', `signature of ${sig.length} bytes, expected 64`)
    // geth accepts only low-s signatures (no malleated copies of a record)
    let s = 0n
    for (const x of sig.subarray(32)) s = (s << 8n) | BigInt(x)
    if (s > SECP256K1_N_HALF) throw new ENRError('BAD_SIGNATURE', 'signature s value is not in the lower half')
    const hash = b.keccak256(encodeRLP(list.slice(1)))
    // one verification against the key the record names (recovering would take one or two tries)
    if (!b.verify(hash, sig, key)) throw new ENRError('BAD_SIGNATURE', 'signature does not match the secp256k1 key')
    const pub = b.publicKeyDecompress(key)
    return new ENR(seq, sig, entries, pub, raw, b.keccak256(pub))
  }

  /** Parse the "enr:…" text form. */
  static parseText(s: string, b: CryptoBackend = defaultBackend): ENR {
    const t = s.trim()
    if (!t.startsWith('enr:')) throw new ENRError('BAD_TEXT', 'record text must start with "enr:"')
    const body = t.slice(4)
    if (!/^[A-Za-z0-9_-]*$/.test(body)) throw new ENRError('BAD_TEXT', 'record text is not base64url')
    if (body.length > Math.ceil((MAX_RECORD_SIZE * 4) / 3)) throw new ENRError('TOO_LARGE', 'record text too long')
    return ENR.decode(new Uint8Array(Buffer.from(body, 'base64url')), b)
  }

  /** Build and sign a record with `priv`. */
  static sign(priv: Uint8Array, fields: ENRFields, b: CryptoBackend = defaultBackend): ENR {
    const map = new Map<string, RLPItem>()
    map.set('id', utf8.encode('v4'))
    map.set('secp256k1', compressPubkey(b.publicKey(priv)))
    if (fields.ip !== undefined) map.set('ip', ipToBytes(fields.ip))
    if (fields.udp !== undefined) map.set('udp', uintBytes(fields.udp))
    if (fields.tcp !== undefined) map.set('tcp', uintBytes(fields.tcp))
    if (fields.ip6 !== undefined) map.set('ip6', ipToBytes(fields.ip6))
    if (fields.udp6 !== undefined) map.set('udp6', uintBytes(fields.udp6))
    if (fields.tcp6 !== undefined) map.set('tcp6', uintBytes(fields.tcp6))
    for (const [k, v] of Object.entries(fields.extra ?? {})) map.set(k, v)
    const keys = [...map.keys()].sort()
    const seq = fields.seq ?? 1n
    const content: RLPItem[] = [uintBytes(seq)]
    for (const k of keys) content.push(utf8.encode(k), map.get(k)!)
    const { sig } = b.sign(b.keccak256(encodeRLP(content)), priv)
    const raw = encodeRLP([sig, ...content])
    if (raw.length > MAX_RECORD_SIZE) throw new ENRError('TOO_LARGE', `record of ${raw.length} bytes exceeds ${MAX_RECORD_SIZE}`)
    return ENR.decode(raw, b)
  }

  /** The text form, `enr:` and the record in unpadded base64url. */
  toText(): string {
    return 'enr:' + Buffer.from(this.raw).toString('base64url')
  }

  /** A raw entry, as decoded RLP; the getters below read the well-known ones. */
  get(key: string): RLPItem | undefined {
    return this.entries.get(key)
  }

  private ipEntry(key: 'ip' | 'ip6', size: number): string | undefined {
    const v = this.entries.get(key)
    return v instanceof Uint8Array && v.length === size ? (ipFromBytes(v) ?? undefined) : undefined
  }

  private portEntry(key: string): number | undefined {
    const v = this.entries.get(key)
    // absent is the common case: no exception built for it
    if (v === undefined) return undefined
    try {
      const p = asBigUint(v, key, 2)
      return p > 0n ? Number(p) : undefined
    } catch {
      return undefined
    }
  }

  /** the `ip` entry (IPv4), when present and 4 bytes */
  get ip(): string | undefined {
    return this.ipEntry('ip', 4)
  }
  /** the `ip6` entry, when present and 16 bytes */
  get ip6(): string | undefined {
    return this.ipEntry('ip6', 16)
  }
  /** the `udp` port, when present and non-zero */
  get udp(): number | undefined {
    return this.portEntry('udp')
  }
  /** the `tcp` port, when present and non-zero */
  get tcp(): number | undefined {
    return this.portEntry('tcp')
  }
  /** the `udp6` port (IPv6), when present and non-zero */
  get udp6(): number | undefined {
    return this.portEntry('udp6')
  }
  /** the `tcp6` port (IPv6), when present and non-zero */
  get tcp6(): number | undefined {
    return this.portEntry('tcp6')
  }

  /**
   * The node this record describes, preferring IPv4 (IPv6 when only that is present), or undefined
   * when it carries no usable address. A missing TCP port reads as 0 and a missing UDP port as the TCP one.
   */
  toNode(): Node | undefined {
    // a record never changes: the node is worked out once (a crawl meets each record dozens of times)
    if (this.node === undefined) this.node = this.nodeOf() ?? null
    return this.node ?? undefined
  }

  private nodeOf(): Node | undefined {
    const v4 = this.ip
    if (v4 !== undefined) {
      const udp = this.udp ?? this.tcp
      if (udp !== undefined) return new Node(this.pubkey, v4, udp, this.tcp ?? 0, this.nodeId)
    }
    const v6 = this.ip6
    if (v6 !== undefined) {
      const udp = this.udp6 ?? this.udp ?? this.tcp6 ?? this.tcp
      if (udp !== undefined) return new Node(this.pubkey, v6, udp, this.tcp6 ?? this.tcp ?? 0, this.nodeId)
    }
    return undefined
  }

  /** hex of `nodeId`, the key maps use */
  get nodeIdHex(): string {
    return (this.idHex ??= hex(this.nodeId))
  }

  /**
   * The `eth` entry's fork id (EIP-2124 as used by EIP-868 records: [[forkHash, forkNext], …]),
   * or undefined when absent or malformed.
   */
  get ethForkId(): { hash: Uint8Array; next: bigint } | undefined {
    if (!this.entries.has('eth')) return undefined
    try {
      const outer = asList(this.entries.get('eth'), 'eth')
      const fid = asList(outer[0], 'eth fork id')
      return { hash: asBytes(fid[0], 'fork hash', 4), next: asBigUint(fid[1], 'fork next') }
    } catch {
      return undefined
    }
  }

  /** whether the record carries an `eth2` entry (a consensus-layer node) */
  get isEth2(): boolean {
    return this.entries.has('eth2')
  }

  /** entries as text for display: key → hex (or nested arrays of hex) */
  toJSON(): { seq: string; nodeId: string; entries: Record<string, unknown> } {
    const conv = (v: RLPItem): unknown => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v.map(conv))
    const entries: Record<string, unknown> = {}
    for (const [k, v] of this.entries) entries[k] = conv(v)
    return { seq: this.seq.toString(), nodeId: Buffer.from(this.nodeId).toString('hex'), entries }
  }
}

