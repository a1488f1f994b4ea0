--- Sandbox emulation of LinkedIn's 3-legged OAuth 2.0 (PROVIDERS-AUTH.md A3), part of
-- providers/oauth.lua.
--
-- - GET www.linkedin.com /oauth/v2/authorization: response_type=code, client_id
--   (apps.linkedin), redirect_uri (registered or loopback; else an error page), state,
--   scope (space-separated [doc]); an unknown scope → redirect error=unauthorized_scope_error
--   [recalled]; optional PKCE (S256, native apps [doc]). Auto-consent: 302 with code and
--   state; deny mode: error=user_cancelled_authorize [recalled].
-- - POST /oauth/v2/accessToken: client_id + client_secret in the body [doc]; missing →
--   400 invalid_request 'A required parameter "client_secret" is missing' [recalled], wrong →
--   401 invalid_client "Client authentication failed" [recalled]. authorization_code: single
--   use, 30 min [guess], exact redirect_uri, code_verifier when a challenge was sent; a bad
--   one → 400 invalid_request "Unable to retrieve access token: appid/redirect uri/code
--   verifier does not match authorization code. Or authorization code expired. Or external
--   member binding exists" [recalled]. Answer: access_token, expires_in (60 d),
--   refresh_token + refresh_token_expires_in (365 d from the first grant, never extended
--   [doc]; real LinkedIn issues them to approved partner apps only: setting
--   refresh_tokens.linkedin), scope comma-separated [pages], token_type, id_token (openid).
--   refresh_token: the same refresh token comes back (not rotating [doc]); a dead one →
--   400 invalid_request "The provided authorization grant or refresh token is invalid,
--   expired or revoked" [code].
-- - POST /oauth/v2/revoke (client_id, client_secret, token) [guess: guess-level in
--   PROVIDERS-AUTH]: revokes the token's family, 200 with an empty body [guess].
-- - POST /oauth/v2/introspectToken (client_id, client_secret, token) [doc].
-- - GET api.linkedin.com /v2/userinfo: {sub, name, given_name, family_name, email?, ...};
--   needs openid (+ profile) [doc]; urn:li:person:{sub} is the fixture author.
local oauth = require("socialpush.sandbox.oauth")
local dialog = require("socialpush.sandbox.oauth_dialog")

local M = {}

local WWW = "www.linkedin.com"
local SCOPES = {}
for s in ([[openid profile email w_member_social w_organization_social r_organization_social
  rw_organization_admin r_organization_admin r_basicprofile r_liteprofile r_emailaddress]]):gmatch("%S+") do
  SCOPES[s] = true
end
local BAD_CODE = "Unable to retrieve access token: appid/redirect uri/code verifier does not match authorization"
  .. " code. Or authorization code expired. Or external member binding exists"
local BAD_REFRESH = "The provided authorization grant or refresh token is invalid, expired or revoked"

local function authorize(server, req)
  local function p(name) return dialog.arg(req, name) end
  local app = dialog.app({ "linkedin" }, p("client_id"))
  if not app then
    return dialog.page(server, 400, "Bummer, something went wrong.", "The application is disabled or the"
      .. " client_id is invalid.")                                                               -- [guess]
  end
  local redirect = p("redirect_uri")
  if not dialog.redirect_ok(app, redirect) then
    return dialog.page(server, 400, "Bummer, something went wrong.",
      "The redirect_uri does not match the registered value")                                  -- [recalled]
  end
  local state = p("state")
  local function fail(e, desc)
    return dialog.redirect(server, redirect, { { "error", e }, { "error_description", desc }, { "state", state } })
  end
  if p("response_type") ~= "code" then return fail("invalid_request", "Invalid response_type") end
  local scopes = dialog.scopes(p("scope"), "%s")
  if #scopes == 0 then return fail("invalid_request", "A required parameter \"scope\" is missing") end
  local bad = dialog.unknown_scope(scopes, SCOPES)
  if bad then
    return fail("unauthorized_scope_error", "Scope \"" .. bad .. "\" is not authorized for your application")
  end
  local challenge, method = p("code_challenge"), p("code_challenge_method")
  if challenge and (method ~= "S256" or not dialog.pkce_string(challenge)) then
    return fail("invalid_request", "Invalid code_challenge or code_challenge_method")             -- [guess]
  end
  if dialog.denied("linkedin") then
    return fail("user_cancelled_authorize", "The user cancelled the authorization")
  end
  local code = "AQT" .. oauth.random(120)
  oauth.put(code, { kind = "code", provider = "linkedin", client_id = app.client_id, redirect_uri = redirect,
    scope = scopes, challenge = challenge, method = method, lifetime = oauth.setting("code_lifetime", "linkedin") })
  return dialog.redirect(server, redirect, { { "code", code }, { "state", state } })
