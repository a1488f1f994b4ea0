#!/usr/bin/env bash
# ASan + UBSan build: the pure-C tests (ctest) and the busted specs with libasan preloaded
# into Debian's uninstrumented lua5.4.
#  - unit specs: leak detection on;
#  - integration specs: leak detection off (libcurl and OpenSSL keep process-wide state
#    that LeakSanitizer reports at exit), against a sandbox started before the preload.
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

# Child processes would inherit LD_PRELOAD, and uninstrumented tools (curl, pgrep, nginx)
# can hang under it: a second preloaded library removes it from the environment at start.
UNPRELOAD=$B/unpreload.so
gcc -shared -fPIC -O2 -Wall -Wextra -Werror -o "$UNPRELOAD" .ci/unpreload.c || exit 1

rm -rf build/asan-lua && mkdir -p build/asan-lua && ln -sf "$PWD/$B/socialpush" build/asan-lua/socialpush
# only the Lua process gets the preload (a prefix, not the environment of test.sh)
PRELOAD="env LD_PRELOAD=$(gcc -print-file-name=libasan.so):$PWD/$UNPRELOAD"
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=print_suppressions=0

ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=23 SP_RUN_PREFIX=$PRELOAD SP_CPATH_DIR=build/asan-lua \
  bash scripts/test.sh lua5.4 spec/unit
rc2=$?

SOCIALPUSH_SANDBOX=$(sandbox/run start --dir "$(mktemp -d)") || { echo "sandbox: 0 passed, 1 failed"; exit 1; }
export SOCIALPUSH_SANDBOX
sbdir=$(sed -nE 's/.*"dir":"([^"]+)".*/\1/p' <<<"$SOCIALPUSH_SANDBOX")
specs=$(ls spec/integration/*_spec.lua)
# shellcheck disable=SC2086
ASAN_OPTIONS=detect_leaks=0:abort_on_error=0:exitcode=23 SP_RUN_PREFIX=$PRELOAD SP_CPATH_DIR=build/asan-lua \
  bash scripts/test.sh lua5.4 $specs
rc3=$?
sandbox/run stop --dir "$sbdir" >/dev/null
rm -rf "$sbdir"
[ "$rc" -eq 0 ] && [ "$rc2" -eq 0 ] && [ "$rc3" -eq 0 ]
