--- Sandbox emulation of X's token flows (PROVIDERS-AUTH.md A1), part of providers/oauth.lua.
--
-- OAuth 2.0 authorization code + PKCE:
-- - GET x.com (twitter.com) /i/oauth2/authorize: client_id (apps.twitter confidential,
--   apps.twitter_public public), redirect_uri (registered or loopback) else a 400 page;
--   response_type=code, state (<= 500), scope (space-separated, known X scopes),
--   code_challenge + code_challenge_method S256|plain, all required, else a redirect with
--   error= [guess: X's own error pages are not documented]. Auto-consent: 302 with state
--   and code; deny mode: error=access_denied.
-- - POST api.x.com /2/oauth2/token: confidential clients need Basic (else 401
--   unauthorized_client "Missing valid authorization header" [code]); public clients send
--   client_id in the body. authorization_code: the code is single-use and lives 30 s [doc],
--   redirect_uri must match, code_verifier must pass the challenge; any failure answers 400
--   invalid_request "Value passed for the authorization code was invalid." [issue].
--   refresh_token: rotating and single-use [doc]; a used one answers 400 invalid_request
--   "Value passed for the token was invalid." [code] and revokes its whole family [issue].
--   Refresh tokens only with offline.access [doc]. Scope in the answer space-separated.
-- - POST /2/oauth2/revoke (token, token_type_hint; same client auth): revokes the token's
--   family, 200 {"revoked":true} [guess: the body is unverified].
-- - GET /2/users/me: {data = {id, name, username}}, needs users.read + tweet.read [doc].
--
-- OAuth 1.0a (apps.twitter_oauth1 = the fixture consumer):
-- - POST /oauth/request_token (consumer-signed, oauth_callback registered/loopback/"oob")
--   → oauth_token=&oauth_token_secret=&oauth_callback_confirmed=true (form-encoded);
--   an unapproved callback → 403 code 415 [recalled].
-- - GET /oauth/authorize, /oauth/authenticate ?oauth_token= → 302 callback?oauth_token=
--   &oauth_verifier= ("oob": an HTML page with the PIN); deny mode → callback?denied=TOKEN [guess].
-- - POST /oauth/access_token (signed with the request token; oauth_verifier) →
--   oauth_token=&oauth_token_secret=&user_id=&screen_name=; tokens never expire.
-- - POST /1.1/oauth/invalidate_token → {"access_token": token}; afterwards calls get 401.
local oauth = require("socialpush.sandbox.oauth")
local dialog = require("socialpush.sandbox.oauth_dialog")

local M = {}

local AUTH_HOSTS = { "x.com", "twitter.com" }
local API_HOSTS = { "api.x.com", "api.twitter.com" }
local APPS = { "twitter", "twitter_public" }
local PROBLEMS = "https://api.x.com/2/problems/"

-- [doc] x-api fundamentals/authentication/oauth-2-0/authorization-code: the scope list
local SCOPES = {}
for s in ([[tweet.read tweet.write tweet.moderate.write users.email users.read follows.read
  follows.write offline.access space.read mute.read mute.write like.read like.write list.read
  list.write block.read block.write bookmark.read bookmark.write media.write dm.read dm.write]])
  :gmatch("%S+") do SCOPES[s] = true end

local BAD_CODE = "Value passed for the authorization code was invalid."
local BAD_TOKEN = "Value passed for the token was invalid."
local NO_AUTH = "Missing valid authorization header"

local function problem(server, status, title, detail, ptype)
  return server.json(status, { title = title, detail = detail, type = ptype or "about:blank", status = status })
end

---------------------------------------------------------------- OAuth 2.0

local function authorize(server, req)
  local function p(name) return dialog.arg(req, name) end
  local app = dialog.app(APPS, p("client_id"))
  if not app then
    return dialog.page(server, 400, "Something went wrong",
      "You weren't able to give access to the App. The client_id is not valid.")
  end
  local redirect = p("redirect_uri")
  if not dialog.redirect_ok(app, redirect) then
    return dialog.page(server, 400, "Something went wrong",
      "You weren't able to give access to the App. The redirect_uri does not match the App's callback URLs.")
  end
  local state = p("state")
  local function fail(err, desc)
    return dialog.redirect(server, redirect, { { "error", err }, { "error_description", desc }, { "state", state } })
  end
  if p("response_type") ~= "code" then return fail("unsupported_response_type", "response_type must be code") end
  if not state or state == "" or #state > 500 then
    return fail("invalid_request", "state is required (at most 500 characters)")
  end
  local scopes = dialog.scopes(p("scope"), " ")
  if #scopes == 0 then return fail("invalid_request", "scope is required") end
  local bad = dialog.unknown_scope(scopes, SCOPES)
  if bad then return fail("invalid_scope", "unknown scope " .. bad) end
  local challenge, method = p("code_challenge"), p("code_challenge_method")
  if method ~= "S256" and method ~= "plain" then
    return fail("invalid_request", "code_challenge_method must be S256 or plain")
  end
  if not dialog.pkce_string(challenge) then return fail("invalid_request", "code_challenge is required") end
  if dialog.denied("twitter") then
    return dialog.redirect(server, redirect, { { "error", "access_denied" }, { "state", state } })
  end
  local code = oauth.random(91)
  oauth.put(code, { kind = "code", provider = "twitter", client_id = app.client_id, redirect_uri = redirect,
    scope = scopes, challenge = challenge, method = method, lifetime = oauth.setting("code_lifetime", "twitter") })
  return dialog.redirect(server, redirect, { { "state", state }, { "code", code } })
end

-- the client of a token/revoke request: Basic for confidential clients, client_id in the
-- body for public ones; nil after answering
local function client_of(server, req, form)
  local id, secret = dialog.basic(req)
  if id then
    local app = dialog.app(APPS, id)
    if app and dialog.secret_ok(app, secret) then return app end
    dialog.token_json(server, 401, { error = "unauthorized_client", error_description = NO_AUTH })
    return nil
  end
  local app = dialog.app(APPS, form.client_id)
  if not app then
    if form.client_id == nil then
      dialog.token_json(server, 400, { error = "invalid_request",
        error_description = "Missing required parameter [client_id]." })     -- [guess]
    else
      dialog.token_json(server, 401, { error = "unauthorized_client", error_description = NO_AUTH }) -- [guess]
    end
    return nil
  end
  if app.client_secret then
    dialog.token_json(server, 401, { error = "unauthorized_client", error_description = NO_AUTH })
    return nil
  end
  return app
end

local function issue(app, scope, family)
  local rec = oauth.put(oauth.random(91), { kind = "access", provider = "twitter", client_id = app.client_id,
    scope = scope, family = family, lifetime = oauth.setting("token_lifetime", "twitter") })
  local out = { token_type = "bearer", expires_in = dialog.expires_in(rec), access_token = rec.token,
    scope = table.concat(scope, " ") }
  if dialog.has(scope, "offline.access") and oauth.setting("refresh_tokens", "twitter") then
    local rt = oauth.put(oauth.random(91), { kind = "refresh", provider = "twitter", client_id = app.client_id,
      scope = scope, family = family, lifetime = oauth.setting("refresh_lifetime", "twitter") })
    out.refresh_token = rt.token
  end
  return out
end

local function exchange(server, app, form)
  local function bad(desc)
    return dialog.token_json(server, 400, { error = "invalid_request", error_description = desc })
  end
  if form.code == nil then return bad("Missing required parameter [code].") end              -- [guess]
  if form.code_verifier == nil then return bad("Missing required parameter [code_verifier].") end -- [guess]
  local rec = oauth.take(form.code, "code", "twitter")
  if not rec or rec.client_id ~= app.client_id or rec.redirect_uri ~= form.redirect_uri
    or not dialog.pkce_ok(rec.challenge, rec.method, form.code_verifier) then
    return bad(BAD_CODE)
  end
  return dialog.token_json(server, 200, issue(app, rec.scope, oauth.new_family("twitter")))
end

local function refresh(server, app, form)
  local rec, why = oauth.find(form.refresh_token)
  if not rec or rec.kind ~= "refresh" or rec.provider ~= "twitter" or rec.client_id ~= app.client_id or why then
    if rec and why == "used" then oauth.revoke_family(rec.family, "reused") end
    return dialog.token_json(server, 400, { error = "invalid_request", error_description = BAD_TOKEN })
  end
  oauth.update(rec.token, function(r) r.used = true end)
  return dialog.token_json(server, 200, issue(app, rec.scope, rec.family))
end

local function token(server, req)
  local form = req:form(65536) or {}
  local app = client_of(server, req, form)
  if not app then return end
  if form.grant_type == "authorization_code" then return exchange(server, app, form) end
  if form.grant_type == "refresh_token" then return refresh(server, app, form) end
  return dialog.token_json(server, 400, { error = "invalid_request",                       -- [guess]
    error_description = "Value passed for the grant type was invalid. Grant type should be one of"
      .. " [authorization_code, refresh_token, client_credentials]." })
end

local function revoke(server, req)
  local form = req:form(65536) or {}
  local app = client_of(server, req, form)
  if not app then return end
  local rec = oauth.find(form.token)
  if rec and rec.provider == "twitter" and rec.client_id == app.client_id and rec.family then
    oauth.revoke_family(rec.family, "revoked")
  end
  return server.json(200, { revoked = true })
end

-- the caller of an X v2 identity call: OAuth 2 user token or OAuth 1.0a; nil after answering
local function user_of(server, req)
  local scheme = (req:header("authorization") or ""):match("^%s*(%S+)")
  scheme = scheme and scheme:lower()
  local who
  if scheme == "oauth" then
    who = server.auth.oauth1(req)
  elseif scheme == "bearer" then
    local tok = server.auth.scheme(req, "Bearer")
    local tw = server.accounts().twitter
    if tw.app_bearer_token and tok == tw.app_bearer_token then
      problem(server, 403, "Unsupported Authentication",
        "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  Supported "
        .. "authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context].",
        PROBLEMS .. "unsupported-authentication")
      return nil
    end
    who = server.auth.bearer(req, "twitter")
  end
  if not who then
    problem(server, 401, "Unauthorized", "Unauthorized")
    return nil
  end
  if not oauth.has_scopes(who, { "users.read", "tweet.read" }) then
    problem(server, 403, "Forbidden", "Forbidden")                                        -- [guess]
    return nil
  end
  return who
end

local function users_me(server, req)
  local who = user_of(server, req)
  if not who then return end
  local p = server.accounts().profiles.twitter
  local window = math.floor(ngx.now() / 900)
  local n = server.state.incr("x:oauth:users_me:" .. window)          -- [doc] 75 per 15 min per user
  local headers = { ["x-rate-limit-limit"] = "75", ["x-rate-limit-remaining"] = tostring(math.max(0, 75 - n)),
    ["x-rate-limit-reset"] = tostring((window + 1) * 900) }
  if n > 75 then
    return server.json(429, { title = "Too Many Requests", detail = "Too Many Requests", type = "about:blank",
      status = 429 }, headers)
  end
  return server.json(200, { data = { id = p.id, name = p.name, username = p.username } }, headers)
end

---------------------------------------------------------------- OAuth 1.0a

local function v1_error(server, status, code, message)
  return server.json(status, { errors = { { code = code, message = message } } })
end

local function form_answer(server, pairs_list)
  local parts = {}
  for _, p in ipairs(pairs_list) do parts[#parts + 1] = server.auth.encode(p[1]) .. "=" .. server.auth.encode(p[2]) end
  -- X answers these with text/html [guess]; the body is form-encoded
  return server.send(200, table.concat(parts, "&"), { ["Content-Type"] = "text/html; charset=utf-8",
    ["Cache-Control"] = "no-store" })
end

local function consumer_app(key)
  return dialog.app({ "twitter_oauth1" }, key)
end

local function request_token(server, req)
  local who = server.auth.oauth1(req)
  local app = who and not who.token and consumer_app(who.consumer_key)
  if not app then return v1_error(server, 401, 32, "Could not authenticate you.") end
  local callback = who.oauth.oauth_callback
  if callback ~= "oob" and not dialog.redirect_ok(app, callback) then
    return v1_error(server, 403, 415, "Callback URL not approved for this client application. Approved callback"
      .. " URLs can be adjusted in your application settings")
  end
  local access = dialog.params(req).x_auth_access_type
  local t = oauth.put(oauth.random(27), { kind = "request", provider = "twitter_oauth1", client_id = app.client_id,
    secret = oauth.random(32), callback = callback, access_type = access,
    lifetime = oauth.setting("code_lifetime", "twitter_oauth1") })
  return form_answer(server, { { "oauth_token", t.token }, { "oauth_token_secret", t.secret },
    { "oauth_callback_confirmed", "true" } })
end

local function oauth1_authorize(server, req)
  local tok = dialog.arg(req, "oauth_token")
  local rec, why = oauth.find(tok)
  if not rec or rec.kind ~= "request" or why then
    return dialog.page(server, 400, "Whoa there!",
      "The request token for this page is invalid. It may have already been used, or expired because it is too old.")
  end
  if dialog.denied("twitter_oauth1") then
    oauth.update(tok, function(r) r.revoked = true end)
    if rec.callback == "oob" then
      return dialog.page(server, 200, "Authorization denied", "You denied the app access.")
    end
    return dialog.redirect(server, rec.callback, { { "denied", tok } })
  end
  local verifier = rec.callback == "oob" and tostring(math.random(1000000, 9999999)) or oauth.random(32)
  oauth.update(tok, function(r) r.verifier, r.authorized = verifier, true end)
  if rec.callback == "oob" then
    return server.send(200, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>X / Authorize an app"
      .. "</title></head><body><p>Next, return to the app and enter this PIN to complete the authorization"
      .. " process:</p><kbd aria-labelledby=\"code-desc\"><code>" .. verifier .. "</code></kbd></body></html>\n",
      { ["Content-Type"] = "text/html; charset=utf-8", ["Cache-Control"] = "no-store" })
  end
  return dialog.redirect(server, rec.callback, { { "oauth_token", tok }, { "oauth_verifier", verifier } })
end

local function access_token(server, req)
  local pending
  local who, reason = server.auth.oauth1(req, function(t)
    local rec, why = oauth.find(t)
    if rec and rec.kind == "request" then
      pending = rec
      return { secret = rec.secret, variant = why and "expired" or "valid", account = server.accounts().twitter }
    end
  end)
  if not who or not pending or who.token ~= pending.token then
    if reason == "expired" then
      return server.send(401, "Invalid request token.", { ["Content-Type"] = "text/plain" })   -- [guess]
    end
    return v1_error(server, 401, 32, "Could not authenticate you.")
  end
  local verifier = who.oauth.oauth_verifier or dialog.params(req).oauth_verifier
  if not pending.authorized or pending.used or verifier ~= pending.verifier then
    return server.send(401, "Error processing your OAuth request: Invalid oauth_verifier parameter",  -- [guess]
      { ["Content-Type"] = "text/plain" })
  end
  oauth.update(pending.token, function(r) r.used = true end)
  local tw = server.accounts().twitter
  local p = server.accounts().profiles.twitter
  local t = oauth.put(tw.user_id .. "-" .. oauth.random(40), { kind = "oauth1", provider = "twitter",
    client_id = pending.client_id, secret = oauth.random(45), family = oauth.new_family("twitter_oauth1"),
    access_type = pending.access_type })
  return form_answer(server, { { "oauth_token", t.token }, { "oauth_token_secret", t.secret },
    { "user_id", p.id }, { "screen_name", p.username } })
end

local function invalidate(server, req)
  local who = server.auth.oauth1(req)
  if not who then return v1_error(server, 401, 89, "Invalid or expired token.") end
  if not who.issued then
    return v1_error(server, 403, 403, "(sandbox) the accounts fixture's token cannot be invalidated")
  end
  local rec = oauth.find(who.token)
  oauth.revoke_family(rec.family, "revoked")
  return server.json(200, { access_token = who.token })
end

--- syntax: oauth_twitter.register(server)
function M.register(server)
  server.route(AUTH_HOSTS, "GET", "/i/oauth2/authorize", function(req) return authorize(server, req) end)
  server.route(API_HOSTS, "POST", "/2/oauth2/token", function(req) return token(server, req) end)
  server.route(API_HOSTS, "POST", "/2/oauth2/revoke", function(req) return revoke(server, req) end)
  server.route(API_HOSTS, "GET", "/2/users/me", function(req) return users_me(server, req) end)
  server.route(API_HOSTS, "POST", "/oauth/request_token", function(req) return request_token(server, req) end)
  server.route(API_HOSTS, "GET", "/oauth/authenticate", function(req) return oauth1_authorize(server, req) end)
  server.route(API_HOSTS, "GET", "/oauth/authorize", function(req) return oauth1_authorize(server, req) end)
  server.route(API_HOSTS, "POST", "/oauth/access_token", function(req) return access_token(server, req) end)
  server.route(API_HOSTS, "POST", "/1.1/oauth/invalidate_token", function(req) return invalidate(server, req) end)
end

return M
