/** Free UDP ports on loopback, for peers (@chainsafe/discv5) that must be told their port up front. */
import { createSocket } from 'node:dgram'

/**
 * `n` distinct UDP ports that were free a moment ago: all are bound at once (so none repeats), then
 * released. Another process may take one in between; callers on loopback accept that small race.
 */
export async function freeUdpPorts(n: number, host = '127.0.0.1'): Promise<number[]> {
  const socks = await Promise.all(
    Array.from({ length: n }, async () => {
      const s = createSocket('udp4')
      await new Promise<void>((r) => s.bind(0, host, r))
      return s
    }),
  )
  const ports = socks.map((s) => s.address().port)
  await Promise.all(socks.map((s) => new Promise<void>((r) => s.close(() => r()))))
  return ports
}
