/* keccak-256 over the XKCP sponge that the `keccak` npm package ships. */
#include <string.h>

#include "KeccakSpongeWidth1600.h"
#include "core.h"

/* keccak-256: rate 1088 bits, capacity 512, domain suffix 0x01 (not SHA3's 0x06) */
#define RATE 1088
#define CAPACITY 512
#define SUFFIX 0x01

EP_EXPORT(ep_keccak256)
void ep_keccak256(const uint8_t *in, size_t len, uint8_t out[32]) {
  KeccakWidth1600_SpongeInstance s;
  KeccakWidth1600_SpongeInitialize(&s, RATE, CAPACITY);
  KeccakWidth1600_SpongeAbsorb(&s, in, len);
  KeccakWidth1600_SpongeAbsorbLastFewBits(&s, SUFFIX);
  KeccakWidth1600_SpongeSqueeze(&s, out, 32);
}

EP_EXPORT(ep_keccak_size)
size_t ep_keccak_size(void) { return sizeof(KeccakWidth1600_SpongeInstance); }

EP_EXPORT(ep_keccak_init)
void ep_keccak_init(void *st) { KeccakWidth1600_SpongeInitialize((KeccakWidth1600_SpongeInstance *)st, RATE, CAPACITY); }

EP_EXPORT(ep_keccak_update)
void ep_keccak_update(void *st, const uint8_t *in, size_t len) {
  KeccakWidth1600_SpongeAbsorb((KeccakWidth1600_SpongeInstance *)st, in, len);
}

EP_EXPORT(ep_keccak_digest)
void ep_keccak_digest(const void *st, uint8_t out[32]) {
  /* finalise a copy so the running MAC state can keep absorbing */
  KeccakWidth1600_SpongeInstance copy;
  memcpy(&copy, st, sizeof copy);
  KeccakWidth1600_SpongeAbsorbLastFewBits(&copy, SUFFIX);
  KeccakWidth1600_SpongeSqueeze(&copy, out, 32);
}
