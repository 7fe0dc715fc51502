/**
 * Hello client ids, parsed into what a census counts. The convention is
 * `name[/userdata…]/vVERSION/os-arch/runtime`, but clients bend it: geth puts the operator's
 * `--identity` between name and version, reth gives a Rust target triple and no runtime, Nethermind
 * appends `+commit`, some send only a name. We therefore locate the version and platform segments by
 * their shape rather than by position.
 *
 * The id is attacker-chosen text that ends up in terminals, reports and CSV files: control and
 * text-direction characters are removed and the length is bounded before anything else looks at it.
 */

export interface ClientId {
  /** first segment, lower-cased ('' when the peer sent nothing) */
  name: string
  /** numeric version without the leading 'v', e.g. '1.14.11' */
  version?: string
  /** what followed the numeric version, e.g. 'stable-f3c696fa' or 'dfea5240' */
  build?: string
  /** normalised to Go's names: 'linux', 'darwin', 'windows', … */
  os?: string
  /** normalised to Go's names: 'amd64', 'arm64', … (x86_64 and x64 are amd64) */
  arch?: string
  /** e.g. 'go1.23.2', 'dotnet8.0.10', 'openjdk-java-21' */
  runtime?: string
  /** segments that are none of the above, e.g. a geth --identity */
  userData?: string
  /** the sanitised, bounded input */
  raw: string
}

/** Longer ids are cut: real ones are under 100 characters, and a Hello may carry ~2 KiB. */
export const MAX_CLIENT_ID_LENGTH = 256

const VERSION = /^v?(\d+(?:\.\d+)+)(?:[-+_.~](.*))?$/i
const OS: Record<string, string> = {
  linux: 'linux',
  darwin: 'darwin',
  macos: 'darwin',
  osx: 'darwin',
  windows: 'windows',
  win32: 'windows',
  freebsd: 'freebsd',
  openbsd: 'openbsd',
  netbsd: 'netbsd',
  android: 'android',
  illumos: 'illumos',
  solaris: 'solaris',
}
const ARCH: Record<string, string> = {
  amd64: 'amd64',
  x64: 'amd64',
  x86_64: 'amd64',
  arm64: 'arm64',
  aarch64: 'arm64',
  aarch_64: 'arm64', // the JVM's spelling
  '386': '386',
  x86: '386',
  i686: '386',
  arm: 'arm',
  armv7: 'arm',
  armv7l: 'arm',
  riscv64: 'riscv64',
  ppc64le: 'ppc64le',
  s390x: 's390x',
}
const RUNTIME = /^-?(go\d|rustc|dotnet|java|openjdk|oracle|nodejs|node\d|bun|deno|python)/i

/** C0/C1 controls, zero-width and bidirectional overrides (which can disguise text on a terminal) */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g

/** Remove unprintable characters, trim, and cut at MAX_CLIENT_ID_LENGTH code points. */
function sanitise(input: string | Uint8Array): string {
  const s = typeof input === 'string' ? input : new TextDecoder().decode(input)
  const clean = s.replace(UNPRINTABLE, '').trim()
  const points = Array.from(clean)
  return points.length > MAX_CLIENT_ID_LENGTH ? points.slice(0, MAX_CLIENT_ID_LENGTH).join('') : clean
}

/** 'linux-amd64', 'linux-x86_64', 'x86_64-unknown-linux-gnu', 'aarch64-apple-darwin' → os and arch. */
function parsePlatform(segment: string): { os: string; arch?: string } | undefined {
  const parts = segment.toLowerCase().split('-')
  const os = parts.map((p) => OS[p]).find((o) => o !== undefined)
  if (os === undefined) return undefined
  const arch = parts.map((p) => ARCH[p]).find((a) => a !== undefined)
  return arch === undefined ? { os } : { os, arch }
}

/** Never throws: any input gives at least a (possibly empty) name. */
export function parseClientId(input: string | Uint8Array): ClientId {
  const raw = sanitise(input)
  const segments = raw.split('/')
  const out: ClientId = { name: segments[0]!.trim().toLowerCase(), raw }
  const userData: string[] = []
  // The version is the first segment shaped like one; whatever precedes it is user data.
  const v = segments.findIndex((s, j) => j > 0 && VERSION.test(s))
  let i = 1
  if (v > 0) {
    userData.push(...segments.slice(1, v).filter((s) => s !== ''))
    const [, version, build] = VERSION.exec(segments[v]!)!
    out.version = version
    if (build) out.build = build
    i = v + 1
  }
  for (const seg of segments.slice(i)) {
    if (seg === '') continue
    const platform = out.os === undefined ? parsePlatform(seg) : undefined
    if (platform) Object.assign(out, platform)
    // what follows the platform is the runtime, whatever its shape; besu and teku start it with '-'
    // when the JVM vendor is unknown
    else if (out.runtime === undefined && (out.os !== undefined || RUNTIME.test(seg))) out.runtime = seg.replace(/^-+/, '')
    else userData.push(seg)
  }
  if (userData.length > 0) out.userData = userData.join('/')
  return out
}
