/**
 * RLPx messages over a FrameCipher: frame-data = rlp(code) ‖ payload (snappy-compressed once p2p v5
 * is agreed). Sealing is one cipher call per frame; opening reads the 32-byte header first, so a size
 * beyond the limit is refused before any body is buffered, and a compressed message's decoded length
 * is read from its varint header and refused before decompressing.
 */
import { CryptoError, MAX_FRAME_SIZE, type FrameCipher } from '../crypto/types.js'
import { RLPxError } from './errors.js'
import { snappy, snappyDecodedLength } from './snappy.js'

/** largest decoded message accepted or sent (go-ethereum's snappy limit) */
export const MAX_MESSAGE_SIZE = 16 * 1024 * 1024
/** p2p Disconnect: accepted compressed or not, since some peers send it raw after Hello */
export const DISCONNECT_CODE = 0x01
const HEADER_SIZE = 32
const MAC_SIZE = 16

/** One message on an RLPx connection: its code and its (decompressed) payload. */
export interface Message {
  code: number
  payload: Uint8Array
}

/** Limits of a {@link FrameCodec}. */
export interface FrameOptions {
  /** largest frame-data size accepted from the peer (default and ceiling: 2^24 - 1) */
  maxFrameSize?: number
}

function codeLength(code: number): number {
  if (code < 0x80) return 1
  let n = 0
  for (let v = code; v > 0; v = Math.floor(v / 256)) n++
  return n + 1
}

/** Write `code` as a canonical RLP unsigned integer at the front of `out`. */
function writeCode(out: Uint8Array, code: number, len: number): void {
  if (len === 1) {
    out[0] = code === 0 ? 0x80 : code
    return
  }
  out[0] = 0x80 + len - 1
  for (let i = len - 1, v = code; i >= 1; i--, v = Math.floor(v / 256)) out[i] = v & 0xff
}

/** Read the canonical RLP unsigned integer message code; returns [code, bytes used]. */
function readCode(data: Uint8Array): [number, number] {
  const b0 = data[0]
  if (b0 === undefined) throw new RLPxError('BAD_FRAME', 'empty frame')
  if (b0 === 0) throw new RLPxError('BAD_FRAME', 'non-canonical message code')
  if (b0 < 0x80) return [b0, 1]
  const len = b0 - 0x80
  if (len > 6) throw new RLPxError('BAD_FRAME', `message code of ${len} bytes`)
  if (data.length < 1 + len) throw new RLPxError('BAD_FRAME', 'truncated message code')
  if ((len === 1 && data[1]! < 0x80) || (len > 1 && data[1] === 0)) throw new RLPxError('BAD_FRAME', 'non-canonical message code')
  let code = 0
  for (let i = 1; i <= len; i++) code = code * 256 + data[i]!
  return [code, 1 + len]
}

/** Decompress a message payload, refusing a declared size beyond the limit before allocating it. */
function uncompressPayload(code: number, payload: Uint8Array): Uint8Array {
  const n = snappyDecodedLength(payload)
  if (code === DISCONNECT_CODE) {
    if (n < 0 || n > MAX_MESSAGE_SIZE) return payload
    try {
      return snappy.uncompress(payload)
    } catch {
      return payload
    }
  }
  if (n < 0) throw new RLPxError('BAD_FRAME', 'malformed snappy length header')
  if (n > MAX_MESSAGE_SIZE) throw new RLPxError('DECOMPRESS_LIMIT', `message decodes to ${n} bytes, over ${MAX_MESSAGE_SIZE}`)
  try {
    return snappy.uncompress(payload)
  } catch (e) {
    throw new RLPxError('BAD_FRAME', `snappy: ${(e as Error).message}`, { cause: e })
  }
}

function macError(e: unknown): never {
  if (e instanceof CryptoError && e.code === 'BAD_MAC') throw new RLPxError('BAD_MAC', e.message, { cause: e })
  throw e
}

