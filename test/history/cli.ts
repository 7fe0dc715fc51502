/**
 * `ethp2p` as a child process, for the tests that drive the command line as an operator does: its
 * output as it comes, a wait for a condition on it, and its JSON lines.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'

const MAIN = join(import.meta.dirname, '../../src/cli/main.ts')
const children: ChildProcess[] = []

/** Kill what {@link run} started and is still running (a test's `after`). */
export function killChildren(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
}

/** A running `ethp2p`. */
export interface Run {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  exit: Promise<number | null>
  /** resolves once `pred` holds for the output so far (checked on every chunk), rejects at exit (or after `timeoutMs`, when given) */
  until: (pred: (out: string, err: string) => boolean, what: string, timeoutMs?: number) => Promise<void>
}

/** Start `ethp2p ARGS`, with `env` added to this process's environment. */
export function run(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })
  children.push(child)
  let out = ''
  let err = ''
  const waiters = new Set<() => void>()
  const poke = (): void => {
    for (const w of waiters) w()
  }
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString()
    poke()
  })
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString()
    poke()
  })
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  const until = (pred: (o: string, e: string) => boolean, what: string, timeoutMs?: number): Promise<void> =>
    new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined
      const check = (): void => {
        if (pred(out, err)) {
          waiters.delete(check)
          clearTimeout(timer)
          resolve()
        }
      }
      if (timeoutMs !== undefined)
        timer = setTimeout(() => {
          if (waiters.delete(check)) reject(new Error(`not within ${timeoutMs / 1000} s: ${what}: ${err.slice(-2000)}`))
        }, timeoutMs)
      waiters.add(check)
      check()
      void exit.then((code) => {
        clearTimeout(timer)
        if (waiters.delete(check)) reject(new Error(`exited (${code}) before ${what}: ${err.slice(-2000)}`))
      })
    })
  return { child, stdout: () => out, stderr: () => err, exit, until }
}

/** the JSON lines of an output */
export const lines = (s: string): Record<string, unknown>[] =>
  s
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
/** how many log lines of an output carry `msg` */
export const count = (s: string, msg: string): number => s.split('\n').filter((l) => l.includes(`"msg":"${msg}"`)).length
