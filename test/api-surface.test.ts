/**
 * The public surface: exactly these names are exported from 'ethp2p' (values; types are checked by
 * the compiler). A change here is a change to the API: make it deliberately, and mind semver.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { it } from 'node:test'
import * as api from '../src/index.js'

const PUBLIC = [
  'ALL_BACKENDS',
  'ALPHA',
  'CrawlError',
  'Crawler',
  'CryptoError',
  'DatadirLockedError',
  'DialScheduler',
  'DisconnectReason',
  'DiscoveryError',
  'Discv4',
  'Discv5',
  'Discv5Error',
  'DnsClient',
  'DnsDiscError',
  'ENR',
  'ENRError',
  'ETH_PROTOCOL_LENGTHS',
  'EnodeURLError',
  'EthError',
  'EthMsg',
  'EthStatusError',
  'FrameCodec',
  'HOLESKY',
  'HOODI',
  'InitiatorHandshake',
  'MAINNET',
  'MAX_HANDSHAKE_SIZE',
  'MAX_MESSAGE_SIZE',
  'MAX_PACKET_SIZE',
  'MAX_RECORD_SIZE',
  'NETWORKS',
  'NetRestrict',
  'NetRestrictError',
  'Node',
  'NodeDB',
  'NodeDBClosedError',
  'P2PError',
  'PacketType',
  'Peer',
  'RLPxConnection',
  'RLPxError',
  'RecipientHandshake',
  'SEPOLIA',
  'Server',
  'ServerError',
  'Table',
  'TestnetError',
  'V5TableTransport',
  'V5WireError',
  'WireError',
  'backend',
  'classifyNetwork',
  'clientEntry',
  'consensusInfo',
  'decodePacket',
  'decodeStatus',
  'disconnectReasonText',
  'emptyReply',
  'encodePacket',
  'encodeStatus',
  'ethProtocols',
  'forkId',
  'formatEnode',
  'loadBackend',
  'localStatus',
  'lookup',
  'lookupDistances',
  'lookupIterator',
  'makeTree',
  'matchCaps',
  'matchForkDigest',
  'matchForkHash',
  'parseEnode',
  'parseLink',
  'privateKeyValid',
  'quicPorts',
  'randomPrivateKey',
  'randomWalk',
  'sendDisconnect',
  'startTestnet',
  'v5Table',
  'validateForkId',
]

it('exports exactly the public names', () => {
  assert.deepEqual(Object.keys(api).sort(), [...PUBLIC].sort())
})

it('reaches nothing else: package.json exports only the entry point and itself', () => {
  const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as { exports: Record<string, unknown> }
  assert.deepEqual(Object.keys(pkg.exports).sort(), ['.', './package.json'])
})
