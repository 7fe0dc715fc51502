// N-API entry points: argument checks, result buffers, and the libuv-pool batch verifier.
#include <napi.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "KeccakSpongeWidth1600.h"
#include "aes.h"
#include "args.h"
#include "core.h"
#include "ecies.h"
#include "frame.h"

namespace {

// Results go into an output array the caller passes (JS keeps one reusable scratch array per size and
// copies out of it): creating a Node Buffer from C++ costs about a microsecond, more than a keccak.

// keccak256(data, out32)
Napi::Value Keccak256(const Napi::CallbackInfo &info) {
  Bytes d = ArgBytes(info, 0), out = ArgBytes(info, 1, 32);
  if (!d.ok || !out.ok) return Napi::Value();
  ep_keccak256(d.data, d.len, out.data);
  return info.Env().Undefined();
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
  // digest(out32)
  Napi::Value Digest(const Napi::CallbackInfo &info) {
    Bytes out = ArgBytes(info, 0, 32);
    if (!out.ok) return Napi::Value();
    ep_keccak_digest(&state_, out.data);
    return info.Env().Undefined();
  }
  KeccakWidth1600_SpongeInstance state_;
};

// sign(hash, priv, out65) → false for an invalid private key
Napi::Value Sign(const Napi::CallbackInfo &info) {
  Bytes h = ArgBytes(info, 0, 32), k = ArgBytes(info, 1, 32), out = ArgBytes(info, 2, 65);
  if (!h.ok || !k.ok || !out.ok) return Napi::Value();
  return Napi::Boolean::New(info.Env(), ep_sign(h.data, k.data, out.data) == 1);
}

// recover(hash, sig64, recid, out64) → false when no key can be recovered
Napi::Value Recover(const Napi::CallbackInfo &info) {
  Bytes h = ArgBytes(info, 0, 32), s = ArgBytes(info, 1, 64), out = ArgBytes(info, 3, 64);
  if (!h.ok || !s.ok || !out.ok) return Napi::Value();
  if (!info[2].IsNumber()) {
    Napi::TypeError::New(info.Env(), "recovery id must be a number").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  return Napi::Boolean::New(info.Env(), ep_recover(h.data, s.data, info[2].As<Napi::Number>().Int32Value(), out.data) == 1);
}

// ecdh(priv, pub64, out32) → false for an invalid key
Napi::Value Ecdh(const Napi::CallbackInfo &info) {
  Bytes k = ArgBytes(info, 0, 32), p = ArgBytes(info, 1, 64), out = ArgBytes(info, 2, 32);
  if (!k.ok || !p.ok || !out.ok) return Napi::Value();
  return Napi::Boolean::New(info.Env(), ep_ecdh(k.data, p.data, out.data) == 1);
}

// ecdhPoint(priv, pub33|64, out33) → false when pub is no point
Napi::Value EcdhPoint(const Napi::CallbackInfo &info) {
  Bytes k = ArgBytes(info, 0, 32), p = ArgBytes(info, 1), out = ArgBytes(info, 2, 33);
  if (!k.ok || !p.ok || !out.ok) return Napi::Value();
  return Napi::Boolean::New(info.Env(), ep_ecdh_point(k.data, p.data, p.len, out.data) == 1);
}

// publicKeyParse(pub33|64, out64) → false when pub is no point
Napi::Value PublicKeyParse(const Napi::CallbackInfo &info) {
  Bytes p = ArgBytes(info, 0), out = ArgBytes(info, 1, 64);
  if (!p.ok || !out.ok) return Napi::Value();
  return Napi::Boolean::New(info.Env(), ep_pubkey_parse(p.data, p.len, out.data) == 1);
}

// verify(hash32, sig64, pub33|64) → true for a valid low-s signature by pub
Napi::Value Verify(const Napi::CallbackInfo &info) {
  Bytes h = ArgBytes(info, 0, 32), sg = ArgBytes(info, 1, 64), p = ArgBytes(info, 2);
  if (!h.ok || !sg.ok || !p.ok) return Napi::Value();
  return Napi::Boolean::New(info.Env(), ep_verify(h.data, sg.data, p.data, p.len) == 1);
}

// publicKey(priv, out64) → false for an invalid private key
Napi::Value PublicKey(const Napi::CallbackInfo &info) {
  Bytes k = ArgBytes(info, 0, 32), out = ArgBytes(info, 1, 64);
  if (!k.ok || !out.ok) return Napi::Value();
  return Napi::Boolean::New(info.Env(), ep_pubkey(k.data, out.data) == 1);
}

// modInverse(modulus 0 = p | 1 = n, in32, out32) → false when in has no inverse (for tests of modinv.c)
Napi::Value ModInverse(const Napi::CallbackInfo &info) {
  Bytes in = ArgBytes(info, 1, 32), out = ArgBytes(info, 2, 32);
  if (!in.ok || !out.ok) return Napi::Value();
  if (!info[0].IsNumber()) {
    Napi::TypeError::New(info.Env(), "modulus must be 0 (p) or 1 (n)").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  return Napi::Boolean::New(info.Env(), ep_modinv(info[0].As<Napi::Number>().Int32Value() != 0, in.data, out.data) == 1);
}

Napi::Value PublicKeyValid(const Napi::CallbackInfo &info) {
  Bytes p = ArgBytes(info, 0, 64);
  if (!p.ok) return Napi::Value();
  return Napi::Boolean::New(info.Env(), ep_pubkey_valid(p.data) == 1);
}

// sealPacket(datagram, priv) → false for an invalid private key. The datagram is laid out as discv4 sends
// it, hash(32) ‖ sig(65) ‖ type ‖ rlp, with the front 97 bytes to fill: both hashes and the signature in
// one crossing, written in place (encoding a packet took three crossings and three copies around them).
Napi::Value SealPacket(const Napi::CallbackInfo &info) {
  Bytes d = ArgBytes(info, 0), k = ArgBytes(info, 1, 32);
  if (!d.ok || !k.ok) return Napi::Value();
  if (d.len < 98) {
    Napi::RangeError::New(info.Env(), "datagram must be at least 98 bytes (header and type)").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  uint8_t h[32];
  ep_keccak256(d.data + 97, d.len - 97, h);
  if (ep_sign(h, k.data, d.data + 32) != 1) return Napi::Boolean::New(info.Env(), false);
  // the recovery id as discv4 carries it (0 or 1; low s)
  d.data[96] &= 1;
  ep_keccak256(d.data + 32, d.len - 32, d.data);
  return Napi::Boolean::New(info.Env(), true);
}

Napi::Value VerifyPacket(const Napi::CallbackInfo &info) {
  Bytes d = ArgBytes(info, 0), out = ArgBytes(info, 1, 64);
  if (!d.ok || !out.ok) return Napi::Value();
  return Napi::Number::New(info.Env(), ep_verify_packet(d.data, d.len, out.data));
}

// verifyPacketFrom(datagram, expected 64, out 64): verifyPacket for a datagram likely signed by `expected`
Napi::Value VerifyPacketFrom(const Napi::CallbackInfo &info) {
  Bytes d = ArgBytes(info, 0), want = ArgBytes(info, 1, 64), out = ArgBytes(info, 2, 64);
  if (!d.ok || !want.ok || !out.ok) return Napi::Value();
  return Napi::Number::New(info.Env(), ep_verify_packet_from(d.data, d.len, want.data, out.data));
}

// One batch shared by several libuv pool workers. Each worker takes the next unverified datagram from an
// atomic index, so a worker whose core is busy with something else simply verifies fewer: the batch
// finishes when the last datagram does, not when the slowest fixed-size chunk does.
struct VerifyItem {
  const uint8_t *data;
  size_t len;
  const uint8_t *expected;  // the likely signer (64 bytes), or null
};

struct VerifyJob {
  std::vector<VerifyItem> items;
  int32_t *status = nullptr;
  uint8_t *keys = nullptr;
  std::atomic<size_t> next{0};
  // touched on the main thread only (OnOK / OnError)
  uint32_t running = 0;
  bool failed = false;
  Napi::Promise::Deferred deferred;
  Napi::ObjectReference keep;  // the datagrams and output arrays stay reachable (their memory put) until done

  explicit VerifyJob(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
};

class VerifyWorker : public Napi::AsyncWorker {
 public:
  VerifyWorker(Napi::Env env, std::shared_ptr<VerifyJob> job) : Napi::AsyncWorker(env), job_(std::move(job)) {}
  void Execute() override {
    VerifyJob &j = *job_;
    for (size_t i; (i = j.next.fetch_add(1, std::memory_order_relaxed)) < j.items.size();) {
      const VerifyItem &it = j.items[i];
      j.status[i] = it.expected ? ep_verify_packet_from(it.data, it.len, it.expected, j.keys + 64 * i)
                                : ep_verify_packet(it.data, it.len, j.keys + 64 * i);
    }
  }
  void OnOK() override {
    if (--job_->running == 0 && !job_->failed) job_->deferred.Resolve(Env().Undefined());
  }
  void OnError(const Napi::Error &e) override {
    --job_->running;
    if (!job_->failed) job_->deferred.Reject(e.Value());
    job_->failed = true;
  }

 private:
  std::shared_ptr<VerifyJob> job_;
};

// verifyBatch(datagrams, status Int32Array, keys Uint8Array n×64, workers[, expected]): a promise settled once
// every datagram's status and signer key are written; expected[i], when a 64-byte Uint8Array, is datagram
// i's likely signer (see ep_verify_packet_from)
Napi::Value VerifyBatch(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray() || !info[1].IsTypedArray() ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array || !info[3].IsNumber()) {
    Napi::TypeError::New(env, "verifyBatch(datagrams[], Int32Array, Uint8Array, workers)").ThrowAsJavaScriptException();
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
  bool hints = info.Length() > 4 && info[4].IsArray();
  Napi::Array expected = hints ? info[4].As<Napi::Array>() : Napi::Array();
  if (hints && expected.Length() != n) {
    Napi::RangeError::New(env, "expected must have one entry per datagram").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  auto job = std::make_shared<VerifyJob>(env);
  job->items.reserve(n);
  for (uint32_t i = 0; i < n; i++) {
    Napi::Value v = arr[i];
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      Napi::TypeError::New(env, "every datagram must be a Uint8Array").ThrowAsJavaScriptException();
      return Napi::Value();
    }
    Napi::Uint8Array d = v.As<Napi::Uint8Array>();
    const uint8_t *want = nullptr;
    if (hints) {
      Napi::Value e = expected[i];
      if (e.IsTypedArray() && e.As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array) {
        Napi::Uint8Array k = e.As<Napi::Uint8Array>();
        if (k.ByteLength() != 64) {
          Napi::RangeError::New(env, "an expected signer must be 64 bytes").ThrowAsJavaScriptException();
          return Napi::Value();
        }
        want = k.Data();
      } else if (!e.IsUndefined()) {
        Napi::TypeError::New(env, "an expected signer must be a Uint8Array or undefined").ThrowAsJavaScriptException();
        return Napi::Value();
      }
    }
    job->items.push_back({d.Data(), d.ByteLength(), want});
  }
  job->status = status.Data();
  job->keys = keys.data;
  Napi::Object keep = Napi::Object::New(env);
  keep.Set("d", arr);
  keep.Set("s", status);
  keep.Set("k", info[2]);
  if (hints) keep.Set("e", expected);
  job->keep = Napi::Persistent(keep);
  // never more workers than datagrams, never fewer than one, and a sane cap on pool threads taken
  int64_t want = info[3].As<Napi::Number>().Int64Value();
  uint32_t workers = (uint32_t)(want < 1 ? 1 : want > 16 ? 16 : want);
  if (workers > n) workers = n > 0 ? n : 1;
  job->running = workers;
  Napi::Promise p = job->deferred.Promise();
  for (uint32_t w = 0; w < workers; w++) (new VerifyWorker(env, job))->Queue();
  return p;
}

// One batch of datagrams to seal (see SealPacket), shared by several pool workers like VerifyJob.
struct SealJob {
  std::vector<std::pair<uint8_t *, size_t>> items;
  uint8_t key[32];
  std::atomic<size_t> next{0};
  std::atomic<bool> bad{false};
  uint32_t running = 0;  // main thread only
  Napi::Promise::Deferred deferred;
  Napi::ObjectReference keep;

  explicit SealJob(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
};

class SealWorker : public Napi::AsyncWorker {
 public:
  SealWorker(Napi::Env env, std::shared_ptr<SealJob> job) : Napi::AsyncWorker(env), job_(std::move(job)) {}
  void Execute() override {
    SealJob &j = *job_;
    for (size_t i; (i = j.next.fetch_add(1, std::memory_order_relaxed)) < j.items.size();) {
      uint8_t *d = j.items[i].first;
      size_t len = j.items[i].second;
      uint8_t h[32];
      ep_keccak256(d + 97, len - 97, h);
      if (ep_sign(h, j.key, d + 32) != 1) {
        j.bad.store(true, std::memory_order_relaxed);
        continue;
      }
      d[96] &= 1;
      ep_keccak256(d + 32, len - 32, d);
    }
  }
  void OnOK() override {
    if (--job_->running > 0) return;
    if (job_->bad.load()) job_->deferred.Reject(Napi::Error::New(Env(), "signing failed (invalid private key)").Value());
    else job_->deferred.Resolve(Env().Undefined());
  }

 private:
  std::shared_ptr<SealJob> job_;
};

// sealBatch(datagrams, priv, workers): a promise settled once every datagram is sealed in place (as
// sealPacket does), on up to `workers` pool threads
Napi::Value SealBatch(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray() || !info[2].IsNumber()) {
    Napi::TypeError::New(env, "sealBatch(datagrams[], priv, workers)").ThrowAsJavaScriptException();
    return Napi::Value();
  }
  Bytes k = ArgBytes(info, 1, 32);
  if (!k.ok) return Napi::Value();
  Napi::Array arr = info[0].As<Napi::Array>();
  uint32_t n = arr.Length();
  auto job = std::make_shared<SealJob>(env);
  memcpy(job->key, k.data, 32);
  job->items.reserve(n);
  for (uint32_t i = 0; i < n; i++) {
    Napi::Value v = arr[i];
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array ||
        v.As<Napi::Uint8Array>().ByteLength() < 98) {
      Napi::TypeError::New(env, "every datagram must be a Uint8Array of at least 98 bytes").ThrowAsJavaScriptException();
      return Napi::Value();
    }
    Napi::Uint8Array d = v.As<Napi::Uint8Array>();
    job->items.emplace_back(d.Data(), d.ByteLength());
  }
  Napi::Object keep = Napi::Object::New(env);
  keep.Set("d", arr);
  job->keep = Napi::Persistent(keep);
  int64_t want = info[2].As<Napi::Number>().Int64Value();
  uint32_t workers = (uint32_t)(want < 1 ? 1 : want > 16 ? 16 : want);
  if (workers > n) workers = n > 0 ? n : 1;
  job->running = workers;
  Napi::Promise p = job->deferred.Promise();
  for (uint32_t w = 0; w < workers; w++) (new SealWorker(env, job))->Queue();
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
  exports.Set("ecdhPoint", Napi::Function::New(env, EcdhPoint));
  exports.Set("publicKeyParse", Napi::Function::New(env, PublicKeyParse));
  exports.Set("verify", Napi::Function::New(env, Verify));
  exports.Set("modInverse", Napi::Function::New(env, ModInverse));
  exports.Set("verifyPacket", Napi::Function::New(env, VerifyPacket));
  exports.Set("verifyPacketFrom", Napi::Function::New(env, VerifyPacketFrom));
  exports.Set("sealPacket", Napi::Function::New(env, SealPacket));
  exports.Set("sealBatch", Napi::Function::New(env, SealBatch));
  exports.Set("verifyBatch", Napi::Function::New(env, VerifyBatch));
  exports.Set("eciesEncrypt", Napi::Function::New(env, EciesEncrypt));
  exports.Set("eciesDecrypt", Napi::Function::New(env, EciesDecrypt));
  exports.Set("FrameCipher", FrameCipher::Init(env));
  exports.Set("closest", Napi::Function::New(env, Closest));
  exports.Set("aesCtr", Napi::Function::New(env, AesCtr));
  exports.Set("v5Header", Napi::Function::New(env, V5Header));
  exports.Set("gcmSeal", Napi::Function::New(env, GcmSeal));
  exports.Set("gcmOpen", Napi::Function::New(env, GcmOpen));
  return exports;
}

}  // namespace

NODE_API_MODULE(ethp2p, Init)
