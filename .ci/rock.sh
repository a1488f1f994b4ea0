#!/usr/bin/env bash
# The builtin rockspec: lint, check it lists what CMake builds and every Lua module, then
# `luarocks make` into a scratch tree for Lua 5.4 and 5.1 and require the module from there
# (the sandbox included, without the source tree).
set -uo pipefail
cd "$(dirname "$0")/.."
R=rockspec/socialpush-scm-1.rockspec
passed=0; failed=0
check() { local what=$1; shift; if "$@"; then passed=$((passed+1)); echo "ok: $what"; else failed=$((failed+1)); echo "FAILED: $what"; fi; }

check "luarocks lint" luarocks lint "$R"
check "rockspec is generated from the tree (scripts/gen-rockspec.sh)" \
  bash -c 'tmp=$(mktemp); cp rockspec/socialpush-scm-1.rockspec "$tmp"; bash scripts/gen-rockspec.sh; diff -u "$tmp" rockspec/socialpush-scm-1.rockspec; rc=$?; rm -f "$tmp"; exit $rc'
cm=$(sed -n '/set(SP_SOURCES/,/)/p' CMakeLists.txt | grep -oE 'src/[a-z_]+\.c' | sort | tr '\n' ' ')
rs=$(sed -n '/\["socialpush.core"\]/,/}/p' "$R" | grep -oE 'src/[a-z_]+\.c' | sort | tr '\n' ' ')
check "CMake and rockspec build the same C sources" test "$cm" = "$rs"
missing=""
while read -r f; do
  m=${f#lua/}; m=${m%.lua}; m=${m%/init}; m=${m//\//.}
  grep -qF "[\"$m\"] = \"$f\"" "$R" || missing="$missing $m"
done < <(git ls-files 'lua/*.lua' | sort)
[ -n "$missing" ] && echo "not in the rockspec:$missing"
check "rockspec lists every Lua module" test -z "$missing"

for v in 5.4 5.1; do
  tree=$(mktemp -d)
  if luarocks --lua-version=$v --tree="$tree" make --deps-mode=none "$R" >"$tree.log" 2>&1; then
    lp="$tree/share/lua/$v/?.lua;$tree/share/lua/$v/?/init.lua"
    cp="$tree/lib/lua/$v/?.so"
    check "luarocks make + require on lua$v" \
      "lua$v" -e "package.path='$lp'; package.cpath='$cp'
        local sp = require 'socialpush'
        assert(sp._VERSION == require('socialpush.core')._VERSION)
        assert(debug.getinfo(sp.new, 'S').source:find('$tree', 1, true), 'loaded from outside the rock tree')
        local ok, sb = pcall(require, 'socialpush.sandbox')
        assert(ok, sb)
        print('socialpush ' .. sp._VERSION .. ' from the rock tree')"
  else
    cat "$tree.log"; check "luarocks make on lua$v" false
  fi
  rm -rf "$tree" "$tree.log"
done
# the builtin build leaves its output in the tree (./socialpush/core.so would shadow builds)
rm -rf socialpush src/*.o
echo "rock: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
