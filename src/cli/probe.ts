/**
 * `ethp2p probe ENODE`: everything one node tells a stranger, for an operator asking "can the network
 * see my node?": discovery bond (ping/pong), its signed record (ENRRequest), then over TCP the RLPx
 * handshake, Hello and eth Status. Each step is timed. One JSON object on stdout, a few human lines on
 * stderr; the exit code says whether anything answered (0) or nothing did (1).
 */
import { InvalidArgumentError } from 'commander'
import { randomPrivateKey } from '../crypto/backend.js'
import { dialNode, type DialResult } from '../crawler/dialer.js'
import { Discv4 } from '../discover/udp.js'
import { Node } from '../enode/node.js'
import { EnodeURLError, formatEnode, parseEnode } from '../enode/url.js'
import { matchForkHash } from '../eth/networks.js'
import { hex } from '../crypto/bytes.js'

/** `ethp2p probe`'s options. */
export interface ProbeOptions {
  /** seconds each step may take (default 5) */
  timeout?: number
}

/** One step's outcome: ok with its duration, or the error. */
interface Step {
  ok: boolean
  ms: number
  error?: string
}

/** What `ethp2p probe` learnt of one node, step by step. */
export interface ProbeReport {
  enode: string
  id: string
  ip: string
  udp: number
  tcp: number
  /** something answered: discovery, RLPx or both */
  reachable: boolean
  bond: Step & { enrSeq?: number }
  enr: Step & { seq?: number; record?: string; network?: string; fork?: string; eth2?: boolean; tcp?: number }
  rlpx: Step
  hello: Step & Omit<DialResult, 'timings' | 'error' | 'disconnect' | 'inbound' | 'ethVersion' | 'networkId' | 'forkId' | 'chain' | 'genesis' | 'head' | 'latestBlock' | 'earliestBlock' | 'td'>
  status: Step & Pick<DialResult, 'ethVersion' | 'networkId' | 'forkId' | 'chain' | 'genesis' | 'head' | 'latestBlock' | 'earliestBlock' | 'td'>
  disconnect?: DialResult['disconnect']
  totalMs: number
}

/** the ENODE argument */
export function enodeArg(v: string): Node {
  try {
    return parseEnode(v.trim())
  } catch (err) {
    throw new InvalidArgumentError(err instanceof EnodeURLError ? err.message : String(err))
  }
}

function errorText(err: unknown, ms?: number): string {
  // our own deadline aborting the request says less than "no answer"
  if (err instanceof Error && err.name === 'TimeoutError' && ms !== undefined) return `no answer within ${ms} ms`
  return err instanceof Error ? err.message : String(err)
}

/** attempts before a discovery step counts as unanswered: one lost datagram must not decide */
const UDP_ATTEMPTS = 3

async function discoverySteps(disc: Discv4, n: Node, deadline: number, report: ProbeReport): Promise<Node> {
  const t0 = Date.now()
  let lastErr: unknown
  for (let i = 0; i < UDP_ATTEMPTS && !report.bond.ok && Date.now() < deadline; i++) {
    try {
      const pong = await disc.ping(n, AbortSignal.timeout(Math.max(1, deadline - Date.now())))
      report.bond = { ok: true, ms: Date.now() - t0, ...(pong.seq !== undefined ? { enrSeq: Number(pong.seq) } : {}) }
    } catch (err) {
      lastErr = err
    }
  }
  if (!report.bond.ok) {
    report.bond = { ok: false, ms: Date.now() - t0, error: errorText(lastErr, Date.now() - t0) }
    report.enr = { ok: false, ms: 0, error: 'not asked: no bond' }
    return n
  }
  const t1 = Date.now()
  for (let i = 0; i < UDP_ATTEMPTS && !report.enr.ok && Date.now() < deadline; i++) {
    try {
      const r = await disc.enrRequest(n, AbortSignal.timeout(Math.max(1, deadline - Date.now())))
      const fid = r.ethForkId
      const m = fid ? matchForkHash(fid.hash) : undefined
      const node = r.toNode()
      report.enr = {
        ok: true,
        ms: Date.now() - t1,
        seq: Number(r.seq),
        record: r.toText(),
        eth2: r.isEth2,
        ...(fid ? { network: m?.network ?? 'unknown' } : {}),
        ...(m ? { fork: m.fork } : {}),
        ...(node ? { tcp: node.tcp } : {}),
      }
      // the record's TCP port wins when the URL gave none
      if (n.tcp === 0 && node && node.tcp > 0) return new Node(n.pubkey, n.ip, n.udp, node.tcp)
    } catch (err) {
      lastErr = err
    }
  }
  if (!report.enr.ok) report.enr = { ok: false, ms: Date.now() - t1, error: errorText(lastErr, Date.now() - t1) }
  return n
}

