--- Built-in test endpoints of the sandbox (journaled, subject to faults):
-- sandbox.socialpush.test /echo /upload /redirect /bytes /delay /status
-- /auth/<scheme>; media.socialpush.test /picture.png /video.mp4;
-- other.socialpush.test (any path: echo, the redirect target).
local journal = require("socialpush.sandbox.journal")

local M = {}

local ECHO_MAX = 65536
local MAX_DELAY_MS = 600000
local MAX_BYTES = 2 ^ 40

-- true when s is valid UTF-8 (so it can go into a JSON string)
local function utf8_ok(s)
  local i, n = 1, #s
  while i <= n do
    local c = s:byte(i)
    local len
    if c < 0x80 then len = 1
    elseif c >= 0xC2 and c <= 0xDF then len = 2
    elseif c >= 0xE0 and c <= 0xEF then len = 3
    elseif c >= 0xF0 and c <= 0xF4 then len = 4
    else return false end
    for j = i + 1, i + len - 1 do
      local b = s:byte(j)
      if not b or b < 0x80 or b > 0xBF then return false end
    end
    if len == 3 then
      local b = s:byte(i + 1)
      if (c == 0xE0 and b < 0xA0) or (c == 0xED and b > 0x9F) then return false end
    elseif len == 4 then
      local b = s:byte(i + 1)
      if (c == 0xF0 and b < 0x90) or (c == 0xF4 and b > 0x8F) then return false end
    end
    i = i + len
  end
  return true
end
M.utf8_ok = utf8_ok

-- put s into t as field (text) or field_base64 (binary); nothing when too big
local function put_data(t, field, s)
  if #s > ECHO_MAX then return end
  if utf8_ok(s) then t[field] = s else t[field .. "_base64"] = ngx.encode_base64(s) end
end

local function int_arg(req, name, min, max)
  local v = tonumber(req:args()[name] or "")
  if not v or v ~= math.floor(v) or v < min or v > max then return nil end
  return v
end

local function echo(server, req)
  local out = {
    method = req.method, host = req.host, path = req.path,
    query = journal.mask_query(req.query),
    headers = ngx.ctx.headers or journal.masked_headers(),
    body_size = req.body_size, body_sha256 = req.body_sha256,
    http_version = req.http_version, connection = req.connection,
  }
  local body = req:body(ECHO_MAX)
  if body then put_data(out, "body", body) end
  local ct = req:content_type()
  if ct == "application/x-www-form-urlencoded" and body then
    out.form = req:form(ECHO_MAX)
  elseif ct and ct:match("^multipart/") then
    local parts = req:multipart()
    if parts then
      out.parts = server.array()
      for _, p in ipairs(parts) do
        local e = {
          name = p.name, filename = p.filename, content_type = p.content_type,
          size = #p.data, sha256 = server.crypto.sha256_hex(p.data),
        }
        put_data(e, "data", p.data)
        out.parts[#out.parts + 1] = e
      end
    end
  end
  return server.json(200, out)
end

-- GET/HEAD a static body, with single byte ranges
local function serve_static(server, req, body, ctype)
  local headers = { ["Content-Type"] = ctype, ["Accept-Ranges"] = "bytes" }
  local range = req:header("range")
  if range then
    local a, b = range:match("^bytes=(%d*)%-(%d*)$")
    a, b = tonumber(a), tonumber(b)
    local n = #body
    if a == nil and b then a, b = n - b, n - 1 end
    if a and (b == nil or b >= n) then b = n - 1 end
    if not a or a < 0 or a > b then
      headers["Content-Range"] = "bytes */" .. n
      return server.send(416, nil, headers)
    end
    headers["Content-Range"] = string.format("bytes %d-%d/%d", a, b, n)
    return server.send(206, body:sub(a + 1, b + 1), headers)
  end
  return server.send(200, body, headers)
end

local function auth_result(server, info, reason)
  if not info then
    return server.json(401, { ok = false, reason = reason })
  end
  return server.json(200, { ok = true, provider = info.provider })
end

--- syntax: endpoints.register(server)
function M.register(server)
  local H = server.CONTROL_HOST

  server.route(H, "ANY", "/echo", function(req) return echo(server, req) end)
  server.route(server.OTHER_HOST, "ANY", "/.*", function(req) return echo(server, req) end)

  server.route(H, { "POST", "PUT" }, "/upload", function(req)
    local n, sha = req:stream(function() end)
    if not n then return server.fail(400, "upload read failed: " .. tostring(sha)) end
    return server.json(200, { bytes = n, sha256 = sha })
  end, { stream = true })

  server.route(H, "ANY", "/redirect", function(req)
    local to = req:args().to
    if type(to) ~= "string" or to == "" or to:find("[\r\n]") then
      return server.fail(400, "redirect needs ?to=URL")
    end
    local code = int_arg(req, "status", 300, 308) or 302
    if code < 301 or (code > 303 and code < 307) then
      return server.fail(400, "redirect status must be 301, 302, 303, 307 or 308")
    end
    return server.json(code, { location = to }, { Location = to })
  end)

  server.route(H, "GET", "/bytes", function(req)
    local n = int_arg(req, "n", 0, MAX_BYTES)
    if not n then return server.fail(400, "bytes needs ?n=N (0..2^40)") end
    ngx.status = 200
    ngx.header["Content-Type"] = "application/octet-stream"
    ngx.header["Content-Length"] = n
    ngx.ctx.responded = true
    if req.method == "HEAD" then return ngx.send_headers() end
    local block = string.rep("0123456789abcdef", 4096)
    local left = n
    while left > 0 do
      local k = left < #block and left or #block
      ngx.print(k == #block and block or block:sub(1, k))
      left = left - k
      if not ngx.flush(true) then return end
    end
  end)

  server.route(H, "ANY", "/delay", function(req)
    local ms = int_arg(req, "ms", 0, MAX_DELAY_MS)
    if not ms then return server.fail(400, "delay needs ?ms=N (0.." .. MAX_DELAY_MS .. ")") end
    if ms > 0 then ngx.sleep(ms / 1000) end
    return server.json(200, { delayed = ms })
  end)

  server.route(H, "ANY", "/status", function(req)
    local code = int_arg(req, "code", 200, 599)
    if not code then return server.fail(400, "status needs ?code=N (200..599)") end
    return server.json(code, { status = code })
  end)

  -- credential checks against the accounts fixture: 200 {ok, provider} or 401 {ok=false, reason}
  local A = server.auth
  server.route(H, "ANY", "/auth/bearer", function(req)
    local p = req:args().provider
    return auth_result(server, A.bearer(req, type(p) == "string" and p or nil))
  end)
  server.route(H, "ANY", "/auth/oauth1", function(req) return auth_result(server, A.oauth1(req)) end)
  server.route(H, "ANY", "/auth/appsecret_proof", function(req)
    return auth_result(server, A.appsecret_proof(req, true))
  end)
  server.route(H, "ANY", "/auth/basic", function(req) return auth_result(server, A.oneall(req)) end)
  server.route(H, "ANY", "/auth/sig", function(req) return auth_result(server, A.legacy(req)) end)

  local media = require("socialpush.sandbox.media")
  server.route(server.MEDIA_HOST, "GET", "/picture%.png", function(req)
    return serve_static(server, req, media.picture, "image/png")
  end)
  server.route(server.MEDIA_HOST, "GET", "/video%.mp4", function(req)
    return serve_static(server, req, media.video, "video/mp4")
  end)
end

return M
