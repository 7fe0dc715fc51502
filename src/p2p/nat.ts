/**
 * NAT traversal (`--nat none|any|upnp|pmp[:GATEWAY]|extip:IP`, the mechanisms of geth's p2p/nat).
 *
 * `extip:IP` is a fixed external address with ports forwarded by hand. UPnP (IGD v2 over SSDP + SOAP)
 * and NAT-PMP (RFC 6886) go through @achingbrain/nat-port-mapper, wrapped here because of how it behaves:
 * - its NAT-PMP client never times a request out, and a request left unanswered blocks its queue for
 *   good, so every call carries a deadline and a gateway object that missed one is thrown away;
 * - its own refresh timers keep the process alive and (NAT-PMP) mix seconds with milliseconds, so they
 *   are switched off and PortMapper refreshes instead, the way geth does (20 min lifetime, every 15 min);
 * - its NAT-PMP `ttl` goes on the wire unconverted, so we hand it seconds;
 * - its NAT-PMP requests always suggest external port = internal port (the requested external port is
 *   dropped), also in deletions, where RFC 6886 asks for 0;
 * - its UPnP `unmap(port)` deletes every mapping it recorded for the internal port, whatever the
 *   protocol, and its UPnP leases are at least one hour whatever we ask.
 * Gateways are found lazily, on first use, so parsing `--nat` never does I/O. The library itself is an
 * optional peer dependency, loaded on first use: it is about 30 packages that only UPnP and NAT-PMP need.
 */
import { createSocket } from 'node:dgram'
import { EventEmitter } from 'node:events'
import { readFileSync } from 'node:fs'
import { isIP, isIPv4 } from 'node:net'
import { networkInterfaces } from 'node:os'
import type { Gateway } from '@achingbrain/nat-port-mapper'

/** the transport a port mapping is for */
export type NATProtocol = 'tcp' | 'udp'

/** What a {@link NATError} is about. */
export type NATErrorCode = 'SPEC' | 'NO_GATEWAY' | 'TIMEOUT' | 'GATEWAY' | 'CLOSED' | 'NO_LIBRARY'

/**
 * A NAT failure: a bad `--nat` spec, no gateway, a timeout or a gateway error, use after close, or the
 * library not installed.
 */
