/**
 * ethp2p's public API: what an embedder imports, and nothing else. Every name here is part of the
 * package's semver surface (test/public-api.test.ts lists them); modules not re-exported here are
 * internal, and package.json's `exports` keeps them out of reach.
 *
 * @packageDocumentation
 */

// crypto backend (native addon, WASM, pure JS behind one interface)
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

// node identities and records
export { Node } from './enode/node.js'
export { parseEnode, formatEnode, EnodeURLError } from './enode/url.js'
export { ENR, ENRError, MAX_RECORD_SIZE, type ENRFields, type ENRErrorCode } from './enode/enr.js'
export type { RLPItem } from './util/rlp.js'

// discovery (discv4)
export { Discv4 } from './discover/udp.js'
export type { Discv4Options, Discv4Stats, Discv4Events, DropReason, NeighborsAnswer } from './discover/udp-options.js'
export { DiscoveryError, type DiscoveryErrorCode, type RequestOptions } from './discover/common.js'
export { attachDiscv5, listenDiscovery, type AttachOptions, type Discovery, type SharedDiscv5Options } from './discover/both.js'
export { NodeDB, NodeDBClosedError, type NodeDBOptions } from './discover/nodedb.js'
export { Table, type LookupTarget, type TableDB, type TableOptions, type TableTransport } from './discover/table.js'
export { lookup, lookupIterator, randomWalk, type LookupOptions, type RandomWalkOptions } from './discover/lookup.js'
export { ALPHA } from './discover/kademlia.js'
export { DatadirLockedError } from './discover/datadir-lock.js'
export type { EndpointStatement } from './discover/endpoint.js'
export type { RateLimitOptions } from './discover/ratelimit.js'
export {
  encodePacket,
  decodePacket,
  PacketType,
  WireError,
  MAX_PACKET_SIZE,
  type Packet,
  type Ping,
  type Pong,
  type FindNode,
  type Neighbors,
  type ENRRequest,
  type ENRResponse,
  type Endpoint,
  type NeighborNode,
  type Decoded,
  type WireErrorCode,
} from './discover/wire.js'

// DNS discovery (EIP-1459)
export {
  DnsClient,
  DnsDiscError,
  makeTree,
  parseLink,
  type DnsClientOptions,
  type DnsDiscErrorCode,
  type RootEntry,
  type Tree,
  type TreeLink,
  type TreeResult,
} from './dnsdisc/index.js'

// eth protocol pieces a crawler or client needs
export {
  encodeStatus,
  decodeStatus,
  emptyReply,
  EthMsg,
  EthError,
  ETH_PROTOCOL_LENGTHS,
  type Status,
  type StatusLegacy,
  type StatusRange,
  type EthErrorCode,
  type EthMessage,
} from './eth/status.js'
export { forkId, validateForkId, type ForkId, type ChainSpec, type ChainHead, type Fork, type ForkIdCheck, type ForkIdRejection } from './eth/forkid.js'
export { MAINNET, SEPOLIA, HOLESKY, HOODI, NETWORKS, classifyNetwork, matchForkHash, type NetworkName, type KnownForkHash } from './eth/networks.js'

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
  type FrameOptions,
  type HandshakeRandomness,
  type HandshakeResult,
  type Message,
} from './rlpx/index.js'

// p2p: server, peers, protocols
export { Server, ServerError, type ServerConfig, type ServerEvents } from './p2p/server.js'
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
  type ProtocolPeer,
  type MsgReadWriter,
  type MatchedCap,
  type Hello,
  type Cap,
} from './p2p/index.js'
export { NetRestrict, NetRestrictError } from './p2p/netrestrict.js'
export { ethProtocols, localStatus, EthStatusError, type EthProtocolOptions, type EthSession } from './eth/protocol.js'
export type { BlockHeader, GetBlockHeaders } from './eth/header.js'

// discv5
export { Discv5, type Discv5Options, type Discv5Stats, type Discv5Events, type V5Target, type TalkHandler, type V5DropReason } from './discover/v5/udp.js'
export { v5Table, V5TableTransport, lookupDistances, type V5TableOptions } from './discover/v5/table.js'
export { V5WireError, type V5Message, type V5WireErrorCode } from './discover/v5/wire.js'
export { consensusInfo, matchForkDigest, clientEntry, quicPorts, type ConsensusInfo } from './eth/consensus.js'

// the crawler and its loopback testnet
export { Crawler } from './crawler/crawl.js'
export { CrawlError, type CrawlerOptions, type CrawlerEvents, type CrawlProgress, type CrawlErrorCode } from './crawler/options.js'
export type { CrawlRecord, DiscoveryRecord, CrawlProtocol, PreviousNode } from './crawler/record.js'
export type { CrawlTransport, CrawlV5 } from './crawler/transport.js'
export type { DialInfo } from './crawler/dialer.js'
export { TargetTable } from './crawler/targets.js'
export { startTestnet, TestnetError, MAX_TESTNET_NODES, type Testnet, type TestnetNode, type TestnetOptions, type Protocol as TestnetProtocol } from './testnet/testnet.js'
export type { ConditionStats } from './testnet/conditions.js'
export type { Behaviour, ResponderStats } from './testnet/responder.js'
export type { RLPxBehaviour, RLPxProfile } from './testnet/rlpx.js'
export type { LivenessOptions } from './testnet/liveness.js'
