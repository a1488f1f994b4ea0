--- Sandbox emulation of Facebook Login and Page tokens (PROVIDERS-AUTH.md A5), part of
-- providers/oauth.lua (listed before facebook.lua: /me and /debug_token would otherwise be
-- taken by its GET /{id}).
--
-- - GET www.facebook.com /v25.0/dialog/oauth (any version, or none): client_id
--   (apps.facebook), redirect_uri (registered or loopback), state, response_type=code,
--   scope (comma- or space-separated). Client, redirect and scope errors on a page
--   [recalled texts]. Auto-consent: 302 ?code=&state= plus "#_=_" [doc]; deny mode:
--   ?error_reason=user_denied&error=access_denied&error_description=Permissions+error.
-- - GET|POST graph.facebook.com /v25.0/oauth/access_token: client_id, redirect_uri,
--   client_secret (query), code → {access_token, token_type, expires_in} (a short-lived
--   user token, 2 h [guess]); grant_type=fb_exchange_token → a long-lived one (~60 d [doc]).
--   No refresh token; an expired token cannot be exchanged [doc]. Errors: Graph bodies,
--   codes 1, 100 (subcodes 36007 expired code, 36008 redirect mismatch, 36009 used code),
--   101, 190 [recalled].
-- - GET /me?fields=id,name (user token: the user; Page token: the Page), GET /me/accounts
--   ?fields=id,name,access_token,tasks[&limit=&after=&before=] → the fixture user's Pages
--   with Page tokens that never expire when derived from a long-lived user token (else they
--   die with it) [code], cursor paging. Both need appsecret_proof like every fixture call.
-- - GET /debug_token?input_token=&access_token=APP_ID|APP_SECRET → data{app_id, type,
--   application, expires_at, data_access_expires_at, is_valid, issued_at, scopes,
--   granular_scopes, user_id, profile_id} [doc]; an expired token: is_valid false + error
--   190/463 [guess: subcode recalled].
local oauth = require("socialpush.sandbox.oauth")
local dialog = require("socialpush.sandbox.oauth_dialog")

local M = {}

local GRAPH = "graph.facebook.com"
local APP_NAME = "socialpush sandbox app"
local VERSION = "v25.0"
local DATA_ACCESS = 90 * 86400                      -- data_access_expires_at: 90 days [doc]
local SCOPES = {}
for s in ([[public_profile email pages_show_list pages_manage_posts pages_read_engagement
  pages_manage_metadata pages_read_user_content pages_manage_engagement pages_manage_ads pages_messaging
  business_management publish_video read_insights instagram_basic instagram_content_publish]]):gmatch("%S+") do
  SCOPES[s] = true
end
local PAGE_FIELDS = { "access_token", "category", "category_list", "name", "id", "tasks" }

------------------------------------------------------------------ responses

local function trace()
  return "A" .. oauth.random(10)
end

local function fail(server, code, message, subcode, etype)
  local t = trace()
  return server.json(400, { error = { message = message, type = etype or "OAuthException", code = code,
    error_subcode = subcode, fbtrace_id = t } }, { ["x-fb-trace-id"] = t, ["facebook-api-version"] = VERSION })
end

local function reply(server, value)
  return server.json(200, value, { ["x-fb-trace-id"] = trace(), ["facebook-api-version"] = VERSION })
end

-- Facebook prints dates in Pacific time: "Tuesday, 02-Dec-25 09:00:00 PST" (no DST here)
local function pacific(t)
  return os.date("!%A, %d-%b-%y %H:%M:%S", math.floor(t) - 8 * 3600) .. " PST"
end

--- Graph's message for an access token past its lifetime (code 190, subcode 463)
-- syntax: s = oauth_facebook.expired_message(expires_at)
local function expired_message(expires_at)
  return "Error validating access token: Session has expired on " .. pacific(expires_at)
    .. ". The current time is " .. pacific(oauth.now()) .. "."
end
M.expired_message = expired_message

local REVOKED = "Error validating access token: The session has been invalidated because the user changed their"
  .. " password or Facebook has changed the session for security reasons."

