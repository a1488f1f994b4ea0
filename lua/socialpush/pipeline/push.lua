--- socialpush.pipeline.push: client:push(identity, resource, args) — one of OneAll's 20
-- resources by name, sent directly to the provider with the identity's credentials.
-- The arguments are the direct call's, or OneAll's keys for them (socialpush.pipeline.operations);
-- the handle comes from the client's own constructors (client:twitter{...}), so nothing
-- here requires a provider module.
local operations = require "socialpush.pipeline.operations"
local check = require "socialpush.pipeline.check"

local M = {}

local function is_url(v) return type(v) == "string" and v:match("^[hH][tT][tT][pP][sS]?://") ~= nil end

--- The direct call's arguments of OneAll-keyed arguments for resource r; nil, msg, err on a
-- key the direct call cannot honour, or a value given twice.
-- syntax: a, msg, err = push.direct_args(op, r, args)
function M.direct_args(op, r, args)
  local a = {}
  for k, v in pairs(args) do
    local f = r.by_key[k]
    if f and f.direct == false then
      return check.fail(op, tostring(k), "%s is not supported by a direct call (%s takes it only through a"
        .. " OneAll site)", tostring(k), operations.path(r, "<id>"))
    end
    local name = f and f.arg or k
    if f and name ~= k and args[name] ~= nil then
      return check.fail(op, name, "give %s or %s, not both", name, tostring(k))
    end
    if f and f.kind == "media" and is_url(v) then v = { url = v } end
    if a[name] ~= nil then return check.fail(op, name, "%s is given twice (OneAll key and alias)", name) end
    a[name] = v
  end
  return a
end

local function resolve_identity(client, identity, provider)
  if type(identity) == "table" then
    return type(identity[provider]) == "table" and identity[provider] or identity
  end
  local ids = client.identities
  local creds
  if type(ids) == "function" then creds = ids(identity, provider)
  elseif type(ids) == "table" then creds = ids[identity] end
  if type(creds) == "table" and type(creds[provider]) == "table" then creds = creds[provider] end
  if type(creds) ~= "table" then
    return check.fail("push", "identity", "unknown identity for %s", provider)
  end
  return creds
end

--- client:push(identity, resource, args): an operation by its OneAll resource name.
-- identity: a credentials table ({provider = creds} or the provider's creds), or a token
-- that the client's `identities` option resolves.
-- syntax: res, msg, err = client:push(identity, "facebook/page/post", args)
function M.push(client, identity, resource, args)
  if args ~= nil and type(args) ~= "table" then error("push: arguments must be a table", 2) end
  local r, pvalue = operations.resolve(resource)
  if not r then return check.fail("push", "resource", "unknown resource %q", tostring(resource)) end
  local op = r.provider .. "." .. r.operation
  local creds, msg, err = resolve_identity(client, identity, r.provider)
  if not creds then return nil, msg, err end
  local a
  a, msg, err = M.direct_args(op, r, args or {})
  if not a then return nil, msg, err end
  if r.path_field and pvalue then
    if a[r.path_field] ~= nil and tostring(a[r.path_field]) ~= pvalue then
      return check.fail(op, r.path_field, "%s differs from the one in the resource", r.path_field)
    end
    a[r.path_field] = pvalue
  end
  local h = client[r.provider](client, creds)
  return h[r.operation](h, a)
end

return M
