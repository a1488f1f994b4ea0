--- socialpush.gateway: a OneAll-compatible Push API served by nginx (OpenResty), publishing
-- through socialpush's own provider modules with credentials from an identity store.
--
--   POST /push/identities/<identity_token>/<resource>.json      (the 20 resources of DESIGN §1)
--   Authorization: Basic base64(public_key:private_key)
--   {"request":{"push":{"<object>":{...}}}}
--   → {"response":{"request":{"date","resource","status":{"flag","code","info"}},
--                  "result":{"data":{"provider","object","post_id","post_location"}}}}
--
-- Usage (docs/gateway.md, examples/nginx/):
--   init_by_lua_block {
--     package.loaded.push_gateway = require("socialpush.gateway").handler {
--       keys = { { public_key = "...", private_key = "..." } },
--       identities = "/etc/socialpush/identities.json",   -- or a table, or function(token)
--       client = { timeout = 60 },                         -- socialpush.new options
--       max_body = 1048576,
--     }
--   }
--   location /push/identities/ { content_by_lua_block { require("push_gateway")() } }
--
-- Order of checks: Basic auth (401) → method (405) → resource (404) → identity (404; 409
-- when it has no account on the resource's provider) → body size (413) → JSON (400) →
-- keys (400) → the direct call, whose error kinds map to statuses (M.STATUS).
-- Secrets (the keys, every credential of the identity) are scrubbed from every response
-- and log line; credentials are never logged.
local json = require "socialpush.json"
local errors = require "socialpush.errors"
local operations = require "socialpush.pipeline.operations"

local M = {}

M.AUTH_INFO = "Authentication credentials are missing or incorrect: "
  .. "http://docs.oneall.com/api/basic/authentication/"                      -- OneAll's text
M.OK_INFO = "Your request has been processed successfully"                    -- OneAll's text
M.QUEUED_INFO = "Your request has been queued and will be processed asynchronously"

--- HTTP status of the gateway's answer for each error kind of the direct call. An upstream
-- auth refusal is the identity's problem, not the caller's: 403, never 401.
M.STATUS = {
  invalid_argument = 400, too_large = 400, unsupported = 400,
  auth = 403, permission = 403, not_found = 404,
  duplicate = 409, deprecated = 409, provider = 409,
  rate_limited = 429,
  server = 502, decode = 502, transport = 502, tls = 502, cancelled = 503,
  timeout = 504,
}

------------------------------------------------------------------------- envelope

local function http_date()
  return os.date("!%a, %d %b %Y %H:%M:%S +0000", ngx.time())
end

--- The OneAll envelope of an answer (data: response.result.data, or nil).
-- syntax: t = gateway.envelope(status, info, resource [, data])
function M.envelope(status, info, resource, data)
  local t = { response = { request = { date = http_date(), resource = resource,
    status = { flag = status < 400 and "success" or "error", code = status, info = info } } } }
  if data then t.response.result = { data = data } end
  return t
end

--- Every secret of an identity's credentials (errors.secrets_of), for scrubbing.
-- syntax: list = gateway.secrets_of(t [, list])
function M.secrets_of(t, out) return errors.secrets_of(t, nil, out) end

local function send(status, info, resource, data, headers, secrets)
  if secrets then info = errors.scrub(info, secrets) end
  local body = assert(json.encode(M.envelope(status, info, resource, data), { sort_keys = true }))
  ngx.status = status
  ngx.header["Content-Type"] = "application/json; charset=utf-8"
  ngx.header["Cache-Control"] = "no-store"
  for k, v in pairs(headers or {}) do ngx.header[k] = v end
  ngx.print(body)
end

local function log(level, secrets, ...)
  local parts = { "socialpush.gateway: " }
  for i = 1, select("#", ...) do parts[#parts + 1] = tostring((select(i, ...))) end
  ngx.log(level, (errors.scrub(table.concat(parts), secrets or {})))
end

--------------------------------------------------------------------- configuration

local function check_config(cfg)
  if type(cfg) ~= "table" then error("gateway.handler: configuration table expected", 3) end
  local known = { keys = true, identities = true, client = true, max_body = true, async = true,
    callback_hosts = true, reload = true, realm = true }
  for k in pairs(cfg) do
    if not known[k] then error("gateway.handler: unknown option '" .. tostring(k) .. "'", 3) end
  end
  if type(cfg.keys) ~= "table" or #cfg.keys == 0 then
    error("gateway.handler: keys = {{public_key, private_key}, ...} expected", 3)
  end
  local keys = {}
  for i, k in ipairs(cfg.keys) do
    local pub = type(k) == "table" and (k.public_key or k[1])
    local priv = type(k) == "table" and (k.private_key or k[2])
    if type(pub) ~= "string" or type(priv) ~= "string" or pub == "" or priv == "" or pub:find(":", 1, true) then
      error("gateway.handler: keys[" .. i .. "] needs a public_key (no ':') and a private_key", 3)
    end
    keys[i] = { pub, priv }
  end
  local ids = cfg.identities
  if type(ids) ~= "table" and type(ids) ~= "string" and type(ids) ~= "function" then
    error("gateway.handler: identities must be a table, a JSON file path or a function", 3)
  end
  if cfg.client ~= nil and type(cfg.client) ~= "table" then error("gateway.handler: client must be a table", 3) end
  local max_body = cfg.max_body or 1024 * 1024
  if type(max_body) ~= "number" or max_body < 1 or max_body % 1 ~= 0 then
    error("gateway.handler: max_body must be a positive integer", 3)
  end
  local async = cfg.async or "sync"
  if async ~= "sync" and async ~= "queue" then error("gateway.handler: async must be 'sync' or 'queue'", 3) end
  local hosts
  if cfg.callback_hosts ~= nil then
    if type(cfg.callback_hosts) ~= "table" then error("gateway.handler: callback_hosts must be a list", 3) end
    hosts = {}
    for _, h in ipairs(cfg.callback_hosts) do hosts[tostring(h):lower()] = true end
  end
  local secrets = {}
  for _, k in ipairs(keys) do
    secrets[#secrets + 1] = k[1]
    secrets[#secrets + 1] = k[2]
  end
  return { keys = keys, identities = ids, client = cfg.client or {}, max_body = max_body, async = async,
    callback_hosts = hosts, reload = cfg.reload or 10, realm = cfg.realm or "socialpush gateway",
    key_secrets = secrets, cache = {} }
end

---------------------------------------------------------------------- authentication

local function digest(s) return ngx.sha1_bin(s) end

local bit   -- LuaJIT's bit library, loaded on first use

-- whether two equal-length strings are equal, in time independent of where they differ
local function same(a, b)
  bit = bit or require "bit"
  local diff = 0
  for i = 1, #a do diff = bit.bor(diff, bit.bxor(a:byte(i), b:byte(i))) end
  return diff == 0
end

-- the public key of a valid Basic authorization, or nil. Every pair is compared
-- (digests, constant time), so the time taken does not tell which part was wrong.
local function authenticate(g)
  local h = ngx.var.http_authorization
  if type(h) ~= "string" then return nil end
  local b64 = h:match("^%s*[Bb][Aa][Ss][Ii][Cc]%s+([%w+/=]+)%s*$")
  local plain = b64 and ngx.decode_base64(b64)
  if not plain then return nil end
  local pub, priv = plain:match("^([^:]*):(.*)$")
  if not pub then return nil end
  local dp, dk = digest(pub), digest(priv)
  local found
  for _, k in ipairs(g.keys) do
    local ok = same(dp, digest(k[1]))
    ok = same(dk, digest(k[2])) and ok
    if ok and not found then found = k[1] end
  end
  return found
end

------------------------------------------------------------------------ identities

local function read_file(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local s = f:read("*a")
  f:close()
  return s
end

-- the {provider = credentials} of a token; nil when unknown; raises when the store fails
local function lookup(g, token)
  local ids = g.identities
  if type(ids) == "function" then
    local v = ids(token)
    return type(v) == "table" and v or nil
  end
  if type(ids) == "string" then
    local c = g.cache
    if not c.data or ngx.now() - c.at >= g.reload then
      local text, err = read_file(ids)
      if not text then error("cannot read the identity store " .. ids .. ": " .. tostring(err), 0) end
      local v, msg = json.decode(text)
      if type(v) ~= "table" then error("identity store " .. ids .. " is not a JSON object: " .. tostring(msg), 0) end
      c.data, c.at = v, ngx.now()
    end
    ids = c.data
  end
  local v = ids[token]
  return type(v) == "table" and v or nil
end

--------------------------------------------------------------------------- request

-- the request body (at most max bytes) or nil, status, info
local function read_body(g)
  local cl = tonumber(ngx.var.http_content_length or "")
  if cl and cl > g.max_body then
    return nil, 413, ("The request body is larger than %d bytes"):format(g.max_body)
  end
  ngx.req.read_body()
  local data = ngx.req.get_body_data()
  if not data then
    local path = ngx.req.get_body_file()
    if path then
      local f = io.open(path, "rb")
      if not f then return nil, 500, "The request body could not be read" end
      local size = f:seek("end")
      if size and size > g.max_body then
        f:close()
        return nil, 413, ("The request body is larger than %d bytes"):format(g.max_body)
      end
      f:seek("set", 0)
      data = f:read("*a")
      f:close()
    end
  end
  data = data or ""
  if #data > g.max_body then
    return nil, 413, ("The request body is larger than %d bytes"):format(g.max_body)
  end
  return data
end

local function absent(v)
  return v == nil or v == "" or v == json.null or (type(v) == "table" and next(v) == nil)
end

local function is_url(v)
  return type(v) == "string" and v:match("^[hH][tT][tT][pP][sS]?://[^%s/?#]+[^%s]*$") ~= nil
end

local function is_id(v)
  if type(v) == "number" then return v >= 0 and v == math.floor(v) and v < 2 ^ 53 end
  return type(v) == "string" and v ~= "" and not v:find("[^%w_%-%.:]")
end

local function id_string(v)
  if type(v) == "number" then return ("%.0f"):format(v) end
  return v
end

-- one value of the request object as the direct argument; nil, reason when unusable
local function convert(f, v)
  local kind = f.kind
  if kind == "text" then
    if type(v) ~= "string" then return nil, "must be a string" end
    return v
  elseif kind == "url" or kind == "callback" then
    if not is_url(v) then return nil, "must be an http(s) URL" end
    return v
  elseif kind == "media" then
    -- only URLs: a plain string would mean a file path on this server
    if not is_url(v) then return nil, "must be the http(s) URL of the media" end
    return { url = v }
  elseif kind == "id" then
    if not is_id(v) then return nil, "must be an id (letters, digits, '_', '-', '.', ':')" end
    return id_string(v)
  elseif kind == "ids" or kind == "strings" then
    if type(v) ~= "table" or (next(v) ~= nil and v[1] == nil) then return nil, "must be a list" end
    local out = json.array({})
    for i, x in ipairs(v) do
      if kind == "ids" and not is_id(x) then return nil, "must be a list of ids" end
      if kind == "strings" and type(x) ~= "string" then return nil, "must be a list of strings" end
      out[i] = kind == "ids" and id_string(x) or x
    end
    return out
  elseif kind == "enum" then
    for _, x in ipairs(f.set) do if x == v then return v end end
    return nil, "must be one of " .. table.concat(f.set, ", ")
  elseif kind == "bool" then
    if type(v) ~= "boolean" then return nil, "must be a boolean" end
    return v
  elseif kind == "int" then
    if type(v) ~= "number" or v < 0 or v ~= math.floor(v) then return nil, "must be a non-negative integer" end
    return v
  end
  return nil, "is not supported"
end

-- the direct arguments of a request object; nil, info (400) on a bad key. With the older
-- path (old: pinterest/pin.json) the path's id comes in the body.
local function arguments(r, obj, where, path_value, old)
  local args, callback = {}, nil
  for key, v in pairs(obj) do
    local f = r.by_key[key]
    if not f then
      return nil, "Unknown key: " .. where .. "." .. tostring(key)
    elseif not absent(v) then
      local value, why = convert(f, v)
      if value == nil then return nil, "Invalid value for key: " .. where .. "." .. key .. " (" .. why .. ")" end
      if f.kind == "callback" then
        callback = value
      elseif f.direct == false then
        return nil, "The key " .. where .. "." .. key .. " is not supported by this gateway"
      elseif f.arg == r.path_field and not old then
        if value ~= path_value then
          return nil, "The key " .. where .. "." .. key .. " does not match the resource"
        end
      elseif args[f.arg] ~= nil then
        return nil, "The key " .. where .. "." .. key .. " repeats another key of the same field"
      else
        args[f.arg] = value
      end
    end
  end
  if old and r.path_field and args[r.path_field] == nil then
    return nil, "Missing key: " .. where .. ".board"
  end
  return args, callback
end

-- the OneAll key path of a direct argument, for error messages
local function key_of(r, where, field)
  for _, f in ipairs(r.fields) do
    if f.arg == field then return where .. "." .. f.key end
  end
  return nil
end

--- The result data of a normalised result (DESIGN §2): OneAll's seed shape, plus the id
-- under the Update API's name for pictures and videos.
-- syntax: data = gateway.data_of(res)
function M.data_of(res)
  local data = { provider = res.provider, object = res.object, post_id = res.post_id,
    post_location = res.post_location }
  if res.object == "picture" then data.picture_id = res.post_id end
  if res.object == "video" then data.video_id = res.post_id end
  return data
end

-- status, info, headers of a failed direct call
local function failure(def, where, msg, err)
  local kind = type(err) == "table" and err.kind or "transport"
  local status = M.STATUS[kind] or 500
  local info = tostring(msg or kind)
  if type(err) == "table" and err.field then
    local key = key_of(def, where, err.field)
    if key then info = info .. " (key " .. key .. ")" end
  end
  local headers
  if status == 429 and type(err) == "table" and err.retry_after then
    headers = { ["Retry-After"] = tostring(math.ceil(err.retry_after)) }
  end
  return status, info, headers, kind
end

-- run one push with a fresh client; res or nil, msg, err (a raise becomes kind transport)
local function push(g, provider, creds, resource, args, secrets)
  local socialpush = require "socialpush"
  local client = socialpush.new(g.client)
  local ok, res, msg, err = pcall(client.push, client, { [provider] = creds }, resource, args)
  client:close()
  if not ok then
    log(ngx.ERR, secrets, resource, ": internal error: ", res)
    return nil, "internal error while publishing", { kind = "internal" }   -- no M.STATUS entry: 500
  end
  return res, msg, err
end

local function callback_allowed(g, url)
  if not g.callback_hosts then return true end
  local host = url:match("^[hH][tT][tT][pP][sS]?://([^/:?#]+)")
  return host ~= nil and g.callback_hosts[host:lower()] == true
end

-- the queued job: publish, then POST the envelope to the callback URL (ngx.timer.at)
local function run_job(premature, g, job)
  if premature then return end
  local res, msg, err = push(g, job.provider, job.creds, job.resource, job.args, job.secrets)
  local env
  if res then
    local data = M.data_of(res)
    data.job_id, data.status = job.id, "done"
    env = M.envelope(200, M.OK_INFO, job.where, data)
  else
    local status, info = failure(job.def, job.key_where, msg, err)
    env = M.envelope(status, errors.scrub(info, job.secrets), job.where, { job_id = job.id, status = "failed" })
    log(ngx.WARN, job.secrets, "job ", job.id, " ", job.resource, ": ", status, " ", info)
  end
  if not job.callback then return end
  local body = assert(json.encode(env, { sort_keys = true }))
  local socialpush = require "socialpush"
  local client = socialpush.new(g.client)
  local cres, cmsg = client:request { method = "POST", url = job.callback, body = body,
    headers = { ["Content-Type"] = "application/json", ["User-Agent"] = "socialpush-gateway/" .. socialpush._VERSION } }
  client:close()
  if not cres or cres.status >= 300 then
    log(ngx.WARN, job.secrets, "job ", job.id, ": callback failed: ", cres and ("HTTP " .. cres.status) or cmsg)
  end
end

local function job_id()
  local s = require("socialpush.sign").hex(require("socialpush.sign").random(16))
  return ("%s-%s-4%s-8%s-%s"):format(s:sub(1, 8), s:sub(9, 12), s:sub(14, 16), s:sub(18, 20), s:sub(21, 32))
end

-- serve the current request with the checked configuration g
local function serve(g)
  local raw = (ngx.var.request_uri or ""):match("^[^?#]*")
  local token, name = raw:match("/push/identities/([^/]+)/(.+)%.json$")
  local where = token and ("/push/identities/" .. token .. "/" .. name .. ".json") or raw
  if not authenticate(g) then
    return send(401, M.AUTH_INFO, where, nil, { ["WWW-Authenticate"] = 'Basic realm="' .. g.realm .. '"' })
  end
  local method = ngx.req.get_method()
  if method ~= "POST" then
    return send(405, "The method " .. method .. " is not supported by this resource; use POST", where, nil,
      { Allow = "POST" })
  end
  if not token then return send(404, "The resource " .. raw .. " does not exist", where) end
  token, name = ngx.unescape_uri(token), ngx.unescape_uri(name)
  local def, pvalue, old = operations.resolve(name)
  if not def then return send(404, "The resource " .. where .. " does not exist", where) end
  local provider = def.provider
  local ok, identity = pcall(lookup, g, token)
  if not ok then
    log(ngx.ERR, g.key_secrets, "identity store: ", identity)
    return send(500, "The identity store is unavailable", where)
  end
  if not identity then
    return send(404, "The identity_token " .. token .. " is invalid or does not exist", where)
  end
  local creds = identity[provider]
  local secrets = {}
  for i, v in ipairs(g.key_secrets) do secrets[i] = v end
  M.secrets_of(identity, secrets)
  ngx.ctx.socialpush_gateway_secrets = secrets       -- for the handler's last-resort log
  if type(creds) ~= "table" then
    return send(409, "The identity " .. token .. " has no " .. provider .. " account", where, nil, nil, secrets)
  end
  local body, status, info = read_body(g)
  if not body then return send(status, info, where) end
  local doc, msg = json.decode(body)
  if doc == nil then
    return send(400, "The request body is not valid JSON: " .. tostring(msg), where, nil, nil, secrets)
  end
  local obj, key_where = type(doc) == "table" and type(doc.request) == "table" and doc.request.push, "request.push"
  for _, k in ipairs(def.key) do
    key_where = key_where .. "." .. k
    obj = type(obj) == "table" and obj[k] or nil
  end
  if type(obj) ~= "table" or obj[1] ~= nil or next(obj) == nil then
    return send(400, "Missing or empty key: " .. key_where, where, nil, nil, secrets)
  end
  local args, callback = arguments(def, obj, key_where, pvalue, old)
  if not args then return send(400, callback, where, nil, nil, secrets) end
  if callback and not callback_allowed(g, callback) then
    return send(400, "The callback_url host is not allowed: " .. key_where .. ".callback_url", where, nil, nil, secrets)
  end
  if def.async and g.async == "queue" then
    local job = { id = job_id(), provider = provider, creds = creds, resource = name, args = args,
      callback = callback, where = where, def = def, key_where = key_where, secrets = secrets }
    local tok, terr = ngx.timer.at(0, run_job, g, job)
    if not tok then
      log(ngx.ERR, secrets, "cannot queue ", name, ": ", terr)
      return send(503, "The request could not be queued", where)
    end
    return send(200, M.QUEUED_INFO, where, { provider = provider, object = "video", status = "queued",
      job_id = job.id, callback_url = callback })
  end
  local res
  res, msg, info = push(g, provider, creds, name, args, secrets)
  if not res then
    local headers, kind
    status, msg, headers, kind = failure(def, key_where, msg, info)
    log(status >= 500 and ngx.ERR or ngx.WARN, secrets, name, " for identity ", token, ": ", status, " ", kind,
      ": ", msg)
    return send(status, msg, where, nil, headers, secrets)
  end
  local data = M.data_of(res)
  if callback then data.callback_url = callback end
  return send(200, M.OK_INFO, where, data)
end

--- A content handler for the Push API: call the returned function in content_by_lua*.
-- cfg: keys = {{public_key=, private_key=} | {pub, priv}, ...}; identities = table
-- {[token] = {provider = creds}} | JSON file path | function(token) → that table or nil;
-- client = socialpush.new options; max_body (bytes, default 1 MiB); async = "sync" (video
-- uploads finish inside the request) | "queue" (answered at once, published in a timer,
-- the result POSTed to callback_url); callback_hosts (allowed callback hosts; any when nil);
-- reload (seconds an identity file stays cached, default 10); realm.
-- syntax: handler = gateway.handler(cfg); handler()
function M.handler(cfg)
  local g = check_config(cfg)
  return function()
    local ok, err = pcall(serve, g)
    if not ok then
      log(ngx.ERR, ngx.ctx.socialpush_gateway_secrets or g.key_secrets, "internal error: ", err)
      if not ngx.headers_sent then
        return send(500, "Internal error", (ngx.var.request_uri or ""):match("^[^?#]*"))
      end
    end
  end
end

--- Answer the current request with an error envelope: for error_page locations (e.g. the
-- 413 nginx sends when a body exceeds client_max_body_size).
-- syntax: gateway.error_page(status [, info])
function M.error_page(status, info)
  local defaults = { [413] = "The request body is too large", [400] = "Bad request",
    [401] = M.AUTH_INFO, [404] = "Not found", [405] = "Method not allowed", [500] = "Internal error" }
  local where = (ngx.var.request_uri or ""):match("^[^?#]*")
  return send(status, info or defaults[status] or "Error", where)
end

return M
