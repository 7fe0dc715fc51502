/**
 * Help texts that are right (issue 23, "the terminal"): `bench --help` names every suite `--suite`
 * takes, and `monitor --help` gives `--every`'s default as a duration, as the option is written.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, it } from 'node:test'
import { SUITE_NAMES } from '../../src/bench/run.js'
import { durationArg } from '../../src/cli/args.js'

const MAIN = join(import.meta.dirname, '../../src/cli/main.ts')

/** `ethp2p ARGS --help`'s stdout (exit 0, or execFile rejects) */
async function help(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', MAIN, ...args, '--help'], { timeout: 30_000 })
  return stdout
}

/** one option's entry in a help text: its line and the description lines wrapped under it, joined by spaces */
function entry(text: string, flag: string): string {
  const all = text.split('\n')
  const start = all.findIndex((l) => l.trimStart().startsWith(`${flag} `))
  assert.ok(start >= 0, `no ${flag} in:\n${text}`)
  const rest = all.slice(start + 1)
  // the description wraps onto lines that start with spaces only; the next option's line starts with "-"
  const end = rest.findIndex((l) => l.trim() === '' || l.trimStart().startsWith('-'))
  return [all[start]!, ...rest.slice(0, end < 0 ? rest.length : end)].map((l) => l.trim()).join(' ')
}

describe('help texts', () => {
  it('bench --help lists every suite --suite takes, in order', async () => {
    const suite = entry(await help('bench'), '--suite')
    const listed = /comma-separated: (.*)$/.exec(suite)?.[1]
    assert.ok(listed !== undefined, suite)
    assert.deepEqual(listed.split(/,\s*/), SUITE_NAMES)
    assert.ok(SUITE_NAMES.includes('discv5'))
  })

  it("monitor --help shows --every's default as a duration (30m), not milliseconds", async () => {
    const every = entry(await help('monitor'), '--every')
    const shown = /\(default: ([^)]+)\)/.exec(every)?.[1]
    assert.equal(shown, '30m', every)
    assert.doesNotMatch(every, /1800000/)
    // what help shows is what the option means: 30 minutes
    assert.equal(durationArg(shown), 30 * 60_000)
  })
})
