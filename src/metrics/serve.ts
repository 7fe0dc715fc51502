/**
 * The `--metrics ADDR` endpoint: `GET /metrics` in Prometheus text format, 404 for anything else.
 * Only the registry it is given is exposed; the listener stops when `close()` is called or the signal
 * aborts, and open keep-alive connections are cut so shutdown does not wait on a scraper.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { isIP } from 'node:net'
import type { Registry } from 'prom-client'

/** A metrics address that cannot be parsed or bound. */
export class MetricsServerError extends Error {
  override readonly name = 'MetricsServerError'
}

/** A running metrics endpoint. */
export interface MetricsServer {
  /** the bound port (useful with port 0) */
  readonly port: number
  close(): Promise<void>
}

/** Split `host:port` or `[v6]:port`; an empty host means all interfaces. */
export function parseListenAddr(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(addr)
  const host = m?.[1] ?? m?.[2] ?? ''
  const port = Number(m?.[3])
  if (!m || port > 65535) throw new MetricsServerError(`invalid metrics address ${JSON.stringify(addr)}: want host:port`)
  if (host !== '' && host !== 'localhost' && isIP(host) === 0) throw new MetricsServerError(`invalid metrics address ${JSON.stringify(addr)}: host is not an IP address`)
  return { host, port }
}

/** Serve `registry` as Prometheus text at http://ADDR/metrics until closed or `signal` aborts. */
export async function serveMetrics(addr: string, registry: Registry, signal?: AbortSignal): Promise<MetricsServer> {
  const { host, port } = parseListenAddr(addr)
  signal?.throwIfAborted()

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '').split('?')[0]
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n')
      return
    }
    try {
      const body = await registry.metrics()
      res.writeHead(200, { 'content-type': registry.contentType })
      res.end(req.method === 'HEAD' ? undefined : body)
    } catch (err) {
      // a failing collect hook must not take the node down with it
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`${(err as Error).message}\n`)
    }
  }
  const server = createServer((req, res) => void handle(req, res))

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(new MetricsServerError(`cannot listen on ${addr}: ${err.message}`))
    server.once('error', onError)
    server.listen({ host: host === '' ? undefined : host, port }, () => {
      server.off('error', onError)
      resolve()
    })
  })
  // after listening, a socket-level error is logged by no one and must not crash the process
  server.on('error', () => {})

  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      signal?.removeEventListener('abort', onAbort)
      server.close(() => resolve())
      server.closeAllConnections()
    })
    return closing
  }
  const onAbort = (): void => void close()
  signal?.addEventListener('abort', onAbort, { once: true })
  if (signal?.aborted) void close()

  const address = server.address()
  return { port: typeof address === 'object' && address !== null ? address.port : port, close }
}
