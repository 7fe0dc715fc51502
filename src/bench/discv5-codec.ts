/**
 * discv5 message decoding without sockets: the same ordinary-message packets (a PONG, and NODES
 * carrying 16 records in two packets of 8) unmasked, decrypted and decoded by ours and by
 * @chainsafe/discv5's own functions, record signatures checked on both sides. The network rows of
 * the suite include the event loop and the kernel; these are the codec alone.
 */
import { randomBytes } from 'node:crypto'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { dirname, join } from 'node:path'
import { randomPrivateKey } from '../crypto/backend.js'
import type { CryptoBackend } from '../crypto/types.js'
import { hex } from '../crypto/bytes.js'
import { ENR } from '../enode/enr.js'
import { decodeHeader, decodeMessage, encodeMessage, encodePacket, Flag, headerData, MessageType, type V5Message } from '../discover/v5/wire.js'
import { newBench, runBench, task, type Row } from './harness.js'

const RECORDS = 16
const PER_PACKET = 8
const BATCH = 64

interface Fixture {
  localId: Uint8Array
  key: Uint8Array
  pong: Uint8Array
  nodes: Uint8Array[]
}

/** an ordinary message packet from `srcId` to `destId`, sealed with `key` */
function packet(b: CryptoBackend, destId: Uint8Array, srcId: Uint8Array, key: Uint8Array, m: V5Message): Uint8Array {
  const nonce = randomBytes(12)
  const header = headerData(randomBytes(16), Flag.message, nonce, srcId)
  return encodePacket(destId, header, b.gcmSeal(key, nonce, encodeMessage(m), header), b)
}

function fixture(b: CryptoBackend): Fixture {
  const localId = randomBytes(32)
  const srcId = randomBytes(32)
  const key = randomBytes(16)
  const reqId = Uint8Array.of(1, 2, 3, 4)
  const pong = packet(b, localId, srcId, key, { type: MessageType.pong, reqId, enrSeq: 7n, ip: Uint8Array.of(127, 0, 0, 1), port: 30303 })
  const records = Array.from({ length: RECORDS }, (_, i) => ENR.sign(randomPrivateKey(), { seq: 1n, ip: '127.0.0.9', udp: 9000 + i, tcp: 9000 + i }, b).raw)
  const nodes: Uint8Array[] = []
  for (let i = 0; i < RECORDS; i += PER_PACKET)
    nodes.push(packet(b, localId, srcId, key, { type: MessageType.nodes, reqId, total: RECORDS / PER_PACKET, records: records.slice(i, i + PER_PACKET) }))
  return { localId, key, pong, nodes }
}

/** ours: unmask, decrypt, decode, and check each record's signature; the number of records */
function decodeOurs(f: Fixture, p: Uint8Array, b: CryptoBackend): number {
  const h = decodeHeader(p, f.localId, b)
  const pt = b.gcmOpen(f.key, h.nonce, h.message, h.ad)
  if (!pt) throw new Error('our packet did not open')
  const m = decodeMessage(pt)
  if (m.type !== MessageType.nodes) return 0
  for (const r of m.records) ENR.decode(r, b)
  return m.records.length
}

type Decoder = (f: Fixture, p: Uint8Array) => number

/** @chainsafe/discv5's decoding path (its message decoder is not in its exports map: loaded by file) */
async function chainsafeDecoder(): Promise<Decoder | undefined> {
  try {
    const pkt = await import('@chainsafe/discv5/packet')
    const { decryptMessage } = await import('@chainsafe/discv5')
    const lib = dirname(fileURLToPath(import.meta.resolve('@chainsafe/discv5')))
    const msg = (await import(pathToFileURL(join(lib, 'message', 'decode.js')).href)) as { decode(pt: Uint8Array): { type: number; enrs?: unknown[] } }
    return (f, p) => {
      const d = pkt.decodePacket(hex(f.localId), p)
      const m = msg.decode(decryptMessage(f.key, d.header.nonce, d.message, d.messageAd!))
      return m.enrs?.length ?? 0
    }
  } catch {
    return undefined
  }
}

/** decode rows for each backend and the partner; per NODES figure, one answer of 16 records */
export async function discv5CodecBench(backends: CryptoBackend[]): Promise<Row[]> {
  const bench = newBench()
  const partner = await chainsafeDecoder()
  for (const b of backends) {
    const f = fixture(b)
    // the same bytes must mean the same to both decoders, or the comparison is of different work
    const ours = f.nodes.reduce((s, p) => s + decodeOurs(f, p, b), 0)
    if (ours !== RECORDS) throw new Error(`our decoder found ${ours} records`)
    if (partner && f.nodes.reduce((s, p) => s + partner(f, p), 0) !== RECORDS) throw new Error('@chainsafe/discv5 read our NODES differently')
    // a PONG takes a couple of microseconds: batches keep the harness's own timing out of the figure
    task(bench, 'discv5 decode+decrypt PONG', b.name, () => {
      for (let i = 0; i < BATCH; i++) decodeOurs(f, f.pong, b)
    }, BATCH)
    task(bench, 'discv5 decode+decrypt NODES ×16 records', b.name, () => f.nodes.forEach((p) => decodeOurs(f, p, b)))
    if (partner && b === backends[0]) {
      task(bench, 'discv5 decode+decrypt PONG', 'chainsafe', () => {
        for (let i = 0; i < BATCH; i++) partner(f, f.pong)
      }, BATCH)
      task(bench, 'discv5 decode+decrypt NODES ×16 records', 'chainsafe', () => f.nodes.forEach((p) => partner(f, p)))
    }
  }
  return runBench(bench)
}
