// The package as an embedder gets it: `npm pack`, the tarball's contents checked, installed into an
// empty project with install scripts disabled, imported, typechecked against its own declarations,
// one example run from there. The active backend must be native: the prebuild, since nothing could
// compile. Prints the tarball's size and the install time (measured, never asserted).
// Run by `npm run test:consumer` (and CI); needs the registry for the package's dependencies.
import { execFileSync, spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const require = createRequire(import.meta.url)
const work = mkdtempSync(join(tmpdir(), 'ethp2p-consumer-'))
const failures = []
let passed = 0
const check = (ok, what) => {
  console.log(`${ok ? 'ok' : 'FAIL'}: ${what}`)
  if (ok) passed++
  else failures.push(what)
}
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

function sh(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', shell: process.platform === 'win32' })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`)
  return r.stdout
}

try {
  // 1. the tarball (prepack builds this platform's prebuild, prepare dist/, postpack cleans up)
  sh(npm, ['pack', '--pack-destination', work], root)
  const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'))
  if (!tgz) throw new Error('npm pack made no tarball')
  const tarball = join(work, tgz)
  const size = statSync(tarball).size
  const files = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((f) => f.replace(/^package\//, ''))
  const allowed = [
    /^dist\/.+\.(js|d\.ts)$/,
    /^native\/[a-z0-9_-]+\.(c|cc|h)$/,
    /^native\/wasm\/ethp2p\.wasm$/,
    /^prebuilds\/[a-z0-9]+-[a-z0-9+]+\/ethp2p(\.[a-z0-9]+)*\.node$/,
    /^(binding\.gyp|package\.json|README\.md|LICENSE|scripts\/install\.mjs)$/,
  ]
  const stray = files.filter((f) => !allowed.some((re) => re.test(f)))
  check(stray.length === 0, `tarball holds only the package (no tests, source maps or build intermediates)${stray.length ? `: ${stray.join(', ')}` : ''}`)
  const here = `prebuilds/${process.platform}-${process.arch}/`
  for (const need of ['dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'native/wasm/ethp2p.wasm', 'scripts/install.mjs', 'binding.gyp']) {
    check(files.includes(need), `tarball has ${need}`)
  }
  check(
    files.some((f) => f.startsWith(here)),
    `tarball has a prebuild for ${process.platform}-${process.arch}`,
  )

  // 2. an empty project installs it with every install script disabled
  const app = join(work, 'app')
  mkdirSync(app)
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2))
  const started = process.hrtime.bigint()
  sh(npm, ['install', '--ignore-scripts', '--no-audit', '--no-fund', tarball], app)
  const installMs = Number(process.hrtime.bigint() - started) / 1e6
  // npm ls exits 1 over the optional peer dependencies left out on purpose; only the count matters
  const ls = spawnSync(npm, ['ls', '--all', '--parseable'], { cwd: app, encoding: 'utf8', shell: process.platform === 'win32' })
  const packages = new Set(ls.stdout.trim().split('\n').slice(1)).size

  // 3. imported as a dependency: backend and where the addon came from
  const probe = sh(process.execPath, ['--input-type=module', '-e', "const m = await import('ethp2p'); console.log(m.backend.name)"], app).trim()
  check(probe === 'native', `import 'ethp2p' selects the native backend (got ${probe})`)
  const info = sh(process.execPath, [join(app, 'node_modules', 'ethp2p', 'dist', 'cli', 'main.js'), 'info'], app)
  check(new RegExp(`native addon: loaded from prebuild ${here}ethp2p[.a-z0-9]*\\.node`).test(info), 'ethp2p info: the addon came from the prebuild')

  // the history's drivers are optional peers: without them the command names what to install
  const stats = spawnSync(process.execPath, [join(app, 'node_modules', 'ethp2p', 'dist', 'cli', 'main.js'), 'stats', '--db', 'postgres://127.0.0.1:1/none'], { cwd: app, encoding: 'utf8' })
  check(stats.status !== 0 && /npm install pg/.test(stats.stderr), `ethp2p stats without pg installed says to install it (${stats.stderr.trim().split('\n')[0]})`)

  // 4. an example, typechecked against the package's declarations and run from the project
  const example = 'verify-batch.ts'
  copyFileSync(join(root, 'examples', example), join(app, example))
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: ['node'],
        typeRoots: [join(root, 'node_modules', '@types')],
      },
      files: [example],
    }),
  )
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(app, 'tsconfig.json')], { cwd: app, encoding: 'utf8' })
  check(tsc.status === 0, `examples/${example} typechecks against the installed package's types${tsc.status ? `:\n${tsc.stdout}${tsc.stderr}` : ''}`)
  rmSync(join(app, 'tsconfig.json'))
  const tsx = pathToFileURL(require.resolve('tsx')).href
  const out = sh(process.execPath, ['--import', tsx, example], app)
  check(/^native backend: 2000 datagrams checked/.test(out) && out.includes('valid: 1997, from 20 signers'), `examples/${example} runs against the installed package:\n${out.trimEnd()}`)

  console.log(`tarball: ${tgz}, ${(size / 1000).toFixed(1)} kB, ${files.length} files`)
  console.log(`install (--ignore-scripts): ${(installMs / 1000).toFixed(1)} s, ${packages} packages`)
  console.log(`backend: ${probe}`)
} catch (e) {
  failures.push(e.message)
  console.error(e.message)
} finally {
  rmSync(work, { recursive: true, force: true })
}
console.log(`consumer: ${passed} passed, ${failures.length} failed`)
process.exit(failures.length ? 1 : 0)
