/** What the discovery layer reports in the background, logged the same way by every command that runs it. */
import { NodeDB } from '../discover/nodedb.js'
import type { Discv4 } from '../discover/udp.js'
import type { Logger } from '../util/log.js'

/** the node database of `path` (in memory without one), logging failed expiry passes */
export function openNodeDB(log: Logger, path: string | undefined): NodeDB {
  const onExpiryError = (err: unknown): void => log.warn({ err }, 'node database expiry pass failed')
  return new NodeDB(path !== undefined ? { path, onExpiryError } : { onExpiryError })
}

/** Log a discovery transport's background trouble (clock drift, DB writes, NTP) instead of dropping it. */
export function logDiscoveryEvents(log: Logger, disc: Discv4): void {
  disc.on('clockDrift', (ms) => log.warn({ offsetMs: Math.round(ms) }, 'system clock is off by more than 10 s: discovery packets will look expired; adjust the clock'))
  disc.on('dbError', (err) => log.error({ err }, 'node database write failed'))
  disc.on('ntpError', (err) => log.debug({ err: err.message }, 'clock drift check: NTP server unreachable'))
}
