/** `npm run bench [-- --backend native|wasm|js|all] [--suite crypto,rlpx,…] [--json FILE]` */
import { parseArgs } from 'node:util'
import { ALL_BACKENDS } from '../src/crypto/backend.js'
import type { BackendName } from '../src/crypto/types.js'
import { runAll, SUITE_NAMES } from '../src/bench/run.js'

const { values } = parseArgs({ options: { json: { type: 'string' }, backend: { type: 'string' }, suite: { type: 'string' } } })
const b = values.backend
const backends = !b || b === 'all' ? ALL_BACKENDS : ([b] as BackendName[])
const suites = values.suite?.split(',')
const unknown = suites?.filter((s) => !SUITE_NAMES.includes(s)) ?? []
if (unknown.length > 0) {
  console.error(`unknown suite ${unknown.join(', ')}: choose from ${SUITE_NAMES.join(', ')}`)
  process.exit(2)
}
await runAll({ backends, ...(suites ? { suites } : {}), ...(values.json ? { json: values.json } : {}) })
