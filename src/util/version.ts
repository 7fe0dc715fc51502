/** The package version, and the client id we announce in Hello (geth's name/version/os-arch/runtime layout). */
import { readFileSync } from 'node:fs'

let cached: string | undefined

/** the version in package.json, read once */
export function packageVersion(): string {
  cached ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version
  return cached
}

/** our Hello client id: ethp2p/v<version>/<os>-<arch>/node<version> */
export function defaultClientId(): string {
  return `ethp2p/v${packageVersion()}/${process.platform}-${process.arch}/node${process.versions.node}`
}
