--- Token state of the sandbox's OAuth emulation (nginx side): authorization codes, access
-- and refresh tokens grouped in families (one family per grant: a code exchange and every
-- refresh that follows it), OAuth 1.0a request and access tokens, remembered Google grants,
-- the settings (lifetimes, deny, scope checks, a clock offset) and the lookups that
-- socialpush.sandbox.auth falls back on for tokens that are not in the accounts fixture.
--
-- Records are JSON values in the sandbox state dict, so /_/reset forgets them all. The
-- settings are changed through /_/oauth and the modes `token_lifetime` / `oauth_deny`
-- (providers/oauth.lua). Never uses socialpush.* library code.
local cjson = require("cjson")
local accounts = require("socialpush.sandbox.accounts")

local M = {}

local sdict = ngx.shared.socialpush_sandbox_state

local CONFIG_KEY = "oauth:config"
local ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

--- Default settings, per provider name of client:app ("twitter", "twitter_oauth1",
-- "youtube", "linkedin", "pinterest", "facebook"; "facebook_long_lived" for the exchanged
-- Facebook user token). Seconds; 0 = never expires. Figures from PROVIDERS-AUTH.md Part A;
-- the ones marked [guess] are not documented anywhere we found.
M.DEFAULTS = {
  token_lifetime = {
    twitter = 7200,                    -- [doc] 2 h
    youtube = 3599,                    -- [doc] ~1 h
    linkedin = 5183999,                -- [doc] 60 d
    pinterest = 2592000,               -- [code] ~30 d
    facebook = 7200,                   -- [guess] short-lived user token: "hours"
    facebook_long_lived = 5183944,     -- [doc] ~60 d
  },
  code_lifetime = {
    twitter = 30,                      -- [doc]
    twitter_oauth1 = 900,              -- [guess] request token until access_token
    youtube = 600,                     -- [guess]
    linkedin = 1800,                   -- [guess] "about 30 min"
    pinterest = 600,                   -- [guess]
    facebook = 600,                    -- [guess]
  },
  refresh_lifetime = {
    twitter = 15552000,                -- [issue] "6 months", undocumented
    youtube = 0,                       -- [doc] no fixed expiry (only disuse, revocation)
    linkedin = 31536000,               -- [doc] 365 d from the first grant, never extended
    pinterest = 5184000,               -- [doc] 60 d continuous, renewed on every refresh
  },
  -- which providers issue refresh tokens (X: only with offline.access, see oauth_twitter)
  refresh_tokens = { twitter = true, youtube = true, linkedin = true, pinterest = true },
  deny = false,                        -- true, or {provider = true}: dialogs answer "denied"
  scopes = true,                       -- identity calls check the token's scopes
  revoke_user_tokens = false,          -- Pinterest revoke: [doc] "only tokens issued for system users"
  clock_offset = 0,                    -- seconds added to the sandbox's OAuth clock
}

local PROVIDER_KEYED = { token_lifetime = true, code_lifetime = true, refresh_lifetime = true,
  refresh_tokens = true, deny = true }

--- the server's mode reader (set by providers/oauth.lua; nil before)
-- syntax: v = oauth.mode(name)
function M.mode() return nil end

-- JSON records -------------------------------------------------------------------

local function get(key)
  local s = sdict:get(key)
  if type(s) == "string" then return cjson.decode(s) end
  return nil
end

local function set(key, value)
  local ok, err = sdict:set(key, cjson.encode(value))
  if not ok then error("sandbox oauth state: " .. tostring(err)) end
end

-- settings ------------------------------------------------------------------------

--- the settings changed through /_/oauth (a table, possibly empty)
-- syntax: t = oauth.config()
function M.config()
  return get(CONFIG_KEY) or {}
end

--- replace the changed settings
-- syntax: oauth.set_config(t)
function M.set_config(t)
  set(CONFIG_KEY, t)
end

