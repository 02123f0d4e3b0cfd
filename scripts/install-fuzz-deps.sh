#!/bin/sh
# Installs what `make fuzz` needs beyond scripts/install-deps.sh: clang with
# its libFuzzer and sanitizer runtimes.  Not a test dependency: only the fuzz
# targets run it.  Skips quickly when clang can already build a fuzz target.
set -eu

probe() {
  command -v clang >/dev/null 2>&1 || return 1
  d=$(mktemp -d)
  printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n){return 0;}\n' >"$d/p.c"
  clang -fsanitize=fuzzer,address,undefined "$d/p.c" -o "$d/p" >/dev/null 2>&1
  r=$?
  rm -rf "$d"
  return $r
}

probe && exit 0
echo "install-fuzz-deps: installing clang (libFuzzer)" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Debian 12: libFuzzer and the sanitizer runtimes are in libclang-rt-<N>-dev.
ver=$(apt-cache depends clang 2>/dev/null | sed -n 's/.*Depends: clang-\([0-9]*\)$/\1/p' | head -1)
pkgs="clang"
[ -n "$ver" ] && pkgs="$pkgs libclang-rt-$ver-dev"
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
probe || { echo "install-fuzz-deps: clang cannot build a libFuzzer target" >&2; exit 1; }
