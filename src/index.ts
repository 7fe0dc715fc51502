/** ethp2p's public API: what an embedder imports. */
export { backend, loadBackend, randomPrivateKey, privateKeyValid, ALL_BACKENDS } from './crypto/backend.js'
export { CryptoError } from './crypto/types.js'
export type {
  BackendName,
  CryptoBackend,
  CryptoErrorCode,
  FrameCipher,
  FrameSecrets,
  KeccakState,
  PacketCheck,
  PacketError,
  Signature,
} from './crypto/types.js'
export { Node } from './enode/node.js'
export { parseEnode, formatEnode, EnodeURLError } from './enode/url.js'
export { ENR, ENRError, MAX_RECORD_SIZE, type ENRFields, type ENRErrorCode } from './enode/enr.js'

// discovery (discv4)
export { Discv4, DiscoveryError, type Discv4Options, type Discv4Stats, type Discv4Events, type DropReason } from './discover/udp.js'
export { NodeDB, NodeDBClosedError, type NodeDBOptions } from './discover/nodedb.js'
export { Table, type LookupTarget } from './discover/table.js'
export { lookup, lookupIterator, randomWalk, ALPHA } from './discover/lookup.js'
export { DatadirLockedError } from './discover/datadir-lock.js'
export {
  encodePacket,
  decodePacket,
  PacketType,
  WireError,
  MAX_PACKET_SIZE,
  type Packet,
  type Decoded,
  type WireErrorCode,
} from './discover/wire.js'

// DNS discovery (EIP-1459)
export { DnsClient, DnsDiscError, makeTree, parseLink, type DnsClientOptions, type TreeResult } from './dnsdisc/index.js'

// eth protocol pieces a crawler or client needs
export { encodeStatus, decodeStatus, emptyReply, EthMsg, EthError, ETH_PROTOCOL_LENGTHS, type Status } from './eth/status.js'
export { forkId, validateForkId, type ForkId, type ChainSpec, type ForkIdCheck } from './eth/forkid.js'
export { MAINNET, SEPOLIA, HOLESKY, HOODI, NETWORKS, classifyNetwork, matchForkHash, type NetworkName } from './eth/networks.js'

// RLPx transport
export {
  RLPxConnection,
  RLPxError,
  FrameCodec,
  InitiatorHandshake,
  RecipientHandshake,
  MAX_HANDSHAKE_SIZE,
  MAX_MESSAGE_SIZE,
  type RLPxErrorCode,
  type ConnectionOptions,
  type DialOptions,
  type Message,
} from './rlpx/index.js'

// p2p: server, peers, protocols
export { Server, ServerError, type ServerConfig, type ServerEvents } from './p2p/server.js'
export { DialScheduler, type DialerOptions } from './p2p/dial.js'
export {
  Peer,
  P2PError,
  DisconnectReason,
  disconnectReasonText,
  matchCaps,
  sendDisconnect,
  type P2PErrorCode,
  type PeerEnd,
  type PeerOptions,
  type Protocol,
  type MsgReadWriter,
  type Hello,
  type Cap,
} from './p2p/index.js'
export { NetRestrict, NetRestrictError } from './p2p/netrestrict.js'
export { ethProtocols, localStatus, EthStatusError, type EthProtocolOptions } from './eth/protocol.js'

// discv5
export { Discv5, Discv5Error, type Discv5Options, type Discv5Stats, type Discv5Events, type V5Target, type TalkHandler, type V5DropReason } from './discover/v5/udp.js'
export { v5Table, V5TableTransport, lookupDistances, type V5TableOptions } from './discover/v5/table.js'
export { V5WireError, type V5Message, type V5WireErrorCode } from './discover/v5/wire.js'
export { consensusInfo, matchForkDigest, clientEntry, quicPorts, type ConsensusInfo } from './eth/consensus.js'

// the crawler and its loopback testnet
export {
  Crawler,
  CrawlError,
  type CrawlerOptions,
  type CrawlerEvents,
  type CrawlRecord,
  type CrawlProgress,
  type CrawlProtocol,
  type CrawlTransport,
  type CrawlV5,
  type PreviousNode,
  type CrawlErrorCode,
} from './crawler/crawl.js'
export { startTestnet, TestnetError, type Testnet, type TestnetNode, type TestnetOptions, type Protocol as TestnetProtocol } from './testnet/testnet.js'
