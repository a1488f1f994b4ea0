--- Credential checks of the sandbox (nginx side), written independently of
-- the socialpush library: bearer tokens, OAuth 1.0a (RFC 5849, own base
-- string, ngx.hmac_sha1), Facebook appsecret_proof (HMAC-SHA256 via ffi),
-- HTTP Basic and the legacy Facebook REST MD5 `sig`.
--
-- Every check returns an info table on success, or nil and a reason:
-- "missing" (no credential), "invalid" (unknown credential), "expired"
-- (known but revoked: the accounts fixture's `expired` variants),
-- "bad_signature", "bad_request" (malformed), "unsupported".
--
-- Tokens that the sandbox's own OAuth endpoints issued (socialpush.sandbox.oauth) are
-- accepted too, for the fixture user; a refused one gives "expired" and a third value,
-- detail = {reason = "lapsed" (past its lifetime) | "revoked", expires_at =}.
local crypto = require("socialpush.sandbox.crypto")
local accounts = require("socialpush.sandbox.accounts")
local issued = require("socialpush.sandbox.oauth")

local M = {}

local PROVIDERS = { "facebook", "twitter", "linkedin", "pinterest", "youtube", "oneall" }

-- token -> {provider=, variant="valid"|"expired", account=}
local tokens = {}
-- twitter consumer key -> secret; token -> {secret=, variant=, account=}
local consumers, oauth_tokens = {}, {}

local function index_variant(set, variant)
  for _, p in ipairs(PROVIDERS) do
    local a = set[p]
    if a then
      for _, field in ipairs({ "access_token", "bearer_token" }) do
        if a[field] then
          tokens[a[field]] = { provider = p, variant = variant, account = a, field = field }
        end
      end
    end
  end
  local tw = set.twitter
  if tw then
    consumers[tw.consumer_key] = tw.consumer_secret
    oauth_tokens[tw.token] = { secret = tw.token_secret, variant = variant, account = tw }
  end
end

index_variant(accounts, "valid")
index_variant(accounts.other, "valid")
index_variant(accounts.expired, "expired")

--- RFC 3986 percent-encoding (unreserved kept, uppercase hex)
-- syntax: s = auth.encode(s)
function M.encode(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c)
    return string.format("%%%02X", c:byte())
  end))
end

--- percent-decoding; plus=true also turns '+' into a space (form encoding)
-- syntax: s = auth.decode(s, plus)
function M.decode(s, plus)
  if plus then s = s:gsub("%+", " ") end
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

