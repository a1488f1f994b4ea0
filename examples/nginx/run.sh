#!/usr/bin/env bash
# Run the example gateway against the local sandbox (no accounts, nothing leaves the machine).
#   examples/nginx/run.sh start   builds a prefix in $PREFIX (default /tmp/socialpush-gateway),
#                                 starts the sandbox and nginx on 127.0.0.1:8080, prints a curl
#   examples/nginx/run.sh stop    stops both
# Needs nginx + libnginx-mod-http-lua and build/luajit/socialpush/core.so (make build LUA=luajit).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=$(cd "$here/../.." && pwd -P)
prefix=${PREFIX:-/tmp/socialpush-gateway}
nginx=${SOCIALPUSH_NGINX:-/usr/sbin/nginx}
TOKEN=f7c2e8a1-4b3d-4e5f-9a6b-7c8d9e0f1a2b      # the demo identity of identities.json

case "${1:-start}" in
start)
  [ -f "$repo/build/luajit/socialpush/core.so" ] || make -C "$repo" build LUA=luajit
  mkdir -p "$prefix/logs" "$prefix/tmp" "$prefix/lib"
  sb=$("$repo/sandbox/run" start --dir "$prefix/sandbox")
  ln -sfn "$repo/lua" "$prefix/lua"
  ln -sfn "$repo/build/luajit/socialpush" "$prefix/lib/socialpush"
  cp "$here/nginx.conf" "$here/push_gateway.lua" "$prefix/"
  cp "$prefix/sandbox/ca.pem" "$prefix/trusted.pem"      # production: the system CA bundle
  # the demo identity: the sandbox's fixture credentials for all five providers
  (umask 077; LUA_PATH="$repo/lua/?.lua;;" lua5.4 - "$TOKEN" > "$prefix/identities.json" <<'LUA'
local a = require "socialpush.sandbox.accounts"
local ids = { [arg[1]] = { facebook = a.facebook, twitter = a.twitter, linkedin = a.linkedin,
  pinterest = a.pinterest, youtube = a.youtube } }
io.write(require("socialpush.sandbox.minijson").encode(ids))
LUA
  )
  user=(); [ "$(id -u)" = 0 ] && user=(-g "user root;")   # workers must read the prefix
  SOCIALPUSH_SANDBOX="$sb" \
  SOCIALPUSH_GATEWAY_PUBLIC_KEY=demo-public-key \
  SOCIALPUSH_GATEWAY_PRIVATE_KEY=demo-private-key-change-me \
    "$nginx" -p "$prefix/" -c "$prefix/nginx.conf" -e "$prefix/logs/error.log" "${user[@]}"
  echo "gateway on http://127.0.0.1:8080 (prefix $prefix), providers: the sandbox"
  echo "try: curl -u demo-public-key:demo-private-key-change-me -d '{\"request\":{\"push\":{\"post\":{\"message\":\"Hello World!\"}}}}' http://127.0.0.1:8080/push/identities/$TOKEN/twitter/post.json"
  ;;
stop)
  if [ -f "$prefix/logs/nginx.pid" ]; then
    "$nginx" -p "$prefix/" -c "$prefix/nginx.conf" -e "$prefix/logs/error.log" -s stop || true
  fi
  "$repo/sandbox/run" stop --dir "$prefix/sandbox" || true
  ;;
*)
  echo "usage: $0 start|stop" >&2
  exit 2
  ;;
esac
