/**
 * Where a discv4 endpoint's cryptography runs: every datagram out is signed, every datagram in is
 * verified (hash, signer recovery), either one by one on the event loop or in batches on the
 * backend's threads (native: libuv's pool), so that the event loop keeps only the protocol.
 *
 * Inline costs the least CPU (no hand-off between threads); batches cost a hand-off each (~25 µs,
 * spread over the batch) and buy the event loop the ~45 µs each signature or recovery takes. Both
 * queues are bounded: verification drops past MAX_VERIFY_QUEUE (the caller counts it), and a
 * signing batch goes once SIGN_GATHER_BELOW datagrams wait or SIGN_GATHER_MS after its first.
 */
import type { CryptoBackend, PacketCheck } from '../crypto/types.js'
import { MAX_VERIFY_QUEUE, SIGN_GATHER_BELOW, SIGN_GATHER_MS, VERIFY_BATCH, VERIFY_GATHER_BELOW, VERIFY_GATHER_MS } from './udp-options.js'

/** What the endpoint does with the results. */
export interface DatagramCryptoHooks<From, To> {
  /** a received datagram was checked */
  verified(check: PacketCheck, from: From): void
  /** an outgoing datagram is signed: send it */
  sealed(datagram: Uint8Array, to: To): void
  /** the batch of `n` datagrams could not be signed (a bad key): they are not sent */
  sealFailed(n: number): void
  /** whether the endpoint closed (queued work is dropped then) */
  closed(): boolean
}

/** How a {@link DatagramCrypto} runs. */
export interface DatagramCryptoOptions {
  /** verify in batches off the event loop */
  batchVerify: boolean
  /** sign in batches off the event loop */
  batchSign: boolean
  /** threads one batch may take (undefined: the backend's default) */
  threads: number | undefined
}

interface SignEntry<To> {
  datagram: Uint8Array
  to: To
  onHash: ((hash: Uint8Array) => void) | undefined
}

/** The signing and verification of one endpoint's datagrams, inline or in batches. */
export class DatagramCrypto<From, To> {
  private readonly verifyQueue: { data: Uint8Array; from: From; expected: Uint8Array | undefined }[] = []
  private verifying = false
  private signQueue: SignEntry<To>[] = []
  private signTimer: NodeJS.Timeout | undefined
  /** the newest batch's sending, which waits for the one before */
  private sending: Promise<void> = Promise.resolve()

  constructor(
    private readonly b: CryptoBackend,
    private readonly key: Uint8Array,
    private readonly opts: DatagramCryptoOptions,
    private readonly hooks: DatagramCryptoHooks<From, To>,
  ) {}

  /** datagrams received and waiting for verification */
  get backlog(): number {
    return this.verifyQueue.length
  }

  /**
   * Sign `datagram` (laid out as sent, its 97-byte header to fill) and hand it to `sealed`; `onHash`
   * learns its hash first (replies echo it). Inline this happens before seal returns; batched, within
   * SIGN_GATHER_MS or as soon as SIGN_GATHER_BELOW datagrams wait.
   */
  seal(datagram: Uint8Array, to: To, onHash?: (hash: Uint8Array) => void): void {
    if (!this.opts.batchSign) {
      this.b.sealPacket(datagram, this.key)
      onHash?.(datagram.subarray(0, 32))
      this.hooks.sealed(datagram, to)
      return
    }
    this.signQueue.push({ datagram, to, onHash })
    if (this.signQueue.length >= SIGN_GATHER_BELOW) this.flushSigns()
    else if (this.signQueue.length === 1) this.signTimer = setTimeout(() => this.flushSigns(), SIGN_GATHER_MS)
  }

  private flushSigns(): void {
    clearTimeout(this.signTimer)
    this.signTimer = undefined
    const batch = this.signQueue
    this.signQueue = []
    if (this.hooks.closed()) return
    // batches sign side by side, but go out in the order they were sealed: a smaller batch behind a
    // full one would otherwise overtake it (a PING before the FINDNODE that needs its bond)
    let signed: Promise<boolean>
    try {
      signed = this.b.sealPackets(
        batch.map((e) => e.datagram),
        this.key,
        this.opts.threads,
      ).then(
        () => true,
        () => false,
      )
    } catch {
      signed = Promise.resolve(false)
    }
    this.sending = this.sendSigned(batch, signed, this.sending)
  }

  private async sendSigned(batch: SignEntry<To>[], signed: Promise<boolean>, previous: Promise<void>): Promise<void> {
    await previous
    if (!(await signed)) {
      this.hooks.sealFailed(batch.length)
      return
    }
    for (const e of batch) {
      if (this.hooks.closed()) return
      e.onHash?.(e.datagram.subarray(0, 32))
      this.hooks.sealed(e.datagram, e.to)
    }
  }

  /**
   * Check a received datagram (now, or in a batch); false when the batch queue is full and it was
   * dropped. `expected`: its likely signer (see CryptoBackend.verifyPacket), checked first.
   */
  verify(data: Uint8Array, from: From, expected?: Uint8Array): boolean {
    if (!this.opts.batchVerify) {
      this.hooks.verified(this.b.verifyPacket(data, expected), from)
      return true
    }
    if (this.verifyQueue.length >= MAX_VERIFY_QUEUE) return false
    this.verifyQueue.push({ data, from, expected })
    if (!this.verifying) void this.drainVerifyQueue()
    return true
  }

  private async drainVerifyQueue(): Promise<void> {
    this.verifying = true
    try {
      if (this.verifyQueue.length < VERIFY_GATHER_BELOW) await new Promise((resolve) => setTimeout(resolve, VERIFY_GATHER_MS))
      while (this.verifyQueue.length > 0 && !this.hooks.closed()) {
        const batch = this.verifyQueue.splice(0, VERIFY_BATCH)
        const checks = await this.b.verifyPackets(
          batch.map((e) => e.data),
          this.opts.threads,
          batch.map((e) => e.expected),
        )
        for (let i = 0; i < checks.length; i++) this.hooks.verified(checks[i]!, batch[i]!.from)
      }
    } finally {
      this.verifying = false
    }
  }
}
