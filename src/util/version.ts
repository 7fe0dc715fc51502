/** The package version, and the client id we announce in Hello (geth's name/version/os-arch/runtime layout). */
import { readFileSync } from 'node:fs'

let cached: string | undefined

export function packageVersion(): string {
  cached ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version
  return cached
}

export function defaultClientId(): string {
  return `ethp2p/v${packageVersion()}/${process.platform}-${process.arch}/node${process.versions.node}`
}
