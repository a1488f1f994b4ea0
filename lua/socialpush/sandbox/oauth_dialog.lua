--- Helpers shared by the sandbox's OAuth plug-ins (nginx side): the fixture apps and the
-- redirect URIs they accept, request parameters, the redirect back to the client, error
-- pages, scope lists, PKCE, client credentials and token responses. The token state itself
-- is socialpush.sandbox.oauth. Never uses socialpush.* library code.
local cjson = require("cjson")
local crypto = require("socialpush.sandbox.crypto")
local auth = require("socialpush.sandbox.auth")
local accounts = require("socialpush.sandbox.accounts")
local oauth = require("socialpush.sandbox.oauth")

local M = {}

--- the fixture app with this client id among the named apps (keys of accounts.apps)
-- syntax: app, name = dialog.app({"twitter", "twitter_public"}, client_id)   -- or nil
function M.app(names, client_id)
  if type(client_id) ~= "string" then return nil end
  for _, n in ipairs(names) do
    local a = accounts.apps[n]
    if a and a.client_id == client_id then return a, n end
  end
  return nil
end

--- true for a loopback redirect URI: http://127.0.0.1[:port][/path] or http://[::1][:port][/path]
-- syntax: yes = dialog.loopback(uri)
function M.loopback(uri)
  if type(uri) ~= "string" then return false end
  local rest = uri:match("^http://127%.0%.0%.1(.*)$") or uri:match("^http://%[::1%](.*)$")
  if not rest then return false end
  local port, path = rest:match("^:(%d+)(.*)$")
  if port then
    local n = tonumber(port)
    if n < 1 or n > 65535 then return false end
    rest = path
  end
  return rest == "" or (rest:sub(1, 1) == "/" and not rest:find("[#%s]"))
end

--- true when the app accepts this redirect URI: the registered one exactly, or any loopback
-- syntax: yes = dialog.redirect_ok(app, uri)
function M.redirect_ok(app, uri)
  return type(uri) == "string" and (uri == app.redirect_uri or M.loopback(uri))
end

--- the first value of a query argument as a string (nil when absent or valueless)
-- syntax: v = dialog.arg(req, name)
function M.arg(req, name)
  local v = req:args()[name]
  if type(v) == "table" then v = v[1] end
  if type(v) == "string" then return v end
  return nil
end

--- query + form parameters (first value wins)
-- syntax: t = dialog.params(req)
function M.params(req)
  return (auth.params(req))
end

