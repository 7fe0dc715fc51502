/** The addon itself refuses bad arguments with JS exceptions: a wrong call never reaches C++ unchecked. */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { rawAddon } from './helpers.js'

const skip = process.env.ETHP2P_NO_NATIVE === '1' ? 'no native addon on this machine (ETHP2P_NO_NATIVE=1)' : false

it('native addon rejects wrong types and lengths without crashing', { skip }, async () => {
  // the same build the backend loads: ETHP2P_ADDON points at the sanitizer build under scripts/asan.sh
  const addon = rawAddon<Record<string, any>>()
  const u = (n: number) => new Uint8Array(n)
  const bad: [string, unknown[]][] = [
    ['keccak256', ['abc', u(32)]],
    ['keccak256', [undefined, u(32)]],
    ['keccak256', [u(1)]],
    ['keccak256', [u(1), u(31)]],
    ['sign', [u(31), u(32), u(65)]],
    ['sign', [u(32), new Uint16Array(16), u(65)]],
    ['sign', [u(32), u(32), u(64)]],
    ['recover', [u(32), u(63), 0, u(64)]],
    ['recover', [u(32), u(64), 'x', u(64)]],
    ['recover', [u(32), u(64), 0]],
    ['ecdh', [u(32), u(65), u(32)]],
    ['ecdh', [u(32), u(64), new Uint32Array(8)]],
    ['publicKey', [u(31), u(64)]],
    ['publicKey', [u(32), u(65)]],
    ['publicKeyValid', [u(0)]],
    ['modInverse', [0, u(31), u(32)]],
    ['modInverse', ['p', u(32), u(32)]],
    ['verifyPacket', [u(100), u(63)]],
    ['verifyPacketFrom', [u(100), u(63), u(64)]],
    ['verifyPacketFrom', [u(100), u(64), u(65)]],
    ['verifyPacketFrom', ['x', u(64), u(64)]],
    ['sealPacket', [u(97), u(32)]],
    ['sealPacket', [u(100), u(31)]],
    ['sealPacket', ['x', u(32)]],
    ['verifyBatch', ['nope', new Int32Array(0), u(0), 1]],
    ['verifyBatch', [[u(100)], new Int32Array(0), u(64), 1]],
    ['verifyBatch', [[42], new Int32Array(1), u(64), 1]],
    ['verifyBatch', [[u(100)], new Int32Array(1), u(64)]],
    ['verifyBatch', [[u(100)], new Int32Array(1), u(63), 2]],
    ['verifyBatch', [[u(100)], new Int32Array(1), u(64), 1, [u(63)]]],
    ['verifyBatch', [[u(100)], new Int32Array(1), u(64), 1, ['x']]],
    ['verifyBatch', [[u(100)], new Int32Array(1), u(64), 1, []]],
    ['eciesEncrypt', [u(64), u(1), u(0), u(32), u(15)]],
    ['eciesDecrypt', [u(32), 'x', u(0)]],
    ['closest', [u(32), u(33), 1]],
    ['closest', [u(31), u(32), 1]],
    ['aesCtr', [u(15), u(16), u(4), u(4)]],
    ['aesCtr', [u(16), u(16), u(4), u(3)]],
    ['v5Header', [u(100), u(16), u(99)]],
    ['v5Header', [u(100), u(17), u(100)]],
    ['gcmSeal', [u(16), u(11), u(4), u(0), u(20)]],
    ['gcmSeal', [u(16), u(12), u(4), u(0), u(19)]],
    ['gcmOpen', [u(16), u(12), u(15), u(0), u(0)]],
    ['gcmOpen', [u(16), u(12), u(20), u(0), u(3)]],
  ]
  for (const [fn, args] of bad) assert.throws(() => addon[fn]!(...args), /must be|must have|Uint8Array|verifyBatch|closest|recovery|length|out|sealed/, `${fn} with bad args`)
  assert.throws(() => new addon.FrameCipher(u(31), u(32), u(0), u(0)))
  const f = new addon.FrameCipher(u(32), u(32), u(0), u(0))
  assert.throws(() => f.openHeader(u(16)))
  assert.throws(() => f.openBody(u(32), 17))
  assert.throws(() => f.openBody(u(48), -1))
  assert.throws(() => new addon.Keccak().digest(u(16)), /must be/)
  // invalid values (not wrong shapes) are results, not exceptions
  const out = u(64).fill(7)
  assert.equal(addon.recover!(u(32), u(64), 0, out), false)
  assert.equal(addon.recover!(u(32), u(64).fill(1), 9, out), false)
  assert.equal(addon.ecdh!(u(32).fill(1), u(64), out.subarray(0, 32)), false)
  assert.equal(addon.publicKey!(u(32), out), false, 'the zero private key')
  assert.equal(addon.sign!(u(32), u(32), u(65)), false, 'signing with the zero private key')
  assert.equal(addon.eciesDecrypt!(u(32).fill(1), u(113), u(0)), null)
  assert.equal(addon.closest!(u(32), u(64), -5).length, 0)
  assert.equal(addon.gcmOpen!(u(16), u(12), u(16), u(0), u(0)), false, 'an empty message with a wrong tag')
  assert.equal(addon.v5Header!(u(38), u(16), u(38)), -1, 'shorter than a static header')
})
