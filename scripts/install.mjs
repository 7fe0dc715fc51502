// npm install hook.
// In the repository's own checkout (it has src/; the package ships only dist/) the addon is always
// compiled from the native sources as they are now, so no older binary stands in for them.
// In an installed package the shipped prebuild is used when it loads here. Only when none does
// (another platform, an older C library) is the addon compiled, from the C sources that the
// `secp256k1` and `keccak` packages ship: optional peer dependencies, installed by whoever wants the
// compile. Without them, or without a compiler, the install still succeeds and the WASM backend
// takes over at run time; `ethp2p info` tells which. With install scripts disabled none of this runs.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const wasm = 'the WASM backend will be used (see `ethp2p info`)'
if (!existsSync(new URL('../src/index.ts', import.meta.url))) {
  const { loadAddon } = await import('../dist/crypto/addon-path.js')
  if (loadAddon(root, {}).ok) process.exit(0)
  const require = createRequire(import.meta.url)
  const missing = ['secp256k1', 'keccak'].filter((p) => {
    try {
      require.resolve(`${p}/package.json`)
      return false
    } catch {
      return true
    }
  })
  if (missing.length) {
    console.warn(`ethp2p: no prebuilt addon for ${process.platform}-${process.arch}; ${wasm}.`)
    console.warn('ethp2p: to compile the native addon instead: npm install secp256k1@5 keccak@3 && npm rebuild ethp2p')
    process.exit(0)
  }
}
// npm puts its own node-gyp on PATH for lifecycle scripts
const r = spawnSync('node-gyp', ['rebuild'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' })
if (r.status !== 0) console.warn(`ethp2p: native addon could not be built${r.error ? ` (${r.error.message})` : ''}; ${wasm}`)
