--- socialpush.transport.openresty: the transport under socialpush.client inside nginx
-- (lua-nginx-module / OpenResty), on cosockets, so that a request never blocks the worker.
-- Same interface as socialpush.transport.curl (see its header):
--   t = transport.new(opts)        opts: timeout, connect_timeout, ca_file, proxy,
--                                  connect_to, user_agent, max_body
--   h, msg, err = t:start(req)     req: {method, url, headers, body, timeout, max_body, sink}
--   list, running = t:step(wait)   yields to nginx until a request finished or wait elapsed
--   h:result(), h:done(), h:cancel(), h:progress(), h:close()
--   t:running(), t:now(), t:close()
--
-- How it runs: every request is an ngx.thread (a "light thread") doing HTTP/1.1 over
-- ngx.socket.tcp. The threads belong to one manager per transport that runs in an
-- ngx.timer.at callback (never to the caller's coroutine: nginx would not finish a request
-- while a thread's parent coroutine stays suspended, and only the parent may kill a
-- thread, which cancel needs). step() waits on an ngx.semaphore that finishing threads
-- post. Connections go back to the worker's keep-alive pool (sock:setkeepalive) keyed by
-- scheme, SNI host, address, port and ca_file.
--
-- Differences from the curl transport (docs/openresty.md): HTTP/1.1 only (cosockets have
-- no ALPN); TLS is verified against nginx's lua_ssl_trusted_certificate (the ca_file
-- option only separates keep-alive pools: lua-nginx-module 0.10.23 has no per-request
-- trust store); no proxy support (a proxy option raises); host names need nginx's
-- `resolver` directive unless connect_to maps them to an IP address; each transport with
-- requests in flight holds one running timer (lua_max_running_timers).
-- The caller must be able to yield to nginx: rewrite, access, content, timer and ssl_*
-- phases (M.usable()).
local errors = require "socialpush.errors"
local core = require "socialpush.core"

local M = {}

local T = {}
T.__index = T
local H = {}
H.__index = H

local CHUNK = 128 * 1024          -- bytes per file read / socket receive
local SMALL = 64 * 1024           -- string bodies up to this go out with the headers
local MAX_HEADERS = 1024 * 1024   -- response header block cap (as the curl engine)
local POOL_SIZE = 32              -- idle connections kept per pool key
local POOL_IDLE_MS = 60000        -- idle time of a pooled connection
local MANAGER_WAIT = 10           -- seconds the manager sleeps between checks
local MANAGER_IDLE = 2            -- seconds an idle manager waits for more work
local MANAGER_LATE = 5            -- seconds after which a manager timer that never ran is given up
local PROGRESS_EVERY = 0.1        -- seconds between progress wake-ups of step()
local MAX_ATTEMPTS = 3            -- connections tried when pooled ones turn out dead

-- phases where cosockets and light threads work
local PHASES = { rewrite = true, access = true, content = true, timer = true, ssl_cert = true,
  ssl_session_fetch = true, ssl_client_hello = true }

-- methods a repeat cannot change the effect of (RFC 9110 section 9.2.2)
local IDEMPOTENT = { GET = true, HEAD = true, PUT = true, DELETE = true, OPTIONS = true, TRACE = true }

-- headers the transport writes itself; a caller's value for them is ignored
local FRAMING = { ["content-length"] = true, ["transfer-encoding"] = true }

-- returned by step when nothing finished, so an idle loop allocates nothing
local EMPTY = setmetatable({}, { __newindex = function() error("read-only list", 2) end })

local START, KILL = 1, 2

--- Whether this transport can run here: inside nginx, in a phase with cosockets.
-- syntax: bool = transport.usable()
function M.usable()
  local ngx = rawget(_G, "ngx")
  if type(ngx) ~= "table" or type(ngx.get_phase) ~= "function" then return false end
  return PHASES[ngx.get_phase()] == true
end

local function now()
  ngx.update_time()
  return ngx.now()
end

-- nil, msg, err with the transport fields the retry policy reads
local function fail(kind, message, sent, connected, code)
  local e = errors.new { kind = kind, message = message }
  e.sent, e.connected, e.curl_code = sent or false, connected or false, code
  return nil, e.message, e
end

----------------------------------------------------------------------------- options

local function is_token(s)
  return type(s) == "string" and s ~= "" and not s:find("[^%w!#$%%&'*+%-.^_`|~]")
end

