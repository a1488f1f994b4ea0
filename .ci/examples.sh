#!/usr/bin/env bash
# Runs every example against the local sandbox (no credentials in the environment), so
# that they cannot rot. Prints "N passed, N failed" (one per example).
set -uo pipefail
cd "$(dirname "$0")/.."
passed=0; failed=0
for f in examples/*.lua; do
  case $(basename "$f") in _*|demo.lua) continue ;; esac   # helpers; the demo has its own job
  if env -u FB_ACCESS_TOKEN -u X_CONSUMER_KEY -u X_BEARER_TOKEN -u LI_ACCESS_TOKEN -u PIN_ACCESS_TOKEN \
       -u YT_ACCESS_TOKEN -u ONEALL_SUBDOMAIN LUA_PATH="lua/?.lua;lua/?/init.lua;;" LUA_CPATH="build/lua5.4/?.so;;" \
       timeout 300 lua5.4 "$f" >/tmp/example.$$.log 2>&1; then
    passed=$((passed + 1)); echo "ok: $f"
  else
    failed=$((failed + 1)); echo "FAILED: $f"; tail -20 /tmp/example.$$.log
  fi
done
rm -f /tmp/example.$$.log
echo "examples: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
