/** Discv4 nodes on 127.0.0.1 for transport tests: fresh keys, free ports, closed together. */
import { randomPrivateKey } from '../../src/crypto/backend.js'
import { Discv4 } from '../../src/discover/udp.js'
import type { Discv4Options } from '../../src/discover/udp-options.js'
import { REPLY_TIMEOUT_MS } from '../timing.js'

const started: Discv4[] = []

export async function startNode(opts: Partial<Discv4Options> = {}): Promise<Discv4> {
  const d = await Discv4.listen({ privateKey: randomPrivateKey(), host: '127.0.0.1', port: 0, replyTimeoutMs: REPLY_TIMEOUT_MS, ...opts })
  started.push(d)
  return d
}

export async function closeNodes(): Promise<void> {
  for (const d of started.splice(0)) await d.close()
}