--- check one /_/oauth setting; returns the value to store, or nil and a message
-- syntax: v, msg = oauth.check_setting(name, value)
function M.check_setting(name, v)
  local d = M.DEFAULTS[name]
  if d == nil then return nil, "unknown setting " .. tostring(name) end
  local want = type(d) == "table" and type(select(2, next(d))) or type(d)
  local function ok(x)
    if want == "number" then return type(x) == "number" and x >= 0 and x == x end
    return type(x) == want
  end
  if PROVIDER_KEYED[name] and type(v) == "table" then
    for k, x in pairs(v) do
      if type(k) ~= "string" or not ok(x) then return nil, "bad value in " .. name .. "." .. tostring(k) end
    end
    return v
  end
  if not ok(v) then return nil, "bad value for " .. name end
  return v
end

--- effective value of a setting for a provider: /_/oauth first, then the modes
-- (`token_lifetime`, `oauth_deny`), then the defaults
-- syntax: v = oauth.setting("token_lifetime", "twitter")
function M.setting(name, provider)
  local c = M.config()[name]
  if type(c) == "table" then c = c[provider] end
  if c ~= nil then return c end
  if name == "token_lifetime" then
    local m = M.mode("token_lifetime")
    if type(m) == "number" then return m end
  elseif name == "deny" then
    local m = M.mode("oauth_deny")
    if m == true or m == provider or (provider == "twitter_oauth1" and m == "twitter") then return true end
  end
  local d = M.DEFAULTS[name]
  if type(d) == "table" then return d[provider] end
  return d
end

--- the OAuth clock: ngx.now() plus the clock offset (seconds, fractional)
-- syntax: t = oauth.now()
function M.now()
  return ngx.now() + (M.config().clock_offset or 0)
end

-- random strings -------------------------------------------------------------------

local function random_bytes(n)
  local f = io.open("/dev/urandom", "rb")
  if f then
    local s = f:read(n)
    f:close()
    if s and #s == n then return s end
  end
  local t = {}
  for i = 1, n do t[i] = string.char(math.random(0, 255)) end
  return table.concat(t)
end

--- n random characters of [A-Za-z0-9] (what every token here is made of)
-- syntax: s = oauth.random(n)
function M.random(n)
  local bytes = random_bytes(n)
  local out = {}
  for i = 1, n do
    local b = bytes:byte(i) % #ALNUM + 1
    out[i] = ALNUM:sub(b, b)
  end
  return table.concat(out)
end

-- records -----------------------------------------------------------------------------

local function key(token) return "oauth:t:" .. token end

--- a new family (one grant); its tokens die together when it is revoked
-- syntax: id = oauth.new_family(provider)
function M.new_family(provider)
  local id = tostring(sdict:incr("oauth:families", 1, 0))
  set("oauth:f:" .. id, { provider = provider, revoked = false, created = M.now() })
  return id
end

--- revoke a family (why: "revoked" by the user/app, "reused" refresh token ...)
-- syntax: oauth.revoke_family(id, why)
function M.revoke_family(id, why)
  local f = get("oauth:f:" .. id)
  if f and not f.revoked then
    f.revoked, f.why = true, why or "revoked"
    set("oauth:f:" .. id, f)
  end
end

--- the family record
-- syntax: f = oauth.family(id)
function M.family(id)
  return id and get("oauth:f:" .. id)
end

--- store a token record (rec.token is the token); returns rec
-- fields: kind ("code" | "access" | "refresh" | "request" | "oauth1"), provider,
-- client_id, scope (list), family, lifetime (s, 0 = none) or expires_at, account, ...
-- syntax: rec = oauth.put(token, rec)
function M.put(token, rec)
  rec.token = token
  rec.issued_at = rec.issued_at or M.now()
  if rec.expires_at == nil then
    local life = rec.lifetime or 0
    rec.expires_at = life > 0 and rec.issued_at + life or 0
  end
  rec.lifetime = nil
  set(key(token), rec)
  return rec
end

--- a record and why it is no longer valid: nil (valid), "lapsed" (past expires_at),
-- "revoked" (the token or its family), "used" (a single-use code/refresh token used already)
-- syntax: rec, why = oauth.find(token)
function M.find(token)
  if type(token) ~= "string" or token == "" then return nil end
  local rec = get(key(token))
  if not rec then return nil end
  if rec.revoked then return rec, "revoked" end
  local f = rec.family and M.family(rec.family)
  if f and f.revoked then return rec, "revoked" end
  if rec.used then return rec, "used" end
  if rec.expires_at and rec.expires_at > 0 and M.now() >= rec.expires_at then return rec, "lapsed" end
  return rec
