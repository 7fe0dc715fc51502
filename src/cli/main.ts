#!/usr/bin/env node
/** The `ethp2p` command line (DESIGN.md's contract): exit 0 ok, 1 runtime failure, 2 bad arguments. */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import type { NodeOptions } from './node.js'
import { NodeKeyError } from '../config/nodekey.js'
import { info, version } from './info.js'
import { keygen } from './keygen.js'
import { beforeArg, boolArg, dnsServerArg, durationArg, enodesArg, fractionArg, ipArg, listenArg, millisArg, natArg, netrestrictArg, portArg, positiveIntArg, protocolsArg, secondsArg, seedsArg, vantageArg } from './args.js'
import { enrtreeArg, networkArg, type CrawlCliOptions } from './crawl.js'
import { SUITE_NAMES } from '../bench/run.js'
import { enodeArg, type ProbeOptions } from './probe.js'
import type { MonitorCliOptions } from './monitor.js'
import type { StatsCliOptions } from './stats.js'
import { domainArg, linkArg, seqArg, type DnsSignOptions } from './dns.js'

import type { NodesetCliOptions } from './nodeset.js'
import { filterFlags } from './nodeset-options.js'
import type { PruneCliOptions } from './history.js'
import type { Node } from '../enode/node.js'
import { isLogFormat, type LogFormat } from '../util/log.js'

function logFormatArg(v: string): LogFormat {
  if (isLogFormat(v)) return v
  throw new InvalidArgumentError('must be json or pretty')
}

/** Every command that logs takes --log-format; the choice reaches createLogger (and child processes) through ETHP2P_LOG_FORMAT. */
function logFormatOption(): Option {
  return new Option('--log-format <format>', 'log lines on stderr: json or pretty (default: pretty on a terminal, else json; ETHP2P_LOG_FORMAT)').argParser(logFormatArg)
}

function backendArg(v: string): 'native' | 'wasm' | 'js' | 'all' {
  if (v === 'native' || v === 'wasm' || v === 'js' || v === 'all') return v
  throw new InvalidArgumentError('must be native, wasm, js or all')
}

/** The options a crawl takes, shared by `crawl` and `monitor` (whose crawls each take them). */
function crawlOptions(cmd: Command): Command {
  return cmd
    .option('--bootnodes <seeds>', 'comma-separated enode:// URLs and enr: records to start from', seedsArg)
    .option('--protocols <list>', 'discovery protocols to walk: v4, v5 or v4,v5 (default both; a --testnet speaks v4 unless asked)', protocolsArg)
    .option('--discv5', 'walk the discv5 DHT only (same as --protocols v5)')
    .option('--network <name>', "start from a network's public bootnodes: mainnet|sepolia|holesky|hoodi", networkArg)
    .option('--dns <urls>', 'comma-separated enrtree:// URLs (EIP-1459) to seed from', enrtreeArg)
    .option('--dns-server <addr>', 'resolve --dns trees with this DNS server: IP, IP:PORT or [IPv6]:PORT (repeatable; default: the system\'s)', dnsServerArg)
    .option('--testnet <n>', 'crawl a loopback testnet of N nodes started in this process', positiveIntArg)
    .option('--rtt <ms>', "with --testnet: mean round trip of the nodes' replies", millisArg)
    .option('--loss <f>', 'with --testnet: share of datagrams lost, each direction', fractionArg)
    .option('--dead <f>', 'with --testnet: share of nodes that never answer (default 0.1)', fractionArg)
    .option('--young-tables <f>', "with --testnet: tables serve only the entries they have revalidated, this share of them at the start, more as time goes (a young geth network)", fractionArg)
    .option('--v4-only <f>', 'with --testnet and discv5: share of live nodes that speak discv4 only', fractionArg)
    .option('--duration <s>', 'stop a crawl after this many seconds', secondsArg)
    .option('--rate <pps>', "datagrams sent per second (default: what this machine's measured crypto costs allow with --workers)", positiveIntArg)
    .option('--concurrency <n>', 'requests in flight at most (default 4096)', positiveIntArg)
    .option('--workers <n>', 'threads that sign and verify discv4 datagrams: 1 = on the event loop (least CPU per datagram), N = batches on N threads (highest rate; default: the cores)', positiveIntArg)
    .option('--dial', 'also dial every answering node over RLPx (Hello, eth Status) and listen for nodes dialling in')
    .option('--dial-concurrency <n>', 'RLPx dials at once (default 32)', positiveIntArg)
    .option('--geoip-dir <dir>', "country and AS from this directory's *Country*.mmdb / *ASN*.mmdb (MaxMind layout) instead of the packaged databases")
    .addOption(logFormatOption())
}