--- answer 302 to uri with params (a list of {name, value}; nil values left out) added to
-- its query, and an optional fragment ("#_=_")
-- syntax: dialog.redirect(server, uri, params, fragment)
function M.redirect(server, uri, params, fragment)
  local parts = {}
  for _, p in ipairs(params) do
    if p[2] ~= nil then parts[#parts + 1] = auth.encode(p[1]) .. "=" .. auth.encode(p[2]) end
  end
  local loc = uri
  if #parts > 0 then loc = loc .. (uri:find("?", 1, true) and "&" or "?") .. table.concat(parts, "&") end
  return server.send(302, nil, { Location = loc .. (fragment or ""), ["Cache-Control"] = "no-store",
    ["Content-Type"] = "text/html; charset=utf-8" })
end

local function html_escape(s)
  return (tostring(s):gsub("[&<>\"]", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;" }))
end

--- an HTML error page of an authorization dialog (what a browser would show: errors about
-- the client or the redirect URI never go back to the redirect URI)
-- syntax: dialog.page(server, status, title, message)
function M.page(server, status, title, message)
  local body = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" .. html_escape(title)
    .. "</title></head><body><h1>" .. html_escape(title) .. "</h1><p>" .. html_escape(message)
    .. "</p><p>(socialpush sandbox)</p></body></html>\n"
  return server.send(status, body, { ["Content-Type"] = "text/html; charset=utf-8", ["Cache-Control"] = "no-store" })
end

--- split a scope string on the separators in class ("%s", "%s,", ","), without repeats
-- syntax: list = dialog.scopes(s, "%s")
function M.scopes(s, class)
  local out, seen = {}, {}
  for w in (s or ""):gmatch("[^" .. class .. "]+") do
    if not seen[w] then
      seen[w] = true
      out[#out + 1] = w
    end
  end
  return out
end

--- the first scope of list that is not in the set known (nil when all are known)
-- syntax: bad = dialog.unknown_scope(list, known)
function M.unknown_scope(list, known)
  for _, s in ipairs(list) do
    if not known[s] then return s end
  end
  return nil
end

--- true when a list holds the value
-- syntax: yes = dialog.has(list, v)
function M.has(list, v)
  for _, x in ipairs(list or {}) do
    if x == v then return true end
  end
  return false
end

--- true when every scope of sub is in list
-- syntax: yes = dialog.subset(sub, list)
function M.subset(sub, list)
  for _, s in ipairs(sub) do
    if not M.has(list, s) then return false end
  end
  return true
end

local function base64url(raw)
  return (ngx.encode_base64(raw):gsub("%+", "-"):gsub("/", "_"):gsub("=+$", ""))
end

--- true for a syntactically valid PKCE code_verifier or code_challenge (RFC 7636: 43-128
-- characters of A-Z a-z 0-9 - . _ ~)
-- syntax: yes = dialog.pkce_string(s)
function M.pkce_string(s)
  return type(s) == "string" and #s >= 43 and #s <= 128 and not s:find("[^%w%-%._~]")
end

--- RFC 7636 check of a verifier against the challenge of the authorization request
-- syntax: ok = dialog.pkce_ok(challenge, method, verifier)   -- method "S256" | "plain"
function M.pkce_ok(challenge, method, verifier)
  if not M.pkce_string(verifier) then return false end
  if method == "S256" then
    local raw = crypto.sha256_hex(verifier):gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end)
    return crypto.equal(base64url(raw), challenge)
  end
  return crypto.equal(verifier, challenge)
end

--- client id and secret of "Authorization: Basic" (RFC 6749 2.3.1: both form-encoded)
-- syntax: id, secret = dialog.basic(req)   -- or nil, "missing" | "bad_request"
function M.basic(req)
  local user, pass = auth.basic(req)
  if not user then return nil, pass end
  return auth.decode(user, true), auth.decode(pass, true)
end

--- true when the secret matches the app's (constant-time compare)
-- syntax: yes = dialog.secret_ok(app, secret)
function M.secret_ok(app, secret)
  return app.client_secret ~= nil and crypto.equal(secret, app.client_secret)
end

--- a JSON answer of a token endpoint (Cache-Control: no-store, Pragma: no-cache)
-- syntax: dialog.token_json(server, status, value)
function M.token_json(server, status, value)
  return server.json(status, value, { ["Cache-Control"] = "no-store", Pragma = "no-cache" })
end

--- true when the dialogs of provider are in deny mode
-- syntax: yes = dialog.denied("twitter")
function M.denied(provider)
  return oauth.setting("deny", provider) == true
end

--- an OpenID Connect id_token for claims: a JWT whose signature is random bytes (the
-- sandbox publishes no keys: clients must not rely on verifying it) [sandbox]
-- syntax: jwt = dialog.id_token(claims)
function M.id_token(claims)
  local head = base64url(cjson.encode({ alg = "RS256", kid = "socialpush-sandbox", typ = "JWT" }))
  return head .. "." .. base64url(cjson.encode(claims)) .. "." .. base64url(oauth.random(64))
end

--- seconds left until a record expires (rounded down; 0 when it never does)
-- syntax: n = dialog.expires_in(rec)
function M.expires_in(rec)
  if not rec.expires_at or rec.expires_at == 0 then return 0 end
  return math.max(0, math.floor(rec.expires_at - oauth.now() + 0.5))
end

return M
