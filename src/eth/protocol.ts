/**
 * The eth wire protocol as a p2p sub-protocol, as far as a node without a chain needs it: the Status
 * exchange (both layouts), fork-id validation, and polite empty answers to requests. Offered as
 * eth/68 and eth/69 together so peers of either generation share a capability with us. Two additions
 * for the crawler and the testnet: a node may serve block headers it has (`headers`), and whoever
 * reads a peer's Status may ask that peer for headers ({@link EthSession}).
 */
import { bytesEqual, hex } from '../crypto/bytes.js'
import type { MsgReadWriter, Protocol } from '../p2p/protocol.js'
import type { Peer } from '../p2p/peer.js'
import { decodeStatus, emptyReply, encodeStatus, EthError, EthMsg, ETH_PROTOCOL_LENGTHS, ETH69, type Status } from './status.js'
import { decodeBlockHeaders, decodeGetBlockHeaders, encodeBlockHeaders, encodeGetBlockHeaders, MAX_HEADERS_SERVE, type BlockHeader, type GetBlockHeaders } from './header.js'
import { forkId, validateForkId, type ChainHead, type ChainSpec } from './forkid.js'

/** eth versions offered by default: a peer of either Status layout shares one. */
export const DEFAULT_ETH_VERSIONS = [68, 69] as const
/** geth: the remote Status must arrive within the handshake timeout */
const STATUS_TIMEOUT_MS = 5_000

/** The chain the eth protocol announces, and how it treats the peer's Status. */
export interface EthProtocolOptions {
  chain: ChainSpec
  /** our head; genesis when absent (a node without a chain) */
  head?: ChainHead & { hash?: Uint8Array; td?: bigint }
  versions?: readonly number[]
  /**
   * Answer with the peer's own Status instead of ours (network, genesis, fork id): a crawler that
   * only wants to learn the peer's chain must not be hung up on for a fork mismatch.
   */
  mirror?: boolean
  statusTimeoutMs?: number
  /** called once per peer with its Status, after validation, and the session to ask it for more */
  onStatus?(peer: Peer, status: Status, session: EthSession): void
  /**
   * The headers (each one's RLP) this node answers a GetBlockHeaders with; without it every request
   * gets the empty answer. At most MAX_HEADERS_SERVE are sent.
   */
  headers?(request: GetBlockHeaders): readonly Uint8Array[]
}

/** Requests to a peer whose Status has been read. */
export interface EthSession {
  /** the negotiated eth version */
  readonly version: number
  /**
   * Ask for headers; resolves with the answer's headers, or rejects with an EthError (malformed answer,
   * no answer within `timeoutMs`, the peer gone). Waiting never holds the peer open by itself.
   */
  getBlockHeaders(query: Omit<GetBlockHeaders, 'requestId'>, timeoutMs: number): Promise<BlockHeader[]>
}

/** The peer's Status does not match ours (network, genesis or fork id), or did not come in time. */
export class EthStatusError extends Error {
  override readonly name = 'EthStatusError'
}

/** one Protocol per version, sharing the options */
export function ethProtocols(opts: EthProtocolOptions): Protocol[] {
  return (opts.versions ?? DEFAULT_ETH_VERSIONS).map((version) => {
    const length = ETH_PROTOCOL_LENGTHS[version]
    if (length === undefined) throw new RangeError(`eth/${version} is not supported`)
    return { name: 'eth', version, length, run: (peer: Peer, rw: MsgReadWriter) => runEth(peer, rw, version, opts) }
  })
}

/** our Status for eth/`version` */
export function localStatus(opts: EthProtocolOptions, version: number): Status {
  const head = opts.head ?? { number: 0n, time: opts.chain.genesisTime }
  const hash = opts.head?.hash ?? opts.chain.genesisHash
  const common = { version, networkId: opts.chain.networkId, genesis: opts.chain.genesisHash, forkId: forkId(opts.chain, head) }
  return version >= ETH69
    ? { ...common, layout: 69, earliestBlock: 0n, latestBlock: BigInt(head.number), latestBlockHash: hash }
    : { ...common, layout: 68, td: opts.head?.td ?? 0n, head: hash }
}

async function readStatus(rw: MsgReadWriter, timeoutMs: number): Promise<Status> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new EthStatusError(`no Status within ${timeoutMs} ms`)), timeoutMs)
  })
  try {
    const m = await Promise.race([rw.read(), expired])
    if (m.code !== EthMsg.Status) throw new EthStatusError(`expected Status, got message 0x${m.code.toString(16)}`)
    return decodeStatus(m.payload)
  } finally {
    clearTimeout(timer)
  }
}

