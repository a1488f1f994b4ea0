#!/usr/bin/env bash
# The project's side of the anchor benchmarks: run by ../shared/anchors/run-anchors.sh
# through EXTRA_ANCHORS (BENCH_URL, UPLOAD_FILE, CHUNK_BYTES, BENCH_DATA_DIR exported),
# pinned like the anchors. Prints "name value unit" lines.
set -uo pipefail
cd "$(dirname "$0")/.."
SECS=${BENCH_SECONDS:-2}
for l in lua5.4 luajit; do
  [ -f "build/$l/socialpush/core.so" ] || continue
  [ -f bench/json_bench.lua ] && "$l" bench/json_bench.lua 0.3 3
  [ -f bench/sign_bench.lua ] && "$l" bench/sign_bench.lua "$SECS"
done
[ -f bench/post_bench.lua ] && lua5.4 bench/post_bench.lua "$BENCH_URL" 40000
[ -f bench/upload_bench.lua ] && [ -n "${UPLOAD_FILE:-}" ] && lua5.4 bench/upload_bench.lua "$BENCH_URL" "$UPLOAD_FILE"
exit 0
