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

-- a shell command's output (specs only)
function M.sh(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("*a")
  p:close()
  return out
end

-- a fresh directory under /tmp, and its removal
function M.tmpdir()
  return M.sh("mktemp -d"):match("^%s*(.-)%s*$")
end

function M.rmdir(dir)
  if dir and dir:match("^/tmp/") then M.sh("rm -rf '" .. dir .. "'") end
end

-- file names in a directory (sorted), via ls: specs only, never the library
function M.listdir(dir)
  local p = assert(io.popen('ls -1 "' .. dir .. '"'))
  local out = {}
  for line in p:lines() do out[#out + 1] = line end
  p:close()
  return out
end

-- One sandbox for the whole busted run (integration specs): attach to
-- $SOCIALPUSH_SANDBOX (the JSON line of `sandbox/run start`) when set, else
-- start one that stops when this process exits (finalizer at lua_close plus a
-- watchdog shell for crashes; its dir is also recorded for `sandbox/run stop`).
-- Kept on this table, which busted's per-file insulation does not replace.
function M.sandbox()
  if M._sandbox then return M._sandbox end
  local sandbox = require("socialpush.sandbox")
  local line = os.getenv("SOCIALPUSH_SANDBOX")
  local sb, err
  if line and line ~= "" then
    sb, err = sandbox.attach(line)
  else
    sb, err = sandbox.start({ autostop = true })
  end
  if not sb then error("spec_helpers.sandbox: " .. tostring(err), 2) end
  M._sandbox = sb
  return sb
end

--- A socialpush client routed to the sandbox (its options merged with opts).
function M.client(sb, opts)
  local o = sb:options()
  for k, v in pairs(opts or {}) do o[k] = v end
  return require("socialpush").new(o)
end

--- Journal entries matching filter, waiting (bounded, about 10 s) until there are at
-- least min: the sandbox writes an entry in its log phase, just after the response.
-- With a client c the wait uses c:sleep, so that its jobs keep running.
function M.journal(sb, filter, min, c)
  local list = assert(sb:requests(filter))
  for _ = 1, 100 do
    if not min or #list >= min then break end
    if c then c:sleep(0.1) else os.execute("sleep 0.1") end
    list = assert(sb:requests(filter))
  end
  return list
end

--- Number subtype ("integer"/"float"; every number is "float" before Lua 5.3).
function M.mtype(x)
  if math.type then return math.type(x) end
  return type(x) == "number" and "float" or nil
end

--- Strict deep equality for decoded JSON: same types and number subtypes, signed zeros,
-- same metatables (the array mark), same keys. Returns true, or false and where it differs.
function M.same(a, b, path)
  path = path or "$"
  if type(a) ~= type(b) then
    return false, path .. ": " .. type(a) .. " vs " .. type(b)
  end
  if type(a) == "number" then
    if M.mtype(a) ~= M.mtype(b) then return false, path .. ": " .. M.mtype(a) .. " vs " .. M.mtype(b) end
    if a ~= b then return false, path .. (": %.17g vs %.17g"):format(a, b) end
    if a == 0 and 1 / a ~= 1 / b then return false, path .. ": signed zero" end
    return true
  end
  if type(a) == "table" then
    if getmetatable(a) ~= getmetatable(b) then return false, path .. ": metatable" end
    for k, v in next, a do
      local ok, why = M.same(v, rawget(b, k), path .. "[" .. tostring(k) .. "]")
      if not ok then return false, why end
    end
    for k in next, b do
      if rawget(a, k) == nil then return false, path .. ": extra key " .. tostring(k) end
    end
    return true
  end
  if a ~= b then return false, path .. ": " .. tostring(a) .. " vs " .. tostring(b) end
  return true
end

package.loaded["spec_helpers"] = M
return M
