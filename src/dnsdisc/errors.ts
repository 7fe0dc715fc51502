/** Typed errors of the EIP-1459 client and codec: callers branch on `code`, never on the message. */

/** What a {@link DnsDiscError} is about. */
export type DnsDiscErrorCode =
  /** not an `enrtree://<key>@<domain>` URL, or the key is not a secp256k1 point */
  | 'BAD_URL'
  /** the root TXT record is malformed, or older than one seen before */
  | 'BAD_ROOT'
  /** a root or node record signature does not verify */
  | 'BAD_SIGNATURE'
  /** an entry's keccak256 does not start with the hash it was fetched under */
  | 'HASH_MISMATCH'
  /** a malformed entry, or an entry of the wrong kind for its subtree */
  | 'BAD_ENTRY'
  /** no such name, or no tree entry among its TXT records */
  | 'NOT_FOUND'
  | 'TIMEOUT'
  /** the DNS server failed (SERVFAIL, refused, unreadable answer) */
  | 'DNS_ERROR'
  /** a bound was reached: entries, depth or linked trees */
  | 'LIMIT'

/** A failure of an EIP-1459 walk or a malformed entry; a walk recovers from most and reports them. */
export class DnsDiscError extends Error {
  override readonly name = 'DnsDiscError'
  constructor(
    readonly code: DnsDiscErrorCode,
    message: string,
    /** the DNS name involved, when there is one */
    readonly domain?: string,
  ) {
    super(domain === undefined ? message : `${domain}: ${message}`)
  }
}
