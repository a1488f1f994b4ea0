--- socialpush.pipeline.operations: the one table of OneAll's 20 Push API resources.
-- client:push (direct calls by resource name), the OneAll client (socialpush.providers.oneall)
-- and the gateway (socialpush.gateway) all derive from it. Pure data and two lookups.
--
-- A resource: { resource = OneAll path after /push/identities/<token>/ without .json ("%s"
-- where the path carries an id), provider, operation (the direct call), path_field (the
-- argument the path carries), key (where the object sits under request.push), object (of
-- the result), async (OneAll queues it), replacement (Facebook removed the edge: the
-- resource to use instead), exclusive (link and attachments exclude each other),
-- fields = { field, ... } }.
-- A field: { key = OneAll's key, kind, arg = the direct call's argument, aliases = other
-- accepted OneAll keys, required = OneAll requires it, max = (ids), set = (enum),
-- direct = false when the direct call has no such argument (only a OneAll site takes it),
-- tag = where the fact comes from }.
-- Kinds: text, url, media (a URL OneAll downloads), id, ids (list of ids), strings (list of
-- strings), bool, int, enum, callback (callback_url of a queued job).
-- Tags (PROVIDERS-ONEALL.md, docs/providers/oneall.md): [doc] OneAll's docs, [code] OneAll's
-- SDKs/examples, [unconfirmed] inferred, [ext] a socialpush extension (OneAll documents no such
-- key; a OneAll site presumably ignores it).
local M = {}

local function F(key, kind, arg, opts)
  local f = opts or {}
  f.key, f.kind, f.arg = key, kind, arg
  return f
end

local LIMITS = { facebook_attachments = 1, twitter_attachments = 4 }  -- OneAll's "one single attachment" [doc]
M.LIMITS = LIMITS

local MESSAGE = F("message", "text", "message", { required = true })
local MESSAGE_OPT = F("message", "text", "message")
local LINK = F("link", "url", "link")
local DESCRIPTION = F("description", "text", "description")
local TITLE = F("title", "text", "title")
local FB_ATTACH = F("attachments", "ids", "attachments", { max = LIMITS.facebook_attachments })
local CREATE_POST = F("create_post", "bool", "create_post")
local FB_PICTURE = F("url", "media", "picture", { required = true })
local FB_VIDEO = F("url", "media", "video", { required = true })
local PAGE_ID = F("id", "id", "page_id", { required = true })
local GROUP_ID = F("id", "id", "group_id", { required = true })
local CALLBACK = F("callback_url", "callback", "callback_url", { direct = false, tag = "[code]" })
-- LinkedIn: `link` is the SDK's only mandatory argument; `picture` is an image URL [code]
local LI_LINK = F("link", "url", "link", { required = true })
local LI_PICTURE = F("picture", "media", "picture")

local function R(t) return t end

