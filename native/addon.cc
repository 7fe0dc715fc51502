// N-API entry points: argument checks, result buffers, and the libuv-pool batch verifier.
#include <napi.h>

#include <utility>
#include <vector>

#include "KeccakSpongeWidth1600.h"
#include "args.h"
#include "core.h"
#include "ecies.h"
#include "frame.h"

namespace {

Napi::Value Keccak256(const Napi::CallbackInfo &info) {
  Bytes d = ArgBytes(info, 0);
  if (!d.ok) return Napi::Value();
  uint8_t out[32];
  ep_keccak256(d.data, d.len, out);
  return Copy(info.Env(), out, 32);
}

class Keccak : public Napi::ObjectWrap<Keccak> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Keccak", {InstanceMethod("update", &Keccak::Update), InstanceMethod("digest", &Keccak::Digest)});
  }
  explicit Keccak(const Napi::CallbackInfo &info) : Napi::ObjectWrap<Keccak>(info) { ep_keccak_init(&state_); }

 private:
  Napi::Value Update(const Napi::CallbackInfo &info) {
    Bytes d = ArgBytes(info, 0);
    if (!d.ok) return Napi::Value();
    ep_keccak_update(&state_, d.data, d.len);
    return info.Env().Undefined();
  }
  Napi::Value Digest(const Napi::CallbackInfo &info) {
    uint8_t out[32];
    ep_keccak_digest(&state_, out);
    return Copy(info.Env(), out, 32);
  }
  KeccakWidth1600_SpongeInstance state_;
};

