--- socialpush.providers.youtube: YouTube Data API v3.
-- yt:video (resumable videos.insert, socialpush.providers.youtube.upload; then thumbnails.set),
-- yt:thumbnail, yt:playlist_video (playlistItems.insert), yt:playlist (playlists.insert),
-- yt:channel_section (channelSections.insert). Handles: `client:youtube{access_token=}`;
-- `api_host` and `version` may be overridden in the credentials. Wire reference:
-- docs/providers/youtube.md.
local Handle = require "socialpush.pipeline.handle"
local pipeline = require "socialpush.pipeline"
local check = require "socialpush.pipeline.check"
local media = require "socialpush.pipeline.media"
local upload = require "socialpush.pipeline.upload"
local time = require "socialpush.time"
local json = require "socialpush.json"
local resumable = require "socialpush.providers.youtube.upload"

local M = Handle.class {
  name = "youtube",
  -- endpoint data; creds.api_host and creds.version override these two
  api_host = "https://www.googleapis.com",
  version = "v3",
  -- hosts a resumable session URI may point to (the bearer token is sent there)
  session_hosts = resumable.session_hosts,
  chunk_size = 8 * 1024 * 1024,      -- default; yt:video{chunk_size=} overrides
  chunk_unit = resumable.chunk_unit, -- every chunk but the last: a multiple of 256 KiB
  max_recoveries = resumable.max_recoveries,   -- broken chunks resumed per upload before giving up
  max_stalls = resumable.max_stalls, -- chunks in a row the server kept none of
  limits = {
    title = 100, description_bytes = 5000, tags = 500, playlist_title = 150,
    video_size = 274877906944,       -- Discovery mediaUpload.maxSize (256 GiB)
    thumbnail_size = 2097152,        -- Discovery thumbnails.set maxSize (2 MiB)
  },
  thumbnail_types = { "image/jpeg", "image/png" },
  privacy = { "public", "private", "unlisted" },
  -- ChannelSectionSnippet.type (Discovery enum, without channelsectionTypeUndefined)
  section_types = { "singlePlaylist", "multiplePlaylists", "popularUploads", "recentUploads",
    "likes", "allPlaylists", "likedPlaylists", "recentPosts", "recentActivity", "liveEvents",
    "upcomingEvents", "completedEvents", "multipleChannels", "postedVideos", "postedPlaylists",
    "subscriptions" },
  public_creds = { api_host = true, version = true, channel_id = true, playlist_id = true, video_id = true },
}
local mt = { __index = M, __tostring = Handle.tostring }

--- A handle bound to a client (client:youtube{creds}).
-- syntax: yt = youtube.new(client, creds)
function M.new(client, creds) return Handle.new(mt, client, creds) end

local WATCH = "https://www.youtube.com/watch?v="

-------------------------------------------------------------------------- endpoints

local function host(h, op)
  local base = h.creds.api_host or M.api_host
  if type(base) ~= "string" or not base:match("^[hH][tT][tT][pP][sS]?://[^%s/?#]+$") then
    return check.fail(op, "api_host", "credentials api_host must be an http(s) URL with no path")
  end
  local v = h.creds.version or M.version
  if type(v) ~= "string" or not v:match("^v%d+$") then
    return check.fail(op, "version", "credentials version must look like v3")
  end
  return base, v
end

local function api_url(h, op, path)
  local base, v, err = host(h, op)
  if not base then return nil, v, err end
  return base .. "/youtube/" .. v .. "/" .. path
end

--- The URL of an upload endpoint (…/upload/youtube/v3/<path>) for a handle.
-- syntax: url, msg, err = yt:upload_url(op, path)
function M.upload_url(h, op, path)
  local base, v, err = host(h, op)
  if not base then return nil, v, err end
  return base .. "/upload/youtube/" .. v .. "/" .. path
end
local upload_url = M.upload_url

-- decimal text of a byte count (exact on 5.1/LuaJIT doubles too)
local function n2s(n) return ("%.0f"):format(n) end

--------------------------------------------------------------------------- checks

local is_list = check.is_list

