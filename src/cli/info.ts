/** `ethp2p info`: version, active backend, addon status. */
import { addonStatus, backend } from '../crypto/backend.js'
import { packageVersion as version } from '../util/version.js'

export { version }

export function info(): void {
  const addon = addonStatus()
  console.log(`ethp2p ${version()}`)
  console.log(`node ${process.version} (${process.platform}-${process.arch})`)
  console.log(`backend: ${backend.name}${process.env.ETHP2P_BACKEND ? ' (forced by ETHP2P_BACKEND)' : ''}`)
  const from = addon.path?.includes('/prebuilds/') ? 'prebuilt' : 'built here'
  console.log(`native addon: ${addon.loaded ? `loaded (${from}: ${addon.path})` : `not loaded (${addon.error ?? 'unknown reason'})`}`)
}
