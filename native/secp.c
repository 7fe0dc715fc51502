/*
 * secp256k1 operations over the libsecp256k1 sources that the `secp256k1` npm package ships. The
 * library is compiled into this file (it is one translation unit by design) so that recovery can use
 * its internals with the faster variable-time inverses of modinv.c.
 */
#include <string.h>

#include "secp256k1.c"

#include "core.h"
#include "modinv.h"

static secp256k1_context *ctx;

/* misuse of the library API is a bug on our side, never input-dependent: fail the call, don't abort */
static void ignore_illegal(const char *msg, void *data) {
  (void)msg;
  (void)data;
}

#ifdef EP_HAVE_MODINV
/* little-endian limbs of the field prime p and the group order n */
static const uint64_t P_LIMBS[4] = {0xFFFFFFFEFFFFFC2FULL, ~0ULL, ~0ULL, ~0ULL};
static const uint64_t N_LIMBS[4] = {0xBFD25E8CD0364141ULL, 0xBAAEDCE6AF48A03BULL, 0xFFFFFFFFFFFFFFFEULL, ~0ULL};
static ep_modulus mod_p, mod_n;

static void be_to_limbs(uint64_t a[4], const unsigned char b[32]) {
  int i, j;
  for (i = 0; i < 4; i++) {
    a[i] = 0;
    for (j = 0; j < 8; j++) a[i] = a[i] << 8 | b[31 - 8 * i - (7 - j)];
  }
}

static void limbs_to_be(unsigned char b[32], const uint64_t a[4]) {
  int i, j;
  for (i = 0; i < 4; i++)
    for (j = 0; j < 8; j++) b[31 - 8 * i - j] = (unsigned char)(a[i] >> (8 * j));
}
#endif

EP_EXPORT(ep_init)
int ep_init(void) {
  if (ctx) return 1;
#ifdef EP_HAVE_MODINV
  ep_modulus_init(&mod_p, P_LIMBS);
  ep_modulus_init(&mod_n, N_LIMBS);
#endif
  ctx = secp256k1_context_create(SECP256K1_CONTEXT_SIGN | SECP256K1_CONTEXT_VERIFY);
  if (!ctx) return 0;
  secp256k1_context_set_illegal_callback(ctx, ignore_illegal, NULL);
  return 1;
}

/* a^-1 mod n for a public nonzero scalar; the product is checked, the library's inverse is the fallback */
static void scalar_inverse_fast(secp256k1_scalar *r, const secp256k1_scalar *a) {
#ifdef EP_HAVE_MODINV
  unsigned char b[32];
  uint64_t in[4], out[4];
  secp256k1_scalar check;
  int overflow = 0;
  secp256k1_scalar_get_b32(b, a);
  be_to_limbs(in, b);
  if (ep_modinv_var(out, in, &mod_n)) {
    limbs_to_be(b, out);
    secp256k1_scalar_set_b32(r, b, &overflow);
    secp256k1_scalar_mul(&check, r, a);
    if (!overflow && secp256k1_scalar_is_one(&check)) return;
  }
#endif
  secp256k1_scalar_inverse_var(r, a);
}

/* a^-1 mod p for a public nonzero field element, checked the same way */
static void fe_inverse_fast(secp256k1_fe *r, const secp256k1_fe *a) {
#ifdef EP_HAVE_MODINV
  unsigned char b[32];
  uint64_t in[4], out[4];
  secp256k1_fe an = *a, check, one;
  secp256k1_fe_normalize_var(&an);
  secp256k1_fe_get_b32(b, &an);
  be_to_limbs(in, b);
  if (ep_modinv_var(out, in, &mod_p)) {
    limbs_to_be(b, out);
    if (secp256k1_fe_set_b32(r, b)) {
      secp256k1_fe_mul(&check, r, &an);
      secp256k1_fe_normalize_var(&check);
      secp256k1_fe_set_int(&one, 1);
      if (secp256k1_fe_equal_var(&check, &one)) return;
    }
  }
#endif
  secp256k1_fe_inv_var(r, a);
}

/* r ‖ s as scalars, each in [1, n); 0 otherwise */
static int parse_rs(secp256k1_scalar *r, secp256k1_scalar *s, const uint8_t sig[64]) {
  int overflow = 0;
  secp256k1_scalar_set_b32(r, sig, &overflow);
  if (overflow || secp256k1_scalar_is_zero(r)) return 0;
  secp256k1_scalar_set_b32(s, sig + 32, &overflow);
  return !overflow && !secp256k1_scalar_is_zero(s);
}

