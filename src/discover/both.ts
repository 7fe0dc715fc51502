/**
 * discv4 and discv5 on one socket, as geth runs them: discv4 owns the socket, and every datagram it
 * cannot read as discv4 (after its size and per-IP rate checks) goes to discv5 through its
 * `onUnhandled` hook. This module is the only one that imports both transports.
 */
import { Discv4 } from './udp.js'
import type { Discv4Options } from './udp-options.js'
import { Discv5, type Discv5Options } from './v5/udp.js'

/** What the discv5 side of a shared socket may be given (the key, record and backend come from discv4). */
export type SharedDiscv5Options = Pick<Discv5Options, 'nodes' | 'replyTimeoutMs' | 'whoareyouRate' | 'maxSessions' | 'maxPending'>

/** A discv4 endpoint, with discv5 on its socket when asked for (`v5`: TALK handlers and serving are set on it). */
export type Discovery = Discv4 & { readonly v5?: Discv5 | undefined }

/** What {@link attachDiscv5} needs: v4's own key and backend (the ones given to Discv4.listen), and discv5's options. */
export interface AttachOptions extends SharedDiscv5Options, Pick<Discv4Options, 'privateKey' | 'backend' | 'limitsOnLAN'> {}

/**
 * Serve discv5 on `v4`'s socket: it shares v4's key and record (re-signed records follow), and
 * closes with it.
 */
export function attachDiscv5(v4: Discv4, opts: AttachOptions): Discv5 {
  const v5 = Discv5.attach({
    ...opts,
    localENR: v4.localENR,
    send: (data, port, ip) => v4.sendDatagram(data, port, ip),
  })
  v4.onUnhandled = (data, from) => v5.handle(data, from)
  v4.on('endpoint', (_ep, enr) => v5.setLocalENR(enr))
  v4.once('close', () => void v5.close())
  return v5
}

/**
 * Bind discv4 and, unless `discv5` is false, discv5 on the same socket (see {@link attachDiscv5}):
 * `true` for discv5's defaults, or its options. `disc.v5` is the discv5 side.
 */
export async function listenDiscovery(opts: Discv4Options, discv5: boolean | SharedDiscv5Options = true): Promise<Discovery> {
  const v4 = await Discv4.listen(opts)
  if (discv5 === false) return v4
  const v5 = attachDiscv5(v4, {
    ...(discv5 === true ? {} : discv5),
    privateKey: opts.privateKey,
    ...(opts.backend ? { backend: opts.backend } : {}),
    ...(opts.limitsOnLAN !== undefined ? { limitsOnLAN: opts.limitsOnLAN } : {}),
  })
  // the crawler and the CLI read discv5 as `disc.v5` (CrawlTransport.v5)
  return Object.defineProperty(v4, 'v5', { value: v5, enumerable: true }) as Discovery
}
