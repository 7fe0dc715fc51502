/**
 * Logs on stderr (pino), so stdout stays free for machine-readable output: JSON lines for machines, or
 * pino-pretty's one line per event for a person at a terminal.
 */
import { pino, type Logger } from 'pino'
import { PinoPretty } from 'pino-pretty'

export type { Logger }

/** How log lines look: one JSON object each, or pino-pretty's readable line. */
export type LogFormat = 'json' | 'pretty'

/** Whether `v` names a {@link LogFormat}. */
export function isLogFormat(v: string): v is LogFormat {
  return v === 'json' || v === 'pretty'
}

/**
 * The format when none is chosen: ETHP2P_LOG_FORMAT if it names one, else pretty on a terminal and
 * JSON otherwise (a pipe, a file, a log collector).
 */
export function defaultLogFormat(env: NodeJS.ProcessEnv = process.env, tty = process.stderr.isTTY === true): LogFormat {
  const f = env.ETHP2P_LOG_FORMAT
  return f !== undefined && isLogFormat(f) ? f : tty ? 'pretty' : 'json'
}

/**
 * A logger on stderr, written synchronously so nothing is lost on exit (pretty too: no worker-thread
 * transport); ETHP2P_LOG sets the level.
 */
export function createLogger(level = process.env.ETHP2P_LOG ?? 'info', format: LogFormat = defaultLogFormat()): Logger {
  if (format === 'json') return pino({ level, base: undefined }, pino.destination({ fd: 2, sync: true }))
  const pretty = PinoPretty({ destination: 2, sync: true, colorize: process.stderr.isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', singleLine: true })
  return pino({ level, base: undefined }, pretty)
}
