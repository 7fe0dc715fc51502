// npm install hook: use a prebuilt addon if one ships, else compile it; if that fails (no compiler)
// the install still succeeds and the WASM backend takes over at run time.
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const bin = require.resolve('node-gyp-build/bin.js')
const r = spawnSync(process.execPath, [bin], { stdio: 'inherit' })
if (r.status !== 0) {
  console.warn('ethp2p: native addon could not be built; the WASM backend will be used (see `ethp2p info`)')
}