--- The resources, in DESIGN §1 order.
M.RESOURCES = {
  R { resource = "facebook/post", provider = "facebook", operation = "post", key = { "post" }, object = "post",
    exclusive = true, replacement = "facebook/page/post", fields = { MESSAGE, LINK, FB_ATTACH }, tag = "[code]" },
  R { resource = "facebook/picture", provider = "facebook", operation = "picture", key = { "picture" },
    object = "picture", replacement = "facebook/page/picture", fields = { FB_PICTURE, DESCRIPTION, CREATE_POST },
    tag = "[doc]" },
  R { resource = "facebook/video", provider = "facebook", operation = "video", key = { "video" }, object = "video",
    replacement = "facebook/page/video", tag = "[code]; title [unconfirmed]",
    fields = { FB_VIDEO, DESCRIPTION, TITLE, CREATE_POST } },
  -- groups: object key `group` with `id`, by analogy with the page calls [unconfirmed]
  R { resource = "facebook/group/post", provider = "facebook", operation = "group_post", key = { "group" },
    object = "post", exclusive = true, replacement = "facebook/page/post", tag = "[unconfirmed]",
    fields = { GROUP_ID, MESSAGE, LINK, FB_ATTACH } },
  R { resource = "facebook/group/picture", provider = "facebook", operation = "group_picture", key = { "group" },
    object = "picture", replacement = "facebook/page/picture", tag = "[unconfirmed]",
    fields = { GROUP_ID, FB_PICTURE, DESCRIPTION } },
  R { resource = "facebook/group/video", provider = "facebook", operation = "group_video", key = { "group" },
    object = "video", replacement = "facebook/page/video", tag = "[unconfirmed]",
    fields = { GROUP_ID, FB_VIDEO, DESCRIPTION, TITLE } },
  R { resource = "facebook/page/post", provider = "facebook", operation = "page_post", key = { "page" },
    object = "post", exclusive = true, tag = "[code]", fields = { PAGE_ID, MESSAGE, LINK, FB_ATTACH } },
  R { resource = "facebook/page/picture", provider = "facebook", operation = "page_picture", key = { "page" },
    object = "picture", tag = "[code]; create_post [unconfirmed]",
    fields = { PAGE_ID, FB_PICTURE, DESCRIPTION, CREATE_POST } },
  R { resource = "facebook/page/video", provider = "facebook", operation = "page_video", key = { "page" },
    object = "video", tag = "[unconfirmed], as the page picture",
    fields = { PAGE_ID, FB_VIDEO, DESCRIPTION, TITLE } },
  R { resource = "linkedin/post", provider = "linkedin", operation = "post", key = { "post" }, object = "post",
    tag = "[code]", fields = { LI_LINK, MESSAGE_OPT, TITLE, DESCRIPTION, LI_PICTURE } },
  R { resource = "linkedin/company/post", provider = "linkedin", operation = "company_post", key = { "post" },
    object = "post", tag = "[code]",
    fields = { F("company", "id", "company", { required = true }), LI_LINK, MESSAGE_OPT, TITLE, DESCRIPTION,
      LI_PICTURE } },
  -- the board id is in the path; `board` is also sent, as the older pinterest/pin.json body had
  -- it [code]; description and picture are mandatory in the SDK [code]; the older keys note and
  -- image_url are accepted as aliases (PROVIDERS-ONEALL.md 4.12)
  R { resource = "pinterest/board/%s/pin", provider = "pinterest", operation = "pin", path_field = "board_id",
    key = { "pin" }, object = "pin", tag = "[doc] paths, [code] fields; title [unconfirmed]",
    old_resource = "pinterest/pin",
    fields = { F("board", "id", "board_id", { tag = "[code] the older body" }),
      F("description", "text", "description", { required = true, aliases = { "note" } }),
      F("picture", "media", "picture", { required = true, aliases = { "url", "image_url" } }), LINK, TITLE,
      F("alt_text", "text", "alt_text", { tag = "[ext]" }) } },
  R { resource = "pinterest/board", provider = "pinterest", operation = "board", key = { "board" },
    object = "board", tag = "[unconfirmed]",
    fields = { F("name", "text", "name", { required = true }), DESCRIPTION, F("privacy", "text", "privacy") } },
  R { resource = "twitter/post", provider = "twitter", operation = "post", key = { "post" }, object = "post",
    tag = "[code]",
    fields = { MESSAGE, F("attachments", "ids", "attachments", { max = LIMITS.twitter_attachments }),
      F("location", "text", "location", { direct = false }) } },
  R { resource = "twitter/picture", provider = "twitter", operation = "picture", key = { "picture" },
    object = "picture", tag = "[doc]",
    fields = { F("url", "media", "picture", { required = true }), DESCRIPTION } },
  R { resource = "twitter/video", provider = "twitter", operation = "video", key = { "video" }, object = "video",
    async = true, tag = "[code]",
    fields = { F("video_url", "media", "video", { required = true }), CALLBACK } },
  R { resource = "youtube/video", provider = "youtube", operation = "video", key = { "video" }, object = "video",
    async = true, tag = "[code]; tags, privacy [ext]",
    fields = { F("video_url", "media", "video", { required = true }), F("title", "text", "title", { required = true }),
      DESCRIPTION, F("thumbnail_url", "media", "thumbnail"), F("tags", "strings", "tags", { tag = "[ext]" }),
      F("privacy", "enum", "privacy", { set = { "public", "unlisted", "private" }, tag = "[ext]" }), CALLBACK } },
  -- 18-20: bodies not found; keys from the Update API analogues [unconfirmed]
  R { resource = "youtube/playlist/%s/video", provider = "youtube", operation = "playlist_video",
    path_field = "playlist_id", key = { "video" }, object = "playlist_item", tag = "[unconfirmed]",
    fields = { F("id", "id", "video_id", { required = true }), F("position", "int", "position") } },
  R { resource = "youtube/playlist", provider = "youtube", operation = "playlist", key = { "playlist" },
    object = "playlist", tag = "[unconfirmed]",
    fields = { F("title", "text", "title", { required = true }), DESCRIPTION,
      F("privacy_status", "enum", "privacy", { set = { "public", "unlisted", "private" } }),
      F("default_language", "text", "default_language") } },
  R { resource = "youtube/channel/section", provider = "youtube", operation = "channel_section",
    key = { "channel", "section" }, object = "channel_section", tag = "[unconfirmed]",
    fields = { F("type", "text", "type", { required = true }), TITLE, F("style", "text", "style", { direct = false }),
      F("position", "int", "position"), F("playlists", "ids", "playlist_ids"),
      F("defaultLanguage", "text", "default_language", { direct = false }) } },
}

M.PROVIDERS = { "facebook", "linkedin", "pinterest", "twitter", "youtube" }

-- "<provider>.<operation>" -> resource; the patterns of the paths
M.BY_OPERATION = {}
local PATTERNS = {}
for _, r in ipairs(M.RESOURCES) do
  M.BY_OPERATION[r.provider .. "." .. r.operation] = r
  PATTERNS[#PATTERNS + 1] = { "^" .. r.resource:gsub("%%s", "([^/]+)") .. "$", r }
  if r.old_resource then PATTERNS[#PATTERNS + 1] = { "^" .. r.old_resource .. "$", r, old = true } end
  local by_key = {}
  for _, f in ipairs(r.fields) do
    by_key[f.key] = f
    for _, a in ipairs(f.aliases or {}) do by_key[a] = f end
  end
  r.by_key = by_key
end

--- The resource of a OneAll resource name ("facebook/page/post", leading "/" and ".json"
-- allowed), the id its path carries, and whether it is the older path (pinterest/pin: the
-- board comes in the body); nil when unknown.
-- syntax: r, path_value, old = operations.resolve(name)
function M.resolve(name)
  if type(name) ~= "string" then return nil end
  local n = name:gsub("^/+", ""):gsub("%.json$", "")
  for _, p in ipairs(PATTERNS) do
    local cap = n:match(p[1])
    if cap then return p[2], p[2].path_field and not p.old and cap or nil, p.old == true end
  end
  return nil
end

--- The OneAll path of a resource for a path value: "pinterest/board/123/pin".
-- syntax: path = operations.path(r [, path_value])
function M.path(r, value)
  if r.path_field then return (r.resource:gsub("%%s", function() return value end)) end
  return r.resource
end

return M
