/** `npm run bench [-- --backend native|wasm|js|all] [--json FILE]` */
import { parseArgs } from 'node:util'
import { ALL_BACKENDS } from '../src/crypto/backend.js'
import type { BackendName } from '../src/crypto/types.js'
import { runAll } from '../src/bench/run.js'

const { values } = parseArgs({ options: { json: { type: 'string' }, backend: { type: 'string' } } })
const b = values.backend
const backends = !b || b === 'all' ? ALL_BACKENDS : ([b] as BackendName[])
await runAll({ backends, ...(values.json ? { json: values.json } : {}) })
