/**
 * Where the native addon may come from, in the order they are tried: the prebuilt binary the package
 * ships in `prebuilds/<platform>-<arch>/` (made at pack time by scripts/prebuild.mjs), then the addon
 * compiled from source in a checkout or at install (`build/Release`). Shared by the backend loader
 * and the install script, so both agree on what "the addon" is.
 */
import { existsSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { isAbsolute, join, relative } from 'node:path'

/** How a native addon was found: shipped prebuilt, compiled here, or named by `ETHP2P_ADDON`. */
export type AddonSource = 'prebuild' | 'local build' | 'ETHP2P_ADDON'

/** One file the native addon may be loaded from. */
export interface AddonCandidate {
  readonly source: AddonSource
  /** absolute path of the `.node` file */
  readonly path: string
}

interface Tags {
  file: string
}
interface Tuple {
  name: string
}
/** The matchers node-gyp-build exports (its resolve() tries build/ before prebuilds/, ours the reverse). */
interface NodeGypBuild {
  parseTags(file: string): Tags | undefined
  matchTags(runtime: string, abi: string): (t: Tags | undefined) => t is Tags
  compareTags(runtime: string): (a: Tags, b: Tags) => number
  parseTuple(name: string): Tuple | undefined
  matchTuple(platform: string, arch: string): (t: Tuple | undefined) => t is Tuple
  compareTuples(a: Tuple, b: Tuple): number
}

const require = createRequire(import.meta.url)

function list(dir: string): string[] {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}

/**
 * The prebuilt addon under `root/prebuilds` that suits this platform, architecture and C library
 * (node-gyp-build's tag rules: `linux-x64/ethp2p.glibc.node` is skipped on musl), if any.
 */
export function prebuildPath(root: string): string | undefined {
  const g = require('node-gyp-build') as NodeGypBuild
  const dir = join(root, 'prebuilds')
  const tuple = list(dir).map(g.parseTuple).filter(g.matchTuple(process.platform, process.arch)).sort(g.compareTuples)[0]
  if (!tuple) return undefined
  const best = list(join(dir, tuple.name)).map(g.parseTags).filter(g.matchTags('node', process.versions.modules)).sort(g.compareTags('node'))[0]
  return best && join(dir, tuple.name, best.file)
}

/** The addon node-gyp builds in `root` (from a checkout's `npm ci`, or an install that had to compile). */
export function localBuildPath(root: string): string {
  return join(root, 'build', 'Release', 'ethp2p.node')
}

/**
 * The files to try, best first. `ETHP2P_ADDON` (a path) replaces the search with that one file, as
 * scripts/asan.sh does for the sanitizer build.
 */
export function addonCandidates(root: string, env: NodeJS.ProcessEnv = process.env): AddonCandidate[] {
  if (env.ETHP2P_ADDON) return [{ source: 'ETHP2P_ADDON', path: env.ETHP2P_ADDON }]
  const out: AddonCandidate[] = []
  const prebuild = prebuildPath(root)
  if (prebuild) out.push({ source: 'prebuild', path: prebuild })
  const local = localBuildPath(root)
  if (existsSync(local)) out.push({ source: 'local build', path: local })
  return out
}

/** `path` relative to the package root when it lies inside it (as `ethp2p info` prints it), else as is. */
export function displayPath(root: string, path: string): string {
  const r = relative(root, path)
  return r && !r.startsWith('..') && !isAbsolute(r) ? r : path
}

/** What {@link loadAddon} found: the module and where it came from, or why nothing loaded. */
export type AddonLoad = { ok: true; module: unknown; origin: AddonCandidate } | { ok: false; error: string }

/**
 * Loads the first candidate that loads. A prebuild that does not load here (built against a newer
 * glibc, say) gives way to a local build; the error names every file tried and why it failed.
 */
export function loadAddon(root: string, env: NodeJS.ProcessEnv = process.env): AddonLoad {
  const candidates = addonCandidates(root, env)
  if (!candidates.length)
    return { ok: false, error: `no prebuild for ${process.platform}-${process.arch} and no local build (${displayPath(root, localBuildPath(root))})` }
  const failures: string[] = []
  for (const c of candidates) {
    try {
      return { ok: true, module: require(c.path), origin: c }
    } catch (e) {
      failures.push(`${c.source} ${displayPath(root, c.path)}: ${(e as Error).message.split('\n')[0]}`)
    }
  }
  return { ok: false, error: failures.join('; ') }
}
