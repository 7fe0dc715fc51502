/** Log lines as a person or a machine reads them: `--log-format json|pretty`, ETHP2P_LOG_FORMAT, and the TTY default. */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { defaultLogFormat, isLogFormat } from '../../src/util/log.js'

const MAIN = join(import.meta.dirname, '../../src/cli/main.ts')

/** a 3-node testnet for one second: it logs "testnet running" and "stopping" */
function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stderr: string }> {
  const { ETHP2P_LOG_FORMAT: _f, ...base } = process.env
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'testnet', '--nodes', '3', '--duration', '1', ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...base, ...env } })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr })))
}

const lines = (s: string): string[] => s.trimEnd().split('\n')

describe('log format', () => {
  it('JSON when stderr is not a terminal: one object per line with level, time and msg', async () => {
    const r = await run([])
    assert.equal(r.code, 0, r.stderr)
    const objs = lines(r.stderr).map((l) => JSON.parse(l) as { level: number; time: number; msg: string })
    assert.ok(objs.some((o) => o.msg === 'testnet running' && o.level === 30 && typeof o.time === 'number'))
  })

  it('--log-format pretty: one readable line per event, the fields on it, no JSON', async () => {
    const r = await run(['--log-format', 'pretty'])
    assert.equal(r.code, 0, r.stderr)
    const running = lines(r.stderr).find((l) => l.includes('testnet running'))
    assert.ok(running, r.stderr)
    assert.match(running, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: testnet running \{.*"nodes":3/)
    assert.ok(lines(r.stderr).every((l) => !l.startsWith('{')), 'no JSON line')
  })

  it('ETHP2P_LOG_FORMAT chooses when no option does, and the option wins over it', async () => {
    const viaEnv = await run([], { ETHP2P_LOG_FORMAT: 'pretty' })
    assert.ok(lines(viaEnv.stderr).some((l) => l.includes('INFO: testnet running')), viaEnv.stderr)
    const optionWins = await run(['--log-format', 'json'], { ETHP2P_LOG_FORMAT: 'pretty' })
    assert.ok(lines(optionWins.stderr).every((l) => l.startsWith('{')), optionWins.stderr)
  })

  it('a format that is neither is a bad argument (exit 2)', async () => {
    const r = await run(['--log-format', 'xml'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /must be json or pretty/)
  })

  it('defaults: pretty on a terminal, JSON elsewhere, a valid ETHP2P_LOG_FORMAT over both', () => {
    assert.equal(defaultLogFormat({}, true), 'pretty')
    assert.equal(defaultLogFormat({}, false), 'json')
    assert.equal(defaultLogFormat({ ETHP2P_LOG_FORMAT: 'json' }, true), 'json')
    assert.equal(defaultLogFormat({ ETHP2P_LOG_FORMAT: 'pretty' }, false), 'pretty')
    assert.equal(defaultLogFormat({ ETHP2P_LOG_FORMAT: 'loud' }, false), 'json')
    assert.ok(isLogFormat('json') && isLogFormat('pretty') && !isLogFormat('text'))
  })
})
