--- socialpush: publish to Facebook Pages, LinkedIn, Pinterest, X and YouTube.
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

--- Create a client.
-- syntax: client = socialpush.new{timeout=, connect_timeout=, retries=, ca_file=, proxy=, connect_to=,
--   on_progress=, identities=, max_body=, user_agent=}
function M.new(opts)
  return require("socialpush.client").new(opts)
end

-- submodules on first use, so that require "socialpush" stays cheap
local lazy = { json = true, sign = true, text = true, errors = true, sandbox = true }
return setmetatable(M, {
  __index = function(t, k)
    if lazy[k] then
      local mod = require("socialpush." .. k)
      rawset(t, k, mod)
      return mod
    end
  end,
})
