#!/usr/bin/env bash
# valgrind (memcheck) over the JSON and signing specs on lua5.4; a report fails the run.
set -uo pipefail
cd "$(dirname "$0")/.."
specs=$(ls spec/unit/json*_spec.lua spec/unit/sign*_spec.lua spec/unit/core_spec.lua spec/unit/http_spec.lua 2>/dev/null)
VALGRIND="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite" \
  bash scripts/test.sh lua5.4 $specs
