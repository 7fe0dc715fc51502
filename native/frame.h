#ifndef ETHP2P_FRAME_H
#define ETHP2P_FRAME_H
#include <napi.h>
#include <openssl/evp.h>

#include "KeccakSpongeWidth1600.h"

// RLPx frame state for one connection: AES-256-CTR both ways, keccak egress/ingress MACs seeded
// with AES-256-ECB(mac-secret). The ciphers are created once; nothing is allocated per frame
// except the output buffer.
class FrameCipher : public Napi::ObjectWrap<FrameCipher> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit FrameCipher(const Napi::CallbackInfo &info);
  ~FrameCipher() override;

 private:
  Napi::Value Seal(const Napi::CallbackInfo &info);
  Napi::Value OpenHeader(const Napi::CallbackInfo &info);
  Napi::Value OpenBody(const Napi::CallbackInfo &info);
  void MacStep(KeccakWidth1600_SpongeInstance *mac, const uint8_t seed[16], uint8_t out[16]);
  void FrameMac(KeccakWidth1600_SpongeInstance *mac, const uint8_t *ct, size_t n, uint8_t out[16]);

  EVP_CIPHER_CTX *enc_ = nullptr;
  EVP_CIPHER_CTX *dec_ = nullptr;
  EVP_CIPHER_CTX *ecb_ = nullptr;
  KeccakWidth1600_SpongeInstance egress_;
  KeccakWidth1600_SpongeInstance ingress_;
  bool ready_ = false;
};
#endif
