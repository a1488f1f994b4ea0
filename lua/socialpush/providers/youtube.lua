--- socialpush.youtube: YouTube Data API v3.
-- yt:video (resumable videos.insert, then thumbnails.set), yt:playlist_video
-- (playlistItems.insert), yt:playlist (playlists.insert), yt:channel_section
-- (channelSections.insert). Wire reference: PROVIDERS.md section 7 and the Discovery
-- document (specs/youtube/youtube.v3.discovery.json).
--
-- The resumable upload follows the server, never its own idea of progress: every 308
-- carries "Range: bytes=0-N" and the next chunk starts at N+1 (Google may persist less
-- than was sent: it keeps whole 256 KiB units). A broken chunk (transport error, 5xx)
-- is followed by a status query (PUT, "Content-Range: bytes */total", no body) and the
-- upload goes on from the offset that reports; a 404 on the session URI starts a new
-- session (once). With client.resume_dir set, the session URI and offset are kept in
-- a state file so another process resumes the same session.
local pipeline = require "socialpush.pipeline"
local check = require "socialpush.check"
local media = require "socialpush.media"
local upload = require "socialpush.upload"
local errors = require "socialpush.errors"
local json = require "socialpush.json"

local M = {
  name = "youtube",
  -- endpoint data; creds.api_host and creds.version override these two
  api_host = "https://www.googleapis.com",
  version = "v3",
  -- hosts a resumable session URI may point to (the bearer token is sent there)
  session_hosts = { ["www.googleapis.com"] = true, ["youtube.googleapis.com"] = true },
  chunk_size = 8 * 1024 * 1024,      -- default; yt:video{chunk_size=} overrides
  chunk_unit = 262144,               -- every chunk but the last: a multiple of 256 KiB
  max_recoveries = 5,                -- broken chunks resumed per upload before giving up
  max_stalls = 3,                    -- chunks in a row the server kept none of
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
}

local WATCH = "https://www.youtube.com/watch?v="

-------------------------------------------------------------------------- endpoints

local function api_url(h, path)
  return (h.creds.api_host or M.api_host) .. "/youtube/" .. (h.creds.version or M.version) .. "/" .. path
end

local function upload_url(h, path)
  return (h.creds.api_host or M.api_host) .. "/upload/youtube/" .. (h.creds.version or M.version) .. "/" .. path
end

-- decimal text of a byte count (exact on 5.1/LuaJIT doubles too)
local function n2s(n) return ("%.0f"):format(n) end

--------------------------------------------------------------------------- checks

local function is_list(v)
  if type(v) ~= "table" then return false end
  local n = 0
  for _ in pairs(v) do n = n + 1 end
  return n == #v
end

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

local function check_bool(op, args, field)
  local v = args[field]
  if v ~= nil and type(v) ~= "boolean" then return check.fail(op, field, "%s must be a boolean", field) end
  return true
end

local function check_index(op, args, field)
  local v = args[field]
  if v ~= nil and (type(v) ~= "number" or v < 0 or v % 1 ~= 0 or v >= 2 ^ 31) then
    return check.fail(op, field, "%s must be a non-negative integer", field)
  end
  return true
end

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

local function check_thumbnail(op, t)
  return media.check(op, "thumbnail", t, { types = M.thumbnail_types, max_size = M.limits.thumbnail_size })
end

local function copy_list(t)
  if t == nil then return nil end
  local out = {}
  for i, v in ipairs(t) do out[i] = v end
  return json.array(out)
end

-- the id of an inserted resource, or a provider error when the reply has none
local function resource_id(op, res)
  local id = type(res.json) == "table" and res.json.id
  if type(id) ~= "string" or id == "" then
    return errors.fail { kind = "provider", provider = M.name, operation = op, status = res.status,
      message = op .. ": the reply carries no resource id" }
  end
  return id
end

----------------------------------------------------------------- resumable upload

local OP_VIDEO = "youtube.video"

