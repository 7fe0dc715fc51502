/**
 * The RLPx handshake as pure codecs plus two small state holders (initiator, recipient); no sockets,
 * no timers. Auth and ack go out in EIP-8 form (RLP body, random padding, 2-byte size prefix that is
 * also the ECIES shared-mac-data); the legacy fixed-size forms (307-byte auth, 210-byte ack) are
 * accepted from old peers, and a legacy auth is answered with a legacy ack (EIP-8: reply in kind).
 */
import { randomBytes, randomInt } from 'node:crypto'
import { randomPrivateKey } from '../crypto/backend.js'
import { bytesEqual, concatBytes, xorBytes } from '../crypto/bytes.js'
import { CryptoError, ECIES_OVERHEAD, type CryptoBackend, type FrameSecrets } from '../crypto/types.js'
import { asBytes, asList, decodeRLP, encodeRLP, RLPError, type RLPItem } from '../util/rlp.js'
import { RLPxError, type RLPxErrorCode } from './errors.js'

/** the handshake version we send; received versions are ignored (EIP-8 forward compatibility) */
export const HANDSHAKE_VERSION = 4
/** largest EIP-8 handshake body accepted, checked on the size prefix before the body is read */
export const MAX_HANDSHAKE_SIZE = 2048
/** legacy plaintexts: sig(65) ‖ keccak(eph-pubk)(32) ‖ pubk(64) ‖ nonce(32) ‖ 0, and eph-pubk(64) ‖ nonce(32) ‖ 0 */
const LEGACY_AUTH_PLAIN = 194
const LEGACY_ACK_PLAIN = 97
/** size of a pre-EIP-8 auth message (fixed layout, no size prefix) */
export const LEGACY_AUTH_SIZE = ECIES_OVERHEAD + LEGACY_AUTH_PLAIN
/** size of a pre-EIP-8 ack message */
export const LEGACY_ACK_SIZE = ECIES_OVERHEAD + LEGACY_ACK_PLAIN

/** Randomness a handshake side uses; tests pin it, production leaves it out. */
export interface HandshakeRandomness {
  ephemeralKey?: Uint8Array
  nonce?: Uint8Array
  padding?: Uint8Array
  /** the ECIES layer's own ephemeral key and IV */
  eciesKey?: Uint8Array
  eciesIv?: Uint8Array
}

/** What a decrypted auth message says. */
export interface AuthBody {
  /** initiator's static public key (64 bytes) */
  pubkey: Uint8Array
  /** initiator's ephemeral public key, recovered from the signature */
  ephemeralPubkey: Uint8Array
  nonce: Uint8Array
  version: number
  legacy: boolean
}

/** What a decrypted ack message says. */
export interface AckBody {
  ephemeralPubkey: Uint8Array
  nonce: Uint8Array
  version: number
  legacy: boolean
}

/** A decoded handshake message and how many buffered bytes it occupied (its exact wire bytes: `wire`). */
export interface Received<T> {
  body: T
  wire: Uint8Array
}

function fail(code: RLPxErrorCode, message: string, cause?: unknown): never {
  throw new RLPxError(code, message, cause === undefined ? undefined : { cause })
}

function checkKey(b: CryptoBackend, key: Uint8Array, what: string): Uint8Array {
  if (!b.publicKeyValid(key)) fail('BAD_KEY', `${what} is not a valid secp256k1 public key`)
  return key
}

/** The version element: any width, since mismatches must be ignored; unreadable ones count as 0. */
function readVersion(item: RLPItem | undefined): number {
  if (!(item instanceof Uint8Array) || item.length > 6) return 0
  let v = 0
  for (const x of item) v = v * 256 + x
  return v
}

function be16(n: number): Uint8Array {
  return Uint8Array.of(n >>> 8, n & 0xff)
}

/**
 * Decrypt one handshake message from the front of `buf`: null when more bytes are needed.
 * A buffer starting with 0x04 may be a legacy message (the ECIES public-key tag), so it is tried as
 * one first; an EIP-8 message with that first byte declares ≥ 1024 bytes, so the legacy length is
 * always available by then and the fallback never waits on bytes that are not coming.
 */
