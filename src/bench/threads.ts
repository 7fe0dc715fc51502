/**
 * CPU time of this process's main thread and of all its other threads (Linux: /proc/self/task), so a
 * crawl's CPU splits into the event loop's and the rest: libuv's pool (batch verification), V8's GC
 * helpers, worker threads. Node 20 leaves its threads unnamed, so they are told apart only as the
 * main one (its id is the process id) and the others. Elsewhere it reports nothing.
 */
import { readdirSync, readFileSync } from 'node:fs'

/** CPU seconds (user + system) of the main thread and of the other threads. */
export interface ThreadCpu {
  main: number
  others: number
}

/** clock ticks per second: Linux exposes 100 to user space on every architecture Node runs on */
const TICKS = 100

/** The CPU this process's threads used so far; undefined off Linux. */
export function threadCpu(): ThreadCpu | undefined {
  let tasks: string[]
  try {
    tasks = readdirSync('/proc/self/task')
  } catch {
    return undefined
  }
  const out: ThreadCpu = { main: 0, others: 0 }
  for (const t of tasks) {
    try {
      const stat = readFileSync(`/proc/self/task/${t}/stat`, 'latin1')
      // the fields after the parenthesised name are positional: utime and stime are the 12th and 13th
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      const s = (Number(f[11]) + Number(f[12])) / TICKS
      if (Number(t) === process.pid) out.main += s
      else out.others += s
    } catch {
      // the thread ended between the listing and the read (its time is lost to the tally)
    }
  }
  return out
}

/** `after − before`, or undefined when either is unknown. */
export function threadCpuSince(before: ThreadCpu | undefined, after: ThreadCpu | undefined = threadCpu()): ThreadCpu | undefined {
  if (!before || !after) return undefined
  return { main: after.main - before.main, others: after.others - before.others }
}