-- a session URI we may send the token to: https, a Google host (or the configured one)
local function session_ok(h, uri)
  if check.https_host(uri, M.session_hosts) then return true end
  local own = (h.creds.api_host or M.api_host):match("^https://([^/?#]+)")
  return own ~= nil and check.https_host(uri, { [own:lower()] = true })
end
M.session_ok = session_ok

-- the offset after "Range: bytes=0-N" (0 when absent), or nil when unreadable
local function next_offset(res)
  local r = res.headers and res.headers["range"]
  if r == nil then return 0 end
  local last = r:match("^%s*bytes%s*=%s*0%-(%d+)%s*$")
  return last and tonumber(last) + 1 or nil
end

local function initiate(h, m, meta, query)
  local res, msg, err = h:call {
    operation = OP_VIDEO, method = "POST", url = upload_url(h, "videos"), query = query,
    headers = { { "X-Upload-Content-Length", n2s(m.size) },
      { "X-Upload-Content-Type", m.content_type or "application/octet-stream" } },
    json = meta, content_type = "application/json; charset=UTF-8",
    idempotent = true,            -- creates a session, not a video: safe to repeat
    expect = { 200, 201 },
  }
  if not res then return nil, msg, err end
  local loc = res.headers["location"]
  if not session_ok(h, loc) then
    return errors.fail { kind = "provider", provider = M.name, operation = OP_VIDEO, status = res.status,
      message = OP_VIDEO .. ": the upload session URI is missing or not an https URL on a Google host" }
  end
  return loc
end

local function put_chunk(h, uri, m, offset, len)
  return h:call {
    operation = OP_VIDEO, method = "PUT", url = uri,
    headers = { { "Content-Range", "bytes " .. n2s(offset) .. "-" .. n2s(offset + len - 1) .. "/" .. n2s(m.size) } },
    body = media.range(m, offset, len), content_type = m.content_type,
    idempotent = false,           -- after a broken chunk: ask the server, never re-send blindly
    expect = { 200, 201, 308 },
  }
end

local function status_query(h, uri, total)
  return h:call {
    operation = OP_VIDEO, method = "PUT", url = uri,
    headers = { { "Content-Range", "bytes */" .. n2s(total) } }, body = "",
    idempotent = true, expect = { 200, 201, 308 },
  }
end

-- failures after which the session may still be fine: ask it where it stands
local function recoverable(err)
  local k = err.kind
  return k == "transport" or k == "timeout" or k == "server" or (k == "rate_limited" and err.status == 429)
end

local function fail_upload(msg, status)
  return errors.fail { kind = "provider", provider = M.name, operation = OP_VIDEO, status = status,
    message = OP_VIDEO .. ": " .. msg }
end

--- Upload media m through a resumable session; returns the decoded video resource.
-- st: upload.state (st.data = {session=, total=, offset=}); kept on failure so that a
-- later call (another process with the same resume_dir) resumes the session.
local function resumable(h, m, meta, query, st, chunk)
  local client, total = h.client, m.size
  local uri, offset, ask = nil, 0, false
  local d = st.data
  if d.session and d.total == total and session_ok(h, d.session) then
    uri, offset, ask = d.session, d.offset or 0, true   -- resume: the server says from where
  elseif d.session then
    st:clear()
  end
  local restarted, recoveries, stalls = false, 0, 0
  while true do
    if not uri then
      local loc, msg, err = initiate(h, m, meta, query)
      if not loc then return nil, msg, err end
      uri, offset = loc, 0
      st.data = { session = uri, total = total, offset = 0 }
      st:save()
    end
    local queried = ask
    local res, msg, err
    if ask then
      ask = false
      res, msg, err = status_query(h, uri, total)
    else
      res, msg, err = put_chunk(h, uri, m, offset, math.min(chunk, total - offset))
    end
    if res and res.status ~= 308 then
      st:clear()
      return res
    elseif res then
      local nxt = next_offset(res)
      if not nxt or nxt > total then return fail_upload("unreadable Range in a 308 reply", 308) end
      if queried or nxt > offset then stalls = 0 else stalls = stalls + 1 end
      if stalls > M.max_stalls then return fail_upload("the server keeps none of the bytes sent", 308) end
      offset = nxt
      st.data.offset = offset
      st:save()
      if offset >= total then ask = not queried end   -- all bytes held but not finished
      if offset >= total and queried then return fail_upload("upload complete but not finalised", 308) end
    elseif err.status == 404 and not restarted then
      restarted, uri = true, nil                      -- session expired: start again, once
      st:clear()
    elseif recoverable(err) then
      recoveries = recoveries + 1
      if recoveries > M.max_recoveries then return nil, msg, err end
      local wait = err.retry_after or math.min(0.5 * 2 ^ (recoveries - 1), 8)
      if wait > client.timeout then return nil, msg, err end
      upload.sleep(client, wait)
      ask = true
    else
      return nil, msg, err
    end
  end
