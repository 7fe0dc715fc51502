#!/usr/bin/env node
/** The `ethp2p` command line (DESIGN.md's contract): exit 0 ok, 1 runtime failure, 2 bad arguments. */
import { Command, CommanderError, InvalidArgumentError } from 'commander'
import { info, version } from './info.js'
import { keygen } from './keygen.js'

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
  .command('bench')
  .description('crypto hot paths on native, WASM and JS side by side')
  .option('--backend <name>', 'native|wasm|js|all', backendArg, 'all')
  .option('--json <file>', 'write the results as JSON')
  .action(async (opts: { backend: 'native' | 'wasm' | 'js' | 'all'; json?: string }) => {
    const { runAll } = await import('../bench/run.js')
    await runAll({ ...(opts.backend === 'all' ? {} : { backends: [opts.backend] }), ...(opts.json ? { json: opts.json } : {}) })
  })

try {
  await program.parseAsync(process.argv)
} catch (e) {
  if (e instanceof CommanderError) {
    // help and version are not errors; anything else commander rejects is a bad argument
    process.exit(e.exitCode === 0 ? 0 : 2)
  }
  console.error(`ethp2p: ${(e as Error).message}`)
  process.exit(1)
}
