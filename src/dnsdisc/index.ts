/** EIP-1459 node discovery via DNS: the tree codec and the client. */
export { DnsClient, type DnsClientOptions, type TreeResult } from './client.js'
export { DnsDiscError, type DnsDiscErrorCode } from './errors.js'
export {
  entryHash,
  formatLink,
  formatRoot,
  hashMatches,
  isValidHash,
  makeTree,
  MAX_BRANCH_TXT,
  parseEntry,
  parseLink,
  parseRoot,
  signRoot,
  verifyRoot,
  type RootEntry,
  type Tree,
  type TreeEntry,
  type TreeLink,
} from './tree.js'
