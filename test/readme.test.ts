/** The README's library example is real code: extracted and run as a user would. */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const root = join(import.meta.dirname, '..')
const dir = mkdtempSync(join(tmpdir(), 'ethp2p-readme-'))
after(() => rmSync(dir, { recursive: true, force: true }))

function example(name: string): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const m = new RegExp(`<!-- example: ${name} -->\\s*\`\`\`ts\\n([\\s\\S]*?)\`\`\``).exec(readme)
  assert.ok(m, `README has the ${name} example`)
  // `ethp2p` resolves to the built package; run the sources instead, so the test needs no build
  return m[1]!.replace(/from 'ethp2p'/g, `from '${pathToFileURL(join(root, 'src/index.ts')).href}'`)
}

describe('README', () => {
  it('the echo example runs: two servers connect and each gets its greeting echoed', async () => {
    const file = join(dir, 'echo.mts')
    writeFileSync(file, example('echo'))
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--import', 'tsx', file], { cwd: root, timeout: 30_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)))
    })
    const lines = out.trim().split('\n').sort()
    assert.deepEqual(lines, ['echo: hello from the dialler', 'echo: hello from the listener'])
  })
})
