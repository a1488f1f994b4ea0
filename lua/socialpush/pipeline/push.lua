--- socialpush.publish: provider handles (client:facebook{} ...) and client:push.
-- Installed into the client class by client.lua; provider modules stay thin tables of
-- endpoint data and one function per operation.
local pipeline = require "socialpush.pipeline"
local check = require "socialpush.check"

local M = {}

M.PROVIDERS = { "facebook", "linkedin", "pinterest", "twitter", "youtube" }

-- OneAll resource name → provider, operation, and the path argument it carries
M.RESOURCES = {
  { "^facebook/post$", "facebook", "post" },
  { "^facebook/picture$", "facebook", "picture" },
  { "^facebook/video$", "facebook", "video" },
  { "^facebook/group/post$", "facebook", "group_post" },
  { "^facebook/group/picture$", "facebook", "group_picture" },
  { "^facebook/group/video$", "facebook", "group_video" },
  { "^facebook/page/post$", "facebook", "page_post" },
  { "^facebook/page/picture$", "facebook", "page_picture" },
  { "^facebook/page/video$", "facebook", "page_video" },
  { "^linkedin/post$", "linkedin", "post" },
  { "^linkedin/company/post$", "linkedin", "company_post" },
  { "^pinterest/board/([^/]+)/pin$", "pinterest", "pin", "board_id" },
  { "^pinterest/board$", "pinterest", "board" },
  { "^twitter/post$", "twitter", "post" },
  { "^twitter/picture$", "twitter", "picture" },
  { "^twitter/video$", "twitter", "video" },
  { "^youtube/video$", "youtube", "video" },
  { "^youtube/playlist/([^/]+)/video$", "youtube", "playlist_video", "playlist_id" },
  { "^youtube/playlist$", "youtube", "playlist" },
  { "^youtube/channel/section$", "youtube", "channel_section" },
}

--- Resolve a OneAll resource name; nil, msg, err (invalid_argument) when unknown.
-- syntax: provider, operation, path_field, path_value = publish.resource(name)
function M.resource(name)
  if type(name) == "string" then
    local n = name:gsub("^/+", ""):gsub("%.json$", "")
    for _, r in ipairs(M.RESOURCES) do
      local cap = n:match(r[1])
      if cap then return r[2], r[3], r[4], r[4] and cap or nil end
    end
  end
  return check.fail("push", "resource", "unknown resource %q", tostring(name))
end

-- OneAll's request keys → the direct-call arguments
local function from_oneall_keys(args)
  local a = {}
  for k, v in pairs(args) do a[k] = v end
  if a.video_url and a.video == nil then a.video = { url = a.video_url }; a.video_url = nil end
  if a.thumbnail_url and a.thumbnail == nil then a.thumbnail = { url = a.thumbnail_url }; a.thumbnail_url = nil end
  if type(a.picture) == "string" and a.picture:match("^https?://") then a.picture = { url = a.picture } end
  if a.url and a.picture == nil and a.video == nil then a.picture = { url = a.url }; a.url = nil end
  return a
end

--- The metatable of a provider's handles: its operations plus `call`.
local function handle_mt(mod)
  if not mod.handle_mt then
    mod.handle_mt = {
      __index = mod,
      __tostring = function(h) return "socialpush." .. mod.name .. " handle" end,
    }
    --- Send a call spec through the pipeline with this handle's credentials.
    function mod.call(h, spec)
      spec.provider = mod
      spec.creds = spec.creds or h.creds
      if spec.auth == nil then spec.auth = mod.auth_scheme and mod.auth_scheme(h.creds) or "bearer" end
      return pipeline.call(h.client, spec)
    end
  end
  return mod.handle_mt
end

--- A provider handle bound to a client and a credentials table.
-- syntax: h = publish.handle(client, "facebook", creds)
function M.handle(client, name, creds)
  if type(creds) ~= "table" then error("socialpush: " .. name .. "{...} needs a credentials table", 3) end
  local mod = require("socialpush." .. name)
  local copy = {}
  for k, v in pairs(creds) do copy[k] = v end
  return setmetatable({ client = client, creds = copy }, handle_mt(mod))
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
-- syntax: res, msg, err = client:push(identity, "facebook/page/post", args)
function M.push(client, identity, resource, args)
  local provider, op, pfield, pvalue = M.resource(resource)
  if not provider then return nil, op, pfield end
  if args ~= nil and type(args) ~= "table" then error("push: arguments must be a table", 2) end
  local creds, msg, err = resolve_identity(client, identity, provider)
  if not creds then return nil, msg, err end
  local a = from_oneall_keys(args or {})
  if pfield then a[pfield] = pvalue end
  local h = M.handle(client, provider, creds)
  return h[op](h, a)
end

--- Install client:facebook{} ... client:push into a client class.
function M.install(Client)
  for _, name in ipairs(M.PROVIDERS) do
    Client[name] = function(self, creds) return M.handle(self, name, creds) end
  end
  Client.x = Client.twitter
  Client.push = M.push
  Client.oneall = function(self, opts) return require("socialpush.oneall").new(self, opts) end
end

return M
