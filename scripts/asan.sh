#!/usr/bin/env bash
# The native addon under AddressSanitizer + UndefinedBehaviorSanitizer, and the tests that drive it.
#
# The addon is built from a copy of binding.gyp in build-asan/ (node-gyp always builds into
# <dir>/build), so build/Release, which everyone else loads, is never touched and binding.gyp stays
# as it is: the sanitizer flags come in through CFLAGS/CXXFLAGS/LDFLAGS, which gyp's Makefiles append
# after the targets' own flags (so -O1 wins over -O3). Node itself is not instrumented, so the ASan
# runtime must be the first library loaded: LD_PRELOAD. Leak detection is off because V8 and Node keep
# allocations alive until exit on purpose; every other ASan/UBSan finding aborts the test process.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=build-asan

san='-fsanitize=address,undefined -fno-omit-frame-pointer -g -O1'
rm -rf "$out"
mkdir -p "$out"
cp binding.gyp "$out/"
ln -s ../native "$out/native"
# node-gyp ships inside npm; npm exposes it to scripts on PATH, plain shells may not have it
gyp=$(command -v node-gyp || echo "$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js")
# headers of the running Node when it ships them (distro builds), else node-gyp's usual download
prefix=$(node -p 'require("path").resolve(process.execPath, "../..")')
nodedir=()
[ -f "$prefix/include/node/node_api.h" ] && nodedir=(--nodedir="$prefix")
# secp256k1's x86-64 field assembly needs more free registers than ASan leaves it ("impossible
# constraints"); -U after gyp's -D drops it here only, and the portable C field code that replaces it
# is instrumented, which the assembly would not be
(cd "$out" && CFLAGS="$san -UUSE_ASM_X86_64" CXXFLAGS="$san" LDFLAGS="-fsanitize=address,undefined" node "$gyp" rebuild "${nodedir[@]}" --jobs=2 >build.log 2>&1) || {
  tail -40 "$out/build.log"
  exit 1
}

export ETHP2P_ADDON=$root/$out/build/Release/ethp2p.node
export ETHP2P_BACKEND=native
export LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1
# XKCP's 64-bit keccak (the `keccak` package's code, compiled as shipped) reads lanes at unaligned
# addresses on purpose, which x86-64 allows; that one check in that one file is waived. Suppressions
# apply only to recoverable checks, hence halt_on_error instead of -fno-sanitize-recover.
printf 'alignment:KeccakP-1600-opt64.c\n' >"$out/ubsan.supp"
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:suppressions=$root/$out/ubsan.supp
# make sure the sanitizer build (not build/Release) is the one that loads, before trusting a green run
node --import tsx --input-type=module -e "
  const { loadBackend, addonStatus } = await import('./src/crypto/backend.ts')
  const s = addonStatus(); if (!s.loaded) throw new Error('ASan addon did not load: ' + s.error)
  loadBackend('native').keccak256(new Uint8Array(1))
  console.log('asan: addon', process.env.ETHP2P_ADDON)"
tests=$(find test/crypto test/discover/wire.test.ts test/rlpx test/fuzz -name '*.test.ts' | sort)
exec node --import tsx --test --test-concurrency=2 $tests
