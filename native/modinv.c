/*
 * Modular inversion by Bernstein-Yang "divsteps" ("Fast constant-time gcd computation and modular
 * inversion", 2019), in the variable-time form: 62 divsteps are worked out on the low 64-bit words
 * of f and g alone, giving a 2x2 matrix that then moves the full-size f, g (the gcd pair) and d, e
 * (their cofactors modulo m) forward in one pass. Invariants: d*x = f and e*x = g (mod m); f stays
 * odd; the loop ends when g = 0, leaving f = +-gcd = +-1 and x^-1 = +-d.
 */
#include "modinv.h"

#ifdef EP_HAVE_MODINV

#define M62 (UINT64_MAX >> 2)

typedef __int128 i128;

static int ctz64(uint64_t x) {
#if defined(__GNUC__) || defined(__clang__)
  return __builtin_ctzll(x);
#else
  int n = 0;
  while (!(x & 1)) x >>= 1, n++;
  return n;
#endif
}

static void from_u64(ep_s62 *r, const uint64_t a[4]) {
  r->v[0] = (int64_t)(a[0] & M62);
  r->v[1] = (int64_t)((a[0] >> 62 | a[1] << 2) & M62);
  r->v[2] = (int64_t)((a[1] >> 60 | a[2] << 4) & M62);
  r->v[3] = (int64_t)((a[2] >> 58 | a[3] << 6) & M62);
  r->v[4] = (int64_t)(a[3] >> 56);
}

/* r must be normalized and in [0, 2^256) */
static void to_u64(uint64_t a[4], const ep_s62 *r) {
  a[0] = (uint64_t)r->v[0] | (uint64_t)r->v[1] << 62;
  a[1] = (uint64_t)r->v[1] >> 2 | (uint64_t)r->v[2] << 60;
  a[2] = (uint64_t)r->v[2] >> 4 | (uint64_t)r->v[3] << 58;
  a[3] = (uint64_t)r->v[3] >> 6 | (uint64_t)r->v[4] << 56;
}

void ep_modulus_init(ep_modulus *mod, const uint64_t m[4]) {
  uint64_t x = m[0]; /* an odd number is its own inverse mod 8; each Newton step doubles the bits */
  int i;
  for (i = 0; i < 5; i++) x *= 2 - m[0] * x;
  from_u64(&mod->m, m);
  mod->minv62 = x & M62;
}

/*
 * 62 divsteps on the low bits of f (odd) and g. Returns the new eta (= -delta) and the transition
 * matrix t = (u, v, q, r), scaled so that 2^62 * (f', g') = (u f + v g, q f + r g). Runs of steps that
 * only halve g are taken at once (count trailing zeros), and up to 6 steps that add f to g and halve
 * are taken at once by adding the multiple w of f that clears g's low bits (w = -g/f mod 2^k, with
 * f^-1 mod 64 = f (2 - f^2)); k never exceeds eta + 1, so no step in such a run would have swapped.
 */
static int64_t divsteps62_var(int64_t eta, uint64_t f, uint64_t g, int64_t t[4]) {
  uint64_t u = 1, v = 0, q = 0, r = 1, w, x;
  int i = 62, zeros;
  int64_t limit;
  for (;;) {
    zeros = ctz64(g | (UINT64_MAX << i));
    g >>= zeros;
    u <<= zeros;
    v <<= zeros;
    eta -= zeros;
    i -= zeros;
    if (i == 0) break;
    /* g is odd: with delta > 0 the step swaps, (f, g) = (g, -f) before adding */
    if (eta < 0) {
      eta = -eta;
      x = f, f = g, g = 0 - x;
      x = u, u = q, q = 0 - x;
      x = v, v = r, r = 0 - x;
    }
    limit = eta + 1 > i ? i : eta + 1;
    if (limit > 6) limit = 6;
    w = (f * g * (f * f - 2)) & (UINT64_MAX >> (64 - limit));
    g += f * w;
    q += u * w;
    r += v * w;
  }
  t[0] = (int64_t)u, t[1] = (int64_t)v, t[2] = (int64_t)q, t[3] = (int64_t)r;
  return eta;
}

/* (f, g) = (u f + v g, q f + r g) / 2^62, exact by construction of t */
static void update_fg(ep_s62 *f, ep_s62 *g, const int64_t t[4]) {
  const int64_t u = t[0], v = t[1], q = t[2], r = t[3];
  i128 cf = (i128)u * f->v[0] + (i128)v * g->v[0];
  i128 cg = (i128)q * f->v[0] + (i128)r * g->v[0];
  int i;
  cf >>= 62;
  cg >>= 62;
  for (i = 1; i < 5; i++) {
    cf += (i128)u * f->v[i] + (i128)v * g->v[i];
    cg += (i128)q * f->v[i] + (i128)r * g->v[i];
    f->v[i - 1] = (int64_t)((uint64_t)cf & M62);
    g->v[i - 1] = (int64_t)((uint64_t)cg & M62);
    cf >>= 62;
    cg >>= 62;
  }
  f->v[4] = (int64_t)cf;
  g->v[4] = (int64_t)cg;
}

