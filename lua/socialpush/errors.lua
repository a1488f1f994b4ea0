--- socialpush.errors: the error object of every operational failure.
-- Failures return nil, message, err; err has a metatable whose __tostring gives
-- the message, and the fields kind, provider, operation, status, code, subcode,
-- field, retry_after, retryable, request_id.
local core = require "socialpush.core"

local M = {}

--- The error kinds (DESIGN §2).
M.kinds = {
  invalid_argument = "invalid argument", auth = "authentication failed",
  permission = "permission denied", not_found = "not found", duplicate = "duplicate content",
  rate_limited = "rate limited", too_large = "too large", unsupported = "unsupported",
  deprecated = "deprecated", provider = "refused by the provider", server = "provider server error",
  timeout = "timed out", tls = "TLS failure", transport = "transport failure",
  decode = "undecodable response", cancelled = "cancelled",
}

-- kinds that may succeed when tried again later
local retryable = { rate_limited = true, server = true, timeout = true, transport = true }

local FIELDS = { "kind", "message", "provider", "operation", "status", "code", "subcode", "field",
  "retry_after", "retryable", "request_id", "detail" }

local mt = core.error_mt   -- shared with C: lsp_fail() builds errors with it
local methods = {}
mt.__index = methods

--- Whether err is a socialpush error (of the given kind, when kind is given).
-- syntax: bool = errors.is(err [, kind])
function M.is(e, kind)
  if getmetatable(e) ~= mt then return false end
  return kind == nil or e.kind == kind
end

function methods:is(kind) return self.kind == kind end

local function default_message(t)
  local parts = {}
  if t.operation then parts[#parts + 1] = t.operation .. ": " end
  parts[#parts + 1] = M.kinds[t.kind]
  if t.status then parts[#parts + 1] = " (HTTP " .. t.status
    .. (t.code and (", code " .. tostring(t.code)) or "") .. ")" end
  if t.detail then parts[#parts + 1] = ": " .. tostring(t.detail) end
  return table.concat(parts)
end

--- Build an error object. Raises if kind is not one of M.kinds (a programming error).
-- syntax: err = errors.new{kind=, message=, provider=, operation=, status=, code=, ...}
function M.new(t)
  if M.kinds[t.kind] == nil then
    error("socialpush.errors: unknown error kind " .. tostring(t.kind), 2)
  end
  local e = {}
  for _, k in ipairs(FIELDS) do e[k] = t[k] end
  if e.retryable == nil then e.retryable = retryable[e.kind] or false end
  if e.message == nil then e.message = default_message(e) end
  if t.secrets then
    e.message = M.scrub(e.message, t.secrets)
    if type(e.detail) == "string" then e.detail = M.scrub(e.detail, t.secrets) end
  end
  return setmetatable(e, mt)
end

--- Return nil, message, err for a new error: the triple of every failure.
-- syntax: return errors.fail{kind=, ...}
function M.fail(t)
  local e = M.new(t)
  return nil, e.message, e
end

--- Give an existing error (e.g. from C) more context; returns nil, msg, err.
-- syntax: return errors.wrap(err, {operation=, provider=})
function M.wrap(e, t)
  for k, v in pairs(t) do if e[k] == nil then e[k] = v end end
  if t.operation and e.message and e.message:sub(1, #t.operation + 1) ~= t.operation .. ":" then
    e.message = t.operation .. ": " .. e.message
  end
  if e.retryable == nil then e.retryable = retryable[e.kind] or false end
  return nil, e.message, e
end

-- secrets longest first, so that a secret containing another is masked whole
local function by_length(list)
  local sorted = {}
  for _, v in pairs(list) do
    if type(v) == "string" and #v >= 4 then sorted[#sorted + 1] = v end
  end
  table.sort(sorted, function(a, b) return #a > #b end)
  return sorted
end

--- Replace every occurrence of each secret in s with "***" (plain search, no patterns).
-- syntax: s = errors.scrub(s, {secret1, secret2, ...})
function M.scrub(s, secrets)
  if type(s) ~= "string" then return s end
  for _, secret in ipairs(by_length(secrets)) do
    local out, i = {}, 1
    while true do
      local a, b = s:find(secret, i, true)
      if not a then break end
      out[#out + 1] = s:sub(i, a - 1)
      out[#out + 1] = "***"
      i = b + 1
    end
    out[#out + 1] = s:sub(i)
    s = table.concat(out)
  end
  return s
end

local sign   -- socialpush.sign, on first use

--- Add a secret and the forms it travels in (percent-encoded, base64, base64url) to list.
-- syntax: list = errors.add_secret(list, s)
function M.add_secret(list, s)
  if type(s) ~= "string" or #s < 4 then return list end
  sign = sign or require "socialpush.sign"
  list[#list + 1] = s
  for _, f in ipairs { sign.percent_encode(s), sign.base64(s), sign.base64url(s) } do
    if f ~= s then list[#list + 1] = f end
  end
  return list
end

--- Every string of a credentials table (nested tables too) but the keys of `public` (ids,
-- URLs that must stay readable in messages), with the forms they travel in: what messages
-- must never show. The one collector of secrets (pipeline, gateway, token flows).
-- syntax: list = errors.secrets_of(t [, public [, list]])
function M.secrets_of(t, public, out)
  out = out or {}
  if type(t) ~= "table" then return out end
  for k, v in pairs(t) do
    if not (public and public[k]) then
      if type(v) == "string" then M.add_secret(out, v)
      elseif type(v) == "table" then M.secrets_of(v, public, out) end
    end
  end
  return out
end

M.mt = mt
return M
