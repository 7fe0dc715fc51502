// The prebuilt addon for this machine's platform: prebuilds/<platform>-<arch>/ethp2p.<libc>.node.
// N-API (NAPI_VERSION 8 in binding.gyp), so one binary serves every Node >= 20; stripped, and tagged
// glibc or musl so node-gyp-build's rules skip it on the other C library.
//
// `npm pack` / `npm publish` run this (prepack) and `--clean` afterwards (postpack): prebuilds/ exists
// only while a tarball is made, so a checkout never loads a binary older than its sources, and no
// build output is committed. The package's own loader tries the prebuild before build/Release.
//
// Other platforms: on each target machine (macOS arm64 and x64, Windows x64, Linux arm64, Alpine for
// musl), with a C++ toolchain and Node >= 20, run `npm ci && npm run build:prebuild`, then copy its
// prebuilds/<platform>-<arch>/ into prebuilds/ of the checkout that packs before running `npm pack`
// there. node-gyp fetches Node's headers on machines whose Node does not ship them.
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const out = join(root, 'prebuilds')

if (process.argv[2] === '--clean') {
  rmSync(out, { recursive: true, force: true })
  process.exit(0)
}

const bin = createRequire(import.meta.url).resolve('prebuildify/bin.js')
const r = spawnSync(process.execPath, [bin, '--napi', '--strip', '--tag-libc'], { cwd: root, stdio: 'inherit' })
if (r.status !== 0) {
  console.error('prebuild: prebuildify failed')
  process.exit(1)
}
// prebuildify moves build/Release/ethp2p.node into prebuilds/; a checkout keeps its local build
const dir = join(out, `${process.platform}-${process.arch}`)
const file = readdirSync(dir).find((f) => f.endsWith('.node'))
if (!file) {
  console.error(`prebuild: no .node file in ${dir}`)
  process.exit(1)
}
const local = join(root, 'build', 'Release', 'ethp2p.node')
mkdirSync(join(local, '..'), { recursive: true })
// copy, then rename over: a process that has the old file mapped keeps its copy intact
copyFileSync(join(dir, file), `${local}.tmp`)
renameSync(`${local}.tmp`, local)
console.log(`prebuild: prebuilds/${process.platform}-${process.arch}/${file}`)