end

-------------------------------------------------------------------------- thumbnail

local function set_thumbnail(h, video_id, t, op)
  local fetched, msg, err = media.fetch(h.client, op, "thumbnail", t, M.limits.thumbnail_size)
  if not fetched then return nil, msg, err end
  local ok
  ok, msg, err = check_thumbnail(op, fetched)
  if not ok then media.release(fetched); return nil, msg, err end
  local res
  res, msg, err = h:call {
    operation = op, method = "POST", url = upload_url(h, "thumbnails/set"),
    query = { { "videoId", video_id }, { "uploadType", "media" } },
    body = media.range(fetched, 0, fetched.size), content_type = fetched.content_type,
    idempotent = true,            -- sets (replaces) the thumbnail: repeating changes nothing
  }
  media.release(fetched)
  return res, msg, err
end

--- Set a video's custom thumbnail (thumbnails.set): jpeg or png, at most 2 MiB.
-- syntax: res, msg, err = yt:thumbnail{video_id = "...", thumbnail = {file = "t.jpg"}}
-- res.object = "thumbnail", res.post_id = the video id
function M.thumbnail(h, args)
  local op = "youtube.thumbnail"
  local ok, msg, err = check.all(op, args, { { check_yt_id, "video_id", { len = 11 } } })
  if not ok then return nil, msg, err end
  if args.thumbnail == nil then return check.fail(op, "thumbnail", "thumbnail is required") end
  local t
  t, msg, err = media.open(op, "thumbnail", args.thumbnail)
  if not t then return nil, msg, err end
  ok, msg, err = check_thumbnail(op, t)
  if not ok then return nil, msg, err end
  local res
  res, msg, err = set_thumbnail(h, args.video_id, t, op)
  if not res then return nil, msg, err end
  return pipeline.result(M.name, "thumbnail", args.video_id, WATCH .. args.video_id, res.json)
end

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

