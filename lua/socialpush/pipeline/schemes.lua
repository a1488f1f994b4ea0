--- socialpush.pipeline.schemes: the authentication schemes every provider shares.
-- A scheme is a function(creds, req) where req = {method=, url= (query included),
-- form = {{name, text}, ...} or nil}. It returns what to add to the request, never
-- changing it: {headers = {{k, v}}, query = {{k, v}}, form = {{k, v}}, secrets = {...}}
-- (secrets: the derived values it sends, masked in every message like the credentials),
-- or nil, field, message when the credentials cannot authenticate (field names the
-- credential that is missing or of the wrong type, the message the accepted shapes).
-- Provider-specific schemes (Facebook's appsecret_proof, the legacy MD5 sig) live with
-- their provider and have the same shape.
local sign = require "socialpush.sign"

local M = {}

--- nil, field, message when creds[name] is not a non-empty string.
-- syntax: ok, field, msg = schemes.need(creds, name [, shapes])
function M.need(creds, name, shapes)
  local v = creds[name]
  if type(v) == "string" and v ~= "" then return true end
  local why = v == nil and "lack " .. name or (name .. " must be a non-empty string, got "
    .. (type(v) == "string" and "an empty string" or type(v)))
  return nil, name, "credentials " .. why .. (shapes and (" (" .. shapes .. ")") or "")
end
local need = M.need

--- No authentication (pre-signed upload URLs).
function M.none() return {} end

--- OAuth 2 bearer token: Authorization: Bearer <access_token or bearer_token>.
function M.bearer(creds)
  local name = creds.access_token ~= nil and "access_token" or (creds.bearer_token ~= nil and "bearer_token")
    or "access_token"
  local ok, field, msg = need(creds, name, "{access_token = \"...\"}")
  if not ok then return nil, field, msg end
  local v = "Bearer " .. creds[name]
  return { headers = { { "Authorization", v } }, secrets = { v } }
end

--- HTTP Basic: Authorization: Basic base64(username:password).
function M.basic(creds)
  for _, k in ipairs { "username", "password" } do
    local ok, field, msg = need(creds, k, "{username = \"...\", password = \"...\"}")
    if not ok then return nil, field, msg end
  end
  local b64 = sign.base64(creds.username .. ":" .. creds.password)
  return { headers = { { "Authorization", "Basic " .. b64 } }, secrets = { b64 } }
end

local OAUTH1 = { "consumer_key", "consumer_secret", "token", "token_secret" }
M.OAUTH1_KEYS = OAUTH1

--- OAuth 1.0a user context (HMAC-SHA1): the URL's query and a form body are signed, JSON
-- and multipart bodies are not (RFC 5849 section 3.4.1.3.1).
function M.oauth1(creds, req)
  for _, k in ipairs(OAUTH1) do
    local ok, field, msg = need(creds, k,
      "{consumer_key =, consumer_secret =, token =, token_secret =} for OAuth 1.0a")
    if not ok then return nil, field, msg end
  end
  local header, msg = sign.oauth1_header {
    method = req.method, url = req.url, params = req.form,
    consumer_key = creds.consumer_key, consumer_secret = creds.consumer_secret,
    token = creds.token, token_secret = creds.token_secret,
  }
  if not header then return nil, "url", "cannot sign: " .. tostring(msg) end
  local sig = header:match('oauth_signature="([^"]*)"')
  return { headers = { { "Authorization", header } },
    secrets = { header, sig and sign.percent_decode(sig) or nil } }
end

return M