/* the multiple of m, in (-2^61, 2^61], that clears the low 62 bits of c */
static int64_t clearing_multiple(i128 c, uint64_t minv62) {
  uint64_t k = ((0 - (uint64_t)c) * minv62) & M62;
  return k > (M62 >> 1) ? (int64_t)k - (int64_t)(M62 + 1) : (int64_t)k;
}

/*
 * (d, e) = (u d + v e, q d + r e) / 2^62 mod m: a multiple of m is added first so the division is
 * exact. |u| + |v| <= 2^62, so each round grows |d| by at most m / 2: with at most a dozen rounds
 * d stays far inside five limbs.
 */
static void update_de(ep_s62 *d, ep_s62 *e, const int64_t t[4], const ep_modulus *mod) {
  const int64_t u = t[0], v = t[1], q = t[2], r = t[3];
  i128 cd = (i128)u * d->v[0] + (i128)v * e->v[0];
  i128 ce = (i128)q * d->v[0] + (i128)r * e->v[0];
  const int64_t md = clearing_multiple(cd, mod->minv62), me = clearing_multiple(ce, mod->minv62);
  int i;
  cd += (i128)md * mod->m.v[0];
  ce += (i128)me * mod->m.v[0];
  cd >>= 62;
  ce >>= 62;
  for (i = 1; i < 5; i++) {
    cd += (i128)u * d->v[i] + (i128)v * e->v[i] + (i128)md * mod->m.v[i];
    ce += (i128)q * d->v[i] + (i128)r * e->v[i] + (i128)me * mod->m.v[i];
    d->v[i - 1] = (int64_t)((uint64_t)cd & M62);
    e->v[i - 1] = (int64_t)((uint64_t)ce & M62);
    cd >>= 62;
    ce >>= 62;
  }
  d->v[4] = (int64_t)cd;
  e->v[4] = (int64_t)ce;
}

static int is_zero(const ep_s62 *a) {
  return (a->v[0] | a->v[1] | a->v[2] | a->v[3] | a->v[4]) == 0;
}

/* a = k*a + s*m with k, s in {-1, 0, 1}, renormalized */
static void add_multiple(ep_s62 *a, int k, const ep_s62 *m, int s) {
  i128 c = 0;
  int i;
  for (i = 0; i < 5; i++) {
    c += (i128)k * a->v[i] + (i128)s * m->v[i];
    if (i == 4) break;
    a->v[i] = (int64_t)((uint64_t)c & M62);
    c >>= 62;
  }
  a->v[4] = (int64_t)c;
}

/* -1, 0, 1 as a < b, a == b, a > b; both normalized */
static int cmp(const ep_s62 *a, const ep_s62 *b) {
  int i;
  for (i = 4; i >= 0; i--) {
    if (a->v[i] != b->v[i]) return a->v[i] < b->v[i] ? -1 : 1;
  }
  return 0;
}

int ep_modinv_var(uint64_t out[4], const uint64_t in[4], const ep_modulus *mod) {
  ep_s62 d = {{0, 0, 0, 0, 0}}, e = {{1, 0, 0, 0, 0}}, f = mod->m, g;
  const ep_s62 one = {{1, 0, 0, 0, 0}};
  const ep_s62 minus_one = {{(int64_t)M62, (int64_t)M62, (int64_t)M62, (int64_t)M62, -1}};
  int64_t eta = -1, t[4];
  int round, steps;
  from_u64(&g, in);
  if (is_zero(&g) || cmp(&g, &mod->m) >= 0) return 0;
  /* 256-bit inputs need at most 741 divsteps (12 rounds); the cap only bounds a bug */
  for (round = 0; round < 24 && !is_zero(&g); round++) {
    eta = divsteps62_var(eta, (uint64_t)f.v[0], (uint64_t)g.v[0], t);
    update_de(&d, &e, t, mod);
    update_fg(&f, &g, t);
  }
  if (!is_zero(&g)) return 0;
  if (cmp(&f, &minus_one) == 0) {
    add_multiple(&d, -1, &mod->m, 0);
  } else if (cmp(&f, &one) != 0) {
    return 0; /* gcd > 1 */
  }
  /* |d| < 13 m here; bring it into [0, m) */
  for (steps = 0; d.v[4] < 0 && steps < 32; steps++) add_multiple(&d, 1, &mod->m, 1);
  for (; cmp(&d, &mod->m) >= 0 && steps < 64; steps++) add_multiple(&d, 1, &mod->m, -1);
  if (d.v[4] < 0 || cmp(&d, &mod->m) >= 0) return 0;
  to_u64(out, &d);
  return 1;
}

#endif /* EP_HAVE_MODINV */
