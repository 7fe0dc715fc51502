/**
 * How much slower than native the selected backend's crypto is, roughly (`npm run bench`: WASM about
 * half the native rate, JS one twentieth to one thirtieth, and CI runs the suite on all three). Tests
 * assert conditions, not durations: their waits and reply timeouts stretch by this factor so a slow
 * backend on a loaded machine is not mistaken for a broken node.
 */
import { backend } from '../src/crypto/backend.js'

export const TIME_SCALE = backend.name === 'js' ? 4 : backend.name === 'wasm' ? 2 : 1

/** discv4 reply timeout for test nodes: twice geth's 500 ms (the suite shares two cores between two files), stretched */
export const REPLY_TIMEOUT_MS = 1000 * TIME_SCALE
