/** The crypto backend contract: one interface, three implementations (native, wasm, js). */

/** Which implementation a backend is: the N-API addon, the WASM build of the same C sources, or pure JS. */
export type BackendName = 'native' | 'wasm' | 'js'

/** Incremental keccak-256: `digest()` reads the hash of everything so far without finalising. */
export interface KeccakState {
  /** Absorbs `data`; chainable. */
  update(data: Uint8Array): this
  /** keccak-256 of everything absorbed so far; the state stays usable (RLPx MACs read it after every frame). */
  digest(): Uint8Array
}

/** Result of checking one discv4 datagram: hash, signature and type in one call. */
export type PacketCheck =
  | {
      ok: true
      /** packet type byte (1 ping, 2 pong, 3 findnode, 4 neighbors, 5 enrRequest, 6 enrResponse) */
      type: number
      /** the 32-byte packet hash (a view of the datagram) */
      hash: Uint8Array
      /** the signer's 64-byte public key (uncompressed, no 0x04 prefix) */
      pubkey: Uint8Array
      /** the RLP payload after the type byte (a view of the datagram) */
      payload: Uint8Array
    }
  | { ok: false; error: PacketError }

/**
 * Why a datagram failed {@link CryptoBackend.verifyPacket}: shorter than the header, hash mismatch, or no signer recoverable.
 */
export type PacketError = 'too-short' | 'bad-hash' | 'bad-signature'

/** Inputs to an RLPx frame cipher: the derived secrets and the data each MAC is seeded with. */
export interface FrameSecrets {
  aesSecret: Uint8Array // 32
  macSecret: Uint8Array // 32
  /** bytes absorbed into the egress MAC before the first frame: (mac-secret ^ remote-nonce) ‖ sent-auth-or-ack */
  egressMacSeed: Uint8Array
  /** bytes absorbed into the ingress MAC: (mac-secret ^ local-nonce) ‖ received-auth-or-ack */
  ingressMacSeed: Uint8Array
}

/** Stateful RLPx framing (AES-256-CTR both ways, keccak egress/ingress MACs). */
export interface FrameCipher {
  /** Seal one frame carrying `frameData` (unpadded): header ‖ header-mac ‖ padded ciphertext ‖ frame-mac. */
  seal(frameData: Uint8Array): Uint8Array
  /** Check and decrypt a 32-byte header (16 ciphertext + 16 MAC); returns the frame-data size. */
  openHeader(header: Uint8Array): number
  /** Check and decrypt a frame body (padded ciphertext ‖ 16-byte MAC); returns `size` plaintext bytes. */
  openBody(body: Uint8Array, size: number): Uint8Array
}

/** What an implementation's frame cipher does; backend.ts adds length checks and typed errors. */
export interface FrameCipherImpl {
  seal(frameData: Uint8Array): Uint8Array
  /** frame-data size, or -1 when the header MAC does not match */
  openHeader(header: Uint8Array): number
  /** plaintext, or null when the frame MAC does not match */
  openBody(body: Uint8Array, size: number): Uint8Array | null
}

/** A recoverable secp256k1 signature, as discv4 and RLPx carry it (r ‖ s, then the recovery id). */
export interface Signature {
  sig: Uint8Array // 64: r ‖ s
  recovery: 0 | 1
}

/**
 * What every implementation provides. Implementations assume valid lengths and scalar ranges
 * (backend.ts checks those); they report invalid points or failed operations by returning null.
 */