function rlpxSteps(d: DialResult, report: ProbeReport): void {
  const { timings, error, disconnect, inbound: _inbound, ethVersion, networkId, forkId, chain, genesis, head, latestBlock, earliestBlock, td, ...hello } = d
  const rlpxOk = timings.rlpx !== undefined
  report.rlpx = rlpxOk ? { ok: true, ms: timings.rlpx! } : { ok: false, ms: timings.total, error: error ?? 'failed' }
  if (!rlpxOk) report.hello = { ok: false, ms: 0, error: 'not reached: no RLPx connection' }
  else if (timings.hello !== undefined) report.hello = { ok: true, ms: timings.hello - timings.rlpx!, ...hello }
  else report.hello = { ok: false, ms: timings.total - timings.rlpx!, error: error ?? (disconnect ? `disconnected: ${disconnect.reason}` : 'no Hello') }
  if (timings.status !== undefined) {
    const status = { ethVersion, networkId, forkId, chain, genesis, head, latestBlock, earliestBlock, td }
    report.status = { ok: true, ms: timings.status - timings.hello!, ...(JSON.parse(JSON.stringify(status)) as typeof status) }
  } else if (timings.hello !== undefined) {
    const speaksEth = hello.caps?.some((c) => c.startsWith('eth/')) ?? false
    report.status = { ok: false, ms: timings.total - timings.hello, error: error ?? (disconnect?.by === 'remote' ? `disconnected: ${disconnect.reason}` : speaksEth ? 'no Status' : 'does not speak eth') }
  } else report.status = { ok: false, ms: 0, error: 'not reached: no Hello' }
  if (disconnect) report.disconnect = disconnect
}

function humanSummary(r: ProbeReport): string {
  const step = (name: string, s: Step, detail: string): string => `${name.padEnd(7)} ${s.ok ? `ok in ${s.ms} ms${detail ? ` — ${detail}` : ''}` : `failed: ${s.error ?? ''}`}`
  const lines = [
    `probe ${r.ip} udp ${r.udp} tcp ${r.tcp}`,
    step('bond', r.bond, ''),
    step('enr', r.enr, r.enr.ok ? `seq ${r.enr.seq}${r.enr.network ? `, ${r.enr.network}${r.enr.fork ? ` (${r.enr.fork})` : ''}` : ''}` : ''),
    step('rlpx', r.rlpx, ''),
    step('hello', r.hello, r.hello.ok ? `${r.hello.clientId ?? ''} [${(r.hello.caps ?? []).join(' ')}]` : ''),
    step('status', r.status, r.status.ok ? `${r.status.chain} (network ${r.status.networkId}, fork ${r.status.forkId?.hash}/${r.status.forkId?.next})` : ''),
  ]
  if (r.disconnect) lines.push(`ended   ${r.disconnect.reason} (by ${r.disconnect.by})`)
  const seen = [r.bond.ok && 'discovery', r.rlpx.ok && 'RLPx'].filter(Boolean).join(' + ')
  lines.push(`verdict ${r.reachable ? `reachable over ${seen}` : 'nothing answered'} in ${r.totalMs} ms`)
  return lines.join('\n')
}

/** Probe `n`; prints the report and resolves with whether anything answered. */
export async function runProbe(n: Node, opts: ProbeOptions = {}): Promise<boolean> {
  const ms = Math.round((opts.timeout ?? 5) * 1000)
  const t0 = Date.now()
  const report: ProbeReport = {
    enode: formatEnode(n),
    id: hex(n.pubkey),
    ip: n.ip,
    udp: n.udp,
    tcp: n.tcp,
    reachable: false,
    bond: { ok: false, ms: 0 },
    enr: { ok: false, ms: 0 },
    rlpx: { ok: false, ms: 0 },
    hello: { ok: false, ms: 0 },
    status: { ok: false, ms: 0 },
    totalMs: 0,
  }
  const privateKey = randomPrivateKey()
  // answer from loopback for a loopback node: a wildcard socket would show it our LAN address
  const loopback = n.ip.startsWith('127.') || n.ip === '::1'
  const disc = await Discv4.listen({ privateKey, host: loopback ? '127.0.0.1' : '0.0.0.0', port: 0, refreshIntervalMs: 24 * 3600_000, pingIntervalMs: 24 * 3600_000 })
  let target = n
  try {
    if (n.udp > 0) target = await discoverySteps(disc, n, Date.now() + ms, report)
    else {
      report.bond = { ok: false, ms: 0, error: 'no UDP port' }
      report.enr = { ok: false, ms: 0, error: 'no UDP port' }
    }
  } finally {
    await disc.close()
  }
  if (target.tcp > 0) rlpxSteps(await dialNode(target, { privateKey, dialTimeout: ms, handshakeTimeout: ms, statusTimeout: ms }), report)
  else {
    report.rlpx = { ok: false, ms: 0, error: 'no TCP port' }
    report.hello = { ok: false, ms: 0, error: 'not reached: no RLPx connection' }
    report.status = { ok: false, ms: 0, error: 'not reached: no Hello' }
  }
  report.reachable = report.bond.ok || report.rlpx.ok
  report.totalMs = Date.now() - t0
  process.stdout.write(JSON.stringify(report) + '\n')
  process.stderr.write(humanSummary(report) + '\n')
  return report.reachable
}
