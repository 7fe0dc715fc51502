/** ethp2p's public API: what an embedder imports. */
export { backend, loadBackend, randomPrivateKey, privateKeyValid, ALL_BACKENDS } from './crypto/backend.js'
export { CryptoError } from './crypto/types.js'
export type {
  BackendName,
  CryptoBackend,
  CryptoErrorCode,
  FrameCipher,
  FrameSecrets,
  KeccakState,
  PacketCheck,
  PacketError,
  Signature,
} from './crypto/types.js'
export { Node } from './enode/node.js'