-- the refusal of a token, as facebook.lua answers it (plus 463 for a lapsed issued token)
local function refused(server, reason, detail)
  if reason == "missing" then return fail(server, 104, "An access token is required to request this resource.") end
  if reason == "missing_proof" then
    return fail(server, 100, "API calls from the server require an appsecret_proof argument", nil,
      "GraphMethodException")
  end
  if reason == "bad_proof" then
    return fail(server, 100, "Invalid appsecret_proof provided in the API argument", nil, "GraphMethodException")
  end
  if reason == "expired" and detail and detail.reason == "lapsed" then
    return fail(server, 190, expired_message(detail.expires_at), 463)
  end
  if reason == "expired" then return fail(server, 190, REVOKED, 460) end
  return fail(server, 190, "Invalid OAuth access token - Cannot parse access token")
end

------------------------------------------------------------------ dialog

local function dialog_oauth(server, req)
  local function p(name) return dialog.arg(req, name) end
  local app = dialog.app({ "facebook" }, p("client_id"))
  if not app then
    return dialog.page(server, 400, "Invalid App ID", "The provided app ID does not look like a valid app ID.")
  end
  local redirect = p("redirect_uri")
  if not dialog.redirect_ok(app, redirect) then
    return dialog.page(server, 400, "URL blocked", "This redirect failed because the redirect URI is not"
      .. " white-listed in the app's client OAuth settings. Make sure that the client and web OAuth logins are on"
      .. " and add all your app domains as valid OAuth redirect URIs.")
  end
  local rtype = p("response_type") or "code"
  if rtype ~= "code" then
    return dialog.page(server, 400, "Unsupported response_type", "The sandbox serves response_type=code only.")
  end
  local scopes = dialog.scopes(p("scope"), "%s,")
  local bad = dialog.unknown_scope(scopes, SCOPES)
  if bad then
    return dialog.page(server, 400, "Invalid Scopes", "Invalid Scopes: " .. bad .. ". This message is only shown"
      .. " to developers. Users of your app will ignore these permissions if present.")
  end
  local state = p("state")
  if dialog.denied("facebook") then
    return dialog.redirect(server, redirect, { { "error_reason", "user_denied" }, { "error", "access_denied" },
      { "error_description", "Permissions error." }, { "state", state } }, "#_=_")
  end
  if #scopes == 0 then scopes = { "public_profile" } end
  local code = "AQ" .. oauth.random(200)
  oauth.put(code, { kind = "code", provider = "facebook", client_id = app.client_id, redirect_uri = redirect,
    scope = scopes, lifetime = oauth.setting("code_lifetime", "facebook") })
  return dialog.redirect(server, redirect, { { "code", code }, { "state", state } }, "#_=_")
end

------------------------------------------------------------------ tokens

local function user_token(server, app, scope, family, long)
  local rec = oauth.put("EAA" .. oauth.random(180), { kind = "access", provider = "facebook", type = "user",
    client_id = app.client_id, scope = scope, family = family, long = long or nil,
    lifetime = oauth.setting("token_lifetime", long and "facebook_long_lived" or "facebook") })
  return reply(server, { access_token = rec.token, token_type = "bearer", expires_in = dialog.expires_in(rec) })
end

-- the app of client_id + client_secret, or nil, code, message
local function client_of(p)
  if p.client_id == nil then return nil, 101, "Missing client_id parameter." end
  local app = dialog.app({ "facebook" }, p.client_id)
  if not app then return nil, 101, "Error validating application. Invalid application ID." end
  if p.client_secret == nil or not dialog.secret_ok(app, p.client_secret) then
    return nil, 1, "Error validating client secret."
  end
  return app
end

local function exchange_code(server, app, p)
  if p.redirect_uri == nil then return fail(server, 191, "Missing redirect_uri parameter.") end
  local rec, why = oauth.take(p.code, "code", "facebook")
  if not rec or rec.client_id ~= app.client_id then
    if why == "used" then return fail(server, 100, "This authorization code has been used.", 36009) end
    if why == "lapsed" then return fail(server, 100, "This authorization code has expired.", 36007) end
    return fail(server, 100, "Invalid verification code format.")
  end
  if rec.redirect_uri ~= p.redirect_uri then
    return fail(server, 100, "Error validating verification code. Please make sure your redirect_uri is identical"
      .. " to the one you used in the OAuth dialog request", 36008)
  end
  return user_token(server, app, rec.scope, oauth.new_family("facebook"), false)
