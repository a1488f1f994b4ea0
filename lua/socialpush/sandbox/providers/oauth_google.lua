--- Sandbox emulation of Google's OAuth 2.0 for YouTube (PROVIDERS-AUTH.md A2), part of
-- providers/oauth.lua. The identity call (channels.list) is youtube.lua's channels route.
--
-- - GET accounts.google.com /o/oauth2/v2/auth (and /o/oauth2/auth): client_id
--   (apps.youtube), redirect_uri (registered or loopback), response_type=code, scope
--   (space-separated; full URLs, plus openid/email/profile), optional access_type
--   online|offline, prompt none|consent|select_account, state, code_challenge +
--   code_challenge_method (S256|plain, plain by default [doc]). Google shows its errors on
--   its own page, never at the redirect URI [guess: page texts]; auto-consent: 302 with
--   state, code, scope, authuser=0, prompt; deny mode: error=access_denied; prompt=none
--   without an earlier grant: error=consent_required.
-- - POST oauth2.googleapis.com /token: client_id + client_secret in the body [doc] (Basic
--   also accepted, as Google's discovery document says). authorization_code: single-use
--   code (10 min [guess]), exact redirect_uri, PKCE when a challenge was sent. The refresh
--   token comes only with the first offline consent of the user to the client, or with
--   prompt=consent [doc]. refresh_token: not rotating, the answer has no refresh_token [code];
--   a dead one answers 400 invalid_grant "Token has been expired or revoked." [code].
--   Tokens: access ya29.…, refresh 1//…; token_type "Bearer"; id_token with openid.
-- - POST oauth2.googleapis.com /revoke?token= (or in the body; also accounts.google.com
--   /o/oauth2/revoke): revokes the whole grant, so revoking an access token also revokes
--   its refresh token [doc sample]; 200 {} / 400 invalid_token [guess: bodies].
local oauth = require("socialpush.sandbox.oauth")
local dialog = require("socialpush.sandbox.oauth_dialog")

local M = {}

local G = "https://www.googleapis.com/auth/"
local SHORT = { email = G .. "userinfo.email", profile = G .. "userinfo.profile" }
local SCOPES = { openid = true }
for _, s in ipairs({ "userinfo.email", "userinfo.profile", "youtube", "youtube.upload", "youtube.readonly",
  "youtube.force-ssl", "youtubepartner", "youtube.channel-memberships.creator", "youtubepartner-channel-audit",
  "youtube.third-party-link.creator" }) do SCOPES[G .. s] = true end

local PROMPTS = { none = true, consent = true, select_account = true }
local DEAD = "Token has been expired or revoked."

local function normalize(list)
  local out = {}
  for i, s in ipairs(list) do out[i] = SHORT[s] or s end
  return out
end

local function blocked(server, status, err, message)
  return dialog.page(server, status, "Access blocked: Authorization Error", "Error " .. status .. ": " .. err
    .. ". " .. message)
end

-- the parts of an authorization request, or nil, status, error, message for the error page
local function parse(req)
  local function p(name) return dialog.arg(req, name) end
  local app = dialog.app({ "youtube" }, p("client_id"))
  if not app then return nil, 401, "invalid_client", "The OAuth client was not found." end
  local r = { app = app, redirect = p("redirect_uri"), state = p("state") }
  if not r.redirect then return nil, 400, "invalid_request", "Missing required parameter: redirect_uri" end
  if not dialog.redirect_ok(app, r.redirect) then
    return nil, 400, "redirect_uri_mismatch", "You can't sign in to this app because it doesn't comply"
      .. " with Google's OAuth 2.0 policy. If you're the app developer, register the redirect URI in the Google Cloud"
      .. " Console."
  end
  if p("response_type") ~= "code" then
    return nil, 400, "unsupported_response_type", "Invalid response_type: " .. tostring(p("response_type"))
  end
  r.scope = normalize(dialog.scopes(p("scope"), "%s"))
  if #r.scope == 0 then return nil, 400, "invalid_request", "Missing required parameter: scope" end
  local bad = dialog.unknown_scope(r.scope, SCOPES)
  if bad then
    return nil, 400, "invalid_scope", "Some requested scopes were invalid. {invalid=[" .. bad .. "]}"
  end
  local access = p("access_type") or "online"
  if access ~= "online" and access ~= "offline" then
    return nil, 400, "invalid_request", "Invalid access_type: " .. access
  end
  r.offline = access == "offline"
  r.prompt = dialog.scopes(p("prompt"), "%s")
  for _, x in ipairs(r.prompt) do
    if not PROMPTS[x] or (x == "none" and #r.prompt > 1) then
      return nil, 400, "invalid_request", "Invalid prompt: " .. tostring(p("prompt"))
    end
  end
  r.challenge, r.method = p("code_challenge"), p("code_challenge_method")
  if r.method and not r.challenge then
    return nil, 400, "invalid_request", "Missing code_challenge."
  end
  if r.challenge then
    r.method = r.method or "plain"
    if (r.method ~= "S256" and r.method ~= "plain") or not dialog.pkce_string(r.challenge) then
      return nil, 400, "invalid_request", "Invalid code_challenge or code_challenge_method."
    end
  end
  return r
end

local function authorize(server, req)
  local r, status, e, message = parse(req)
  if not r then return blocked(server, status, e, message) end
  if dialog.denied("youtube") then
    return dialog.redirect(server, r.redirect, { { "error", "access_denied" }, { "state", r.state } })
  end
  local grant = oauth.grant("youtube", r.app.client_id, "youtube")
  if dialog.has(r.prompt, "none") and not grant then
    return dialog.redirect(server, r.redirect, { { "error", "consent_required" }, { "state", r.state } })
  end
  local consent = dialog.has(r.prompt, "consent") or not grant
  local code = "4/0Sbx" .. oauth.random(66)
  oauth.put(code, { kind = "code", provider = "youtube", client_id = r.app.client_id, redirect_uri = r.redirect,
    scope = r.scope, challenge = r.challenge, method = r.method, offline = r.offline,
    consent = dialog.has(r.prompt, "consent"), lifetime = oauth.setting("code_lifetime", "youtube") })
  return dialog.redirect(server, r.redirect, { { "state", r.state }, { "code", code },
    { "scope", table.concat(r.scope, " ") }, { "authuser", "0" }, { "prompt", consent and "consent" or "none" } })
end

local function err(server, status, e, desc)
  return dialog.token_json(server, status, { error = e, error_description = desc })
end

-- the app of the client credentials in the body (or Basic), or nil, status, error, description
local function client_of(req, form)
  local id, secret = dialog.basic(req)
  if not id then id, secret = form.client_id, form.client_secret end
  if id == nil then return nil, 400, "invalid_request", "Could not determine client ID from request." end
  local app = dialog.app({ "youtube" }, id)
  if not app then return nil, 401, "invalid_client", "The OAuth client was not found." end
  if secret == nil then return nil, 400, "invalid_request", "client_secret is missing." end
  if not dialog.secret_ok(app, secret) then return nil, 401, "invalid_client", "Unauthorized" end
  return app
end

local function access(app, scope, family)
  local rec = oauth.put("ya29.a0Sbx" .. oauth.random(150), { kind = "access", provider = "youtube",
    client_id = app.client_id, scope = scope, family = family,
    lifetime = oauth.setting("token_lifetime", "youtube") })
  local out = { access_token = rec.token, expires_in = dialog.expires_in(rec), scope = table.concat(scope, " "),
    token_type = "Bearer" }
  if dialog.has(scope, "openid") then
    local p = require("socialpush.sandbox.accounts").profiles.youtube
    local now = math.floor(oauth.now())
    local claims = { iss = "https://accounts.google.com", azp = app.client_id, aud = app.client_id, sub = p.sub,
      iat = now, exp = now + 3600 }
    if dialog.has(scope, G .. "userinfo.email") then claims.email, claims.email_verified = p.email, true end
    out.id_token = dialog.id_token(claims)
  end
  return out
end

local function exchange(server, app, form)
  if form.code == nil then return err(server, 400, "invalid_request", "Missing required parameter: code") end
  local rec = oauth.take(form.code, "code", "youtube")
  if not rec or rec.client_id ~= app.client_id then return err(server, 400, "invalid_grant", "Bad Request") end
  if form.redirect_uri ~= rec.redirect_uri then return err(server, 400, "redirect_uri_mismatch", "Bad Request") end
  if rec.challenge then
    if form.code_verifier == nil then return err(server, 400, "invalid_grant", "Missing code verifier.") end
    if not dialog.pkce_ok(rec.challenge, rec.method, form.code_verifier) then
      return err(server, 400, "invalid_grant", "Invalid code verifier.")
    end
  elseif form.code_verifier ~= nil then
    return err(server, 400, "invalid_request", "code_verifier or verifier is not needed.")
  end
  local grant = oauth.grant("youtube", app.client_id, "youtube")
  local family = grant and grant.family or oauth.new_family("youtube")
  local out = access(app, rec.scope, family)
  local with_refresh = rec.offline and (rec.consent or not (grant and grant.refresh))
    and oauth.setting("refresh_tokens", "youtube")
  if with_refresh then
    local rt = oauth.put("1//0Sbx" .. oauth.random(96), { kind = "refresh", provider = "youtube",
      client_id = app.client_id, scope = rec.scope, family = family,
      lifetime = oauth.setting("refresh_lifetime", "youtube") })
    out.refresh_token = rt.token
  end
  oauth.set_grant("youtube", app.client_id, "youtube",
    { family = family, refresh = (grant and grant.refresh) or with_refresh or false })
  return dialog.token_json(server, 200, out)
end

local function refresh(server, app, form)
  local rec, why = oauth.find(form.refresh_token)
  if not rec or rec.kind ~= "refresh" or rec.provider ~= "youtube" or rec.client_id ~= app.client_id or why then
    return err(server, 400, "invalid_grant", DEAD)
  end
  local scope = rec.scope
  if form.scope then
    scope = normalize(dialog.scopes(form.scope, "%s"))
    if not dialog.subset(scope, rec.scope) then
      return err(server, 400, "invalid_scope", "Some requested scopes were not granted.")   -- [guess]
    end
  end
  return dialog.token_json(server, 200, access(app, scope, rec.family))
end

local function token(server, req)
  local form = req:form(65536) or {}
  local app, status, e, desc = client_of(req, form)
  if not app then return err(server, status, e, desc) end
  if form.grant_type == "authorization_code" then return exchange(server, app, form) end
  if form.grant_type == "refresh_token" then return refresh(server, app, form) end
  return err(server, 400, "unsupported_grant_type", "Invalid grant_type: " .. tostring(form.grant_type or ""))
end

local function revoke(server, req)
  local t = dialog.params(req).token
  local rec, why = oauth.find(t)
  if not rec or rec.provider ~= "youtube" or (rec.kind ~= "access" and rec.kind ~= "refresh") or why then
    return err(server, 400, "invalid_token", "Token expired or revoked")
  end
  oauth.revoke_family(rec.family, "revoked")
  return server.json(200, {})
end

--- syntax: oauth_google.register(server)
function M.register(server)
  local A = "accounts.google.com"
  for _, path in ipairs({ "/o/oauth2/v2/auth", "/o/oauth2/auth" }) do
    server.route(A, "GET", path, function(req) return authorize(server, req) end)
  end
  server.route("oauth2.googleapis.com", "POST", "/token", function(req) return token(server, req) end)
  server.route("oauth2.googleapis.com", "POST", "/revoke", function(req) return revoke(server, req) end)
  server.route(A, { "GET", "POST" }, "/o/oauth2/revoke", function(req) return revoke(server, req) end)
end

return M
