/**
 * discv5 against @chainsafe/discv5 (Lodestar's), both ends of each exchange in this process over
 * loopback UDP, so each figure is what one process spends on both sides:
 *   - handshakes: a PING to a node never spoken to (random packet, WHOAREYOU, handshake, PONG)
 *   - PING → PONG inside an established session
 *   - FINDNODE → NODES with the same 16 records again and again inside a session: ours keeps the
 *     records it verified, keyed by their bytes (a crawl meets each record in dozens of answers), so
 *     this is the answer path without signature checks; @chainsafe/discv5 checks each one every time.
 *     The codec rows (discv5-codec.ts) compare decoding with every signature checked on both sides.
 * Requests go 32 at a time, so the figure is work, not round-trip latency. Ours runs on each backend.
 */
import { loadBackend, randomPrivateKey } from '../crypto/backend.js'
import type { BackendName, CryptoBackend } from '../crypto/types.js'
import { ENR } from '../enode/enr.js'
import { Discv5 } from '../discover/v5/udp.js'
import { logDistance } from '../discover/kademlia.js'
import type { Row, Target } from './harness.js'
import { freeUdpPorts } from '../util/ports.js'
import { discv5CodecBench } from './discv5-codec.js'

const HANDSHAKES = 200
const ROUNDS = 2000
const WINDOW = 32

interface Side {
  ping(i: number): Promise<unknown>
  findnode(i: number): Promise<unknown>
  close(): Promise<void>
}

/** run `n` calls of `f`, `WINDOW` at a time; calls per second */
async function rate(n: number, f: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0
  const start = performance.now()
  await Promise.all(
    Array.from({ length: WINDOW }, async () => {
      while (next < n) await f(next++)
    }),
  )
  return (n * 1000) / (performance.now() - start)
}

/** records of fresh keys at log distance 256 from `id` */
function recordsAt256(id: Uint8Array, n: number, b: CryptoBackend): ENR[] {
  const out: ENR[] = []
  for (let i = 0; out.length < n; i++) {
    const r = ENR.sign(randomPrivateKey(), { seq: 1n, ip: '127.0.0.9', udp: 9000 + i }, b)
    if (logDistance(r.nodeId, id) === 256) out.push(r)
  }
  return out
}

async function ours(b: CryptoBackend): Promise<{ handshakes: number; pings: number; nodes: number }> {
  const mk = (extra: Partial<Parameters<typeof Discv5.listen>[0]> = {}): Promise<Discv5> =>
    Discv5.listen({ privateKey: randomPrivateKey(), host: '127.0.0.1', port: 0, enr: { ip: '127.0.0.1' }, backend: b, replyTimeoutMs: 5000, ...extra })
  // handshakes: one client against many servers it has never met
  const client = await mk()
  const servers = await Promise.all(Array.from({ length: HANDSHAKES }, () => mk()))
  const handshakes = await rate(HANDSHAKES, (i) => client.ping(servers[i]!.localENR))
  await Promise.all(servers.map((s) => s.close()))
  const records: ENR[] = []
  const server = await mk({ nodes: () => records })
  records.push(...recordsAt256(server.id, 16, b))
  await client.ping(server.localENR)
  const pings = await rate(ROUNDS, () => client.ping(server.localENR))
  const nodes = await rate(ROUNDS / 4, async () => {
    const got = await client.findnode(server.localENR, [256])
    if (got.length !== 16) throw new Error(`NODES held ${got.length} records`)
  })
  await Promise.all([client.close(), server.close()])
  return { handshakes, pings, nodes }
}


