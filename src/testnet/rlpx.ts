/**
 * The RLPx side of a testnet node: a TCP listener on the node's address that runs our own recipient
 * handshake, Hello and eth Status (the node's chain, its head "now" so the fork id is the latest),
 * so a crawler's --dial has real peers to learn client ids, caps and chains from. Some nodes play busy
 * and answer TooManyPeers, right after their Hello or instead of it, as most mainnet nodes do. Each
 * node serves the header of its head (GetBlockHeaders by its hash or number), a real header whose
 * keccak is the hash its Status announces; most sit at their chain's testnet head, some lag behind.
 *
 * Cheap enough for hundreds of nodes: one listening socket each, nothing per node until a connection
 * comes, and at most MAX_CONNS connections per node at once.
 */
import { randomBytes } from 'node:crypto'
import { createServer, type Server as NetServer, type Socket } from 'node:net'
import type { CryptoBackend } from '../crypto/types.js'
import type { ChainSpec } from '../eth/forkid.js'
import { encodeHeader, headerHash, type GetBlockHeaders } from '../eth/header.js'
import { ethProtocols } from '../eth/protocol.js'
import { DisconnectReason } from '../p2p/base.js'
import { Peer, sendDisconnect } from '../p2p/peer.js'
import type { Protocol } from '../p2p/protocol.js'
import { RLPxConnection } from '../rlpx/conn.js'

/** how a node's RLPx side behaves once a peer has completed the RLPx handshake */
export type RLPxBehaviour = 'ok' | 'busy-after-hello' | 'busy-instead-of-hello'

/** What a testnet node's RLPx side announces and how it behaves. */
export interface RLPxProfile {
  clientId: string
  chain: ChainSpec
  /** eth versions offered: [68] makes the peer send the pre-EIP-7642 Status layout */
  ethVersions: readonly number[]
  behaviour: RLPxBehaviour
  /** blocks behind its chain's testnet head (`TESTNET_HEADS`); 0 when absent */
  headLag?: number
}

/** The head every up-to-date testnet node of a chain announces, by chain name (others: mainnet's). */
export const TESTNET_HEADS: Readonly<Record<string, bigint>> = { mainnet: 22_000_000n, sepolia: 8_000_000n, holesky: 3_500_000n, hoodi: 1_000_000n }
/** seconds between blocks: a lagging node's head is this much older per block */
const SLOT_SECONDS = 12n

const MAX_CONNS = 8
const HANDSHAKE_TIMEOUT = 5_000
/** a peer that stays after the Status is sent away after this long (a crawler leaves at once) */
const MAX_SESSION_MS = 30_000

/** Client ids as real clients send them, in the shapes that make parsing interesting. */
export const TESTNET_CLIENT_IDS: readonly string[] = [
  'Geth/v1.14.12-stable-293a300d/linux-amd64/go1.23.4',
  'Nethermind/v1.30.3+87c86379/linux-x64/dotnet9.0.0',
  'erigon/v2.60.10-1e30f4a1/linux-amd64/go1.22.8',
  'reth/v1.1.4-e47fba3/x86_64-unknown-linux-gnu',
  'besu/v24.12.2/linux-x86_64/openjdk-java-21',
  'Geth/v1.15.0-stable-756cca7c/linux-arm64/go1.23.6',
  'Geth/my-node-01/v1.14.11-stable-f3c696fa/darwin-arm64/go1.23.2',
]

/** The listener of one node; `close` ends its connections too. */
export class RLPxResponder {
  private readonly conns = new Set<Socket>()
  private readonly protocols: Protocol[]
  private closed = false

  private constructor(
    private readonly server: NetServer,
    private readonly key: Uint8Array,
    private readonly pubkey: Uint8Array,
    readonly profile: RLPxProfile,
    private readonly b: CryptoBackend,
  ) {
    // an up-to-date node's head is "now": the fork id a synced node of that chain announces today
    const lag = BigInt(profile.headLag ?? 0)
    const number = (TESTNET_HEADS[profile.chain.name] ?? TESTNET_HEADS['mainnet']!) - lag
    const time = BigInt(Math.floor(Date.now() / 1000)) - lag * SLOT_SECONDS
    const header = encodeHeader({ parentHash: randomBytes(32), number, time })
    const hash = headerHash(header)
    const head = { number, time, hash, td: 58_750_003_716_598_352_816_469n }
    const headers = (q: GetBlockHeaders): Uint8Array[] => {
      const at = q.origin instanceof Uint8Array ? Buffer.compare(q.origin, hash) === 0 : q.origin === number
      return at && q.amount > 0 ? [header] : []
    }
    this.protocols = ethProtocols({ chain: profile.chain, head, versions: profile.ethVersions, headers })
    server.on('connection', (s) => this.onConnection(s))
    server.on('error', () => undefined)
  }

  /** Listen on ip:port (the node's UDP port number when free, any port otherwise); resolves once bound. */
  static async listen(ip: string, port: number, key: Uint8Array, profile: RLPxProfile, b: CryptoBackend): Promise<RLPxResponder> {
    const bind = (p: number): Promise<NetServer> =>
      new Promise((resolve, reject) => {
        const s = createServer({ noDelay: true })
        s.once('error', (err) => {
          s.close()
          reject(err)
        })
        s.listen(p, ip, () => {
          s.removeAllListeners('error')
          resolve(s)
        })
      })
    const server = await bind(port).catch(() => bind(0))
    return new RLPxResponder(server, key, b.publicKey(key), profile, b)
  }

  get port(): number {
    return (this.server.address() as { port: number }).port
  }

  close(): Promise<void> {
    this.closed = true
    for (const s of this.conns) s.destroy()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }

  private onConnection(socket: Socket): void {
    if (this.closed || this.conns.size >= MAX_CONNS) {
      socket.destroy()
      return
    }
    this.conns.add(socket)
    socket.once('close', () => this.conns.delete(socket))
    socket.on('error', () => undefined)
    void this.serve(socket).catch(() => socket.destroy())
  }

  private async serve(socket: Socket): Promise<void> {
    const conn = await RLPxConnection.accept(socket, this.key, { handshakeTimeout: HANDSHAKE_TIMEOUT, backend: this.b })
    if (this.profile.behaviour === 'busy-instead-of-hello') return sendDisconnect(conn, DisconnectReason.TooManyPeers)
    const peer = await Peer.handshake(conn, {
      id: this.pubkey,
      clientId: this.profile.clientId,
      protocols: this.protocols,
      listenPort: this.port,
      inbound: true,
      handshakeTimeout: HANDSHAKE_TIMEOUT,
    })
    if (this.profile.behaviour === 'busy-after-hello') {
      peer.disconnect(DisconnectReason.TooManyPeers)
      await peer.done
      return
    }
    const timer = setTimeout(() => peer.disconnect(DisconnectReason.ClientQuitting), MAX_SESSION_MS)
    await peer.run()
    clearTimeout(timer)
  }
}