-- tags: strings; total length as YouTube counts it (commas between tags count, a tag
-- with a space counts its two quotes)
local function check_tags(op, args, field)
  local tags = args[field]
  if tags == nil then return true end
  if not is_list(tags) then return check.fail(op, field, "%s must be a list of strings", field) end
  local total = 0
  for i, t in ipairs(tags) do
    if type(t) ~= "string" or not t:find("%S") then
      return check.fail(op, field, "%s[%d] must be a non-empty string", field, i)
    end
    local n = check.utf8_len(t)
    if not n then return check.fail(op, field, "%s[%d] is not valid UTF-8", field, i) end
    total = total + n + (t:find(" ", 1, true) and 2 or 0) + (i > 1 and 1 or 0)
  end
  if total > M.limits.tags then
    return check.fail(op, field, "%s total %d characters, the limit is %d", field, total, M.limits.tags)
  end
  return true
end

local check_bool, check_index = check.boolean, check.integer

-- a YouTube id: letters, digits, '-' and '_' only (len: exact length when given)
local function check_yt_id(op, args, field, rules)
  local ok, msg, err = check.id(op, args, field, rules)
  if not ok then return nil, msg, err end
  local v = args[field]
  if v == nil then return true end
  if v:find("[^%w_%-]") or (rules and rules.len and #v ~= rules.len) then
    return check.fail(op, field, "%s is not a well-formed YouTube id", field)
  end
  return true
end

local function check_ids(op, args, field)
  local v = args[field]
  if v == nil then return true end
  if not is_list(v) then return check.fail(op, field, "%s must be a list of ids", field) end
  local seen = {}
  for i, id in ipairs(v) do
    if type(id) ~= "string" or id == "" or #id > 64 or id:find("[^%w_%-]") then
      return check.fail(op, field, "%s[%d] is not a well-formed YouTube id", field, i)
    end
    if seen[id] then return check.fail(op, field, "%s lists %s twice", field, id) end
    seen[id] = true
  end
  return true
end

local function check_category(op, args, field)
  local v = args[field]
  if type(v) == "number" and v % 1 == 0 and v >= 0 then args[field] = n2s(v); return true end
  if v ~= nil and (type(v) ~= "string" or not v:match("^%d+$") or #v > 10) then
    return check.fail(op, field, "%s must be a numeric category id", field)
  end
  return true
end

local function check_chunk(op, args, field)
  local v = args[field]
  if v ~= nil and (type(v) ~= "number" or v <= 0 or v % M.chunk_unit ~= 0) then
    return check.fail(op, field, "%s must be a positive multiple of %d bytes", field, M.chunk_unit)
  end
  return true
end

-- video/* or application/octet-stream, not empty, at most 256 GiB
local function check_video(op, m)
  local ct = m.content_type or "application/octet-stream"
  if not (ct:match("^video/[%w%.%+%-]+$") or ct == "application/octet-stream") then
    return check.fail(op, "video", "video type %s is not accepted (video/* or application/octet-stream)", ct)
  end
  if m.size and m.size == 0 then return check.fail(op, "video", "video is empty") end
  return media.check(op, "video", m, { max_size = M.limits.video_size })
end


local function copy_list(t)
  if t == nil then return nil end
  local out = {}
  for i, v in ipairs(t) do out[i] = v end
  return json.array(out)
end

-- the id of an inserted resource, or a decode error when the reply has none
local function resource_id(h, op, res)
  local id = type(res.json) == "table" and res.json.id
  if type(id) ~= "string" or id == "" then return pipeline.no_id(h, op, res, "resource id") end
  return id
end

--- Whether a resumable session URI may get the token: https on a Google host (or the
-- configured api_host).
-- syntax: ok = youtube.session_ok(h, uri)
M.session_ok = resumable.session_ok

-------------------------------------------------------------------------- thumbnail

local THUMBNAIL = { types = M.thumbnail_types, max_size = M.limits.thumbnail_size }

-- thumbnails.set with a prepared (downloaded when a URL) thumbnail t
local function set_thumbnail(h, op, video_id, t)
  local url, msg, err = upload_url(h, op, "thumbnails/set")
  if not url then return nil, msg, err end
  return h:call {
    operation = op, method = "POST", url = url,
    query = { { "videoId", video_id }, { "uploadType", "media" } },
    body = media.range(t, 0, t.size), content_type = t.content_type,
    idempotent = true,            -- sets (replaces) the thumbnail: repeating changes nothing
  }
end

local function thumbnail_of(h, op, value)
  return media.prepare(h.client, op, "thumbnail", value, THUMBNAIL, { download = true })
end

--- Set a video's custom thumbnail (thumbnails.set): jpeg or png, at most 2 MiB.
-- syntax: res, msg, err = yt:thumbnail{video_id = "...", thumbnail = {file = "t.jpg"}}
-- res.object = "thumbnail", res.post_id = the video id
Handle.operation(M, "thumbnail", { "video_id", "thumbnail" }, function(h, a, op)
  local ok, msg, err = check.all(op, a, { { check_yt_id, "video_id", { len = 11 } } })
  if not ok then return nil, msg, err end
  local t
  t, msg, err = thumbnail_of(h, op, a.thumbnail)
  if not t then return nil, msg, err end
  local res
  res, msg, err = set_thumbnail(h, op, a.video_id, t)
  media.release(t)
  if not res then return nil, msg, err end
  return pipeline.result(M.name, "thumbnail", a.video_id, WATCH .. a.video_id, res.json)
end)

---------------------------------------------------------------------------- video

local VIDEO_CHECKS = {
  { check.text, "title", { required = true, max = M.limits.title, forbid = "[<>]" } },
  { check.text, "description", { max_bytes = M.limits.description_bytes, forbid = "[<>]" } },
  { check_tags, "tags" },
  { check.one_of, "privacy", M.privacy },
  { check_category, "category_id" },
  { check_bool, "made_for_kids" },
  { check_bool, "notify_subscribers" },
  { check_chunk, "chunk_size" },
}

-- the resource with the arguments' extra fields merged by part ({snippet = {...}, status = {...}})
local function with_extra(op, a, body)
  for part, fields in pairs(a.extra or {}) do
    if type(fields) ~= "table" then
      return check.fail(op, "extra", "extra.%s must be a table of %s fields (e.g. extra = {status ="
        .. " {publishAt = \"...\"}})", part, part)
    end
    body[part] = body[part] or {}
    for k, v in pairs(fields) do
      if body[part][k] ~= nil then
        return check.fail(op, "extra", "extra.%s.%s is set by the operation itself", part, k)
      end
      body[part][k] = v
    end
  end
  return body
end

-- the video resource sent at initiation, and the query
local function video_meta(op, a)
  local meta = { snippet = { title = a.title, description = a.description,
    tags = copy_list(a.tags), categoryId = a.category_id } }
  if a.privacy ~= nil or a.made_for_kids ~= nil then
    meta.status = { privacyStatus = a.privacy, selfDeclaredMadeForKids = a.made_for_kids }
  end
  local ok, msg, err = with_extra(op, a, meta)
  if not ok then return nil, msg, err end
  local query = { { "uploadType", "resumable" }, { "part", "snippet,status" } }
  if a.notify_subscribers == false then query[#query + 1] = { "notifySubscribers", "false" } end
  return meta, query
end

--- Upload a video (resumable videos.insert), then its thumbnail when given. extra = {status =
-- {publishAt = "2027-01-01T00:00:00Z"}, recordingDetails = {...}} adds video resource fields.
-- syntax: res, msg, err = yt:video{video = {file = "clip.mp4"}, title = "...", description = "...",
--   tags = {...}, privacy = "public"|"private"|"unlisted", category_id = "22",
--   made_for_kids = false, notify_subscribers = true, thumbnail = {file = "t.jpg"},
--   chunk_size = 8 * 1024 * 1024, extra = {...}}
-- res.object = "video", res.post_id = the 11-character id; if the video was uploaded but
-- the thumbnail refused, res.thumbnail_error holds that error (the video stays).
Handle.operation(M, "video", { "video", "title", "description", "tags", "privacy", "category_id",
  "made_for_kids", "notify_subscribers", "thumbnail", "chunk_size" }, function(h, a, op)
  local ok, msg, err = check.all(op, a, VIDEO_CHECKS)
  if not ok then return nil, msg, err end
  local meta, query, merr = video_meta(op, a)
  if not meta then return nil, query, merr end
  -- a URL is checked once downloaded; the thumbnail is set once the video exists
  local m
  m, msg, err = media.prepare(h.client, op, "video", a.video, { max_size = M.limits.video_size },
    { lazy_url = true })
  if not m then return nil, msg, err end
  if m.source ~= "url" then
    ok, msg, err = check_video(op, m)
    if not ok then return nil, msg, err end
  end
  local t = false
  if a.thumbnail ~= nil then
    t, msg, err = media.prepare(h.client, op, "thumbnail", a.thumbnail, THUMBNAIL, { lazy_url = true })
    if not t then return nil, msg, err end
  end
  -- the state key names the file and the metadata: another title is another upload
  local key = json.encode({ meta, query }, { sort_keys = true })
  if m.source == "url" then
    local url = m.url
    m, msg, err = media.fetch(h.client, op, "video", m, M.limits.video_size)
    if not m then return nil, msg, err end
    m.origin = url
    ok, msg, err = check_video(op, m)
    if not ok then media.release(m); return nil, msg, err end
  end
  local st = upload.state(h.client, upload.key(op, m, key))
  local url
  url, msg, err = upload_url(h, op, "videos")
  local res
  if url then
    res, msg, err = resumable.upload(h, op, { url = url, meta = meta, query = query, media = m, state = st,
      chunk = a.chunk_size or M.chunk_size, host = h.creds.api_host or M.api_host })
  end
  media.release(m)
  if not res then return nil, msg, err end
  local id
  id, msg, err = resource_id(h, op, res)
  if not id then return nil, msg, err end
  local result = pipeline.result(M.name, "video", id, WATCH .. id, res.json)
  if t then
    local tres, terr
    local fetched, _, ferr = thumbnail_of(h, "youtube.thumbnail", t)
    if fetched then
      tres, _, terr = set_thumbnail(h, "youtube.thumbnail", id, fetched)
      media.release(fetched)
    else
      terr = ferr
    end
    if not tres then result.thumbnail_error = terr end
  end
  return result
end)

------------------------------------------------------------------ playlists, sections

-- POST a resource to a Data API collection; its id
local function insert(h, op, collection, part, body)
  local url, msg, err = api_url(h, op, collection)
  if not url then return nil, msg, err end
  local res
  res, msg, err = h:call { operation = op, method = "POST", url = url, query = { part = part },
    json = body, idempotent = false }
  if not res then return nil, msg, err end
  local id
  id, msg, err = resource_id(h, op, res)
  if not id then return nil, msg, err end
  return id, res
end

--- Add a video to a playlist (playlistItems.insert).
-- syntax: res, msg, err = yt:playlist_video{playlist_id = "PL...", video_id = "...", position = 0, extra=}
-- res.object = "playlist_item", res.post_id = the playlist item id
Handle.operation(M, "playlist_video", { "playlist_id", "video_id", "position" }, function(h, a, op)
  local ok, msg, err = check.all(op, a, {
    { check_yt_id, "playlist_id" },
    { check_yt_id, "video_id", { len = 11 } },
    { check_index, "position" },
  })
  if not ok then return nil, msg, err end
  local body
  body, msg, err = with_extra(op, a, { snippet = { playlistId = a.playlist_id, position = a.position,
    resourceId = { kind = "youtube#video", videoId = a.video_id } } })
  if not body then return nil, msg, err end
  local id, res
  id, res, err = insert(h, op, "playlistItems", "snippet", body)
  if not id then return nil, res, err end
  return pipeline.result(M.name, "playlist_item", id,
    WATCH .. a.video_id .. "&list=" .. a.playlist_id, res.json)
end)

--- Create a playlist (playlists.insert).
-- syntax: res, msg, err = yt:playlist{title = "...", description = "...", privacy = "public", tags = {...},
--   default_language = "en", extra=}
-- res.object = "playlist", res.post_id = the playlist id (PL...)
Handle.operation(M, "playlist", { "title", "description", "privacy", "tags", "default_language" }, function(h, a, op)
  local ok, msg, err = check.all(op, a, {
    { check.text, "title", { required = true, max = M.limits.playlist_title, forbid = "[<>]" } },
    { check.text, "description", { max_bytes = M.limits.description_bytes, forbid = "[<>]" } },
    { check_tags, "tags" },
    { check.one_of, "privacy", M.privacy },
    { check.text, "default_language", { max = 35 } },
  })
  if not ok then return nil, msg, err end
  local body = { snippet = { title = a.title, description = a.description, tags = copy_list(a.tags),
    defaultLanguage = a.default_language } }
  if a.privacy then body.status = { privacyStatus = a.privacy } end
  body, msg, err = with_extra(op, a, body)
  if not body then return nil, msg, err end
  local id, res
  id, res, err = insert(h, op, "playlists", "snippet,status", body)
  if not id then return nil, res, err end
  return pipeline.result(M.name, "playlist", id, "https://www.youtube.com/playlist?list=" .. id, res.json)
end)

local SECTION_LISTS = {   -- type -> {field, minimum, maximum}
  singlePlaylist = { "playlist_ids", 1, 1 },
  multiplePlaylists = { "playlist_ids", 1 },
  multipleChannels = { "channel_ids", 1 },
}

local function check_section(op, args)
  local rule = SECTION_LISTS[args.type]
  for _, field in ipairs { "playlist_ids", "channel_ids" } do
    local list = args[field]
    local n = list and #list or 0
    if rule and rule[1] == field then
      if n < rule[2] or (rule[3] and n > rule[3]) then
        return check.fail(op, field, "a %s section needs %s %s", args.type,
          rule[3] == rule[2] and ("exactly " .. rule[2]) or ("at least " .. rule[2]), field)
      end
    elseif n > 0 then
      return check.fail(op, field, "a %s section takes no %s", tostring(args.type), field)
    end
  end
  if (args.type == "multiplePlaylists" or args.type == "multipleChannels") and args.title == nil then
    return check.fail(op, "title", "a %s section needs a title", args.type)
  end
  return true
end

--- Add a section (shelf) to the authorised channel (channelSections.insert).
-- syntax: res, msg, err = yt:channel_section{type = "singlePlaylist", title = "...",
--   playlist_ids = {"PL..."}, channel_ids = {...}, position = 0, extra=}
-- res.object = "channel_section", res.post_location = the channel URL (when known)
Handle.operation(M, "channel_section", { "type", "title", "playlist_ids", "channel_ids", "position" },
  function(h, a, op)
  local ok, msg, err = check.all(op, a, {
    { check.text, "type", { required = true } },
    { check.one_of, "type", M.section_types },
    { check.text, "title", { max = M.limits.title, forbid = "[<>]" } },
    { check_ids, "playlist_ids" },
    { check_ids, "channel_ids" },
    { check_index, "position" },
  })
  if not ok then return nil, msg, err end
  ok, msg, err = check_section(op, a)
  if not ok then return nil, msg, err end
  local body = { snippet = { type = a.type, title = a.title, position = a.position } }
  if a.playlist_ids or a.channel_ids then
    body.contentDetails = { playlists = copy_list(a.playlist_ids), channels = copy_list(a.channel_ids) }
  end
  body, msg, err = with_extra(op, a, body)
  if not body then return nil, msg, err end
  local id, res
  id, res, err = insert(h, op, "channelSections", "snippet,contentDetails", body)
  if not id then return nil, res, err end
  local channel = type(res.json.snippet) == "table" and res.json.snippet.channelId
  local loc = type(channel) == "string" and channel:match("^[%w_%-]+$")
    and ("https://www.youtube.com/channel/" .. channel) or nil
  return pipeline.result(M.name, "channel_section", id, loc, res.json)
end)

--------------------------------------------------------------------------- errors

-- Google error reason -> kind. Reasons: PROVIDERS.md 7.1-7.5 and the YouTube error
-- reference; rows marked [mem] are not confirmed from stored documentation.
M.REASONS = {
  quotaExceeded = "rate_limited", rateLimitExceeded = "rate_limited",
  userRateLimitExceeded = "rate_limited", uploadRateLimitExceeded = "rate_limited",     -- [mem]
  -- the per-channel 24 h upload cap: rate_limited with retry_after = 86400 (see map_error)
  uploadLimitExceeded = "rate_limited",
  forbidden = "permission", insufficientPermissions = "permission",
  accountDelegationForbidden = "permission", authenticatedUserAccountClosed = "permission",
  authenticatedUserAccountSuspended = "permission", authenticatedUserNotChannel = "permission",
  channelClosed = "permission", channelSuspended = "permission",                        -- [mem]
  authError = "auth", required = "auth", invalidCredentials = "auth", expired = "auth",
  playlistNotFound = "not_found", videoNotFound = "not_found", channelNotFound = "not_found",
  notFound = "not_found",
  invalidTitle = "invalid_argument", invalidDescription = "invalid_argument",
  invalidTags = "invalid_argument", missingRequiredParameter = "invalid_argument",
  invalidValue = "invalid_argument", badRequest = "invalid_argument",
  unexpectedParameter = "invalid_argument", incompatibleParameters = "invalid_argument",
  invalidCategoryId = "invalid_argument", invalidImage = "invalid_argument",             -- [mem]
  mediaBodyRequired = "invalid_argument", invalidPlaylistSnippet = "invalid_argument",   -- [mem]
  playlistTitleRequired = "invalid_argument", titleRequired = "invalid_argument",        -- [mem]
  typeRequired = "invalid_argument", onePlaylistNeeded = "invalid_argument",             -- [mem]
  playlistsNeeded = "invalid_argument", channelsNeeded = "invalid_argument",             -- [mem]
  playlistsNotExpected = "invalid_argument", playlistsDuplicated = "invalid_argument",   -- [mem]
  titleLengthExceeded = "invalid_argument", inValidPosition = "invalid_argument",        -- [mem]
  invalidPlaylistItemPosition = "invalid_argument", snippetNeeded = "invalid_argument",  -- [mem]
  maxChannelSectionExceeded = "provider", playlistContainsMaximumNumberOfVideos = "provider",
  backendError = "server", internalError = "server",
}

-- the argument a reason is about
local REASON_FIELD = { invalidTitle = "title", invalidDescription = "description", invalidTags = "tags",
  invalidCategoryId = "category_id", titleRequired = "title", playlistTitleRequired = "title",
  onePlaylistNeeded = "playlist_ids", playlistsNeeded = "playlist_ids", invalidImage = "thumbnail",
  playlistNotFound = "playlist_id", videoNotFound = "video_id" }

--- Map a refused response to an error kind from Google's error body
-- {"error":{"code":N,"message":"...","errors":[{"reason":"...","domain":"..."}],"status":"..."}}.
-- syntax: t = youtube.map_error(res, spec)   -- {kind=, code=, detail=, field=, retry_after=}
function M.map_error(res)
  local body = type(res.json) == "table" and res.json or {}
  local e = type(body.error) == "table" and body.error or {}
  local reason
  if type(e.errors) == "table" then
    for _, x in ipairs(e.errors) do
      if type(x) == "table" and type(x.reason) == "string" then reason = x.reason; break end
    end
  end
  local kind = reason and M.REASONS[reason]
  local status = res.status
  if status == 401 then kind = "auth"
  elseif not kind then
    if status == 403 then kind = "permission"
    elseif status >= 500 then kind = "server"
    else kind = pipeline.status_kind(status) end
  end
  local retry_after = res.retry_after
  if not retry_after then
    if reason == "uploadLimitExceeded" then retry_after = 86400
    elseif reason == "quotaExceeded" then retry_after = time.until_midnight_pacific() end
  end
  return { kind = kind, code = reason or (type(e.code) == "number" and e.code or nil),
    detail = type(e.message) == "string" and e.message or nil,
    field = reason and REASON_FIELD[reason], retry_after = retry_after }
end

return M