/* the field element r, or r + n when plus_n; 0 when r + n is not below p (no such x) */
static int x_of_r(secp256k1_fe *x, const secp256k1_scalar *r, int plus_n) {
  unsigned char b[32];
  secp256k1_scalar_get_b32(b, r);
  if (!secp256k1_fe_set_b32(x, b)) return 0;
  if (!plus_n) return 1;
  if (secp256k1_fe_cmp_var(x, &secp256k1_ecdsa_const_p_minus_order) >= 0) return 0;
  secp256k1_fe_add(x, &secp256k1_ecdsa_const_order_as_fe);
  return 1;
}

/*
 * Public key from a recoverable signature: Q = r^-1 (s R - e G), R the point with x = r (+ n when
 * recid & 2) and the y parity recid & 1. The same checks as secp256k1_ecdsa_recover; only the two
 * inversions differ.
 */
static int recover_point(secp256k1_ge *q, const secp256k1_scalar *sigr, const secp256k1_scalar *sigs, const secp256k1_scalar *msg, int recid) {
  secp256k1_fe fx, zi, zi2, zi3, x, y;
  secp256k1_ge rp;
  secp256k1_gej rj, qj;
  secp256k1_scalar rinv, u1, u2;
  if (!x_of_r(&fx, sigr, recid & 2)) return 0;
  if (!secp256k1_ge_set_xo_var(&rp, &fx, recid & 1)) return 0;
  secp256k1_gej_set_ge(&rj, &rp);
  scalar_inverse_fast(&rinv, sigr);
  secp256k1_scalar_mul(&u1, &rinv, msg);
  secp256k1_scalar_negate(&u1, &u1);
  secp256k1_scalar_mul(&u2, &rinv, sigs);
  secp256k1_ecmult(&ctx->ecmult_ctx, &qj, &rj, &u2, &u1);
  if (secp256k1_gej_is_infinity(&qj)) return 0;
  /* Jacobian to affine: x = X / Z^2, y = Y / Z^3 */
  fe_inverse_fast(&zi, &qj.z);
  secp256k1_fe_sqr(&zi2, &zi);
  secp256k1_fe_mul(&zi3, &zi2, &zi);
  secp256k1_fe_mul(&x, &qj.x, &zi2);
  secp256k1_fe_mul(&y, &qj.y, &zi3);
  secp256k1_ge_set_xy(q, &x, &y);
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
  secp256k1_scalar r, s, m;
  secp256k1_ge q;
  if (recid < 0 || recid > 3 || !parse_rs(&r, &s, sig)) return 0;
  secp256k1_scalar_set_b32(&m, hash, NULL);
  if (!recover_point(&q, &r, &s, &m, recid)) return 0;
  secp256k1_fe_normalize_var(&q.x);
  secp256k1_fe_normalize_var(&q.y);
  secp256k1_fe_get_b32(out, &q.x);
  secp256k1_fe_get_b32(out + 32, &q.y);
  return 1;
}

/* R' = (m/s) G + (r/s) Q, the point a valid signature's r is the x of; 0 when it is at infinity */
static int verify_point(secp256k1_gej *rj, const secp256k1_scalar *r, const secp256k1_scalar *s, const secp256k1_scalar *m, const secp256k1_ge *q) {
  secp256k1_scalar sinv, u1, u2;
  secp256k1_gej qj;
  secp256k1_gej_set_ge(&qj, q);
  scalar_inverse_fast(&sinv, s);
  secp256k1_scalar_mul(&u1, &sinv, m);
  secp256k1_scalar_mul(&u2, &sinv, r);
  secp256k1_ecmult(&ctx->ecmult_ctx, rj, &qj, &u2, &u1);
  return !secp256k1_gej_is_infinity(rj);
}

/*
 * Whether r ‖ s with recovery id recid over hash recovers to exactly pub (64 bytes), decided without
 * recovering: R' = (e/s) G + (r/s) Q must be the very point R that recovery starts from (x = r, or
 * r + n when recid & 2, and y of parity recid & 1). Then s R = e G + r Q, so recovery would yield Q:
 * the answer is ep_recover's, byte for byte, for the price of a verification, which needs no square
 * root. 0 says nothing more than "not this key" (the caller recovers to learn whose it is).
 */
