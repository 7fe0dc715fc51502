#ifndef ETHP2P_ECIES_H
#define ETHP2P_ECIES_H
#include <napi.h>
Napi::Value EciesEncrypt(const Napi::CallbackInfo &info);
Napi::Value EciesDecrypt(const Napi::CallbackInfo &info);
#endif