--- name/value pairs of a form-encoded string, in order, decoded
-- syntax: list = auth.pairs_of(raw)   -- {{name, value}, ...}
function M.pairs_of(raw)
  local out = {}
  if raw == nil or raw == "" then return out end
  for item in (raw .. "&"):gmatch("([^&]*)&") do
    if item ~= "" then
      local k, v = item:match("^([^=]*)=(.*)$")
      if not k then k, v = item, "" end
      out[#out + 1] = { M.decode(k, true), M.decode(v, true) }
    end
  end
  return out
end

--- the credential of a "Scheme value" Authorization header
-- syntax: value = auth.scheme(req, "Bearer")   -- or nil
function M.scheme(req, scheme)
  local h = req:header("authorization")
  if not h then return nil end
  local s, rest = h:match("^%s*(%S+)%s+(.-)%s*$")
  if s and s:lower() == scheme:lower() then return rest end
  return nil
end

local function lookup(tok, provider)
  local t = tokens[tok]
  if not t then return issued.lookup(tok, provider) end
  if provider and t.provider ~= provider then return nil, "invalid" end
  if t.variant ~= "valid" then return nil, "expired" end
  return { provider = t.provider, account = t.account, token = tok }
end

--- look a token up in the fixture (optionally for one provider)
-- syntax: info = auth.token(tok, provider)   -- or nil, reason
function M.token(tok, provider)
  if tok == nil or tok == "" then return nil, "missing" end
  return lookup(tok, provider)
end

--- "Authorization: Bearer <token>" known for provider (any if nil)
-- syntax: info = auth.bearer(req, provider)   -- or nil, reason
function M.bearer(req, provider)
  return M.token(M.scheme(req, "Bearer"), provider)
end

-- query + (form body) parameters as one table; repeated names become lists
local function params_of(req)
  local list = M.pairs_of(req.query)
  if req:content_type() == "application/x-www-form-urlencoded" then
    local body = req:body()
    for _, p in ipairs(M.pairs_of(body)) do list[#list + 1] = p end
  end
  local t = {}
  for _, p in ipairs(list) do
    if t[p[1]] == nil then t[p[1]] = p[2] end
  end
  return t, list
end
M.params = params_of

--- Facebook Graph: access_token (Bearer header, query or form) and, when
-- `require_proof` or when present, appsecret_proof = hex HMAC-SHA256(app secret, token)
-- syntax: info = auth.appsecret_proof(req, require_proof)   -- or nil, reason
function M.appsecret_proof(req, require_proof)
  local params = params_of(req)
  local tok = M.scheme(req, "Bearer") or M.scheme(req, "OAuth") or params.access_token
  if tok == nil or tok == "" then return nil, "missing" end
  local t = tokens[tok]
  if not t then
    local rec, why = issued.find(tok)
    if not rec or rec.kind ~= "access" then return nil, "invalid" end
    t = { provider = rec.provider, account = accounts.facebook, rec = rec,
      variant = why and "expired" or "valid",
      detail = why and { reason = why == "lapsed" and "lapsed" or "revoked", expires_at = rec.expires_at } }
  end
  if t.provider ~= "facebook" then return nil, "invalid" end
  local proof = params.appsecret_proof
  if proof == nil then
    if require_proof then return nil, "missing_proof" end
  else
    local want = crypto.hex(crypto.hmac_sha256(t.account.app_secret, tok))
    if not crypto.equal(want, proof:lower()) then return nil, "bad_proof" end
  end
  if t.variant ~= "valid" then return nil, "expired", t.detail end
  if t.rec then
    local info = issued.info(t.rec)
    info.proof = proof ~= nil
    return info
  end
  return { provider = "facebook", account = t.account, token = tok, proof = proof ~= nil }
end

--- the user and password of "Authorization: Basic ..."
-- syntax: user, password = auth.basic(req)   -- or nil, reason
function M.basic(req)
  local v = M.scheme(req, "Basic")
  if not v then return nil, "missing" end
  local dec = ngx.decode_base64(v)
  if not dec then return nil, "bad_request" end
  local user, pass = dec:match("^([^:]*):(.*)$")
  if not user then return nil, "bad_request" end
  return user, pass
end

--- OneAll site credentials: Basic public_key:private_key
-- syntax: info = auth.oneall(req)   -- or nil, reason
function M.oneall(req)
  local user, pass = M.basic(req)
  if not user then return nil, pass end
  local a = accounts.oneall
  if user == a.public_key and crypto.equal(pass, a.private_key) then
    return { provider = "oneall", account = a }
  end
  return nil, "invalid"
end

--- OAuth 1.0a signature base string (RFC 5849 3.4.1) of a request
-- params: list of {name, value} (decoded), oauth_signature excluded by caller
-- syntax: s = auth.base_string(method, "https://host/path", params)
function M.base_string(method, base_uri, params)
  local enc = {}
  for i, p in ipairs(params) do enc[i] = { M.encode(p[1]), M.encode(p[2]) } end
  table.sort(enc, function(a, b)
    if a[1] == b[1] then return a[2] < b[2] end
    return a[1] < b[1]
  end)
  local parts = {}
  for i, p in ipairs(enc) do parts[i] = p[1] .. "=" .. p[2] end
  return method:upper() .. "&" .. M.encode(base_uri) .. "&" .. M.encode(table.concat(parts, "&"))
end

--- parse an "OAuth k="v", ..." header into a table of decoded values
-- syntax: t = auth.oauth_header(value)
function M.oauth_header(v)
  local t = {}
  for k, x in v:gmatch('([%w_]+)%s*=%s*"([^"]*)"') do t[k] = M.decode(x) end
  return t
end

--- verify an OAuth 1.0a HMAC-SHA1 request against the twitter fixture (and the access
-- tokens the sandbox issued); resolve(token) -> {secret=, variant=, account=} may name
-- other tokens (the request tokens of the 3-legged flow)
-- syntax: info = auth.oauth1(req, resolve)   -- or nil, reason
function M.oauth1(req, resolve)
  local hv = M.scheme(req, "OAuth")
  if not hv then return nil, "missing" end
  local h = M.oauth_header(hv)
  for _, k in ipairs({ "oauth_consumer_key", "oauth_signature", "oauth_signature_method",
    "oauth_nonce", "oauth_timestamp" }) do
    if not h[k] then return nil, "bad_request" end
  end
  if h.oauth_signature_method ~= "HMAC-SHA1" then return nil, "unsupported" end
  if h.oauth_version and h.oauth_version ~= "1.0" then return nil, "bad_request" end
  local csecret = consumers[h.oauth_consumer_key]
  if not csecret then return nil, "invalid" end
  local tok = h.oauth_token and (oauth_tokens[h.oauth_token] or issued.oauth1_token(h.oauth_token)
    or (resolve and resolve(h.oauth_token)))
  if h.oauth_token and not tok then return nil, "invalid" end

  local _, list = params_of(req)
  local params = {}
  for _, p in ipairs(list) do params[#params + 1] = p end
  for k, x in pairs(h) do
    if k ~= "oauth_signature" and k ~= "realm" then params[#params + 1] = { k, x } end
  end
  local base = M.base_string(req.method, "https://" .. req.host .. req.path, params)
  local key = M.encode(csecret) .. "&" .. M.encode(tok and tok.secret or "")
  local want = ngx.encode_base64(ngx.hmac_sha1(key, base))
  if not crypto.equal(want, h.oauth_signature) then return nil, "bad_signature" end
  if tok and tok.variant ~= "valid" then return nil, "expired", tok.detail end
  return { provider = "twitter", account = tok and tok.account or accounts.twitter,
    consumer_key = h.oauth_consumer_key, token = h.oauth_token, oauth = h, issued = tok and tok.issued }
end

--- legacy Facebook REST signature: md5(sorted "k=v" pairs without sig .. secret), hex
-- syntax: hex = auth.md5_sig(params, secret)
function M.md5_sig(params, secret)
  local keys = {}
  for k in pairs(params) do
    if k ~= "sig" then keys[#keys + 1] = k end
  end
  table.sort(keys)
  local buf = {}
  for i, k in ipairs(keys) do buf[i] = k .. "=" .. tostring(params[k]) end
  return ngx.md5(table.concat(buf) .. secret)
end

--- legacy REST call (api.facebook.com/restserver.php): api_key, sig, session_key
-- syntax: info = auth.legacy(req)   -- or nil, reason
function M.legacy(req)
  local params = params_of(req)
  local valid, expired = accounts.facebook.legacy, accounts.expired.facebook.legacy
  if not params.api_key or not params.sig then return nil, "missing" end
  if params.api_key ~= valid.api_key then return nil, "invalid" end
  if not crypto.equal(M.md5_sig(params, valid.secret), params.sig:lower()) then
    return nil, "bad_signature"
  end
  local sk = params.session_key
  if sk and sk ~= valid.session_key then
    return nil, sk == expired.session_key and "expired" or "invalid"
  end
  return { provider = "facebook", account = valid, session = sk ~= nil, params = params }
end

return M