export interface BackendImpl {
  readonly name: BackendName
  keccak256(data: Uint8Array): Uint8Array
  keccak(): KeccakState
  sign(hash: Uint8Array, priv: Uint8Array): Signature
  recover(hash: Uint8Array, sig: Uint8Array, recovery: number): Uint8Array | null
  ecdh(priv: Uint8Array, pub: Uint8Array): Uint8Array | null
  publicKey(priv: Uint8Array): Uint8Array
  publicKeyValid(pub: Uint8Array): boolean
  /** priv·pub as a 33-byte compressed point; pub is 33 or 64 bytes */
  ecdhPoint(priv: Uint8Array, pub: Uint8Array): Uint8Array | null
  /** a 33- or 64-byte key as 64 bytes */
  publicKeyParse(pub: Uint8Array): Uint8Array | null
  /** ECDSA check of a 64-byte low-s r ‖ s over a 32-byte hash; pub is 33 or 64 bytes */
  verify(hash: Uint8Array, sig: Uint8Array, pub: Uint8Array): boolean
  /** `expected`: the likely signer, a hint that never changes the result (see CryptoBackend.verifyPacket) */
  verifyPacket(datagram: Uint8Array, expected?: Uint8Array): PacketCheck
  /** `threads`: pool threads a batch may take (native; the worker pools have their own size) */
  verifyPackets(datagrams: Uint8Array[], threads?: number, expected?: (Uint8Array | undefined)[]): Promise<PacketCheck[]>
  /** fill a discv4 datagram's hash and signature in place (at least 98 bytes; false for a bad key) */
  sealPacket(datagram: Uint8Array, priv: Uint8Array): boolean
  /** sealPacket over a batch, off the event loop where the backend can (native: up to `threads` pool threads) */
  sealPackets(datagrams: Uint8Array[], priv: Uint8Array, threads: number): Promise<void>
  /** ECIES with caller-chosen ephemeral key and IV (randomness stays out of the implementations). */
  eciesEncrypt(pub: Uint8Array, plain: Uint8Array, sharedMacData: Uint8Array, ephPriv: Uint8Array, iv: Uint8Array): Uint8Array | null
  eciesDecrypt(priv: Uint8Array, cipher: Uint8Array, sharedMacData: Uint8Array): Uint8Array | null
  frameCipher(secrets: FrameSecrets): FrameCipherImpl
  closest(target: Uint8Array, ids: Uint8Array, k: number): Uint32Array
  aesCtr(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array
  /** null when the packet is shorter than 39 bytes or its authdata runs past it */
  v5Header(packet: Uint8Array, maskKey: Uint8Array): Uint8Array | null
  gcmSeal(key: Uint8Array, nonce: Uint8Array, plain: Uint8Array, ad: Uint8Array): Uint8Array
  /** null when the tag does not match */
  gcmOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, ad: Uint8Array): Uint8Array | null
}

