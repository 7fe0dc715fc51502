/**
 * `ethp2p nodeset filter`'s filter options as commander flags, apart from the command so that
 * registering it loads neither the history nor the readers.
 */
import { FILTER_PARAMS, type FilterParam } from '../nodeset/filter.js'

/** the filter options, in FILTER_PARAMS' order, for the command's help */
const FILTER_HELP: Readonly<Record<FilterParam, string>> = {
  network: 'its ENR eth entry or Status names this network: mainnet|sepolia|holesky|hoodi',
  fork: 'its ENR eth entry or Status fork id is in this fork state: prague, osaka, bpo2, …',
  client: 'client name from its Hello (or its record\'s client entry): geth, nethermind, reth, …',
  'min-version': 'with --client: at least this version (1.14, 1.14.11)',
  protocol: 'answered on this discovery protocol: v4|v5',
  country: 'its IP is in this country (ISO 3166 alpha-2, e.g. DE)',
  asn: 'its IP is announced by this autonomous system (24940 or AS24940)',
  synced: 'its head is synced (a crawl with --dial, or a history)',
  'answered-within': "answered within this long before the source's newest check: 24h, 7d",
  limit: 'at most N nodes, best score first',
}

/** the filters as commander option flags, e.g. `--min-version <v>` (`--synced` takes no value) */
export function filterFlags(): { flags: string; help: string }[] {
  return FILTER_PARAMS.map((p) => ({ flags: p === 'synced' ? '--synced' : `--${p} <${p === 'limit' ? 'n' : 'value'}>`, help: FILTER_HELP[p] }))
}