-- "HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT" (curl's CONNECT_TO); empty fields match any
-- host/port or keep the original; IPv6 addresses in brackets
local function parse_connect_to(s)
  local fields, i, n = {}, 1, #s
  for k = 1, 4 do
    local v
    if s:sub(i, i) == "[" then
      local j = s:find("]", i, true)
      if not j then return nil end
      v, i = s:sub(i + 1, j - 1), j + 1
    else
      local j = s:find(":", i, true) or n + 1
      if k == 4 then j = n + 1 end
      v, i = s:sub(i, j - 1), j
    end
    fields[k] = v
    if k < 4 then
      if s:sub(i, i) ~= ":" then return nil end
      i = i + 1
    elseif i ~= n + 1 then
      return nil
    end
  end
  local p1, p2 = fields[2], fields[4]
  if (p1 ~= "" and not p1:match("^%d+$")) or (p2 ~= "" and not p2:match("^%d+$")) then return nil end
  return { host = fields[1]:lower(), port = tonumber(p1), to_host = fields[3], to_port = tonumber(p2) }
end

local OPTION_TYPES = { timeout = "number", connect_timeout = "number", ca_file = "string",
  proxy = "string", connect_to = "table", user_agent = "string", max_body = "number" }

--- Create a transport. Unknown options, a proxy or a bad connect_to entry raise.
-- syntax: t = transport.new{timeout=, connect_timeout=, ca_file=, proxy=, connect_to=, user_agent=, max_body=}
function M.new(opts)
  opts = opts or {}
  for k, v in pairs(opts) do
    if OPTION_TYPES[k] == nil then
      error("socialpush.transport.openresty: unknown option '" .. tostring(k) .. "'", 2)
    end
    if type(v) ~= OPTION_TYPES[k] then
      error("socialpush.transport.openresty: option '" .. k .. "' has the wrong type", 2)
    end
  end
  if opts.proxy and opts.proxy ~= "" then
    error("socialpush.transport.openresty: proxies are not supported by the cosocket transport;"
      .. " use transport = require('socialpush.transport.curl') or reach the provider directly", 2)
  end
  local routes = {}
  for i, s in ipairs(opts.connect_to or {}) do
    local r = type(s) == "string" and not s:find("[%c%s]") and parse_connect_to(s)
    if not r then error("socialpush.transport.openresty: option 'connect_to': invalid entry " .. i, 2) end
    routes[i] = r
  end
  local semaphore = require "ngx.semaphore"
  return setmetatable({
    timeout = opts.timeout or 60,
    connect_timeout = opts.connect_timeout or 10,
    max_body = opts.max_body or core.http.max_body,
    ca_file = opts.ca_file or "",
    user_agent = opts.user_agent or ("socialpush/" .. core._VERSION),
    routes = routes,
    sema = semaphore.new(0),     -- posted when a request finished (or made progress)
    msema = semaphore.new(0),    -- wakes the manager: commands queued, threads ended
    queue = {},                  -- {START|KILL, handle} for the manager
    finished = {},               -- handles done since the last step
    active = {},                 -- handle -> true while running
    nrunning = 0,
    nthreads = 0,                -- threads spawned and not ended
    closed = false,
  }, T)
end

--------------------------------------------------------------------------- requests

-- scheme, host (as written, brackets kept), port, target (path + query); or nil, msg
local function parse_url(url)
  if url:find("[%z\1-\32\127]") then return nil, "invalid URL: control character or space" end
  local scheme, rest = url:match("^(%a[%w+.%-]*)://(.*)$")
  if not scheme then return nil, "invalid URL" end
  scheme = scheme:lower()
  if scheme ~= "https" and scheme ~= "http" then
    return nil, "invalid URL: only https and http are supported"
  end
  local authority, target = rest:match("^([^/?#]*)(.*)$")
  target = target:gsub("#.*$", "")
  if target == "" or target:sub(1, 1) == "?" then target = "/" .. target end
  if authority:find("@", 1, true) then return nil, "invalid URL: user information is not supported" end
  local host, port
  if authority:sub(1, 1) == "[" then
    host, port = authority:match("^(%[[%x:.]+%]):?(%d*)$")
  else
    host, port = authority:match("^([%w%-._~%%!$&'()*+,;=]+):?(%d*)$")
  end
  if not host then return nil, "invalid URL" end
  local default = scheme == "https" and 443 or 80
  port = port ~= "" and tonumber(port) or default
  if port < 1 or port > 65535 then return nil, "invalid URL: bad port" end
  return scheme, host, port, target, port ~= default
end

-- where to connect for host:port (connect_to applies; the first match wins)
local function route(t, host, port)
  local bare = host:gsub("^%[(.*)%]$", "%1"):lower()
  for _, r in ipairs(t.routes) do
    if (r.host == "" or r.host == bare) and (r.port == nil or r.port == port) then
      return r.to_host ~= "" and r.to_host or bare, r.to_port or port
    end
  end
  return bare, port
end

-- headers: {Name = value} and/or a list of {name, value}; false suppresses a default.
-- Returns the list of {name, value|false} and the set of lower-cased names; or nil, msg.
local function collect_headers(headers)
  local list, names = {}, {}
  if headers == nil then return list, names end
  if type(headers) ~= "table" then error("headers: table expected", 4) end
  local function add(name, value)
    if type(name) ~= "string" then error("headers: names must be strings", 5) end
    if not is_token(name) then
      return "invalid header name (not an HTTP token, or CR/LF/NUL)"
    end
    if value ~= false then
      if type(value) == "number" then value = tostring(value) end
      if type(value) ~= "string" then error("headers: value of '" .. name .. "' must be a string", 5) end
      if value:find("[\r\n%z]") then
        return "invalid value for header " .. name:sub(1, 64) .. ": CR, LF or NUL"
      end
    end
    local lname = name:lower()
    names[lname] = true
    if not FRAMING[lname] then list[#list + 1] = { name, value } end
  end
  for k, v in pairs(headers) do
    local bad
    if type(k) == "number" then
      if type(v) ~= "table" then error("headers: list entries must be {name, value}", 4) end
      bad = add(v[1], v[2])
    else
      bad = add(k, v)
    end
    if bad then return nil, bad end
  end
  return list, names
end

-- a readable regular file's size; or nil, msg
local function file_size(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local ok, rerr = f:read(0)
  if ok == nil and rerr then
    f:close()
    return nil, path .. " is not a regular file"
  end
  local size = f:seek("end")
  f:close()
  if not size then return nil, path .. " is not a regular file" end
  return size
end

local MIME_TYPES = { gif = "image/gif", jpg = "image/jpeg", jpeg = "image/jpeg", png = "image/png",
  svg = "image/svg+xml", txt = "text/plain", htm = "text/html", html = "text/html",
  pdf = "application/pdf", xml = "application/xml" }

-- curl's escaping of names in Content-Disposition (HTML5 form encoding)
local function disposition_escape(s)
  return (s:gsub('[\r\n"]', { ["\r"] = "%0D", ["\n"] = "%0A", ['"'] = "%22" }))
end

local PART_KEYS = { name = true, data = true, file = true, filename = true, content_type = true }

-- multipart body as pieces (strings and file ranges); or nil, msg for an unreadable file
local function multipart(parts, boundary)
  if type(parts) ~= "table" or #parts == 0 then
    error("body.multipart: at least one part expected", 5)
  end
  local pieces, total = {}, 0
  local function put(p, n)
    pieces[#pieces + 1] = p
    total = total + n
  end
  for i, p in ipairs(parts) do
    if type(p) ~= "table" then error("body.multipart[" .. i .. "]: table expected", 5) end
    for k in pairs(p) do
      if not PART_KEYS[k] then error("multipart part: unknown option '" .. tostring(k) .. "'", 5) end
    end
    if type(p.name) ~= "string" or (p.data == nil) == (p.file == nil) then
      error("body.multipart[" .. i .. "]: name and one of data or file expected", 5)
    end
    local filename, ctype = p.filename, p.content_type
    local size
    if p.file then
      local err
      size, err = file_size(p.file)
      if not size then return nil, "cannot read multipart file " .. tostring(p.file) .. ": " .. err end
      filename = filename or p.file:match("([^/]*)$")
    end
    if filename and not ctype then
      ctype = MIME_TYPES[(filename:match("%.(%w+)$") or ""):lower()] or "application/octet-stream"
    end
    local head = { "--", boundary, "\r\nContent-Disposition: form-data; name=\"",
      disposition_escape(p.name), "\"" }
    if filename then head[#head + 1] = "; filename=\"" .. disposition_escape(filename) .. "\"" end
    if ctype then head[#head + 1] = "\r\nContent-Type: " .. ctype end
    head[#head + 1] = "\r\n\r\n"
    local s = table.concat(head)
    put(s, #s)
    if p.file then
      put({ path = p.file, offset = 0, length = size }, size)
    else
      put(p.data, #p.data)
    end
    put("\r\n", 2)
  end
  local tail = "--" .. boundary .. "--\r\n"
  put(tail, #tail)
  return pieces, total
end

local function boundary()
  local t = {}
  for i = 1, 24 do t[i] = string.format("%x", math.random(0, 15)) end
  return "------------------------" .. table.concat(t)
end

local BODY_KEYS = { file = true, offset = true, length = true, multipart = true }

local function offset_of(b, k, def)
  local v = b[k]
  if v == nil then return def end
  if type(v) ~= "number" or v < 0 or v ~= math.floor(v) then
    error("body." .. k .. ": non-negative integer expected", 5)
  end
  return v
end

-- the body as pieces + total size, the Content-Type it needs; or nil, msg
local function body_of(h, body)
  if body == nil then return {}, 0 end
  if type(body) == "string" then return { body }, #body end
  if type(body) ~= "table" then error("body: string or table expected", 4) end
  for k in pairs(body) do
    if not BODY_KEYS[k] then error("body: unknown option '" .. tostring(k) .. "'", 4) end
  end
  if body.multipart ~= nil then
    local b = boundary()
    local pieces, total = multipart(body.multipart, b)
    if not pieces then return nil, total end
    return pieces, total, "multipart/form-data; boundary=" .. b
  end
  if type(body.file) ~= "string" then error("body: file or multipart expected", 4) end
  local size, err = file_size(body.file)
  if not size then return nil, "cannot open upload file " .. body.file .. ": " .. err end
  local offset = offset_of(body, "offset", 0)
  local length = offset_of(body, "length", nil)
  if offset > size then
    return nil, ("upload offset %d is beyond the end of %s"):format(offset, body.file)
  end
  if length == nil then length = size - offset end
  if length > size - offset then
    return nil, "upload file " .. body.file .. " is shorter than offset + length"
  end
  h.file_range = true
  return { { path = body.file, offset = offset, length = length } }, length
end

local REQ_KEYS = { method = true, url = true, headers = true, body = true, timeout = true,
  max_body = true, sink = true }

local function positive(v, k, integer)
  if v == nil then return nil end
  if type(v) ~= "number" or v ~= v or v <= 0 or v > 1e15 or (integer and v ~= math.floor(v)) then
    error("option '" .. k .. "': positive " .. (integer and "integer" or "number") .. " expected", 4)
  end
  return v
end

-- the request head and body pieces of a handle; or nil, msg (invalid_argument)
local function prepare(t, h, req)
  local method = req.method or "GET"
  if type(method) ~= "string" then error("option 'method': string expected", 3) end
  if #method >= 24 or not is_token(method) then return nil, "invalid HTTP method" end
  if type(req.url) ~= "string" then error("engine:add: url expected", 3) end
  local scheme, host, port, target, show_port = parse_url(req.url)
  if not scheme then return nil, host end
  h.host = host:gsub("^%[(.*)%]$", "%1")
  h.scheme, h.port, h.method = scheme, port, method
  h.ip, h.ip_port = route(t, host, port)
  h.sni = h.host:lower()
  local list, names = collect_headers(req.headers)
  if not list then return nil, names end
  local pieces, total, ctype = body_of(h, req.body)
  if not pieces then return nil, total end
  h.pieces, h.ul_total = pieces, total
  local lines = { method, " ", target, " HTTP/1.1\r\n" }
  local function line(name, value)
    lines[#lines + 1] = name
    lines[#lines + 1] = ": "
    lines[#lines + 1] = value
    lines[#lines + 1] = "\r\n"
  end
  if not names.host then line("Host", show_port and (host .. ":" .. port) or host) end
  if not names["user-agent"] then line("User-Agent", t.user_agent) end
  if not names.accept then line("Accept", "*/*") end
  for _, kv in ipairs(list) do
    if kv[2] ~= false then
      local name, value = kv[1], kv[2]
      if ctype and name:lower() == "content-type" then
        if value:lower():find("^multipart/") and not value:lower():find("boundary=", 1, true) then
          ctype = value .. "; boundary=" .. ctype:match("boundary=(.*)$")
        end
      else
        line(name, value)
      end
    end
  end
  if ctype then line("Content-Type", ctype) end
  if req.body ~= nil or method == "POST" or method == "PUT" or method == "PATCH" then
    line("Content-Length", string.format("%d", total))
  end
  lines[#lines + 1] = "\r\n"
  h.head = table.concat(lines)
  h.keep_alive = not (names.connection and h.head:lower():find("\nconnection:[^\n]*close"))
  h.timeout = positive(req.timeout, "timeout") or t.timeout
  h.max_body = positive(req.max_body, "max_body", true) or t.max_body
  h.pool = table.concat({ scheme, h.sni, h.ip, h.ip_port, t.ca_file }, "|")
  if req.sink ~= nil then
    local s = req.sink
    if type(s) ~= "table" then error("sink: {file = path} expected", 3) end
    for k in pairs(s) do
      if k ~= "file" then error("sink: unknown option '" .. tostring(k) .. "'", 3) end
    end
    if type(s.file) ~= "string" then error("sink: file expected", 3) end
    local f, err = io.open(s.file, "wb")
    if not f then return nil, "cannot open sink file " .. s.file .. ": " .. tostring(err) end
    h.sink = f
  end
  return true
end

--------------------------------------------------------------------------- exchange

-- wake whoever waits in step()
local function wake(t)
  local c = t.sema:count()
  if c < 0 then t.sema:post(-c) end
end

local function wake_manager(t)
  local c = t.msema:count()
  if c < 0 then t.msema:post(-c) end
end

local function release(h)
  if h.sink then h.sink:close(); h.sink = nil end
  if h.reading then h.reading:close(); h.reading = nil end
end

-- the request is over: record the outcome, hand the handle to step()
local function finish(t, h, res, msg, err)
  if h.state ~= "running" then return end
  h.state = "done"
  if res then h.res = res else h.msg, h.err = msg, err end
  h.timings.total = now() - h.started
  t.active[h] = nil
  t.nrunning = t.nrunning - 1
  t.finished[#t.finished + 1] = h
  wake(t)
end

local function ms(seconds)
  local v = math.floor(seconds * 1000 + 0.5)
  return v < 1 and 1 or v
end

-- the error for a failed socket operation
local function io_error(h, what, err)
  if err == "timeout" then
    return fail("timeout", ("%s: timed out %s (%d ms)"):format(h.host, what, ms(h.timeout)),
      h.sent, h.connected)
  end
  return fail("transport", ("%s: %s: %s"):format(h.host, what, tostring(err)), h.sent, h.connected)
end

-- seconds left before the request's deadline (nil when it passed)
local function remaining(h)
  local left = h.deadline - now()
  if left <= 0 then return nil end
  return left
end

local function set_timeout(h, sock)
  local left = remaining(h)
  if not left then return nil end
  sock:settimeout(ms(left))
  return true
end

local function note_progress(t, h)
  local at = now()
  if at - (h.notified or 0) >= PROGRESS_EVERY then
    h.notified = at
    wake(t)
  end
end

-- write one piece (a string or a file range) to the socket
local function send_piece(t, h, sock, piece)
  if type(piece) == "string" then
    local i, n = 1, #piece
    while i <= n do
      local j = n - i + 1 > CHUNK * 4 and i + CHUNK * 4 - 1 or n
      if not set_timeout(h, sock) then return nil, "timeout" end
      local ok, err = sock:send(i == 1 and j == n and piece or piece:sub(i, j))
      if not ok then return nil, err end
      h.ul_now = h.ul_now + (j - i + 1)
      note_progress(t, h)
      i = j + 1
    end
    return true
  end
  local f, err = io.open(piece.path, "rb")
  if not f then return nil, "cannot open " .. piece.path .. ": " .. tostring(err), "file" end
  h.reading = f
  f:seek("set", piece.offset)
  local left = piece.length
  while left > 0 do
    local data = f:read(left < CHUNK and left or CHUNK)
    if not data or #data == 0 then
      f:close()
      h.reading = nil
      return nil, "upload file shrank while being sent", "file"
    end
    left = left - #data
    if not set_timeout(h, sock) then return nil, "timeout" end
    local ok, serr = sock:send(data)
    if not ok then return nil, serr end
    h.ul_now = h.ul_now + #data
    note_progress(t, h)
  end
  f:close()
  h.reading = nil
  return true
end

local function send_request(t, h, sock)
  local pieces = h.pieces
  h.sent = true
  if not set_timeout(h, sock) then return nil, "timeout" end
  local first = pieces[1]
  local ok, err, why
  if type(first) == "string" and #first <= SMALL then
    ok, err = sock:send({ h.head, first })
    if ok then
      h.ul_now = #first
      h.wrote = true
    end
  else
    ok, err = sock:send(h.head)
    if ok then
      h.wrote = true
      if first ~= nil then ok, err, why = send_piece(t, h, sock, first) end
    end
  end
  for i = 2, #pieces do
    if not ok then break end
    ok, err, why = send_piece(t, h, sock, pieces[i])
  end
  return ok, err, why
end

-- a line of the response head (CR LF or LF ended), counted against the header cap
local function head_line(h, sock)
  if not set_timeout(h, sock) then return nil, "timeout" end
  local line, err = sock:receive("*l")
  if not line then return nil, err end
  h.head_bytes = h.head_bytes + #line + 2
  if h.head_bytes > MAX_HEADERS then return nil, "too_large" end
  return line
end

-- status and headers of the final response (1xx interim responses are skipped)
local function read_head(h, sock)
  while true do
    local line, err = head_line(h, sock)
    if not line then return nil, err end
    h.got_bytes = true
    if not h.timings.start_transfer then h.timings.start_transfer = now() - h.started end
    local major, minor, code = line:match("^HTTP/(%d)%.(%d) (%d%d%d)")
    if not code then return nil, "invalid", "not an HTTP/1.x response" end
    local headers, list = {}, {}
    while true do
      line, err = head_line(h, sock)
      if not line then return nil, err end
      if line == "" then break end
      if line:find("^[ \t]") and #list > 0 then            -- obsolete line folding
        local last = list[#list]
        last[2] = last[2] .. " " .. line:match("^%s*(.-)%s*$")
        headers[last[1]] = nil
      else
        local name, value = line:match("^([^:]+):(.*)$")
        if name then
          name = name:gsub("[ \t]+$", ""):lower()
          list[#list + 1] = { name, value:match("^[ \t]*(.-)[ \t]*$") }
        end
      end
    end
    code = tonumber(code)
    if code >= 200 or code == 101 then
      for _, kv in ipairs(list) do
        local old = headers[kv[1]]
        headers[kv[1]] = old and (old .. ", " .. kv[2]) or kv[2]
      end
      return { status = code, headers = headers, header_list = list,
        http_version = major .. "." .. minor }
    end
  end
end

-- store a piece of the response body (memory or sink); nil, reason when refused
local function keep_body(h, parts, data)
  if h.received + #data > h.max_body then return nil, "too_large" end
  h.received = h.received + #data
  if h.sink then
    local ok, err = h.sink:write(data)
    if not ok then return nil, "sink", err end
  else
    parts[#parts + 1] = data
  end
  return true
end

local function read_exact(h, sock, parts, n)
  while n > 0 do
    if not set_timeout(h, sock) then return nil, "timeout" end
    local data, err, partial = sock:receive(n < CHUNK and n or CHUNK)
    if not data then
      if partial and partial ~= "" then
        local ok, why, werr = keep_body(h, parts, partial)
        if not ok then return nil, why, werr end
      end
      return nil, err
    end
    local ok, why, werr = keep_body(h, parts, data)
    if not ok then return nil, why, werr end
    n = n - #data
  end
  return true
end

-- a framing line of a chunked body (size line, chunk end, trailer): not counted as headers
local function frame_line(h, sock)
  if not set_timeout(h, sock) then return nil, "timeout" end
  local line, err = sock:receive("*l")
  if not line then return nil, err end
  if #line > 8192 then return nil, "invalid", "chunk framing line too long" end
  return line
end

local function read_chunked(h, sock, parts)
  while true do
    local line, err, detail = frame_line(h, sock)
    if not line then return nil, err, detail end
    local size = tonumber(line:match("^%s*(%x+)%s*[;]?") or "", 16)
    if not size then return nil, "invalid", "bad chunk size" end
    if size == 0 then
      repeat                                           -- trailers (counted as headers)
        line, err = head_line(h, sock)
        if not line then return nil, err end
      until line == ""
      return true
    end
    local ok, why, werr = read_exact(h, sock, parts, size)
    if not ok then return nil, why, werr end
    line, err, detail = frame_line(h, sock)
    if not line then return nil, err, detail end
    if line ~= "" then return nil, "invalid", "bad chunk end" end
  end
end

local function read_to_close(h, sock, parts)
  while true do
    if not set_timeout(h, sock) then return nil, "timeout" end
    local data, err, partial = sock:receive(CHUNK)
    local piece = data or partial
    if piece and piece ~= "" then
      local ok, why, werr = keep_body(h, parts, piece)
      if not ok then return nil, why, werr end
    end
    if not data then
      if err == "closed" then return true end
      return nil, err
    end
  end
end

local function has_token(v, token)
  if not v then return false end
  for item in v:lower():gmatch("[^,%s]+") do
    if item == token then return true end
  end
  return false
end

-- read the body as its framing says (RFC 9112 section 6.3); res.keep set when reusable
local function read_body(h, sock, res)
  local parts = {}
  local st, hd = res.status, res.headers
  local ok, why, detail = true, nil, nil
  local reusable = res.http_version == "1.1" and not has_token(hd.connection, "close")
    or res.http_version == "1.0" and has_token(hd.connection, "keep-alive")
  if h.method == "HEAD" or st == 204 or st == 304 or (st >= 100 and st < 200) then
    h.dl_total = 0
    if st == 101 then reusable = false end     -- the connection switched protocols
  elseif hd["transfer-encoding"] then
    if not has_token(hd["transfer-encoding"], "chunked") then
      reusable = false
      ok, why, detail = read_to_close(h, sock, parts)
    else
      ok, why, detail = read_chunked(h, sock, parts)
    end
  elseif hd["content-length"] then
    local cl = hd["content-length"]:match("^(%d+)$") or hd["content-length"]:match("^(%d+),")
    cl = tonumber(cl)
    if not cl then return nil, "invalid", "bad Content-Length" end
    h.dl_total = cl
    if cl > h.max_body then return nil, "too_large" end
    ok, why, detail = read_exact(h, sock, parts, cl)
  else
    reusable = false
    ok, why, detail = read_to_close(h, sock, parts)
  end
  if not ok then return nil, why, detail end
  res.body = h.sink and "" or table.concat(parts)
  res.body_bytes = h.received
  res.keep = reusable and h.keep_alive
  return true
end

-- one attempt on one connection: a response, or nil, msg, err, retry
local function attempt(t, h)
  local sock = ngx.socket.tcp()
  h.sock = sock
  local left = remaining(h)
  if not left then return io_error(h, "before connecting", "timeout") end
  sock:settimeouts(ms(math.min(left, t.connect_timeout)), ms(left), ms(left))
  local ok, err = sock:connect(h.ip, h.ip_port, { pool = h.pool })
  if not ok then
    if err == "timeout" then
      return fail("timeout", ("%s: connect to %s port %d timed out (%d ms)"):format(h.host, h.ip, h.ip_port,
        ms(math.min(left, t.connect_timeout))), false, false)
    end
    return fail("transport", ("%s: cannot connect to %s port %d: %s"):format(h.host, h.ip, h.ip_port,
      tostring(err)), false, false)
  end
  local reused = (sock:getreusedtimes() or 0) > 0
  h.connected = true
  h.timings.connect = now() - h.started
  if h.scheme == "https" and not reused then
    if not set_timeout(h, sock) then sock:close(); return io_error(h, "in the TLS handshake", "timeout") end
    -- lua-resty-core 0.1.25 raises ("assertion failed!") instead of returning an error
    -- when a handshake completes at once but verification then fails: a verify failure
    local raised, session
    raised, session, err = pcall(sock.sslhandshake, sock, nil, h.sni, true)
    if not raised then session, err = nil, "certificate verification failed" end
    if not session then
      sock:close()
      if err == "timeout" then return io_error(h, "in the TLS handshake", "timeout") end
      -- a certificate that fails verification (a "NN: reason" from OpenSSL, or a name
      -- mismatch) fails again; a broken handshake may not: curl codes 60 and 35
      local verify = not raised or tostring(err):match("^%d+:") or tostring(err):find("host mismatch", 1, true)
      return fail("tls", ("%s: TLS: %s"):format(h.host, tostring(err)), false, true, verify and 60 or 35)
    end
  end
  h.timings.tls = now() - h.started
  h.ul_now, h.head_bytes, h.received, h.wrote = 0, 0, 0, false
  local why
  ok, err, why = send_request(t, h, sock)
  if not ok then
    sock:close()
    if why == "file" then return fail("invalid_argument", h.host .. ": " .. err, true, true) end
    -- a pooled connection the server had closed: nothing of ours was read, try another
    if reused and not h.wrote and err ~= "timeout" then return nil, nil, nil, true end
    return io_error(h, "sending the request", err)
  end
  local res, detail
  res, err, detail = read_head(h, sock)
  if res then ok, err, detail = read_body(h, sock, res) end
  if not res or not ok then
    sock:close()
    if not h.got_bytes and reused and IDEMPOTENT[h.method]
      and (err == "closed" or err == "connection reset by peer") then
      return nil, nil, nil, true
    end
    if err == "too_large" then
      if not res then
        return fail("too_large", ("%s: response headers larger than %d bytes"):format(h.host, MAX_HEADERS),
          true, true)
      end
      return fail("too_large", ("%s: response body larger than max_body (%d bytes)"):format(h.host, h.max_body),
        true, true)
    elseif err == "sink" then
      return fail("transport", h.host .. ": cannot write the sink file: " .. tostring(detail), true, true)
    elseif err == "invalid" then
      return fail("transport", h.host .. ": invalid HTTP response: " .. tostring(detail), true, true)
    elseif err == "closed" and not h.got_bytes then
      return fail("transport", h.host .. ": empty reply from server (connection closed)", true, true)
    end
    return io_error(h, "receiving the response", err)
  end
  res.reused = reused
  if res.keep then sock:setkeepalive(POOL_IDLE_MS, POOL_SIZE) else sock:close() end
  res.keep = nil
  h.sock = nil
  return res
end

-- the body of a request's light thread
local function exchange(t, h)
  for _ = 1, MAX_ATTEMPTS do
    h.sent, h.connected, h.got_bytes = false, false, false
    local res, msg, err, retry = attempt(t, h)
    if not retry then
      if res then
        res.timings = h.timings
        h.timings.total = now() - h.started
      end
      return res, msg, err
    end
  end
  return fail("transport", h.host .. ": pooled connections keep failing", true, true)
end

local function run(t, h)
  local ok, res, msg, err = pcall(exchange, t, h)
  if not ok then
    res, msg, err = fail("transport", h.host .. ": internal error: " .. tostring(res), h.sent, h.connected)
  end
  release(h)
  h.exited = true
  t.nthreads = t.nthreads - 1
  wake_manager(t)
  finish(t, h, res, msg, err)
end

--------------------------------------------------------------------------- manager

-- The request threads live in a timer (ngx.timer.at), not in the nginx request that
-- started them: light threads whose parent is a user coroutine left suspended (a
-- cancelled or never-resumed job) would keep the request from ever finishing, and only
-- a thread's parent may kill it. The manager spawns and kills the threads, and exits
-- when the transport is closed or has been idle for MANAGER_IDLE seconds.
local function manager(premature, t)
  if premature then                                  -- the worker is exiting
    t.manager = nil
    local q = t.queue
    t.queue = {}
    for _, cmd in ipairs(q) do
      if cmd[1] == START then
        release(cmd[2])
        finish(t, cmd[2], fail("transport", cmd[2].host .. ": the nginx worker is exiting", false, false))
      end
    end
    return
  end
  t.manager_started = true
  while true do
    local q = t.queue
    if #q > 0 then
      t.queue = {}
      for _, cmd in ipairs(q) do
        local h = cmd[2]
        if cmd[1] == START then
          if h.state == "running" then
            t.nthreads = t.nthreads + 1
            local th, err = ngx.thread.spawn(run, t, h)
            if th then
              if not h.exited then h.thread = th end
            else
              t.nthreads = t.nthreads - 1
              release(h)
              finish(t, h, fail("transport", h.host .. ": cannot start a light thread: " .. tostring(err)))
            end
          end
        elseif h.thread and not h.exited then          -- KILL
          ngx.thread.kill(h.thread)
          h.exited = true
          t.nthreads = t.nthreads - 1
          if h.sock then pcall(h.sock.close, h.sock) end
          release(h)
        end
      end
    end
    if #t.queue == 0 then
      if t.nthreads == 0 then
        if t.closed or ngx.worker.exiting() then break end
        local ok = t.msema:wait(MANAGER_IDLE)
        if not ok and #t.queue == 0 and t.nthreads == 0 then break end
      else
        t.msema:wait(MANAGER_WAIT)
      end
    end
  end
  t.manager, t.manager_started = nil, nil
end

-- queue a command for the manager, starting it when needed; nil, err when nginx refuses
local function command(t, op, h)
  if op == KILL and not t.manager then return true end   -- no manager: no thread to kill
  t.queue[#t.queue + 1] = { op, h }
  if t.manager then
    wake_manager(t)
    return true
  end
  local ok, err = ngx.timer.at(0, manager, t)
  if not ok then
    t.queue[#t.queue] = nil
    return nil, err
  end
  t.manager, t.manager_at = true, now()
  return true
end

-- a manager timer nginx never ran (lua_max_running_timers reached): fail what waits for it
local function check_manager(t)
  if t.manager and not t.manager_started and now() - t.manager_at > MANAGER_LATE then
    t.manager = nil
    local q = t.queue
    t.queue = {}
    for _, cmd in ipairs(q) do
      if cmd[1] == START then
        release(cmd[2])
        finish(t, cmd[2], fail("transport", cmd[2].host .. ": the request could not start (nginx ran no timer:"
          .. " raise lua_max_running_timers)", false, false))
      end
    end
  end
end

--------------------------------------------------------------------------- interface

local function check_open(t)
  if getmetatable(t) ~= T then error("socialpush.transport.openresty: not a transport", 3) end
  if t.closed then error("attempt to use a closed socialpush.transport.openresty", 3) end
end

--- Start a request; nil, msg, err (invalid_argument, nothing sent) for bad input.
-- syntax: h, msg, err = t:start{method=, url=, headers=, body=, timeout=, max_body=, sink=}
function T:start(req)
  check_open(self)
  if type(req) ~= "table" then error("engine:add: table expected", 2) end
  for k in pairs(req) do
    if not REQ_KEYS[k] then error("engine:add: unknown option '" .. tostring(k) .. "'", 2) end
  end
  local h = setmetatable({ state = "running", ul_now = 0, ul_total = 0, received = 0, dl_total = 0,
    timings = { namelookup = 0, connect = 0, tls = 0 }, host = "?" }, H)
  local ok, msg = prepare(self, h, req)
  if not ok then
    release(h)
    h.state = "closed"
    return fail("invalid_argument", (h.host ~= "?" and (h.host .. ": ") or "") .. msg, false, false)
  end
  h.t = self
  h.started = now()
  h.deadline = h.started + h.timeout
  local queued, err = command(self, START, h)
  if not queued then
    release(h)
    h.state = "closed"
    return fail("transport", h.host .. ": cannot start the request: " .. tostring(err), false, false)
  end
  self.active[h] = true
  self.nrunning = self.nrunning + 1
  return h
end

--- Wait up to wait seconds (yielding to nginx) for a request to finish.
-- syntax: finished, running = t:step(wait)
function T:step(wait)
  check_open(self)
  if self.manager and not self.manager_started then check_manager(self) end
  if #self.finished == 0 then
    if wait and wait > 0 then
      self.sema:wait(wait)
    else
      ngx.sleep(0)                     -- one turn of the event loop: threads progress
    end
  end
  if #self.finished == 0 then return EMPTY, self.nrunning end
  local list = self.finished
  self.finished = {}
  return list, self.nrunning
end

--- Number of requests in flight.
-- syntax: n = t:running()
function T:running()
  return self.nrunning
end

--- Clock in seconds (ngx.now() after ngx.update_time()).
-- syntax: s = t:now()
function T.now()
  return now()
end

--- Close the transport; in-flight requests end as cancelled. Idempotent.
-- syntax: t:close()
function T:close()
  if self.closed then return end
  local list = {}
  for h in pairs(self.active) do list[#list + 1] = h end
  for _, h in ipairs(list) do h:cancel() end
  self.closed = true
  wake_manager(self)                   -- an idle manager exits now
end

local function check_handle(h)
  if getmetatable(h) ~= H then error("socialpush.transport.openresty: not a request", 3) end
  if h.state == "closed" then error("attempt to use a closed socialpush request", 3) end
end

--- Whether the request finished (response, error or cancel).
-- syntax: bool = h:done()
function H:done()
  check_handle(self)
  return self.state == "done"
end

--- The response {status, headers, header_list, body, body_bytes, http_version, reused,
-- timings}, or nil, msg, err. Raises before the request finished. With close true the
-- request is closed too (what the client does with every result).
-- syntax: res, msg, err = h:result([close])
function H:result(close)
  check_handle(self)
  if self.state ~= "done" then error("socialpush request: result() before it finished", 2) end
  local res, msg, err = self.res, self.msg, self.err
  if close then self:close() end
  if res then return res end
  return nil, msg, err
end

--- Bytes sent, upload size, bytes received, download size (0 when unknown).
-- syntax: sent, ul_total, received, dl_total = h:progress()
function H:progress()
  check_handle(self)
  return self.ul_now, self.ul_total, self.received, self.dl_total
end

--- Cancel a request in flight: its result becomes kind cancelled. Returns whether it was running.
-- syntax: bool = h:cancel()
function H:cancel()
  check_handle(self)
  if self.state ~= "running" then return false end
  local t = self.t
  self.state = "done"
  self.msg, self.err = select(2, fail("cancelled", self.host .. ": request cancelled", self.sent, self.connected))
  t.active[self] = nil
  t.nrunning = t.nrunning - 1
  if self.exited or not self.thread then
    release(self)
  end
  command(t, KILL, self)
  return true
end

--- Release the request (cancelling it when running). Idempotent.
-- syntax: h:close()
function H:close()
  if getmetatable(self) ~= H or self.state == "closed" then return end
  if self.state == "running" then self:cancel() end
  self.state = "closed"
  self.res = nil
end

function H.__tostring(h)
  return ("socialpush.request %s %s (%s)"):format(tostring(h.method), tostring(h.host), tostring(h.state))
end

function T.__tostring(t)
  return t.closed and "socialpush.transport.openresty (closed)" or "socialpush.transport.openresty"
end

M.now = now
return M
