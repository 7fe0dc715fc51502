/**
 * @achingbrain/nat-port-mapper is an optional peer dependency: without it, UPnP and NAT-PMP fail with
 * NO_LIBRARY (saying what to install) while everything else, extip included, works.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { it } from 'node:test'

// a resolve hook that makes the library missing, as in an install without it
const hide = `data:text/javascript,${encodeURIComponent(`
import { register } from 'node:module'
register('data:text/javascript,' + encodeURIComponent(\`export async function resolve(s, c, next) {
  if (s === '@achingbrain/nat-port-mapper') throw Object.assign(new Error('Cannot find package ' + s), { code: 'ERR_MODULE_NOT_FOUND' })
  return next(s, c)
}\`))`)}`

const script = `
const { parseNAT } = await import(${JSON.stringify(new URL('../../src/p2p/nat.ts', import.meta.url).href)})
const out = {}
for (const spec of ['upnp', 'pmp:127.0.0.1', 'any']) {
  // loopback only, should the library load after all: no SSDP multicast, no guessed gateways
  const nat = parseNAT(spec, { discoverTimeoutMs: 2000, requestTimeoutMs: 500, pmpGateways: ['127.0.0.1'], upnpLocation: 'http://127.0.0.1:9/desc.xml' })
  out[spec] = await nat.externalIP().then(() => 'ok', (e) => e.code + ': ' + e.message)
  await nat.close()
}
out.extip = await parseNAT('extip:192.0.2.1').externalIP()
console.log(JSON.stringify(out))
`

it('without the library, upnp/pmp/any fail with NO_LIBRARY and extip still works', async () => {
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, ['--import', 'tsx', '--import', hide, '--input-type=module', '-e', script], { timeout: 30_000 }, (err, out, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(out),
    ),
  )
  const r = JSON.parse(stdout) as Record<string, string>
  const want = 'NO_LIBRARY: UPnP and NAT-PMP need @achingbrain/nat-port-mapper: npm install @achingbrain/nat-port-mapper@4'
  assert.deepEqual(r, { upnp: want, 'pmp:127.0.0.1': want, any: want, extip: '192.0.2.1' })
})
