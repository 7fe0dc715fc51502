/**
 * The house rule that every exported name carries a TSDoc comment, for the whole of src/ (TypeDoc,
 * `npm run docs`, checks the public API's members too, but sees only what index.ts exports).
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { it } from 'node:test'

const src = join(import.meta.dirname, '..', 'src')
const DECLARATION = /^export\s+(?:default\s+)?(?:declare\s+)?(?:async\s+)?(?:abstract\s+)?(?:function\*?|class|interface|type|const|let|enum)\s+([A-Za-z0-9_$]+)/

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  )
}

it('every exported declaration in src/ has a TSDoc comment right above it', () => {
  const missing: string[] = []
  for (const file of files(src)) {
    const lines = readFileSync(file, 'utf8').split('\n')
    lines.forEach((line, i) => {
      const m = DECLARATION.exec(line)
      if (!m) return
      let j = i - 1
      while (j >= 0 && lines[j]!.trim() === '') j--
      if (!(j >= 0 && lines[j]!.trimEnd().endsWith('*/'))) missing.push(`${relative(src, file)}:${i + 1} ${m[1]}`)
    })
  }
  assert.deepEqual(missing, [])
})