export class NATError extends Error {
  override readonly name = 'NATError'
  constructor(
    readonly code: NATErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/** A way to learn our external IP and map ports: extip, UPnP, NAT-PMP, or whichever answers first. */
export interface NAT {
  /** for logs: `extip(1.2.3.4)`, `upnp`, `pmp(192.168.1.1)`, `any` */
  readonly name: string
  /** the gateway's Internet-facing address */
  externalIP(signal?: AbortSignal): Promise<string>
  /** Ask for `externalPort` to reach `internalPort` for `lifetimeMs`; resolves to the external port granted. */
  map(protocol: NATProtocol, internalPort: number, externalPort: number, name: string, lifetimeMs: number, signal?: AbortSignal): Promise<number>
  unmap(protocol: NATProtocol, internalPort: number, externalPort: number, signal?: AbortSignal): Promise<void>
  /** release sockets; mappings not unmapped expire at the gateway */
  close(): Promise<void>
}

/** Deadlines of gateway requests and where to look for gateways. */
export interface NATOptions {
  /** deadline for one gateway request (default 5 s) */
  requestTimeoutMs?: number
  /** how long to look for a gateway (default 5 s; geth waits about as long) */
  discoverTimeoutMs?: number
  /** UPnP: use this device description URL instead of SSDP discovery */
  upnpLocation?: string | URL
  /** NAT-PMP: gateway addresses to try instead of guessing them from the routing table and interfaces */
  pmpGateways?: string[]
}

const DEFAULT_REQUEST_TIMEOUT = 5_000
const DEFAULT_DISCOVER_TIMEOUT = 5_000
/** how long each guessed NAT-PMP gateway gets to answer; RFC 6886's first retransmission is at 250 ms */
const PMP_PROBE_TIMEOUT = 1_000
/** guessed NAT-PMP gateways probed at most (they are probed one after another: see discoverPMP) */
const MAX_PMP_CANDIDATES = 8

/**
 * Parse a `--nat` value (case-insensitive). `none`/`off`/'' give null. Throws NATError('SPEC').
 */
export function parseNAT(spec: string, opts: NATOptions = {}): NAT | null {
  const colon = spec.indexOf(':')
  const mech = (colon < 0 ? spec : spec.slice(0, colon)).trim().toLowerCase()
  const arg = colon < 0 ? undefined : spec.slice(colon + 1).trim()
  const needIP = (what: string): string => {
    if (arg === undefined || arg === '') throw new NATError('SPEC', `--nat ${mech}: missing IP address (${what})`)
    if (isIP(arg) === 0) throw new NATError('SPEC', `--nat ${mech}: ${JSON.stringify(arg)} is not an IP address`)
    return arg
  }
  switch (mech) {
    case '':
    case 'none':
    case 'off':
      return null
    case 'any':
    case 'auto':
    case 'on':
      return anyNAT(opts)
    case 'upnp':
      return upnpNAT(opts)
    case 'pmp':
    case 'natpmp':
    case 'nat-pmp':
      return arg === undefined ? pmpNAT(opts) : pmpNAT({ ...opts, pmpGateways: [needIP('the gateway')] })
    case 'extip':
      return extIP(needIP('extip:<your external IP>'))
    default:
      throw new NATError('SPEC', `--nat: unknown mechanism ${JSON.stringify(mech)} (want none, any, upnp, pmp[:GATEWAY] or extip:IP)`)
  }
}

/** A known external address; the ports are assumed forwarded by hand, so map/unmap do nothing. */
export function extIP(ip: string): NAT {
  if (isIP(ip) === 0) throw new NATError('SPEC', `extip: ${JSON.stringify(ip)} is not an IP address`)
  return {
    name: `extip(${ip})`,
    externalIP: async () => ip,
    map: async (_protocol, _internal, externalPort) => externalPort,
    unmap: async () => {},
    close: async () => {},
  }
}

/** UPnP IGD: the gateway is found by SSDP (or at `upnpLocation`) on first use. */
export function upnpNAT(opts: NATOptions = {}): NAT {
  return new DiscoveredNAT('upnp', opts, (signal) => discoverUPnP(opts, signal))
}

/** NAT-PMP: the gateway is the given one, or guessed from the routing table, on first use. */
export function pmpNAT(opts: NATOptions = {}): NAT {
  const name = opts.pmpGateways?.length === 1 ? `pmp(${opts.pmpGateways[0]})` : 'pmp'
  return new DiscoveredNAT(name, opts, (signal) => discoverPMP(opts, signal))
}

/** UPnP and NAT-PMP looked for at once; the first gateway found is used and the other search dropped. */
export function anyNAT(opts: NATOptions = {}): NAT {
  return new DiscoveredNAT('any', opts, async (signal) => {
    await natLibrary() // its absence is its own error, not "no gateway found"
    const lost = new AbortController()
    const both = AbortSignal.any([signal, lost.signal])
    const tries = [discoverUPnP(opts, both), discoverPMP(opts, both)]
    let winner: NAT
    try {
      winner = await Promise.any(tries)
    } catch {
      throw new NATError('NO_GATEWAY', 'no UPnP or NAT-PMP gateway found')
    } finally {
      lost.abort()
    }
    // a search that succeeds after the winner still holds a socket
    for (const t of tries) t.then((n) => (n === winner ? undefined : n.close()), () => {})
    return winner
  })
}

// ---------------------------------------------------------------------------------------------------
// signals and deadlines

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new NATError('CLOSED', 'aborted')
}

/** `p`, or the signal's reason once it aborts, whichever comes first */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p
  if (signal.aborted) return Promise.reject(abortReason(signal))
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortReason(signal))
    signal.addEventListener('abort', onAbort, { once: true })
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

/**
 * Run one gateway request under a deadline and the caller's signal, turning failures into NATErrors.
 * `onFail` runs on timeout or gateway failure (not on the caller's abort), to discard a wedged client.
 */
