--- The gateway's configuration for examples/nginx/nginx.conf: handler() builds the
-- content handler from the environment (declared with `env` in nginx.conf).
--   SOCIALPUSH_GATEWAY_PUBLIC_KEY / _PRIVATE_KEY   the Basic credentials callers use
--   SOCIALPUSH_IDENTITIES    identity store (JSON file); default <prefix>/identities.json
--   SOCIALPUSH_SANDBOX       the sandbox's JSON line: route every provider host to it
-- luacheck: globals ngx
local gateway = require "socialpush.gateway"
local json = require "socialpush.json"

local M = {}

local function need(name)
  local v = os.getenv(name)
  if not v or v == "" then error("push_gateway: set " .. name .. " (and declare it with env in nginx.conf)", 0) end
  return v
end

--- syntax: serve = push_gateway.handler()
function M.handler()
  local client = { timeout = 60, connect_timeout = 10 }
  local sandbox = os.getenv("SOCIALPUSH_SANDBOX")
  if sandbox and sandbox ~= "" then
    local sb = assert(json.decode(sandbox), "SOCIALPUSH_SANDBOX is not the sandbox's JSON line")
    client.connect_to = sb.connect_to   -- HOST:443:127.0.0.1:PORT for every provider host
  end
  return gateway.handler {
    keys = { { public_key = need("SOCIALPUSH_GATEWAY_PUBLIC_KEY"),
      private_key = need("SOCIALPUSH_GATEWAY_PRIVATE_KEY") } },
    identities = os.getenv("SOCIALPUSH_IDENTITIES") or (ngx.config.prefix() .. "identities.json"),
    client = client,
    max_body = 1024 * 1024,
    async = "sync",           -- twitter/video and youtube/video finish inside the request
  }
end

return M
