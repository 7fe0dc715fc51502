/**
 * The crawl's default datagram rate, from what this machine's crypto costs: the rate a crawl can
 * sustain is set by its busiest thread, and how busy each thread is per datagram follows from where
 * signing and verification run (`workers`, see Discv4Options.cryptoThreads).
 *
 * Per datagram sent, about 1.7 come back (replies, NEIGHBORS in two parts, pings back). Each datagram
 * in or out costs the event loop ~80 µs beyond its crypto (encoding, decoding, request bookkeeping,
 * the system call, GC: measured on a 2-core VM in a 10,000-node crawl); each one sent costs a
 * signature, each one received a recovery. Inline (no crypto threads) the event loop does it all;
 * with N threads the signatures (native only) and recoveries go to them, each hand-off costing ~10 %.
 */
import { availableParallelism } from 'node:os'
import { randomPrivateKey } from '../crypto/backend.js'
import type { CryptoBackend } from '../crypto/types.js'

/** datagrams received per datagram sent in a crawl */
const RECEIVED_PER_SENT = 1.7
/** event-loop µs per datagram, in or out, beyond its signature or recovery */
const LOOP_US = 80
/** what a batch's hand-off between threads adds to its crypto */
const HANDOFF = 1.1
/** never more than this by default (--rate goes higher) */
const MAX_DEFAULT_RATE = 20_000

/** µs of one signature and of one recovery on `b`, the best of a few short rounds (~3 ms on native, ~90 ms on js). */
export function cryptoCosts(b: CryptoBackend, rounds = 3, per = 4): { signUs: number; recoverUs: number } {
  const key = randomPrivateKey()
  const hash = b.keccak256(key)
  let signUs = Infinity
  let recoverUs = Infinity
  for (let r = 0; r < rounds; r++) {
    let t = performance.now()
    let s = b.sign(hash, key)
    for (let i = 1; i < per; i++) s = b.sign(hash, key)
    signUs = Math.min(signUs, ((performance.now() - t) * 1000) / per)
    t = performance.now()
    for (let i = 0; i < per; i++) b.recover(hash, s.sig, s.recovery)
    recoverUs = Math.min(recoverUs, ((performance.now() - t) * 1000) / per)
  }
  return { signUs, recoverUs }
}

/**
 * Datagrams per second (sent) a crawl sustains when the crypto costs `costs` and runs on `threads`
 * threads (0: inline on the event loop): the event loop's load and the threads' load per datagram
 * sent, whichever binds.
 */
export function capacityRate(costs: { signUs: number; recoverUs: number }, threads: number, backendName: CryptoBackend['name']): number {
  const { signUs: s, recoverUs: v } = costs
  const loop = (1 + RECEIVED_PER_SENT) * LOOP_US
  let main: number
  let pool: number
  if (threads <= 0) {
    main = loop + s + RECEIVED_PER_SENT * v
    pool = 0
  } else {
    // wasm and js sign on the event loop (their worker pools verify only)
    const signOff = backendName === 'native'
    main = loop + (signOff ? 0 : s)
    pool = (HANDOFF * ((signOff ? s : 0) + RECEIVED_PER_SENT * v)) / threads
  }
  return Math.max(1, Math.min(MAX_DEFAULT_RATE, Math.floor(1e6 / Math.max(main, pool))))
}

const measured = new Map<CryptoBackend, { signUs: number; recoverUs: number }>()

/** The default rate for a crawl on `b` with its crypto on `threads` threads (0: inline); the costs are measured once per backend. */
export function defaultRate(b: CryptoBackend, threads: number): number {
  let c = measured.get(b)
  if (!c) measured.set(b, (c = cryptoCosts(b)))
  return capacityRate(c, threads, b.name)
}

/**
 * Discv4's cryptoThreads for `--workers N`: 1 keeps the crypto on the event loop (0 threads), N > 1
 * puts it on N threads of libuv's pool, which is grown to N when it has not started yet (it has 4).
 */
export function cryptoThreads(workers = availableParallelism()): number {
  if (workers <= 1) return 0
  if (workers > 4 && process.env['UV_THREADPOOL_SIZE'] === undefined) process.env['UV_THREADPOOL_SIZE'] = String(Math.min(workers, 16))
  return workers
}
