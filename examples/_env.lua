--- Shared by the examples: a client and credentials for one provider.
-- With the provider's environment variables set, the real provider is used; with none
-- set, a local sandbox is started and its fixture accounts are used (nothing leaves the
-- machine). Run an example from the repository root, e.g. `lua5.4 examples/twitter.lua`,
-- after `make build` (or with socialpush installed by luarocks).
local here = (arg and arg[0] or ""):match("^(.-)/?examples/[^/]*$")
if here == nil or here == "" then here = "." end
package.path = here .. "/lua/?.lua;" .. here .. "/lua/?/init.lua;" .. package.path
local lua = (jit and "luajit") or ("lua" .. _VERSION:match("%d+%.%d+"))
package.cpath = here .. "/build/" .. lua .. "/?.so;" .. package.cpath

local socialpush = require "socialpush"

local M = {}

-- provider → environment variable per credential field
local ENV = {
  facebook = { access_token = "FB_ACCESS_TOKEN", app_secret = "FB_APP_SECRET", page_id = "FB_PAGE_ID" },
  twitter = { consumer_key = "X_CONSUMER_KEY", consumer_secret = "X_CONSUMER_SECRET", token = "X_TOKEN",
    token_secret = "X_TOKEN_SECRET", bearer_token = "X_BEARER_TOKEN" },
  linkedin = { access_token = "LI_ACCESS_TOKEN", author = "LI_AUTHOR", company = "LI_COMPANY" },
  pinterest = { access_token = "PIN_ACCESS_TOKEN", board_id = "PIN_BOARD_ID" },
  youtube = { access_token = "YT_ACCESS_TOKEN", playlist_id = "YT_PLAYLIST_ID" },
  oneall = { subdomain = "ONEALL_SUBDOMAIN", public_key = "ONEALL_PUBLIC_KEY", private_key = "ONEALL_PRIVATE_KEY" },
}

local sandbox

--- client, accounts: a client, and per-provider credentials (env or sandbox fixture).
-- syntax: client, accounts, sb = env.setup{"twitter", ...}
function M.setup(providers)
  local accounts, from_env = {}, true
  for _, p in ipairs(providers) do
    local creds = {}
    for field, var in pairs(ENV[p]) do creds[field] = os.getenv(var) end
    if next(creds) == nil then from_env = false end
    accounts[p] = creds
  end
  if from_env then return socialpush.new { timeout = 120 }, accounts end
  sandbox = assert(require("socialpush.sandbox").start { autostop = true })
  local fixture = sandbox:accounts()
  for _, p in ipairs(providers) do accounts[p] = fixture[p] end
  accounts.media = fixture.media
  io.stderr:write("(no credentials in the environment: using the local sandbox on port ", sandbox.port, ")\n")
  local opts = sandbox:options()
  opts.timeout = 60
  return socialpush.new(opts), accounts, sandbox
end

--- A small test file (PNG or MP4 bytes) in a temporary path, for the examples.
function M.sample(kind)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  if kind == "video" then
    f:write("\0\0\0\32ftypisom\0\0\2\0isomiso2avc1mp41", ("\0"):rep(300 * 1024))
  else
    f:write("\137PNG\r\n\26\n\0\0\0\13IHDR\0\0\0\1\0\0\0\1\8\6\0\0\0\31\21\196\137",
      "\0\0\0\13IDATx\156c\248\15\0\0\1\1\0\5\24\216N\0\0\0\0IEND\174B`\130")
  end
  f:close()
  return path
end

--- Print one result line.
function M.report(name, res, msg)
  if res then
    print(("%-28s ok    %-10s %-14s %s"):format(name, res.provider, res.object,
      tostring(res.post_id) .. (res.post_location and ("  " .. res.post_location) or "")))
  else
    print(("%-28s FAIL  %s"):format(name, msg))
  end
  return res
end

function M.finish()
  if sandbox then sandbox:stop() end
end

return M
