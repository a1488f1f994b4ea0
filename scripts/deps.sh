#!/usr/bin/env bash
# Installs every Debian package socialpush needs to build, test, run its demo,
# sandbox and benchmarks. Idempotent: does nothing when all are present.
# Runs as root, or through sudo when it is available.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config clang libclang-rt-14-dev
  lua5.1 liblua5.1-0-dev lua5.3 liblua5.3-dev lua5.4 liblua5.4-dev
  luajit2 libluajit2-5.1-dev
  libcurl4-openssl-dev libssl-dev openssl curl ca-certificates
  lua-busted lua-cjson lua-check luarocks
  nginx libnginx-mod-http-lua
  valgrind cppcheck time
  unicode-data
  lua-dkjson lua-argparse lua-ldoc
  redis-server libhiredis-dev
  tmux
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "deps.sh: need root or sudo to install: ${missing[*]}" >&2; exit 1
  fi
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
# luajit (Debian's) conflicts with luajit2 (OpenResty's, which nginx's Lua module needs)
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts the packaged nginx on port 80; the sandbox runs its own instances
if pgrep -x nginx >/dev/null 2>&1 && [ -f /run/nginx.pid ]; then
  $SUDO nginx -s stop 2>/dev/null || true
fi
