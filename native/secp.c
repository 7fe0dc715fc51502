/* secp256k1 operations over the libsecp256k1 sources that the `secp256k1` npm package ships. */
#include <string.h>

#include "core.h"
#include "secp256k1.h"
#include "secp256k1_ecdh.h"
#include "secp256k1_recovery.h"

static secp256k1_context *ctx;

/* misuse of the library API is a bug on our side, never input-dependent: fail the call, don't abort */
static void ignore_illegal(const char *msg, void *data) {
  (void)msg;
  (void)data;
}

EP_EXPORT(ep_init)
int ep_init(void) {
  if (ctx) return 1;
  ctx = secp256k1_context_create(SECP256K1_CONTEXT_SIGN | SECP256K1_CONTEXT_VERIFY);
  if (!ctx) return 0;
  secp256k1_context_set_illegal_callback(ctx, ignore_illegal, NULL);
  return 1;
}

static int parse64(secp256k1_pubkey *pk, const uint8_t pub[64]) {
  uint8_t full[65];
  full[0] = 0x04;
  memcpy(full + 1, pub, 64);
  /* rejects coordinates >= p and points off the curve */
  return secp256k1_ec_pubkey_parse(ctx, pk, full, 65);
}

static void serialize64(const secp256k1_pubkey *pk, uint8_t out[64]) {
  uint8_t full[65];
  size_t len = 65;
  secp256k1_ec_pubkey_serialize(ctx, full, &len, pk, SECP256K1_EC_UNCOMPRESSED);
  memcpy(out, full + 1, 64);
}

EP_EXPORT(ep_sign)
int ep_sign(const uint8_t hash[32], const uint8_t priv[32], uint8_t out[65]) {
  secp256k1_ecdsa_recoverable_signature sig;
  int recid = 0;
  if (!secp256k1_ecdsa_sign_recoverable(ctx, &sig, hash, priv, NULL, NULL)) return 0;
  secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, out, &recid, &sig);
  out[64] = (uint8_t)recid;
  return 1;
}

EP_EXPORT(ep_recover)
int ep_recover(const uint8_t hash[32], const uint8_t sig[64], int recid, uint8_t out[64]) {
  secp256k1_ecdsa_recoverable_signature rs;
  secp256k1_pubkey pk;
  if (recid < 0 || recid > 3) return 0;
  if (!secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &rs, sig, recid)) return 0;
  if (!secp256k1_ecdsa_recover(ctx, &pk, &rs, hash)) return 0;
  serialize64(&pk, out);
  return 1;
}

/* RLPx wants the bare x coordinate, not libsecp256k1's default sha256(compressed point) */
static int copy_x(unsigned char *output, const unsigned char *x32, const unsigned char *y32, void *data) {
  (void)y32;
  (void)data;
  memcpy(output, x32, 32);
  return 1;
}

EP_EXPORT(ep_ecdh)
int ep_ecdh(const uint8_t priv[32], const uint8_t pub[64], uint8_t out[32]) {
  secp256k1_pubkey pk;
  if (!parse64(&pk, pub)) return 0;
  return secp256k1_ecdh(ctx, out, &pk, priv, copy_x, NULL);
}

EP_EXPORT(ep_pubkey)
int ep_pubkey(const uint8_t priv[32], uint8_t out[64]) {
  secp256k1_pubkey pk;
  if (!secp256k1_ec_pubkey_create(ctx, &pk, priv)) return 0;
  serialize64(&pk, out);
  return 1;
}

EP_EXPORT(ep_pubkey_valid)
int ep_pubkey_valid(const uint8_t pub[64]) {
  secp256k1_pubkey pk;
  return parse64(&pk, pub);
}
