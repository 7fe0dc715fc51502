/** `ethp2p resolve` as a user runs it: JSONL in, enriched JSONL out, one line for one line. */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const MAIN = join(import.meta.dirname, '../../src/cli/main.ts')
const dir = mkdtempSync(join(tmpdir(), 'resolve-cli-'))
after(() => rmSync(dir, { recursive: true, force: true }))

function run(args: string[], stdin?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  child.stdin.end(stdin ?? '')
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })))
}

const input = [
  JSON.stringify({ id: 'a1', ip: '8.8.8.8', udp: 30303, answered: true }),
  JSON.stringify({ id: 'b2', ip: '1.1.1.1', udp: 30303, answered: false }),
  JSON.stringify({ id: 'c3', ip: '127.0.0.1', udp: 30303, answered: true }),
  '{"id": "broken"',
  JSON.stringify({ id: 'd4', ip: '10.0.0.7', udp: 30303 }),
  '[1,2]',
]

describe('ethp2p resolve', () => {
  it('FILE: one record in, one out, in order; public IPs gain country/asn/asOrg, private ones nothing; bad lines pass through', async () => {
    const file = join(dir, 'nodes.jsonl')
    writeFileSync(file, input.join('\n') + '\n')
    const r = await run(['resolve', file])
    assert.equal(r.code, 0, r.stderr)
    const out = r.stdout.trimEnd().split('\n')
    assert.equal(out.length, input.length)
    const google = JSON.parse(out[0]!) as Record<string, unknown>
    assert.equal(google.country, 'US')
    assert.equal(google.asn, 15169)
    assert.match(String(google.asOrg), /Google/)
    assert.equal(google.id, 'a1')
    assert.equal((JSON.parse(out[1]!) as { asn: number }).asn, 13335)
    assert.equal(out[2], input[2])
    assert.equal(out[3], input[3])
    assert.equal(out[4], input[4])
    assert.equal(out[5], input[5])
    assert.match(r.stderr, /line 4: not JSON/)
    assert.match(r.stderr, /line 6: not a JSON object/)
    assert.match(r.stderr, /6 lines, 2 records enriched, 2 passed through/)
  })

  it('- reads stdin', async () => {
    const r = await run(['resolve', '-'], input[0] + '\n')
    assert.equal(r.code, 0, r.stderr)
    assert.equal((JSON.parse(r.stdout) as { country: string }).country, 'US')
  })

  it('a missing file or --geoip-dir exits 2 with a one-line reason', async () => {
    for (const args of [['resolve', join(dir, 'nope.jsonl')], ['resolve', '-', '--geoip-dir', join(dir, 'no-dir')], ['resolve']]) {
      const r = await run(args)
      assert.equal(r.code, 2, args.join(' '))
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
    }
  })
})