function openMessage(
  b: CryptoBackend,
  priv: Uint8Array,
  buf: Uint8Array,
  legacySize: number,
  bad: RLPxErrorCode,
): { plain: Uint8Array; wire: Uint8Array; legacy: boolean } | null {
  if (buf.length < 2) return null
  if (buf[0] === 0x04) {
    if (buf.length < legacySize) return null
    const wire = buf.subarray(0, legacySize)
    if (b.publicKeyValid(wire.subarray(1, 65))) {
      try {
        return { plain: b.eciesDecrypt(priv, wire), wire, legacy: true }
      } catch (e) {
        if (!(e instanceof CryptoError)) throw e
        // not a legacy message: read it as EIP-8 below
      }
    }
  }
  const size = (buf[0]! << 8) | buf[1]!
  if (size > MAX_HANDSHAKE_SIZE) fail('SIZE_LIMIT', `handshake message of ${size} bytes exceeds ${MAX_HANDSHAKE_SIZE}`)
  if (size < ECIES_OVERHEAD) fail(bad, `handshake message of ${size} bytes is too short`)
  if (buf.length < size + 2) return null
  const wire = buf.subarray(0, size + 2)
  if (wire[2] !== 0x04) fail(bad, 'handshake message lacks an uncompressed ECIES public key')
  checkKey(b, wire.subarray(3, 67), 'ECIES ephemeral key')
  try {
    return { plain: b.eciesDecrypt(priv, wire.subarray(2), wire.subarray(0, 2)), wire, legacy: false }
  } catch (e) {
    if (e instanceof CryptoError) fail(bad, `handshake message does not decrypt: ${e.message}`, e)
    throw e
  }
}

/** The value the initiator's ephemeral key signs: static-shared-secret ^ initiator-nonce. */
function signedValue(b: CryptoBackend, priv: Uint8Array, remotePub: Uint8Array, nonce: Uint8Array): Uint8Array {
  return xorBytes(b.ecdh(priv, remotePub), nonce)
}

/** Decode an auth message (EIP-8 or legacy) from the front of `buf`; null when more bytes are needed. */
export function readAuth(b: CryptoBackend, priv: Uint8Array, buf: Uint8Array): Received<AuthBody> | null {
  const m = openMessage(b, priv, buf, LEGACY_AUTH_SIZE, 'BAD_AUTH')
  if (!m) return null
  let sig: Uint8Array, pubkey: Uint8Array, nonce: Uint8Array, version: number, ephHash: Uint8Array | undefined
  if (m.legacy) {
    if (m.plain.length !== LEGACY_AUTH_PLAIN) fail('BAD_AUTH', `legacy auth body of ${m.plain.length} bytes`)
    sig = m.plain.subarray(0, 65)
    ephHash = m.plain.subarray(65, 97)
    pubkey = m.plain.subarray(97, 161)
    nonce = m.plain.subarray(161, 193)
    version = m.plain[193]!
  } else {
    try {
      const l = asList(decodeRLP(m.plain, true), 'auth')
      sig = asBytes(l[0], 'auth signature', 65)
      pubkey = asBytes(l[1], 'auth public key', 64)
      nonce = asBytes(l[2], 'auth nonce', 32)
      version = readVersion(l[3])
    } catch (e) {
      if (e instanceof RLPError) fail('BAD_AUTH', e.message, e)
      throw e
    }
  }
  checkKey(b, pubkey, 'initiator static key')
  const recovery = sig[64]!
  if (recovery > 1) fail('BAD_AUTH', `auth signature recovery id ${recovery}`)
  let ephemeralPubkey: Uint8Array
  try {
    ephemeralPubkey = b.recover(signedValue(b, priv, pubkey, nonce), sig.subarray(0, 64), recovery)
  } catch (e) {
    if (e instanceof CryptoError) fail('BAD_AUTH', `auth signature: ${e.message}`, e)
    throw e
  }
  checkKey(b, ephemeralPubkey, 'initiator ephemeral key')
  if (ephHash && !bytesEqual(b.keccak256(ephemeralPubkey), ephHash)) fail('BAD_AUTH', 'legacy auth ephemeral key hash mismatch')
  return { body: { pubkey, ephemeralPubkey, nonce, version, legacy: m.legacy }, wire: m.wire }
}

