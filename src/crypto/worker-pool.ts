/**
 * Batch packet verification on worker threads for the wasm and js backends, so a second core does
 * half the work. The native backend uses the libuv pool instead (native/addon.cc).
 */
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { checkFromStatus } from './packet-codes.js'
import type { BackendName, PacketCheck } from './types.js'

interface Job {
  resolve: (r: { status: Int32Array; keys: Uint8Array }) => void
  reject: (e: unknown) => void
}

/** From compiled JS the worker file runs as is; from TypeScript sources (tests) it needs tsx's loader. */
function spawnWorker(name: BackendName): Worker {
  const workerData = { backend: name }
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./verify-worker.js', import.meta.url), { workerData })
  const tsx = import.meta.resolve('tsx/esm/api')
  const entry = new URL('./verify-worker.ts', import.meta.url).href
  const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}) })`
  return new Worker(code, { eval: true, workerData })
}

class Pool {
  private readonly workers: Worker[] = []
  private readonly jobs = new Map<number, Job>()
  private nextId = 0

  constructor(name: BackendName, size: number) {
    for (let i = 0; i < size; i++) {
      const w = spawnWorker(name)
      w.on('message', (m: { id: number; status: Int32Array; keys: Uint8Array }) => this.done(m.id, m))
      w.on('error', (e) => this.failAll(e))
      w.unref()
      this.workers.push(w)
    }
  }

  get size(): number {
    return this.workers.length
  }

  private done(id: number, r: { status: Int32Array; keys: Uint8Array }): void {
    const job = this.jobs.get(id)
    this.jobs.delete(id)
    if (this.jobs.size === 0) for (const w of this.workers) w.unref()
    job?.resolve(r)
  }

  private failAll(e: unknown): void {
    for (const j of this.jobs.values()) j.reject(e)
    this.jobs.clear()
  }

  run(i: number, datagrams: Uint8Array[]): Promise<{ status: Int32Array; keys: Uint8Array }> {
    const id = this.nextId++
    const w = this.workers[i % this.workers.length]!
    // keep the process alive only while work is outstanding
    w.ref()
    return new Promise((resolve, reject) => {
      this.jobs.set(id, { resolve, reject })
      w.postMessage({ id, datagrams })
    })
  }
}

const pools = new Map<BackendName, Pool | null>()
const poolSize = Math.max(1, Math.min(4, availableParallelism()))

function pool(name: BackendName): Pool | null {
  if (!pools.has(name)) {
    try {
      pools.set(name, new Pool(name, poolSize))
    } catch {
      pools.set(name, null)
    }
  }
  return pools.get(name) ?? null
}

/** Below this many datagrams the message round trip costs more than it saves. */
const MIN_PARALLEL = 16

/**
 * verifyPackets for backends without threads of their own: a batch split over worker threads, or checked
 * here when it is small.
 */
export async function verifyInWorkers(
  name: BackendName,
  datagrams: Uint8Array[],
  single: (d: Uint8Array, expected?: Uint8Array) => PacketCheck,
  expected?: (Uint8Array | undefined)[],
): Promise<PacketCheck[]> {
  const p = datagrams.length >= MIN_PARALLEL ? pool(name) : null
  // the pool's workers recover every signer: an expected one saves work only here, on this thread
  if (!p) return datagrams.map((d, i) => single(d, expected?.[i]))
  const chunk = Math.ceil(datagrams.length / p.size)
  const parts: Promise<{ status: Int32Array; keys: Uint8Array }>[] = []
  for (let i = 0; i * chunk < datagrams.length; i++) parts.push(p.run(i, datagrams.slice(i * chunk, (i + 1) * chunk)))
  const results = await Promise.all(parts)
  const out: PacketCheck[] = new Array(datagrams.length)
  results.forEach((r, part) => {
    for (let j = 0; j < r.status.length; j++) {
      const idx = part * chunk + j
      out[idx] = checkFromStatus(datagrams[idx]!, r.status[j]!, r.keys.slice(j * 64, j * 64 + 64))
    }
  })
  return out
}
