/*
 * ethp2p native core: the hot paths as plain C, compiled twice — into the N-API addon (addon.cc)
 * and into the wasm32 module (wasm/build.sh) — so the two backends cannot drift.
 * Every function assumes lengths were checked by the caller (src/crypto/backend.ts).
 */
#ifndef ETHP2P_CORE_H
#define ETHP2P_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __wasm__
#define EP_EXPORT(name) __attribute__((export_name(#name)))
#else
#define EP_EXPORT(name)
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* status codes shared with src/crypto/packet-codes.ts: >= 0 is the packet type */
#define EP_TOO_SHORT (-1)
#define EP_BAD_HASH (-2)
#define EP_BAD_SIGNATURE (-3)

/* Creates the secp256k1 context once; returns 0 on failure. Not thread-safe: call before any worker. */
int ep_init(void);

/* keccak-256 (the pre-standard padding Ethereum uses) */
void ep_keccak256(const uint8_t *in, size_t len, uint8_t out[32]);
/* incremental state: opaque bytes of ep_keccak_size(), 8-byte aligned */
size_t ep_keccak_size(void);
void ep_keccak_init(void *st);
void ep_keccak_update(void *st, const uint8_t *in, size_t len);
/* hash of everything absorbed so far; the state stays open for more updates */
void ep_keccak_digest(const void *st, uint8_t out[32]);

/* recoverable ECDSA (RFC 6979 nonces, low s): out = r ‖ s ‖ recid. Returns 1 on success. */
int ep_sign(const uint8_t hash[32], const uint8_t priv[32], uint8_t out[65]);
/* 64-byte public key recovered from r ‖ s and recid (0..3). Returns 1 on success. */
int ep_recover(const uint8_t hash[32], const uint8_t sig[64], int recid, uint8_t out[64]);
/* x coordinate of priv·pub. Returns 0 when pub is not a valid point. */
int ep_ecdh(const uint8_t priv[32], const uint8_t pub[64], uint8_t out[32]);
int ep_pubkey(const uint8_t priv[32], uint8_t out[64]);
/* 1 when r ‖ s with recid over hash recovers to exactly pub (ep_recover's answer), decided for the cost
 * of a verification; 0 when it does not or is invalid */
int ep_signed_by(const uint8_t hash[32], const uint8_t sig[64], int recid, const uint8_t pub[64]);
/* in^-1 modulo p (modulus 0) or n (modulus 1), 32-byte big-endian; 0 when in is 0 or >= the modulus */
int ep_modinv(int modulus, const uint8_t in[32], uint8_t out[32]);
/* 1 when pub is on the curve with both coordinates < p */
int ep_pubkey_valid(const uint8_t pub[64]);

/* discv5: priv·pub as a 33-byte compressed point (pub: 33 compressed or 64 uncompressed bytes) */
int ep_ecdh_point(const uint8_t priv[32], const uint8_t *pub, size_t publen, uint8_t out[33]);
/* a 33- or 64-byte public key as 64 bytes; 0 when it is no point on the curve */
int ep_pubkey_parse(const uint8_t *pub, size_t publen, uint8_t out[64]);
/* ECDSA over a 32-byte hash with a 64-byte r ‖ s (low s, as libsecp256k1 requires) */
int ep_verify(const uint8_t hash[32], const uint8_t sig[64], const uint8_t *pub, size_t publen);

/* discv4 datagram: hash(32) ‖ sig(65) ‖ type ‖ rlp. Returns the type or an EP_* error; fills pub. */
int ep_verify_packet(const uint8_t *d, size_t len, uint8_t pub[64]);
/* ep_verify_packet when the signer is likely `expected` (a reply from the node asked): verified against
 * it first, recovered only when it is not the signer. Same result and pub as ep_verify_packet. */
int ep_verify_packet_from(const uint8_t *d, size_t len, const uint8_t expected[64], uint8_t pub[64]);

/* indices of the k ids (packed n×32) nearest to target by XOR distance, nearest first; returns count */
size_t ep_closest(const uint8_t target[32], const uint8_t *ids, size_t n, size_t k, uint32_t *out);

#ifdef __cplusplus
}
#endif

#endif