end

--- change a stored record
-- syntax: oauth.update(token, function(rec) ... end)
function M.update(token, fn)
  local rec = get(key(token))
  if rec then
    fn(rec)
    set(key(token), rec)
  end
  return rec
end

--- take a single-use record (code, request token, rotating refresh token): marks it used
-- and returns it, or nil and why ("invalid", "used", "lapsed", "revoked")
-- syntax: rec, why = oauth.take(token, kind, provider)
function M.take(token, kind, provider)
  local rec, why = M.find(token)
  if not rec or rec.kind ~= kind or rec.provider ~= provider then return nil, "invalid" end
  if why then return nil, why, rec end
  M.update(token, function(r) r.used = true end)
  return rec
end

--- remembered grant of a user to a client (Google: the refresh token comes only with the
-- first offline consent); nil when none or its family was revoked
-- syntax: g = oauth.grant(provider, client_id, account)
function M.grant(provider, client_id, account)
  local g = get("oauth:g:" .. provider .. ":" .. client_id .. ":" .. account)
  if g and g.family then
    local f = M.family(g.family)
    if f and f.revoked then return nil end
  end
  return g
end

--- remember a grant
-- syntax: oauth.set_grant(provider, client_id, account, {family=})
function M.set_grant(provider, client_id, account, g)
  set("oauth:g:" .. provider .. ":" .. client_id .. ":" .. account, g)
end

-- lookups for socialpush.sandbox.auth ---------------------------------------------------

local function refusal(rec, why)
  return { reason = why == "lapsed" and "lapsed" or "revoked", expires_at = rec.expires_at }
end

--- an issued access token, for server.auth.bearer/token: info like the fixture's, or
-- nil and "invalid", or nil, "expired" and detail {reason = "lapsed" | "revoked", expires_at =}
-- syntax: info, reason, detail = oauth.lookup(token, provider)
function M.lookup(token, provider)
  local rec, why = M.find(token)
  if not rec or rec.kind ~= "access" or (provider and rec.provider ~= provider) then
    return nil, "invalid"
  end
  if why then return nil, "expired", refusal(rec, why) end
  return M.info(rec)
end

--- the info table auth checks return for an issued token record
-- syntax: info = oauth.info(rec)
function M.info(rec)
  return { provider = rec.provider, account = accounts[rec.account or rec.provider], token = rec.token,
    scope = rec.scope, client_id = rec.client_id, kind = rec.type, issued = true,
    expires_at = rec.expires_at, page_id = rec.page_id }
end

--- an issued OAuth 1.0a access token, for server.auth.oauth1:
-- {secret=, variant="valid"|"expired", account=, detail=} or nil
-- syntax: t = oauth.oauth1_token(token)
function M.oauth1_token(token)
  local rec, why = M.find(token)
  if not rec or rec.kind ~= "oauth1" then return nil end
  return { secret = rec.secret, variant = why and "expired" or "valid", account = accounts.twitter,
    detail = why and refusal(rec, why) or nil, issued = true }
end

--- true when an issued token's scopes include every one named (fixture tokens and OAuth
-- 1.0a tokens, which have no scopes: always; the `scopes` setting false: always)
-- syntax: ok = oauth.has_scopes(info, {"users.read", ...})
function M.has_scopes(info, wanted)
  if not info.issued or info.scope == nil or not M.setting("scopes") then return true end
  local have = {}
  for _, s in ipairs(info.scope or {}) do have[s] = true end
  for _, s in ipairs(wanted) do
    if not have[s] then return false end
  end
  return true
end

--- true when an issued token has at least one of the scopes (see has_scopes)
-- syntax: ok = oauth.has_any_scope(info, {...})
function M.has_any_scope(info, wanted)
  if not info.issued or info.scope == nil or not M.setting("scopes") then return true end
  for _, w in ipairs(wanted) do
    if M.has_scopes(info, { w }) then return true end
  end
  return false
end

return M