--- Upload a video (resumable videos.insert), then its thumbnail when given.
-- syntax: res, msg, err = yt:video{video = {file = "clip.mp4"}, title = "...", description = "...",
--   tags = {...}, privacy = "public"|"private"|"unlisted", category_id = "22",
--   made_for_kids = false, notify_subscribers = true, thumbnail = {file = "t.jpg"},
--   chunk_size = 8 * 1024 * 1024}
-- res.object = "video", res.post_id = the 11-character id; if the video was uploaded but
-- the thumbnail refused, res.thumbnail_error holds that error (the video stays).
function M.video(h, args)
  local op = OP_VIDEO
  local ok, msg, err = check.all(op, args, VIDEO_CHECKS)
  if not ok then return nil, msg, err end
  if args.video == nil then return check.fail(op, "video", "video is required") end
  local m, t
  m, msg, err = media.open(op, "video", args.video)
  if not m then return nil, msg, err end
  if m.source ~= "url" then
    ok, msg, err = check_video(op, m)
    if not ok then return nil, msg, err end
  end
  if args.thumbnail ~= nil then
    t, msg, err = media.open(op, "thumbnail", args.thumbnail)
    if not t then return nil, msg, err end
    if t.source ~= "url" then
      ok, msg, err = check_thumbnail(op, t)
      if not ok then return nil, msg, err end
    end
  end

  local meta = { snippet = { title = args.title, description = args.description,
    tags = copy_list(args.tags), categoryId = args.category_id } }
  if args.privacy ~= nil or args.made_for_kids ~= nil then
    meta.status = { privacyStatus = args.privacy, selfDeclaredMadeForKids = args.made_for_kids }
  end
  local query = { { "uploadType", "resumable" }, { "part", "snippet,status" } }
  if args.notify_subscribers == false then query[#query + 1] = { "notifySubscribers", "false" } end
  -- the state key names the file and the metadata: another title is another upload
  local st = upload.state(h.client, upload.key(op, m, json.encode({ meta, query }, { sort_keys = true })))

  local src = m
  if m.source == "url" then
    m, msg, err = media.fetch(h.client, op, "video", m, M.limits.video_size)
    if not m then return nil, msg, err end
    ok, msg, err = check_video(op, m)
    if not ok then media.release(m); return nil, msg, err end
  end
  local res
  res, msg, err = resumable(h, m, meta, query, st, args.chunk_size or M.chunk_size)
  if m ~= src then media.release(m) end
  if not res then return nil, msg, err end
  local id
  id, msg, err = resource_id(op, res)
  if not id then return nil, msg, err end
  local result = pipeline.result(M.name, "video", id, WATCH .. id, res.json)
  if t then
    local tres, _, terr = set_thumbnail(h, id, t, "youtube.thumbnail")
    if not tres then result.thumbnail_error = terr end
  end
  return result
end

------------------------------------------------------------------ playlists, sections

--- Add a video to a playlist (playlistItems.insert).
-- syntax: res, msg, err = yt:playlist_video{playlist_id = "PL...", video_id = "...", position = 0}
-- res.object = "playlist_item", res.post_id = the playlist item id
function M.playlist_video(h, args)
  local op = "youtube.playlist_video"
  local ok, msg, err = check.all(op, args, {
    { check_yt_id, "playlist_id" },
    { check_yt_id, "video_id", { len = 11 } },
    { check_index, "position" },
  })
  if not ok then return nil, msg, err end
  local res
  res, msg, err = h:call {
    operation = op, method = "POST", url = api_url(h, "playlistItems"), query = { part = "snippet" },
    json = { snippet = { playlistId = args.playlist_id, position = args.position,
      resourceId = { kind = "youtube#video", videoId = args.video_id } } },
    idempotent = false,
  }
  if not res then return nil, msg, err end
  local id
  id, msg, err = resource_id(op, res)
  if not id then return nil, msg, err end
  return pipeline.result(M.name, "playlist_item", id,
    WATCH .. args.video_id .. "&list=" .. args.playlist_id, res.json)
end

--- Create a playlist (playlists.insert).
-- syntax: res, msg, err = yt:playlist{title = "...", description = "...", privacy = "public", tags = {...}}
-- res.object = "playlist", res.post_id = the playlist id (PL...)
function M.playlist(h, args)
  local op = "youtube.playlist"
  local ok, msg, err = check.all(op, args, {
    { check.text, "title", { required = true, max = M.limits.playlist_title, forbid = "[<>]" } },
    { check.text, "description", { max_bytes = M.limits.description_bytes, forbid = "[<>]" } },
    { check_tags, "tags" },
    { check.one_of, "privacy", M.privacy },
  })
  if not ok then return nil, msg, err end
  local body = { snippet = { title = args.title, description = args.description, tags = copy_list(args.tags) } }
  if args.privacy then body.status = { privacyStatus = args.privacy } end
  local res
  res, msg, err = h:call {
    operation = op, method = "POST", url = api_url(h, "playlists"), query = { part = "snippet,status" },
    json = body, idempotent = false,
  }
  if not res then return nil, msg, err end
  local id
  id, msg, err = resource_id(op, res)
  if not id then return nil, msg, err end
  return pipeline.result(M.name, "playlist", id, "https://www.youtube.com/playlist?list=" .. id, res.json)
end

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
--   playlist_ids = {"PL..."}, channel_ids = {...}, position = 0}
-- res.object = "channel_section", res.post_location = the channel URL (when known)
function M.channel_section(h, args)
  local op = "youtube.channel_section"
  local ok, msg, err = check.all(op, args, {
    { check.text, "type", { required = true } },
    { check.one_of, "type", M.section_types },
    { check.text, "title", { max = M.limits.title, forbid = "[<>]" } },
    { check_ids, "playlist_ids" },
    { check_ids, "channel_ids" },
    { check_index, "position" },
  })
  if not ok then return nil, msg, err end
  ok, msg, err = check_section(op, args)
  if not ok then return nil, msg, err end
  local body = { snippet = { type = args.type, title = args.title, position = args.position } }
  if args.playlist_ids or args.channel_ids then
    body.contentDetails = { playlists = copy_list(args.playlist_ids), channels = copy_list(args.channel_ids) }
  end
  local res
  res, msg, err = h:call {
    operation = op, method = "POST", url = api_url(h, "channelSections"),
    query = { part = "snippet,contentDetails" }, json = body, idempotent = false,
  }
  if not res then return nil, msg, err end
  local id
  id, msg, err = resource_id(op, res)
  if not id then return nil, msg, err end
  local channel = type(res.json.snippet) == "table" and res.json.snippet.channelId
  local loc = type(channel) == "string" and channel:match("^[%w_%-]+$")
    and ("https://www.youtube.com/channel/" .. channel) or nil
  return pipeline.result(M.name, "channel_section", id, loc, res.json)