EP_EXPORT(ep_signed_by)
int ep_signed_by(const uint8_t hash[32], const uint8_t sig[64], int recid, const uint8_t pub[64]) {
  secp256k1_scalar r, s, m;
  secp256k1_fe xr, zi, zi2, y;
  secp256k1_pubkey pk;
  secp256k1_ge q;
  secp256k1_gej rj;
  if (recid < 0 || recid > 3 || !parse_rs(&r, &s, sig) || !x_of_r(&xr, &r, recid & 2)) return 0;
  if (!parse64(&pk, pub) || !secp256k1_pubkey_load(ctx, &q, &pk)) return 0;
  secp256k1_scalar_set_b32(&m, hash, NULL);
  if (!verify_point(&rj, &r, &s, &m, &q)) return 0;
  /* x exactly (X == x Z^2), then the parity of y = Y / Z^3 */
  if (!secp256k1_gej_eq_x_var(&xr, &rj)) return 0;
  fe_inverse_fast(&zi, &rj.z);
  secp256k1_fe_sqr(&zi2, &zi);
  secp256k1_fe_mul(&zi2, &zi2, &zi);
  secp256k1_fe_mul(&y, &rj.y, &zi2);
  secp256k1_fe_normalize_var(&y);
  return secp256k1_fe_is_odd(&y) == (recid & 1);
}

/* x^-1 mod p (modulus 0) or mod n (modulus 1), big-endian; exported so tests can check modinv.c directly */
EP_EXPORT(ep_modinv)
int ep_modinv(int modulus, const uint8_t in[32], uint8_t out[32]) {
#ifndef EP_HAVE_MODINV
  (void)modulus, (void)in, (void)out;
  return 0;
#else
  uint64_t a[4], r[4];
  be_to_limbs(a, in);
  if (!ep_modinv_var(r, a, modulus ? &mod_n : &mod_p)) return 0;
  limbs_to_be(out, r);
  return 1;
#endif
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

/* a public key in either of the forms discv5 meets: 33-byte compressed (records, handshakes) or 64 */
static int parse_any(secp256k1_pubkey *pk, const uint8_t *pub, size_t len) {
  if (len == 64) return parse64(pk, pub);
  if (len == 33 && (pub[0] == 2 || pub[0] == 3)) return secp256k1_ec_pubkey_parse(ctx, pk, pub, 33);
  return 0;
}

static int copy_compressed(unsigned char *output, const unsigned char *x32, const unsigned char *y32, void *data) {
  (void)data;
  output[0] = (unsigned char)(2 | (y32[31] & 1));
  memcpy(output + 1, x32, 32);
  return 1;
}

EP_EXPORT(ep_ecdh_point)
int ep_ecdh_point(const uint8_t priv[32], const uint8_t *pub, size_t publen, uint8_t out[33]) {
  secp256k1_pubkey pk;
  if (!parse_any(&pk, pub, publen)) return 0;
  return secp256k1_ecdh(ctx, out, &pk, priv, copy_compressed, NULL);
}

EP_EXPORT(ep_pubkey_parse)
int ep_pubkey_parse(const uint8_t *pub, size_t publen, uint8_t out[64]) {
  secp256k1_pubkey pk;
  if (!parse_any(&pk, pub, publen)) return 0;
  serialize64(&pk, out);
  return 1;
}

/*
 * ECDSA as secp256k1_ecdsa_verify decides it (r, s in [1, n), s low, x(R') ≡ r mod n), with the
 * variable-time inverse of s: everything here is public.
 */
EP_EXPORT(ep_verify)
int ep_verify(const uint8_t hash[32], const uint8_t sig[64], const uint8_t *pub, size_t publen) {
  secp256k1_scalar r, s, m;
  secp256k1_pubkey pk;
  secp256k1_ge q;
  secp256k1_gej rj;
  secp256k1_fe xr;
  if (!parse_rs(&r, &s, sig) || secp256k1_scalar_is_high(&s)) return 0;
  if (!parse_any(&pk, pub, publen) || !secp256k1_pubkey_load(ctx, &q, &pk)) return 0;
  secp256k1_scalar_set_b32(&m, hash, NULL);
  if (!verify_point(&rj, &r, &s, &m, &q)) return 0;
  /* R'.x is r, or r + n when that is still below p */
  if (x_of_r(&xr, &r, 0) && secp256k1_gej_eq_x_var(&xr, &rj)) return 1;
  return x_of_r(&xr, &r, 1) && secp256k1_gej_eq_x_var(&xr, &rj);
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
