-- JSON decode/encode throughput: socialpush.json against lua-cjson, same
-- process, same documents, interleaved.
-- usage: lua5.4 bench/json_bench.lua [seconds_per_case=0.3] [reps=5]
-- env:   BENCH_DATA_DIR (default /work/shared/anchors/data, every *.json),
--        BENCH_DISCOVERY (default <repo>/../shared/specs/youtube/youtube.v3.discovery.json),
--        SOCIALPUSH_CPATH (default <repo>/build/<runtime>/?.so)
-- prints, per library, document and operation, the median of the reps:
--   <rt>.<lib>.<op>.<doc> <ops/s> ops/s
--   <rt>.<lib>.<op>.<doc>.mbps <MB/s> MB/s      (decode: input bytes, encode: output bytes)
-- and <rt>.socialpush.json.<op>.<doc>.vs_cjson <ratio> x
-- MB = 10^6 bytes; encode re-encodes the table that library decoded.

local secs = tonumber(arg[1] or "0.3")
local reps = tonumber(arg[2] or "5")

local rt = jit and "luajit" or ("lua" .. _VERSION:match("%d+%.%d+"))
local script_dir = (arg[0]:match("^(.*)/[^/]*$") or ".")
local root = script_dir .. "/.."
package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
package.cpath = (os.getenv("SOCIALPUSH_CPATH") or (root .. "/build/" .. rt .. "/?.so"))
  .. ";" .. package.cpath

local spjson = require("socialpush.json")
local cjson = require("cjson")

local ok, sys = pcall(require, "system")
local now = (ok and sys and sys.monotime) or os.clock

local function readfile(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function listjson(dir)
  local names = {}
  local p = io.popen('ls -1 "' .. dir .. '" 2>/dev/null')
  for line in p:lines() do
    local name = line:match("^(.+)%.json$")
    if name then names[#names + 1] = name end
  end
  p:close()
  table.sort(names)
  return names
end

-- deterministic ~1 MB array of API-like records (ids, text, prices, flags)
local function gen_array(target)
  local seed = 12345
  local function rnd(n)
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed % n
  end
  local words = { "alpha", "beta", "gamma", "delta", "post", "video", "photo", "é", "日本",
                  "emoji 😀", "line\nbreak", "quote\"d", "tab\there", "path/to" }
  local arr, size, i = spjson.array(), 0, 0
  while size < target do
    i = i + 1
    local text = {}
    for w = 1, 3 + rnd(8) do text[w] = words[1 + rnd(#words)] end
    local rec = {
      id = 1000000000 + rnd(1000000000),
      name = table.concat(text, " "),
      price = rnd(100000) / 100,
      score = rnd(1000) / 8,
      active = rnd(2) == 1,
      tags = spjson.array({ words[1 + rnd(#words)], words[1 + rnd(#words)] }),
      owner = { id = tostring(rnd(1000000)), verified = rnd(3) == 0, parent = spjson.null },
    }
    arr[i] = rec
    size = size + #assert(spjson.encode(rec)) + 1
  end
  return assert(spjson.encode(arr, { sort_keys = true }))
end

local docs = {}
local datadir = os.getenv("BENCH_DATA_DIR") or "/work/shared/anchors/data"
for _, name in ipairs(listjson(datadir)) do
  docs[#docs + 1] = { name = name, text = readfile(datadir .. "/" .. name .. ".json") }
end
local disc = os.getenv("BENCH_DISCOVERY")
  or (root .. "/../shared/specs/youtube/youtube.v3.discovery.json")
local dtext = readfile(disc)
if dtext then docs[#docs + 1] = { name = "yt_discovery", text = dtext } end
docs[#docs + 1] = { name = "gen_array_1mb", text = gen_array(1000000) }

local libs = {
  { name = "socialpush.json", m = spjson },
  { name = "cjson", m = cjson },
}

local sink = 0

-- runs fn in batches for about `secs`; returns calls per second
local function bench(fn)
  local batch, n = 1, 0
  local t0 = now()
  while now() - t0 < 0.01 do fn(); batch = batch + 1 end
  t0 = now()
  local t1 = t0
  while n < 10000000 do
    for _ = 1, batch do fn() end
    n = n + batch
    t1 = now()
    if t1 - t0 >= secs then break end
  end
  return n / (t1 - t0)
end

local function median(t)
  table.sort(t)
  local n = #t
  if n % 2 == 1 then return t[(n + 1) / 2] end
  return (t[n / 2] + t[n / 2 + 1]) / 2
end

for _, d in ipairs(docs) do
  local text = d.text:gsub("%s+$", "")
  local res = {}
  local cases = {}
  for _, lib in ipairs(libs) do
    local m = lib.m
    local tbl = assert(m.decode(text))
    local out = assert(m.encode(tbl))
    assert(type(m.decode(out)) == "table", lib.name .. ": round trip of " .. d.name)
    cases[#cases + 1] = { key = lib.name .. ".decode", bytes = #text,
      fn = function() local t = m.decode(text); sink = sink + (t and 1 or 0) end }
    cases[#cases + 1] = { key = lib.name .. ".encode", bytes = #out,
      fn = function() local s = m.encode(tbl); sink = sink + #s end }
  end
  for _, c in ipairs(cases) do res[c.key] = {} end
  for _ = 1, reps do
    for _, c in ipairs(cases) do
      collectgarbage()
      local r = bench(c.fn)
      local t = res[c.key]
      t[#t + 1] = r
    end
  end
  local med = {}
  for _, c in ipairs(cases) do
    local r = median(res[c.key])
    med[c.key] = r
    local lib, op = c.key:match("^(.*)%.(%a+)$")
    io.write(string.format("%s.%s.%s.%s %.0f ops/s\n", rt, lib, op, d.name, r))
    io.write(string.format("%s.%s.%s.%s.mbps %.1f MB/s\n", rt, lib, op, d.name, r * c.bytes / 1e6))
  end
  for _, op in ipairs { "decode", "encode" } do
    -- MB/s ratio; the byte counts differ for encode (each library's own output)
    local sp, cj
    for _, c in ipairs(cases) do
      if c.key == "socialpush.json." .. op then sp = med[c.key] * c.bytes end
      if c.key == "cjson." .. op then cj = med[c.key] * c.bytes end
    end
    io.write(string.format("%s.socialpush.json.%s.%s.vs_cjson %.2f x\n", rt, op, d.name, sp / cj))
  end
  io.flush()
end
if sink < 0 then print(sink) end
