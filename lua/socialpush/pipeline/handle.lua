--- socialpush.pipeline.handle: the base class of provider handles.
-- A provider module declares its class and its own metatable, the lua-resty-http way:
--
--   local Handle = require "socialpush.pipeline.handle"
--   local M = Handle.class { name = "twitter", ... endpoint data ... }
--   local mt = { __index = M, __tostring = Handle.tostring }
--   function M.new(client, creds) return Handle.new(mt, client, creds) end
--   Handle.operation(M, "post", { "message", "attachments", "reply_to" }, function(h, a, op) ... end)
--   function M.map_error(res, spec) ... end
--
-- A handle is {client =, creds =}; h:call(spec) sends a call spec through the pipeline
-- (socialpush.pipeline). Handle.operation wraps an operation with what every operation
-- does first: the argument table is checked (a non-table raises), copied (the caller's table
-- is never changed), unknown argument names are refused (invalid_argument naming the
-- argument; provider parameters without an argument of their own go in `extra`), and a
-- closed client raises at the caller's line. The provider contract is documented in
-- docs/architecture.md.
local pipeline = require "socialpush.pipeline"
local check = require "socialpush.pipeline.check"

local Handle = {}

--- Make a provider module a handle class: its handles find Handle's methods (call) through
-- it. Returns the module table.
-- syntax: M = Handle.class(M)
function Handle.class(M)
  M.OPERATIONS = M.OPERATIONS or {}
  return setmetatable(M, { __index = Handle })
end

--- A handle of the class whose metatable is mt, bound to a client and a copy of creds.
-- Raises when creds is not a table (a misuse of the API).
-- syntax: h = Handle.new(mt, client, creds)
function Handle.new(mt, client, creds)
  local name = mt.__index.name
  if type(creds) ~= "table" then error("socialpush: client:" .. name .. "{...} needs a credentials table", 3) end
  local copy = {}
  for k, v in pairs(creds) do copy[k] = v end
  return setmetatable({ client = client, creds = copy }, mt)
end

--- __tostring of every handle: never shows a credential.
function Handle.tostring(h)
  return "socialpush." .. tostring(h.name) .. " handle"
end

--- Send a call spec through the pipeline with this handle's credentials.
-- syntax: res, msg, err = h:call(spec [, request_extra])
function Handle:call(spec, extra)
  return pipeline.call(self, spec, extra)
end

-- the arguments every operation takes besides its own
local COMMON = { extra = true }

--- Declare operation `name` of class M with its argument names; fn(h, args, op) runs with
-- a checked copy of the arguments and op = "<provider>.<name>".
-- syntax: Handle.operation(M, name, {arg, ...}, fn)
function Handle.operation(M, name, names, fn)
  local known = {}
  for k in pairs(COMMON) do known[k] = true end
  for _, n in ipairs(names) do known[n] = true end
  local op = M.name .. "." .. name
  M.OPERATIONS[name] = names
  M[name] = function(h, args)
    if type(h) ~= "table" or h.creds == nil or h.name ~= M.name then
      error(("socialpush: %s called on something that is not a %s handle (use ':')"):format(op, M.name), 2)
    end
    if args == nil then args = {} end
    if type(args) ~= "table" then error(op .. ": arguments must be a table", 2) end
    if h.client._closed == true then error("socialpush: attempt to use a closed client", 2) end
    local a = {}
    for k, v in pairs(args) do a[k] = v end
    local ok, msg, err = check.names(op, a, known)
    if not ok then return nil, msg, err end
    return fn(h, a, op)
  end
  return M[name]
end

--- The `extra` parameters of the arguments merged into a request body or query map: the
-- operation's own keys win and are refused in extra (invalid_argument, field "extra").
-- syntax: t, msg, err = Handle.merge_extra(op, a, t)
function Handle.merge_extra(op, a, t)
  if a.extra == nil then return t end
  for k, v in pairs(a.extra) do
    if t[k] ~= nil then
      return check.fail(op, "extra", "extra.%s is set by the operation itself", k)
    end
    t[k] = v
  end
  return t
end

return Handle
