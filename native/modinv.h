/*
 * Variable-time inverses modulo a 256-bit odd modulus, for public values only (a signature's r, the
 * z coordinate of a recovered key): the running time depends on the input. libsecp256k1 as the
 * `secp256k1` package ships it (2019) inverts by exponentiation, which costs a quarter of a recovery.
 */
#ifndef ETHP2P_MODINV_H
#define ETHP2P_MODINV_H

#include <stdint.h>

/* the limb arithmetic needs 128-bit products (gcc, clang, wasm32 clang; not MSVC, which keeps the
   library's own inversions) */
#if defined(__SIZEOF_INT128__)
#define EP_HAVE_MODINV 1
#endif

/* a signed number in 62-bit limbs: sum of v[i] * 2^(62 i); v[0..3] in [0, 2^62), v[4] carries the sign */
typedef struct {
  int64_t v[5];
} ep_s62;

typedef struct {
  ep_s62 m;
  uint64_t minv62; /* m^-1 mod 2^62 */
} ep_modulus;

/* m: little-endian 64-bit limbs of an odd modulus < 2^256 */
void ep_modulus_init(ep_modulus *mod, const uint64_t m[4]);

/* out = in^-1 mod m for 0 < in < m with gcd(in, m) = 1; returns 0 (out untouched) otherwise */
int ep_modinv_var(uint64_t out[4], const uint64_t in[4], const ep_modulus *mod);

#endif
