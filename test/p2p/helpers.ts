/** Loopback fixtures for peer tests: RLPx connection pairs, and a small echo protocol. */
import { createServer, type Server } from 'node:net'
import { once } from 'node:events'
import { backend, randomPrivateKey } from '../../src/crypto/backend.js'
import { RLPxConnection, type ConnectionOptions } from '../../src/rlpx/conn.js'
import type { Message, MsgReadWriter, Protocol } from '../../src/p2p/protocol.js'
import type { Peer } from '../../src/p2p/peer.js'

/** Everything a test file opened, for its `after` hook. */
export class Resources {
  readonly servers: Server[] = []
  readonly conns: RLPxConnection[] = []
  readonly peers: Peer[] = []

  close(): void {
    for (const p of this.peers) p.disconnect()
    for (const c of this.conns) c.close()
    for (const s of this.servers) s.close()
  }
}

export interface ConnPair {
  /** the side that dialled */
  dialer: RLPxConnection
  /** the side that accepted */
  listener: RLPxConnection
  dialerKey: Uint8Array
  listenerKey: Uint8Array
}

export const pub = (priv: Uint8Array): Uint8Array => backend.publicKey(priv)

/** One RLPx connection over loopback, both ends. */
export async function connPair(res: Resources, opts: { dialer?: ConnectionOptions; listener?: ConnectionOptions; sameKey?: boolean } = {}): Promise<ConnPair> {
  const listenerKey = randomPrivateKey()
  const dialerKey = opts.sameKey ? listenerKey : randomPrivateKey()
  let accepted: ((c: Promise<RLPxConnection>) => void) | undefined
  const acceptedConn = new Promise<Promise<RLPxConnection>>((r) => (accepted = r))
  const server = createServer((s) => accepted?.(RLPxConnection.accept(s, listenerKey, opts.listener)))
  res.servers.push(server)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  const dialer = await RLPxConnection.connect('127.0.0.1', port, dialerKey, pub(listenerKey), opts.dialer)
  res.conns.push(dialer)
  const listener = await (await acceptedConn)
  res.conns.push(listener)
  server.close()
  return { dialer, listener, dialerKey, listenerKey }
}

/** A queue of values with an awaitable `next`. */
export class Inbox<T> {
  private readonly items: T[] = []
  private readonly waiters: Array<(v: T) => void> = []

  put(v: T): void {
    const w = this.waiters.shift()
    if (w) w(v)
    else this.items.push(v)
  }

  next(): Promise<T> {
    const v = this.items.shift()
    if (v !== undefined) return Promise.resolve(v)
    return new Promise((r) => this.waiters.push(r))
  }
}

/**
 * 'echo': code 0 is answered with code 1 carrying the same payload; code 1 messages are collected.
 * One instance per side; `rw` resolves when the protocol starts on a peer.
 */
export class Echo implements Protocol {
  readonly name = 'echo'
  readonly length = 2
  readonly replies = new Inbox<Message>()
  readonly rw: Promise<MsgReadWriter>
  private started!: (rw: MsgReadWriter) => void

  constructor(readonly version = 1) {
    this.rw = new Promise((r) => (this.started = r))
  }

  async run(_peer: Peer, rw: MsgReadWriter): Promise<void> {
    this.started(rw)
    for await (const m of rw) {
      if (m.code === 0) await rw.write(1, m.payload)
      else this.replies.put(m)
    }
  }
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)
