--- socialpush: publish to Facebook Pages, LinkedIn, Pinterest, X and YouTube.
-- The entry module composes the layers: it loads the client (socialpush.client) and gives
-- the clients it makes their provider constructors (client:twitter{...}, ...) and
-- client:push, so that every require between library modules points down the layers
-- (provider → pipeline → client → transport → C; docs/architecture.md).
-- syntax: local socialpush = require "socialpush"
local M = { _VERSION = "0.1.0" }

local ok, core = pcall(require, "socialpush.core")
if not ok then
  error("socialpush: cannot load the C module socialpush.core (build it with 'make build'"
    .. " or 'luarocks make'): " .. tostring(core), 2)
end
if core._VERSION ~= M._VERSION then
  local where = package.searchpath and package.searchpath("socialpush.core", package.cpath) or "?"
  error(("socialpush: stale C module: socialpush.core %s (%s) does not match the Lua modules %s;"
    .. " rebuild with 'make build' or 'luarocks make'"):format(tostring(core._VERSION), tostring(where),
    M._VERSION), 2)
end

--- The provider modules behind client:<name>{...}.
M.PROVIDERS = { facebook = "socialpush.providers.facebook", linkedin = "socialpush.providers.linkedin",
  pinterest = "socialpush.providers.pinterest", twitter = "socialpush.providers.twitter",
  youtube = "socialpush.providers.youtube" }

-- the methods clients get on top of socialpush.client's (providers load on first use)
local methods
local function client_methods()
  if methods then return methods end
  methods = {}
  for name, mod in pairs(M.PROVIDERS) do
    --- A provider handle: client:facebook{creds}, client:linkedin{...}, client:pinterest{...},
    -- client:twitter{...} (alias client:x), client:youtube{...}.
    methods[name] = function(self, creds) return require(mod).new(self, creds) end
  end
  methods.x = methods.twitter
  --- An operation by OneAll resource name (socialpush.pipeline.push).
  -- syntax: res, msg, err = client:push(identity, resource, args)
  methods.push = function(self, identity, resource, args)
    return require("socialpush.pipeline.push").push(self, identity, resource, args)
  end
  --- A OneAll site: oa = client:oneall{subdomain=, public_key=, private_key=}
  methods.oneall = function(self, opts) return require("socialpush.providers.oneall").new(self, opts) end
  return methods
end

--- Create a client. Unknown options or wrong types raise.
-- syntax: client = socialpush.new{timeout=, connect_timeout=, retries=, ca_file=, proxy=, connect_to=,
--   on_progress=, identities=, max_body=, user_agent=, resume_dir=, transport=}
function M.new(opts)
  return require("socialpush.client").new(opts, client_methods())
end

-- submodules on first use, so that require "socialpush" stays cheap
local lazy = { json = true, sign = true, text = true, errors = true, sandbox = true, time = true }
return setmetatable(M, {
  __index = function(t, k)
    if lazy[k] then
      local mod = require("socialpush." .. k)
      rawset(t, k, mod)
      return mod
    end
  end,
})
