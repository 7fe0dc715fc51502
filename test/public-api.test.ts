/**
 * The semver surface: every name src/index.ts exports, values and types, in one sorted list. A change
 * to the public API shows up here as a failing test, so it is made on purpose (and the version bumped
 * to match); internal modules stay unreachable through package.json's `exports`.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, it } from 'node:test'

// one name a line, sorted by code point: a merge that adds names adds lines
const PUBLIC = [
  'ALL_BACKENDS',
  'ALPHA',
  'AttachOptions',
  'BackendName',
  'Behaviour',
  'BlockHeader',
  'Cap',
  'ChainHead',
  'ChainSpec',
  'ConditionStats',
  'ConnectionOptions',
  'ConsensusInfo',
  'CrawlError',
  'CrawlErrorCode',
  'CrawlProgress',
  'CrawlProtocol',
  'CrawlRecord',
  'CrawlTransport',
  'CrawlV5',
  'Crawler',
  'CrawlerEvents',
  'CrawlerOptions',
  'CryptoBackend',
  'CryptoError',
  'CryptoErrorCode',
  'DatadirLockedError',
  'Decoded',
  'DialInfo',
  'DialOptions',
  'DisconnectReason',
  'Discovery',
  'DiscoveryError',
  'DiscoveryErrorCode',
  'DiscoveryRecord',
  'Discv4',
  'Discv4Events',
  'Discv4Options',
  'Discv4Stats',
  'Discv5',
  'Discv5Events',
  'Discv5Options',
  'Discv5Stats',
  'DnsClient',
  'DnsClientOptions',
  'DnsDiscError',
  'DnsDiscErrorCode',
  'DropReason',
  'ENR',
  'ENRError',
  'ENRErrorCode',
  'ENRFields',
  'ENRRequest',
  'ENRResponse',
  'ETH_PROTOCOL_LENGTHS',
  'Endpoint',
  'EndpointStatement',
  'EnodeURLError',
  'EthError',
  'EthErrorCode',
  'EthMessage',
  'EthMsg',
  'EthProtocolOptions',
  'EthSession',
  'EthStatusError',
  'FindNode',
  'Fork',
  'ForkId',
  'ForkIdCheck',
  'ForkIdRejection',
  'FrameCipher',
  'FrameCodec',
  'FrameOptions',
  'FrameSecrets',
  'GetBlockHeaders',
  'HOLESKY',
  'HOODI',
  'HandshakeRandomness',
  'HandshakeResult',
  'Hello',
  'InitiatorHandshake',
  'KeccakState',
  'KnownForkHash',
  'LivenessOptions',
  'LookupOptions',
  'LookupTarget',
  'MAINNET',
  'MAX_HANDSHAKE_SIZE',
  'MAX_MESSAGE_SIZE',
  'MAX_PACKET_SIZE',
  'MAX_RECORD_SIZE',
  'MAX_TESTNET_NODES',
  'MatchedCap',
  'Message',
  'MsgReadWriter',
  'NETWORKS',
  'NeighborNode',
  'Neighbors',
  'NeighborsAnswer',
  'NetRestrict',
  'NetRestrictError',
  'NetworkName',
  'Node',
  'NodeDB',
  'NodeDBClosedError',
  'NodeDBOptions',
  'P2PError',
  'P2PErrorCode',
  'Packet',
  'PacketCheck',
  'PacketError',
  'PacketType',
  'Peer',
  'PeerEnd',
  'PeerOptions',
  'Ping',
  'Pong',
  'PreviousNode',
  'Protocol',
  'ProtocolPeer',
  'RLPItem',
  'RLPxBehaviour',
  'RLPxConnection',
  'RLPxError',
  'RLPxErrorCode',
  'RLPxProfile',
  'RandomWalkOptions',
  'RateLimitOptions',
  'RecipientHandshake',
  'RequestOptions',
  'ResponderStats',
  'RootEntry',
  'SEPOLIA',
  'Server',
  'ServerConfig',
  'ServerError',
  'ServerEvents',
  'SharedDiscv5Options',
  'Signature',
  'Status',
  'StatusLegacy',
  'StatusRange',
  'Table',
  'TableDB',
  'TableOptions',
  'TableTransport',
  'TalkHandler',
  'TargetTable',
  'Testnet',
  'TestnetError',
  'TestnetNode',
  'TestnetOptions',
  'TestnetProtocol',
  'Tree',
  'TreeLink',
  'TreeResult',
  'V5DropReason',
  'V5Message',
  'V5TableOptions',
  'V5TableTransport',
  'V5Target',
  'V5WireError',
  'V5WireErrorCode',
  'WireError',
  'WireErrorCode',
  'attachDiscv5',
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
  'listenDiscovery',
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

/** The names src/index.ts re-exports, split into values and type-only names, read from its export clauses. */
function declared(): { values: string[]; types: string[] } {
  const src = readFileSync(new URL('../src/index.ts', import.meta.url), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')
  assert.doesNotMatch(src, /export\s*\*/, 'no `export *`: every public name is listed by hand')
  const values: string[] = []
  const types: string[] = []
  for (const m of src.matchAll(/export\s+(type\s+)?\{([^}]*)\}\s*from/g)) {
    for (const raw of m[2]!.split(',')) {
      const item = raw.trim()
      if (!item) continue
      const typeOnly = Boolean(m[1]) || item.startsWith('type ')
      const name = item.replace(/^type\s+/, '').split(/\s+as\s+/).pop()!.trim()
      ;(typeOnly ? types : values).push(name)
    }
  }
  const rest = src.replace(/export\s+(type\s+)?\{[^}]*\}\s*from\s*'[^']*'/g, '')
  assert.doesNotMatch(rest, /\bexport\b/, 'src/index.ts only re-exports (export { … } from …)')
  return { values, types }
}

const root = join(import.meta.dirname, '..')
const byCode = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

describe('public API surface', () => {
  it('src/index.ts exports exactly the listed names (update PUBLIC on purpose when the API changes)', () => {
    const { values, types } = declared()
    const all = [...values, ...types].sort(byCode)
    assert.equal(new Set(all).size, all.length, 'no name exported twice')
    assert.deepEqual(all, [...PUBLIC].sort(byCode))
    assert.deepEqual(PUBLIC, [...PUBLIC].sort(byCode), 'PUBLIC stays sorted')
  })

  it('the value exports are exactly what the module holds at run time', async () => {
    const mod = await import('../src/index.js')
    assert.deepEqual(Object.keys(mod).sort(byCode), declared().values.sort(byCode))
  })

  it("package.json's exports reach the entry point and nothing inside", () => {
    // plain Node, not tsx: tsconfig's paths would map 'ethp2p' to src/ and hide what `exports` does
    const script = `
      const out = { main: import.meta.resolve('ethp2p'), inner: {} }
      for (const s of ${JSON.stringify(['ethp2p/dist/crypto/backend.js', 'ethp2p/dist/index.js', 'ethp2p/src/index.ts', 'ethp2p/native/wasm/ethp2p.wasm'])}) {
        try { out.inner[s] = import.meta.resolve(s) } catch (e) { out.inner[s] = e.code }
      }
      console.log(JSON.stringify(out))`
    const r = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' })) as {
      main: string
      inner: Record<string, string>
    }
    assert.equal(r.main, pathToFileURL(join(root, 'dist/index.js')).href)
    for (const [specifier, result] of Object.entries(r.inner)) assert.equal(result, 'ERR_PACKAGE_PATH_NOT_EXPORTED', specifier)
  })
})
