#!/usr/bin/env bash
# ASan + UBSan build: the pure-C tests (ctest) and the busted specs with libasan preloaded
# into Debian's uninstrumented lua5.4.
#  - unit specs: leak detection on;
#  - integration specs: leak detection off, against a sandbox started before the preload.
#    Child processes inherit LD_PRELOAD, and the uninstrumented curl CLI (which the sandbox
#    helper and some specs run) hangs at exit under LeakSanitizer.
set -uo pipefail
cd "$(dirname "$0")/.."
B=build/asan
cmake -S . -B $B -DLUA=lua5.4 -DSP_SANITIZE=ON >/dev/null && cmake --build $B -j2 >/dev/null || {
  echo "sanitizer build: 0 passed, 1 failed"; exit 1; }
out=$(cd $B && ctest --output-on-failure 2>&1); rc=$?
echo "$out" | tail -15
total=$(sed -nE 's/.* tests passed, ([0-9]+) tests failed out of ([0-9]+).*/\2/p' <<<"$out")
failed=$(sed -nE 's/.* tests passed, ([0-9]+) tests failed out of ([0-9]+).*/\1/p' <<<"$out")
: "${total:=0}" "${failed:=0}"
[ "$rc" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
echo "ctest (asan): $((total - failed)) passed, $failed failed"

# Child processes inherit LD_PRELOAD; uninstrumented tools (the curl CLI above all) can hang
# under it. Wrappers first on PATH drop the preload before running the real tool.
wrap=$(mktemp -d)
trap 'rm -rf "$wrap"' EXIT
for t in curl openssl nginx sha256sum mktemp truncate dd head; do
  real=$(command -v "$t") || continue
  printf '#!/bin/sh\nunset LD_PRELOAD ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS\nexec %s "$@"\n' "$real" > "$wrap/$t"
  chmod +x "$wrap/$t"
done
export PATH="$wrap:$PATH"

rm -rf build/asan-lua && mkdir -p build/asan-lua && ln -sf "$PWD/$B/socialpush" build/asan-lua/socialpush
ASAN_LIB=$(gcc -print-file-name=libasan.so)
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=print_suppressions=0

ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=23 LD_PRELOAD=$ASAN_LIB SP_CPATH_DIR=build/asan-lua \
  bash scripts/test.sh lua5.4 spec/unit
rc2=$?

SOCIALPUSH_SANDBOX=$(sandbox/run start --dir "$(mktemp -d)") || { echo "sandbox: 0 passed, 1 failed"; exit 1; }
export SOCIALPUSH_SANDBOX
sbdir=$(sed -nE 's/.*"dir":"([^"]+)".*/\1/p' <<<"$SOCIALPUSH_SANDBOX")
# openresty_spec/gateway_spec run nginx's LuaJIT with the luajit build (not this module) and
# would start their nginx under the preload: they run in the ordinary jobs instead
specs=$(ls spec/integration/*_spec.lua | grep -v -E '/(openresty|gateway)_spec\.lua$')
# shellcheck disable=SC2086
ASAN_OPTIONS=detect_leaks=0:abort_on_error=0:exitcode=23 LD_PRELOAD=$ASAN_LIB SP_CPATH_DIR=build/asan-lua \
  bash scripts/test.sh lua5.4 $specs
rc3=$?
sandbox/run stop --dir "$sbdir" >/dev/null
rm -rf "$sbdir"
[ "$rc" -eq 0 ] && [ "$rc2" -eq 0 ] && [ "$rc3" -eq 0 ]
