/** Where the native addon is looked for: prebuild first, then the local build, ETHP2P_ADDON alone. */
import assert from 'node:assert/strict'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { addonCandidates, loadAddon, localBuildPath, prebuildPath } from '../../src/crypto/addon-path.js'
import { nativeAddonOrigin } from '../../src/crypto/native.js'
import { rawAddon } from './helpers.js'

const tmp = mkdtempSync(join(tmpdir(), 'ethp2p-addon-path-'))
after(() => rmSync(tmp, { recursive: true, force: true }))

const here = `${process.platform}-${process.arch}`
// node-gyp-build tells musl from glibc by /etc/alpine-release; a binary for the other C library must be skipped
const libc = existsSync('/etc/alpine-release') ? 'musl' : 'glibc'
const otherLibc = libc === 'musl' ? 'glibc' : 'musl'
const noEnv = {}

/** A package root holding the given files (relative path → contents). */
function pkg(name: string, files: Record<string, string | Uint8Array>): string {
  const root = join(tmp, name)
  for (const [rel, data] of Object.entries(files)) {
    mkdirSync(join(root, rel, '..'), { recursive: true })
    writeFileSync(join(root, rel), data)
  }
  return root
}

describe('addon location', () => {
  it('a prebuild for this platform comes before the local build', () => {
    const root = pkg('both', { [`prebuilds/${here}/ethp2p.${libc}.node`]: 'x', 'build/Release/ethp2p.node': 'x' })
    assert.deepEqual(addonCandidates(root, noEnv), [
      { source: 'prebuild', path: join(root, 'prebuilds', here, `ethp2p.${libc}.node`) },
      { source: 'local build', path: localBuildPath(root) },
    ])
  })

  it('prebuilds for other platforms or the other C library are not candidates', () => {
    const other = process.platform === 'win32' ? 'linux-x64' : 'win32-x64'
    const root = pkg('others', { [`prebuilds/${other}/ethp2p.node`]: 'x', [`prebuilds/${here}/ethp2p.${otherLibc}.node`]: 'x' })
    assert.equal(prebuildPath(root), undefined)
    assert.deepEqual(addonCandidates(root, noEnv), [])
  })

  it('an untagged prebuild serves any C library; a tagged one for ours is preferred', () => {
    const root = pkg('tags', { [`prebuilds/${here}/ethp2p.node`]: 'x' })
    assert.equal(prebuildPath(root), join(root, 'prebuilds', here, 'ethp2p.node'))
    writeFileSync(join(root, 'prebuilds', here, `ethp2p.${libc}.node`), 'x')
    assert.equal(prebuildPath(root), join(root, 'prebuilds', here, `ethp2p.${libc}.node`))
  })

  it('ETHP2P_ADDON replaces the search with one file', () => {
    const root = pkg('override', { [`prebuilds/${here}/ethp2p.node`]: 'x' })
    assert.deepEqual(addonCandidates(root, { ETHP2P_ADDON: '/some/ethp2p.node' }), [{ source: 'ETHP2P_ADDON', path: '/some/ethp2p.node' }])
  })

  it('nothing to load gives a reason naming both places', () => {
    const r = loadAddon(pkg('empty', { 'package.json': '{}' }), noEnv)
    assert.equal(r.ok, false)
    assert.match(!r.ok ? r.error : '', new RegExp(`no prebuild for ${here} and no local build \\(build/Release/ethp2p.node\\)`))
  })

  it('a prebuild that does not load gives way to the local build, and the error says why when neither loads', (t) => {
    if (process.env.ETHP2P_NO_NATIVE === '1') return t.skip('no native addon on this machine (ETHP2P_NO_NATIVE=1)')
    rawAddon() // the backend's own addon loads: a copy of that file is the "local build"
    const real = nativeAddonOrigin()!.path
    const root = pkg('fallback', { [`prebuilds/${here}/ethp2p.node`]: 'not an ELF file' })
    mkdirSync(join(root, 'build/Release'), { recursive: true })
    copyFileSync(real, localBuildPath(root))
    const r = loadAddon(root, noEnv)
    assert.ok(r.ok)
    assert.deepEqual(r.ok && r.origin, { source: 'local build', path: localBuildPath(root) })
    assert.equal(typeof (r.ok && (r.module as { keccak256: unknown }).keccak256), 'function')

    const broken = pkg('broken', { [`prebuilds/${here}/ethp2p.node`]: 'junk', 'build/Release/ethp2p.node': 'junk' })
    const fail = loadAddon(broken, noEnv)
    assert.equal(fail.ok, false)
    assert.match(!fail.ok ? fail.error : '', new RegExp(`^prebuild prebuilds/${here}/ethp2p.node: .+; local build build/Release/ethp2p.node: .+`))
  })
})
