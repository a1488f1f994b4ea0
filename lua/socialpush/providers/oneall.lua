--- socialpush.oneall: the 20 operations through a OneAll site's Push API.
-- POST https://<subdomain>.api.oneall.com/push/identities/<identity_token>/<resource>.json,
-- HTTP Basic public_key:private_key, body {"request":{"push":{"<object>":{...}}}}, answer
-- {"response":{"request":{"status":{flag, code, info}}, "result":{"data":{...}}}}.
-- Wire reference: PROVIDERS-ONEALL.md (tags there: [doc] read in OneAll's docs, [code] seen
-- in OneAll's SDK/examples, [unconfirmed] inferred). Media is always passed by URL: OneAll
-- downloads it. twitter/video and youtube/video are queued by OneAll (asynchronous).
local Handle = require "socialpush.pipeline.handle"
local pipeline = require "socialpush.pipeline"
local operations = require "socialpush.pipeline.operations"
local check = require "socialpush.pipeline.check"
local errors = require "socialpush.errors"
local json = require "socialpush.json"

local M = Handle.class {
  name = "oneall",
  host = "api.oneall.com",   -- https://<subdomain>.api.oneall.com [doc]
}
local mt = { __index = M, __tostring = Handle.tostring }

-- result.data keys that may carry the new object's id (post_id in the seed [doc];
-- the others are the Update API's id kinds [unconfirmed])
local ID_KEYS = { "post_id", "picture_id", "video_id", "pin_id", "board_id", "playlist_item_id",
  "playlist_id", "channel_section_id", "id" }

--------------------------------------------------------------------------- arguments

local function media_url(op, name, v)
  if type(v) == "table" and v.url ~= nil and v.file == nil and v.data == nil then v = v.url end
  if type(v) == "string" and v:match("^[hH][tT][tT][pP][sS]?://") then
    local ok, msg, err = check.url(op, { [name] = v }, name)
    if not ok then return nil, msg, err end
    return v
  end
  return check.fail(op, name, "OneAll downloads media itself: %s must be a URL ({url = \"https://...\"}),"
    .. " not a file or data", name)
end

-- the value of one field: nil (absent), or the value to send
local function value_of(op, f, name, v)
  local k, t = f.kind, { [name] = v }
  local ok, msg, err = true, nil, nil
  if k == "media" then return media_url(op, name, v)
  elseif k == "text" then ok, msg, err = check.text(op, t, name, { required = f.required })
  elseif k == "url" or k == "callback" then ok, msg, err = check.url(op, t, name)
  elseif k == "id" then ok, msg, err = check.id(op, t, name)
  elseif k == "enum" then ok, msg, err = check.one_of(op, t, name, f.set)
  elseif k == "bool" then ok, msg, err = check.boolean(op, t, name)
  elseif k == "int" then ok, msg, err = check.integer(op, t, name)
  elseif k == "strings" or k == "ids" then
    ok, msg, err = check.list(op, t, name, f.max)
    if ok then
      local out = json.array({})
      for i = 1, #v do
        local one = { [name] = v[i] }
        if k == "ids" then ok, msg, err = check.id(op, one, name)
        else ok, msg, err = check.text(op, one, name, { required = true }) end
        if not ok then return nil, msg, err end
        out[i] = one[name]
      end
      if #out == 0 then return nil end  -- OneAll treats [] as absent
      return out
    end
  end
  if not ok then return nil, msg, err end
  return t[name]
end

-- the names a field is given by: the direct call's argument, OneAll's key, its aliases
local function names_of(f)
  local names = { f.arg }
  if f.key ~= f.arg then names[#names + 1] = f.key end
  for _, a in ipairs(f.aliases or {}) do names[#names + 1] = a end
  return names
end

-- OneAll's object for an operation's arguments; nil, msg, err on bad input
local function object_of(op, r, args)
  local obj, used = {}, { extra = true }
  for _, f in ipairs(r.fields) do
    local name
    for _, n in ipairs(names_of(f)) do
      used[n] = true
      if args[n] ~= nil then
        if name then return check.fail(op, n, "give %s or %s, not both", name, n) end
        name = n
      end
    end
    if name == nil then
      if f.required then return check.fail(op, f.arg, "%s is required", f.arg) end
    else
      local v, msg, err = value_of(op, f, name, args[name])
      if msg then return nil, msg, err end
      if v == nil and f.required then return check.fail(op, name, "%s is required", name) end
      obj[f.key] = v
    end
  end
  if r.exclusive and obj.link ~= nil and obj.attachments ~= nil then
    return check.fail(op, "attachments", "give link or attachments, not both")
  end
  for k in pairs(args) do
    if not used[k] then
      return check.fail(op, tostring(k), "OneAll's %s takes no argument '%s' (other OneAll keys go in"
        .. " extra = {...})", operations.path(r, "<id>"), tostring(k))
    end
  end
  if args.extra ~= nil then
    if type(args.extra) ~= "table" then return check.fail(op, "extra", "extra must be a table") end
    for k, v in pairs(args.extra) do
      if type(k) ~= "string" or obj[k] ~= nil then
        return check.fail(op, "extra", "extra.%s repeats or is not a key", tostring(k))
      end
      obj[k] = v
    end
  end
  return obj
end

-- OneAll key -> argument name, for the field of a 400
local function field_names(r)
  local t = {}
  for _, f in ipairs(r.fields) do t[f.key] = f.arg end
  return t
end

--------------------------------------------------------------------------- errors

local STATUS_KIND = { [400] = "invalid_argument", [401] = "auth", [403] = "permission", [404] = "not_found",
  [409] = "provider", [429] = "rate_limited" }

-- the envelope's request.status, or nil
local function status_of(j)
  local r = type(j) == "table" and j.response
  local q = type(r) == "table" and r.request
  local s = type(q) == "table" and q.status
  return type(s) == "table" and s or nil
end

--- Map a refused answer to an error description (the only mapping): the HTTP status
-- gives the kind, request.status.code the code, request.status.info the message.
-- syntax: m = oneall.map_error(res, spec)
function M.map_error(res, spec)
  local st = status_of(res.json)
  local info = st and type(st.info) == "string" and st.info or nil
  local status = res.status
  local kind = STATUS_KIND[status] or pipeline.status_kind(status)
  local m = { kind = kind, code = st and tonumber(st.code) or nil, detail = info,
    retry_after = res.retry_after }
  local ctx = spec and spec.ctx or {}
  if status == 400 and info then
    local path = info:match("request%.push%.([%w_%.]+)")
    local key = path and path:gsub("%.+$", ""):match("([%w_]+)$")
    if key then m.field = ctx.fields and ctx.fields[key] or key end
    if info:find("link or attachments", 1, true) then m.field = "attachments" end
  end
  local instead = ctx.retired
  if status == 409 and instead and info and (info:lower():find("removed") or info:lower():find("deprecated")) then
    m.kind = "deprecated"
    m.detail = info .. " (use " .. instead .. " on a page instead)"
  end
  return m
end

--------------------------------------------------------------------------- results

local function undecodable(op, what, status)
  return errors.fail { kind = "decode", provider = M.name, operation = op, status = status,
    detail = "the reply is not a OneAll result envelope: it has " .. what }
end

-- the normalised result of a decoded envelope (a push answer or a callback body)
local function result_of(op, r, j, status, secrets, spec)
  local st = status_of(j)
  if not st then return undecodable(op, "no response.request.status", status) end
  if st.flag == "error" then
    local code = tonumber(st.code)
    local m = M.map_error({ status = code and code >= 400 and code or 409, json = j }, spec)
    return errors.fail { kind = m.kind, provider = M.name, operation = op, status = status, code = m.code,
      detail = m.detail, field = m.field, secrets = secrets }
  end
  local data = type(j.response.result) == "table" and j.response.result.data
  if type(data) ~= "table" then return undecodable(op, "no response.result.data", status) end
  local id
  for _, k in ipairs(ID_KEYS) do
    local v = data[k]
    if (type(v) == "string" and v ~= "") or type(v) == "number" then id = v break end
  end
  local queued = data.status == "queued"
  if id == nil and not queued then return undecodable(op, "no id in response.result.data", status) end
  local loc = type(data.post_location) == "string" and data.post_location or nil
  local res = pipeline.result(type(data.provider) == "string" and data.provider or (r and r.provider),
    type(data.object) == "string" and data.object or (r and r.object), id, loc, data)
  if queued then
    res.status = "queued"
    res.job_id = data.job_id ~= nil and tostring(data.job_id) or nil
  end
  return res
end

--- The normalised result of the body OneAll POSTs to a callback_url (the same envelope as
-- a synchronous success [unconfirmed]).
-- syntax: res, msg, err = oneall.parse_callback(body)   -- body: JSON text or decoded table
function M.parse_callback(body)
  local j = body
  if type(body) == "string" then
    local msg
    j, msg = json.decode(body)
    if j == nil then
      return errors.fail { kind = "decode", provider = M.name, operation = "oneall.callback", detail = msg }
    end
  end
  return result_of("oneall.callback", nil, j)
end

--------------------------------------------------------------------------- handle

--- Bind a OneAll site to a client (client:oneall{...}). Raises on bad options.
-- syntax: oa = oneall.new(client, {subdomain=, public_key=, private_key=, base_url=})
function M.new(client, opts)
  if type(opts) ~= "table" then error("socialpush: oneall{...} needs an options table", 3) end
  for _, k in ipairs { "public_key", "private_key" } do
    if type(opts[k]) ~= "string" or opts[k] == "" then error("socialpush: oneall{...}: " .. k .. " is required", 3) end
  end
  local base = opts.base_url
  if base ~= nil then
    if type(base) ~= "string" or not base:match("^[hH][tT][tT][pP][sS]://[^%s/?#]+[^%s?#]*$") then
      error("socialpush: oneall{...}: base_url must be an https URL", 3)
    end
    base = base:gsub("/+$", "")
  else
    local sub = opts.subdomain
    if type(sub) ~= "string" or not sub:match("^[%w%-]+$") then
      error("socialpush: oneall{...}: subdomain must be letters, digits and '-'", 3)
    end
    base = "https://" .. sub .. "." .. M.host
  end
  local h = Handle.new(mt, client, { username = opts.public_key, password = opts.private_key })
  h.base_url = base
  return h
end

--- Every call is HTTP Basic public_key:private_key [doc].
-- syntax: scheme = oneall.auth_scheme(creds)   -- "basic"
function M.auth_scheme() return "basic" end

-- operation name, resource, url, body; or nil, msg, err
local function prepare(h, identity_token, resource, args)
  if args == nil then args = {} end
  if type(args) ~= "table" then error("oneall:push: arguments must be a table", 3) end
  if type(h) ~= "table" or h.name ~= M.name then error("oneall:push: use ':' on a client:oneall{} handle", 3) end
  local r, pvalue, old = operations.resolve(resource)
  if not r then return check.fail("oneall.push", "resource", "unknown resource %q", tostring(resource)) end
  local op = "oneall." .. r.provider .. "." .. r.operation
  local tok = { identity_token = identity_token }
  local ok, msg, err = check.id(op, tok, "identity_token")
  if not ok then return nil, msg, err end
  local a = {}
  for k, v in pairs(args) do a[k] = v end
  local pfield = r.path_field
  if pfield and not old then
    if a[pfield] ~= nil and a[pfield] ~= pvalue then
      return check.fail(op, pfield, "%s differs from the one in the resource", pfield)
    end
    local t = { [pfield] = pvalue }
    ok, msg, err = check.id(op, t, pfield)
    if not ok then return nil, msg, err end
    -- sent in the body too when the resource has a key for it (pin.board, as OneAll had it)
    local in_body = false
    for _, f in ipairs(r.fields) do in_body = in_body or f.arg == pfield end
    a[pfield] = in_body and pvalue or nil
  elseif pfield then
    pvalue = a[pfield] or a.board
    if pvalue == nil then return check.fail(op, pfield, "%s is required", pfield) end
  end
  local obj
  obj, msg, err = object_of(op, r, a)
  if not obj then return nil, msg, err end
  local inner = obj
  for i = #r.key, 1, -1 do inner = { [r.key[i]] = inner } end
  local body
  body, msg = json.encode({ request = { push = inner } }, { sort_keys = true })
  if not body then return check.fail(op, "args", "%s", msg) end
  local path = old and r.old_resource or operations.path(r, pvalue)
  return op, r, h.base_url .. "/push/identities/" .. tok.identity_token .. "/" .. path .. ".json", body
end

--- The request a push would send, without sending it: {method, url, body, operation}.
-- syntax: req, msg, err = oa:build(identity_token, resource, args)
function M.build(h, identity_token, resource, args)
  local op, r, url, body = prepare(h, identity_token, resource, args)
  if not op then return nil, r, url end
  return { method = "POST", url = url, body = body, operation = op, object = r.object }
end

--- Push to one identity by OneAll resource name (the 20 of DESIGN §1), e.g. "facebook/page/post".
-- The queued video operations answer res.status = "queued" and res.job_id (no post_id yet);
-- OneAll POSTs the final result to args.callback_url (see oneall.parse_callback).
-- syntax: res, msg, err = oa:push(identity_token, resource, args)
function M.push(h, identity_token, resource, args)
  local op, r, url, body = prepare(h, identity_token, resource, args)
  if not op then return nil, r, url end
  local spec = { operation = op, method = "POST", url = url, body = body, content_type = "application/json",
    decode = "json", idempotent = false, expect = { 200, 201, 202 },
    ctx = { fields = field_names(r), retired = r.replacement } }
  local res, msg, err = h:call(spec)
  if not res then return nil, msg, err end
  return result_of(op, r, res.json, res.status, pipeline.secrets(h, spec), spec)
end

return M
