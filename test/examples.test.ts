/** The programs in examples/ run as an embedder runs them: `node examples/x.mjs`, importing 'ethp2p'. */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, it } from 'node:test'

const ROOT = join(import.meta.dirname, '..')

function run(file: string): { code: number | null; out: string; err: string } {
  // 'ethp2p' resolves to this package (its exports, the built dist/), as in an installed copy
  const r = spawnSync(process.execPath, [join(ROOT, 'examples', file)], { cwd: ROOT, encoding: 'utf8', timeout: 180_000 })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

describe('examples', () => {
  it('embedded-crawl.mjs: a crawl of a lossy loopback network, every live node answering', () => {
    const r = run('embedded-crawl.mjs')
    assert.equal(r.code, 0, r.err)
    assert.match(r.out, /crawl: 200 found, 180 answered/)
  })

  it('custom-protocol.mjs: a sub-protocol of its own between two servers', () => {
    const r = run('custom-protocol.mjs')
    assert.equal(r.code, 0, r.err)
    assert.match(r.out, /dialler got 5/)
    assert.match(r.out, /counter: done/)
  })

  it('discovery-service.mjs: both discovery protocols on one port, lookups finding nodes', () => {
    const r = run('discovery-service.mjs')
    assert.equal(r.code, 0, r.err)
    const m = /discovery: (\d+) nodes found/.exec(r.out)
    assert.ok(m && Number(m[1]) >= 10, r.out)
    assert.match(r.out, /same as discv4's: true/)
  })

  it('batch-verify.mjs: every packet valid on every backend', () => {
    const r = run('batch-verify.mjs')
    assert.equal(r.code, 0, r.err)
    assert.match(r.out, /native: 2000 of 2000 valid/)
    assert.match(r.out, /wasm: 2000 of 2000 valid/)
    assert.match(r.out, /js: 200 of 200 valid/)
  })
})