/** Both directions of one connection's framing. Not reusable after it has thrown. */
export class FrameCodec {
  /** compress payloads both ways (set by the p2p layer once both Hellos say version ≥ 5) */
  snappy = false
  private maxFrameSize: number
  private chunks: Uint8Array[] = []
  /** read offset into chunks[0] */
  private head = 0
  private total = 0
  /** frame-data size of a header already opened, or -1 while waiting for a header */
  private size = -1

  constructor(
    private readonly cipher: FrameCipher,
    opts: FrameOptions = {},
  ) {
    this.maxFrameSize = Math.min(opts.maxFrameSize ?? MAX_FRAME_SIZE, MAX_FRAME_SIZE)
  }

  /** Change the largest frame accepted from now on (capped at 2^24 - 1). */
  setMaxFrameSize(n: number): void {
    this.maxFrameSize = Math.min(n, MAX_FRAME_SIZE)
  }

  /** One sealed frame carrying message `code` with `payload`. */
  encode(code: number, payload: Uint8Array): Uint8Array {
    if (!Number.isSafeInteger(code) || code < 0 || code > 0xffffffff) throw new RangeError(`invalid message code ${code}`)
    if (payload.length > MAX_MESSAGE_SIZE) throw new RLPxError('FRAME_TOO_LARGE', `message of ${payload.length} bytes, over ${MAX_MESSAGE_SIZE}`)
    const body = this.snappy ? snappy.compress(payload) : payload
    const len = codeLength(code)
    if (len + body.length > MAX_FRAME_SIZE) throw new RLPxError('FRAME_TOO_LARGE', `frame of ${len + body.length} bytes, over 2^24-1`)
    const data = new Uint8Array(len + body.length)
    writeCode(data, code, len)
    data.set(body, len)
    return this.cipher.seal(data)
  }

  /** Bytes received and not yet consumed by `read`. */
  get buffered(): number {
    return this.total
  }

  /** Queue bytes received from the peer. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return
    this.chunks.push(chunk)
    this.total += chunk.length
  }

  /** The next complete message, or null when more bytes are needed; throws RLPxError on bad input. */
  read(): Message | null {
    const m = this.readRaw()
    return m && this.inflate(m)
  }

  /**
   * A message as framed, payload still compressed if the peer compressed it. Connections read frames
   * as they arrive but inflate them when delivered, so a `snappy` switch made right after the Hello
   * applies to every later message even if its frame was already buffered.
   */
  inflate(m: Message): Message {
    return this.snappy ? { code: m.code, payload: uncompressPayload(m.code, m.payload) } : m
  }

  /** The next complete frame as {code, payload} without decompression; null when more bytes are needed. */
  readRaw(): Message | null {
    if (this.size < 0) {
      if (this.total < HEADER_SIZE) return null
      let size: number
      try {
        size = this.cipher.openHeader(this.take(HEADER_SIZE))
      } catch (e) {
        macError(e)
      }
      if (size > this.maxFrameSize) throw new RLPxError('FRAME_TOO_LARGE', `frame of ${size} bytes, over ${this.maxFrameSize}`)
      this.size = size
    }
    const need = ((this.size + 15) & ~15) + MAC_SIZE
    if (this.total < need) return null
    let data: Uint8Array
    try {
      data = this.cipher.openBody(this.take(need), this.size)
    } catch (e) {
      macError(e)
    }
    this.size = -1
    const [code, off] = readCode(data)
    return { code, payload: data.subarray(off) }
  }

  /** Remove `n` buffered bytes (n ≤ total): a view when one chunk holds them, else one copy. */
  private take(n: number): Uint8Array {
    const first = this.chunks[0]!
    if (first.length - this.head >= n) {
      const out = first.subarray(this.head, this.head + n)
      this.head += n
      if (this.head === first.length) {
        this.chunks.shift()
        this.head = 0
      }
      this.total -= n
      return out
    }
    const out = new Uint8Array(n)
    let o = 0
    while (o < n) {
      const c = this.chunks[0]!
      const k = Math.min(c.length - this.head, n - o)
      out.set(c.subarray(this.head, this.head + k), o)
      o += k
      this.head += k
      if (this.head === c.length) {
        this.chunks.shift()
        this.head = 0
      }
    }
    this.total -= n
    return out
  }
}
