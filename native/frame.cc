// RLPx framing: header ‖ header-mac ‖ padded ciphertext ‖ frame-mac, MAC state kept here.
#include "frame.h"

#include <openssl/crypto.h>

#include <cstring>

#include "args.h"
#include "core.h"

namespace {
// protocol header-data: rlp([capability-id = 0, context-id = 0])
const uint8_t kZeroHeader[3] = {0xc2, 0x80, 0x80};
const uint8_t kZeroIv[16] = {0};
constexpr size_t kMaxFrame = (1u << 24) - 1;

bool Crypt(EVP_CIPHER_CTX *c, uint8_t *out, const uint8_t *in, size_t n) {
  int len = 0;
  return n == 0 || EVP_EncryptUpdate(c, out, &len, in, (int)n) == 1;
}
}  // namespace

Napi::Function FrameCipher::Init(Napi::Env env) {
  return DefineClass(env, "FrameCipher",
                     {InstanceMethod("seal", &FrameCipher::Seal), InstanceMethod("openHeader", &FrameCipher::OpenHeader),
                      InstanceMethod("openBody", &FrameCipher::OpenBody)});
}

// new FrameCipher(aesSecret32, macSecret32, egressSeed, ingressSeed)
FrameCipher::FrameCipher(const Napi::CallbackInfo &info) : Napi::ObjectWrap<FrameCipher>(info) {
  Bytes aes = ArgBytes(info, 0, 32), mac = ArgBytes(info, 1, 32), eg = ArgBytes(info, 2), in = ArgBytes(info, 3);
  if (!aes.ok || !mac.ok || !eg.ok || !in.ok) return;
  enc_ = EVP_CIPHER_CTX_new();
  dec_ = EVP_CIPHER_CTX_new();
  ecb_ = EVP_CIPHER_CTX_new();
  // CTR decryption is encryption of the same stream, so both directions use EncryptUpdate
  ready_ = enc_ && dec_ && ecb_ && EVP_EncryptInit_ex(enc_, EVP_aes_256_ctr(), nullptr, aes.data, kZeroIv) &&
           EVP_EncryptInit_ex(dec_, EVP_aes_256_ctr(), nullptr, aes.data, kZeroIv) &&
           EVP_EncryptInit_ex(ecb_, EVP_aes_256_ecb(), nullptr, mac.data, nullptr) &&
           EVP_CIPHER_CTX_set_padding(ecb_, 0);
  if (!ready_) {
    Napi::Error::New(info.Env(), "cipher setup failed").ThrowAsJavaScriptException();
    return;
  }
  ep_keccak_init(&egress_);
  ep_keccak_update(&egress_, eg.data, eg.len);
  ep_keccak_init(&ingress_);
  ep_keccak_update(&ingress_, in.data, in.len);
}

FrameCipher::~FrameCipher() {
  EVP_CIPHER_CTX_free(enc_);
  EVP_CIPHER_CTX_free(dec_);
  EVP_CIPHER_CTX_free(ecb_);
}

// mac ← mac.update(AES-ECB(mac-secret, digest[:16]) ^ seed); out = mac.digest()[:16]
void FrameCipher::MacStep(KeccakWidth1600_SpongeInstance *mac, const uint8_t seed[16], uint8_t out[16]) {
  uint8_t d[32], block[16];
  ep_keccak_digest(mac, d);
  Crypt(ecb_, block, d, 16);
  for (int i = 0; i < 16; i++) block[i] ^= seed[i];
  ep_keccak_update(mac, block, 16);
  ep_keccak_digest(mac, d);
  memcpy(out, d, 16);
}

void FrameCipher::FrameMac(KeccakWidth1600_SpongeInstance *mac, const uint8_t *ct, size_t n, uint8_t out[16]) {
  uint8_t d[32];
  ep_keccak_update(mac, ct, n);
  ep_keccak_digest(mac, d);
  MacStep(mac, d, out);
}

// seal(frameData) → header(16) ‖ header-mac(16) ‖ ciphertext(padded to 16) ‖ frame-mac(16)
Napi::Value FrameCipher::Seal(const Napi::CallbackInfo &info) {
  Bytes data = ArgBytes(info, 0);
  if (!data.ok || !ready_) return Napi::Value();
  if (data.len > kMaxFrame) {
    Napi::RangeError::New(info.Env(), "frame too large").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  size_t padded = (data.len + 15) & ~(size_t)15;
  Napi::Buffer<uint8_t> out = Napi::Buffer<uint8_t>::New(info.Env(), 32 + padded + 16);
  uint8_t *o = out.Data();
  memset(o, 0, 16);
  o[0] = (uint8_t)(data.len >> 16);
  o[1] = (uint8_t)(data.len >> 8);
  o[2] = (uint8_t)data.len;
  memcpy(o + 3, kZeroHeader, 3);
  Crypt(enc_, o, o, 16);
  MacStep(&egress_, o, o + 16);
  // an empty Uint8Array may have no backing store: memcpy from NULL is undefined even for 0 bytes
  if (data.len > 0) memcpy(o + 32, data.data, data.len);
  memset(o + 32 + data.len, 0, padded - data.len);
  Crypt(enc_, o + 32, o + 32, padded);
  FrameMac(&egress_, o + 32, padded, o + 32 + padded);
  return out;
}

// openHeader(32 bytes) → frame-data size, or -1 on a MAC mismatch
Napi::Value FrameCipher::OpenHeader(const Napi::CallbackInfo &info) {
  Bytes h = ArgBytes(info, 0, 32);
  if (!h.ok || !ready_) return Napi::Value();
  uint8_t expect[16], plain[16];
  MacStep(&ingress_, h.data, expect);
  if (CRYPTO_memcmp(expect, h.data + 16, 16) != 0) return Napi::Number::New(info.Env(), -1);
  Crypt(dec_, plain, h.data, 16);
  return Napi::Number::New(info.Env(), (plain[0] << 16) | (plain[1] << 8) | plain[2]);
}

// openBody(padded ciphertext ‖ mac, size) → size plaintext bytes, or null on a MAC mismatch
Napi::Value FrameCipher::OpenBody(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Bytes b = ArgBytes(info, 0);
  if (!b.ok || !ready_) return Napi::Value();
  if (!info[1].IsNumber()) {
    Napi::TypeError::New(env, "size must be a number").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  int64_t size = info[1].As<Napi::Number>().Int64Value();
  if (size < 0 || (size_t)size > kMaxFrame || b.len != (((size_t)size + 15) & ~(size_t)15) + 16) {
    Napi::RangeError::New(env, "frame body length does not match its size").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  size_t padded = b.len - 16;
  uint8_t expect[16];
  FrameMac(&ingress_, b.data, padded, expect);
  if (CRYPTO_memcmp(expect, b.data + padded, 16) != 0) return env.Null();
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, padded);
  Crypt(dec_, static_cast<uint8_t *>(ab.Data()), b.data, padded);
  return Napi::Uint8Array::New(env, (size_t)size, ab, 0);
}