/** Decode an ack message (EIP-8 or legacy) from the front of `buf`; null when more bytes are needed. */
export function readAck(b: CryptoBackend, priv: Uint8Array, buf: Uint8Array): Received<AckBody> | null {
  const m = openMessage(b, priv, buf, LEGACY_ACK_SIZE, 'BAD_ACK')
  if (!m) return null
  let ephemeralPubkey: Uint8Array, nonce: Uint8Array, version: number
  if (m.legacy) {
    if (m.plain.length !== LEGACY_ACK_PLAIN) fail('BAD_ACK', `legacy ack body of ${m.plain.length} bytes`)
    ephemeralPubkey = m.plain.subarray(0, 64)
    nonce = m.plain.subarray(64, 96)
    version = m.plain[96]!
  } else {
    try {
      const l = asList(decodeRLP(m.plain, true), 'ack')
      ephemeralPubkey = asBytes(l[0], 'ack ephemeral key', 64)
      nonce = asBytes(l[1], 'ack nonce', 32)
      version = readVersion(l[2])
    } catch (e) {
      if (e instanceof RLPError) fail('BAD_ACK', e.message, e)
      throw e
    }
  }
  checkKey(b, ephemeralPubkey, 'recipient ephemeral key')
  return { body: { ephemeralPubkey, nonce, version, legacy: m.legacy }, wire: m.wire }
}

function padding(r: HandshakeRandomness): Uint8Array {
  return r.padding ?? randomBytes(randomInt(100, 251))
}

/** ECIES-seal an EIP-8 body: size prefix ‖ ecies(body ‖ padding) with the prefix as shared-mac-data. */
function sealEip8(b: CryptoBackend, to: Uint8Array, body: Uint8Array, r: HandshakeRandomness): Uint8Array {
  const plain = concatBytes(body, padding(r))
  const prefix = be16(plain.length + ECIES_OVERHEAD)
  const enc = b.eciesEncrypt(to, plain, prefix, { ephPriv: r.eciesKey, iv: r.eciesIv })
  return concatBytes(prefix, enc)
}

/** What the initiator puts into its auth message. */
export interface AuthParams {
  priv: Uint8Array
  remotePubkey: Uint8Array
  ephemeralKey: Uint8Array
  nonce: Uint8Array
}

/** Build an auth message; EIP-8 unless `legacy` (kept to exercise the legacy path of a recipient). */
export function makeAuth(b: CryptoBackend, p: AuthParams, r: HandshakeRandomness = {}, legacy = false): Uint8Array {
  const { sig, recovery } = b.sign(signedValue(b, p.priv, p.remotePubkey, p.nonce), p.ephemeralKey)
  const sig65 = concatBytes(sig, Uint8Array.of(recovery))
  const pub = b.publicKey(p.priv)
  if (!legacy) return sealEip8(b, p.remotePubkey, encodeRLP([sig65, pub, p.nonce, HANDSHAKE_VERSION]), r)
  const ephHash = b.keccak256(b.publicKey(p.ephemeralKey))
  const plain = concatBytes(sig65, ephHash, pub, p.nonce, Uint8Array.of(0))
  return b.eciesEncrypt(p.remotePubkey, plain, undefined, { ephPriv: r.eciesKey, iv: r.eciesIv })
}

/** What the recipient puts into its ack message. */
export interface AckParams {
  /** the initiator's static key: the ack is encrypted to it */
  remotePubkey: Uint8Array
  ephemeralKey: Uint8Array
  nonce: Uint8Array
}

/** Build an ack message in the form of the auth it answers. */
export function makeAck(b: CryptoBackend, p: AckParams, r: HandshakeRandomness = {}, legacy = false): Uint8Array {
  const eph = b.publicKey(p.ephemeralKey)
  if (!legacy) return sealEip8(b, p.remotePubkey, encodeRLP([eph, p.nonce, HANDSHAKE_VERSION]), r)
  const plain = concatBytes(eph, p.nonce, Uint8Array.of(0))
  return b.eciesEncrypt(p.remotePubkey, plain, undefined, { ephPriv: r.eciesKey, iv: r.eciesIv })
}

/** What both sides derive the connection secrets from. */
export interface SecretInputs {
  initiator: boolean
  ephemeralKey: Uint8Array
  remoteEphemeralPubkey: Uint8Array
  localNonce: Uint8Array
  remoteNonce: Uint8Array
  /** the handshake message this side sent / received, exactly as on the wire (size prefix included) */
  sent: Uint8Array
  received: Uint8Array
}

