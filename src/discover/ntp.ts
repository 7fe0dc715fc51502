/**
 * SNTP clock-offset check (geth's p2p/discover/ntp.go idea): discv4 packets expire after 20 s, so a
 * node whose clock is off by more than ~10 s sees every reply as expired and every request time out.
 * After many consecutive timeouts the transport asks an NTP server how far off we are.
 */
import { createSocket } from 'node:dgram'
import { isIPv6 } from 'node:net'

/** seconds between the NTP epoch (1900) and the Unix epoch (1970) */
const NTP_EPOCH_OFFSET = 2_208_988_800
/** a clock this far off makes discovery packets look expired to peers */
export const DRIFT_THRESHOLD_MS = 10_000
/** consecutive reply timeouts before the clock is checked */
export const NTP_CHECK_AFTER_TIMEOUTS = 32
/** the clock is checked at most this often */
export const NTP_COOLDOWN_MS = 10 * 60_000

/** An NTP query that failed: no answer in time, a malformed reply, or a socket error. */
export class NTPError extends Error {
  override readonly name = 'NTPError'
}

function writeTimestamp(buf: Buffer, offset: number, ms: number): void {
  const secs = Math.floor(ms / 1000) + NTP_EPOCH_OFFSET
  buf.writeUInt32BE(secs >>> 0, offset)
  buf.writeUInt32BE(Math.floor(((ms % 1000) / 1000) * 2 ** 32) >>> 0, offset + 4)
}

function readTimestamp(buf: Buffer, offset: number): number {
  return (buf.readUInt32BE(offset) - NTP_EPOCH_OFFSET) * 1000 + (buf.readUInt32BE(offset + 4) / 2 ** 32) * 1000
}

/** One SNTP exchange; resolves to the local clock's offset from the server in ms (positive: we are behind). */
export function sntpOffset(host: string, port = 123, timeoutMs = 2000, now: () => number = Date.now): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = createSocket(isIPv6(host) ? 'udp6' : 'udp4')
    const timer = setTimeout(() => finish(new NTPError(`no answer from ${host}:${port} within ${timeoutMs} ms`)), timeoutMs)
    const finish = (err: Error | null, offset?: number): void => {
      clearTimeout(timer)
      sock.close()
      if (err) reject(err)
      else resolve(offset!)
    }
    const req = Buffer.alloc(48)
    req[0] = 0x23 // leap 0, version 4, mode 3 (client)
    const t1 = now()
    writeTimestamp(req, 40, t1)
    sock.on('error', (err) => finish(new NTPError(`NTP query failed: ${err.message}`)))
    sock.on('message', (msg) => {
      const t4 = now()
      if (msg.length < 48 || (msg[0]! & 0x07) !== 4) return // not a server reply
      // the server must echo our transmit time as its originate time, or this is not our answer
      if (!msg.subarray(24, 32).equals(req.subarray(40, 48))) return
      const t2 = readTimestamp(msg, 32)
      const t3 = readTimestamp(msg, 40)
      finish(null, (t2 - t1 + (t3 - t4)) / 2)
    })
    // a bad port or address throws here rather than calling back: same typed error, socket closed now
    try {
      sock.send(req, port, host, (err) => {
        if (err) finish(new NTPError(`NTP send failed: ${err.message}`))
      })
    } catch (err) {
      finish(new NTPError(`NTP send failed: ${(err as Error).message}`))
    }
  })
}

/** Median offset of `attempts` queries (tolerating some failures); rejects when all fail. */
export async function clockOffset(host: string, port = 123, attempts = 3, timeoutMs = 2000): Promise<number> {
  const results: number[] = []
  let lastErr: unknown
  for (let i = 0; i < attempts; i++) {
    try {
      results.push(await sntpOffset(host, port, timeoutMs))
    } catch (err) {
      lastErr = err
    }
  }
  if (results.length === 0) throw lastErr instanceof Error ? lastErr : new NTPError('NTP query failed')
  results.sort((a, b) => a - b)
  return results[Math.floor(results.length / 2)]!
}

/**
 * When to ask the NTP server: after 32 request timeouts in a row (an answer resets the count), at
 * most once per 10 minutes, as geth's discv4 does. A clock off by more than the packet expiry makes
 * every peer drop our packets, which looks like timeouts from here.
 */
export class DriftCheck {
  private consecutive = 0
  private lastCheck = -Infinity

  constructor(
    /** host:port of the NTP server; undefined turns the check off */
    private readonly server: string | undefined,
    private readonly onDrift: (offsetMs: number) => void,
    private readonly onError: (err: Error) => void,
  ) {}

  /** a request got its answer */
  answered(): void {
    this.consecutive = 0
  }

  /** a request timed out: maybe time to check the clock */
  timeout(): void {
    this.consecutive++
    const server = this.server
    if (!server || this.consecutive < NTP_CHECK_AFTER_TIMEOUTS) return
    const now = Date.now()
    if (now - this.lastCheck < NTP_COOLDOWN_MS) return
    this.lastCheck = now
    this.consecutive = 0
    const i = server.lastIndexOf(':')
    const host = i > 0 ? server.slice(0, i).replace(/^\[|\]$/g, '') : server
    const port = i > 0 ? Number(server.slice(i + 1)) : 123
    clockOffset(host, port)
      .then((offset) => {
        if (Math.abs(offset) > DRIFT_THRESHOLD_MS) this.onDrift(offset)
      })
      .catch((err: unknown) => this.onError(err instanceof Error ? err : new Error(String(err))))
  }
}
