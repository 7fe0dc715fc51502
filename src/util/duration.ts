/** Durations as people type them (`30m`, `5s`, `1h30m`, `2d`, `1500ms`), read once for the CLI and the HTTP API. */

/** milliseconds per unit a duration may use */
export const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 }

/** the longest duration accepted: a year */
const MAX_MS = 365 * UNITS['d']!

/**
 * Milliseconds of `v` (a bare number is seconds), between 1 s and 365 d; otherwise a RangeError whose
 * message says what is wanted.
 */
export function parseDuration(v: string): number {
  const parts = [...v.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)?/g)]
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== v) throw new RangeError('a duration like 30m, 5s, 1h30m or 2d')
  const ms = parts.reduce((sum, p) => sum + Number(p[1]) * UNITS[p[2] ?? 's']!, 0)
  if (!(ms >= 1000) || ms > MAX_MS) throw new RangeError('between 1s and 365d')
  return ms
}
