--- Sandbox emulation of Pinterest's OAuth 2.0 (PROVIDERS-AUTH.md A4), part of
-- providers/oauth.lua.
--
-- - GET www.pinterest.com /oauth/ ?client_id&redirect_uri&response_type=code&scope&state:
--   scopes comma-separated [doc] (spaces accepted too [guess]); client/redirect errors on
--   an error page, the rest as error= redirects [guess]. Auto-consent: 302 with code and
--   state; deny mode: error=access_denied [guess].
-- - POST api.pinterest.com /v5/oauth/token: Basic client_id:secret required [doc] (else 401
--   {"code":2,"message":"Authentication failed."} [doc: revoke example]).
--   authorization_code: code (single use, 10 min [guess]) + exact redirect_uri;
--   continuous_refresh accepted and ignored (every refresh token here is continuous).
--   refresh_token: every refresh returns a new refresh token and its expiry fields [doc];
--   the old one is then dead, and presenting it again revokes its whole family [guess:
--   "treat it as rotating"]. Bad codes and refresh tokens: 400 {"code":283,"message":"The
--   authorization grant is invalid"} [issue: v3-era body]. Answers: access_token (pina_…),
--   refresh_token (pinr_…), response_type, token_type "bearer", expires_in,
--   refresh_token_expires_in, refresh_token_expires_at, scope (space-separated [guess]).
-- - POST /v5/oauth/token/revoke (Basic; token, token_type_hint): [doc] "only tokens issued
--   for system users": user tokens → 403 code 29, unless the setting revoke_user_tokens.
-- - GET /v5/user_account (user_accounts:read [doc]) → the fixture user's account.
local oauth = require("socialpush.sandbox.oauth")
local dialog = require("socialpush.sandbox.oauth_dialog")

local M = {}

local API_HOSTS = { "api.pinterest.com", "api-sandbox.pinterest.com" }
local SCOPES = {}
for s in ([[ads:read ads:write billing:read billing:write biz_access:read biz_access:write boards:read
  boards:read_secret boards:write boards:write_secret catalogs:read catalogs:write msot:write pins:read
  pins:read_secret pins:write pins:write_secret user_accounts:read user_accounts:write]]):gmatch("%S+") do
  SCOPES[s] = true
end
local BAD_GRANT = { code = 283, message = "The authorization grant is invalid" }
local AUTH_FAILED = { code = 2, message = "Authentication failed." }

local function authorize(server, req)
  local function p(name) return dialog.arg(req, name) end
  local app = dialog.app({ "pinterest" }, p("client_id"))
  if not app then return dialog.page(server, 400, "Invalid request", "The client_id is not valid.") end
  local redirect = p("redirect_uri")
  if not dialog.redirect_ok(app, redirect) then
    return dialog.page(server, 400, "Invalid request", "The redirect_uri is not registered for this app.")
  end
  local state = p("state")
  local function fail(e, desc)
    return dialog.redirect(server, redirect, { { "error", e }, { "error_description", desc }, { "state", state } })
  end
  if p("response_type") ~= "code" then return fail("unsupported_response_type", "response_type must be code") end
  local scopes = dialog.scopes(p("scope"), "%s,")
  if #scopes == 0 then return fail("invalid_scope", "scope is required") end
  local bad = dialog.unknown_scope(scopes, SCOPES)
  if bad then return fail("invalid_scope", "unknown scope " .. bad) end
  if dialog.denied("pinterest") then return dialog.redirect(server, redirect, { { "error", "access_denied" },
    { "state", state } }) end
  local code = oauth.random(40)
  oauth.put(code, { kind = "code", provider = "pinterest", client_id = app.client_id, redirect_uri = redirect,
    scope = scopes, lifetime = oauth.setting("code_lifetime", "pinterest") })
  return dialog.redirect(server, redirect, { { "code", code }, { "state", state } })
end

-- the app of the Basic credentials; nil after answering 401
local function client_of(server, req)
  local id, secret = dialog.basic(req)
  local app = id and dialog.app({ "pinterest" }, id)
  if app and dialog.secret_ok(app, secret) then return app end
  server.json(401, AUTH_FAILED)
  return nil
end

local function issue(server, app, scope, family, response_type)
  local at = oauth.put("pina_" .. oauth.random(120), { kind = "access", provider = "pinterest",
    client_id = app.client_id, scope = scope, family = family,
    lifetime = oauth.setting("token_lifetime", "pinterest") })
  local out = { access_token = at.token, token_type = "bearer", expires_in = dialog.expires_in(at),
    scope = table.concat(scope, " "), response_type = response_type }
  if oauth.setting("refresh_tokens", "pinterest") then
    local rt = oauth.put("pinr_" .. oauth.random(120), { kind = "refresh", provider = "pinterest",
      client_id = app.client_id, scope = scope, family = family,
      lifetime = oauth.setting("refresh_lifetime", "pinterest") })
    out.refresh_token, out.refresh_token_expires_in = rt.token, dialog.expires_in(rt)
    out.refresh_token_expires_at = rt.expires_at > 0 and math.floor(rt.expires_at) or nil
  end
  return dialog.token_json(server, 200, out)
end

local function exchange(server, app, form)
  local rec = oauth.take(form.code, "code", "pinterest")
  if not rec or rec.client_id ~= app.client_id or rec.redirect_uri ~= form.redirect_uri then
    return dialog.token_json(server, 400, BAD_GRANT)
  end
  return issue(server, app, rec.scope, oauth.new_family("pinterest"), "authorization_code")
end

local function refresh(server, app, form)
  local rec, why = oauth.find(form.refresh_token)
  if not rec or rec.kind ~= "refresh" or rec.provider ~= "pinterest" or rec.client_id ~= app.client_id or why then
    if rec and why == "used" then oauth.revoke_family(rec.family, "reused") end
    return dialog.token_json(server, 400, BAD_GRANT)
  end
  local scope = rec.scope
  if form.scope then
    scope = dialog.scopes(form.scope, "%s,")
    if not dialog.subset(scope, rec.scope) then
      return dialog.token_json(server, 400, { code = 1, message = "Invalid scope (sandbox: wider than granted)" })
    end
  end
  oauth.update(rec.token, function(r) r.used = true end)
  return issue(server, app, scope, rec.family, "refresh_token")
end

local function token(server, req)
  local app = client_of(server, req)
  if not app then return end
  local form = req:form(65536) or {}
  if form.grant_type == "authorization_code" then return exchange(server, app, form) end
  if form.grant_type == "refresh_token" then return refresh(server, app, form) end
  return dialog.token_json(server, 400, { code = 1, message = "grant_type must be one of authorization_code,"
    .. " refresh_token (sandbox)" })
end

local function revoke(server, req)
  local app = client_of(server, req)
  if not app then return end
  if not oauth.setting("revoke_user_tokens") then
    return server.json(403, { code = 29, message = "You are not permitted to access that resource." })
  end
  local rec = oauth.find((req:form(65536) or {}).token)
  if rec and rec.provider == "pinterest" and rec.client_id == app.client_id and rec.family then
    oauth.revoke_family(rec.family, "revoked")
  end
  return server.send(200, nil)
end

local function user_account(server, req)
  local who = server.auth.bearer(req, "pinterest")
  if not who then return server.json(401, AUTH_FAILED) end
  if not oauth.has_scopes(who, { "user_accounts:read" }) then
    return server.json(401, { code = 3, message = "Your token does not have sufficient permissions to perform this"
      .. " operation. Please ensure your token is authorized with the correct set of scopes." })   -- [issue]
  end
  local p = server.accounts().profiles.pinterest
  return server.json(200, { account_type = "BUSINESS", id = p.id, username = p.username,
    profile_image = "https://i.pinimg.com/sandbox/profile.jpg", website_url = "https://socialpush.test",
    about = "", business_name = "socialpush sandbox", board_count = 1, pin_count = 0, follower_count = 0,
    following_count = 0, monthly_views = 0 })
end

--- syntax: oauth_pinterest.register(server)
function M.register(server)
  for _, path in ipairs({ "/oauth/", "/oauth" }) do
    server.route("www.pinterest.com", "GET", path, function(req) return authorize(server, req) end)
  end
  server.route(API_HOSTS, "POST", "/v5/oauth/token", function(req) return token(server, req) end)
  server.route(API_HOSTS, "POST", "/v5/oauth/token/revoke", function(req) return revoke(server, req) end)
  server.route(API_HOSTS, "GET", "/v5/user_account", function(req) return user_account(server, req) end)
end

return M
