/** Worker thread body for worker-pool.ts: verifies a chunk of datagrams with one backend. */
import { parentPort, workerData } from 'node:worker_threads'
import { statusOf } from './packet-codes.js'
import type { BackendImpl, BackendName } from './types.js'

const name = (workerData as { backend: BackendName }).backend
const impl: BackendImpl =
  name === 'wasm' ? (await import('./wasm.js')).createWasmBackend() : (await import('./js.js')).createJsBackend()

parentPort!.on('message', (m: { id: number; datagrams: Uint8Array[] }) => {
  const n = m.datagrams.length
  const status = new Int32Array(n)
  const keys = new Uint8Array(n * 64)
  for (let i = 0; i < n; i++) {
    const c = impl.verifyPacket(m.datagrams[i]!)
    status[i] = statusOf(c)
    if (c.ok) keys.set(c.pubkey, i * 64)
  }
  parentPort!.postMessage({ id: m.id, status, keys }, [status.buffer, keys.buffer])
})