const program = new Command()
  .name('ethp2p')
  .description("Ethereum's devp2p stack: discv4, RLPx, p2p server, crawler")
  .version(version())
  .exitOverride()
  .configureOutput({ outputError: (s, write) => write(s.split('\n')[0] + '\n') })
  .hook('preAction', (_program, action) => {
    const f = (action.opts() as { logFormat?: LogFormat }).logFormat
    if (f !== undefined) process.env.ETHP2P_LOG_FORMAT = f
  })

program
  .command('info')
  .description('version, active crypto backend, native addon status')
  .action(info)

program
  .command('keygen')
  .description('create a new node key; prints the public key')
  .option('--out <file>', 'write the private key (hex) to FILE; refuses to overwrite')
  .action(keygen)

program
  .command('node')
  .description('run a node: discovery, RLPx listener and dialer, eth/68 + eth/69; prints its enode URL first')
  .option('--datadir <dir>', 'node key, node database, static-nodes.json and trusted-nodes.json live here')
  .option('--host <ip>', 'address to listen on', ipArg, '0.0.0.0')
  .option('--port <n>', 'TCP port (0: any free one)', portArg, 30303)
  .option('--discport <n>', 'UDP discovery port (default: the TCP port)', portArg)
  .option('--nodekey <file>', 'private key file (64 hex characters)')
  .option('--nodekeyhex <hex>', 'private key as hex')
  .option('--bootnodes <enodes>', 'comma-separated enode URLs', enodesArg)
  .option('--maxpeers <n>', 'maximum number of peers', positiveIntArg, 50)
  .option('--maxpendpeers <n>', 'maximum number of inbound handshakes in progress', positiveIntArg, 50)
  .option('--netrestrict <cidrs>', 'only these networks may connect or be dialled (comma-separated CIDRs)', netrestrictArg)
  .option('--nat <spec>', 'none | any | upnp | pmp | extip:IP (any, upnp, pmp need @achingbrain/nat-port-mapper installed)', natArg, 'none')
  .option('--static <file>', 'static nodes (default DATADIR/static-nodes.json)')
  .option('--trusted <file>', 'trusted nodes (default DATADIR/trusted-nodes.json)')
  .option('--metrics <addr>', 'serve Prometheus metrics on host:port at /metrics')
  .option('--network <name>', 'the chain our eth Status announces: mainnet|sepolia|holesky|hoodi', networkArg, 'mainnet')
  .option('--nodiscover', 'no discovery: peers come from --static and inbound connections only')
  .option('--discv4 [bool]', 'serve discv4 on the discovery port (default true; --discv4=false turns it off)', boolArg, true)
  .option('--discv5 [bool]', 'serve discv5 on the same port, with its own table (default true)', boolArg, true)
  .option('--ntp <server>', 'SNTP server for the clock-drift check, host[:port], or none', 'pool.ntp.org')
  .option('--duration <s>', 'stop after this many seconds', secondsArg)
  .addOption(logFormatOption())
  .action(async (opts: NodeOptions) => {
    if (opts.nodekey !== undefined && opts.nodekeyhex !== undefined) throw new InvalidArgumentError('--nodekey and --nodekeyhex exclude each other')
    if (opts.discv4 === false && opts.discv5 === false && !opts.nodiscover) throw new InvalidArgumentError('--discv4=false and --discv5=false: say --nodiscover')
    const { runNode } = await import('./node.js')
    await runNode(opts)
  })

crawlOptions(
  program.command('crawl').description('crawl the discovery networks (discv4, discv5): every node with its record, one JSON object per line'),
)
  .option('--out <file>', 'JSON lines output (default stdout)')
  .option('--csv <file>', 'CSV output')
  .option('--nodes-json <file>', "geth's nodes.json node set")
  .option('--datadir <dir>', 'keep results (and the crawler key) here; a later crawl resumes from them')
  .option('--since <dir>', "compare with an earlier crawl's datadir: new, gone, changed")
  .option('--report <file>', 'a self-contained HTML report of the crawl')
  .option('--neighbors <file>', 'every table entry the crawl found, as CSV: from,to,distance (public keys as the records\' id)')
  .action(async (opts: CrawlCliOptions) => {
    const { runCrawl } = await import('./crawl.js')
    await runCrawl(opts)
  })