end

local function err(server, status, e, desc)
  return dialog.token_json(server, status, { error = e, error_description = desc })
end

-- the app of the body credentials, or nil, status, error, description
local function client_of(form)
  for _, name in ipairs({ "client_id", "client_secret" }) do
    if form[name] == nil then
      return nil, 400, "invalid_request", "A required parameter \"" .. name .. "\" is missing"
    end
  end
  local app = dialog.app({ "linkedin" }, form.client_id)
  if not app or not dialog.secret_ok(app, form.client_secret) then
    return nil, 401, "invalid_client", "Client authentication failed"
  end
  return app
end

local function answer(server, app, rec, rt)
  local scope = rec.scope
  local out = { access_token = rec.token, expires_in = dialog.expires_in(rec), scope = table.concat(scope, ","),
    token_type = "Bearer" }
  if rt then
    out.refresh_token, out.refresh_token_expires_in = rt.token, dialog.expires_in(rt)
  end
  if dialog.has(scope, "openid") then
    local p = server.accounts().profiles.linkedin
    local now = math.floor(oauth.now())
    out.id_token = dialog.id_token({ iss = "https://www.linkedin.com/oauth", aud = app.client_id, sub = p.sub,
      iat = now, exp = now + 3600, name = dialog.has(scope, "profile") and p.name or nil,
      email = dialog.has(scope, "email") and p.email or nil })
  end
  return dialog.token_json(server, 200, out)
end

local function new_access(app, scope, family)
  return oauth.put("AQV" .. oauth.random(150), { kind = "access", provider = "linkedin", client_id = app.client_id,
    scope = scope, family = family, lifetime = oauth.setting("token_lifetime", "linkedin") })
end

local function exchange(server, app, form)
  local rec = oauth.take(form.code, "code", "linkedin")
  if not rec or rec.client_id ~= app.client_id or rec.redirect_uri ~= form.redirect_uri
    or (rec.challenge and not dialog.pkce_ok(rec.challenge, rec.method, form.code_verifier)) then
    return err(server, 400, "invalid_request", BAD_CODE)
  end
  local family = oauth.new_family("linkedin")
  local at = new_access(app, rec.scope, family)
  local rt
  if oauth.setting("refresh_tokens", "linkedin") then
    rt = oauth.put("AQX" .. oauth.random(150), { kind = "refresh", provider = "linkedin", client_id = app.client_id,
      scope = rec.scope, family = family, lifetime = oauth.setting("refresh_lifetime", "linkedin") })
  end
  return answer(server, app, at, rt)
end

local function refresh(server, app, form)
  local rec, why = oauth.find(form.refresh_token)
  if not rec or rec.kind ~= "refresh" or rec.provider ~= "linkedin" or rec.client_id ~= app.client_id or why then
    return err(server, 400, "invalid_request", BAD_REFRESH)
  end
  return answer(server, app, new_access(app, rec.scope, rec.family), rec)   -- the same refresh token, same expiry
end

