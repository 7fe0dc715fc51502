/**
 * The shape of src/ (issue 21, "a house a newcomer reads"): no import cycle between files or folders
 * and no import up a layer, as .dependency-cruiser.cjs forbids them, and no source file longer than a
 * reader takes in at once.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { promisify } from 'node:util'
import { it } from 'node:test'

const root = join(import.meta.dirname, '..')
const src = join(root, 'src')

/** lines a file in src/ may have */
const MAX_LINES = 600

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  )
}

it('dependency-cruiser finds no import cycle in src/ (between files or folders) and no import up a layer', async () => {
  const cli = join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs')
  const run = promisify(execFile)(process.execPath, [cli, 'src', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], { cwd: root })
  // the cruiser exits non-zero when a rule is broken; its report says which
  await run.catch((err: { stdout?: string; stderr?: string }) => assert.fail(`${err.stdout ?? ''}${err.stderr ?? ''}`))
})

it(`no file in src/ is longer than ${MAX_LINES} lines`, () => {
  const long: string[] = []
  for (const file of files(src)) {
    const name = relative(src, file).split('\\').join('/')
    const lines = readFileSync(file, 'utf8').split('\n').length - 1
    if (lines > MAX_LINES) long.push(`src/${name}: ${lines} lines`)
  }
  assert.deepEqual(long, [])
})
