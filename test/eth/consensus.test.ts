/** Consensus-layer record entries: fork digests of the public chains, eth2/attnets/syncnets/client decoding. */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { clientEntry, consensusInfo, eth2Entry, latestDigest, matchForkDigest, quicPorts } from '../../src/eth/consensus.js'
import { uintBytes } from '../../src/util/rlp.js'

it('mainnet fork digests, phase0 through the blob-parameter forks, as the network publishes them', () => {
  const want: [string, string][] = [
    ['b5303f2a', 'phase0'],
    ['afcaaba0', 'altair'],
    ['4a26c58b', 'bellatrix'],
    ['bba4da96', 'capella'],
    ['6a95a1a9', 'deneb'],
    ['ad532ceb', 'electra'],
    ['cc2c5cdb', 'fulu'],
    ['cb0d1acc', 'bpo1'],
    ['8c9f62fe', 'bpo2'],
  ]
  for (const [hex, fork] of want) assert.deepEqual(matchForkDigest(Buffer.from(hex, 'hex')), { network: 'mainnet', fork })
  assert.equal(Buffer.from(latestDigest('mainnet')).toString('hex'), '8c9f62fe')
  assert.equal(matchForkDigest(Buffer.from('01020304', 'hex')), undefined)
  // the testnets' digests are distinct from mainnet's and from each other
  const nets = ['sepolia', 'holesky', 'hoodi'].map((n) => Buffer.from(latestDigest(n)).toString('hex'))
  assert.equal(new Set([...nets, '8c9f62fe']).size, 4)
})

it('reads eth2, attnets, syncnets, cgc, client and quic entries; tolerates malformed ones', () => {
  const entries = new Map<string, never>([
    ['eth2', eth2Entry(Buffer.from('8c9f62fe', 'hex'), Buffer.from('07000000', 'hex'), 2n ** 64n - 1n)],
    ['attnets', Uint8Array.of(0xff, 0x01, 0, 0, 0, 0, 0, 0x80)],
    ['syncnets', Uint8Array.of(0x05)],
    ['cgc', uintBytes(8)],
    ['client', [new TextEncoder().encode('Lighthouse'), new TextEncoder().encode('v7.1.0')]],
    ['quic', uintBytes(9001)],
  ] as never)
  assert.deepEqual(consensusInfo(entries), { forkDigest: '8c9f62fe', network: 'mainnet', fork: 'bpo2', nextForkVersion: '07000000', nextForkEpoch: null, attnets: 10, syncnets: 2, custodyGroups: 8 })
  assert.equal(clientEntry(entries), 'Lighthouse/v7.1.0')
  assert.deepEqual(quicPorts(entries), { quic: 9001 })
  const bad = new Map<string, never>([
    ['eth2', Uint8Array.of(1, 2, 3)],
    ['client', [Uint8Array.of(0xff, 0xfe)]],
    ['quic', Uint8Array.of(1, 2, 3)],
  ] as never)
  assert.equal(consensusInfo(bad), undefined)
  assert.equal(clientEntry(bad), undefined)
  assert.deepEqual(quicPorts(bad), {})
})
