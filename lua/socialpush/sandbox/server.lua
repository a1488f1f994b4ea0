--- socialpush sandbox server framework (runs inside nginx: lua-nginx-module,
-- LuaJIT). Owns the request phases (access: fault matching; content:
-- faults then routing; header_filter; log: journal), the route table that
-- provider plug-ins fill, and the helpers they use: request bodies (string,
-- JSON, form, multipart, streaming), JSON responses, credential checks
-- (socialpush.sandbox.auth), shared state, the facebook mode and the
-- accounts fixture. Uses cjson + ngx + ffi only, never socialpush.core.
--
-- A provider plug-in is a module `socialpush.sandbox.providers.<name>` with
-- `register(server)`; see providers/example.lua and docs/sandbox.md.
local cjson = require("cjson")
local cjson_safe = require("cjson.safe")
local crypto = require("socialpush.sandbox.crypto")
local journal = require("socialpush.sandbox.journal")
local faults = require("socialpush.sandbox.faults")
local hosts = require("socialpush.sandbox.hosts")

local M = {}

--- provider plug-ins loaded at start (module names; plain require, so a
-- broken plug-in stops the sandbox from starting with its error in error.log)
M.providers = {
  "socialpush.sandbox.providers.oauth",   -- first: its Graph /me, /debug_token before facebook's GET /{id}
  "socialpush.sandbox.providers.facebook", "socialpush.sandbox.providers.linkedin",
  "socialpush.sandbox.providers.pinterest", "socialpush.sandbox.providers.twitter",
  "socialpush.sandbox.providers.youtube", "socialpush.sandbox.providers.oneall",
}

M.CONTROL_HOST = hosts.control
M.MEDIA_HOST = hosts.media
M.OTHER_HOST = hosts.other
M.auth = require("socialpush.sandbox.auth")
M.crypto = crypto

local meta = ngx.shared.socialpush_sandbox_meta
local sdict = ngx.shared.socialpush_sandbox_state

local EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
local CHUNK = 262144
local DEFAULT_LIMIT = 64 * 1024 * 1024

M.config = {}

local unpack = unpack or table.unpack -- luacheck: ignore

-- JSON --------------------------------------------------------------------

--- metatable marking a table to be encoded as a JSON array, even when empty
M.array_mt = {}

--- mark t (or a new table) as a JSON array
-- syntax: t = server.array(t)
function M.array(t)
  return setmetatable(t or {}, M.array_mt)
end

local RAW_MT = {}

--- verbatim JSON text inside an encoded value (e.g. an int64 id number)
-- syntax: v = server.raw("1445880548472328192")
function M.raw(text)
  return setmetatable({ text = text }, RAW_MT)
end

M.null = cjson.null

