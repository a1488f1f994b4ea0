--- Sandbox plug-in: the providers' OAuth flows (DESIGN §7, PROVIDERS-AUTH.md Part A).
-- Registers the per-provider modules (oauth_twitter: OAuth 2 + PKCE and OAuth 1.0a;
-- oauth_google; oauth_linkedin; oauth_pinterest; oauth_facebook), the control endpoint
-- /_/oauth and two modes for sb:mode{...}:
--   token_lifetime = N      seconds, the lifetime of every access token issued from now on
--   oauth_deny = true | false | "<provider>"   the dialogs answer with the provider's denial
-- Listed first among the built-in plug-ins so that its Graph routes (/me, /debug_token)
-- come before facebook.lua's GET /{id}. YouTube's channels.list (the Google identity call)
-- is youtube.lua's channels route (it checks the read scopes of issued tokens).
--
-- Control (host sandbox.socialpush.test, never journaled):
--   GET  /_/oauth   {settings = the changed ones, defaults =, now = the OAuth clock}
--   POST /_/oauth   {token_lifetime = N | {provider = N}, code_lifetime =, refresh_lifetime =,
--                    refresh_tokens = {provider = bool}, deny = bool | {provider = bool},
--                    scopes = bool, revoke_user_tokens = bool, advance = seconds}
--                   (null removes a setting; advance moves the OAuth clock forward)
local oauth = require("socialpush.sandbox.oauth")

local M = {}

local MODULES = {
  "socialpush.sandbox.providers.oauth_twitter", "socialpush.sandbox.providers.oauth_google",
  "socialpush.sandbox.providers.oauth_linkedin", "socialpush.sandbox.providers.oauth_pinterest",
  "socialpush.sandbox.providers.oauth_facebook",
}

local PROVIDERS = { twitter = true, twitter_oauth1 = true, youtube = true, linkedin = true,
  pinterest = true, facebook = true }

-- the mode switches: the framework checks a value with MODES[name][value]
local function register_modes(server)
  if type(server.MODES) ~= "table" then return end
  server.MODES.token_lifetime = setmetatable({}, { __index = function(_, v)
    return type(v) == "number" and v > 0 and v == v
  end })
  local deny = { [true] = true, [false] = true }
  for p in pairs(PROVIDERS) do deny[p] = true end
  server.MODES.oauth_deny = deny
  oauth.mode = server.mode
end

local function settings_view(server)
  return { settings = oauth.config(), defaults = oauth.DEFAULTS, now = oauth.now(),
    modes = { token_lifetime = server.mode("token_lifetime"), oauth_deny = server.mode("oauth_deny") } }
end

local function configure(server, req)
  local t, err = req:json(65536)
  if type(t) ~= "table" then return server.fail(400, err or "expected a JSON object") end
  local c = oauth.config()
  for name, v in pairs(t) do
    if name == "advance" then
      if type(v) ~= "number" or v < 0 or v ~= v then return server.fail(400, "advance: seconds >= 0") end
      c.clock_offset = (c.clock_offset or 0) + v
    elseif v == server.null then
      c[name] = nil
    else
      local value, msg = oauth.check_setting(name, v)
      if value == nil then return server.fail(400, msg) end
      c[name] = value
    end
  end
  oauth.set_config(c)
  return server.json(200, settings_view(server))
end

--- syntax: oauth.register(server)
function M.register(server)
  register_modes(server)
  local H = server.CONTROL_HOST
  server.route(H, "GET", "/_/oauth", function() return server.json(200, settings_view(server)) end)
  server.route(H, "POST", "/_/oauth", function(req) return configure(server, req) end)
  for _, name in ipairs(MODULES) do require(name).register(server) end
end

return M
