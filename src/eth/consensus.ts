/**
 * What a consensus-layer node's record says: the `eth2` entry (SSZ ENRForkID: fork digest ‖ next fork
 * version ‖ next fork epoch, little-endian), the `attnets` / `syncnets` subnet bitfields, the custody
 * group count (`cgc`), an EIP-7636 `client` entry and QUIC ports.
 *
 * A fork digest is the first 4 bytes of sha256(fork version padded to 32 ‖ genesis validators root);
 * from Fulu on (EIP-7892) it is further XORed with sha256(epoch ‖ max blobs, both uint64 little-
 * endian) of the blob parameters in force. Networks and forks from the public chain configurations
 * (consensus-specs configs/mainnet.yaml and eth-clients/{sepolia,holesky,hoodi} metadata/config.yaml).
 */
import { createHash } from 'node:crypto'
import { asBytes, asList, asUint, type RLPItem } from '../util/rlp.js'

interface ConsensusChain {
  name: string
  genesisValidatorsRoot: string
  /** [fork name, version (hex), activation epoch] in order */
  forks: [string, string, number][]
  /** the blob parameters of Electra, then each blob-parameter-only fork: [name, epoch, max blobs] */
  blobSchedule: [string, number, number][]
}

const CHAINS: ConsensusChain[] = [
  {
    name: 'mainnet',
    genesisValidatorsRoot: '4b363db94e286120d76eb905340fdd4e54bfe9f06bf33ff6cf5ad27f511bfe95',
    forks: [
      ['phase0', '00000000', 0],
      ['altair', '01000000', 74240],
      ['bellatrix', '02000000', 144896],
      ['capella', '03000000', 194048],
      ['deneb', '04000000', 269568],
      ['electra', '05000000', 364032],
      ['fulu', '06000000', 411392],
    ],
    blobSchedule: [
      ['fulu', 364032, 9],
      ['bpo1', 412672, 15],
      ['bpo2', 419072, 21],
    ],
  },
  {
    name: 'sepolia',
    genesisValidatorsRoot: 'd8ea171f3c94aea21ebc42a1ed61052acf3f9209c00e4efbaaddac09ed9b8078',
    forks: [
      ['phase0', '90000069', 0],
      ['altair', '90000070', 50],
      ['bellatrix', '90000071', 100],
      ['capella', '90000072', 56832],
      ['deneb', '90000073', 132608],
      ['electra', '90000074', 222464],
      ['fulu', '90000075', 272640],
    ],
    blobSchedule: [
      ['fulu', 222464, 9],
      ['bpo1', 274176, 15],
      ['bpo2', 275712, 21],
    ],
  },
  {
    name: 'holesky',
    genesisValidatorsRoot: '9143aa7c615a7f7115e2b6aac319c03529df8242ae705fba9df39b79c59fa8b1',
    forks: [
      ['phase0', '01017000', 0],
      ['altair', '02017000', 0],
      ['bellatrix', '03017000', 0],
      ['capella', '04017000', 256],
      ['deneb', '05017000', 29696],
      ['electra', '06017000', 115968],
      ['fulu', '07017000', 165120],
    ],
    blobSchedule: [
      ['fulu', 115968, 9],
      ['bpo1', 166400, 15],
      ['bpo2', 167936, 21],
    ],
  },
  {
    name: 'hoodi',
    genesisValidatorsRoot: '212f13fc4df078b6cb7db228f1c8307566dcecf900867401a92023d7ba99cb5f',
    forks: [
      ['phase0', '10000910', 0],
      ['altair', '20000910', 0],
      ['bellatrix', '30000910', 0],
      ['capella', '40000910', 0],
      ['deneb', '50000910', 0],
      ['electra', '60000910', 2048],
      ['fulu', '70000910', 50688],
    ],
    blobSchedule: [
      ['fulu', 2048, 9],
      ['bpo1', 52480, 15],
      ['bpo2', 54016, 21],
    ],
  },
]

/** the fork digest of `version` on a chain with this genesis validators root (pre-Fulu rule) */
export function forkDataDigest(version: Uint8Array, genesisValidatorsRoot: Uint8Array): Uint8Array {
  const leaf = new Uint8Array(32)
  leaf.set(version, 0)
  return createHash('sha256').update(leaf).update(genesisValidatorsRoot).digest().subarray(0, 4)
}

/** EIP-7892: the base digest XORed with the blob parameters' hash */
export function blobDigest(base: Uint8Array, epoch: number, maxBlobs: number): Uint8Array {
  const b = Buffer.alloc(16)
  b.writeBigUInt64LE(BigInt(epoch), 0)
  b.writeBigUInt64LE(BigInt(maxBlobs), 8)
  const h = createHash('sha256').update(b).digest()
  return Uint8Array.from(base, (x, i) => x ^ h[i]!)
}

