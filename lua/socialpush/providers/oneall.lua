--- socialpush.oneall: the 20 operations through a OneAll site's Push API.
-- POST https://<subdomain>.api.oneall.com/push/identities/<identity_token>/<resource>.json,
-- HTTP Basic public_key:private_key, body {"request":{"push":{"<object>":{...}}}}, answer
-- {"response":{"request":{"status":{flag, code, info}}, "result":{"data":{...}}}}.
-- Wire reference: PROVIDERS-ONEALL.md (tags there: [doc] read in OneAll's docs, [code] seen
-- in OneAll's SDK/examples, [unconfirmed] inferred). Media is always passed by URL: OneAll
-- downloads it. twitter/video and youtube/video are queued by OneAll (asynchronous).
local pipeline = require "socialpush.pipeline"
local publish = require "socialpush.publish"
local check = require "socialpush.check"
local errors = require "socialpush.errors"
local json = require "socialpush.json"

local M = {
  name = "oneall",
  host = "api.oneall.com",   -- https://<subdomain>.api.oneall.com [doc]
  limits = {
    facebook_attachments = 1,  -- "Only one single attachment allowed" [doc, seed]
    twitter_attachments = 4,   -- Twitter's own limit [mem]
  },
}

--------------------------------------------------------------------------- operations

-- A field: { OneAll key, kind, accepted argument names (the first is the direct call's
-- name, reported in errors; the others are OneAll's own keys), required = , max = , set = }.
-- Kinds: text, url, media (a URL OneAll downloads), id, ids (list), bool, int, enum.
local function F(key, kind, names, opts)
  local f = opts or {}
  f.key, f.kind, f.names = key, kind, names
  return f
end

local MESSAGE = F("message", "text", { "message" }, { required = true })
local MESSAGE_OPT = F("message", "text", { "message" })
local LINK = F("link", "url", { "link" })
local DESCRIPTION = F("description", "text", { "description" })
local TITLE = F("title", "text", { "title" })
local FB_ATTACH = F("attachments", "ids", { "attachments" }, { max = M.limits.facebook_attachments })
local CREATE_POST = F("create_post", "bool", { "create_post" })
local FB_PICTURE = F("url", "media", { "picture", "url" }, { required = true })
local FB_VIDEO = F("url", "media", { "video", "url" }, { required = true })
local PAGE_ID = F("id", "id", { "page_id", "id" }, { required = true })
local GROUP_ID = F("id", "id", { "group_id", "id" }, { required = true })
-- LinkedIn: `link` is the SDK's only mandatory argument; `picture` is an image URL [code]
local LI_FIELDS = { F("link", "url", { "link" }, { required = true }), MESSAGE_OPT, TITLE, DESCRIPTION,
  F("picture", "media", { "picture" }) }

-- by "<provider>.<operation>" (publish.RESOURCES): path after /push/identities/<token>/
-- ("%s" = the board or playlist id), the request.push key (a list: nested keys), the
-- result object, the fields, and whether link and attachments exclude each other.
M.OPERATIONS = {
  ["facebook.post"] = { path = "facebook/post", key = { "post" }, object = "post", exclusive = true,
    fields = { MESSAGE, LINK, FB_ATTACH } },                                        -- [code]
  ["facebook.picture"] = { path = "facebook/picture", key = { "picture" }, object = "picture",
    fields = { FB_PICTURE, DESCRIPTION, CREATE_POST } },                            -- [doc]
  ["facebook.video"] = { path = "facebook/video", key = { "video" }, object = "video",
    fields = { FB_VIDEO, DESCRIPTION, TITLE, CREATE_POST } },                       -- [code]; title [unconfirmed]
  -- groups: object key `group` with `id`, by analogy with the page calls [unconfirmed]
  ["facebook.group_post"] = { path = "facebook/group/post", key = { "group" }, object = "post",
    exclusive = true, fields = { GROUP_ID, MESSAGE, LINK, FB_ATTACH } },
  ["facebook.group_picture"] = { path = "facebook/group/picture", key = { "group" }, object = "picture",
    fields = { GROUP_ID, FB_PICTURE, DESCRIPTION } },
  ["facebook.group_video"] = { path = "facebook/group/video", key = { "group" }, object = "video",
    fields = { GROUP_ID, FB_VIDEO, DESCRIPTION, TITLE } },
  ["facebook.page_post"] = { path = "facebook/page/post", key = { "page" }, object = "post",
    exclusive = true, fields = { PAGE_ID, MESSAGE, LINK, FB_ATTACH } },             -- [code]
  ["facebook.page_picture"] = { path = "facebook/page/picture", key = { "page" }, object = "picture",
    fields = { PAGE_ID, FB_PICTURE, DESCRIPTION, CREATE_POST } },                   -- [code]; create_post [unconfirmed]
  ["facebook.page_video"] = { path = "facebook/page/video", key = { "page" }, object = "video",
    fields = { PAGE_ID, FB_VIDEO, DESCRIPTION, TITLE } },                           -- [unconfirmed], as page picture
  ["linkedin.post"] = { path = "linkedin/post", key = { "post" }, object = "post", fields = LI_FIELDS },
  ["linkedin.company_post"] = { path = "linkedin/company/post", key = { "post" }, object = "post",
    fields = { F("company", "id", { "company" }, { required = true }), LI_FIELDS[1], LI_FIELDS[2],
      LI_FIELDS[3], LI_FIELDS[4], LI_FIELDS[5] } },                                 -- [code]
  -- the board id is in the path; `board` is also sent, as the older pinterest/pin.json
  -- body had it [code]; description and picture are mandatory in the SDK [code]
  ["pinterest.pin"] = { path = "pinterest/board/%s/pin", key = { "pin" }, object = "pin", board = true,
    fields = { F("description", "text", { "description" }, { required = true }),
      F("picture", "media", { "picture", "url" }, { required = true }), LINK, TITLE } }, -- title [unconfirmed]
  ["pinterest.board"] = { path = "pinterest/board", key = { "board" }, object = "board",
    fields = { F("name", "text", { "name" }, { required = true }), DESCRIPTION,
      F("privacy", "text", { "privacy" }) } },                                      -- [unconfirmed]
  ["twitter.post"] = { path = "twitter/post", key = { "post" }, object = "post",
    fields = { MESSAGE, F("attachments", "ids", { "attachments" }, { max = M.limits.twitter_attachments }),
      F("location", "text", { "location" }) } },                                    -- [code]
  ["twitter.picture"] = { path = "twitter/picture", key = { "picture" }, object = "picture",
    fields = { F("url", "media", { "picture", "url" }, { required = true }), DESCRIPTION } }, -- [doc]
  ["twitter.video"] = { path = "twitter/video", key = { "video" }, object = "video", async = true,
    fields = { F("video_url", "media", { "video", "video_url" }, { required = true }),
      F("callback_url", "url", { "callback_url" }) } },                             -- [code]
  ["youtube.video"] = { path = "youtube/video", key = { "video" }, object = "video", async = true,
    fields = { F("video_url", "media", { "video", "video_url" }, { required = true }),
      F("title", "text", { "title" }, { required = true }), DESCRIPTION,
      F("thumbnail_url", "media", { "thumbnail", "thumbnail_url" }),
      F("callback_url", "url", { "callback_url" }) } },                             -- [code]
  -- 18-20: bodies not found; keys from the Update API analogues [unconfirmed]
  ["youtube.playlist_video"] = { path = "youtube/playlist/%s/video", key = { "video" },
    object = "playlist_item",
    fields = { F("id", "id", { "video_id", "id" }, { required = true }), F("position", "int", { "position" }) } },
  ["youtube.playlist"] = { path = "youtube/playlist", key = { "playlist" }, object = "playlist",
    fields = { F("title", "text", { "title" }, { required = true }), DESCRIPTION,
      F("privacy_status", "enum", { "privacy", "privacy_status" }, { set = { "public", "unlisted", "private" } }),
      F("default_language", "text", { "default_language" }) } },
  ["youtube.channel_section"] = { path = "youtube/channel/section", key = { "channel", "section" },
    object = "channel_section",
    fields = { F("type", "text", { "type" }, { required = true }), TITLE, F("style", "text", { "style" }),
      F("position", "int", { "position" }), F("playlists", "ids", { "playlist_ids", "playlists" }),
      F("defaultLanguage", "text", { "default_language", "defaultLanguage" }) } },
}

for key, def in pairs(M.OPERATIONS) do def.provider = key:match("^[^.]+") end

-- Facebook removed these; a 409 saying so becomes kind "deprecated" (DESIGN §1)
local RETIRED = {
  ["facebook.post"] = "facebook/page/post", ["facebook.picture"] = "facebook/page/picture",
  ["facebook.video"] = "facebook/page/video", ["facebook.group_post"] = "facebook/page/post",
  ["facebook.group_picture"] = "facebook/page/picture", ["facebook.group_video"] = "facebook/page/video",
}

-- result.data keys that may carry the new object's id (post_id in the seed [doc];
-- the others are the Update API's id kinds [unconfirmed])
local ID_KEYS = { "post_id", "picture_id", "video_id", "pin_id", "board_id", "playlist_item_id",
  "playlist_id", "channel_section_id", "id" }

--------------------------------------------------------------------------- arguments

local function media_url(op, name, v)
  if type(v) == "table" and v.url ~= nil and v.file == nil and v.data == nil then v = v.url end
  if type(v) == "string" and v:match("^[hH][tT][tT][pP][sS]?://") then
    local ok, msg, err = check.url(op, { [name] = v }, name)
    if not ok then return nil, msg, err end
    return v
  end
  return check.fail(op, name, "OneAll downloads media itself: %s must be a URL ({url = \"https://...\"}),"
    .. " not a file or data", name)
end

-- the value of one field: nil (absent), or the value to send
local function value_of(op, f, name, v)
  local k, t = f.kind, { [name] = v }
  local ok, msg, err = true, nil, nil
  if k == "media" then return media_url(op, name, v)
  elseif k == "text" then ok, msg, err = check.text(op, t, name, { required = f.required })
  elseif k == "url" then ok, msg, err = check.url(op, t, name)
  elseif k == "id" then ok, msg, err = check.id(op, t, name)
  elseif k == "enum" then ok, msg, err = check.one_of(op, t, name, f.set)
  elseif k == "bool" then
    if type(v) ~= "boolean" then return check.fail(op, name, "%s must be a boolean", name) end
  elseif k == "int" then
    if type(v) ~= "number" or v ~= math.floor(v) or v < 0 then
      return check.fail(op, name, "%s must be a non-negative integer", name)
    end
  elseif k == "ids" then
    ok, msg, err = check.list(op, t, name, f.max)
    if ok then
      local out = json.array({})
      for i = 1, #v do
        local one = { [name] = v[i] }
        ok, msg, err = check.id(op, one, name)
        if not ok then return nil, msg, err end
        out[i] = one[name]
      end
      if #out == 0 then return nil end  -- OneAll treats [] as absent
      return out
    end
  end
  if not ok then return nil, msg, err end
  return t[name]
end

-- OneAll's object for an operation's arguments; nil, msg, err on bad input
local function object_of(op, def, args)
  local obj, used = {}, { extra = true }
  for _, f in ipairs(def.fields) do
    local name
    for _, n in ipairs(f.names) do
      used[n] = true
      if args[n] ~= nil then
        if name then return check.fail(op, n, "give %s or %s, not both", name, n) end
        name = n
      end
    end
    if name == nil then
      if f.required then return check.fail(op, f.names[1], "%s is required", f.names[1]) end
    else
      local v, msg, err = value_of(op, f, name, args[name])
      if msg then return nil, msg, err end
      if v == nil and f.required then return check.fail(op, name, "%s is required", name) end
      obj[f.key] = v
    end
  end
  if def.exclusive and obj.link ~= nil and obj.attachments ~= nil then
    return check.fail(op, "attachments", "give link or attachments, not both")
  end
  for k in pairs(args) do
    if not used[k] then
      return check.fail(op, tostring(k), "OneAll's %s takes no argument '%s' (other OneAll keys go in"
        .. " extra = {...})", (def.path:gsub("%%s", "<id>")), tostring(k))
    end
  end
  if args.extra ~= nil then
    if type(args.extra) ~= "table" then return check.fail(op, "extra", "extra must be a table") end
    for k, v in pairs(args.extra) do
      if type(k) ~= "string" or obj[k] ~= nil then
        return check.fail(op, "extra", "extra.%s repeats or is not a key", tostring(k))
      end
      obj[k] = v
    end
  end
  return obj
end

-- OneAll key -> argument name, for the field of a 400
local function field_names(def)
  local t = {}
  for _, f in ipairs(def.fields) do t[f.key] = f.names[1] end
  return t
end

--------------------------------------------------------------------------- errors

local STATUS_KIND = { [400] = "invalid_argument", [401] = "auth", [403] = "permission", [404] = "not_found",
  [409] = "provider", [429] = "rate_limited" }

-- the envelope's request.status, or nil
local function status_of(j)
  local r = type(j) == "table" and j.response
  local q = type(r) == "table" and r.request
  local s = type(q) == "table" and q.status
  return type(s) == "table" and s or nil
end

--- Map a refused answer to an error description (the only mapping): the HTTP status
-- gives the kind, request.status.code the code, request.status.info the message.
-- syntax: m = oneall.map_error(res, spec)
function M.map_error(res, spec)
  local st = status_of(res.json)
  local info = st and type(st.info) == "string" and st.info or nil
  local status = res.status
  local kind = STATUS_KIND[status] or pipeline.status_kind(status)
  local m = { kind = kind, code = st and tonumber(st.code) or nil, detail = info,
    retry_after = res.retry_after }
  spec = spec or {}
  if status == 400 and info then
    local path = info:match("request%.push%.([%w_%.]+)")
    local key = path and path:gsub("%.+$", ""):match("([%w_]+)$")
    if key then m.field = spec.fields and spec.fields[key] or key end
    if info:find("link or attachments", 1, true) then m.field = "attachments" end
  end
  local instead = spec.retired
  if status == 409 and instead and info and (info:lower():find("removed") or info:lower():find("deprecated")) then
    m.kind = "deprecated"
    m.detail = info .. " (use " .. instead .. " on a page instead)"
  end
  return m
end

--------------------------------------------------------------------------- results

local function undecodable(op, what, status)
  return errors.fail { kind = "decode", provider = M.name, operation = op, status = status,
    detail = "not a OneAll result envelope: " .. what }
end

-- the normalised result of a decoded envelope (a push answer or a callback body)
local function result_of(op, def, j, status, secrets, spec)
  local st = status_of(j)
  if not st then return undecodable(op, "no response.request.status", status) end
  if st.flag == "error" then
    local code = tonumber(st.code)
    local m = M.map_error({ status = code and code >= 400 and code or 409, json = j }, spec)
    return errors.fail { kind = m.kind, provider = M.name, operation = op, status = status, code = m.code,
      detail = m.detail, field = m.field, secrets = secrets }
  end
  local data = type(j.response.result) == "table" and j.response.result.data
  if type(data) ~= "table" then return undecodable(op, "no response.result.data", status) end
  local id
  for _, k in ipairs(ID_KEYS) do
    local v = data[k]
    if (type(v) == "string" and v ~= "") or type(v) == "number" then id = v break end
  end
  local queued = data.status == "queued"
  if id == nil and not queued then return undecodable(op, "no id in response.result.data", status) end
  local loc = type(data.post_location) == "string" and data.post_location or nil
  local r = pipeline.result(type(data.provider) == "string" and data.provider or (def and def.provider),
    type(data.object) == "string" and data.object or (def and def.object), id, loc, data)
  if queued then
    r.status = "queued"
    r.job_id = data.job_id ~= nil and tostring(data.job_id) or nil
  end
  return r
end

--- The normalised result of the body OneAll POSTs to a callback_url (the same envelope as
-- a synchronous success [unconfirmed]).
-- syntax: res, msg, err = oneall.parse_callback(body)   -- body: JSON text or decoded table
function M.parse_callback(body)
  local j = body
  if type(body) == "string" then
    local msg
    j, msg = json.decode(body)
    if j == nil then
      return errors.fail { kind = "decode", provider = M.name, operation = "oneall.callback", detail = msg }
    end
  end
  return result_of("oneall.callback", nil, j)
end

--------------------------------------------------------------------------- handle

--- Bind a OneAll site to a client (installed as client:oneall{...}). Raises on bad options.
-- syntax: oa = oneall.new(client, {subdomain=, public_key=, private_key=, base_url=})
function M.new(client, opts)
  if type(opts) ~= "table" then error("socialpush: oneall{...} needs an options table", 3) end
  for _, k in ipairs { "public_key", "private_key" } do
    if type(opts[k]) ~= "string" or opts[k] == "" then error("socialpush: oneall{...}: " .. k .. " is required", 3) end
  end
  local base = opts.base_url
  if base ~= nil then
    if type(base) ~= "string" or not base:match("^[hH][tT][tT][pP][sS]://[^%s/?#]+[^%s?#]*$") then
      error("socialpush: oneall{...}: base_url must be an https URL", 3)
    end
    base = base:gsub("/+$", "")
  else
    local sub = opts.subdomain
    if type(sub) ~= "string" or not sub:match("^[%w%-]+$") then
      error("socialpush: oneall{...}: subdomain must be letters, digits and '-'", 3)
    end
    base = "https://" .. sub .. "." .. M.host
  end
  local h = publish.handle(client, M.name, { username = opts.public_key, password = opts.private_key })
  h.base_url = base
  return h
end

--- Every call is HTTP Basic public_key:private_key [doc].
-- syntax: scheme = oneall.auth_scheme(creds)   -- "basic"
function M.auth_scheme() return "basic" end

-- operation name, definition, url, body; or nil, msg, err
local function prepare(h, identity_token, resource, args)
  if args == nil then args = {} end
  if type(args) ~= "table" then error("oneall:push: arguments must be a table", 3) end
  local provider, name, pfield, pvalue = publish.resource(resource)
  if not provider then return nil, name, pfield end
  local key = provider .. "." .. name
  local def, op = M.OPERATIONS[key], "oneall." .. key
  local tok = { identity_token = identity_token }
  local ok, msg, err = check.id(op, tok, "identity_token")
  if not ok then return nil, msg, err end
  local a = {}
  for k, v in pairs(args) do a[k] = v end
  local path = def.path
  if pfield then
    if a[pfield] ~= nil and a[pfield] ~= pvalue then
      return check.fail(op, pfield, "%s differs from the one in the resource", pfield)
    end
    a[pfield] = nil
    local t = { [pfield] = pvalue }
    ok, msg, err = check.id(op, t, pfield)
    if not ok then return nil, msg, err end
    path = path:format(pvalue)
  end
  local obj
  obj, msg, err = object_of(op, def, a)
  if not obj then return nil, msg, err end
  if def.board then obj.board = pvalue end
  local inner = obj
  for i = #def.key, 1, -1 do inner = { [def.key[i]] = inner } end
  local body
  body, msg = json.encode({ request = { push = inner } }, { sort_keys = true })
  if not body then return check.fail(op, "args", "%s", msg) end
  return op, def, h.base_url .. "/push/identities/" .. tok.identity_token .. "/" .. path .. ".json", body, key
end

--- The request a push would send, without sending it: {method, url, body, operation}.
-- syntax: req, msg, err = oa:build(identity_token, resource, args)
function M.build(h, identity_token, resource, args)
  local op, def, url, body = prepare(h, identity_token, resource, args)
  if not op then return nil, def, url end
  return { method = "POST", url = url, body = body, operation = op, object = def.object }
end

--- Push to one identity by OneAll resource name (the 20 of DESIGN §1), e.g. "facebook/page/post".
-- The queued video operations answer res.status = "queued" and res.job_id (no post_id yet);
-- OneAll POSTs the final result to args.callback_url (see oneall.parse_callback).
-- syntax: res, msg, err = oa:push(identity_token, resource, args)
function M.push(h, identity_token, resource, args)
  local op, def, url, body, key = prepare(h, identity_token, resource, args)
  if not op then return nil, def, url end
  local spec = { operation = op, method = "POST", url = url, body = body, content_type = "application/json",
    decode = "json", idempotent = false, expect = { 200, 201, 202 }, fields = field_names(def),
    retired = RETIRED[key] }
  local res, msg, err = h:call(spec)
  if not res then return nil, msg, err end
  return result_of(op, def, res.json, res.status, pipeline.secrets_of(h.creds), spec)
end

return M
