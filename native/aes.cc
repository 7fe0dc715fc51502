// AES-128 as discv5 uses it: CTR for header masking, GCM for messages. Node's createCipheriv builds a
// stream object per call, several times the cost of the cipher on a short packet; here each thread
// keeps one context per mode, set up once, and a call only loads the key and IV.
#include "aes.h"

#include <openssl/evp.h>

#include <cstring>

#include "args.h"

namespace {
constexpr int kTag = 16;

struct Contexts {
  EVP_CIPHER_CTX *ctr = nullptr, *seal = nullptr, *open = nullptr;
  bool ok = false;
  Contexts() {
    ctr = EVP_CIPHER_CTX_new();
    seal = EVP_CIPHER_CTX_new();
    open = EVP_CIPHER_CTX_new();
    ok = ctr && seal && open && EVP_EncryptInit_ex(ctr, EVP_aes_128_ctr(), nullptr, nullptr, nullptr) == 1 &&
         EVP_EncryptInit_ex(seal, EVP_aes_128_gcm(), nullptr, nullptr, nullptr) == 1 &&
         EVP_DecryptInit_ex(open, EVP_aes_128_gcm(), nullptr, nullptr, nullptr) == 1;
  }
  ~Contexts() {
    EVP_CIPHER_CTX_free(ctr);
    EVP_CIPHER_CTX_free(seal);
    EVP_CIPHER_CTX_free(open);
  }
};

// worker threads load the addon too: one set per thread, never shared
Contexts &Ctx() {
  thread_local Contexts c;
  return c;
}

Napi::Value Fail(const Napi::CallbackInfo &info, const char *what) {
  Napi::RangeError::New(info.Env(), what).ThrowAsJavaScriptException();
  return Napi::Value();
}
}  // namespace

// aesCtr(key16, iv16, data, out) — out (data's length) receives data XOR the key stream
Napi::Value AesCtr(const Napi::CallbackInfo &info) {
  Bytes k = ArgBytes(info, 0, 16), iv = ArgBytes(info, 1, 16), d = ArgBytes(info, 2), out = ArgBytes(info, 3);
  if (!k.ok || !iv.ok || !d.ok || !out.ok) return Napi::Value();
  if (out.len != d.len || d.len > INT32_MAX) return Fail(info, "aesCtr: out must be as long as data");
  Contexts &c = Ctx();
  int n = 0;
  bool ok = c.ok && EVP_EncryptInit_ex(c.ctr, nullptr, nullptr, k.data, iv.data) == 1 &&
            (d.len == 0 || EVP_EncryptUpdate(c.ctr, out.data, &n, d.data, (int)d.len) == 1);
  return Napi::Boolean::New(info.Env(), ok);
}

// v5Header(packet, maskKey16, out) → the header's length: out receives masking-iv ‖ static header ‖
// authdata unmasked, the authdata's size read from the static header as it comes out of the stream;
// -1 when the packet is shorter than a static header or the authdata runs past the packet
Napi::Value V5Header(const Napi::CallbackInfo &info) {
  Bytes p = ArgBytes(info, 0), k = ArgBytes(info, 1, 16), out = ArgBytes(info, 2);
  if (!p.ok || !k.ok || !out.ok) return Napi::Value();
  constexpr size_t kIv = 16, kStatic = 23;
  if (out.len < p.len || p.len > INT32_MAX) return Fail(info, "v5Header: out must hold the packet");
  if (p.len < kIv + kStatic) return Napi::Number::New(info.Env(), -1);
  Contexts &c = Ctx();
  int n = 0;
  memcpy(out.data, p.data, kIv);
  if (!c.ok || EVP_EncryptInit_ex(c.ctr, nullptr, nullptr, k.data, p.data) != 1 ||
      EVP_EncryptUpdate(c.ctr, out.data + kIv, &n, p.data + kIv, (int)kStatic) != 1)
    return Napi::Number::New(info.Env(), -1);
  size_t size = ((size_t)out.data[kIv + 21] << 8) | out.data[kIv + 22];
  size_t end = kIv + kStatic + size;
  if (end > p.len) return Napi::Number::New(info.Env(), -1);
  // the context carries on from where the static header left the key stream
  if (size > 0 && EVP_EncryptUpdate(c.ctr, out.data + kIv + kStatic, &n, p.data + kIv + kStatic, (int)size) != 1)
    return Napi::Number::New(info.Env(), -1);
  return Napi::Number::New(info.Env(), (double)end);
}

// gcmSeal(key16, nonce12, plain, ad, out) — out (plain's length + 16) receives ciphertext ‖ tag
Napi::Value GcmSeal(const Napi::CallbackInfo &info) {
  Bytes k = ArgBytes(info, 0, 16), nonce = ArgBytes(info, 1, 12), p = ArgBytes(info, 2), ad = ArgBytes(info, 3), out = ArgBytes(info, 4);
  if (!k.ok || !nonce.ok || !p.ok || !ad.ok || !out.ok) return Napi::Value();
  if (out.len != p.len + kTag || p.len > INT32_MAX || ad.len > INT32_MAX) return Fail(info, "gcmSeal: out must be plain's length + 16");
  Contexts &c = Ctx();
  int n = 0;
  // GCM's final step writes no bytes; an empty array may have no backing store, so it gets this one
  uint8_t fin[kTag];
  bool ok = c.ok && EVP_EncryptInit_ex(c.seal, nullptr, nullptr, k.data, nonce.data) == 1 &&
            (ad.len == 0 || EVP_EncryptUpdate(c.seal, nullptr, &n, ad.data, (int)ad.len) == 1) &&
            (p.len == 0 || EVP_EncryptUpdate(c.seal, out.data, &n, p.data, (int)p.len) == 1) &&
            EVP_EncryptFinal_ex(c.seal, fin, &n) == 1 &&
            EVP_CIPHER_CTX_ctrl(c.seal, EVP_CTRL_GCM_GET_TAG, kTag, out.data + p.len) == 1;
  return Napi::Boolean::New(info.Env(), ok);
}

// gcmOpen(key16, nonce12, sealed, ad, out) → false when the tag does not match; out is sealed's length - 16
Napi::Value GcmOpen(const Napi::CallbackInfo &info) {
  Bytes k = ArgBytes(info, 0, 16), nonce = ArgBytes(info, 1, 12), s = ArgBytes(info, 2), ad = ArgBytes(info, 3), out = ArgBytes(info, 4);
  if (!k.ok || !nonce.ok || !s.ok || !ad.ok || !out.ok) return Napi::Value();
  if (s.len < (size_t)kTag || out.len != s.len - kTag || s.len > INT32_MAX || ad.len > INT32_MAX)
    return Fail(info, "gcmOpen: sealed must hold a tag and out its plaintext");
  Contexts &c = Ctx();
  size_t m = s.len - kTag;
  int n = 0;
  uint8_t tag[kTag], fin[kTag];
  memcpy(tag, s.data + m, kTag);
  bool ok = c.ok && EVP_DecryptInit_ex(c.open, nullptr, nullptr, k.data, nonce.data) == 1 &&
            (ad.len == 0 || EVP_DecryptUpdate(c.open, nullptr, &n, ad.data, (int)ad.len) == 1) &&
            (m == 0 || EVP_DecryptUpdate(c.open, out.data, &n, s.data, (int)m) == 1) &&
            EVP_CIPHER_CTX_ctrl(c.open, EVP_CTRL_GCM_SET_TAG, kTag, tag) == 1 &&
            EVP_DecryptFinal_ex(c.open, fin, &n) == 1;
  return Napi::Boolean::New(info.Env(), ok);
}
