/**
 * The shape of src/, held by dependency-cruiser: `npm run lint:deps`, and test/structure.test.ts in
 * `npm test`. A cycle hides which layer owns what and makes a module's meaning depend on load order,
 * so none is allowed between files or between folders; type-only imports count too.
 */

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
