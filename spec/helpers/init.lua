-- Loaded by busted before every spec file (.busted helper).
-- Keeps the specs free of package.path edits; shared fixtures live here.
local M = {}

-- ../shared beside the project (the CI layout), or SOCIALPUSH_SHARED
function M.shared(path)
  local root = os.getenv("SOCIALPUSH_SHARED") or "../shared"
  return root .. "/" .. path
end

function M.read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

-- file names in a directory (sorted), via ls: specs only, never the library
function M.listdir(dir)
  local p = assert(io.popen('ls -1 "' .. dir .. '"'))
  local out = {}
  for line in p:lines() do out[#out + 1] = line end
  p:close()
  return out
end

package.loaded["spec_helpers"] = M
return M