async function chainsafe(): Promise<{ handshakes: number; pings: number; nodes: number } | undefined> {
  let cs: typeof import('@chainsafe/discv5')
  let enrMod: typeof import('@chainsafe/enr')
  let crypto: typeof import('@libp2p/crypto/keys')
  let ma: typeof import('@multiformats/multiaddr')
  try {
    cs = await import('@chainsafe/discv5')
    enrMod = await import('@chainsafe/enr')
    crypto = await import('@libp2p/crypto/keys')
    ma = await import('@multiformats/multiaddr')
  } catch {
    return undefined
  }
  type Key = Parameters<typeof enrMod.SignableENR.createFromPrivateKey>[0]
  const mk = async (port: number): Promise<InstanceType<typeof cs.Discv5>> => {
    const key = (await crypto.generateKeyPair('secp256k1')) as unknown as Key
    const enr = enrMod.SignableENR.createFromPrivateKey(key)
    enr.ip = '127.0.0.1'
    enr.udp = port
    const d = cs.Discv5.create({ enr, privateKey: key, bindAddrs: { ip4: ma.multiaddr(`/ip4/127.0.0.1/udp/${port}`) }, config: { enrUpdate: false, pingInterval: 3600_000, requestTimeout: 5000 } })
    await d.start()
    return d
  }
  const ports = await freeUdpPorts(HANDSHAKES + 2)
  const client = await mk(ports[0]!)
  const servers = await Promise.all(ports.slice(2).map((p) => mk(p)))
  const handshakes = await rate(HANDSHAKES, (i) => client.sendPing(servers[i]!.enr.toENR()))
  await Promise.all(servers.map((s) => s.stop()))
  const server = await mk(ports[1]!)
  // 16 records in the bucket at distance 256 from the server
  const serverId = ENR.parseText(server.enr.toENR().encodeTxt()).nodeId
  for (const r of recordsAt256(serverId, 16, loadBackend('native'))) server.addEnr(enrMod.ENR.decodeTxt(r.toText()))
  const remote = server.enr.toENR()
  await client.sendPing(remote)
  const pings = await rate(ROUNDS, () => client.sendPing(remote))
  // its bucket keeps 15 of the 16 (it evicts one it has not yet heard from): the figure is per answer
  let held = 0
  const nodes = await rate(ROUNDS / 4, async () => {
    held = (await client.sendFindNode(remote, [256])).length
    if (held < 15) throw new Error(`NODES held ${held} records`)
  })
  if (held !== 16) console.log(`(@chainsafe/discv5 answered FINDNODE with ${held} of the 16 records it was given)`)
  await Promise.all([client.stop(), server.stop()])
  return { handshakes, pings, nodes }
}

/** discv5 suite: handshakes, PINGs and NODES answers per second, ethp2p against @chainsafe/discv5 on loopback. */
export async function discv5Bench(names: readonly BackendName[]): Promise<{ rows: Row[]; targets: Target[] }> {
  const rows: Row[] = []
  const mine: Record<string, { handshakes: number; pings: number; nodes: number }> = {}
  const loaded: CryptoBackend[] = []
  for (const name of names) {
    let b: CryptoBackend
    try {
      b = loadBackend(name)
    } catch (e) {
      console.error(`skipping ${name}: ${(e as Error).message}`)
      continue
    }
    loaded.push(b)
    const r = await ours(b)
    mine[name] = r
    rows.push(
      { op: 'discv5 handshake (both sides)', impl: name, hz: r.handshakes, rme: 0 },
      { op: 'discv5 PING→PONG in a session', impl: name, hz: r.pings, rme: 0 },
      { op: 'discv5 FINDNODE→NODES ×16 known records', impl: name, hz: r.nodes, rme: 0 },
    )
  }
  const partner = await chainsafe()
  const targets: Target[] = []
  if (partner) {
    rows.push(
      { op: 'discv5 handshake (both sides)', impl: 'chainsafe', hz: partner.handshakes, rme: 0 },
      { op: 'discv5 PING→PONG in a session', impl: 'chainsafe', hz: partner.pings, rme: 0 },
      { op: 'discv5 FINDNODE→NODES ×16 known records', impl: 'chainsafe', hz: partner.nodes, rme: 0 },
    )
    const best = mine['native'] ?? mine['wasm'] ?? mine['js']
    if (best) {
      console.log(
        `ours ÷ @chainsafe/discv5: handshake ${(best.handshakes / partner.handshakes).toFixed(1)}×, PING ${(best.pings / partner.pings).toFixed(1)}×, NODES ${(best.nodes / partner.nodes).toFixed(1)}×`,
      )
      targets.push({ what: 'handshake speed-up over @chainsafe/discv5', value: best.handshakes / partner.handshakes, min: 10 })
    }
  } else console.log('@chainsafe/discv5 is not installed: partner rows skipped')
  const codec = await discv5CodecBench(loaded)
  rows.push(...codec)
  const hz = (op: string, impl: string): number => codec.find((r) => r.op === op && r.impl === impl)?.hz ?? NaN
  const fastest = loaded[0]?.name
  if (fastest && codec.some((r) => r.impl === 'chainsafe'))
    for (const op of ['discv5 decode+decrypt PONG', 'discv5 decode+decrypt NODES ×16 records'])
      targets.push({ what: `${op.slice(7)} speed-up over @chainsafe/discv5`, value: hz(op, fastest) / hz(op, 'chainsafe'), min: 5 })
  return { rows, targets }
}
