-- OAuth 1.0a Authorization-header throughput of socialpush.sign.oauth1, the anchors' case
-- (shared/anchors/c/bench_case.h): POST, 1 query + 4 form params, fresh nonce and
-- timestamp every call, a new argument table every call.
-- usage: lua5.4 bench/sign_bench.lua [seconds=2] [max_iterations=20000000]
-- env:   SOCIALPUSH_CPATH (default <repo>/build/<runtime>/?.so), SIGN_BENCH_CLOCK=cpu
-- prints: <rt>.socialpush.oauth1_header <rate> sig/s   (rt = lua5.4, lua5.1, luajit, ...)
-- Exits non-zero, printing nothing on stdout, if a known-answer check fails.

local secs = tonumber(arg[1] or "2")
local maxit = tonumber(arg[2] or "20000000")

local rt = jit and "luajit" or ("lua" .. _VERSION:match("%d+%.%d+"))
local script_dir = (arg[0]:match("^(.*)/[^/]*$") or ".")
local root = script_dir .. "/.."
package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
package.cpath = (os.getenv("SOCIALPUSH_CPATH") or (root .. "/build/" .. rt .. "/?.so"))
  .. ";" .. package.cpath

local sign = require("socialpush.sign")

-- wall clock like the anchors (lua-system's monotime), or process CPU time with
-- SIGN_BENCH_CLOCK=cpu (steadier on a shared machine; compare with a CPU-time C loop)
local ok, sys = pcall(require, "system")
local now = (ok and sys and sys.monotime) or os.clock
if os.getenv("SIGN_BENCH_CLOCK") == "cpu" then now = os.clock end

local CK, CS = "xvz1evFS4wEEPTGEFPHBog", "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw"
local TK, TS = "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb", "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE"
local KAT = {
  url = "https://api.twitter.com/1.1/statuses/update.json?include_entities=true",
  params = { status = "Hello Ladies + Gentlemen, a signed OAuth request!" },
  nonce = "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg", timestamp = "1318622958",
  sig = "hCtSmYh+iHYCEqBWrE7C7hYmtUk=",
}
local CASE = {
  url = "https://api.x.com/1.1/statuses/update.json?include_entities=true",
  params = {
    status = "Hello Ladies + Gentlemen, a signed OAuth request! \240\159\154\128",
    lat = "37.7821120598956",
    long = "-122.400612831116",
    media_ids = "1455952740635586573,1455952740635586574",
  },
  nonce = "fixednonce123", timestamp = "1700000000", sig = "6Q0ewHdoJ2guhXCIB3bTbNIQ6V0=",
}

local function check(name, c)
  local r, msg = sign.oauth1 { method = "POST", url = c.url, params = c.params, consumer_key = CK,
    consumer_secret = CS, token = TK, token_secret = TS, nonce = c.nonce, timestamp = c.timestamp }
  if not r or r.signature ~= c.sig then
    io.stderr:write(("sign_bench: %s known-answer check failed: got %s want %s\n"):format(name,
      tostring(r and r.signature or msg), c.sig))
    os.exit(1)
  end
end
check("KAT (X docs)", KAT)
check("CASE (bench_case.h)", CASE)

local oauth1, url, params = sign.oauth1, CASE.url, CASE.params
local n, sink = 0, 0
local t0 = now()
local t1 = t0
while n < maxit do
  for _ = 1, 1000 do
    local r = oauth1 { method = "POST", url = url, params = params, consumer_key = CK, consumer_secret = CS,
      token = TK, token_secret = TS }
    sink = sink + #r.header
  end
  n = n + 1000
  t1 = now()
  if t1 - t0 >= secs then break end
end
if os.getenv("SHOW") then
  io.stderr:write(oauth1 { method = "POST", url = url, params = params, consumer_key = CK, consumer_secret = CS,
    token = TK, token_secret = TS }.header, "\n")
end
io.write(("%s.socialpush.oauth1_header %.0f sig/s\n"):format(rt, n / (t1 - t0)))