async function request<T>(what: string, timeoutMs: number, signal: AbortSignal | undefined, fn: (s: AbortSignal) => Promise<T>, onFail?: () => void): Promise<T> {
  signal?.throwIfAborted()
  const deadline = AbortSignal.timeout(timeoutMs)
  const s = signal ? AbortSignal.any([signal, deadline]) : deadline
  try {
    return await raceAbort(fn(s), s)
  } catch (err) {
    if (signal?.aborted) throw abortReason(signal)
    onFail?.()
    if (deadline.aborted) throw new NATError('TIMEOUT', `${what}: no answer within ${timeoutMs} ms`)
    if (err instanceof NATError) throw err
    throw new NATError('GATEWAY', `${what}: ${(err as Error).message}`, { cause: err })
  }
}

// ---------------------------------------------------------------------------------------------------
// lazy discovery

class DiscoveredNAT implements NAT {
  private found: Promise<NAT> | undefined
  private closed = false

  constructor(
    readonly name: string,
    private readonly opts: NATOptions,
    private readonly discover: (signal: AbortSignal) => Promise<NAT>,
  ) {}

  /**
   * The gateway, looked for once; a failed search is forgotten so a later call (the next refresh)
   * searches again. The search has its own deadline so one caller's abort does not fail the others.
   */
  private gateway(signal: AbortSignal | undefined): Promise<NAT> {
    if (this.closed) return Promise.reject(new NATError('CLOSED', `${this.name}: closed`))
    if (!this.found) {
      const search = this.discover(AbortSignal.timeout(this.opts.discoverTimeoutMs ?? DEFAULT_DISCOVER_TIMEOUT))
      this.found = search
      search.catch(() => {
        if (this.found === search) this.found = undefined
      })
    }
    return raceAbort(this.found, signal)
  }

  async externalIP(signal?: AbortSignal): Promise<string> {
    return (await this.gateway(signal)).externalIP(signal)
  }

  async map(protocol: NATProtocol, internalPort: number, externalPort: number, name: string, lifetimeMs: number, signal?: AbortSignal): Promise<number> {
    return (await this.gateway(signal)).map(protocol, internalPort, externalPort, name, lifetimeMs, signal)
  }

  async unmap(protocol: NATProtocol, internalPort: number, externalPort: number, signal?: AbortSignal): Promise<void> {
    return (await this.gateway(signal)).unmap(protocol, internalPort, externalPort, signal)
  }

  async close(): Promise<void> {
    this.closed = true
    const found = this.found
    this.found = undefined
    const nat = await found?.catch(() => undefined)
    await nat?.close()
  }
}

/** the local address the OS would use to reach `host` (no packet is sent: UDP connect only routes) */
async function localAddressTowards(host: string, port: number): Promise<string> {
  const sock = createSocket(isIPv4(host) ? 'udp4' : 'udp6')
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject)
      sock.connect(port, host, () => resolve())
    })
    return sock.address().address
  } finally {
    sock.close()
  }
}

type NatPortMapper = typeof import('@achingbrain/nat-port-mapper')
let natPortMapper: Promise<NatPortMapper> | undefined

/** @achingbrain/nat-port-mapper, imported once on first use; a failed import is retried next time. */
function natLibrary(): Promise<NatPortMapper> {
  natPortMapper ??= import('@achingbrain/nat-port-mapper').catch((err: unknown) => {
    natPortMapper = undefined
    throw new NATError('NO_LIBRARY', 'UPnP and NAT-PMP need @achingbrain/nat-port-mapper: npm install @achingbrain/nat-port-mapper@4', { cause: err })
  })
  return natPortMapper
}

// ---------------------------------------------------------------------------------------------------
// UPnP

async function discoverUPnP(opts: NATOptions, signal: AbortSignal): Promise<NAT> {
  const timeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT
  const client = (await natLibrary()).upnpNat({ autoRefresh: false })
  if (opts.upnpLocation !== undefined) {
    const location = new URL(opts.upnpLocation)
    const gw = await request(`upnp: device description ${location}`, timeoutMs, signal, (s) => client.getGateway(location, { signal: s }))
    return new UPnPGateway(gw, timeoutMs)
  }
  try {
    for await (const gw of client.findGateways({ signal })) return new UPnPGateway(gw, timeoutMs)
  } catch (err) {
    if (!signal.aborted) throw new NATError('GATEWAY', `upnp: discovery failed: ${(err as Error).message}`, { cause: err })
  }
  throw new NATError('NO_GATEWAY', 'upnp: no Internet gateway device answered')
}

class UPnPGateway implements NAT {
  readonly name: string
  private internalHost: Promise<string> | undefined

