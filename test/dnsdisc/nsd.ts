/**
 * A real DNS server for the tests: NLnet Labs' NSD (Debian's `nsd`), started in the foreground on a free
 * 127.0.0.1 port (UDP and TCP) with its config, zones, pid and log in a temp dir, and stopped by its PID.
 * No system service, no port 53. Without the binary this throws an error that says what to install:
 * the tests that need it fail, they are never skipped.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { Resolver } from 'node:dns/promises'
import { tmpdir } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { join } from 'node:path'
import { freeUdpPorts } from '../../src/util/ports.js'

/** A zone NSD serves: its apex and the records under it (master-file text, e.g. `dns to-zonefile`'s). */
export interface Zone {
  name: string
  records: string
}

export interface Nsd {
  /** "127.0.0.1:PORT" */
  readonly address: string
  readonly port: number
  /** Stop the server (SIGTERM to its PID, SIGKILL if it lingers) and remove its directory. */
  stop(): Promise<void>
}

/** the nsd binary: ETHP2P_TEST_NSD, or where Debian installs it */
function nsdBinary(): string {
  const given = process.env['ETHP2P_TEST_NSD']
  const found = given ?? ['/usr/sbin/nsd', '/usr/bin/nsd', '/usr/local/sbin/nsd'].find((p) => existsSync(p))
  if (found === undefined || !existsSync(found)) {
    throw new Error(`these tests serve DNS trees from a real DNS server, NSD: apt-get install -y nsd (or set ETHP2P_TEST_NSD to its binary)${given ? `; ${given} does not exist` : ''}`)
  }
  return found
}

/** a port free for both UDP and TCP on 127.0.0.1 a moment ago */
async function freePort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const [port] = await freeUdpPorts(1)
    const tcpFree = await new Promise<boolean>((resolve) => {
      const s = createServer()
      s.once('error', () => resolve(false))
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)))
    })
    if (tcpFree) return port!
  }
  throw new Error('no port free for both UDP and TCP on 127.0.0.1')
}

/** A zone file: SOA and NS at the apex (what the zone that holds a tree has), then the given records. */
function zoneText(z: Zone): string {
  return [`$ORIGIN ${z.name}.`, '$TTL 3600', '@ IN SOA ns hostmaster 1 3600 600 86400 300', '@ IN NS ns', 'ns IN A 127.0.0.1', z.records].join('\n') + '\n'
}

function config(dir: string, port: number, zones: readonly Zone[]): string {
  const server = [
    'server:',
    `  ip-address: 127.0.0.1@${port}`,
    `  port: ${port}`,
    '  username: ""',
    '  chroot: ""',
    `  zonesdir: "${dir}"`,
    '  database: ""',
    `  zonelistfile: "${join(dir, 'zone.list')}"`,
    `  xfrdfile: "${join(dir, 'xfrd.state')}"`,
    `  xfrdir: "${dir}"`,
    `  pidfile: "${join(dir, 'nsd.pid')}"`,
    `  logfile: "${join(dir, 'nsd.log')}"`,
    '  server-count: 1',
    '  verbosity: 1',
    'remote-control:',
    '  control-enable: no',
  ]
  const zoneLines = zones.flatMap((z, i) => ['zone:', `  name: "${z.name}"`, `  zonefile: "${join(dir, `zone${i}.zone`)}"`])
  return [...server, ...zoneLines].join('\n') + '\n'
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((r) => child.once('exit', () => r()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
  await exited
  clearTimeout(timer)
}

/** Start NSD serving `zones`; resolves once it answers for the first zone. */
export async function startNsd(zones: readonly Zone[]): Promise<Nsd> {
  const bin = nsdBinary()
  const dir = mkdtempSync(join(tmpdir(), 'ethp2p-nsd-'))
  zones.forEach((z, i) => writeFileSync(join(dir, `zone${i}.zone`), zoneText(z)))
  const log = (): string => (existsSync(join(dir, 'nsd.log')) ? readFileSync(join(dir, 'nsd.log'), 'utf8') : '')
  // a port taken between the check and NSD's bind makes NSD exit: try another
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort()
    writeFileSync(join(dir, 'nsd.conf'), config(dir, port, zones))
    // -d: stay in the foreground, so the PID we hold is the server's
    const child = spawn(bin, ['-d', '-c', join(dir, 'nsd.conf')], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
    const spawnError = new Promise<Error>((r) => child.once('error', r))
    const resolver = new Resolver({ timeout: 200, tries: 1 })
    resolver.setServers([`127.0.0.1:${port}`])
    for (let i = 0; i < 50 && child.exitCode === null; i++) {
      const up = await Promise.race([
        resolver.resolveSoa(zones[0]!.name).then(
          () => true,
          () => false,
        ),
        spawnError.then((e) => Promise.reject(new Error(`cannot run ${bin}: ${e.message}`))),
      ])
      if (!up) {
        await sleep(100)
        continue
      }
      return {
        address: `127.0.0.1:${port}`,
        port,
        stop: async () => {
          await stopChild(child)
          rmSync(dir, { recursive: true, force: true })
        },
      }
    }
    await stopChild(child)
    if (!/bind|address already in use/i.test(stderr + log())) break
  }
  const why = log() + readFileSync(join(dir, 'nsd.conf'), 'utf8')
  rmSync(dir, { recursive: true, force: true })
  throw new Error(`NSD did not come up:\n${why}`)
}
