/* discv4 datagram check in one call: hash, signer recovery and type. */
#include <string.h>

#include "core.h"

#define HASH_SIZE 32
#define SIG_SIZE 65
#define HEAD_SIZE (HASH_SIZE + SIG_SIZE)

/* the hash check; fills h with the hash the signature covers (type ‖ rlp). 0 or an EP_* error. */
static int check_hash(const uint8_t *d, size_t len, uint8_t h[32]) {
  if (len < HEAD_SIZE + 1) return EP_TOO_SHORT;
  ep_keccak256(d + HASH_SIZE, len - HASH_SIZE, h);
  if (memcmp(h, d, HASH_SIZE) != 0) return EP_BAD_HASH;
  ep_keccak256(d + HEAD_SIZE, len - HEAD_SIZE, h);
  return 0;
}

EP_EXPORT(ep_verify_packet)
int ep_verify_packet(const uint8_t *d, size_t len, uint8_t pub[64]) {
  uint8_t h[32];
  int err = check_hash(d, len, h);
  if (err) return err;
  if (!ep_recover(h, d + HASH_SIZE, d[HEAD_SIZE - 1], pub)) return EP_BAD_SIGNATURE;
  return d[HEAD_SIZE];
}

EP_EXPORT(ep_verify_packet_from)
int ep_verify_packet_from(const uint8_t *d, size_t len, const uint8_t expected[64], uint8_t pub[64]) {
  uint8_t h[32];
  int err = check_hash(d, len, h);
  if (err) return err;
  if (ep_signed_by(h, d + HASH_SIZE, d[HEAD_SIZE - 1], expected)) {
    memmove(pub, expected, 64);
  } else if (!ep_recover(h, d + HASH_SIZE, d[HEAD_SIZE - 1], pub)) {
    return EP_BAD_SIGNATURE;
  }
  return d[HEAD_SIZE];
}
