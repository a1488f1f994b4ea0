#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) and runs each for a bounded time,
# seeded from the JSONTestSuite corpus. Prints "N passed, N failed" (one per target).
set -uo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-45}
B=build/fuzz
SHARED=${SOCIALPUSH_SHARED:-../shared}
cmake -S . -B $B -DLUA=lua5.4 -DSP_FUZZ=ON -DCMAKE_C_COMPILER=clang >/dev/null && cmake --build $B -j2 >/dev/null || {
  echo "fuzz build: 0 passed, 1 failed"; exit 1; }
passed=0; failed=0
for t in $B/fuzz_*; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  corpus=$(mktemp -d)
  case $name in
    fuzz_json) cp "$SHARED"/specs/jsontestsuite/test_parsing/*.json "$corpus"/ 2>/dev/null ;;
    *) [ -d "fuzz/corpus/$name" ] && cp fuzz/corpus/"$name"/* "$corpus"/ ;;
  esac
  if (cd "$corpus" && timeout $((SECS + 60)) "$OLDPWD/$t" -max_total_time="$SECS" -max_len=4096 \
      -rss_limit_mb=1024 -print_final_stats=0 . >"$corpus.log" 2>&1); then
    passed=$((passed + 1)); echo "$name: ok ($(grep -oE 'stat::number_of_executed_units: [0-9]+|#[0-9]+ +DONE.*' "$corpus.log" | tail -1))"
  else
    failed=$((failed + 1)); echo "$name: FAILED"; tail -40 "$corpus.log"
    ls "$corpus"/crash-* "$corpus"/leak-* 2>/dev/null
  fi
  rm -rf "$corpus" "$corpus.log"
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
