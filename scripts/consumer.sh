#!/usr/bin/env bash
# What an embedder gets: pack this package (prepack builds the prebuilt addon), install the tarball
# into an empty project with install scripts disabled, and check that it imports, runs an example and
# uses the native backend, from the prebuild, without compiling anything.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tarball="$tmp/$(npm pack --silent --pack-destination "$tmp" | tail -1)"
files=$(tar -tzf "$tarball")
echo "tarball: $(basename "$tarball"), $(stat -c %s "$tarball") bytes, $(echo "$files" | wc -l) files"
# nothing of the tests, the build tree or the sources' intermediates
if echo "$files" | grep -E '^package/(test|build|build-asan|dist-check|examples)/|\.test\.|tsbuildinfo'; then
  echo 'the tarball carries files it should not' >&2
  exit 1
fi
echo "$files" | grep '^package/prebuilds/linux-x64/' >/dev/null || { echo 'no linux-x64 prebuild in the tarball' >&2; exit 1; }
mkdir "$tmp/app"
cd "$tmp/app"
npm init -y >/dev/null
start=$(date +%s%N)
npm install --ignore-scripts --no-audit --no-fund "$tarball" >/dev/null
echo "install with --ignore-scripts: $(( ($(date +%s%N) - start) / 1000000 )) ms"
test ! -e node_modules/ethp2p/build || { echo 'something was compiled at install' >&2; exit 1; }
backend=$(node --input-type=module -e "import { backend } from 'ethp2p'; console.log(backend.name)")
echo "backend: $backend"
test "$backend" = native
npx --no-install ethp2p info | grep 'loaded (prebuilt' >/dev/null || { echo 'the addon did not come from the prebuild' >&2; exit 1; }
cp "$repo/examples/custom-protocol.mjs" .
test "$(node custom-protocol.mjs | tail -1)" = 'counter: done'
echo 'consumer: ok'