async function runEth(peer: Peer, rw: MsgReadWriter, version: number, opts: EthProtocolOptions): Promise<void> {
  const timeout = opts.statusTimeoutMs ?? STATUS_TIMEOUT_MS
  let theirs: Status
  if (opts.mirror) {
    theirs = await readStatus(rw, timeout)
    await rw.write(EthMsg.Status, encodeStatus({ ...theirs, version }))
  } else {
    const ours = localStatus(opts, version)
    await rw.write(EthMsg.Status, encodeStatus(ours))
    theirs = await readStatus(rw, timeout)
    if (theirs.version !== version) throw new EthStatusError(`Status says eth/${theirs.version}, negotiated eth/${version}`)
    if (theirs.networkId !== ours.networkId) throw new EthStatusError(`network ${theirs.networkId}, ours ${ours.networkId}`)
    if (!bytesEqual(theirs.genesis, ours.genesis)) throw new EthStatusError(`genesis ${hex(theirs.genesis)} is not ours`)
    const head = opts.head ?? { number: 0n, time: opts.chain.genesisTime }
    const check = validateForkId(opts.chain, head, theirs.forkId)
    if (!check.ok) throw new EthStatusError(`fork id ${hex(theirs.forkId.hash)}/${theirs.forkId.next}: ${check.reason}`)
  }
  const requests = new HeaderRequests(rw, version)
  opts.onStatus?.(peer, theirs, requests)
  // a malformed request throws (EthError), which ends the peer with SubprotocolError; messages that
  // are not requests (announcements, transactions) are ignored
  try {
    for await (const m of rw) {
      if (m.code === EthMsg.BlockHeaders) requests.answer(m.payload)
      else if (m.code === EthMsg.GetBlockHeaders && opts.headers) {
        const req = decodeGetBlockHeaders(m.payload)
        await rw.write(EthMsg.BlockHeaders, encodeBlockHeaders(req.requestId, opts.headers(req).slice(0, MAX_HEADERS_SERVE)))
      } else {
        const reply = emptyReply(m.code, m.payload, version)
        if (reply) await rw.write(reply.code, reply.payload)
      }
    }
  } finally {
    requests.close()
  }
}

/** Our GetBlockHeaders requests to one peer, matched to its answers by request id. */
class HeaderRequests implements EthSession {
  private readonly pending = new Map<bigint, { amount: number; done: (r: BlockHeader[] | EthError) => void }>()
  private nextId = BigInt(Math.floor(Math.random() * 2 ** 32))
  private closed = false

  constructor(
    private readonly rw: MsgReadWriter,
    readonly version: number,
  ) {}

  getBlockHeaders(query: Omit<GetBlockHeaders, 'requestId'>, timeoutMs: number): Promise<BlockHeader[]> {
    if (this.closed) return Promise.reject(new EthError('BAD_HEADERS', 'peer gone'))
    const requestId = this.nextId++
    return new Promise<BlockHeader[]>((resolve, reject) => {
      const timer = setTimeout(() => done(new EthError('BAD_HEADERS', `no BlockHeaders within ${timeoutMs} ms`)), timeoutMs)
      const done = (r: BlockHeader[] | EthError): void => {
        clearTimeout(timer)
        this.pending.delete(requestId)
        if (r instanceof EthError) reject(r)
        else resolve(r)
      }
      this.pending.set(requestId, { amount: query.amount, done })
      this.rw.write(EthMsg.GetBlockHeaders, encodeGetBlockHeaders({ ...query, requestId })).catch((err: unknown) => done(new EthError('BAD_HEADERS', `GetBlockHeaders not sent: ${(err as Error).message}`)))
    })
  }

  /** a BlockHeaders message: resolves the request it answers; unasked-for answers are dropped */
  answer(payload: Uint8Array): void {
    let r: ReturnType<typeof decodeBlockHeaders>
    try {
      r = decodeBlockHeaders(payload)
    } catch (err) {
      // a malformed answer fails whatever we wait for: it cannot be told which request it answers
      for (const p of [...this.pending.values()]) p.done(err as EthError)
      return
    }
    const p = this.pending.get(r.requestId)
    if (!p) return
    p.done(r.headers.length > p.amount ? new EthError('BAD_HEADERS', `BlockHeaders: ${r.headers.length} headers, asked for ${p.amount}`) : r.headers)
  }

  close(): void {
    this.closed = true
    for (const p of [...this.pending.values()]) p.done(new EthError('BAD_HEADERS', 'peer gone before its BlockHeaders'))
  }
}
