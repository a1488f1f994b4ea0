#!/usr/bin/env bash
# Runs busted under one interpreter and prints "N passed, N failed" as its last line.
# usage: scripts/test.sh LUA [ROOT...]      e.g. scripts/test.sh lua5.4 spec/unit
# The module must be built in build/$LUA (make build LUA=...). Integration specs start
# the sandbox once per run (spec/helpers/init.lua); SOCIALPUSH_SANDBOX reuses one.
set -uo pipefail
cd "$(dirname "$0")/.."
LUA=${1:-lua5.4}; shift || true
ROOTS=("$@"); [ ${#ROOTS[@]} -eq 0 ] && ROOTS=(spec)
BUSTED=$(command -v busted)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# busted's TAP: "ok N - name", "not ok N - name"; load errors show as "not ok" too
CPATH_DIR=${SP_CPATH_DIR:-build/$LUA}   # the sanitizer job points this at its own build
# shellcheck disable=SC2086  # command prefixes: VALGRIND (.ci/valgrind.sh), SP_RUN_PREFIX (.ci/sanitize.sh)
${SP_RUN_PREFIX:-} ${VALGRIND:-} "$LUA" "$BUSTED" --cpath="$CPATH_DIR/?.so" -o TAP "${ROOTS[@]}" 2>&1 | tee "$out" \
  | grep -E -v '^ok [0-9]+' || true
status=${PIPESTATUS[0]}
passed=$(grep -c -E '^ok [0-9]+' "$out" || true)
failed=$(grep -c -E '^not ok [0-9]+' "$out" || true)
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then failed=1; echo "no spec ran" >&2; fi
echo "$LUA: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
