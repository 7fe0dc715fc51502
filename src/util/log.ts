/** JSON logs on stderr (pino), so stdout stays free for machine-readable output. */
import { pino, type Logger } from 'pino'

export type { Logger }

/** JSON logs on stderr (pino), written synchronously so nothing is lost on exit; ETHP2P_LOG sets the level. */
export function createLogger(level = process.env.ETHP2P_LOG ?? 'info'): Logger {
  return pino({ level, base: undefined }, pino.destination({ fd: 2, sync: true }))
}
