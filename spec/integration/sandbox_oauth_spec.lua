-- The sandbox's OAuth emulation, driven with raw HTTP (client:request) through the sandbox:
-- for every provider authorize → 302 with code and state → exchange → publish with the
-- issued token → expire (short lifetimes, the OAuth clock moved forward) → the provider's
-- 401 → refresh → publish again; rotation and family revocation, code reuse and expiry,
-- client authentication, PKCE, deny mode, revoke, identity calls, and a journal that never
-- holds a code, verifier, client secret, access or refresh token. Every wait is bounded;
-- no assertion is about time.
local helpers = require "spec_helpers"
local sign = require "socialpush.sign"
local json = require "socialpush.json"

local sb, acc, apps, c
local secrets                     -- every secret a test saw, checked against the journal
local LOOPBACK = "http://127.0.0.1:8765/callback"
local G = "https://www.googleapis.com/auth/"
local X_SCOPES = "tweet.read tweet.write users.read media.write offline.access"

local function keep(...)
  for _, s in ipairs({ ... }) do
    if type(s) == "string" and #s >= 8 then secrets[#secrets + 1] = s end
  end
  return ...
end

local function enc(s) return sign.percent_encode(tostring(s)) end

local function qs(list)
  local out = {}
  for _, p in ipairs(list) do out[#out + 1] = enc(p[1]) .. "=" .. enc(p[2]) end
  return table.concat(out, "&")
end

local function params_of(s)
  local t = {}
  for pair in (s or ""):gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=?(.*)$")
    t[assert(sign.form_decode(k))] = assert(sign.form_decode(v))
  end
  return t
end

local function req(t)
  local res, msg = c:request(t)
  assert(res, msg)
  return res
end

local function get(url, headers) return req { url = url, headers = headers } end

local function post_form(url, list, headers)
  headers = headers or {}
  headers["Content-Type"] = "application/x-www-form-urlencoded"
  return req { method = "POST", url = url, headers = headers, body = qs(list) }
end

local function post_json(url, value, headers)
  headers = headers or {}
  headers["Content-Type"] = "application/json"
  return req { method = "POST", url = url, headers = headers, body = json.encode(value) }
end

local function decoded(res) return assert(json.decode(res.body)) end

-- a 302 answer: the redirect URI, its query parameters, the fragment
local function redirect_of(res)
  assert.are.equal(302, res.status, res.body)
  local base, q, frag = res.headers.location:match("^([^?#]*)%??([^#]*)(#?.*)$")
  return base, params_of(q), frag
end

local function basic(id, secret) return "Basic " .. sign.base64(enc(id) .. ":" .. enc(secret)) end

local function settings(t)
  local status, v = sb:control("POST", "/_/oauth", t)
  assert.are.equal(200, status)
  return v
end

local function advance(seconds) settings { advance = seconds } end

-- the journal (every entry, as JSON text) holds none of the secrets seen
local function assert_journal_clean()
  local list = helpers.journal(sb, nil, 1)
  local text = json.encode(list)
  for _, s in ipairs(secrets) do
    assert.is_nil(text:find(s, 1, true), "a secret is in the journal")
  end
  for _, app in pairs(apps) do
    if app.client_secret then
      assert.is_nil(text:find(app.client_secret, 1, true), "a client secret is in the journal")
    end
  end
  return list
end

-------------------------------------------------------------------- X

local function x_authorize(app, scope, redirect, extra)
  local verifier, challenge = sign.pkce()
  local list = { { "response_type", "code" }, { "client_id", app.client_id },
    { "redirect_uri", redirect or app.redirect_uri }, { "scope", scope or X_SCOPES }, { "state", "st-x" },
    { "code_challenge", challenge }, { "code_challenge_method", "S256" } }
  for _, p in ipairs(extra or {}) do list[#list + 1] = p end
  local base, p = redirect_of(get("https://x.com/i/oauth2/authorize?" .. qs(list)))
  assert.are.equal(redirect or app.redirect_uri, base)
  assert.are.equal("st-x", p.state)
  return keep(assert(p.code), verifier)
end

local function x_token(app, list)
  local headers = {}
  if app.client_secret then
    headers.Authorization = basic(app.client_id, app.client_secret)
  else
    list[#list + 1] = { "client_id", app.client_id }
  end
  return post_form("https://api.x.com/2/oauth2/token", list, headers)
end

local function x_exchange(app, code, verifier, redirect)
  local res = x_token(app, { { "grant_type", "authorization_code" }, { "code", code },
    { "redirect_uri", redirect or app.redirect_uri }, { "code_verifier", verifier } })
  assert.are.equal(200, res.status, res.body)
  local t = decoded(res)
  keep(t.access_token, t.refresh_token)
  return t
end

local function x_refresh(app, rt)
  return x_token(app, { { "grant_type", "refresh_token" }, { "refresh_token", rt } })
end

local function tweet(auth, text)
  return post_json("https://api.x.com/2/tweets", { text = text }, { Authorization = auth })
end

local function assert_x_401(res)
  assert.are.equal(401, res.status, res.body)
  local b = decoded(res)
  assert.are.equal("Unauthorized", b.title)
  assert.are.equal(401, b.status)
end

-------------------------------------------------------------------- Google

local function g_authorize(scope, extra)
  local verifier, challenge = sign.pkce()
  local list = { { "client_id", apps.youtube.client_id }, { "redirect_uri", LOOPBACK }, { "response_type", "code" },
    { "scope", scope or (G .. "youtube.upload " .. G .. "youtube") }, { "access_type", "offline" },
    { "state", "st-g" }, { "code_challenge", challenge }, { "code_challenge_method", "S256" } }
  for _, p in ipairs(extra or {}) do list[#list + 1] = p end
  local base, p = redirect_of(get("https://accounts.google.com/o/oauth2/v2/auth?" .. qs(list)))
  assert.are.equal(LOOPBACK, base)
  assert.are.equal("st-g", p.state)
  keep(assert(p.code), verifier)
  return p.code, verifier, p
end

local function g_token(list)
  list[#list + 1] = { "client_id", apps.youtube.client_id }
  list[#list + 1] = { "client_secret", apps.youtube.client_secret }
  return post_form("https://oauth2.googleapis.com/token", list)
end

local function g_exchange(code, verifier)
  local res = g_token({ { "grant_type", "authorization_code" }, { "code", code }, { "redirect_uri", LOOPBACK },
    { "code_verifier", verifier } })
  assert.are.equal(200, res.status, res.body)
  local t = decoded(res)
  keep(t.access_token, t.refresh_token)
  return t
end

local function yt_upload_start(token)
  return post_json("https://www.googleapis.com/upload/youtube/v3/videos?uploadType=resumable&part=snippet%2Cstatus",
    { snippet = { title = "OAuth upload" }, status = { privacyStatus = "private" } },
    { Authorization = "Bearer " .. token, ["X-Upload-Content-Type"] = "video/mp4" })
end

local function assert_google_401(res)
  assert.are.equal(401, res.status, res.body)
  local e = decoded(res).error
  assert.are.equal(401, e.code)
  assert.are.equal("UNAUTHENTICATED", e.status)
  assert.are.equal("authError", e.errors[1].reason)
end

-------------------------------------------------------------------- LinkedIn

local function li_authorize(scope)
  local list = { { "response_type", "code" }, { "client_id", apps.linkedin.client_id },
    { "redirect_uri", apps.linkedin.redirect_uri }, { "state", "st-li" },
    { "scope", scope or "openid profile w_member_social" } }
  local base, p = redirect_of(get("https://www.linkedin.com/oauth/v2/authorization?" .. qs(list)))
  assert.are.equal(apps.linkedin.redirect_uri, base)
  assert.are.equal("st-li", p.state)
  return keep(assert(p.code))
end

local function li_token(list, secret)
  list[#list + 1] = { "client_id", apps.linkedin.client_id }
  list[#list + 1] = { "client_secret", secret or apps.linkedin.client_secret }
  return post_form("https://www.linkedin.com/oauth/v2/accessToken", list)
end

local function li_post(token, text)
  return post_json("https://api.linkedin.com/rest/posts", { author = acc.linkedin.author, commentary = text,
    visibility = "PUBLIC", lifecycleState = "PUBLISHED", distribution = { feedDistribution = "MAIN_FEED" } },
    { Authorization = "Bearer " .. token, ["LinkedIn-Version"] = "202605", ["X-Restli-Protocol-Version"] = "2.0.0" })
end

-------------------------------------------------------------------- Pinterest

local PIN_SCOPES = "boards:read,boards:write,pins:read,pins:write,user_accounts:read"

local function pin_authorize(scope)
  local list = { { "client_id", apps.pinterest.client_id }, { "redirect_uri", apps.pinterest.redirect_uri },
    { "response_type", "code" }, { "scope", scope or PIN_SCOPES }, { "state", "st-pin" } }
  local base, p = redirect_of(get("https://www.pinterest.com/oauth/?" .. qs(list)))
  assert.are.equal(apps.pinterest.redirect_uri, base)
  assert.are.equal("st-pin", p.state)
  return keep(assert(p.code))
end

local function pin_token(list, auth)
  return post_form("https://api.pinterest.com/v5/oauth/token", list,
    { Authorization = auth or basic(apps.pinterest.client_id, apps.pinterest.client_secret) })
end

local function pin_create(token)
  return post_json("https://api.pinterest.com/v5/pins", { board_id = acc.pinterest.board_id, title = "OAuth pin",
    media_source = { source_type = "image_url", url = acc.media.picture } }, { Authorization = "Bearer " .. token })
end

-------------------------------------------------------------------- Facebook

local GRAPH = "https://graph.facebook.com/v25.0"

local function fb_dialog(scope)
  local list = { { "client_id", apps.facebook.client_id }, { "redirect_uri", apps.facebook.redirect_uri },
    { "state", "st-fb" }, { "response_type", "code" },
    { "scope", scope or "pages_show_list,pages_manage_posts,pages_read_engagement" } }
  local base, p, frag = redirect_of(get("https://www.facebook.com/v25.0/dialog/oauth?" .. qs(list)))
  assert.are.equal(apps.facebook.redirect_uri, base)
  assert.are.equal("st-fb", p.state)
  assert.are.equal("#_=_", frag)
  return keep(assert(p.code))
end

local function fb_access_token(list)
  return get(GRAPH .. "/oauth/access_token?" .. qs(list))
end

local function fb_exchange(code)
  local res = fb_access_token({ { "client_id", apps.facebook.client_id },
    { "redirect_uri", apps.facebook.redirect_uri }, { "client_secret", apps.facebook.client_secret },
    { "code", code } })
  assert.are.equal(200, res.status, res.body)
  local t = decoded(res)
  keep(t.access_token)
  return t
end

local function fb_long(token)
  return fb_access_token({ { "grant_type", "fb_exchange_token" }, { "client_id", apps.facebook.client_id },
    { "client_secret", apps.facebook.client_secret }, { "fb_exchange_token", token } })
end

local function proof(token) return sign.appsecret_proof(token, apps.facebook.client_secret) end

local function fb_get(path, token, list)
  list = list or {}
  list[#list + 1] = { "appsecret_proof", proof(token) }
  return get(GRAPH .. path .. "?" .. qs(list), { Authorization = "Bearer " .. token })
end

local function fb_feed(token, message)
  return post_form(GRAPH .. "/" .. acc.facebook.page_id .. "/feed", { { "message", message },
    { "appsecret_proof", proof(token) } }, { Authorization = "Bearer " .. token })
end

local function assert_fb_error(res, code, subcode)
  assert.are.equal(400, res.status, res.body)
  local e = decoded(res).error
  assert.are.equal("OAuthException", e.type)
  assert.are.equal(code, e.code)
  assert.are.equal(subcode, e.error_subcode)
  return e
end

describe("sandbox OAuth #integration", function()
  setup(function()
    sb = helpers.sandbox()
    acc = sb:accounts()
    apps = acc.apps
    c = helpers.client(sb, { retries = 0 })
  end)

  before_each(function()
    sb:reset()
    secrets = {}
  end)

  describe("control", function()
    it("shows the defaults, takes settings and the two modes, refuses bad ones", function()
      local status, v = sb:control("GET", "/_/oauth")
      assert.are.equal(200, status)
      assert.are.equal(30, v.defaults.code_lifetime.twitter)
      assert.are.equal(7200, v.defaults.token_lifetime.twitter)
      v = settings { token_lifetime = { linkedin = 9 }, scopes = false }
      assert.are.equal(9, v.settings.token_lifetime.linkedin)
      assert.is_false(v.settings.scopes)
      status = sb:control("POST", "/_/oauth", { token_lifetime = "long" })
      assert.are.equal(400, status)
      status = sb:control("POST", "/_/oauth", { no_such_setting = 1 })
      assert.are.equal(400, status)
      local modes = assert(sb:mode { token_lifetime = 42, oauth_deny = "linkedin" })
      assert.are.equal(42, modes.token_lifetime)
      assert.are.equal("linkedin", modes.oauth_deny)
      assert.is_nil(sb:mode { token_lifetime = -1 })
      assert.is_true(sb:reset())
      local _, after = sb:control("GET", "/_/oauth")
      assert.is_nil(next(after.settings))
      assert.is_nil(after.modes.token_lifetime)
    end)
  end)

  describe("X OAuth 2.0 + PKCE", function()
    it("authorize, exchange, post, expire, 401, refresh, post again", function()
      assert(sb:mode { token_lifetime = 5 })
      local app = apps.twitter
      local code, verifier = x_authorize(app)
      local t = x_exchange(app, code, verifier)
      assert.are.equal("bearer", t.token_type)
      assert.are.equal(5, t.expires_in)
      assert.are.equal(X_SCOPES, t.scope)
      assert.is_string(t.refresh_token)
      assert.are.equal(201, tweet("Bearer " .. t.access_token, "first with an issued token").status)
      local me = get("https://api.x.com/2/users/me", { Authorization = "Bearer " .. t.access_token })
      assert.are.equal(200, me.status, me.body)
      assert.are.equal(acc.twitter.user_id, decoded(me).data.id)
      assert.are.equal(acc.profiles.twitter.username, decoded(me).data.username)

      advance(6)
      assert_x_401(tweet("Bearer " .. t.access_token, "after expiry"))
      local res = x_refresh(app, t.refresh_token)
      assert.are.equal(200, res.status, res.body)
      local t2 = decoded(res)
      keep(t2.access_token, t2.refresh_token)
      assert.are_not.equal(t.refresh_token, t2.refresh_token)   -- rotated
      assert.are_not.equal(t.access_token, t2.access_token)
      assert.are.equal(201, tweet("Bearer " .. t2.access_token, "after the refresh").status)

      local list = assert_journal_clean()
      local token_calls = 0
      for _, e in ipairs(list) do
        if e.path == "/2/oauth2/token" then
          token_calls = token_calls + 1
          assert.are.equal("Basic ***", e.headers.authorization)
        end
      end
      assert.are.equal(2, token_calls)
    end)

    it("the registered callback answers like /echo, and the journal masks the code", function()
      local app = apps.twitter
      local verifier, challenge = sign.pkce()
      keep(verifier)
      local res = get("https://x.com/i/oauth2/authorize?" .. qs({ { "response_type", "code" },
        { "client_id", app.client_id }, { "redirect_uri", app.redirect_uri }, { "scope", X_SCOPES },
        { "state", "follow" }, { "code_challenge", challenge }, { "code_challenge_method", "S256" } }))
      local _, p = redirect_of(res)
      keep(p.code)
      local cb = get(res.headers.location)                          -- follow it, as a browser would
      assert.are.equal(200, cb.status)
      assert.are.equal("/oauth/callback", decoded(cb).path)
      local list = assert_journal_clean()
      local seen = false
      for _, e in ipairs(list) do
        if e.path == "/oauth/callback" then
          seen = true
          assert.are.equal("state=follow&code=***", e.query)
        elseif e.path == "/i/oauth2/authorize" then
          assert.matches("code_challenge=***", e.query, 1, true)
        end
      end
      assert.is_true(seen)
    end)

    it("refuses a reused refresh token and revokes its whole family", function()
      local app = apps.twitter
      local t = x_exchange(app, x_authorize(app))
      local res = x_refresh(app, t.refresh_token)
      assert.are.equal(200, res.status)
      local t2 = decoded(res)
      keep(t2.access_token, t2.refresh_token)
      res = x_refresh(app, t.refresh_token)                       -- the old one again
      assert.are.equal(400, res.status)
      assert.are.same({ error = "invalid_request", error_description = "Value passed for the token was invalid." },
        decoded(res))
      assert_x_401(tweet("Bearer " .. t2.access_token, "family revoked"))
      assert.are.equal(400, x_refresh(app, t2.refresh_token).status)
      assert_journal_clean()
    end)

    it("a code works once and for 30 seconds", function()
      local app = apps.twitter
      local code, verifier = x_authorize(app)
      x_exchange(app, code, verifier)
      local res = x_token(app, { { "grant_type", "authorization_code" }, { "code", code },
        { "redirect_uri", app.redirect_uri }, { "code_verifier", verifier } })
      assert.are.equal(400, res.status)
      assert.are.same({ error = "invalid_request",
        error_description = "Value passed for the authorization code was invalid." }, decoded(res))
      code, verifier = x_authorize(app)
      advance(31)
      res = x_token(app, { { "grant_type", "authorization_code" }, { "code", code },
        { "redirect_uri", app.redirect_uri }, { "code_verifier", verifier } })
      assert.are.equal(400, res.status)
      assert.are.equal("invalid_request", decoded(res).error)
    end)

    it("confidential clients need Basic, public ones send client_id; loopback redirects", function()
      local app = apps.twitter
      local code, verifier = x_authorize(app)
      local list = { { "grant_type", "authorization_code" }, { "code", code }, { "redirect_uri", app.redirect_uri },
        { "code_verifier", verifier } }
      local res = post_form("https://api.x.com/2/oauth2/token", { list[1], list[2], list[3], list[4],
        { "client_id", app.client_id } })
      assert.are.equal(401, res.status)
      assert.are.same({ error = "unauthorized_client", error_description = "Missing valid authorization header" },
        decoded(res))
      res = post_form("https://api.x.com/2/oauth2/token", list, { Authorization = basic(app.client_id, "wrong") })
      assert.are.equal(401, res.status)

      local public = apps.twitter_public
      assert.is_nil(public.client_secret)
      code, verifier = x_authorize(public, nil, "http://127.0.0.1:50123/cb")
      local t = x_exchange(public, code, verifier, "http://127.0.0.1:50123/cb")
      assert.are.equal(201, tweet("Bearer " .. t.access_token, "from a public client").status)
      res = post_form("https://api.x.com/2/oauth2/token", { { "grant_type", "refresh_token" },
        { "refresh_token", t.refresh_token } })
      assert.are.equal(400, res.status)                            -- no client at all
      assert_journal_clean()
    end)

    it("checks PKCE, the redirect URI and the scopes", function()
      local app = apps.twitter
      local code = x_authorize(app)
      local res = x_token(app, { { "grant_type", "authorization_code" }, { "code", code },
        { "redirect_uri", app.redirect_uri }, { "code_verifier", (sign.pkce()) } })   -- another verifier
      assert.are.equal(400, res.status)
      assert.are.equal("Value passed for the authorization code was invalid.", decoded(res).error_description)

      local verifier = (sign.pkce())
      local url = "https://x.com/i/oauth2/authorize?" .. qs({ { "response_type", "code" },
        { "client_id", app.client_id }, { "redirect_uri", app.redirect_uri }, { "scope", "tweet.read" },
        { "state", "s" }, { "code_challenge", verifier }, { "code_challenge_method", "plain" } })
      local _, p = redirect_of(get(url))
      keep(p.code, verifier)
      local t = x_exchange(app, p.code, verifier)
      assert.is_nil(t.refresh_token)                               -- no offline.access
      assert.are.equal(403, get("https://api.x.com/2/users/me", { Authorization = "Bearer " .. t.access_token }).status)

      res = get("https://x.com/i/oauth2/authorize?" .. qs({ { "response_type", "code" }, { "client_id", app.client_id },
        { "redirect_uri", "https://evil.example/cb" }, { "scope", "tweet.read" }, { "state", "s" },
        { "code_challenge", verifier }, { "code_challenge_method", "plain" } }))
      assert.are.equal(400, res.status)                            -- an error page, no redirect
      assert.is_nil(res.headers.location)
      local _, q = redirect_of(get("https://x.com/i/oauth2/authorize?" .. qs({ { "response_type", "code" },
        { "client_id", app.client_id }, { "redirect_uri", app.redirect_uri }, { "scope", "tweet.read" },
        { "state", "s" } })))
      assert.are.equal("invalid_request", q.error)                 -- no code_challenge
      assert.are.equal("s", q.state)
      assert_journal_clean()
    end)

    it("revoke kills the token and its family", function()
      local app = apps.twitter
      local t = x_exchange(app, x_authorize(app))
      local res = post_form("https://api.x.com/2/oauth2/revoke", { { "token", t.access_token },
        { "token_type_hint", "access_token" } }, { Authorization = basic(app.client_id, app.client_secret) })
      assert.are.equal(200, res.status)
      assert.is_true(decoded(res).revoked)
      assert_x_401(tweet("Bearer " .. t.access_token, "revoked"))
      assert.are.equal(400, x_refresh(app, t.refresh_token).status)
      assert_journal_clean()
    end)
  end)

  describe("X OAuth 1.0a", function()
    local app
    before_each(function() app = apps.twitter_oauth1 end)

    local function request_token(callback)
      local h = assert(sign.oauth1_header { method = "POST", url = "https://api.x.com/oauth/request_token",
        consumer_key = app.client_id, consumer_secret = app.client_secret, callback = callback })
      return req { method = "POST", url = "https://api.x.com/oauth/request_token", headers = { Authorization = h } }
    end

    local function access_token(tok, secret, verifier)
      local h = assert(sign.oauth1_header { method = "POST", url = "https://api.x.com/oauth/access_token",
        consumer_key = app.client_id, consumer_secret = app.client_secret, token = tok, token_secret = secret,
        verifier = verifier })
      return req { method = "POST", url = "https://api.x.com/oauth/access_token", headers = { Authorization = h } }
    end

    local function signed(method, url, tok, secret)
      return assert(sign.oauth1_header { method = method, url = url, consumer_key = app.client_id,
        consumer_secret = app.client_secret, token = tok, token_secret = secret })
    end

    it("request_token → authorize → access_token → post → invalidate → 401", function()
      local res = request_token(app.redirect_uri)
      assert.are.equal(200, res.status, res.body)
      local rt = params_of(res.body)
      keep(rt.oauth_token, rt.oauth_token_secret)
      assert.are.equal("true", rt.oauth_callback_confirmed)
      local base, p = redirect_of(get("https://api.x.com/oauth/authorize?oauth_token=" .. enc(rt.oauth_token)))
      assert.are.equal(app.redirect_uri, base)
      assert.are.equal(rt.oauth_token, p.oauth_token)
      keep(p.oauth_verifier)
      assert.are.equal(401, access_token(rt.oauth_token, rt.oauth_token_secret, "wrong-verifier").status)
      res = access_token(rt.oauth_token, rt.oauth_token_secret, p.oauth_verifier)
      assert.are.equal(200, res.status, res.body)
      local at = params_of(res.body)
      keep(at.oauth_token, at.oauth_token_secret)
      assert.are.equal(acc.twitter.user_id, at.user_id)
      assert.are.equal(acc.profiles.twitter.username, at.screen_name)
      assert.are.equal(401, access_token(rt.oauth_token, rt.oauth_token_secret, p.oauth_verifier).status)  -- used

      local url = "https://api.x.com/2/tweets"
      assert.are.equal(201, tweet(signed("POST", url, at.oauth_token, at.oauth_token_secret), "OAuth 1.0a").status)
      local me = get("https://api.x.com/2/users/me",
        { Authorization = signed("GET", "https://api.x.com/2/users/me", at.oauth_token, at.oauth_token_secret) })
      assert.are.equal(200, me.status)
      local inv = "https://api.x.com/1.1/oauth/invalidate_token"
      res = req { method = "POST", url = inv, headers = { Authorization = signed("POST", inv, at.oauth_token,
        at.oauth_token_secret) } }
      assert.are.equal(200, res.status, res.body)
      assert_x_401(tweet(signed("POST", url, at.oauth_token, at.oauth_token_secret), "invalidated"))
      res = req { method = "POST", url = inv, headers = { Authorization = signed("POST", inv, at.oauth_token,
        at.oauth_token_secret) } }
      assert.are.equal(401, res.status)
      assert.are.equal(89, decoded(res).errors[1].code)
      assert_journal_clean()
    end)

    it("refuses an unapproved callback, shows a PIN for oob, answers denied= in deny mode", function()
      local res = request_token("https://evil.example/cb")
      assert.are.equal(403, res.status)
      assert.are.equal(415, decoded(res).errors[1].code)
      local bad = assert(sign.oauth1_header { method = "POST", url = "https://api.x.com/oauth/request_token",
        consumer_key = app.client_id, consumer_secret = "not the secret", callback = "oob" })
      res = req { method = "POST", url = "https://api.x.com/oauth/request_token", headers = { Authorization = bad } }
      assert.are.equal(401, res.status)
      assert.are.equal(32, decoded(res).errors[1].code)

      local rt = params_of(request_token("oob").body)
      keep(rt.oauth_token, rt.oauth_token_secret)
      res = get("https://api.x.com/oauth/authenticate?oauth_token=" .. enc(rt.oauth_token))
      assert.are.equal(200, res.status)
      local pin = assert(res.body:match("<code>(%d+)</code>"))
      res = access_token(rt.oauth_token, rt.oauth_token_secret, pin)
      assert.are.equal(200, res.status, res.body)
      keep(params_of(res.body).oauth_token, params_of(res.body).oauth_token_secret)

      assert(sb:mode { oauth_deny = "twitter_oauth1" })
      rt = params_of(request_token(LOOPBACK).body)
      keep(rt.oauth_token, rt.oauth_token_secret)
      local base, p = redirect_of(get("https://api.x.com/oauth/authorize?oauth_token=" .. enc(rt.oauth_token)))
      assert.are.equal(LOOPBACK, base)
      assert.are.equal(rt.oauth_token, p.denied)
      assert.is_nil(p.oauth_verifier)
      assert_journal_clean()
    end)
  end)

  describe("Google / YouTube", function()
    it("authorize, exchange, upload, expire, 401, refresh, upload again; the session survives", function()
      settings { token_lifetime = { youtube = 10 } }
      local code, verifier, p = g_authorize()
      assert.are.equal("consent", p.prompt)
      assert.are.equal(G .. "youtube.upload " .. G .. "youtube", p.scope)
      local t = g_exchange(code, verifier)
      assert.are.equal("Bearer", t.token_type)
      assert.are.equal(10, t.expires_in)
      assert.are.equal(G .. "youtube.upload " .. G .. "youtube", t.scope)
      assert.is_string(t.refresh_token)
      local ch = get("https://www.googleapis.com/youtube/v3/channels?part=id%2Csnippet&mine=true",
        { Authorization = "Bearer " .. t.access_token })
      assert.are.equal(200, ch.status, ch.body)
      assert.are.equal(acc.youtube.channel_id, decoded(ch).items[1].id)
      assert.are.equal(acc.profiles.youtube.title, decoded(ch).items[1].snippet.title)
      local res = yt_upload_start(t.access_token)
      assert.are.equal(200, res.status, res.body)
      local session = assert(res.headers.location)

      advance(11)
      assert_google_401(yt_upload_start(t.access_token))
      res = g_token({ { "grant_type", "refresh_token" }, { "refresh_token", t.refresh_token } })
      assert.are.equal(200, res.status, res.body)
      local t2 = decoded(res)
      keep(t2.access_token)
      assert.is_nil(t2.refresh_token)                              -- Google does not rotate
      assert.are.equal(200, yt_upload_start(t2.access_token).status)
      res = req { method = "PUT", url = session, body = ("v"):rep(4096),
        headers = { Authorization = "Bearer " .. t2.access_token, ["Content-Type"] = "video/mp4" } }
      assert.is_true(res.status == 200 or res.status == 201, res.body)
      res = g_token({ { "grant_type", "refresh_token" }, { "refresh_token", t.refresh_token } })
      assert.are.equal(200, res.status)                            -- still valid: not single-use
      keep(decoded(res).access_token)
      assert_journal_clean()
    end)

    it("gives the refresh token on the first offline consent only, or with prompt=consent", function()
      local first = g_exchange(g_authorize())
      assert.is_string(first.refresh_token)
      local code, verifier, p = g_authorize()
      assert.are.equal("none", p.prompt)
      assert.is_nil(g_exchange(code, verifier).refresh_token)
      local again = g_exchange(g_authorize(nil, { { "prompt", "consent" } }))
      assert.is_string(again.refresh_token)
      local online = g_authorize(nil, { { "access_type", "online" } })
      assert.is_truthy(online)
      assert_journal_clean()
    end)

    it("revoking the access token revokes its refresh token; then a new consent gives one again", function()
      local t = g_exchange(g_authorize())
      local res = post_form("https://oauth2.googleapis.com/revoke?token=" .. enc(t.access_token), {})
      assert.are.equal(200, res.status, res.body)
      res = g_token({ { "grant_type", "refresh_token" }, { "refresh_token", t.refresh_token } })
      assert.are.equal(400, res.status)
      assert.are.same({ error = "invalid_grant", error_description = "Token has been expired or revoked." },
        decoded(res))
      assert_google_401(yt_upload_start(t.access_token))
      assert.are.equal(400, post_form("https://oauth2.googleapis.com/revoke", { { "token", t.access_token } }).status)
      assert.is_string(g_exchange(g_authorize()).refresh_token)
      assert_journal_clean()
    end)

    it("checks client credentials, PKCE, code reuse and scopes", function()
      local code, verifier = g_authorize()
      local res = post_form("https://oauth2.googleapis.com/token", { { "grant_type", "authorization_code" },
        { "code", code }, { "redirect_uri", LOOPBACK }, { "code_verifier", verifier },
        { "client_id", apps.youtube.client_id } })
      assert.are.equal(400, res.status)
      assert.are.equal("invalid_request", decoded(res).error)
      res = post_form("https://oauth2.googleapis.com/token", { { "grant_type", "authorization_code" },
        { "code", code }, { "redirect_uri", LOOPBACK }, { "code_verifier", verifier },
        { "client_id", apps.youtube.client_id }, { "client_secret", "wrong" } })
      assert.are.equal(401, res.status)
      assert.are.equal("invalid_client", decoded(res).error)

      code = g_authorize()
      res = g_token({ { "grant_type", "authorization_code" }, { "code", code }, { "redirect_uri", LOOPBACK },
        { "code_verifier", (sign.pkce()) } })
      assert.are.equal(400, res.status)
      assert.are.equal("invalid_grant", decoded(res).error)
      res = g_token({ { "grant_type", "authorization_code" }, { "code", code }, { "redirect_uri", LOOPBACK },
        { "code_verifier", verifier } })
      assert.are.equal(400, res.status)                            -- used up by the failed try

      local up = g_exchange(g_authorize(G .. "youtube.upload"))
      res = get("https://www.googleapis.com/youtube/v3/channels?part=id&mine=true",
        { Authorization = "Bearer " .. up.access_token })
      assert.are.equal(403, res.status)
      assert.are.equal("insufficientPermissions", decoded(res).error.errors[1].reason)
      assert.are.equal(200, yt_upload_start(up.access_token).status)
      assert_journal_clean()
    end)
  end)

  describe("LinkedIn", function()
    it("authorize, exchange, userinfo, post, expire, 401, refresh (same token, no extension), post", function()
      settings { token_lifetime = { linkedin = 10 } }
      local res = li_token({ { "grant_type", "authorization_code" }, { "code", li_authorize() },
        { "redirect_uri", apps.linkedin.redirect_uri } })
      assert.are.equal(200, res.status, res.body)
      local t = decoded(res)
      keep(t.access_token, t.refresh_token, t.id_token)
      assert.are.equal("openid,profile,w_member_social", t.scope)
      assert.are.equal(10, t.expires_in)
      assert.is_string(t.id_token)
      assert.is_true(t.refresh_token_expires_in > 31535000)
      local ui = get("https://api.linkedin.com/v2/userinfo", { Authorization = "Bearer " .. t.access_token })
      assert.are.equal(200, ui.status, ui.body)
      assert.are.equal(acc.linkedin.author, "urn:li:person:" .. decoded(ui).sub)
      assert.are.equal(201, li_post(t.access_token, "issued token post").status)

      advance(11)
      res = li_post(t.access_token, "after expiry")
      assert.are.equal(401, res.status)
      assert.are.equal(65600, decoded(res).serviceErrorCode)
      res = li_token({ { "grant_type", "refresh_token" }, { "refresh_token", t.refresh_token } })
      assert.are.equal(200, res.status, res.body)
      local t2 = decoded(res)
      keep(t2.access_token)
      assert.are.equal(t.refresh_token, t2.refresh_token)          -- not rotating
      assert.is_true(t2.refresh_token_expires_in <= t.refresh_token_expires_in - 11)   -- not extended
      assert.are.equal(201, li_post(t2.access_token, "after the refresh").status)

      res = post_form("https://www.linkedin.com/oauth/v2/revoke", { { "client_id", apps.linkedin.client_id },
        { "client_secret", apps.linkedin.client_secret }, { "token", t2.access_token } })
      assert.are.equal(200, res.status)
      res = li_post(t2.access_token, "after revoke")
      assert.are.equal(401, res.status)
      assert.are.same({ serviceErrorCode = 65601, status = 401, code = "REVOKED_ACCESS_TOKEN",
        message = "The token used in the request has been revoked by the user" }, decoded(res))
      assert_journal_clean()
    end)

    it("checks client credentials, code reuse, scopes and the userinfo scope", function()
      local code = li_authorize()
      local res = post_form("https://www.linkedin.com/oauth/v2/accessToken", { { "grant_type", "authorization_code" },
        { "code", code }, { "redirect_uri", apps.linkedin.redirect_uri }, { "client_id", apps.linkedin.client_id } })
      assert.are.equal(400, res.status)
      assert.are.equal('A required parameter "client_secret" is missing', decoded(res).error_description)
      res = li_token({ { "grant_type", "authorization_code" }, { "code", code },
        { "redirect_uri", apps.linkedin.redirect_uri } }, "wrong")
      assert.are.equal(401, res.status)
      assert.are.equal("invalid_client", decoded(res).error)
      res = li_token({ { "grant_type", "authorization_code" }, { "code", code },
        { "redirect_uri", apps.linkedin.redirect_uri } })
      assert.are.equal(200, res.status)
      keep(decoded(res).access_token, decoded(res).refresh_token)
      res = li_token({ { "grant_type", "authorization_code" }, { "code", code },
        { "redirect_uri", apps.linkedin.redirect_uri } })
      assert.are.equal(400, res.status)
      assert.are.equal("invalid_request", decoded(res).error)

      local _, p = redirect_of(get("https://www.linkedin.com/oauth/v2/authorization?" .. qs({
        { "response_type", "code" }, { "client_id", apps.linkedin.client_id }, { "redirect_uri", LOOPBACK },
        { "state", "s" }, { "scope", "w_member_social r_everything" } })))
      assert.are.equal("unauthorized_scope_error", p.error)

      res = li_token({ { "grant_type", "authorization_code" }, { "code", li_authorize("w_member_social") },
        { "redirect_uri", apps.linkedin.redirect_uri } })
      local t = decoded(res)
      keep(t.access_token, t.refresh_token)
      res = get("https://api.linkedin.com/v2/userinfo", { Authorization = "Bearer " .. t.access_token })
      assert.are.equal(403, res.status)
      assert_journal_clean()
    end)
  end)

  describe("Pinterest", function()
    it("authorize, exchange, pin, expire, 401, refresh (rotating), pin; reuse kills the family", function()
      settings { token_lifetime = { pinterest = 10 } }
      local code = pin_authorize()
      local res = pin_token({ { "grant_type", "authorization_code" }, { "code", code },
        { "redirect_uri", apps.pinterest.redirect_uri } }, "Basic " .. sign.base64("nobody:nothing"))
      assert.are.equal(401, res.status)
      assert.are.equal(2, decoded(res).code)
      res = pin_token({ { "grant_type", "authorization_code" }, { "code", code },
        { "redirect_uri", apps.pinterest.redirect_uri } })
      assert.are.equal(200, res.status, res.body)
      local t = decoded(res)
      local again = pin_token({ { "grant_type", "authorization_code" }, { "code", code },
        { "redirect_uri", apps.pinterest.redirect_uri } })
      assert.are.same({ code = 283, message = "The authorization grant is invalid" }, decoded(again))
      keep(t.access_token, t.refresh_token)
      assert.are.equal("authorization_code", t.response_type)
      assert.are.equal("bearer", t.token_type)
      assert.are.equal(10, t.expires_in)
      assert.matches("^pina_", t.access_token)
      assert.matches("^pinr_", t.refresh_token)
      assert.is_number(t.refresh_token_expires_in)
      assert.is_number(t.refresh_token_expires_at)
      local ua = get("https://api.pinterest.com/v5/user_account", { Authorization = "Bearer " .. t.access_token })
      assert.are.equal(200, ua.status, ua.body)
      assert.are.equal(acc.profiles.pinterest.username, decoded(ua).username)
      assert.are.equal(201, pin_create(t.access_token).status)

      advance(11)
      res = pin_create(t.access_token)
      assert.are.equal(401, res.status)
      assert.are.equal(2, decoded(res).code)
      res = pin_token({ { "grant_type", "refresh_token" }, { "refresh_token", t.refresh_token } })
      assert.are.equal(200, res.status, res.body)
      local t2 = decoded(res)
      keep(t2.access_token, t2.refresh_token)
      assert.are.equal("refresh_token", t2.response_type)
      assert.are_not.equal(t.refresh_token, t2.refresh_token)
      assert.are.equal(201, pin_create(t2.access_token).status)

      res = pin_token({ { "grant_type", "refresh_token" }, { "refresh_token", t.refresh_token } })
      assert.are.equal(400, res.status)
      assert.are.equal(283, decoded(res).code)
      assert.are.equal(401, pin_create(t2.access_token).status)
      res = pin_token({ { "grant_type", "refresh_token" }, { "refresh_token", t2.refresh_token } })
      assert.are.equal(400, res.status)
      assert_journal_clean()
    end)

    it("revoke only for system users unless switched on; user_account needs its scope", function()
      local t = decoded(pin_token({ { "grant_type", "authorization_code" }, { "code", pin_authorize() },
        { "redirect_uri", apps.pinterest.redirect_uri } }))
      keep(t.access_token, t.refresh_token)
      local revoke = function()
        return post_form("https://api.pinterest.com/v5/oauth/token/revoke", { { "token", t.access_token },
          { "token_type_hint", "access_token" } }, { Authorization = basic(apps.pinterest.client_id,
          apps.pinterest.client_secret) })
      end
      local res = revoke()
      assert.are.equal(403, res.status)
      assert.are.equal(29, decoded(res).code)
      settings { revoke_user_tokens = true }
      assert.are.equal(200, revoke().status)
      assert.are.equal(401, pin_create(t.access_token).status)

      local narrow = decoded(pin_token({ { "grant_type", "authorization_code" },
        { "code", pin_authorize("boards:read pins:write") }, { "redirect_uri", apps.pinterest.redirect_uri } }))
      keep(narrow.access_token, narrow.refresh_token)
      res = get("https://api.pinterest.com/v5/user_account", { Authorization = "Bearer " .. narrow.access_token })
      assert.are.equal(401, res.status)
      assert.are.equal(3, decoded(res).code)
      assert_journal_clean()
    end)
  end)

  describe("Facebook", function()
    it("dialog, code → user token → long-lived → Pages → post; expiry answers 190/463", function()
      settings { token_lifetime = { facebook = 10, facebook_long_lived = 20 } }
      local t = fb_exchange(fb_dialog())
      assert.are.equal("bearer", t.token_type)
      assert.are.equal(10, t.expires_in)
      local res = fb_long(t.access_token)
      assert.are.equal(200, res.status, res.body)
      local long = decoded(res)
      keep(long.access_token)
      assert.are.equal(20, long.expires_in)
      local me = fb_get("/me", long.access_token, { { "fields", "id,name" } })
      assert.are.equal(200, me.status, me.body)
      assert.are.same({ id = acc.facebook.user_id, name = acc.profiles.facebook.name }, decoded(me))

      res = fb_get("/me/accounts", long.access_token, { { "fields", "id,name,access_token,tasks" }, { "limit", "1" } })
      assert.are.equal(200, res.status, res.body)
      local pages = decoded(res)
      assert.are.equal(1, #pages.data)
      local page = pages.data[1]
      keep(page.access_token)
      assert.are.equal(acc.facebook.page_id, page.id)
      local create = false
      for _, task in ipairs(page.tasks) do create = create or task == "CREATE_CONTENT" end
      assert.is_true(create)
      assert.is_string(pages.paging.next)
      res = fb_get("/me/accounts", long.access_token, { { "limit", "1" }, { "after", pages.paging.cursors.after } })
      local second = decoded(res)
      keep(second.data[1].access_token)
      assert.are.equal(acc.profiles.facebook.pages[2].id, second.data[1].id)
      assert.is_nil(second.paging.next)

      local dbg = get(GRAPH .. "/debug_token?" .. qs({ { "input_token", page.access_token },
        { "access_token", apps.facebook.client_id .. "|" .. apps.facebook.client_secret } }))
      assert.are.equal(200, dbg.status, dbg.body)
      local d = decoded(dbg).data
      assert.are.equal("PAGE", d.type)
      assert.are.equal(0, d.expires_at)
      assert.is_true(d.is_valid)
      assert.are.equal(acc.facebook.page_id, d.profile_id)
      assert.are.equal(200, fb_feed(page.access_token, "posted with a Page token").status)
      assert.are.equal(200, fb_feed(t.access_token, "posted with the user token").status)

      advance(11)
      local e = assert_fb_error(fb_feed(t.access_token, "expired user token"), 190, 463)
      assert.matches("^Error validating access token: Session has expired on ", e.message)
      assert_fb_error(fb_long(t.access_token), 190, 463)           -- an expired token cannot be exchanged
      res = fb_long(long.access_token)                             -- the long-lived one still can
      assert.are.equal(200, res.status, res.body)
      keep(decoded(res).access_token)
      dbg = decoded(get(GRAPH .. "/debug_token?" .. qs({ { "input_token", t.access_token },
        { "access_token", apps.facebook.client_id .. "|" .. apps.facebook.client_secret } }))).data
      assert.is_false(dbg.is_valid)
      assert.are.equal(463, dbg.error.subcode)
      advance(20)
      assert_fb_error(fb_get("/me/accounts", long.access_token), 190, 463)
      assert.are.equal(200, fb_feed(page.access_token, "a Page token from a long-lived token never expires").status)
      assert_journal_clean()
    end)

    it("checks the client secret, the redirect URI and code reuse", function()
      local code = fb_dialog()
      local res = fb_access_token({ { "client_id", apps.facebook.client_id },
        { "redirect_uri", apps.facebook.redirect_uri }, { "client_secret", "wrong" }, { "code", code } })
      assert_fb_error(res, 1)
      res = fb_access_token({ { "client_id", apps.facebook.client_id }, { "redirect_uri", LOOPBACK },
        { "client_secret", apps.facebook.client_secret }, { "code", code } })
      assert_fb_error(res, 100, 36008)
      code = fb_dialog()
      fb_exchange(code)
      assert_fb_error(fb_access_token({ { "client_id", apps.facebook.client_id },
        { "redirect_uri", apps.facebook.redirect_uri }, { "client_secret", apps.facebook.client_secret },
        { "code", code } }), 100, 36009)
      code = fb_dialog()
      advance(601)                                                  -- codes live 10 minutes [guess]
      assert_fb_error(fb_access_token({ { "client_id", apps.facebook.client_id },
        { "redirect_uri", apps.facebook.redirect_uri }, { "client_secret", apps.facebook.client_secret },
        { "code", code } }), 100, 36007)
      local list = assert_journal_clean()
      for _, e in ipairs(list) do
        if e.path == "/v25.0/oauth/access_token" then
          assert.matches("client_secret=***", e.query, 1, true)
          assert.matches("code=***", e.query, 1, true)
        end
      end
    end)
  end)

  describe("deny mode", function()
    local function denied(provider)
      if provider == "twitter" then
        local v, ch = sign.pkce()
        keep(v)
        return get("https://x.com/i/oauth2/authorize?" .. qs({ { "response_type", "code" },
          { "client_id", apps.twitter.client_id }, { "redirect_uri", LOOPBACK }, { "scope", X_SCOPES },
          { "state", "d" }, { "code_challenge", ch }, { "code_challenge_method", "S256" } }))
      elseif provider == "youtube" then
        return get("https://accounts.google.com/o/oauth2/v2/auth?" .. qs({ { "client_id", apps.youtube.client_id },
          { "redirect_uri", LOOPBACK }, { "response_type", "code" }, { "scope", G .. "youtube" }, { "state", "d" } }))
      elseif provider == "linkedin" then
        return get("https://www.linkedin.com/oauth/v2/authorization?" .. qs({ { "response_type", "code" },
          { "client_id", apps.linkedin.client_id }, { "redirect_uri", LOOPBACK }, { "state", "d" },
          { "scope", "openid" } }))
      elseif provider == "pinterest" then
        return get("https://www.pinterest.com/oauth/?" .. qs({ { "client_id", apps.pinterest.client_id },
          { "redirect_uri", LOOPBACK }, { "response_type", "code" }, { "scope", "pins:read" }, { "state", "d" } }))
      end
      return get("https://www.facebook.com/v25.0/dialog/oauth?" .. qs({ { "client_id", apps.facebook.client_id },
        { "redirect_uri", LOOPBACK }, { "state", "d" }, { "scope", "pages_show_list" } }))
    end

    local WANT = { twitter = "access_denied", youtube = "access_denied", linkedin = "user_cancelled_authorize",
      pinterest = "access_denied", facebook = "access_denied" }

    it("answers every dialog with the provider's error redirect, for all or for one provider", function()
      assert(sb:mode { oauth_deny = true })
      for provider, want in pairs(WANT) do
        local base, p = redirect_of(denied(provider))
        assert.are.equal(LOOPBACK, base)
        assert.are.equal(want, p.error, provider)
        assert.are.equal("d", p.state, provider)
        assert.is_nil(p.code, provider)
        if provider == "facebook" then assert.are.equal("user_denied", p.error_reason) end
      end
      assert(sb:mode { oauth_deny = false })
      settings { deny = { linkedin = true } }
      for provider, want in pairs(WANT) do
        local _, p = redirect_of(denied(provider))
        if provider == "linkedin" then
          assert.are.equal(want, p.error)
        else
          assert.is_nil(p.error, provider)
          keep(p.code)
        end
      end
      assert_journal_clean()
    end)
  end)
end)
