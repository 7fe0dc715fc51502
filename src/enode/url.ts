/**
 * enode URLs (geth's p2p/enode/urlv4.go): `enode://<128 hex pubkey>@<ip>:<tcp port>[?discport=<udp>]`.
 * Only literal IPs: resolving a hostname is I/O, which a parser must not do.
 */
import { backend } from '../crypto/backend.js'
import { fromHex, hex } from '../crypto/bytes.js'
import { isIPv4, isIPv6 } from 'node:net'
import { Node } from './node.js'

/** A string that is not a valid `enode://<128 hex>@<ip>:<port>[?discport=<port>]` URL. */
export class EnodeURLError extends Error {
  override readonly name = 'EnodeURLError'
  constructor(
    readonly url: string,
    reason: string,
  ) {
    super(`invalid enode URL ${JSON.stringify(url.length > 200 ? url.slice(0, 200) + '…' : url)}: ${reason}`)
  }
}

function port(url: string, s: string | null, what: string): number {
  if (s === null || !/^\d{1,5}$/.test(s)) throw new EnodeURLError(url, `${what} is not a port number`)
  const p = Number(s)
  if (p > 65535) throw new EnodeURLError(url, `${what} ${p} out of range`)
  return p
}

/** Parse an enode URL into a Node; the public key must be a valid secp256k1 point. */
export function parseEnode(url: string): Node {
  const m = /^enode:\/\/([0-9a-fA-F]*)@(\[[^\]]*\]|[^:/?#]*)(?::([^/?#]*))?(?:\?([^#]*))?$/.exec(url.trim())
  if (!m) {
    if (!url.startsWith('enode://')) throw new EnodeURLError(url, 'scheme must be enode://')
    throw new EnodeURLError(url, 'expected enode://<pubkey hex>@<ip>:<port>')
  }
  const [, keyHex = '', hostPart = '', portPart, query] = m
  if (keyHex.length !== 128) throw new EnodeURLError(url, `public key must be 128 hex characters, got ${keyHex.length}`)
  const pubkey = fromHex(keyHex)
  if (!backend.publicKeyValid(pubkey)) throw new EnodeURLError(url, 'public key is not a point on secp256k1')
  const host = hostPart.startsWith('[') ? hostPart.slice(1, -1) : hostPart
  if (!isIPv4(host) && !isIPv6(host)) throw new EnodeURLError(url, host === '' ? 'missing IP address' : `host ${JSON.stringify(host)} is not an IP address (resolve it first)`)
  const tcp = port(url, portPart ?? null, 'TCP port')
  let udp = tcp
  if (query !== undefined && query !== '') {
    const params = new URLSearchParams(query)
    const disc = params.get('discport')
    if (disc !== null) udp = port(url, disc, 'discport')
  }
  return new Node(pubkey, host.toLowerCase(), udp, tcp)
}

/** The enode URL of a node; `discport` appears only when the UDP port differs from the TCP port. */
export function formatEnode(n: Node): string {
  const host = isIPv6(n.ip) ? `[${n.ip}]` : n.ip
  const disc = n.udp !== n.tcp ? `?discport=${n.udp}` : ''
  return `enode://${hex(n.pubkey)}@${host}:${n.tcp}${disc}`
}
