/**
 * Test helper: an authoritative-only DNS server on 127.0.0.1 UDP that answers TXT questions from a
 * map. Just enough of RFC 1035 for the client: one question per query, answers whose name points back
 * at the question, TXT data split into character-strings of at most 255 bytes, NXDOMAIN for names it
 * does not hold. Names in `silent` get no answer at all (for timeouts and cancellation).
 */
import { createSocket, type RemoteInfo } from 'node:dgram'

const TYPE_TXT = 16
const TYPE_ANY = 255
const CLASS_IN = 1
const RCODE_NXDOMAIN = 3

export interface DnsServer {
  /** "127.0.0.1:PORT", for DnsClientOptions.servers */
  readonly address: string
  /** set the TXT strings served at `name` (one record per string) */
  set(name: string, ...texts: string[]): void
  delete(name: string): void
  /** serve every name → text of a tree */
  load(txt: ReadonlyMap<string, string>): void
  /** names (lower case) whose questions are dropped unanswered */
  readonly silent: Set<string>
  /** every question name received, lower case, in order */
  readonly queries: string[]
  /** called with each question name as it arrives */
  onQuery?: (name: string) => void
  /** when set, answers go out only when the hook calls `send` (to hold queries in flight) */
  defer?: (send: () => void, name: string) => void
  close(): Promise<void>
}

interface Question {
  id: number
  flags: number
  name: string
  type: number
  /** the question section as received, echoed in the answer */
  raw: Uint8Array
}

function parseQuery(msg: Buffer): Question | undefined {
  if (msg.length < 12 || msg.readUInt16BE(4) !== 1 || (msg.readUInt16BE(2) & 0x8000) !== 0) return undefined
  const labels: string[] = []
  let o = 12
  // a name is at most 255 bytes, so this loop reads at most 128 labels
  while (o < msg.length && labels.length < 128) {
    const len = msg[o]!
    if (len === 0) break
    if (len > 63 || o + 1 + len > msg.length) return undefined // pointers do not occur in questions
    labels.push(msg.toString('latin1', o + 1, o + 1 + len))
    o += 1 + len
  }
  if (o + 5 > msg.length || msg[o] !== 0) return undefined
  const end = o + 5
  return { id: msg.readUInt16BE(0), flags: msg.readUInt16BE(2), name: labels.join('.').toLowerCase(), type: msg.readUInt16BE(o + 1), raw: msg.subarray(12, end) }
}

/** TXT RDATA: the text as consecutive <length><bytes> character-strings of ≤255 bytes */
function txtData(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8')
  const parts: Buffer[] = []
  for (let i = 0; i === 0 || i < bytes.length; i += 255) {
    const chunk = bytes.subarray(i, i + 255)
    parts.push(Buffer.from([chunk.length]), chunk)
  }
  return Buffer.concat(parts)
}

function answer(q: Question, texts: readonly string[] | undefined): Buffer {
  const answers = q.type === TYPE_TXT || q.type === TYPE_ANY ? (texts ?? []) : []
  const header = Buffer.alloc(12)
  header.writeUInt16BE(q.id, 0)
  // QR, the query's opcode and RD, AA; RCODE NXDOMAIN for an unknown name
  header.writeUInt16BE(0x8000 | (q.flags & 0x7900) | 0x0400 | (texts ? 0 : RCODE_NXDOMAIN), 2)
  header.writeUInt16BE(1, 4)
  header.writeUInt16BE(answers.length, 6)
  const rrs = answers.map((t) => {
    const data = txtData(t)
    const rr = Buffer.alloc(12)
    rr.writeUInt16BE(0xc00c, 0) // the name: a pointer to the question's, at offset 12
    rr.writeUInt16BE(TYPE_TXT, 2)
    rr.writeUInt16BE(CLASS_IN, 4)
    rr.writeUInt32BE(60, 6)
    rr.writeUInt16BE(data.length, 10)
    return Buffer.concat([rr, data])
  })
  return Buffer.concat([header, q.raw, ...rrs])
}

export async function startDnsServer(): Promise<DnsServer> {
  const sock = createSocket('udp4')
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject)
    sock.bind(0, '127.0.0.1', () => resolve())
  })
  const zone = new Map<string, string[]>()
  const server: DnsServer = {
    address: `127.0.0.1:${sock.address().port}`,
    set: (name, ...texts) => void zone.set(name.toLowerCase(), texts),
    delete: (name) => void zone.delete(name.toLowerCase()),
    load: (txt) => {
      for (const [name, text] of txt) zone.set(name.toLowerCase(), [text])
    },
    silent: new Set(),
    queries: [],
    close: () => new Promise((resolve) => sock.close(() => resolve())),
  }
  sock.on('message', (msg: Buffer, from: RemoteInfo) => {
    const q = parseQuery(msg)
    if (!q) return
    server.queries.push(q.name)
    server.onQuery?.(q.name)
    if (server.silent.has(q.name)) return
    const reply = answer(q, zone.get(q.name))
    const send = (): void => sock.send(reply, from.port, from.address)
    if (server.defer) server.defer(send, q.name)
    else send()
  })
  return server
}
