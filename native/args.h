// Boundary checks for the addon: JS is expected to pass valid arguments (backend.ts checks them),
// but a wrong call must become a JS exception, never a read past a buffer in C++.
#ifndef ETHP2P_ARGS_H
#define ETHP2P_ARGS_H

#include <napi.h>

#include <cstddef>
#include <cstdint>

struct Bytes {
  uint8_t *data = nullptr;
  size_t len = 0;
  bool ok = false;
};

// a Uint8Array (or Buffer) argument; exact length when want != SIZE_MAX
inline Bytes ArgBytes(const Napi::CallbackInfo &info, size_t i, size_t want = SIZE_MAX) {
  Bytes b;
  Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be a Uint8Array")
        .ThrowAsJavaScriptException();
    return b;
  }
  Napi::Uint8Array a = v.As<Napi::Uint8Array>();
  if (want != SIZE_MAX && a.ByteLength() != want) {
    Napi::RangeError::New(info.Env(), "argument " + std::to_string(i) + " must be " + std::to_string(want) + " bytes")
        .ThrowAsJavaScriptException();
    return b;
  }
  b.data = a.Data();
  b.len = a.ByteLength();
  b.ok = true;
  return b;
}

#endif