/** fork digest (hex) → network and fork */
const DIGESTS: ReadonlyMap<string, { network: string; fork: string }> = (() => {
  const m = new Map<string, { network: string; fork: string }>()
  for (const c of CHAINS) {
    const gvr = Buffer.from(c.genesisValidatorsRoot, 'hex')
    for (const [fork, version] of c.forks) {
      const base = forkDataDigest(Buffer.from(version, 'hex'), gvr)
      if (fork !== 'fulu') {
        m.set(Buffer.from(base).toString('hex'), { network: c.name, fork })
        continue
      }
      for (const [name, epoch, maxBlobs] of c.blobSchedule) m.set(Buffer.from(blobDigest(base, epoch, maxBlobs)).toString('hex'), { network: c.name, fork: name })
    }
  }
  return m
})()

/** The network and fork of a 4-byte fork digest, when it is one of the known chains'. */
export function matchForkDigest(digest: Uint8Array): { network: string; fork: string } | undefined {
  return DIGESTS.get(Buffer.from(digest).toString('hex'))
}

/** what a record's consensus entries say */
export interface ConsensusInfo {
  /** hex */
  forkDigest: string
  network: string
  fork?: string
  /** hex */
  nextForkVersion: string
  /** epoch of the next fork, or null when none is scheduled (far future) */
  nextForkEpoch: number | null
  /** attestation subnets subscribed (of 64) */
  attnets?: number
  /** sync committee subnets (of 4) */
  syncnets?: number
  /** custody group count (Fulu) */
  custodyGroups?: number
}

function bits(b: Uint8Array): number {
  let n = 0
  for (const x of b) for (let v = x; v; v &= v - 1) n++
  return n
}

/** Read the consensus entries of a record's entries; undefined without an `eth2` entry or when it is malformed. */
export function consensusInfo(entries: ReadonlyMap<string, RLPItem>): ConsensusInfo | undefined {
  const eth2 = entries.get('eth2')
  if (!(eth2 instanceof Uint8Array) || eth2.length < 16) return undefined
  const digest = eth2.subarray(0, 4)
  const epoch = Buffer.from(eth2.subarray(8, 16)).readBigUInt64LE(0)
  const known = matchForkDigest(digest)
  const info: ConsensusInfo = {
    forkDigest: Buffer.from(digest).toString('hex'),
    network: known?.network ?? 'unknown',
    nextForkVersion: Buffer.from(eth2.subarray(4, 8)).toString('hex'),
    nextForkEpoch: epoch >= 2n ** 53n ? null : Number(epoch),
  }
  if (known) info.fork = known.fork
  const att = entries.get('attnets')
  if (att instanceof Uint8Array && att.length <= 8) info.attnets = bits(att)
  const sync = entries.get('syncnets')
  if (sync instanceof Uint8Array && sync.length <= 1) info.syncnets = bits(sync)
  try {
    const cgc = entries.get('cgc')
    if (cgc !== undefined) info.custodyGroups = asUint(cgc, 'cgc', 2)
  } catch {
    // a malformed entry says nothing
  }
  return info
}

/** An EIP-7636 `client` entry ([name, version, build?]) as "name/version", when present and readable. */
export function clientEntry(entries: ReadonlyMap<string, RLPItem>): string | undefined {
  if (!entries.has('client')) return undefined
  try {
    const l = asList(entries.get('client'), 'client')
    const text = l.slice(0, 2).map((x) => new TextDecoder('utf-8', { fatal: true }).decode(asBytes(x, 'client field')))
    const s = text.filter(Boolean).join('/')
    // peer-controlled: printable and short
    return /^[\x20-\x7e]{1,100}$/.test(s) ? s : undefined
  } catch {
    return undefined
  }
}

/** the QUIC ports a record announces (`quic`, `quic6`) */
export function quicPorts(entries: ReadonlyMap<string, RLPItem>): { quic?: number; quic6?: number } {
  const out: { quic?: number; quic6?: number } = {}
  for (const k of ['quic', 'quic6'] as const) {
    try {
      const v = entries.get(k)
      if (v !== undefined) out[k] = asUint(v, k, 2)
    } catch {
      // malformed: left out
    }
  }
  return out
}

/** An `eth2` entry value (for records we make: the testnet's consensus nodes) */
export function eth2Entry(digest: Uint8Array, nextVersion: Uint8Array, nextEpoch: bigint): Uint8Array {
  const out = Buffer.alloc(16)
  Buffer.from(digest).copy(out, 0)
  Buffer.from(nextVersion).copy(out, 4)
  out.writeBigUInt64LE(nextEpoch, 8)
  return out
}

/** the current (latest) fork digest of a known chain, for test records */
export function latestDigest(network: string): Uint8Array {
  for (const [digest, v] of DIGESTS) if (v.network === network && v.fork === 'bpo2') return Buffer.from(digest, 'hex')
  throw new RangeError(`unknown consensus network ${network}`)
}
