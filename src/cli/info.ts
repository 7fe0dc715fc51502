/** `ethp2p info`: version, active backend, addon status. */
import { fileURLToPath } from 'node:url'
import { displayPath } from '../crypto/addon-path.js'
import { addonStatus, backend } from '../crypto/backend.js'
import { packageVersion as version } from '../util/version.js'

const root = fileURLToPath(new URL('../../', import.meta.url))

export { version }

/** `ethp2p info`: prints version, platform, active backend and where the addon came from. */
export function info(): void {
  const addon = addonStatus()
  console.log(`ethp2p ${version()}`)
  console.log(`node ${process.version} (${process.platform}-${process.arch})`)
  console.log(`backend: ${backend.name}${process.env.ETHP2P_BACKEND ? ' (forced by ETHP2P_BACKEND)' : ''}`)
  const where = addon.path ? ` from ${addon.source} ${displayPath(root, addon.path)}` : ''
  console.log(`native addon: ${addon.loaded ? `loaded${where}` : `not loaded (${addon.error ?? 'unknown reason'})`}`)
}