/** The checked, public face of a backend. */
export interface CryptoBackend {
  readonly name: BackendName
  /** keccak-256 (Ethereum's, not SHA3-256) of `data`. */
  keccak256(data: Uint8Array): Uint8Array
  /** An incremental keccak-256 state. */
  keccak(): KeccakState
  /** Signs a 32-byte hash with a 32-byte private key (RFC 6979 nonce, low s). Throws CryptoError on bad input. */
  sign(hash: Uint8Array, priv: Uint8Array): Signature
  /** The 64-byte public key that made `sig` over `hash`. Throws INVALID_SIGNATURE when none does. */
  recover(hash: Uint8Array, sig: Uint8Array, recovery: number): Uint8Array
  /** The shared secret's x coordinate (32 bytes), as RLPx and ECIES use it (not hashed). */
  ecdh(priv: Uint8Array, pub: Uint8Array): Uint8Array
  /** The 64-byte uncompressed public key (no 0x04 prefix) of a private key. */
  publicKey(priv: Uint8Array): Uint8Array
  /** true when `pub` (64 bytes) is a point on secp256k1 with both coordinates < p */
  publicKeyValid(pub: Uint8Array): boolean
  /** true when `priv` is 32 bytes and 0 < priv < n. */
  privateKeyValid(priv: Uint8Array): boolean
  /**
   * Diffie-Hellman as discv5 does it: priv·pub as a 33-byte compressed point (its y parity and x).
   * `pub` is a 33-byte compressed or 64-byte uncompressed key.
   */
  ecdhPoint(priv: Uint8Array, pub: Uint8Array): Uint8Array
  /** A 33-byte compressed (or 64-byte) public key as the 64 bytes x ‖ y; throws INVALID_PUBLIC_KEY off the curve. */
  publicKeyDecompress(pub: Uint8Array): Uint8Array
  /**
   * Whether `sig` (64 bytes r ‖ s, low s) signs the 32-byte `hash` for `pub` (33 or 64 bytes). False
   * for any malformed input rather than a throw: a peer's bad signature is an answer, not an error.
   */
  verify(hash: Uint8Array, sig: Uint8Array, pub: Uint8Array): boolean
  /**
   * Checks one discv4 datagram in one crossing: hash, signer recovery and packet type. `expected` (64
   * bytes) names the signer the caller thinks likely, as for a reply from the node it asked: the native
   * and WASM backends then verify against that key first, which costs less than recovering a key, and
   * recover only when it is not the signer. The result is the same with or without it.
   */
  verifyPacket(datagram: Uint8Array, expected?: Uint8Array): PacketCheck
  /**
   * Checks many datagrams off the event loop (libuv pool or worker threads); `threads` caps the pool
   * threads one batch takes (native; default: one per core, at most 4). `expected[i]` is datagram i's
   * likely signer, as for verifyPacket.
   */
  verifyPackets(datagrams: Uint8Array[], threads?: number, expected?: (Uint8Array | undefined)[]): Promise<PacketCheck[]>
  /**
   * Signs a discv4 datagram in place: `datagram` is hash(32) ‖ signature(65) ‖ type ‖ rlp with the first
   * 97 bytes to fill, as {@link CryptoBackend.verifyPacket} checks them (one crossing on native).
   */
  sealPacket(datagram: Uint8Array, priv: Uint8Array): void
  /**
   * {@link CryptoBackend.sealPacket} over many datagrams: native signs them on up to `threads` threads
   * of libuv's pool, off the event loop; wasm and js sign them on the event loop (their worker pools
   * only verify).
   */
  sealPackets(datagrams: Uint8Array[], priv: Uint8Array, threads?: number): Promise<void>
  /**
   * ECIES as RLPx uses it (secp256k1 ECDH, NIST concat KDF, AES-128-CTR, HMAC-SHA-256). `opts` fixes the
   * ephemeral key and IV, for test vectors only.
   */
  eciesEncrypt(pub: Uint8Array, plain: Uint8Array, sharedMacData?: Uint8Array, opts?: { ephPriv?: Uint8Array; iv?: Uint8Array }): Uint8Array
  /** Decrypts an ECIES message; throws DECRYPT_FAILED on a wrong key or MAC. */
  eciesDecrypt(priv: Uint8Array, cipher: Uint8Array, sharedMacData?: Uint8Array): Uint8Array
  /** An RLPx frame cipher for one connection's derived secrets. */
  frameCipher(secrets: FrameSecrets): FrameCipher
  /** Indices of the `k` IDs (packed n×32 in `ids`) closest to `target` by XOR distance, nearest first. */
  closest(target: Uint8Array, ids: Uint8Array, k: number): Uint32Array
  /** `data` XOR the AES-128-CTR key stream of a 16-byte `key` from a 16-byte `iv` (discv5's header masking). */
  aesCtr(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array
  /**
   * A discv5 packet's header unmasked in one pass: masking-iv ‖ static header ‖ authdata, the
   * authdata's length read from the static header as it is unmasked (`maskKey` is the recipient id's
   * first 16 bytes). Null when the packet is shorter than a static header or the authdata runs past
   * it. The static header's contents are the caller's to check.
   */
  v5Header(packet: Uint8Array, maskKey: Uint8Array): Uint8Array | null
  /** AES-128-GCM with a 16-byte key and 12-byte nonce: ciphertext ‖ 16-byte tag (discv5's messages). */
  gcmSeal(key: Uint8Array, nonce: Uint8Array, plain: Uint8Array, ad: Uint8Array): Uint8Array
  /**
   * The plaintext of ciphertext ‖ tag, or null when the tag does not match or `sealed` is shorter than
   * a tag: a packet that does not open is a peer's answer (a lost session), not an error.
   */
  gcmOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, ad: Uint8Array): Uint8Array | null
}

/** What a {@link CryptoError} is about. */
export type CryptoErrorCode =
  | 'INVALID_LENGTH'
  | 'INVALID_PRIVATE_KEY'
  | 'INVALID_PUBLIC_KEY'
  | 'INVALID_SIGNATURE'
  | 'DECRYPT_FAILED'
  | 'BAD_MAC'
  | 'FRAME_TOO_LARGE'
  | 'BACKEND_UNAVAILABLE'

/**
 * Bad input to a crypto operation (length, key, signature), a failed MAC or decryption, or a backend that
 * cannot load here.
 */
export class CryptoError extends Error {
  override readonly name = 'CryptoError'
  constructor(
    readonly code: CryptoErrorCode,
    message: string,
  ) {
    super(message)
  }
}

/** discv4 datagram layout: hash(32) ‖ signature(65) ‖ type(1) ‖ rlp */
export const PACKET_HASH_SIZE = 32
/** bytes of the recoverable signature after the hash */
export const PACKET_SIG_SIZE = 65
/** hash and signature: the bytes before the packet type */
export const PACKET_HEADER_SIZE = PACKET_HASH_SIZE + PACKET_SIG_SIZE
/** ECIES overhead: 65-byte ephemeral key + 16-byte IV + 32-byte MAC */
export const ECIES_OVERHEAD = 65 + 16 + 32
/** RLPx frame sizes are encoded in 3 bytes */
export const MAX_FRAME_SIZE = (1 << 24) - 1
