--- socialpush.pipeline: what every provider request goes through.
-- A provider module describes one HTTP call as a plain table, the call spec, and hands it
-- to h:call(spec) (socialpush.pipeline.handle), which comes here:
--   check the spec → build the request (URL and query, headers, body; the auth scheme's
--   headers and parameters) → client:request (transport, retry policy) → decode JSON →
--   refuse an unexpected status through the provider's map_error → the response.
-- Nothing here knows a provider: endpoint data, checks and error tables live in the
-- provider modules (docs/architecture.md, "The provider contract").
local json = require "socialpush.json"
local errors = require "socialpush.errors"
local form = require "socialpush.pipeline.form"
local schemes = require "socialpush.pipeline.schemes"

local M = {}

local ANY = { ["nil"] = true, boolean = true, number = true, string = true, table = true, userdata = true }

--- The fields of a call spec, and their types. Unknown fields are a library bug: they raise.
-- operation  "provider.name" of the operation (errors, progress)
-- method, url, query (map or pair list), headers (map or pair list)
-- body: json (any value, sent as JSON), form (parameter set), multipart (parts), body
--   (string or {file=, offset=, length=}) with content_type
-- auth: nil (the provider's default scheme), a scheme name of socialpush.pipeline.schemes,
--   or a scheme function (provider-specific); creds: the credentials to use instead of
--   the handle's (also what is masked in messages)
-- idempotent (false for creates: never re-sent blindly), retries, timeout, max_body, sink
-- expect: statuses that are answers (default 2xx); decode: "json" | "none" (default: by
--   content type); ctx: provider-private context handed to map_error (spec.ctx)
-- progress: {phase=, base=, total=} — this request carries bytes [base, base + n) of an
--   operation's total (socialpush.pipeline.handle reports whole-operation progress)
M.SPEC = {
  operation = "string", method = "string", url = "string", query = "table", headers = "table",
  json = ANY, form = "table", multipart = "table", body = { string = true, table = true },
  content_type = "string", auth = { string = true, ["function"] = true }, creds = "table",
  idempotent = "boolean", retries = "number", timeout = "number", max_body = "number", sink = "table",
  expect = "table", decode = "string", ctx = "table", progress = "table",
}

local check_fields = require("socialpush.core").check_fields

local function check_spec(spec)
  local k, got, why = check_fields(spec, M.SPEC)
  if why == "unknown" then error(("pipeline: unknown call spec field '%s'"):format(tostring(k)), 3) end
  if why then error(("pipeline: call spec field '%s' has the wrong type (%s)"):format(tostring(k), got), 3) end
  if not spec.operation or not spec.url then error("pipeline: a call spec needs operation and url", 3) end
end

--- Everything secret a spec may show: the credentials (but the provider's public fields)
-- and the values the scheme derived from them.
-- syntax: list = pipeline.secrets(h, spec [, derived])
function M.secrets(h, spec, derived)
  local list = errors.secrets_of(spec.creds or h.creds, h.public_creds)
  for _, v in ipairs(derived or {}) do errors.add_secret(list, v) end
  return list
end

local function invalid(h, spec, field, message)
  return errors.fail { kind = "invalid_argument", field = field, provider = h.name, operation = spec.operation,
    message = spec.operation .. ": " .. message, secrets = M.secrets(h, spec) }
end

-- the scheme function of a spec
local function scheme_of(h, spec, creds)
  local s = spec.auth
  if s == nil then s = h.auth_scheme and h.auth_scheme(creds) or "bearer" end
  if type(s) == "string" then
    local f = schemes[s]
    if type(f) ~= "function" then error("pipeline: unknown auth scheme " .. s, 4) end
    return f
  end
  return s
end

local function add_pairs(list, more)
  for _, kv in ipairs(form.pairs_of(more)) do list[#list + 1] = kv end
  return list
end

--- Build the request a spec describes for handle h: {method, url, headers, body, ...} as
-- client:request takes it, and the derived secrets. Nothing is sent; the spec is not changed.
-- syntax: req, derived = pipeline.build(h, spec)   -- or nil, msg, err (invalid_argument)
function M.build(h, spec)
  check_spec(spec)
  local creds = spec.creds or h.creds
  local url, qmsg, qname = form.with_query(spec.url, spec.query)
  if not url then return invalid(h, spec, qname, "cannot encode query parameter " .. qname .. ": " .. qmsg) end
  local fields
  if spec.form ~= nil then
    local fmsg, fname
    fields, fmsg, fname = form.texts(spec.form)
    if not fields then return invalid(h, spec, fname, "cannot encode " .. fname .. ": " .. fmsg) end
  end
  local auth, field, why = scheme_of(h, spec, creds)(creds, { method = spec.method or "GET", url = url,
    form = fields })
  if not auth then return invalid(h, spec, field, why) end
  if auth.query then url = form.with_query(url, auth.query) end
  local headers = add_pairs({}, spec.headers)
  add_pairs(headers, auth.headers)
  local body
  if spec.json ~= nil then
    local s, msg = json.encode(spec.json)
    if not s then return invalid(h, spec, nil, msg) end
    body = s
    headers[#headers + 1] = { "Content-Type", spec.content_type or "application/json" }
  elseif fields then
    if auth.form then fields = add_pairs(add_pairs({}, fields), auth.form) end
    body = form.encode_texts(fields)
    headers[#headers + 1] = { "Content-Type", "application/x-www-form-urlencoded" }
  elseif spec.multipart ~= nil then
    body = { multipart = spec.multipart }
  else
    body = spec.body
    if spec.content_type then headers[#headers + 1] = { "Content-Type", spec.content_type } end
  end
  return { method = spec.method or "GET", url = url, headers = headers, body = body,
    idempotent = spec.idempotent, retries = spec.retries, timeout = spec.timeout, operation = spec.operation,
    sink = spec.sink, max_body = spec.max_body }, auth.secrets
end

local function is_expected(spec, status)
  local expect = spec.expect
  if expect then
    for i = 1, #expect do if expect[i] == status then return true end end
    return false
  end
  return status >= 200 and status < 300
end

local DEFAULT_KIND = { [400] = "provider", [401] = "auth", [403] = "permission", [404] = "not_found",
  [409] = "provider", [413] = "too_large", [415] = "unsupported", [422] = "invalid_argument",
  [429] = "rate_limited" }

--- The kind a bare HTTP status maps to when a provider says nothing more.
-- syntax: kind = pipeline.status_kind(status)
function M.status_kind(status)
  if status >= 500 then return "server" end
  return DEFAULT_KIND[status] or "provider"
end

--- The one refusal of every provider: nil, msg, err for a response (a refused status, or a
-- 2xx that says no) through h's map_error. retry_after comes from the mapping or from the
-- response's Retry-After (computed once by client:request).
-- syntax: return pipeline.refuse(h, spec, res [, derived_secrets])
function M.refuse(h, spec, res, derived)
  local m = h.map_error(res, spec) or {}
  local detail = m.detail
  if type(detail) ~= "string" then detail = nil end
  return errors.fail {
    kind = m.kind or M.status_kind(res.status or 0), provider = h.name, operation = spec.operation,
    status = res.status, code = m.code, subcode = m.subcode, detail = detail, field = m.field,
    retry_after = m.retry_after or res.retry_after, retryable = m.retryable, request_id = m.request_id,
    secrets = M.secrets(h, spec, derived),
  }
end

--- nil, msg, err of kind decode: a reply (2xx) that lacks what the operation needs.
-- syntax: return pipeline.no_id(h, op, res, what)   -- "the reply has no <what>"
function M.no_id(h, op, res, what)
  return errors.fail { kind = "decode", provider = h.name, operation = op, status = res and res.status,
    detail = "the reply has no " .. what }
end

local function decode(h, spec, res, derived)
  local body = res.body
  if not body or body == "" or spec.decode == "none" then return res end
  local ctype = res.headers and res.headers["content-type"] or ""
  if spec.decode == "json" or ctype:find("json", 1, true) or body:match("^%s*[%[{\"]") then
    local v, dmsg = json.decode(body)
    if v == nil and dmsg then
      if is_expected(spec, res.status) then
        return errors.fail { kind = "decode", provider = h.name, operation = spec.operation,
          status = res.status, detail = dmsg, secrets = M.secrets(h, spec, derived) }
      end
    else
      res.json = v
    end
  end
  return res
end

--- Send a spec for handle h and return the decoded response.
-- syntax: res, msg, err = pipeline.call(h, spec, [request_extra])
-- res = {status=, headers=, body=, json=, retry_after=}; res.json is the decoded body (nil when empty).
-- request_extra: fields merged into the client:request table (on_progress, deadline).
function M.call(h, spec, extra)
  local req, derived, err = M.build(h, spec)
  if not req then return nil, derived, err end
  if extra then for k, v in pairs(extra) do req[k] = v end end
  local res, _, rerr = h.client:request(req)
  if not res then
    local list = M.secrets(h, spec, derived)      -- a transport message may quote the URL
    rerr.message = errors.scrub(rerr.message, list)
    if type(rerr.detail) == "string" then rerr.detail = errors.scrub(rerr.detail, list) end
    return errors.wrap(rerr, { operation = spec.operation, provider = h.name })
  end
  local dres, dmsg, derr = decode(h, spec, res, derived)
  if not dres then return nil, dmsg, derr end
  if not is_expected(spec, res.status) then return M.refuse(h, spec, res, derived) end
  return res
end

--- The normalised result of every operation (DESIGN §2): post_id is always a string.
-- syntax: return pipeline.result(provider, object, post_id, post_location, raw)
function M.result(provider, object, post_id, post_location, raw)
  return { provider = provider, object = object, post_id = post_id ~= nil and tostring(post_id) or nil,
    post_location = post_location, raw = raw }
end

return M
