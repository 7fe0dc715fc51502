/**
 * The shape of src/, held by dependency-cruiser: `npm run lint:deps`, and test/structure.test.ts in
 * `npm test`. A cycle hides which layer owns what and makes a module's meaning depend on load order,
 * so none is allowed between files or between folders; type-only imports count too. Folders sit in
 * layers, and a layer imports only the layers below it (the entry points at the top).
 */

/** src/ folders from the bottom up; each may import only the rows before its own */
const LAYERS = [
  ['util', 'crypto'],
  ['enode', 'rlpx'],
  ['discover', 'dnsdisc', 'config', 'geo'],
  ['p2p'],
  ['eth'],
  ['crawler', 'testnet'],
  ['history', 'nodeset'],
  ['metrics'],
  ['web'],
  ['cli', 'bench'],
]

const folders = (rows) => `^src/(${rows.flat().join('|')})/`
/** one rule per layer: nothing in it reaches a layer above */
const upward = LAYERS.slice(0, -1).map((row, k) => ({
  name: `no-upward-from-${row.join('-')}`,
  comment: `${row.join(', ')} must not import ${LAYERS.slice(k + 1).flat().join(', ')}: a lower layer never depends on a higher one.`,
  severity: 'error',
  from: { path: folders([row]) },
  to: { path: folders(LAYERS.slice(k + 1)) },
}))

module.exports = {
  forbidden: [
    {
      name: 'no-file-cycles',
      comment: 'A module must not reach itself through its imports.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-folder-cycles',
      comment: 'A folder of src/ must not reach itself through the folders it imports (layers point one way).',
      severity: 'error',
      scope: 'folder',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...upward,
  ],
  options: {
    // TypeScript 7 ships no JavaScript compiler API, which dependency-cruiser's default TS parser needs
    parser: 'swc',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    includeOnly: '^src/',
    doNotFollow: { path: 'node_modules' },
  },
}