  constructor(
    private readonly gw: Gateway,
    private readonly timeoutMs: number,
  ) {
    this.name = `upnp(${gw.host})`
  }

  externalIP(signal?: AbortSignal): Promise<string> {
    return request(`${this.name}: external IP`, this.timeoutMs, signal, (s) => this.gw.externalIp({ signal: s }))
  }

  async map(protocol: NATProtocol, internalPort: number, externalPort: number, name: string, lifetimeMs: number, signal?: AbortSignal): Promise<number> {
    // the gateway forwards to the address it sees us at, so that is the one to register
    this.internalHost ??= localAddressTowards(this.gw.host, this.gw.port).catch((err: Error) => {
      this.internalHost = undefined
      throw new NATError('GATEWAY', `${this.name}: no route to the gateway: ${err.message}`, { cause: err })
    })
    const host = await this.internalHost
    const m = await request(`${this.name}: map ${protocol} ${internalPort}`, this.timeoutMs, signal, (s) =>
      this.gw.map(internalPort, host, { protocol, externalPort, description: name, ttl: lifetimeMs, autoRefresh: false, signal: s }),
    )
    return m.externalPort
  }

  unmap(_protocol: NATProtocol, internalPort: number, _externalPort: number, signal?: AbortSignal): Promise<void> {
    return request(`${this.name}: unmap ${internalPort}`, this.timeoutMs, signal, (s) => this.gw.unmap(internalPort, { signal: s }))
  }

  async close(): Promise<void> {
    // the library deletes what it still has recorded; a gateway that is gone must not hold us up
    await request(`${this.name}: close`, this.timeoutMs, undefined, (s) => this.gw.stop({ signal: s })).catch(() => {})
  }
}

// ---------------------------------------------------------------------------------------------------
// NAT-PMP

/** Default routes from /proc/net/route (Linux), then the .1 of each private IPv4 subnet (geth's guess). */
function guessPMPGateways(): string[] {
  const out: string[] = []
  try {
    for (const line of readFileSync('/proc/net/route', 'utf8').split('\n').slice(1)) {
      const [, dest, gw] = line.trim().split(/\s+/)
      if (dest !== '00000000' || gw === undefined || !/^[0-9A-Fa-f]{8}$/.test(gw) || gw === '00000000') continue
      const n = parseInt(gw, 16) // little-endian
      out.push(`${n & 0xff}.${(n >>> 8) & 0xff}.${(n >>> 16) & 0xff}.${n >>> 24}`)
    }
  } catch {
    // not Linux: the interface guess below still applies
  }
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.family !== 'IPv4' || a.internal) continue
      const [b0 = 0, b1 = 0] = a.address.split('.').map(Number)
      if (!(b0 === 10 || (b0 === 172 && (b1 & 0xf0) === 16) || (b0 === 192 && b1 === 168))) continue
      const ip = a.address.split('.').map(Number)
      const mask = a.netmask.split('.').map(Number)
      const net = ip.map((b, i) => b & (mask[i] ?? 0))
      net[3] = (net[3] ?? 0) | 1
      out.push(net.join('.'))
    }
  }
  return [...new Set(out)].slice(0, MAX_PMP_CANDIDATES)
}

/**
 * Probe candidate gateways one after another: the library binds the fixed NAT-PMP client port 5350 for
 * every gateway object, so two alive at once would steal each other's answers.
 */
async function discoverPMP(opts: NATOptions, signal: AbortSignal): Promise<NAT> {
  const candidates = opts.pmpGateways ?? guessPMPGateways()
  const timeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT
  const probeMs = opts.pmpGateways?.length === 1 ? timeoutMs : Math.min(timeoutMs, PMP_PROBE_TIMEOUT)
  const { pmpNat } = await natLibrary()
  for (const ip of candidates) {
    signal.throwIfAborted()
    const gw = new PMPGateway(ip, timeoutMs, pmpNat)
    try {
      await gw.externalIP(AbortSignal.any([signal, AbortSignal.timeout(probeMs)]))
      return gw
    } catch {
      await gw.close()
    }
  }
  throw new NATError('NO_GATEWAY', `pmp: no NAT-PMP gateway answered (tried ${candidates.join(', ') || 'none'})`)
}