end

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

-- days since 1970-01-01 of a proleptic Gregorian date, and back
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local doy = math.floor((153 * ((m + 9) % 12) + 2) / 5) + d - 1
  return era * 146097 + yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy - 719468
end

local function year_of(days)
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  return yoe + era * 400 + (mp >= 10 and 1 or 0)
end

local function sunday(y, m, nth)   -- day number of the nth Sunday of a month
  local first = days_from_civil(y, m, 1)
  local wday = (first + 4) % 7     -- 1970-01-01 was a Thursday; 0 = Sunday
  return first + (7 - wday) % 7 + 7 * (nth - 1)
end

-- UTC offset (hours) of US Pacific time at epoch t: PDT from the second Sunday of
-- March 02:00 PST to the first Sunday of November 02:00 PDT, else PST
local function pacific_offset(t)
  local y = year_of(math.floor((t - 8 * 3600) / 86400))
  local dst_on = sunday(y, 3, 2) * 86400 + 10 * 3600
  local dst_off = sunday(y, 11, 1) * 86400 + 9 * 3600
  return (t >= dst_on and t < dst_off) and -7 or -8
end

--- Seconds from epoch `now` until the next midnight US Pacific time (YouTube quota reset).
-- syntax: seconds = youtube.quota_reset_in([now])
function M.quota_reset_in(now)
  now = now or os.time()
  local off = pacific_offset(now)
  local midnight = (math.floor((now + off * 3600) / 86400) + 1) * 86400   -- local clock
  off = pacific_offset(midnight - off * 3600)   -- a DST change may fall before it
  return midnight - off * 3600 - now
end

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
  local retry_after = pipeline.retry_after_of(res.headers)
  if not retry_after then
    if reason == "uploadLimitExceeded" then retry_after = 86400
    elseif reason == "quotaExceeded" then retry_after = M.quota_reset_in() end
  end
  return { kind = kind, code = reason or (type(e.code) == "number" and e.code or nil),
    detail = type(e.message) == "string" and e.message or nil,
    field = reason and REASON_FIELD[reason], retry_after = retry_after }
end

return M
