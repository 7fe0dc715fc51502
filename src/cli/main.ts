#!/usr/bin/env node
/** The `ethp2p` command line (DESIGN.md's contract): exit 0 ok, 1 runtime failure, 2 bad arguments. */
import { Command, CommanderError, InvalidArgumentError } from 'commander'
import type { NodeOptions } from './node.js'
import { NodeKeyError } from '../config/nodekey.js'
import { info, version } from './info.js'
import { keygen } from './keygen.js'
import { enodesArg, ipArg, natArg, netrestrictArg, portArg, positiveIntArg, secondsArg } from './args.js'
import { enrtreeArg, networkArg, type CrawlCliOptions } from './crawl.js'
import { enodeArg, type ProbeOptions } from './probe.js'
import type { Node } from '../enode/node.js'

function backendArg(v: string): 'native' | 'wasm' | 'js' | 'all' {
  if (v === 'native' || v === 'wasm' || v === 'js' || v === 'all') return v
  throw new InvalidArgumentError('must be native, wasm, js or all')
}

const program = new Command()
  .name('ethp2p')
  .description("Ethereum's devp2p stack: discv4, RLPx, p2p server, crawler")
  .version(version())
  .exitOverride()
  .configureOutput({ outputError: (s, write) => write(s.split('\n')[0] + '\n') })

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
  .option('--ntp <server>', 'SNTP server for the clock-drift check, host[:port], or none', 'pool.ntp.org')
  .option('--duration <s>', 'stop after this many seconds', secondsArg)
  .action(async (opts: NodeOptions) => {
    if (opts.nodekey !== undefined && opts.nodekeyhex !== undefined) throw new InvalidArgumentError('--nodekey and --nodekeyhex exclude each other')
    const { runNode } = await import('./node.js')
    await runNode(opts)
  })

program
  .command('crawl')
  .description('crawl the discv4 network: every node with its record, one JSON object per line')
  .option('--bootnodes <enodes>', 'comma-separated enode URLs to start from', enodesArg)
  .option('--network <name>', "start from a network's public bootnodes: mainnet|sepolia|holesky|hoodi", networkArg)
  .option('--dns <urls>', 'comma-separated enrtree:// URLs (EIP-1459) to seed from', enrtreeArg)
  .option('--testnet <n>', 'crawl a loopback testnet of N nodes started in this process', positiveIntArg)
  .option('--duration <s>', 'stop after this many seconds', secondsArg)
  .option('--concurrency <n>', 'tasks in flight, confirming nodes before reading tables (default 64; 32 on wasm, 4 on js)', positiveIntArg)
  .option('--out <file>', 'JSON lines output (default stdout)')
  .option('--csv <file>', 'CSV output')
  .option('--nodes-json <file>', "geth's nodes.json node set")
  .option('--datadir <dir>', 'keep results (and the crawler key) here; a later crawl resumes from them')
  .option('--since <dir>', "compare with an earlier crawl's datadir: new, gone, changed")
  .option('--report <file>', 'a self-contained HTML report of the crawl')
  .option('--dial', 'also dial every answering node over RLPx (Hello, eth Status) and listen for nodes dialling in')
  .option('--dial-concurrency <n>', 'RLPx dials at once (default 32)', positiveIntArg)
  .action(async (opts: CrawlCliOptions) => {
    const { runCrawl } = await import('./crawl.js')
    await runCrawl(opts)
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
  .action(async (opts: { nodes: number; basePort?: number; duration?: number }) => {
    const { runTestnet } = await import('./testnet.js')
    await runTestnet(opts)
  })

program
  .command('bench')
  .description('hot paths on native, WASM and JS side by side; crawl and lookup on a loopback testnet')
  .option('--backend <name>', 'native|wasm|js|all', backendArg, 'all')
  .option('--suite <names>', 'only these suites, comma-separated: crypto, discv4, rlpx, p2p, crawl, lookup')
  .option('--json <file>', 'write the results as JSON')
  .action(async (opts: { backend: 'native' | 'wasm' | 'js' | 'all'; json?: string; suite?: string }) => {
    const { runAll, SUITE_NAMES } = await import('../bench/run.js')
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
