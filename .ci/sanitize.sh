#!/usr/bin/env bash
# ASan + UBSan build: the pure-C tests (ctest) and the busted specs with libasan preloaded
# into Debian's uninstrumented lua5.4.
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
ASAN_LIB=$(gcc -print-file-name=libasan.so)
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=23
export LSAN_OPTIONS=suppressions=$PWD/.ci/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
mkdir -p build/lua5.4   # test.sh's cpath points at build/$LUA; use a link to the asan module
rm -rf build/asan-lua && mkdir -p build/asan-lua && ln -sf "$PWD/$B/socialpush" build/asan-lua/socialpush
LD_PRELOAD=$ASAN_LIB SP_CPATH_DIR=build/asan-lua bash scripts/test.sh lua5.4 spec
rc2=$?
[ "$rc" -eq 0 ] && [ "$rc2" -eq 0 ]