local function token(server, req)
  local form = req:form(65536) or {}
  local app, status, e, desc = client_of(form)
  if not app then return err(server, status, e, desc) end
  if form.grant_type == "authorization_code" then return exchange(server, app, form) end
  if form.grant_type == "refresh_token" then return refresh(server, app, form) end
  return err(server, 400, "unsupported_grant_type", "Unsupported grant_type")                   -- [guess]
end

local function revoke(server, req)
  local form = req:form(65536) or {}
  local app, status, e, desc = client_of(form)
  if not app then return err(server, status, e, desc) end
  local rec = oauth.find(form.token)
  if rec and rec.provider == "linkedin" and rec.client_id == app.client_id and rec.family then
    oauth.revoke_family(rec.family, "revoked")
  end
  return server.send(200, nil)
end

local function introspect(server, req)
  local form = req:form(65536) or {}
  local app, status, e, desc = client_of(form)
  if not app then return err(server, status, e, desc) end
  local rec, why = oauth.find(form.token)
  if not rec or rec.provider ~= "linkedin" or rec.client_id ~= app.client_id
    or (rec.kind ~= "access" and rec.kind ~= "refresh") then
    return server.json(200, { active = false })
  end
  local status_name = why == "lapsed" and "expired" or (why and "revoked") or "active"
  return server.json(200, { active = why == nil, client_id = app.client_id, authorized_at = math.floor(rec.issued_at),
    created_at = math.floor(rec.issued_at), status = status_name, expires_at = math.floor(rec.expires_at),
    scope = table.concat(rec.scope, ","), auth_type = "3L" })
end

-- LinkedIn's 401 bodies (as linkedin.lua answers them)
local function unauthorized(server, reason, detail)
  local function fail(message, extra)
    local body = { status = 401, message = message }
    for k, v in pairs(extra) do body[k] = v end
    return server.json(401, body)
  end
  if reason == "missing" then return fail("Empty oauth2_access_token", { serviceErrorCode = 401 }) end
  if reason == "expired" and detail and detail.reason == "lapsed" then
    return fail("The token used in the request has expired",                                 -- [guess]
      { serviceErrorCode = 65600, code = "EXPIRED_ACCESS_TOKEN" })
  end
  if reason == "expired" then
    return fail("The token used in the request has been revoked by the user",
      { serviceErrorCode = 65601, code = "REVOKED_ACCESS_TOKEN" })
  end
  return fail("Invalid access token", { serviceErrorCode = 65600, code = "INVALID_ACCESS_TOKEN" })
end

local function userinfo(server, req)
  local who, reason, detail = server.auth.bearer(req, "linkedin")
  if not who then return unauthorized(server, reason, detail) end
  if not oauth.has_scopes(who, { "openid" }) then
    return server.json(403, { serviceErrorCode = 100,
      message = "Not enough permissions to access: userinfo.GET.NO_VERSION", status = 403 })
  end
  local p = server.accounts().profiles.linkedin
  local out = { sub = p.sub, locale = { country = "US", language = "en" } }
  if oauth.has_scopes(who, { "profile" }) then
    out.name, out.given_name, out.family_name = p.name, p.given_name, p.family_name
    out.picture = "https://media.licdn.com/dms/image/sandbox/profile-displayphoto"
  end
  if oauth.has_scopes(who, { "email" }) then out.email, out.email_verified = p.email, true end
  return server.json(200, out)
end

--- syntax: oauth_linkedin.register(server)
function M.register(server)
  server.route(WWW, "GET", "/oauth/v2/authorization", function(req) return authorize(server, req) end)
  server.route(WWW, "POST", "/oauth/v2/accessToken", function(req) return token(server, req) end)
  server.route(WWW, "POST", "/oauth/v2/revoke", function(req) return revoke(server, req) end)
  server.route(WWW, "POST", "/oauth/v2/introspectToken", function(req) return introspect(server, req) end)
  server.route("api.linkedin.com", "GET", "/v2/userinfo", function(req) return userinfo(server, req) end)
end

return M