crawlOptions(
  program.command('monitor').description('crawl on a schedule into a SQL history (SQLite or PostgreSQL); optional live dashboard and Prometheus gauges'),
)
  .option('--datadir <dir>', 'crawler key, node database and (without --db) history.sqlite live here')
  .addOption(new Option('--every <duration>', 'a crawl starts this long after the previous one started: 30m, 5s, 1h30m').argParser(durationArg).default(30 * 60_000, '30m'))
  .option('--db <spec>', 'sqlite:FILE or postgres://user@host:port/db (default: sqlite:DATADIR/history.sqlite)')
  .option('--vantage <name>', "this crawler's name in a shared database (default: the host name)", vantageArg)
  .option('--http <addr>', 'serve the dashboard on host:port', listenArg)
  .option('--metrics <addr>', 'serve Prometheus gauges of the latest crawl on host:port at /metrics', listenArg)
  .option('--crawls <n>', 'stop after N crawls (default: until SIGINT)', positiveIntArg)
  .option('--neighbors', "store each crawl's table entries (edges: from, to, distance) in the history, for stats' in-degree")
  .option('--retain <duration>', "after each crawl, prune this vantage point's crawls older than this (as history prune): 30d", durationArg)
  .action(async (opts: MonitorCliOptions) => {
    const { runMonitorCli } = await import('./monitor.js')
    await runMonitorCli(opts)
  })

program
  .command('resolve')
  .description('add country, asn and asOrg (offline databases) to JSONL crawl records: FILE or - for stdin, enriched JSONL on stdout')
  .argument('<file>', 'JSONL records, one per line, or - for stdin')
  .option('--geoip-dir <dir>', "use this directory's *Country*.mmdb / *ASN*.mmdb (MaxMind layout) instead of the packaged databases")
  .addOption(logFormatOption())
  .action(async (file: string, opts: import('./resolve.js').ResolveCliOptions) => {
    const { runResolve } = await import('./resolve.js')
    await runResolve(file, opts)
  })

program
  .command('stats')
  .description('questions across stored crawls: clients, versions, OS, networks, fork ids over time; churn; uptime; fork readiness')
  .option('--db <spec>', 'sqlite:FILE or postgres://user@host:port/db')
  .option('--datadir <dir>', 'read DIR/history.sqlite')
  .option('--json', 'one JSON object instead of tables')
  .option('--vantage <name>', "only this vantage point's crawls", vantageArg)
  .option('--since <duration>', 'only crawls started within this long: 24h, 7d', durationArg)
  .option('--client <name>', 'adoption curve of a version of this client')
  .option('--version <v>', 'the version for --client (default: its most common one)')
  .option('--top <n>', 'keys per table (default 8)', positiveIntArg)
  .option('--daily', 'series per UTC day (mean per crawl; the rollups history prune keeps) instead of per crawl')
  .action(async (opts: StatsCliOptions) => {
    if (opts.db !== undefined && opts.datadir !== undefined) throw new InvalidArgumentError('--db and --datadir exclude each other')
    const { runStats } = await import('./stats.js')
    await runStats(opts)
  })

const dns = program.command('dns').description('EIP-1459 node lists: sign a tree of DIR/nodes.json, export its TXT records')

dns
  .command('sign')
  .description("sign the tree of DIR/nodes.json with KEYFILE (keygen's hex key); writes DIR/enrtree-info.json, prints the tree's enrtree:// URL first")
  .argument('<dir>', "tree directory: nodes.json (geth's layout) and enrtree-info.json")
  .argument('<keyfile>', 'the tree\'s private key, 64 hex characters')
  .option('--domain <name>', 'where the tree is published (default: the signed URL\'s in enrtree-info.json)', domainArg)
  .option('--seq <n>', 'sequence number (default: the previous one + 1, or kept when the tree is unchanged)', seqArg)
  .option('--link <urls>', 'enrtree:// URLs of trees to link to, repeatable or comma-separated (default: enrtree-info.json\'s links)', linkArg)
  .action(async (dir: string, keyFile: string, opts: DnsSignOptions) => (await import('./dns.js')).runDnsSign(dir, keyFile, opts))

dns
  .command('to-txt')
  .description("the signed tree's TXT records as geth writes them: a JSON object of name → value, the root at the bare domain")
  .argument('<dir>', 'tree directory, signed')
  .argument('[out]', 'output file (default, or "-": stdout)')
  .action(async (dir: string, out: string | undefined) => (await import('./dns.js')).runDnsToTxt(dir, out))

dns
  .command('to-zonefile')
  .description("the signed tree's TXT records as a zone file fragment (RFC 1035 master format) on stdout")
  .argument('<dir>', 'tree directory, signed')
  .action(async (dir: string) => (await import('./dns.js')).runDnsToZonefile(dir))

const nodesetFilter = program
  .command('nodeset')
  .description("node sets (geth's devp2p nodeset): filter a crawl, a nodes.json or a stored crawl")
  .command('filter')
  .description('the nodes passing every filter, best score first, as nodes.json (default), enode URLs, ENRs, JSONL or CSV')
  .argument('<src>', 'crawl JSONL or nodes.json file (- for stdin), or a history: sqlite:FILE | postgres://…')
