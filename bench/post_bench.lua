--- Small JSON POST loop against the anchors' nginx (POST /2/tweets, 201 + JSON):
-- sequential signed posts over keep-alive, and 8 in flight through client:all.
-- Each request gets a fresh OAuth 1.0a header (socialpush.sign.oauth1_header: new nonce
-- and timestamp every call) and each reply is decoded (socialpush.json.decode) and
-- checked, like the anchors' loops. What is the same for every request is built once,
-- as the C anchor does (its URL, body and credentials are set up before the loop).
-- usage: lua5.4 bench/post_bench.lua URL [N] [MAXSEC]   (loopback URLs only)
-- prints: <lua>.socialpush.seq.signed.rps, .multi8.signed.rps and cpu_per_req lines
local root = (arg and arg[0] or ""):match("^(.*)/bench/[^/]*$") or "."
local flavour = rawget(_G, "jit") and "luajit" or ("lua" .. _VERSION:match("%d+%.%d+"))
package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
package.cpath = root .. "/build/" .. flavour .. "/?.so;" .. package.cpath

local socialpush = require "socialpush"
local sign = require "socialpush.sign"
local json = require "socialpush.json"

local base, N, MAXSEC = arg[1], tonumber(arg[2] or "20000"), tonumber(arg[3] or "20")
if not base or not (base:match("^http://127%.") or base:match("^http://localhost[:/]")
    or base:match("^http://%[::1%]")) then
  io.stderr:write("usage: post_bench.lua http://127.0.0.1:PORT [N] [MAXSEC] (loopback only)\n")
  os.exit(2)
end
local url = base .. "/2/tweets"
local BODY = '{"text":"Hello world! Posting from the anchor benchmark \\u2728"}'
-- the anchors' credentials (shared/anchors/c/bench_case.h)
local CREDS = { consumer_key = "xvz1evFS4wEEPTGEFPHBog",
  consumer_secret = "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
  token = "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
  token_secret = "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE" }

local client = socialpush.new { timeout = 10, retries = 0 }
local errors = 0

local SIGN = { method = "POST", url = url, consumer_key = CREDS.consumer_key,
  consumer_secret = CREDS.consumer_secret, token = CREDS.token, token_secret = CREDS.token_secret }

local function post()
  local auth = assert(sign.oauth1_header(SIGN))
  local res, msg = client:request { method = "POST", url = url, body = BODY,
    headers = { ["Content-Type"] = "application/json", Authorization = auth } }
  local doc = res and res.status == 201 and json.decode(res.body)
  if not (doc and doc.data and doc.data.id) then
    errors = errors + 1
    if errors <= 3 then io.stderr:write("request failed: ", tostring(msg or res.status), "\n") end
  end
end

local function report(name, done, secs, cpu)
  print(("%s.socialpush.%s.rps %.0f req/s"):format(flavour, name, done / secs))
  print(("%s.socialpush.%s.cpu_per_req %.1f us"):format(flavour, name, cpu / done * 1e6))
end

-- sequential: one request in flight, keep-alive
post()                                        -- warm-up: connect
-- the time limit is checked every 16 requests: a clock read per request would be
-- part of what is measured (the C loop's clock_gettime costs nanoseconds)
local t0, c0, done = client:now(), os.clock(), 0
while done < N and (done % 16 ~= 0 or client:now() - t0 < MAXSEC) do
  post()
  done = done + 1
end
report("seq.signed", done, client:now() - t0, os.clock() - c0)

-- 8 in flight: 8 jobs through client:all, each posting until N in total or MAXSEC
local K = 8
local workers, started = {}, 0
t0, c0 = client:now(), os.clock()
for i = 1, K do
  workers[i] = function()
    while started < N and (started % 16 ~= 0 or client:now() - t0 < MAXSEC) do
      started = started + 1
      post()
    end
  end
end
client:all(workers)
report("multi8.signed", started, client:now() - t0, os.clock() - c0)
if errors > 0 then print(("%s.socialpush.post.errors %d count"):format(flavour, errors)) end
client:close()
os.exit(errors == 0 and 0 or 1)
