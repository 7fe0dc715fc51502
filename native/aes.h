#ifndef ETHP2P_AES_H
#define ETHP2P_AES_H
#include <napi.h>
Napi::Value AesCtr(const Napi::CallbackInfo &info);
Napi::Value V5Header(const Napi::CallbackInfo &info);
Napi::Value GcmSeal(const Napi::CallbackInfo &info);
Napi::Value GcmOpen(const Napi::CallbackInfo &info);
#endif
