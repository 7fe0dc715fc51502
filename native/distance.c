/* k-closest selection by XOR distance over packed 32-byte node IDs. */
#include "core.h"

/* first 8 bytes of the XOR distance as a big-endian integer: decides almost every comparison */
static uint64_t prefix(const uint8_t *t, const uint8_t *id) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = (v << 8) | (uint8_t)(t[i] ^ id[i]);
  return v;
}

static int closer(const uint8_t *t, const uint8_t *ids, uint64_t pa, uint32_t a, uint64_t pb, uint32_t b) {
  if (pa != pb) return pa < pb;
  const uint8_t *x = ids + (size_t)a * 32, *y = ids + (size_t)b * 32;
  for (int i = 8; i < 32; i++) {
    uint8_t da = t[i] ^ x[i], db = t[i] ^ y[i];
    if (da != db) return da < db;
  }
  return a < b;
}

EP_EXPORT(ep_closest)
size_t ep_closest(const uint8_t target[32], const uint8_t *ids, size_t n, size_t k, uint32_t *out) {
  /* sorted insertion into the best-k list; k is small (16) for every caller */
  uint64_t keys[256];
  uint64_t *pk = keys;
  size_t len = 0;
  if (k > n) k = n;
  if (k == 0) return 0;
  if (k > 256) {
    /* callers asking for more than 256 get a slower path without the key cache */
    pk = 0;
  }
  for (size_t i = 0; i < n; i++) {
    uint64_t p = prefix(target, ids + i * 32);
    if (len == k) {
      uint64_t lastp = pk ? pk[k - 1] : prefix(target, ids + (size_t)out[k - 1] * 32);
      if (k == 0 || !closer(target, ids, p, (uint32_t)i, lastp, out[k - 1])) continue;
    }
    size_t j = len < k ? len++ : k - 1;
    while (j > 0) {
      uint64_t q = pk ? pk[j - 1] : prefix(target, ids + (size_t)out[j - 1] * 32);
      if (!closer(target, ids, p, (uint32_t)i, q, out[j - 1])) break;
      out[j] = out[j - 1];
      if (pk) pk[j] = pk[j - 1];
      j--;
    }
    out[j] = (uint32_t)i;
    if (pk) pk[j] = p;
  }
  return len;
}
