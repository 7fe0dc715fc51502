// ECIES as RLPx uses it, in one call: ECDH (libsecp256k1), concat KDF and MAC key (SHA-256),
// AES-128-CTR and HMAC-SHA-256 from the OpenSSL that Node ships.
// Layout: 0x04 ‖ R(64) ‖ iv(16) ‖ c ‖ HMAC-SHA-256(km, iv ‖ c ‖ s2)(32)
#include "ecies.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <cstring>

#include "args.h"
#include "core.h"

namespace {

constexpr size_t kOverhead = 65 + 16 + 32;

// NIST SP 800-56 concatenation KDF, one SHA-256 round (32 bytes): ke = k[0:16], km = sha256(k[16:32])
void Derive(const uint8_t z[32], uint8_t ke[16], uint8_t km[32]) {
  uint8_t in[36] = {0, 0, 0, 1};
  uint8_t k[32];
  memcpy(in + 4, z, 32);
  SHA256(in, sizeof in, k);
  memcpy(ke, k, 16);
  SHA256(k + 16, 16, km);
  OPENSSL_cleanse(k, sizeof k);
}

bool Mac(const uint8_t km[32], const uint8_t *ivc, size_t ivcLen, const uint8_t *s2, size_t s2Len, uint8_t out[32]) {
  HMAC_CTX *h = HMAC_CTX_new();
  unsigned int len = 32;
  bool ok = h && HMAC_Init_ex(h, km, 32, EVP_sha256(), nullptr) && HMAC_Update(h, ivc, ivcLen) &&
            HMAC_Update(h, s2, s2Len) && HMAC_Final(h, out, &len);
  HMAC_CTX_free(h);
  return ok;
}

bool Ctr(const uint8_t ke[16], const uint8_t iv[16], const uint8_t *in, size_t n, uint8_t *out) {
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  int len = 0;
  bool ok = c && EVP_EncryptInit_ex(c, EVP_aes_128_ctr(), nullptr, ke, iv) &&
            (n == 0 || EVP_EncryptUpdate(c, out, &len, in, (int)n));
  EVP_CIPHER_CTX_free(c);
  return ok;
}

}  // namespace

// eciesEncrypt(pub64, plain, sharedMacData, ephPriv32, iv16) → Buffer | null (invalid pub)
Napi::Value EciesEncrypt(const Napi::CallbackInfo &info) {
  Bytes pub = ArgBytes(info, 0, 64), m = ArgBytes(info, 1), s2 = ArgBytes(info, 2), eph = ArgBytes(info, 3, 32),
        iv = ArgBytes(info, 4, 16);
  if (!pub.ok || !m.ok || !s2.ok || !eph.ok || !iv.ok) return Napi::Value();
  if (m.len > (size_t)INT32_MAX - kOverhead) {
    Napi::RangeError::New(info.Env(), "plaintext too large").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  uint8_t z[32], ke[16], km[32];
  if (!ep_ecdh(eph.data, pub.data, z)) return info.Env().Null();
  Derive(z, ke, km);
  Napi::Buffer<uint8_t> out = Napi::Buffer<uint8_t>::New(info.Env(), kOverhead + m.len);
  uint8_t *o = out.Data();
  o[0] = 0x04;
  bool ok = ep_pubkey(eph.data, o + 1);
  memcpy(o + 65, iv.data, 16);
  ok = ok && Ctr(ke, iv.data, m.data, m.len, o + 81);
  ok = ok && Mac(km, o + 65, 16 + m.len, s2.data, s2.len, o + 81 + m.len);
  OPENSSL_cleanse(z, sizeof z);
  OPENSSL_cleanse(ke, sizeof ke);
  OPENSSL_cleanse(km, sizeof km);
  if (!ok) {
    Napi::Error::New(info.Env(), "ECIES encryption failed").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  return out;
}

// eciesDecrypt(priv32, cipher, sharedMacData) → Buffer | null (bad point, bad MAC)
Napi::Value EciesDecrypt(const Napi::CallbackInfo &info) {
  Bytes k = ArgBytes(info, 0, 32), c = ArgBytes(info, 1), s2 = ArgBytes(info, 2);
  if (!k.ok || !c.ok || !s2.ok) return Napi::Value();
  if (c.len < kOverhead || c.len > (size_t)INT32_MAX || c.data[0] != 0x04) return info.Env().Null();
  uint8_t z[32], ke[16], km[32], mac[32];
  if (!ep_ecdh(k.data, c.data + 1, z)) return info.Env().Null();
  Derive(z, ke, km);
  size_t n = c.len - kOverhead;
  bool ok = Mac(km, c.data + 65, 16 + n, s2.data, s2.len, mac) && CRYPTO_memcmp(mac, c.data + 81 + n, 32) == 0;
  Napi::Value result = info.Env().Null();
  if (ok) {
    Napi::Buffer<uint8_t> out = Napi::Buffer<uint8_t>::New(info.Env(), n);
    if (Ctr(ke, c.data + 65, c.data + 81, n, out.Data())) result = out;
  }
  OPENSSL_cleanse(z, sizeof z);
  OPENSSL_cleanse(ke, sizeof ke);
  OPENSSL_cleanse(km, sizeof km);
  return result;
}