-- cjson cannot encode empty arrays nor integers >= 1e14 exactly: swap them
-- for placeholder strings, then put the real text back
local function prepare(v, raws, depth)
  if type(v) ~= "table" then
    if type(v) == "number" and v == math.floor(v) and (v >= 1e14 or v <= -1e14)
      and v < 2^53 and v > -2^53 then
      raws[#raws + 1] = string.format("%d", v)
      return "__sbxraw_" .. #raws .. "__"
    end
    return v
  end
  if depth > 200 then error("server.encode: nesting too deep") end
  local mt = getmetatable(v)
  if mt == RAW_MT then
    raws[#raws + 1] = v.text
    return "__sbxraw_" .. #raws .. "__"
  end
  if mt == M.array_mt and next(v) == nil then
    raws[#raws + 1] = "[]"
    return "__sbxraw_" .. #raws .. "__"
  end
  local out = {}
  for k, x in pairs(v) do out[k] = prepare(x, raws, depth + 1) end
  return out
end

--- JSON text of a Lua value (server.array / server.raw aware)
-- syntax: s = server.encode(value)
function M.encode(value)
  local raws = {}
  local s = cjson.encode(prepare(value, raws, 0))
  if #raws > 0 then
    s = s:gsub('"__sbxraw_(%d+)__"', function(i) return raws[tonumber(i)] end)
  end
  return s
end

--- decode JSON text
-- syntax: value = server.decode(s)   -- or nil, err
M.decode = cjson_safe.decode

-- responses -----------------------------------------------------------------

local function set_headers(headers)
  if headers then
    for k, v in pairs(headers) do ngx.header[k] = v end
  end
end

--- send a complete response (body may be nil)
-- syntax: server.send(status, body, headers)
function M.send(status, body, headers)
  ngx.status = status
  set_headers(headers)
  ngx.ctx.responded = true
  if body and body ~= "" and status ~= 204 and status ~= 304 then
    ngx.header["Content-Length"] = #body
    ngx.print(body)
  else
    if status ~= 204 and status ~= 304 then ngx.header["Content-Length"] = 0 end
    ngx.send_headers()
  end
  return true
end

--- send a JSON response (Content-Type application/json; charset=UTF-8)
-- syntax: server.json(status, value, headers)
function M.json(status, value, headers)
  ngx.header["Content-Type"] = "application/json; charset=UTF-8"
  return M.send(status, M.encode(value), headers)
end

--- the sandbox's own error shape (for framework-level failures)
-- syntax: server.fail(status, message)
function M.fail(status, message)
  return M.json(status, { error = { message = message, status = status, sandbox = true } })
end

-- requests ------------------------------------------------------------------

local Req = {}
Req.__index = Req

local function http_version()
  local v = ngx.req.http_version()
  if v == 2 then return "2" end
  if v == 1.0 then return "1.0" end
  return "1.1"
end

local function new_request()
  local uri = ngx.var.request_uri or "/"
  local path, query = uri:match("^([^?]*)%??(.*)$")
  local host = (ngx.var.host or ""):lower():gsub("%.$", "")
  return setmetatable({
    method = ngx.req.get_method(),
    scheme = "https",
    host = host,
    path = path,
    query = query,
    http_version = http_version(),
    connection = tonumber(ngx.var.connection),
    connection_requests = tonumber(ngx.var.connection_requests),
  }, Req)
end

--- first value of a request header (case-insensitive name)
-- syntax: v = req:header("Content-Type")
function Req:header(name)
  if not self._h then self._h = ngx.req.get_headers(0) end
  local v = self._h[name:lower()]
  if type(v) == "table" then return v[1] end
  return v
end

--- all request headers (lowercase names; repeated ones are lists)
-- syntax: t = req:headers()
function Req:headers()
  return ngx.req.get_headers(0)
end

--- query arguments (ngx.req.get_uri_args: repeated names are lists, valueless ones true)
-- syntax: t = req:args()
function Req:args()
  if not self._args then self._args = ngx.req.get_uri_args(0) end
  return self._args
end

--- media type of the request body, lowercased, without parameters
-- syntax: ct = req:content_type()   -- e.g. "application/json" or nil
function Req:content_type()
  local ct = self:header("content-type")
  if not ct then return nil end
  return (ct:match("^%s*([^;%s]+)") or ""):lower()
end

local function file_chunks(path, fn)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local n = 0
  while true do
    local s = f:read(CHUNK)
    if not s then break end
    fn(s)
    n = n + 1
    if n % 16 == 0 then collectgarbage("step", 4096) end
  end
  f:close()
  return true
end

-- read the whole body (memory up to client_body_buffer_size, else temp file)
local function read_all(req)
  if req._read then return true end
  req._read = true
  ngx.req.read_body()
  local data = ngx.req.get_body_data()
  if data then
    req._data = data
    req.body_size, req.body_sha256 = #data, crypto.sha256_hex(data)
    return true
  end
  local file = ngx.req.get_body_file()
  if not file then
    req._data = ""
    req.body_size, req.body_sha256 = 0, EMPTY_SHA256
    return true
  end
  req._file = file
  local h = crypto.sha256()
  local ok, err = file_chunks(file, function(s) h:update(s) end)
  if not ok then return nil, err end
  req.body_size, req.body_sha256 = h.size, h:final()
  return true
end
M.read_body = read_all

--- the request body as a string, at most limit bytes (default 64 MiB)
-- syntax: s = req:body(limit)   -- or nil, "too_large" | err
function Req:body(limit)
  local ok, err = read_all(self)
  if not ok then return nil, err end
  limit = limit or DEFAULT_LIMIT
  if self.body_size > limit then return nil, "too_large" end
  if self._data then return self._data end
  local f, ferr = io.open(self._file, "rb")
  if not f then return nil, ferr end
  local s = f:read("*a")
  f:close()
  return s
end

--- the body decoded as JSON
-- syntax: v = req:json(limit)   -- or nil, err
function Req:json(limit)
  local s, err = self:body(limit)
  if not s then return nil, err end
  local v, derr = cjson_safe.decode(s)
  if v == nil then return nil, "invalid JSON: " .. tostring(derr) end
  return v
end

--- the body decoded as application/x-www-form-urlencoded: name -> value
-- (first value; list is every {name, value} pair in order)
-- syntax: t, list = req:form(limit)   -- or nil, err
function Req:form(limit)
  local s, err = self:body(limit)
  if not s then return nil, err end
  local list = M.auth.pairs_of(s)
  local t = {}
  for _, p in ipairs(list) do
    if t[p[1]] == nil then t[p[1]] = p[2] end
  end
  return t, list
end

--- query + form parameters merged (first value wins), and the ordered list
-- syntax: t, list = req:params()
function Req:params()
  return M.auth.params(self)
end

local function header_param(value, name)
  local q = value:match(";%s*" .. name .. '%s*=%s*"([^"]*)"')
  return q or value:match(";%s*" .. name .. "%s*=%s*([^;%s]+)")
end

--- parse a multipart/form-data (or multipart/related) body
-- returns a list of parts {name=, filename=, content_type=, headers=, data=}
-- (also indexed by name: parts.by_name[name])
-- syntax: parts = req:multipart(limit)   -- or nil, err
function Req:multipart(limit)
  local ct = self:header("content-type") or ""
  if not ct:lower():match("^%s*multipart/") then return nil, "not multipart" end
  local boundary = header_param(ct, "boundary")
  if not boundary or boundary == "" then return nil, "no boundary" end
  local body, err = self:body(limit)
  if not body then return nil, err end
  local delim = "--" .. boundary
  local parts = { by_name = {} }
  local pos = body:find(delim, 1, true)
  if not pos then return nil, "no parts" end
  pos = pos + #delim
  while true do
    if body:sub(pos, pos + 1) == "--" then break end
    if body:sub(pos, pos + 1) ~= "\r\n" then return nil, "bad delimiter line" end
    local hend = body:find("\r\n\r\n", pos, true)
    if not hend then return nil, "unterminated part headers" end
    local part = { headers = {} }
    for line in body:sub(pos + 2, hend - 1):gmatch("[^\r\n]+") do
      local k, v = line:match("^([^:]+):%s*(.-)%s*$")
      if k then part.headers[k:lower()] = v end
    end
    local nxt = body:find("\r\n" .. delim, hend + 4, true)
    if not nxt then return nil, "unterminated part" end
    part.data = body:sub(hend + 4, nxt - 1)
    local cd = part.headers["content-disposition"]
    if cd then
      part.name = header_param(cd, "name")
      part.filename = header_param(cd, "filename")
    end
    part.content_type = part.headers["content-type"]
    parts[#parts + 1] = part
    if part.name and not parts.by_name[part.name] then parts.by_name[part.name] = part end
    pos = nxt + 2 + #delim
  end
  return parts
end

--- stream the body through fn(chunk) without holding it in memory
-- (HTTP/1.x with Content-Length: read from the request socket; chunked or
-- HTTP/2 bodies are spooled to a temp file by nginx first, then read back).
-- Returns the size and the hex SHA-256.
-- syntax: n, sha256 = req:stream(fn)   -- or nil, err
function Req:stream(fn)
  if self._read then
    if self._data then fn(self._data)
    elseif self._file then
      local ok, err = file_chunks(self._file, fn)
      if not ok then return nil, err end
    end
    return self.body_size, self.body_sha256
  end
  local te = (self:header("transfer-encoding") or ""):lower()
  local cl = tonumber(self:header("content-length") or "")
  if self.http_version ~= "2" and cl and not te:find("chunked", 1, true) then
    self._read = true
    self.body_size, self.body_sha256 = 0, EMPTY_SHA256
    if cl == 0 then return 0, EMPTY_SHA256 end
    local sock, err = ngx.req.socket()
    if not sock then return nil, err end
    sock:settimeout(60000)
    local h = crypto.sha256()
    local remaining = cl
    while remaining > 0 do
      local data, rerr = sock:receive(remaining < CHUNK and remaining or CHUNK)
      if not data then
        self.body_size, self.body_sha256 = h.size, h:final()
        return nil, rerr
      end
      h:update(data)
      fn(data)
      remaining = remaining - #data
      -- received strings are garbage at once: keep the heap from lagging far behind
      if h.size % (16 * CHUNK) < #data then collectgarbage("step", 4096) end
    end
    self.body_size, self.body_sha256 = h.size, h:final()
    return self.body_size, self.body_sha256
  end
  local ok, err = read_all(self)
  if not ok then return nil, err end
  return self:stream(fn)
end

-- shared state ----------------------------------------------------------------

--- provider state in a lua_shared_dict (JSON values; cleared by /_/reset)
M.state = {}

--- decoded value of key (nil when absent)
-- syntax: v = server.state.get(key)
function M.state.get(key)
  local s = sdict:get(key)
  if type(s) == "string" then return cjson.decode(s) end
  return s
end

--- store a JSON-encodable value (ttl in seconds, 0 = none)
-- syntax: ok, err = server.state.set(key, value, ttl)
function M.state.set(key, value, ttl)
  return sdict:set(key, cjson.encode(value), ttl or 0)
end

--- forget key
-- syntax: server.state.delete(key)
function M.state.delete(key)
  sdict:delete(key)
end

--- atomic counter (number values only)
-- syntax: n = server.state.incr(key, by, init)
function M.state.incr(key, by, init)
  return sdict:incr(key, by or 1, init or 0)
end

--- read-modify-write (atomic: one worker, no yield inside fn)
-- syntax: v = server.state.update(key, function(old) return new end, ttl)
function M.state.update(key, fn, ttl)
  local v = fn(M.state.get(key))
  if v == nil then sdict:delete(key) else M.state.set(key, v, ttl) end
  return v
end

--- keys starting with prefix
-- syntax: list = server.state.keys(prefix)
function M.state.keys(prefix)
  local out = {}
  for _, k in ipairs(sdict:get_keys(0)) do
    if prefix == nil or k:sub(1, #prefix) == prefix then out[#out + 1] = k end
  end
  table.sort(out)
  return out
end

local reset_hooks = {}

--- run fn() on every /_/reset (after state is cleared)
-- syntax: server.on_reset(fn)
function M.on_reset(fn)
  reset_hooks[#reset_hooks + 1] = fn
end

--- clear journal, faults, state and modes (the /_/reset endpoint)
-- syntax: server.reset()
function M.reset()
  journal.clear()
  faults.remove(nil)
  sdict:flush_all()
  sdict:flush_expired()
  for name in pairs(M.MODES) do meta:delete("mode:" .. name) end
  for _, fn in ipairs(reset_hooks) do fn() end
end

-- modes and fixture -------------------------------------------------------------

M.MODES = { facebook = { today = true, historic = true } }
local DEFAULT_MODES = { facebook = "today" }

--- current mode of a switch ("facebook": "today" | "historic")
-- syntax: m = server.mode("facebook")
function M.mode(name)
  return meta:get("mode:" .. name) or DEFAULT_MODES[name]
end

--- set a mode switch
-- syntax: ok, err = server.set_mode(name, value)
function M.set_mode(name, value)
  if not M.MODES[name] then return nil, "unknown mode '" .. tostring(name) .. "'" end
  if not M.MODES[name][value] then return nil, "bad value for mode " .. name end
  meta:set("mode:" .. name, value)
  return true
end

--- the accounts fixture (shared: do not modify)
-- syntax: t = server.accounts()
function M.accounts()
  return require("socialpush.sandbox.accounts")
end

-- routing ---------------------------------------------------------------------

local routes = {}

local function set_of(v, upper)
  if v == nil or v == "*" or v == "ANY" then return nil end
  local t = {}
  for _, x in ipairs(type(v) == "table" and v or { v }) do
    t[upper and x:upper() or x:lower()] = true
  end
  return t
end

--- register a route: host(s) ("*" any), method(s) ("ANY"), a Lua pattern
-- matched against the whole raw path (anchors added), a handler called as
-- handler(req, captures...) that sends one response with server.json/send.
-- opts.stream = true: the body is not read before the handler (use req:stream).
-- syntax: server.route(hosts, methods, pattern, handler, opts)
function M.route(host, method, pattern, handler, opts)
  assert(type(pattern) == "string", "route: pattern must be a string")
  assert(type(handler) == "function", "route: handler must be a function")
  if pattern:sub(1, 1) ~= "^" then pattern = "^" .. pattern end
  if pattern:sub(-1) ~= "$" or pattern:sub(-2) == "%$" then pattern = pattern .. "$" end
  routes[#routes + 1] = {
    hosts = set_of(host), methods = set_of(method, true), pattern = pattern,
    handler = handler, opts = opts or {},
  }
end

local function find_route(host, method, path)
  local other_method = false
  for _, r in ipairs(routes) do
    if r.hosts == nil or r.hosts[host] then
      local caps = { path:match(r.pattern) }
      if caps[1] ~= nil then
        if r.methods == nil or r.methods[method] or (method == "HEAD" and r.methods.GET) then
          if #caps == 1 and caps[1] == path and not r.pattern:find("%(") then caps = {} end
          return r, caps
        end
        other_method = true
      end
    end
  end
  return nil, nil, other_method
end

-- phases ------------------------------------------------------------------------

--- init_by_lua: cfg = {dir=, port=, providers={module names}}
-- syntax: server.init(cfg)
function M.init(cfg)
  M.config = cfg or {}
  require("socialpush.sandbox.control").register(M)
  require("socialpush.sandbox.endpoints").register(M)
  for _, name in ipairs(M.providers) do require(name).register(M) end
  for _, name in ipairs(M.config.providers or {}) do require(name).register(M) end
end

--- access_by_lua: build the request, match fault rules
-- syntax: server.access()
function M.access()
  local ctx = ngx.ctx
  local req = new_request()
  ctx.req = req
  if req.host == M.CONTROL_HOST and req.path:sub(1, 3) == "/_/" then
    ctx.control = true
    return
  end
  ctx.headers = journal.masked_headers()
  ctx.fault = faults.match(req.host, req.method, req.path)
end

-- read up to n bytes of the body, then close the connection without a response
local function drop(req, n)
  ngx.ctx.dropped = true
  req._read = true
  local h = crypto.sha256()
  req.body_size, req.body_sha256 = 0, EMPTY_SHA256
  if req.http_version ~= "2" and n > 0 then
    -- HTTP/2 request bodies cannot be read partially with lua-nginx-module
    -- 0.10.23 (ngx.req.socket: "http v2 not supported yet"): reset at once
    local te = (req:header("transfer-encoding") or ""):lower()
    local chunked = te:find("chunked", 1, true) ~= nil
    local cl = tonumber(req:header("content-length") or "") or 0
    local sock = ngx.req.socket(chunked)
    local remaining = chunked and n or math.min(n, cl)
    if sock then
      sock:settimeout(30000)
      while remaining > 0 do
        local data, _, partial = sock:receive(remaining < CHUNK and remaining or CHUNK)
        data = data or partial
        if not data or data == "" then break end
        h:update(data)
        remaining = remaining - #data
      end
    end
    req.body_size, req.body_sha256 = h.size, h:final()
  end
  return ngx.exit(444)
end

local function dispatch(req)
  local route, caps, other_method = find_route(req.host, req.method, req.path)
  if not route then
    read_all(req)
    if other_method then
      return M.fail(405, "method " .. req.method .. " not allowed for " .. req.path)
    end
    return M.fail(404, "no sandbox route for " .. req.method .. " " .. req.host .. req.path)
  end
  if not route.opts.stream then
    local ok, err = read_all(req)
    if not ok then return M.fail(400, "cannot read the request body: " .. tostring(err)) end
  end
  local ok, err = xpcall(function() return route.handler(req, unpack(caps)) end,
    debug.traceback)
  if not ok then
    ngx.log(ngx.ERR, "sandbox handler for ", req.method, " ", req.host, req.path, ": ", err)
    if not ngx.headers_sent then return M.fail(500, "sandbox handler failed (see error.log)") end
    return
  end
  if not ngx.ctx.responded and not ngx.headers_sent then
    return M.fail(500, "sandbox handler sent no response")
  end
end

--- content_by_lua: apply the fault rule (delay, drop, canned response), else route
-- syntax: server.content()
function M.content()
  local ctx = ngx.ctx
  local req = ctx.req
  local rule = ctx.fault
  if rule then
    if rule.delay_ms and rule.delay_ms > 0 then ngx.sleep(rule.delay_ms / 1000) end
    if rule.drop_after_bytes then return drop(req, rule.drop_after_bytes) end
    if faults.responds(rule) then
      read_all(req)
      ctx.responded = true
      return faults.respond(rule)
    end
  end
  return dispatch(req)
end

--- header_filter_by_lua: headers of a pass-through fault rule
-- syntax: server.header_filter()
function M.header_filter()
  local rule = ngx.ctx.fault
  if rule and not faults.responds(rule) and not rule.drop_after_bytes then
    ngx.header["X-Sandbox-Fault"] = tostring(rule.id)
    for k, v in pairs(rule.headers or {}) do ngx.header[k] = tostring(v) end
  end
end

--- log_by_lua: one journal entry per non-control request
-- syntax: server.log()
function M.log()
  local ctx = ngx.ctx
  local req = ctx.req
  if not req or ctx.control then return end
  local entry = {
    time = ngx.req.start_time(),
    method = req.method,
    host = req.host,
    path = req.path,
    query = journal.mask_query(req.query),
    headers = ctx.headers or {},
    body_size = req.body_size or 0,
    body_sha256 = req.body_sha256 or EMPTY_SHA256,
    connection = req.connection,
    connection_requests = req.connection_requests,
    http_version = req.http_version,
    status = ctx.dropped and 444 or ngx.status,
  }
  if ctx.fault then entry.fault = ctx.fault.id end
  journal.add(entry)
end

return M
