--- socialpush.pipeline: the client pipeline every provider operation goes through.
-- validate → authenticate/sign → send → decode → map errors → normalise.
-- Provider modules describe a call as a plain table (a "spec") and hand it to
-- pipeline.call; they hold no transport, crypto or JSON code of their own.
local json = require "socialpush.json"
local sign = require "socialpush.sign"
local errors = require "socialpush.errors"

local M = {}

local pct = sign.percent_encode

-- list of {k, v} pairs from a map (sorted, so requests are deterministic) or a pair list
local function pairs_of(t)
  if t == nil then return {} end
  if t[1] ~= nil and type(t[1]) == "table" then return t end
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  local out = {}
  for i, k in ipairs(keys) do out[i] = { k, t[k] } end
  return out
end
M.pairs_of = pairs_of

local function scalar(v)
  if v == true then return "true" elseif v == false then return "false" end
  if type(v) == "table" then return (assert(json.encode(v))) end
  return tostring(v)
end

--- application/x-www-form-urlencoded (RFC 3986 encoding) of a map or pair list.
-- syntax: s = pipeline.form_encode(t)
function M.form_encode(t)
  local out = {}
  for _, kv in ipairs(pairs_of(t)) do
    if kv[2] ~= nil then out[#out + 1] = pct(kv[1]) .. "=" .. pct(scalar(kv[2])) end
  end
  return table.concat(out, "&")
end

--- url with the query parameters of t appended.
-- syntax: url = pipeline.with_query(url, t)
function M.with_query(url, t)
  local q = M.form_encode(t)
  if q == "" then return url end
  return url .. (url:find("?", 1, true) and "&" or "?") .. q
end

-- every secret string of a credentials table, for scrubbing messages
local function secrets_of(creds)
  local out = {}
  for _, v in pairs(creds or {}) do
    if type(v) == "string" and #v >= 6 then out[#out + 1] = v end
  end
  return out
end
M.secrets_of = secrets_of

-- Authentication schemes (spec.auth). Each returns nil on success, or msg when the
-- credentials lack what the scheme needs.
local schemes = {}

function schemes.none() end

function schemes.bearer(spec, creds, headers)
  local tok = creds.access_token or creds.bearer_token
  if type(tok) ~= "string" or tok == "" then return "access_token" end
  headers[#headers + 1] = { "Authorization", "Bearer " .. tok }
end

-- Facebook's Resumable Upload API wants "Authorization: OAuth <token>"
function schemes.oauth_token(spec, creds, headers)
  local tok = creds.access_token
  if type(tok) ~= "string" or tok == "" then return "access_token" end
  headers[#headers + 1] = { "Authorization", "OAuth " .. tok }
end

function schemes.basic(spec, creds, headers)
  if type(creds.username) ~= "string" or type(creds.password) ~= "string" then return "username" end
  headers[#headers + 1] = { "Authorization", "Basic " .. sign.base64(creds.username .. ":" .. creds.password) }
end

-- OAuth 1.0a user context: the URL's query and a form body are signed, JSON and
-- multipart bodies are not (RFC 5849 §3.4.1.3.1).
function schemes.oauth1(spec, creds, headers, url)
  for _, k in ipairs { "consumer_key", "consumer_secret", "token", "token_secret" } do
    if type(creds[k]) ~= "string" or creds[k] == "" then return k end
  end
  local params
  if spec.form then
    params = {}
    for i, kv in ipairs(pairs_of(spec.form)) do params[i] = { kv[1], scalar(kv[2]) } end
  end
  local header, msg = sign.oauth1_header {
    method = spec.method, url = url, params = params,
    consumer_key = creds.consumer_key, consumer_secret = creds.consumer_secret,
    token = creds.token, token_secret = creds.token_secret,
  }
  if not header then return "url", msg end
  headers[#headers + 1] = { "Authorization", header }
end

-- Facebook REST API: md5 sig over every form parameter (added to spec.form)
function schemes.legacy_sig(spec, creds)
  if type(creds.secret) ~= "string" or creds.secret == "" then return "secret" end
  local params = {}
  for _, kv in ipairs(pairs_of(spec.form)) do params[kv[1]] = scalar(kv[2]) end
  spec.form = pairs_of(spec.form)
  spec.form[#spec.form + 1] = { "sig", sign.legacy_sig(params, creds.secret) }
end

--- Build the request a spec describes: url, headers, body (nothing is sent).
-- syntax: req, msg, err = pipeline.build(spec)
function M.build(spec)
  local creds = spec.creds or {}
  local query = spec.query and pairs_of(spec.query) or {}
  if spec.appsecret_proof and creds.app_secret and creds.access_token then
    query[#query + 1] = { "appsecret_proof", sign.appsecret_proof(creds.access_token, creds.app_secret) }
  end
  local url = M.with_query(spec.url, query)
  local headers = {}
  for _, kv in ipairs(pairs_of(spec.headers)) do headers[#headers + 1] = kv end
  local scheme = schemes[spec.auth or "bearer"]
  if not scheme then error("pipeline: unknown auth scheme " .. tostring(spec.auth), 2) end
  local missing, why = scheme(spec, creds, headers, url)
  if missing then
    return errors.fail { kind = "invalid_argument", field = missing, provider = spec.provider.name,
      operation = spec.operation,
      message = spec.operation .. ": " .. (why and ("cannot sign: " .. why) or ("credentials lack " .. missing)) }
  end
  local body
  if spec.json ~= nil then
    local s, msg = json.encode(spec.json)
    if not s then
      return errors.fail { kind = "invalid_argument", operation = spec.operation,
        message = spec.operation .. ": " .. msg }
    end
    body = s
    headers[#headers + 1] = { "Content-Type", spec.content_type or "application/json" }
  elseif spec.form ~= nil then
    body = M.form_encode(spec.form)
    headers[#headers + 1] = { "Content-Type", "application/x-www-form-urlencoded" }
  elseif spec.multipart ~= nil then
    body = { multipart = spec.multipart }
  else
    body = spec.body
    if spec.content_type then headers[#headers + 1] = { "Content-Type", spec.content_type } end
  end
  return { method = spec.method, url = url, headers = headers, body = body,
    idempotent = spec.idempotent, timeout = spec.timeout, operation = spec.operation,
    on_progress = spec.on_progress, sink = spec.sink, max_body = spec.max_body }
end

local function is_expected(spec, status)
  if spec.expect then
    for _, s in ipairs(spec.expect) do if s == status then return true end end
    return false
  end
  return status >= 200 and status < 300
end

-- Retry-After: seconds, or an HTTP date
local function retry_after_of(headers)
  local v = headers and headers["retry-after"]
  if not v then return nil end
  local n = tonumber(v)
  if n then return n end
  return nil
end
M.retry_after_of = retry_after_of

local DEFAULT_KIND = { [400] = "provider", [401] = "auth", [403] = "permission", [404] = "not_found",
  [409] = "provider", [413] = "too_large", [415] = "unsupported", [422] = "invalid_argument",
  [429] = "rate_limited" }

--- The kind a bare HTTP status maps to when a provider says nothing more.
function M.status_kind(status)
  if status >= 500 then return "server" end
  return DEFAULT_KIND[status] or "provider"
end

-- turn a refused response into nil, msg, err through the provider's mapping
local function refuse(spec, res)
  local m = spec.provider.map_error(res, spec) or {}
  local kind = m.kind or M.status_kind(res.status)
  local detail = m.detail
  if type(detail) ~= "string" then detail = nil end
  return errors.fail {
    kind = kind, provider = spec.provider.name, operation = spec.operation, status = res.status,
    code = m.code, subcode = m.subcode, detail = detail, field = m.field,
    retry_after = m.retry_after or retry_after_of(res.headers), retryable = m.retryable,
    request_id = m.request_id, secrets = secrets_of(spec.creds),
  }
end

--- Send a spec through the client and return the decoded response.
-- syntax: res, msg, err = pipeline.call(client, spec)
-- res = {status=, headers=, body=, json=}; res.json is the decoded body (nil when empty)
function M.call(client, spec)
  local req, msg, err = M.build(spec)
  if not req then return nil, msg, err end
  local res, _, rerr = client:request(req)
  if not res then
    return errors.wrap(rerr, { operation = spec.operation, provider = spec.provider.name })
  end
  local body = res.body
  if body and body ~= "" and spec.decode ~= "none" then
    local ctype = res.headers and res.headers["content-type"] or ""
    if spec.decode == "json" or ctype:find("json", 1, true) or body:match("^%s*[%[{\"]") then
      local v, dmsg = json.decode(body)
      if v == nil and dmsg then
        if is_expected(spec, res.status) then
          return errors.fail { kind = "decode", provider = spec.provider.name, operation = spec.operation,
            status = res.status, detail = dmsg }
        end
      else
        res.json = v
      end
    end
  end
  if not is_expected(spec, res.status) then return refuse(spec, res) end
  return res
end

--- The normalised result of every operation (DESIGN §2): post_id is always a string.
-- syntax: return pipeline.result(provider, object, post_id, post_location, raw)
function M.result(provider, object, post_id, post_location, raw)
  return { provider = provider, object = object, post_id = post_id ~= nil and tostring(post_id) or nil,
    post_location = post_location, raw = raw }
end

return M
