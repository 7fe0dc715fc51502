/** Shared bench plumbing: run tinybench suites, print one side-by-side table with ratios, write JSON. */
import { writeFileSync } from 'node:fs'
import { Bench } from 'tinybench'
import { loadBackend } from '../crypto/backend.js'
import type { BackendName, CryptoBackend } from '../crypto/types.js'

/** One measured operation on one implementation. */
export interface Row {
  /** the operation, e.g. "recover" */
  op: string
  /** implementation label: native, wasm, js, ethereumjs, … */
  impl: string
  /** operations per second (scaled by `per` when one task does several operations) */
  hz: number
  /** relative margin of error in percent */
  rme: number
}

/** A task name is `op [impl]`; `per` multiplies the rate when one call does several operations. */
export function task(bench: Bench, op: string, impl: string, fn: () => unknown | Promise<unknown>, per = 1): void {
  bench.add(`${op} [${impl}]`, fn)
  perOp.set(`${op} [${impl}]`, per)
}
const perOp = new Map<string, number>()

/** A tinybench Bench with the suites' common settings (`time` ms per task). */
export function newBench(time = 250): Bench {
  return new Bench({ time, warmupTime: 100, iterations: 10 })
}

/**
 * Runs every task `rounds` times, interleaved (all tasks, then all again), and keeps for each the best
 * round's median rate. This machine is a VM whose neighbours steal CPU in bursts: a mean over one window
 * reports the neighbours, the median within a round and the best across rounds report our code, and
 * interleaving keeps a burst from landing on one side of a ratio only.
 */
export async function runBench(bench: Bench, rounds = 3): Promise<Row[]> {
  const best = new Map<string, Row>()
  for (let round = 0; round < rounds; round++) {
    if (round > 0) bench.reset() // tinybench runs a task once unless reset
    await bench.run()
    for (const t of bench.tasks) {
      const m = /^(.*) \[(.*)\]$/.exec(t.name)
      const r = t.result as { throughput?: { p50: number; rme: number } } | undefined
      if (!m || !r?.throughput) continue
      const row = { op: m[1]!, impl: m[2]!, hz: r.throughput.p50 * (perOp.get(t.name) ?? 1), rme: r.throughput.rme }
      if (row.hz > (best.get(t.name)?.hz ?? -1)) best.set(t.name, row)
    }
  }
  return bench.tasks.flatMap((t) => best.get(t.name) ?? [])
}

const IMPL_ORDER = ['native', 'wasm', 'js', 'ethereumjs', 'chainsafe']

function fmt(hz: number): string {
  if (hz >= 1e6) return `${(hz / 1e6).toFixed(2)}M`
  if (hz >= 1e3) return `${(hz / 1e3).toFixed(1)}k`
  return hz.toFixed(1)
}

/** One table: rows are operations, columns implementations, then ratios against js and ethereumjs. */
export function printTable(rows: Row[], unit = 'ops/s'): void {
  const ops = [...new Set(rows.map((r) => r.op))]
  const impls = IMPL_ORDER.filter((i) => rows.some((r) => r.impl === i)).concat(
    [...new Set(rows.map((r) => r.impl))].filter((i) => !IMPL_ORDER.includes(i)),
  )
  const partners = ['ethereumjs', 'chainsafe'].filter((p) => impls.includes(p))
  const header = ['operation', ...impls.map((i) => `${i} ${unit}`), 'native/js', 'wasm/js', ...partners.map((p) => `native/${p === 'ethereumjs' ? 'ethjs' : p}`)]
  const lines = [header]
  for (const op of ops) {
    const get = (impl: string) => rows.find((r) => r.op === op && r.impl === impl)?.hz
    const ratio = (a?: number, b?: number) => (a && b ? `${(a / b).toFixed(1)}×` : '–')
    lines.push([
      op,
      ...impls.map((i) => (get(i) ? fmt(get(i)!) : '–')),
      ratio(get('native'), get('js')),
      ratio(get('wasm'), get('js')),
      ...partners.map((p) => ratio(get('native'), get(p))),
    ])
  }
  const widths = header.map((_, c) => Math.max(...lines.map((l) => l[c]!.length)))
  for (const l of lines) console.log(l.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '))
}

/** A figure compared with a goal in the printout (informational only). */
export interface Target {
  what: string
  value: number
  min: number
}

/** Print each target as met or missed. */
export function printTargets(targets: Target[]): void {
  console.log('\ntargets (informational; speed is measured here, never asserted in tests):')
  for (const t of targets)
    console.log(`  ${Number.isFinite(t.value) && t.value >= t.min ? 'met   ' : 'MISSED'}  ${t.what}: ${t.value.toFixed(2)} (target ≥ ${t.min})`)
}

/** Write results as JSON (`ethp2p bench --json FILE`). */
export function writeJson(file: string, data: unknown): void {
  writeFileSync(file, JSON.stringify(data, null, 2))
}

/** The backends of `names` this machine can load; the others are reported and skipped. */
export function available(names: readonly BackendName[]): CryptoBackend[] {
  const out: CryptoBackend[] = []
  for (const n of names) {
    try {
      out.push(loadBackend(n))
    } catch (e) {
      console.error(`skipping ${n}: ${(e as Error).message}`)
    }
  }
  return out
}
