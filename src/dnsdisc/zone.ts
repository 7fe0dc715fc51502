/**
 * A tree's TXT records in the two forms publishers load: geth's `to-txt` JSON (name → value) and an
 * RFC 1035 master-file fragment. Pure text formatting.
 */

/** TTL of the root record, seconds: short, because the root changes with every signing (geth's 30 min). */
export const ROOT_TTL = 30 * 60
/** TTL of the entries, seconds: long, because an entry's name is its content's hash (geth's 4 weeks). */
export const ENTRY_TTL = 4 * 7 * 24 * 60 * 60
/** longest character-string in a TXT record (its length is one byte) */
const MAX_STRING = 255

/** geth's `dns to-txt` JSON: an object of name → TXT value, keys sorted, four-space indent. */
export function formatTxtJson(txt: ReadonlyMap<string, string>): string {
  const sorted = [...txt.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return JSON.stringify(Object.fromEntries(sorted), null, 4) + '\n'
}

/**
 * A TXT value as master-file character-strings: quoted pieces of at most 255 bytes each (a resolver
 * joins them back), with '"' and '\' escaped and bytes outside printable ASCII written as \DDD.
 */
export function txtStrings(value: string): string {
  const bytes = Buffer.from(value, 'utf8')
  const parts: string[] = []
  // an empty value is one empty string
  for (let i = 0; i === 0 || i < bytes.length; i += MAX_STRING) {
    let s = ''
    for (const c of bytes.subarray(i, i + MAX_STRING)) {
      if (c === 0x22 || c === 0x5c) s += '\\' + String.fromCharCode(c)
      else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c)
      else s += '\\' + String(c).padStart(3, '0')
    }
    parts.push(`"${s}"`)
  }
  return parts.join(' ')
}

/**
 * The TXT records of a tree at `domain` as a master-file fragment: one record a line, names fully
 * qualified and TTL and class explicit, so it means the same wherever it is included. The root (at the
 * bare domain) comes first with {@link ROOT_TTL}, then the entries by name with {@link ENTRY_TTL}.
 * It carries no SOA or NS: those belong to the zone that holds the domain. `comments` open the file.
 */
export function formatZone(txt: ReadonlyMap<string, string>, domain: string, comments: readonly string[] = []): string {
  const lines = comments.map((c) => `; ${c}`)
  const names = [...txt.keys()].filter((n) => n !== domain).sort()
  const root = txt.get(domain)
  if (root !== undefined) lines.push(`${domain}. ${ROOT_TTL} IN TXT ${txtStrings(root)}`)
  for (const n of names) lines.push(`${n}. ${ENTRY_TTL} IN TXT ${txtStrings(txt.get(n)!)}`)
  return lines.join('\n') + '\n'
}
