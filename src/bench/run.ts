/** Every benchmark suite in one run, printed side by side with ratios (`npm run bench`, `ethp2p bench`). */
import { ALL_BACKENDS } from '../crypto/backend.js'
import type { BackendName } from '../crypto/types.js'
import { cryptoBench } from './crypto.js'
import { printTable, printTargets, writeJson } from './harness.js'

export async function runAll(opts: { backends?: readonly BackendName[]; json?: string }): Promise<void> {
  const names = opts.backends ?? ALL_BACKENDS
  console.log(`ethp2p bench — node ${process.version}, backends: ${names.join(', ')}\n`)
  console.log('== crypto ==')
  const crypto = await cryptoBench(names)
  printTable(crypto.rows)
  printTargets(crypto.targets)
  await (await import('./rlpx.js')).rlpxSection(names)
  if (opts.json) writeJson(opts.json, { crypto })
}
