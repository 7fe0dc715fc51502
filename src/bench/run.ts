/** Every benchmark suite in one run, printed side by side with ratios (`npm run bench`, `ethp2p bench`). */
import { ALL_BACKENDS } from '../crypto/backend.js'
import type { BackendName } from '../crypto/types.js'
import { printTable, printTargets, writeJson, type Row, type Target } from './harness.js'

type Suite = (names: readonly BackendName[]) => Promise<{ rows: Row[]; targets: Target[] }>

/** loaded lazily, so a run never pays for suites it does not reach */
const SUITES: Record<string, () => Promise<Suite>> = {
  crypto: async () => (await import('./crypto.js')).cryptoBench,
  discv4: async () => (await import('./discover.js')).discoverBench,
  rlpx: async () => (await import('./rlpx.js')).rlpxBench,
  p2p: async () => (await import('./p2p.js')).p2pBench,
  crawl: async () => (await import('./crawl.js')).crawlBench,
  cpu: async () => (await import('./cpu.js')).cpuBench,
  discv5: async () => (await import('./discv5.js')).discv5Bench,
  lookup: async () => (await import('./lookup.js')).lookupBench,
  history: async () => (await import('./history.js')).historyBench,
  retention: async () => (await import('./retention.js')).retentionBench,
  geo: async () => (await import('./geo.js')).geoBench,
}

/** the suites `--suite` may name */
export const SUITE_NAMES = Object.keys(SUITES)

/** Run the selected suites on the selected backends, print a table of each, and optionally write JSON. */
export async function runAll(opts: { backends?: readonly BackendName[]; json?: string; suites?: readonly string[] }): Promise<void> {
  const names = opts.backends ?? ALL_BACKENDS
  console.log(`ethp2p bench — node ${process.version}, backends: ${names.join(', ')}`)
  const results: Record<string, { rows: Row[]; targets: Target[] }> = {}
  for (const [name, load] of Object.entries(SUITES)) {
    if (opts.suites && !opts.suites.includes(name)) continue
    console.log(`\n== ${name} ==`)
    const r = await (await load())(names)
    printTable(r.rows)
    printTargets(r.targets)
    results[name] = r
  }
  if (opts.json) writeJson(opts.json, results)
}