class PMPGateway implements NAT {
  readonly name: string
  private gw: Gateway | undefined

  constructor(
    private readonly host: string,
    private readonly timeoutMs: number,
    private readonly pmpNat: NatPortMapper['pmpNat'],
  ) {
    if (!isIPv4(host)) throw new NATError('SPEC', `pmp: gateway ${JSON.stringify(host)} is not an IPv4 address`)
    this.name = `pmp(${host})`
  }

  /** the library's client, created on demand and replaced after a failure (see the module comment) */
  private client(): Gateway {
    if (!this.gw) {
      const gw = this.pmpNat(this.host, { autoRefresh: false })
      // socket errors are emitted on the gateway object; unheard, they would crash the process
      if (gw instanceof EventEmitter) gw.on('error', () => this.discard(gw))
      this.gw = gw
    }
    return this.gw
  }

  private discard(gw: Gateway | undefined = this.gw): void {
    if (!gw) return
    if (this.gw === gw) this.gw = undefined
    // no mappings are recorded (autoRefresh off), so stop only closes the socket, which may be closed already
    gw.stop().catch(() => {})
  }

  private run<T>(what: string, signal: AbortSignal | undefined, fn: (gw: Gateway, s: AbortSignal) => Promise<T>, timeoutMs = this.timeoutMs): Promise<T> {
    const gw = this.client()
    return request(`${this.name}: ${what}`, timeoutMs, signal, (s) => fn(gw, s), () => this.discard(gw))
  }

  externalIP(signal?: AbortSignal): Promise<string> {
    return this.run('external IP', signal, (gw, s) => gw.externalIp({ signal: s }))
  }

  async map(protocol: NATProtocol, internalPort: number, externalPort: number, name: string, lifetimeMs: number, signal?: AbortSignal): Promise<number> {
    const seconds = Math.max(1, Math.round(lifetimeMs / 1000))
    // NAT-PMP ignores the internal host (the gateway uses the packet's source); an empty one also
    // keeps the library from asking for the external IP after every mapping
    const m = await this.run(`map ${protocol} ${internalPort}`, signal, (gw, s) =>
      gw.map(internalPort, '', { protocol, externalPort, description: name, ttl: seconds, autoRefresh: false, signal: s }),
    )
    return m.externalPort
  }

  async unmap(protocol: NATProtocol, internalPort: number, _externalPort: number, signal?: AbortSignal): Promise<void> {
    // RFC 6886 §3.4: lifetime 0 deletes the mapping
    await this.run(`unmap ${protocol} ${internalPort}`, signal, (gw, s) => gw.map(internalPort, '', { protocol, externalPort: 0, ttl: 0, autoRefresh: false, signal: s }))
  }

  async close(): Promise<void> {
    this.discard()
  }
}

// ---------------------------------------------------------------------------------------------------
// PortMapper

/** Which ports a {@link PortMapper} maps, and its lease and refresh periods. */
export interface PortMapperOptions {
  /** internal TCP (RLPx) port to map; omitted: none */
  tcpPort?: number
  /** internal UDP (discovery) port to map; omitted: none */
  udpPort?: number
  /** the mapping's description at the gateway */
  name?: string
  /** mapping lifetime asked of the gateway (geth: 20 min) */
  lifetimeMs?: number
  /** remap period, shorter than the lifetime so a mapping never lapses (geth: 15 min) */
  refreshMs?: number
}

/** One mapping a gateway granted. */
export interface PortMapping {
  protocol: NATProtocol
  internalPort: number
  externalPort: number
}

/** The events a {@link PortMapper} emits. */
export interface PortMapperEvents {
  /** a mapping was made or refreshed */
  mapped: [mapping: PortMapping]
  /** mapping a port failed; the next refresh tries again */
  mapFailed: [protocol: NATProtocol, internalPort: number, error: Error]
  /** the external IP changed, or was learned for the first time */
  externalIP: [ip: string]
}

/** lease asked for a mapping (geth: 20 min) */
export const DEFAULT_MAP_LIFETIME = 20 * 60_000
/** mappings are renewed this often, before the lease runs out (geth: 15 min) */
export const DEFAULT_MAP_REFRESH = 15 * 60_000

