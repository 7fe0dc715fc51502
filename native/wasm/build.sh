#!/usr/bin/env bash
# Rebuilds native/wasm/ethp2p.wasm from the same C core as the addon (native/*.c) plus the
# libsecp256k1 and XKCP keccak sources that the `secp256k1` and `keccak` packages ship (native/secp.c
# compiles libsecp256k1's secp256k1.c into itself).
# Needs Debian's: clang lld wasi-libc libclang-rt-14-dev-wasm32. The output is committed, so
# machines without a compiler still get the WASM backend.
set -euo pipefail
cd "$(dirname "$0")/../.."
secp="$(node -p "require('path').dirname(require.resolve('secp256k1/package.json'))")/src/secp256k1"
keccak="$(node -p "require('path').dirname(require.resolve('keccak/package.json'))")/src/libkeccak-64"
# wasm32 has native 64-bit integers, so XKCP's 64-bit permutation fits; libsecp256k1 uses the
# 32-bit field and scalar (no __int128 on wasm32). A 4 MiB stack: context creation overflows 64 KiB.
clang --target=wasm32-wasi -mexec-model=reactor -O3 -flto \
  -isystem /usr/include/wasm32-wasi -L/usr/lib/wasm32-wasi \
  -I"$secp" -I"$secp/src" -I"$secp/include" -I"$keccak" -Inative \
  -DECMULT_GEN_PREC_BITS=4 -DECMULT_WINDOW_SIZE=15 -DENABLE_MODULE_ECDH=1 -DENABLE_MODULE_RECOVERY=1 \
  -DUSE_ENDOMORPHISM=1 -DUSE_NUM_NONE=1 -DUSE_FIELD_INV_BUILTIN=1 -DUSE_SCALAR_INV_BUILTIN=1 \
  -DUSE_FIELD_10X26=1 -DUSE_SCALAR_8X32=1 -DUSE_EXTERNAL_DEFAULT_CALLBACKS=1 \
  -Wno-unused-function \
  "$keccak/KeccakSpongeWidth1600.c" "$keccak/KeccakP-1600-opt64.c" \
  native/hash.c native/modinv.c native/secp.c native/packet.c native/distance.c native/wasm/callbacks.c \
  -Wl,-z,stack-size=4194304 -Wl,--export=malloc -Wl,--export=free -Wl,--strip-all \
  -o native/wasm/ethp2p.wasm
node -e "
const m = new WebAssembly.Module(require('fs').readFileSync('native/wasm/ethp2p.wasm'));
const imports = WebAssembly.Module.imports(m);
if (imports.length) { console.error('wasm module must have no imports, has', imports); process.exit(1) }
console.log('native/wasm/ethp2p.wasm', require('fs').statSync('native/wasm/ethp2p.wasm').size, 'bytes, no imports')"
