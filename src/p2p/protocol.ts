/**
 * Sub-protocols on a peer: what one is, how the two sides' capabilities pick the ones that run and
 * where each one's message codes sit, and the per-protocol reader/writer a running protocol uses.
 */
import type { Node } from '../enode/node.js'
import type { Message } from '../rlpx/frame.js'
import { P2PError } from './errors.js'
import type { Cap, DisconnectReason, Hello } from './base.js'
import { BASE_PROTOCOL_LENGTH } from './messages.js'

export type { Message }

/**
 * The peer as a protocol sees it (implemented by peer.ts's `Peer`): declared here so the protocol
 * contract does not import the peer that runs it.
 */
export interface ProtocolPeer {
  /** what the remote said in its Hello */
  readonly remoteHello: Hello
  /** the remote node: public key, id and address */
  readonly node: Node
  /** the remote's 32-byte node id */
  readonly id: Uint8Array
  /** true when the remote dialled us */
  readonly inbound: boolean
  /** the protocols running on this peer, in code order */
  readonly caps: readonly MatchedCap[]
  /** whether messages are snappy-compressed */
  readonly snappy: boolean
  /** end the peer with a Disconnect carrying `reason` */
  disconnect(reason?: DisconnectReason): void
}

/** A sub-protocol an application runs on every peer that shares its capability. */
export interface Protocol {
  readonly name: string
  readonly version: number
  /** how many message codes it uses (0 … length-1) */
  readonly length: number
  /**
   * Runs once per peer, after the Hellos. Resolving while the peer is up ends the peer with
   * ClientQuitting; throwing ends it with SubprotocolError.
   */
  run(peer: ProtocolPeer, rw: MsgReadWriter): Promise<void>
}

/** One protocol's share of a connection: message codes relative to its offset. */
export interface MsgReadWriter extends AsyncIterable<Message> {
  readonly name: string
  readonly version: number
  /** first absolute message code of this protocol */
  readonly offset: number
  readonly length: number
  /**
   * Send message `code` (0 ≤ code < length). Resolves once the socket accepts more; rejects with an
   * INVALID_CODE or DISCONNECTED P2PError, or the RLPxError of the connection.
   */
  write(code: number, payload: Uint8Array): Promise<void>
  /** The next message; rejects with a DISCONNECTED P2PError once the peer has ended and none is left. */
  read(): Promise<Message>
}

/** A local protocol chosen for a peer, and where its codes sit. */
export interface MatchedCap<P extends Cap & { length: number } = Protocol> {
  name: string
  version: number
  offset: number
  length: number
  protocol: P
}

/** Name order as go-ethereum sorts it: by bytes, which for non-ASCII names differs from JS string order. */
function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

/**
 * The protocols both sides run: for each name, the highest version both list; ordered by name; code
 * offsets assigned in that order from 16 on. An empty result means the peer is useless to us.
 */
export function matchCaps<P extends Cap & { length: number }>(local: readonly P[], remote: readonly Cap[]): MatchedCap<P>[] {
  const best = new Map<string, P>()
  for (const p of local) {
    if (!remote.some((c) => c.name === p.name && c.version === p.version)) continue
    const cur = best.get(p.name)
    if (!cur || p.version > cur.version) best.set(p.name, p)
  }
  let offset = BASE_PROTOCOL_LENGTH
  return [...best.values()]
    .sort((a, b) => compareNames(a.name, b.name))
    .map((p) => {
      const m = { name: p.name, version: p.version, offset, length: p.length, protocol: p }
      offset += p.length
      return m
    })
}

/** How a peer's end is told to the protocols' readers and writers. */
export interface PeerEndState {
  reason: DisconnectReason
  remoteRequested: boolean
}

/**
 * The MsgReadWriter the peer hands to a protocol. Inbound messages wait in a bounded queue: when it is
 * full, `push` resolves only once the protocol has read one, and the peer stops reading the socket
 * until then, so a slow protocol slows its sender instead of growing memory.
 */
export class ProtocolRW implements MsgReadWriter {
  readonly name: string
  readonly version: number
  readonly offset: number
  readonly length: number
  private readonly queue: Message[] = []
  private readers: Array<{ resolve: (m: Message) => void; reject: (e: P2PError) => void }> = []
  private room: (() => void) | undefined
  private ended: PeerEndState | undefined

  constructor(
    cap: MatchedCap<Cap & { length: number }>,
    private readonly send: (code: number, payload: Uint8Array) => Promise<void>,
    private readonly capacity: number,
  ) {
    this.name = cap.name
    this.version = cap.version
    this.offset = cap.offset
    this.length = cap.length
  }

  write(code: number, payload: Uint8Array): Promise<void> {
    if (this.ended) return Promise.reject(this.closedError())
    if (!Number.isInteger(code) || code < 0 || code >= this.length)
      return Promise.reject(new P2PError('INVALID_CODE', `${this.name}/${this.version}: message code ${code} outside 0…${this.length - 1}`))
    return this.send(this.offset + code, payload)
  }

  read(): Promise<Message> {
    const m = this.queue.shift()
    if (m) {
      this.wake()
      return Promise.resolve(m)
    }
    if (this.ended) return Promise.reject(this.closedError())
    return new Promise((resolve, reject) => this.readers.push({ resolve, reject }))
  }

  [Symbol.asyncIterator](): AsyncIterator<Message> {
    return {
      next: () =>
        this.read().then(
          (value) => ({ done: false, value }),
          (e: unknown) => {
            if (e instanceof P2PError && e.code === 'DISCONNECTED') return { done: true, value: undefined }
            throw e
          },
        ),
    }
  }

  /** Deliver a message (code already relative); resolves when the queue has room for another. */
  push(m: Message): Promise<void> {
    if (this.ended) return Promise.resolve()
    const reader = this.readers.shift()
    if (reader) {
      reader.resolve(m)
      return Promise.resolve()
    }
    this.queue.push(m)
    if (this.queue.length < this.capacity) return Promise.resolve()
    return new Promise((resolve) => (this.room = resolve))
  }

  /** The peer has ended: waiting readers fail, queued messages can still be read, writes fail. */
  close(end: PeerEndState): void {
    if (this.ended) return
    this.ended = end
    this.wake()
    for (const r of this.readers) r.reject(this.closedError())
    this.readers = []
  }

  private wake(): void {
    const room = this.room
    this.room = undefined
    room?.()
  }

  private closedError(): P2PError {
    const end = this.ended!
    return new P2PError('DISCONNECTED', `${this.name}/${this.version}: peer disconnected`, end)
  }
}
