#!/usr/bin/env bash
# make bench: builds the module for lua5.4 and LuaJIT and runs the anchor harness from
# ../shared/anchors with this project's benchmarks (bench/extra.sh) in the same run.
#   REPS=3 ONLY='sign|json|c_post|node_post|upload|extra' bash bench/run.sh
set -uo pipefail
cd "$(dirname "$0")/.."
SHARED=${SOCIALPUSH_SHARED:-../shared}
make -s build LUA=lua5.4 && make -s build LUA=luajit || exit 1
EXTRA_ANCHORS="$PWD/bench/extra.sh" REPS=${REPS:-3} bash "$SHARED/anchors/run-anchors.sh"
