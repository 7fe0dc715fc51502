/**
 * The public Ethereum networks a crawler meets, with what EIP-2124 needs to tell them apart.
 *
 * Numbers as scheduled in go-ethereum's params/config.go and core/genesis.go at v1.17.6-unstable
 * (master of 2026-08-20): Prague/Pectra, Osaka/Fusaka and the blob-parameter-only forks BPO1 and BPO2
 * everywhere, nothing later scheduled yet. Every value is pinned by the fork ids in geth's
 * core/forkid tests (see test/eth/forkid.test.ts), so a typo here fails a test.
 */
import { hex } from '../crypto/bytes.js'
import { forkHashes, gatherForks, type ChainSpec, type Fork, type ForkId } from './forkid.js'

/** The networks whose chain specs ship with ethp2p. */
export type NetworkName = 'mainnet' | 'sepolia' | 'holesky' | 'hoodi'

const genesisHash = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'))
const atBlock = (name: string, block: bigint): Fork => ({ name, block })
const atTime = (name: string, time: bigint): Fork => ({ name, time })
/** Rulesets a testnet enables at genesis: listed so the chain is complete, skipped by the checksum. */
const fromGenesis = (...names: string[]): Fork[] => names.map((n) => atBlock(n, 0n))

/** The post-merge timestamp forks common to all four networks, in order. */
const timeForks = (shanghai: bigint, cancun: bigint, prague: bigint, osaka: bigint, bpo1: bigint, bpo2: bigint): Fork[] => [
  atTime('Shanghai', shanghai),
  atTime('Cancun', cancun),
  atTime('Prague', prague),
  atTime('Osaka', osaka),
  atTime('BPO1', bpo1),
  atTime('BPO2', bpo2),
]

/** Ethereum mainnet: network id 1, its genesis and every fork, for fork ids. */
export const MAINNET: ChainSpec = {
  name: 'mainnet',
  networkId: 1n,
  genesisHash: genesisHash('d4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3'),
  genesisTime: 0n,
  forks: [
    atBlock('Homestead', 1_150_000n),
    atBlock('DAO', 1_920_000n),
    atBlock('Tangerine Whistle', 2_463_000n),
    atBlock('Spurious Dragon', 2_675_000n),
    atBlock('Byzantium', 4_370_000n),
    atBlock('Constantinople', 7_280_000n),
    atBlock('Petersburg', 7_280_000n),
    atBlock('Istanbul', 9_069_000n),
    atBlock('Muir Glacier', 9_200_000n),
    atBlock('Berlin', 12_244_000n),
    atBlock('London', 12_965_000n),
    atBlock('Arrow Glacier', 13_773_000n),
    atBlock('Gray Glacier', 15_050_000n),
    ...timeForks(1681338455n, 1710338135n, 1746612311n, 1764798551n, 1765290071n, 1767747671n),
  ],
}

const PRE_MERGE = ['Homestead', 'Tangerine Whistle', 'Spurious Dragon', 'Byzantium', 'Constantinople', 'Petersburg', 'Istanbul', 'Berlin', 'London']

/** The Sepolia testnet. */
export const SEPOLIA: ChainSpec = {
  name: 'sepolia',
  networkId: 11155111n,
  genesisHash: genesisHash('25a5cc106eea7138acab33231d7160d69cb777ee0c2c553fcddf5138993e6dd9'),
  genesisTime: 1633267481n,
  forks: [
    ...fromGenesis(...PRE_MERGE, 'Muir Glacier'),
    // Sepolia's merge came with a block fork so that unupgraded nodes split off by fork id
    atBlock('Merge Netsplit', 1_735_371n),
    ...timeForks(1677557088n, 1706655072n, 1741159776n, 1760427360n, 1761017184n, 1761607008n),
  ],
}

/** The Holesky testnet. */
export const HOLESKY: ChainSpec = {
  name: 'holesky',
  networkId: 17000n,
  genesisHash: genesisHash('b5f7f912443c940f21fd611f12828d75b534364ed9e95ca4e307729a4661bde4'),
  genesisTime: 1695902100n,
  forks: [...fromGenesis(...PRE_MERGE), ...timeForks(1696000704n, 1707305664n, 1740434112n, 1759308480n, 1759800000n, 1760389824n)],
}

/** The Hoodi testnet. */
export const HOODI: ChainSpec = {
  name: 'hoodi',
  networkId: 560048n,
  genesisHash: genesisHash('bbe312868b376a3001692a646dd2d7d1e4406380dfd86b98aa8a34d1557c971b'),
  genesisTime: 1742212800n,
  // Shanghai and Cancun are at timestamp 0, i.e. part of the genesis ruleset
  forks: [...fromGenesis(...PRE_MERGE, 'Muir Glacier', 'Merge Netsplit'), ...timeForks(0n, 0n, 1742999832n, 1761677592n, 1762365720n, 1762955544n)],
}

/** The known chain specs by name. */
export const NETWORKS: Readonly<Record<NetworkName, ChainSpec>> = { mainnet: MAINNET, sepolia: SEPOLIA, holesky: HOLESKY, hoodi: HOODI }

/** One fork state of a known network, as identified by its FORK_HASH. */
export interface KnownForkHash {
  network: NetworkName
  /** the fork(s) activated last in this state ('genesis' before the first one), joined by '+' */
  fork: string
  /** the FORK_NEXT an up-to-date node in this state announces (0 for the latest state) */
  next: bigint
}

/** Names of the chain's fork states, aligned with forkHashes(). */
function forkStateNames(chain: ChainSpec): string[] {
  const { byBlock, byTime } = gatherForks(chain)
  const named = (value: bigint, key: 'block' | 'time'): string =>
    chain.forks
      .filter((f) => f[key] === value)
      .map((f) => f.name)
      .join('+')
  return ['genesis', ...byBlock.map((b) => named(b, 'block')), ...byTime.map((t) => named(t, 'time'))]
}

/** hex FORK_HASH → state, over all known networks (no two of them share a hash). */
const BY_HASH: ReadonlyMap<string, KnownForkHash> = new Map(
  Object.entries(NETWORKS).flatMap(([network, chain]) => {
    const { byBlock, byTime } = gatherForks(chain)
    const nexts = [...byBlock, ...byTime, 0n]
    const names = forkStateNames(chain)
    return forkHashes(chain).map((h, i) => [hex(h), { network: network as NetworkName, fork: names[i]!, next: nexts[i]! }] as const)
  }),
)

/** Which known network and fork state a FORK_HASH belongs to, if any (e.g. an ENR `eth` entry). */
export function matchForkHash(hash: Uint8Array): KnownForkHash | undefined {
  return hash.length === 4 ? BY_HASH.get(hex(hash)) : undefined
}

/**
 * The network a peer is on, from its Status: the network id alone is ambiguous (Ethereum Classic and
 * many private chains also use 1), so the fork hash must belong to the known chain with that id.
 */
export function classifyNetwork(networkId: bigint | number, id: Pick<ForkId, 'hash'>): NetworkName | 'unknown' {
  const match = matchForkHash(id.hash)
  return match !== undefined && NETWORKS[match.network].networkId === BigInt(networkId) ? match.network : 'unknown'
}