Napi::Value Sign(const Napi::CallbackInfo &info) {
  Bytes h = ArgBytes(info, 0, 32), k = ArgBytes(info, 1, 32);
  if (!h.ok || !k.ok) return Napi::Value();
  uint8_t out[65];
  if (!ep_sign(h.data, k.data, out)) {
    Napi::Error::New(info.Env(), "signing failed (invalid private key)").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  return Copy(info.Env(), out, 65);
}

Napi::Value Recover(const Napi::CallbackInfo &info) {
  Bytes h = ArgBytes(info, 0, 32), s = ArgBytes(info, 1, 64);
  if (!h.ok || !s.ok) return Napi::Value();
  if (!info[2].IsNumber()) {
    Napi::TypeError::New(info.Env(), "recovery id must be a number").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  uint8_t out[64];
  if (!ep_recover(h.data, s.data, info[2].As<Napi::Number>().Int32Value(), out)) return info.Env().Null();
  return Copy(info.Env(), out, 64);
}

Napi::Value Ecdh(const Napi::CallbackInfo &info) {
  Bytes k = ArgBytes(info, 0, 32), p = ArgBytes(info, 1, 64);
  if (!k.ok || !p.ok) return Napi::Value();
  uint8_t out[32];
  if (!ep_ecdh(k.data, p.data, out)) return info.Env().Null();
  return Copy(info.Env(), out, 32);
}

Napi::Value PublicKey(const Napi::CallbackInfo &info) {
  Bytes k = ArgBytes(info, 0, 32);
  if (!k.ok) return Napi::Value();
  uint8_t out[64];
  if (!ep_pubkey(k.data, out)) {
    Napi::Error::New(info.Env(), "invalid private key").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  return Copy(info.Env(), out, 64);
}

Napi::Value PublicKeyValid(const Napi::CallbackInfo &info) {
  Bytes p = ArgBytes(info, 0, 64);
  if (!p.ok) return Napi::Value();
  return Napi::Boolean::New(info.Env(), ep_pubkey_valid(p.data) == 1);
}

Napi::Value VerifyPacket(const Napi::CallbackInfo &info) {
  Bytes d = ArgBytes(info, 0), out = ArgBytes(info, 1, 64);
  if (!d.ok || !out.ok) return Napi::Value();
  return Napi::Number::New(info.Env(), ep_verify_packet(d.data, d.len, out.data));
}

// Verifies a chunk of datagrams on a libuv pool thread; JS splits a batch into one chunk per core.
class VerifyWorker : public Napi::AsyncWorker {
 public:
  VerifyWorker(Napi::Env env, Napi::Object keep, std::vector<std::pair<const uint8_t *, size_t>> items, int32_t *status,
               uint8_t *keys)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), items_(std::move(items)), status_(status),
        keys_(keys) {
    // the datagrams and output arrays stay reachable (so their memory stays put) until OnOK
    keep_ = Napi::Persistent(keep);
  }
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
    for (size_t i = 0; i < items_.size(); i++)
      status_[i] = ep_verify_packet(items_[i].first, items_[i].second, keys_ + 64 * i);
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error &e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference keep_;
  std::vector<std::pair<const uint8_t *, size_t>> items_;
  int32_t *status_;
  uint8_t *keys_;
};

Napi::Value VerifyBatch(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray() || !info[1].IsTypedArray() ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    Napi::TypeError::New(env, "verifyBatch(datagrams[], Int32Array, Uint8Array)").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  Napi::Array arr = info[0].As<Napi::Array>();
  Napi::Int32Array status = info[1].As<Napi::Int32Array>();
  uint32_t n = arr.Length();
  Bytes keys = ArgBytes(info, 2, (size_t)n * 64);
  if (!keys.ok) return Napi::Value();
  if (status.ElementLength() != n) {
    Napi::RangeError::New(env, "status length must equal the number of datagrams").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  std::vector<std::pair<const uint8_t *, size_t>> items;
  items.reserve(n);
  for (uint32_t i = 0; i < n; i++) {
    Napi::Value v = arr[i];
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      Napi::TypeError::New(env, "every datagram must be a Uint8Array").ThrowAsJavaScriptException();
      return Napi::Value();
    }
    Napi::Uint8Array d = v.As<Napi::Uint8Array>();
    items.emplace_back(d.Data(), d.ByteLength());
  }
  Napi::Object keep = Napi::Object::New(env);
  keep.Set("d", arr);
  keep.Set("s", status);
  keep.Set("k", info[2]);
  auto *w = new VerifyWorker(env, keep, std::move(items), status.Data(), keys.data);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Value Closest(const Napi::CallbackInfo &info) {
  Bytes t = ArgBytes(info, 0, 32), ids = ArgBytes(info, 1);
  if (!t.ok || !ids.ok) return Napi::Value();
  if (ids.len % 32 != 0 || !info[2].IsNumber()) {
    Napi::RangeError::New(info.Env(), "closest(target32, ids n×32, k)").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  size_t n = ids.len / 32;
  int64_t kk = info[2].As<Napi::Number>().Int64Value();
  size_t k = kk < 0 ? 0 : (size_t)kk > n ? n : (size_t)kk;
  Napi::Uint32Array out = Napi::Uint32Array::New(info.Env(), k);
  ep_closest(t.data, ids.data, n, k, out.Data());
  return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  if (!ep_init()) {
    Napi::Error::New(env, "secp256k1 context creation failed").ThrowAsJavaScriptException();
    return exports;
  }
  exports.Set("keccak256", Napi::Function::New(env, Keccak256));
  exports.Set("Keccak", Keccak::Init(env));
  exports.Set("sign", Napi::Function::New(env, Sign));
  exports.Set("recover", Napi::Function::New(env, Recover));
  exports.Set("ecdh", Napi::Function::New(env, Ecdh));
  exports.Set("publicKey", Napi::Function::New(env, PublicKey));
  exports.Set("publicKeyValid", Napi::Function::New(env, PublicKeyValid));
  exports.Set("verifyPacket", Napi::Function::New(env, VerifyPacket));
  exports.Set("verifyBatch", Napi::Function::New(env, VerifyBatch));
  exports.Set("eciesEncrypt", Napi::Function::New(env, EciesEncrypt));
  exports.Set("eciesDecrypt", Napi::Function::New(env, EciesDecrypt));
  exports.Set("FrameCipher", FrameCipher::Init(env));
  exports.Set("closest", Napi::Function::New(env, Closest));
  return exports;
}

}  // namespace

NODE_API_MODULE(ethp2p, Init)