/**
 * Session secrets: shared = keccak(ecdhe ‖ keccak(recipient-nonce ‖ initiator-nonce)),
 * aes = keccak(ecdhe ‖ shared), mac = keccak(ecdhe ‖ aes); egress MAC seeded with
 * (mac ^ remote-nonce) ‖ sent, ingress with (mac ^ local-nonce) ‖ received.
 */
export function deriveSecrets(b: CryptoBackend, s: SecretInputs): FrameSecrets {
  const ecdhe = b.ecdh(s.ephemeralKey, s.remoteEphemeralPubkey)
  const [initNonce, respNonce] = s.initiator ? [s.localNonce, s.remoteNonce] : [s.remoteNonce, s.localNonce]
  const shared = b.keccak256(concatBytes(ecdhe, b.keccak256(concatBytes(respNonce, initNonce))))
  const aesSecret = b.keccak256(concatBytes(ecdhe, shared))
  const macSecret = b.keccak256(concatBytes(ecdhe, aesSecret))
  return {
    aesSecret,
    macSecret,
    egressMacSeed: concatBytes(xorBytes(macSecret, s.remoteNonce), s.sent),
    ingressMacSeed: concatBytes(xorBytes(macSecret, s.localNonce), s.received),
  }
}

/** What a completed handshake yields. */
export interface HandshakeResult {
  remotePubkey: Uint8Array
  secrets: FrameSecrets
  /** bytes of the input buffer the peer's handshake message occupied (frames may follow) */
  consumed: number
}

function keyOrRandom(k: Uint8Array | undefined): Uint8Array {
  return k ?? randomPrivateKey()
}

/** The dialling side: `auth` to send, then `readAck` on what arrives. */
export class InitiatorHandshake {
  readonly auth: Uint8Array
  private readonly ephemeralKey: Uint8Array
  private readonly nonce: Uint8Array

  constructor(
    private readonly b: CryptoBackend,
    private readonly priv: Uint8Array,
    readonly remotePubkey: Uint8Array,
    r: HandshakeRandomness = {},
  ) {
    checkKey(b, remotePubkey, 'dialled public key')
    this.ephemeralKey = keyOrRandom(r.ephemeralKey)
    this.nonce = r.nonce ?? randomBytes(32)
    this.auth = makeAuth(b, { priv, remotePubkey, ephemeralKey: this.ephemeralKey, nonce: this.nonce }, r)
  }

  /** null until the whole ack is buffered; throws RLPxError on a bad one. */
  readAck(buf: Uint8Array): HandshakeResult | null {
    const ack = readAck(this.b, this.priv, buf)
    if (!ack) return null
    const secrets = deriveSecrets(this.b, {
      initiator: true,
      ephemeralKey: this.ephemeralKey,
      remoteEphemeralPubkey: ack.body.ephemeralPubkey,
      localNonce: this.nonce,
      remoteNonce: ack.body.nonce,
      sent: this.auth,
      received: ack.wire,
    })
    return { remotePubkey: this.remotePubkey, secrets, consumed: ack.wire.length }
  }
}

/** The accepting side: `readAuth` on what arrives yields the ack to send and the session. */
export class RecipientHandshake {
  private readonly ephemeralKey: Uint8Array
  private readonly nonce: Uint8Array

  constructor(
    private readonly b: CryptoBackend,
    private readonly priv: Uint8Array,
    private readonly r: HandshakeRandomness = {},
  ) {
    this.ephemeralKey = keyOrRandom(r.ephemeralKey)
    this.nonce = r.nonce ?? randomBytes(32)
  }

  /** null until the whole auth is buffered; throws RLPxError on a bad one. */
  readAuth(buf: Uint8Array): (HandshakeResult & { ack: Uint8Array }) | null {
    const auth = readAuth(this.b, this.priv, buf)
    if (!auth) return null
    const ack = makeAck(
      this.b,
      { remotePubkey: auth.body.pubkey, ephemeralKey: this.ephemeralKey, nonce: this.nonce },
      this.r,
      auth.body.legacy,
    )
    const secrets = deriveSecrets(this.b, {
      initiator: false,
      ephemeralKey: this.ephemeralKey,
      remoteEphemeralPubkey: auth.body.ephemeralPubkey,
      localNonce: this.nonce,
      remoteNonce: auth.body.nonce,
      sent: ack,
      received: auth.wire,
    })
    return { remotePubkey: auth.body.pubkey, secrets, consumed: auth.wire.length, ack }
  }
}