for (const { flags, help } of filterFlags()) nodesetFilter.option(flags, help)
nodesetFilter
  .option('--format <f>', 'nodes.json | enodes | enrs | jsonl | csv | json (default: by -o\'s extension .jsonl, .csv, .txt = enodes; else nodes.json)')
  .option('-o, --out <file>', 'write here instead of stdout')
  .option('--crawl <n>', 'with a history: this crawl (default: the latest complete one)', positiveIntArg)
  .option('--vantage <name>', "with a history: the latest crawl of this vantage point", vantageArg)
  .option('--geoip-dir <dir>', "with --country/--asn, for records without them: this directory's *Country*.mmdb / *ASN*.mmdb")
  .action(async (src: string, opts: NodesetCliOptions) => {
    const { runNodesetFilter } = await import('./nodeset.js')
    await runNodesetFilter(src, opts)
  })

const history = program.command('history').description('maintain the SQL history monitor writes')
history
  .command('prune')
  .description('delete the visits and edges of crawls started before DATE; keep crawl summaries, counts and nodes, fold old uptime sessions into per-node totals, and roll whole days up')
  .requiredOption('--before <date>', 'ISO date or date-time (UTC unless zoned), or a duration ago: 30d, 12h, 2w', (v: string) => beforeArg(v))
  .option('--db <spec>', 'sqlite:FILE or postgres://user@host:port/db')
  .option('--datadir <dir>', 'use DIR/history.sqlite')
  .option('--vantage <name>', "only this vantage point's crawls", vantageArg)
  .action(async (opts: PruneCliOptions) => {
    if (opts.db !== undefined && opts.datadir !== undefined) throw new InvalidArgumentError('--db and --datadir exclude each other')
    const { runPrune } = await import('./history.js')
    await runPrune(opts)
  })

program
  .command('probe')
  .description('one node: discovery bond, ENR, RLPx Hello and eth Status, with timings; JSON on stdout')
  .argument('<enode>', 'enode://…@ip:port[?discport=N]', enodeArg)
  .option('--timeout <s>', 'seconds each step may take (default 5)', secondsArg)
  .action(async (node: Node, opts: ProbeOptions) => {
    const { runProbe } = await import('./probe.js')
    if (!(await runProbe(node, opts))) process.exitCode = 1
  })

program
  .command('testnet')
  .description('a loopback discv4 network of N nodes; prints its bootnode enodes first')
  .requiredOption('--nodes <n>', 'number of nodes', positiveIntArg)
  .option('--base-port <p>', 'node i listens on P + i (default: free ports)', portArg)
  .option('--duration <s>', 'stop after this many seconds', secondsArg)
  .option('--rtt <ms>', "mean round trip of the nodes' replies (each node its own, jittered)", millisArg)
  .option('--loss <f>', 'share of datagrams lost, each direction', fractionArg)
  .option('--dead <f>', 'share of nodes listed in tables that never answer (default 0.1)', fractionArg)
  .option('--discv5', 'nodes answer discv5 too, a fifth of them discv5 only with consensus-layer records')
  .option('--young-tables <f>', 'tables serve only the entries they have revalidated, this share of them at the start, more as time goes (a young geth network)', fractionArg)
  .option('--v4-only <f>', 'with --discv5: share of live nodes that speak discv4 only', fractionArg)
  .addOption(logFormatOption())
  .action(async (opts: import('./testnet.js').TestnetCliOptions) => {
    const { runTestnet } = await import('./testnet.js')
    await runTestnet(opts)
  })

program
  .command('bench')
  .description('hot paths on native, WASM and JS side by side; crawl and lookup on a loopback testnet')
  .option('--backend <name>', 'native|wasm|js|all', backendArg, 'all')
  .option('--suite <names>', `only these suites, comma-separated: ${SUITE_NAMES.join(', ')}`)
  .option('--json <file>', 'write the results as JSON')
  .action(async (opts: { backend: 'native' | 'wasm' | 'js' | 'all'; json?: string; suite?: string }) => {
    const { runAll } = await import('../bench/run.js')
    const suites = opts.suite?.split(',')
    const unknown = suites?.filter((s) => !SUITE_NAMES.includes(s)) ?? []
    if (unknown.length > 0) throw new InvalidArgumentError(`unknown suite ${unknown.join(', ')}: choose from ${SUITE_NAMES.join(', ')}`)
    await runAll({ ...(opts.backend === 'all' ? {} : { backends: [opts.backend] }), ...(suites ? { suites } : {}), ...(opts.json ? { json: opts.json } : {}) })
  })

try {
  await program.parseAsync(process.argv)
} catch (e) {
  if (e instanceof InvalidArgumentError || e instanceof NodeKeyError) {
    console.error(`ethp2p: ${e.message}`)
    process.exit(2)
  }
  if (e instanceof CommanderError) {
    // help and version are not errors; anything else commander rejects is a bad argument
    process.exit(e.exitCode === 0 ? 0 : 2)
  }
  console.error(`ethp2p: ${(e as Error).message}`)
  process.exit(1)
}