/**
 * Keeps the node's TCP and UDP ports mapped: maps them at `start()`, remaps every `refreshMs`, and
 * removes them at `stop()` (or when the start signal aborts). A failure never throws out of the loop:
 * it is reported as `mapFailed` and retried at the next refresh. The NAT itself is the caller's to close.
 */
export class PortMapper extends EventEmitter<PortMapperEvents> {
  private readonly ports: [NATProtocol, number][]
  private readonly lifetimeMs: number
  private readonly refreshMs: number
  private readonly name: string
  /** mappings the gateway granted, to remove at stop */
  private readonly active = new Map<NATProtocol, PortMapping>()
  /** mappings asked for when stop cut the request short: the gateway may have made them */
  private readonly unsure = new Map<NATProtocol, PortMapping>()
  private readonly stopping = new AbortController()
  private timer: NodeJS.Timeout | undefined
  private round: Promise<void> | undefined
  private stopped: Promise<void> | undefined
  private ip: string | undefined

  constructor(
    readonly nat: NAT,
    opts: PortMapperOptions = {},
  ) {
    super()
    this.ports = []
    if (opts.tcpPort !== undefined) this.ports.push(['tcp', opts.tcpPort])
    if (opts.udpPort !== undefined) this.ports.push(['udp', opts.udpPort])
    this.lifetimeMs = opts.lifetimeMs ?? DEFAULT_MAP_LIFETIME
    this.refreshMs = opts.refreshMs ?? DEFAULT_MAP_REFRESH
    if (!(this.refreshMs > 0 && this.refreshMs < this.lifetimeMs)) throw new RangeError('PortMapper: refreshMs must be positive and below lifetimeMs')
    this.name = opts.name ?? 'ethp2p'
  }

  /** the current mappings */
  get mappings(): PortMapping[] {
    return [...this.active.values()]
  }

  get externalIP(): string | undefined {
    return this.ip
  }

  /** Map the ports once (resolves when that round ends, successful or not), then keep them mapped. */
  async start(signal?: AbortSignal): Promise<PortMapping[]> {
    if (this.round || this.stopped) throw new Error('PortMapper: already started')
    signal?.addEventListener('abort', () => void this.stop(), { once: true, signal: this.stopping.signal })
    if (signal?.aborted) await this.stop()
    await this.runRound()
    return this.mappings
  }

  private runRound(): Promise<void> {
    const round = this.mapAll().finally(() => {
      if (this.round === round) this.round = undefined
      if (this.stopping.signal.aborted) return
      this.timer = setTimeout(() => void this.runRound(), this.refreshMs)
      this.timer.unref() // the mapping must not keep a finished process alive
    })
    this.round = round
    return round
  }

  private async mapAll(): Promise<void> {
    const signal = this.stopping.signal
    for (const [protocol, port] of this.ports) {
      if (signal.aborted) return
      // ask for the port granted last time, so the advertised endpoint stays put
      const want = this.active.get(protocol)?.externalPort ?? port
      try {
        const externalPort = await this.nat.map(protocol, port, want, this.name, this.lifetimeMs, signal)
        // recorded even when stop came meanwhile: stop waits for this round, then removes it
        const m: PortMapping = { protocol, internalPort: port, externalPort }
        this.active.set(protocol, m)
        if (signal.aborted) return
        this.emit('mapped', m)
      } catch (err) {
        if (signal.aborted) {
          if (!this.active.has(protocol)) this.unsure.set(protocol, { protocol, internalPort: port, externalPort: want })
          return
        }
        this.emit('mapFailed', protocol, port, err as Error)
      }
    }
    try {
      const ip = await this.nat.externalIP(signal)
      if (ip !== this.ip && !signal.aborted) {
        this.ip = ip
        this.emit('externalIP', ip)
      }
    } catch {
      // the mappings are what matters here; the address is tried again next round
    }
  }

  /**
   * Stop refreshing and remove the mappings. The removals run side by side, so a gateway that has gone
   * away costs one request deadline, not one per port.
   */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping.abort()
      clearTimeout(this.timer)
      await this.round?.catch(() => {})
      const all = [...this.active.values(), ...this.unsure.values()]
      this.active.clear()
      this.unsure.clear()
      await Promise.all(all.map((m) => this.nat.unmap(m.protocol, m.internalPort, m.externalPort).catch(() => {})))
    })()
    return this.stopped
  }
}
