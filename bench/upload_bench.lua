--- Streams a file to the anchors' nginx /upload in one POST (body = {file = path}: a read
-- callback with pread, never the whole file in memory) and checks the server's byte count.
-- Run it under /usr/bin/time -v for the peak RSS (target < 32 MiB for any file size).
-- usage: lua5.4 bench/upload_bench.lua URL FILE [TIMEOUT]   (loopback URLs only)
-- prints: <lua>.socialpush.upload.mbps (1 MB = 10^6 bytes) and .seconds
local root = (arg and arg[0] or ""):match("^(.*)/bench/[^/]*$") or "."
local flavour = rawget(_G, "jit") and "luajit" or ("lua" .. _VERSION:match("%d+%.%d+"))
package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
package.cpath = root .. "/build/" .. flavour .. "/?.so;" .. package.cpath

local socialpush = require "socialpush"
local json = require "socialpush.json"

local base, file, timeout = arg[1], arg[2], tonumber(arg[3] or "300")
if not base or not file or not (base:match("^http://127%.") or base:match("^http://localhost[:/]")
    or base:match("^http://%[::1%]")) then
  io.stderr:write("usage: upload_bench.lua http://127.0.0.1:PORT FILE [TIMEOUT] (loopback only)\n")
  os.exit(2)
end
local f = assert(io.open(file, "rb"))
local size = f:seek("end")
f:close()

local client = socialpush.new { timeout = timeout, retries = 0 }
local t0 = client:now()
local res, msg = client:request { method = "POST", url = base .. "/upload", body = { file = file },
  headers = { { "Content-Type", "application/octet-stream" }, { "Authorization", "Bearer bench" } } }
local secs = client:now() - t0
client:close()
if not res or res.status ~= 200 then
  io.stderr:write("upload failed: ", tostring(msg or res.status), "\n")
  os.exit(1)
end
local doc = json.decode(res.body)
if not doc or doc.bytes ~= size then
  io.stderr:write("server counted a different size: ", res.body, "\n")
  os.exit(1)
end
print(("%s.socialpush.upload.mbps %.1f MB/s"):format(flavour, size / secs / 1e6))
print(("%s.socialpush.upload.seconds %.3f s"):format(flavour, secs))
-- peak resident set of this process (the whole upload), from the kernel
local st = io.open("/proc/self/status", "r")
if st then
  local hwm = st:read("*a"):match("VmHWM:%s*(%d+)")
  st:close()
  if hwm then print(("%s.socialpush.upload.maxrss %d KB"):format(flavour, tonumber(hwm))) end
end