end

local function exchange_long(server, app, p)
  local rec, why = oauth.find(p.fb_exchange_token)
  if not rec or rec.kind ~= "access" or rec.provider ~= "facebook" or rec.client_id ~= app.client_id then
    return fail(server, 190, "Invalid OAuth access token - Cannot parse access token")
  end
  if why == "lapsed" then return fail(server, 190, expired_message(rec.expires_at), 463) end
  if why then return fail(server, 190, REVOKED, 460) end
  if rec.type == "page" then
    return reply(server, { access_token = rec.token, token_type = "bearer" })
  end
  return user_token(server, app, rec.scope, rec.family, true)
end

local function access_token(server, req)
  local p = dialog.params(req)
  local app, code, message = client_of(p)
  if not app then return fail(server, code, message) end
  if p.grant_type == "fb_exchange_token" then return exchange_long(server, app, p) end
  if p.code == nil then return fail(server, 100, "Missing authorization code") end
  return exchange_code(server, app, p)
end

------------------------------------------------------------------ identity

local function fields_of(req, default)
  local f = dialog.arg(req, "fields")
  if not f or f == "" then return default end
  return dialog.scopes(f, "%s,")
end

local function pick(obj, fields)
  local out = {}
  for _, f in ipairs(fields) do out[f] = obj[f] end
  return out
end

local function caller(server, req)
  local who, reason, detail = server.auth.appsecret_proof(req, true)
  if not who then return nil, refused(server, reason, detail) end
  return who
end

local function me(server, req)
  local who, resp = caller(server, req)
  if not who then return resp end
  local profile = server.accounts().profiles.facebook
  local obj
  if who.kind == "user" then
    obj = { id = profile.id, name = profile.name }
  else
    local page = profile.pages[1]
    for _, pg in ipairs(profile.pages) do
      if pg.id == who.page_id then page = pg end
    end
    obj = { id = page.id, name = page.name, category = page.category }
  end
  return reply(server, pick(obj, fields_of(req, { "id", "name" })))
end

-- the Page token of a page for a user token record (one per grant, page and token kind)
local function page_token(server, rec, page)
  local key = "fb:oauth:page:" .. rec.family .. ":" .. page.id .. ":" .. (rec.long and "long" or rec.token)
  local tok = server.state.get(key)
  local known = tok and oauth.find(tok)
  if known then return tok end
  local t = oauth.put("EAA" .. oauth.random(180), { kind = "access", provider = "facebook", type = "page",
    page_id = page.id, client_id = rec.client_id, scope = rec.scope, family = rec.family,
    expires_at = rec.long and 0 or rec.expires_at })
  server.state.set(key, t.token)
  return t.token
end

local function cursor(i) return (ngx.encode_base64("sbx:" .. i):gsub("=", "")) end

local function from_cursor(s)
  if type(s) ~= "string" then return nil end
  local pad = s .. string.rep("=", (4 - #s % 4) % 4)
  local dec = ngx.decode_base64(pad)
  return dec and tonumber(dec:match("^sbx:(%d+)$"))
end

local function accounts_edge(server, req)
  local who, resp = caller(server, req)
  if not who then return resp end
  if who.kind ~= "user" then
    return fail(server, 100, "(#100) Tried accessing nonexisting field (accounts) on node type (Page)", nil,
      "GraphMethodException")
  end
  local rec = oauth.find(who.token)
  local pages = server.accounts().profiles.facebook.pages
  local limit = math.max(1, math.min(100, tonumber(dialog.arg(req, "limit") or "") or 25))
  local first = 1
  local after, before = from_cursor(dialog.arg(req, "after")), from_cursor(dialog.arg(req, "before"))
  if after then first = after + 1 elseif before then first = math.max(1, before - limit) end
  local last = math.min(#pages, first + limit - 1)
  if before then last = math.min(last, before - 1) end
  local fields = fields_of(req, PAGE_FIELDS)
  local data = server.array()
  for i = first, last do
    local pg = pages[i]
    local obj = { id = pg.id, name = pg.name, category = pg.category, tasks = server.array(pg.tasks),
      category_list = server.array({ { id = "2211", name = pg.category } }),
      access_token = page_token(server, rec, pg) }
    data[#data + 1] = pick(obj, fields)
  end
  local out = { data = data }
  if #data > 0 then
    out.paging = { cursors = { before = cursor(first), after = cursor(last) } }
    local base = "https://graph.facebook.com/" .. VERSION .. "/me/accounts?limit=" .. limit
    if last < #pages then out.paging.next = base .. "&after=" .. cursor(last) end
    if first > 1 then out.paging.previous = base .. "&before=" .. cursor(first) end
  end
  return reply(server, out)
end

-- the app of debug_token's access_token ("APP_ID|APP_SECRET" or a token of the app)
local function debug_caller(server, tok)
  local apps = server.accounts().apps
  if type(tok) ~= "string" or tok == "" then return nil end
  local id, secret = tok:match("^(%d+)|(.+)$")
  if id then
    local app = dialog.app({ "facebook" }, id)
    return app and dialog.secret_ok(app, secret) and app or nil
  end
  local info = server.auth.token(tok, "facebook")
  return info and apps.facebook or nil
end

local function describe(server, tok, app)
  local fixture, expired = server.accounts().facebook, server.accounts().expired.facebook
  local d = { app_id = app.client_id, application = APP_NAME, scopes = server.array() }
  if tok == fixture.access_token or tok == expired.access_token then
    d.type, d.profile_id, d.user_id, d.expires_at = "PAGE", fixture.page_id, fixture.user_id, 0
    d.is_valid = tok == fixture.access_token
    for _, s in ipairs({ "pages_show_list", "pages_manage_posts", "pages_read_engagement" }) do
      d.scopes[#d.scopes + 1] = s
    end
    if not d.is_valid then d.error = { code = 190, message = REVOKED, subcode = 460 } end
    return d
  end
  local rec, why = oauth.find(tok)
  if not rec or rec.provider ~= "facebook" or rec.kind ~= "access" then
    return { error = { code = 190, message = "Invalid OAuth access token." }, is_valid = false,
      scopes = server.array() }
  end
  d.type = rec.type == "page" and "PAGE" or "USER"
  d.user_id = server.accounts().profiles.facebook.id
  if rec.page_id then d.profile_id = rec.page_id end
  d.issued_at, d.expires_at = math.floor(rec.issued_at), math.floor(rec.expires_at)
  d.data_access_expires_at = math.floor(rec.issued_at) + DATA_ACCESS
  d.is_valid = why == nil
  local granular = server.array()
  for _, s in ipairs(rec.scope or {}) do
    d.scopes[#d.scopes + 1] = s
    local g = { scope = s }
    if s:match("^pages_") then g.target_ids = server.array({ server.accounts().facebook.page_id }) end
    granular[#granular + 1] = g
  end
  d.granular_scopes = granular
  if why == "lapsed" then
    d.error = { code = 190, message = expired_message(rec.expires_at), subcode = 463 }
  elseif why then
    d.error = { code = 190, message = REVOKED, subcode = 460 }
  end
  return d
end

local function debug_token(server, req)
  local p = dialog.params(req)
  if p.access_token == nil then return fail(server, 104, "An access token is required to request this resource.") end
  local app = debug_caller(server, p.access_token)
  if not app then return fail(server, 190, "Invalid OAuth access token signature.") end
  if p.input_token == nil then return fail(server, 100, "(#100) The parameter input_token is required") end
  return reply(server, { data = describe(server, p.input_token, app) })
end

--- syntax: oauth_facebook.register(server)
function M.register(server)
  local function both(host, method, tail, fn)
    server.route(host, method, "/v%d+%.%d+" .. tail, function(req) return fn(server, req) end)
    server.route(host, method, tail, function(req) return fn(server, req) end)
  end
  both("www.facebook.com", "GET", "/dialog/oauth", dialog_oauth)
  both(GRAPH, { "GET", "POST" }, "/oauth/access_token", access_token)
  both(GRAPH, "GET", "/me", me)
  both(GRAPH, "GET", "/me/accounts", accounts_edge)
  both(GRAPH, "GET", "/debug_token", debug_token)
end

return M
