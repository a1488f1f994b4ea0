--- Sandbox emulation of the YouTube Data API v3 (nginx side; never socialpush.core).
--
-- Endpoints (hosts www.googleapis.com and youtube.googleapis.com):
--   POST /upload/youtube/v3/videos?uploadType=resumable&part=...   initiate (also under
--        /resumable/upload/...): 200, empty body, Location = the session URI
--   PUT  <session URI>        a chunk ("Content-Range: bytes a-b/total") -> 308 + Range, or
--        201 + the video resource on the last byte; "bytes */total" with no body is a
--        status query. Bytes are persisted in whole 256 KiB units only, like Google, and
--        written to a file in the scratch directory so the sandbox can check the digest.
--   POST /youtube/v3/playlists?part=snippet,status
--   POST /youtube/v3/playlistItems?part=snippet
--   POST /youtube/v3/channelSections?part=snippet,contentDetails   (at most 10 per channel)
--   POST /upload/youtube/v3/thumbnails/set?videoId=...              (jpeg/png, <= 2 MiB)
--   GET  /youtube/v3/videos?id=&part=   (processing ends after `processing_polls` reads by the owner)
--   GET  /youtube/v3/channels?mine=true&part=contentDetails   (relatedPlaylists.uploads = "UU…")
--   GET  /youtube/v3/playlistItems?playlistId=&part=&maxResults=&pageToken=  (UU…: uploads, newest first)
--   GET  /youtube/v3/playlists?mine=true, /youtube/v3/channelSections?mine=true
--   DELETE /youtube/v3/{videos,playlists,playlistItems,channelSections}?id=  → 204 (owner only)
-- Control (sandbox.socialpush.test, not journaled):
--   GET  /_/youtube              configuration and quota used
--   POST /_/youtube {...}        change the configuration (see DEFAULTS; reset restores it)
--   GET  /_/youtube/videos/<id>  an uploaded video: resource, bytes, sha256, thumbnail
--   DELETE /_/youtube/sessions   forget every upload session (they "expire": 404)
--
-- Credentials: "Authorization: Bearer <token>" from the accounts fixture (youtube); a
-- chunk PUT needs none (the session URI is the credential) but a bad one is refused.
-- Error bodies: {"error":{"code":N,"message":...,"errors":[{"message","domain","reason"}],
-- "status":...}}. Reasons marked [mem] below are not confirmed from stored Google
-- documentation (PROVIDERS.md 7, 10).
local oauth = require("socialpush.sandbox.oauth")

local M = {}

local G = "https://www.googleapis.com/auth/"
local READ_SCOPES = { G .. "youtube", G .. "youtube.readonly", G .. "youtube.force-ssl", G .. "youtubepartner" }

local GRAN = 262144                  -- Google persists resumable bytes in 256 KiB units
local MAX_VIDEO = 274877906944       -- Discovery mediaUpload.maxSize of videos.insert
local MAX_THUMB = 2097152            -- Discovery mediaUpload.maxSize of thumbnails.set
local HOSTS = { "www.googleapis.com", "youtube.googleapis.com" }

--- configuration (POST /_/youtube changes it; /_/reset restores these)
M.DEFAULTS = {
  videos_insert_limit = 100,   -- the separate videos.insert bucket (calls per day)
  video_insert_units = 0,      -- > 0: the older model, videos.insert costs these units instead
  units_limit = 10000,         -- daily units of every other method
  upload_limit = -1,           -- per-channel uploads before uploadLimitExceeded (-1: none)
  playlist_max_items = 5000,
  max_sections = 10,
  processing_polls = 1,        -- videos.list reads that still show a new upload processing
  duplicate_uploads = 0,       -- [guess] 1: the same bytes again on a channel end "rejected"/"duplicate"
  uploads_lag_secs = 0,        -- [guess] seconds before a new upload shows in the uploads playlist
}
local COST = 50                -- playlists/playlistItems/channelSections.insert, thumbnails.set

local SECTION_TYPES = {}
for _, t in ipairs({ "singlePlaylist", "multiplePlaylists", "popularUploads", "recentUploads",
  "likes", "allPlaylists", "likedPlaylists", "recentPosts", "recentActivity", "liveEvents",
  "upcomingEvents", "completedEvents", "multipleChannels", "postedVideos", "postedPlaylists",
  "subscriptions" }) do SECTION_TYPES[t] = true end

local PRIVACY = { public = true, private = true, unlisted = true }

local STATUS_NAME = { [400] = "INVALID_ARGUMENT", [401] = "UNAUTHENTICATED", [403] = "PERMISSION_DENIED",
  [404] = "NOT_FOUND", [413] = "FAILED_PRECONDITION", [500] = "INTERNAL" }

local ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
local LAST_CHARS = "AEIMQUYcgkosw048"   -- an 11-char video id holds 64 bits: 4 in the last char

function M.register(server)
  local state = server.state
  local accounts = server.accounts()
  local fixture = accounts.youtube
  local channel_of, channel_title, duplicate_upload, sections_key   -- defined below

  ---------------------------------------------------------------------- helpers

  local function now_iso()
    return os.date("!%Y-%m-%dT%H:%M:%SZ", ngx.time())
  end

  local function etag(s)
    return server.crypto.sha256_hex(s):sub(1, 27)
  end

  -- n id characters derived from a fresh seed
  local function new_id(n, kind)
    local seq = state.incr("yt:seq")
    local hex = server.crypto.sha256_hex(kind .. ":" .. seq .. ":" .. ngx.now() .. ":" .. math.random())
    local out = {}
    for i = 1, n do
      local byte = tonumber(hex:sub(2 * i - 1, 2 * i), 16)
      out[i] = ID_CHARS:sub(byte % 64 + 1, byte % 64 + 1)
    end
    return table.concat(out), hex
  end

  local function video_id()
    local id, hex = new_id(10, "video")
    local b = tonumber(hex:sub(63, 64), 16) % 16 + 1
    return id .. LAST_CHARS:sub(b, b)
  end

  -- Google's error body
  local function gerror(status, reason, message, domain, extra)
    local e = { message = message, domain = domain or "youtube.api", reason = reason }
    local headers
    if extra then
      e.location, e.locationType, headers = extra.location, extra.location_type, extra.headers
    end
    return server.json(status, { error = { code = status, message = message, errors = server.array({ e }),
      status = STATUS_NAME[status] or (status >= 500 and "UNAVAILABLE" or "FAILED_PRECONDITION") } }, headers)
  end

  local function drain(req)
    return req:stream(function() end)
  end

  -- the caller's token; sends 401 and returns nil when it is missing or refused
  local function authorize(req)
    local who, reason = server.auth.bearer(req, "youtube")
    if who then return who end
    if reason == "missing" then
      gerror(401, "required", "Login Required.", "global", { location = "Authorization",
        location_type = "header", headers = { ["WWW-Authenticate"] = 'Bearer realm="https://accounts.google.com/"' } })
    else
      gerror(401, "authError", "Invalid Credentials", "global", { location = "Authorization",
        location_type = "header", headers = { ["WWW-Authenticate"] =
          'Bearer realm="https://accounts.google.com/", error="invalid_token"' } })
    end
    return nil
  end

  local function config()
    local c = state.get("yt:config") or {}
    for k, v in pairs(M.DEFAULTS) do if c[k] == nil then c[k] = v end end
    return c
  end

  local function quota_error()
    return gerror(403, "quotaExceeded", "The request cannot be completed because you have exceeded your "
      .. "<a href=\"/youtube/v3/getting-started#quota\">quota</a>.", "youtube.quota")
  end

  -- charge units of the daily budget; false (and a 403 sent) when it is spent
  local function charge(units)
    local c = config()
    local used = state.get("yt:quota:units") or 0
    if used + units > c.units_limit then quota_error(); return false end
    state.incr("yt:quota:units", units)
    return true
  end

  -- videos.insert: its own bucket of calls (current model) or units (older model)
  local function charge_video()
    local c = config()
    if c.video_insert_units > 0 then return charge(c.video_insert_units) end
    local used = state.get("yt:quota:videos") or 0
    if used + 1 > c.videos_insert_limit then quota_error(); return false end
    state.incr("yt:quota:videos", 1)
    return true
  end

  -- the `part` query parameter: required, names from the allowed set
  local function parts(req, allowed)
    local p = req:args().part
    if type(p) ~= "string" or p == "" then
      gerror(400, "missingRequiredParameter", "No filter selected. Expected one of: part", "youtube.parameter",
        { location = "part", location_type = "parameter" })
      return nil
    end
    local set = {}
    for name in p:gmatch("[^,%s]+") do
      if not allowed[name] then
        gerror(400, "unexpectedPart", "The request specifies an unexpected part: " .. name, "youtube.part") -- [mem]
        return nil
      end
      set[name] = true
    end
    return set
  end

  local function utf8_len(s)
    local _, n = s:gsub("[^\128-\191]", "")
    return n
  end

  local function has_angle(s) return type(s) == "string" and s:find("[<>]") ~= nil end

  -- video/playlist snippet checks; returns reason, message on a refusal
  local function check_tags(tags)
    if tags == nil then return nil end
    if type(tags) ~= "table" then return "invalidTags", "The request metadata specifies invalid video keywords." end
    local total = 0
    for i, t in ipairs(tags) do
      if type(t) ~= "string" then return "invalidTags", "The request metadata specifies invalid video keywords." end
      total = total + utf8_len(t) + (t:find(" ", 1, true) and 2 or 0) + (i > 1 and 1 or 0)
    end
    if total > 500 then return "invalidTags", "The request metadata specifies invalid video keywords." end
    return nil
  end

  -- [mem] reason names invalidTitle / invalidDescription / invalidTags / invalidCategoryId
  local function check_video_meta(v)
    if type(v) ~= "table" or type(v.snippet) ~= "table" then
      return "invalidTitle", "The request metadata specifies an invalid or empty video title."
    end
    local s, st = v.snippet, v.status
    if type(s.title) ~= "string" or not s.title:find("%S") or utf8_len(s.title) > 100 or has_angle(s.title) then
      return "invalidTitle", "The request metadata specifies an invalid or empty video title."
    end
    if s.description ~= nil and (type(s.description) ~= "string" or #s.description > 5000
      or has_angle(s.description)) then
      return "invalidDescription", "The request metadata specifies an invalid video description."
    end
    local r, m = check_tags(s.tags)
    if r then return r, m end
    if s.categoryId ~= nil and (type(s.categoryId) ~= "string" or not s.categoryId:match("^%d+$")) then
      return "invalidCategoryId", "The snippet.categoryId property specifies an invalid category ID."
    end
    if st ~= nil and type(st) ~= "table" then return "invalidValue", "Invalid value for status." end
    if st and st.privacyStatus ~= nil and not PRIVACY[st.privacyStatus] then
      return "invalidValue", "Invalid value for status.privacyStatus."                 -- [mem]
    end
    if st and st.selfDeclaredMadeForKids ~= nil and type(st.selfDeclaredMadeForKids) ~= "boolean" then
      return "invalidValue", "Invalid value for status.selfDeclaredMadeForKids."
    end
    return nil
  end

  local function range_header(n)
    if n > 0 then return { Range = "bytes=0-" .. string.format("%d", n - 1) } end
    return nil
  end

  local function scratch(id)
    return (server.config.dir or "/tmp") .. "/tmp/youtube-upload-" .. id .. ".bin"
  end

  -- the channel of the token's account, its title
  function channel_of(who)
    return who and who.account and who.account.channel_id or fixture.channel_id
  end

  function channel_title(channel)
    if channel == nil or channel == fixture.channel_id then return server.accounts().profiles.youtube.title end
    return "another sandbox channel"
  end

  -- [guess] an earlier upload of the same bytes on the channel, when duplicate_uploads is on
  function duplicate_upload(channel, sha)
    if config().duplicate_uploads ~= 1 then return nil end
    for _, k in ipairs(state.keys("yt:video:")) do
      local v = state.get(k)
      if v and v.channel == channel and v.sha256 == sha then return v.resource.id end
    end
    return nil
  end

  local function known_video(id)
    if id == fixture.video_id then
      return { resource = { kind = "youtube#video", id = id, snippet = { title = "Sandbox video" },
        status = { uploadStatus = "processed", privacyStatus = "public" } } }
    end
    return state.get("yt:video:" .. id)
  end

  local function get_playlist(id)
    local p = state.get("yt:playlist:" .. id)
    if p == nil and id == fixture.playlist_id and not state.get("yt:playlist_gone:" .. id) then
      p = { items = 0, resource = { kind = "youtube#playlist", id = id,
        snippet = { title = "Sandbox playlist", channelId = fixture.channel_id } } }
    end
    return p
  end

  ------------------------------------------------------------- videos.insert

  local function initiate(req)
    local who = authorize(req)
    if not who then return end
    local a = req:args()
    if a.uploadType ~= "resumable" then
      -- the sandbox emulates the resumable protocol only
      return gerror(400, "badRequest", "Only uploadType=resumable is emulated by the sandbox.", "global")
    end
    local set = parts(req, { snippet = true, status = true, contentDetails = true, recordingDetails = true,
      localizations = true })
    if not set then return end
    if not charge_video() then return end
    local total = req:header("x-upload-content-length")
    if total ~= nil then
      total = total:match("^%d+$") and tonumber(total)
      if not total then return gerror(400, "badRequest", "Invalid X-Upload-Content-Length.", "global") end
      if total > MAX_VIDEO then
        return gerror(400, "badRequest", "The video exceeds the maximum size of 256 GB.", "global") -- [mem]
      end
    end
    local ctype = (req:header("x-upload-content-type") or "application/octet-stream"):lower()
    if not (ctype:match("^video/[%w%.%+%-]+$") or ctype == "application/octet-stream") then
      return gerror(400, "invalidValue", "Media type '" .. ctype .. "' is not supported.", "global") -- [mem]
    end
    local v, err = req:json(1024 * 1024)
    if type(v) ~= "table" then return gerror(400, "parseError", "Parse Error: " .. tostring(err), "global") end
    local reason, message = check_video_meta(v)
    if reason then return gerror(400, reason, message, "youtube.video") end
    local c = config()
    if c.upload_limit >= 0 then
      if (state.get("yt:uploads") or 0) >= c.upload_limit then
        return gerror(400, "uploadLimitExceeded",
          "The user has exceeded the number of videos they may upload.", "youtube.video")
      end
    end
    local id = new_id(24, "session")
    local file = scratch(id)
    local f = io.open(file, "wb")
    if not f then return server.fail(500, "cannot create " .. file) end
    f:close()
    state.set("yt:session:" .. id, { id = id, total = total, received = 0, content_type = ctype,
      meta = v, file = file, parts = req:args().part, channel = channel_of(who) })
    local loc = "https://" .. req.host .. req.path .. "?uploadType=resumable&upload_id=" .. id
      .. "&part=" .. ngx.escape_uri(a.part)
    return server.send(200, nil, { Location = loc, ["X-GUploader-UploadID"] = id })
  end

  local function file_sha256(path, size)
    local h = server.crypto.sha256()
    local f = io.open(path, "rb")
    if not f then return nil end
    local left = size
    while left > 0 do
      local s = f:read(math.min(GRAN, left))
      if not s then break end
      h:update(s)
      left = left - #s
    end
    f:close()
    if left > 0 then return nil end
    return h:final()
  end

  local function finish(s)
    local sha = file_sha256(s.file, s.total)
    if not sha then return server.fail(500, "sandbox: the assembled upload is short") end
    os.remove(s.file)
    local id = video_id()
    local sn, st = s.meta.snippet, s.meta.status or {}
    local resource = {
      kind = "youtube#video", etag = etag(id), id = id,
      snippet = { publishedAt = now_iso(), channelId = s.channel or fixture.channel_id, title = sn.title,
        description = sn.description or "", tags = sn.tags and server.array(sn.tags) or nil,
        categoryId = sn.categoryId or "22", channelTitle = channel_title(s.channel),
        liveBroadcastContent = "none",
        thumbnails = { default = { url = "https://i.ytimg.com/vi/" .. id .. "/default.jpg", width = 120,
          height = 90 } },
        localized = { title = sn.title, description = sn.description or "" } },
      status = { uploadStatus = "uploaded", privacyStatus = st.privacyStatus or "public", license = "youtube",
        embeddable = true, publicStatsViewable = true,
        selfDeclaredMadeForKids = st.selfDeclaredMadeForKids },
    }
    state.set("yt:video:" .. id, { resource = resource, bytes = s.total, sha256 = sha,
      content_type = s.content_type, session = s.id, channel = s.channel or fixture.channel_id,
      uploaded_at = ngx.now(), seq = state.incr("yt:video_seq"), polls = 0,
      duplicate_of = duplicate_upload(s.channel or fixture.channel_id, sha) })
    state.incr("yt:uploads", 1)
    s.received, s.video = s.total, id
    state.set("yt:session:" .. s.id, s)
    return server.json(201, resource)
  end

  local function finished(s)
    local v = state.get("yt:video:" .. s.video)
    return server.json(200, v and v.resource or { id = s.video })
  end

  local function chunk(req)
    local id = req:args().upload_id
    if type(id) ~= "string" then
      drain(req)
      return gerror(400, "badRequest", "Missing upload_id.", "global")
    end
    local s = state.get("yt:session:" .. id)
    if not s then
      drain(req)
      -- body shape of an expired session [mem]
      return gerror(404, "notFound", "Upload session not found or expired.", "global")
    end
    if req:header("authorization") and not server.auth.bearer(req, "youtube") then
      drain(req)
      return authorize(req)
    end
    local cr = req:header("content-range")
    if cr and cr:match("^bytes %*/") then                            -- status query
      local t = cr:match("^bytes %*/(%d+)$") or (cr == "bytes */*" and "*")
      local n = drain(req)
      if not t or (n or 0) > 0 then
        return gerror(400, "badContentRange", "Failed to parse Content-Range header.", "global")
      end
      if t ~= "*" and s.total and tonumber(t) ~= s.total then
        return gerror(400, "badContentRange", "The total size in Content-Range does not match.", "global")
      end
      if s.video then return finished(s) end
      return server.send(308, nil, range_header(s.received))
    end
    local a, b, t
    if cr then
      a, b, t = cr:match("^bytes (%d+)%-(%d+)/(%d+)$")
      if not a then
        a, b = cr:match("^bytes (%d+)%-(%d+)/%*$")
        t = "*"
      end
      if not a then
        drain(req)
        return gerror(400, "badContentRange", "Failed to parse Content-Range header.", "global")
      end
      a, b = tonumber(a), tonumber(b)
      if t ~= "*" then t = tonumber(t) end
    else                                   -- no Content-Range: the whole media at once
      local len = tonumber(req:header("content-length") or "")
      if not len or len == 0 then
        drain(req)
        return gerror(400, "badContentRange", "Content-Range or Content-Length is required.", "global")
      end
      a, b, t = 0, len - 1, len
    end
    if b < a or (t ~= "*" and (b >= t or (s.total and t ~= s.total))) then
      drain(req)
      return gerror(400, "badContentRange", "Content-Range " .. tostring(cr) .. " does not match the upload.", "global")
    end
    if t ~= "*" and not s.total then s.total = t end
    if s.video then drain(req); return finished(s) end
    if a ~= s.received then                -- out of step: say what is held
      drain(req)
      return server.send(308, nil, range_header(s.received))
    end
    local want = b - a + 1
    local f = io.open(s.file, "r+b")
    if not f then drain(req); return server.fail(500, "sandbox: upload file missing") end
    f:seek("set", a)
    local got = 0
    local n, err = req:stream(function(piece)
      if got + #piece > want then piece = piece:sub(1, want - got) end   -- never past b
      if #piece > 0 then f:write(piece) end
      got = got + #piece
    end)
    f:close()
    if not n then                          -- broken body: keep the whole units received
      s.received = math.max(s.received, math.floor((a + got) / GRAN) * GRAN)
      state.set("yt:session:" .. id, s)
      return gerror(400, "badRequest", "The request body could not be read: " .. tostring(err), "global")
    end
    if n ~= want then
      return gerror(400, "badContentRange", "Content-Range " .. tostring(cr) .. " does not match the "
        .. n .. " bytes sent.", "global")
    end
    if s.total and a + n == s.total then return finish(s) end
    s.received = math.floor((a + n) / GRAN) * GRAN   -- only whole 256 KiB units persist
    state.set("yt:session:" .. id, s)
    return server.send(308, nil, range_header(s.received))
  end

  ---------------------------------------------------------------- playlists

  local function read_body(req)
    local v, err = req:json(1024 * 1024)
    if type(v) ~= "table" then gerror(400, "parseError", "Parse Error: " .. tostring(err), "global") end
    return type(v) == "table" and v or nil
  end

  local function playlist_insert(req)
    local who = authorize(req)
    if not who then return end
    if not parts(req, { snippet = true, status = true, contentDetails = true, localizations = true }) then return end
    if not charge(COST) then return end
    local v = read_body(req)
    if not v then return end
    local s = v.snippet
    if type(s) ~= "table" or type(s.title) ~= "string" or not s.title:find("%S") then
      return gerror(400, "playlistTitleRequired", "The request must specify a playlist title.", -- [mem]
        "youtube.playlist")
    end
    if utf8_len(s.title) > 150 or has_angle(s.title)
      or (s.description ~= nil and (type(s.description) ~= "string" or #s.description > 5000
        or has_angle(s.description))) or check_tags(s.tags) then
      return gerror(400, "invalidPlaylistSnippet", "The request provides an invalid playlist snippet.",
        "youtube.playlist")                                                                          -- [mem]
    end
    local st = v.status
    if st ~= nil and (type(st) ~= "table" or (st.privacyStatus ~= nil and not PRIVACY[st.privacyStatus])) then
      return gerror(400, "invalidValue", "Invalid value for status.privacyStatus.", "youtube.playlist") -- [mem]
    end
    local id = "PL" .. new_id(32, "playlist")
    local resource = { kind = "youtube#playlist", etag = etag(id), id = id,
      snippet = { publishedAt = now_iso(), channelId = channel_of(who), title = s.title,
        description = s.description or "", tags = s.tags and server.array(s.tags) or nil,
        channelTitle = channel_title(channel_of(who)),
        localized = { title = s.title, description = s.description or "" } },
      status = { privacyStatus = st and st.privacyStatus or "public" } }
    state.set("yt:playlist:" .. id, { items = 0, resource = resource, channel = channel_of(who),
      seq = state.incr("yt:playlist_seq") })
    return server.json(200, resource)
  end

  local function playlist_item_insert(req)
    local who = authorize(req)
    if not who then return end
    if not parts(req, { snippet = true, contentDetails = true, status = true }) then return end
    if not charge(COST) then return end
    local v = read_body(req)
    if not v then return end
    local s = v.snippet
    if type(s) ~= "table" or type(s.playlistId) ~= "string" or s.playlistId == "" then
      return gerror(400, "playlistIdRequired", "The request does not specify a playlist ID.",
        "youtube.playlistItem")                                                                      -- [mem]
    end
    local r = s.resourceId
    if type(r) ~= "table" or r.kind ~= "youtube#video" or type(r.videoId) ~= "string" then
      return gerror(400, "invalidResourceType", "The type ID specified in snippet.resourceId.kind is not "
        .. "supported.", "youtube.playlistItem")                                                     -- [mem]
    end
    local p = get_playlist(s.playlistId)
    if not p then
      return gerror(404, "playlistNotFound", "The playlist identified with the request's "
        .. "<code>playlistId</code> parameter cannot be found.", "youtube.playlistItem")
    end
    local video = known_video(r.videoId)
    if not video then
      return gerror(404, "videoNotFound", "Video not found.", "youtube.playlistItem")
    end
    if p.items >= config().playlist_max_items then
      return gerror(403, "playlistContainsMaximumNumberOfVideos", "The playlist already contains the maximum "
        .. "allowed number of items.", "youtube.playlistItem")                                       -- [mem]
    end
    local pos = s.position
    if pos ~= nil and (type(pos) ~= "number" or pos < 0 or pos % 1 ~= 0 or pos > p.items) then
      return gerror(400, "invalidPlaylistItemPosition", "The request attempts to set the playlist item's "
        .. "position to an invalid or unsupported value.", "youtube.playlistItem")                   -- [mem]
    end
    local id = ngx.encode_base64(s.playlistId .. "." .. new_id(16, "item")):gsub("[+/=]", "")
    local resource = { kind = "youtube#playlistItem", etag = etag(id), id = id,
      snippet = { publishedAt = now_iso(), channelId = channel_of(who), title = video.resource.snippet.title,
        description = "", channelTitle = channel_title(channel_of(who)), playlistId = s.playlistId,
        position = pos or p.items, resourceId = { kind = "youtube#video", videoId = r.videoId },
        videoOwnerChannelId = video.channel or fixture.channel_id },
      contentDetails = { videoId = r.videoId, videoPublishedAt = video.resource.snippet.publishedAt } }
    p.items = p.items + 1
    state.set("yt:playlist:" .. s.playlistId, p)
    state.set("yt:playlistItem:" .. id, resource)
    local order = state.get("yt:plitems:" .. s.playlistId) or {}   -- item ids in playlist order
    table.insert(order, math.min((pos or #order) + 1, #order + 1), id)
    state.set("yt:plitems:" .. s.playlistId, order)
    return server.json(200, resource)
  end

  ----------------------------------------------------------- channelSections

  -- [mem] reason names of channelSections.insert
  local function check_section(s, cd)
    if type(s) ~= "table" then return "snippetNeeded", "The snippet is required." end
    if s.type == nil then return "typeRequired", "The snippet.type is required." end
    if not SECTION_TYPES[s.type] then return "invalidValue", "Invalid value for snippet.type." end
    local playlists = type(cd) == "table" and cd.playlists or nil
    local channels = type(cd) == "table" and cd.channels or nil
    local np = type(playlists) == "table" and #playlists or 0
    local nc = type(channels) == "table" and #channels or 0
    if s.type == "singlePlaylist" and np ~= 1 then
      return "onePlaylistNeeded", "A singlePlaylist section must have exactly one playlist."
    elseif s.type == "multiplePlaylists" and np == 0 then
      return "playlistsNeeded", "A multiplePlaylists section must have at least one playlist."
    elseif s.type ~= "singlePlaylist" and s.type ~= "multiplePlaylists" and np > 0 then
      return "playlistsNotExpected", "This section type cannot have playlists."
    elseif s.type == "multipleChannels" and nc == 0 then
      return "channelsNeeded", "A multipleChannels section must have at least one channel."
    elseif s.type ~= "multipleChannels" and nc > 0 then
      return "channelsNotExpected", "This section type cannot have channels."
    end
    local seen = {}
    for _, p in ipairs(type(playlists) == "table" and playlists or {}) do
      if seen[p] then return "playlistsDuplicated", "The playlists are duplicated." end
      seen[p] = true
    end
    if (s.type == "multiplePlaylists" or s.type == "multipleChannels")
      and (type(s.title) ~= "string" or not s.title:find("%S")) then
      return "titleRequired", "A multiplePlaylists or multipleChannels section needs a title."
    end
    if s.title ~= nil and (type(s.title) ~= "string" or utf8_len(s.title) > 100) then
      return "titleLengthExceeded", "The title is too long."
    end
    return nil
  end

  -- the list of a channel's section ids in position order (the fixture channel's keeps its old key)
  function sections_key(channel)
    if channel == fixture.channel_id then return "yt:sections" end
    return "yt:sections:" .. channel
  end

  local function section_insert(req)
    local who = authorize(req)
    if not who then return end
    if not parts(req, { snippet = true, contentDetails = true, targeting = true }) then return end
    if not charge(COST) then return end
    local v = read_body(req)
    if not v then return end
    local s, cd = v.snippet, v.contentDetails
    local reason, message = check_section(s, cd)
    if reason then return gerror(400, reason, message, "youtube.channelSection") end
    for _, p in ipairs(type(cd) == "table" and type(cd.playlists) == "table" and cd.playlists or {}) do
      if type(p) ~= "string" or not get_playlist(p) then
        return gerror(404, "playlistNotFound", "A playlist in contentDetails.playlists cannot be found.",
          "youtube.channelSection")
      end
    end
    local channel = channel_of(who)
    local list = state.get(sections_key(channel)) or {}
    if #list >= config().max_sections then
      return gerror(400, "maxChannelSectionExceeded", "The request cannot be completed because the channel "
        .. "already has the maximum number of channel sections.", "youtube.channelSection")
    end
    local pos = s.position
    if pos ~= nil and (type(pos) ~= "number" or pos < 0 or pos % 1 ~= 0 or pos > #list) then
      return gerror(400, "inValidPosition", "Invalid position.", "youtube.channelSection")             -- [mem]
    end
    local id = channel .. "." .. new_id(22, "section")
    local resource = { kind = "youtube#channelSection", etag = etag(id), id = id,
      snippet = { type = s.type, channelId = channel, title = s.title, position = pos or #list },
      contentDetails = type(cd) == "table" and {
        playlists = type(cd.playlists) == "table" and server.array(cd.playlists) or nil,
        channels = type(cd.channels) == "table" and server.array(cd.channels) or nil } or nil }
    table.insert(list, (pos or #list) + 1, id)
    state.set(sections_key(channel), list)
    state.set("yt:section:" .. id, resource)
    return server.json(200, resource)
  end

  --------------------------------------------------------------- thumbnails

  local function thumbnail_set(req)
    if not authorize(req) then return end
    local vid = req:args().videoId
    if type(vid) ~= "string" or vid == "" then
      return gerror(400, "missingRequiredParameter", "Required parameter: videoId", "global",
        { location = "videoId", location_type = "parameter" })
    end
    if not charge(COST) then return end
    local rec = state.get("yt:video:" .. vid)
    if not rec and vid ~= fixture.video_id then
      return gerror(404, "videoNotFound", "The video that you are trying to update cannot be found.",
        "youtube.thumbnail")
    end
    local ct = req:content_type() or ""
    local head, size = "", 0
    local n = req:stream(function(piece)
      if #head < 16 then head = head .. piece:sub(1, 16 - #head) end
      size = size + #piece
    end)
    if not n or n == 0 then
      return gerror(400, "mediaBodyRequired", "The request does not include the image content.",
        "youtube.thumbnail")                                                                         -- [mem]
    end
    if n > MAX_THUMB then
      return gerror(413, "mediaTooLarge", "The thumbnail exceeds the maximum size of 2 MB.", "global") -- [mem]
    end
    local png, jpeg = head:sub(1, 8) == "\137PNG\r\n\26\n", head:sub(1, 3) == "\255\216\255"
    local ok = (ct == "image/png" and png) or (ct == "image/jpeg" and jpeg)
      or (ct == "application/octet-stream" and (png or jpeg))
    if not ok then
      return gerror(400, "invalidImage", "The provided image content is invalid.", "youtube.thumbnail") -- [mem]
    end
    if rec then
      rec.thumbnail = { bytes = n, sha256 = req.body_sha256, content_type = ct }
      state.set("yt:video:" .. vid, rec)
    end
    local base = "https://i.ytimg.com/vi/" .. vid .. "/"
    return server.json(200, { kind = "youtube#thumbnailSetResponse", etag = etag(vid .. n),
      items = server.array({ { default = { url = base .. "default.jpg", width = 120, height = 90 },
        medium = { url = base .. "mqdefault.jpg", width = 320, height = 180 },
        high = { url = base .. "hqdefault.jpg", width = 480, height = 360 } } }) })
  end

  ------------------------------------------------------------ lists, delete
  -- videos.list, channels.list, playlistItems.list (the uploads playlist "UU…" lists the
  -- channel's uploads newest first), playlists.list, channelSections.list: 1 unit each;
  -- videos/playlists/playlistItems/channelSections.delete: 50 units, 204 No Content.

  local READ_COST, DELETE_COST = 1, 50
  local UPLOADS_PREFIX = "UU"

  local function known_channel(id)
    local other = accounts.other and accounts.other.youtube
    return id == fixture.channel_id or (other ~= nil and id == other.channel_id)
  end

  -- "UC…" channel id → "UU…" uploads playlist id, and back
  local function uploads_of(channel) return UPLOADS_PREFIX .. channel:sub(3) end
  local function channel_of_uploads(pl)
    if pl:sub(1, 2) ~= UPLOADS_PREFIX then return nil end
    local ch = "UC" .. pl:sub(3)
    return known_channel(ch) and ch or nil
  end

  -- a resource with only the requested parts (id, kind and etag always)
  local function with_parts(r, set)
    local out = { kind = r.kind, etag = r.etag, id = r.id }
    for name in pairs(set) do
      if name ~= "id" and r[name] ~= nil then out[name] = r[name] end
    end
    return out
  end

  -- the comma list of a query parameter (id=a,b or repeated id=)
  local function ids_of(v)
    if v == nil then return nil end
    if type(v) == "table" then v = table.concat(v, ",") end
    local out = {}
    for x in tostring(v):gmatch("[^,%s]+") do out[#out + 1] = x end
    return out
  end

  -- maxResults (0..50, default 5) and pageToken (an offset); nil after answering 400
  local function paging(req)
    local a = req:args()
    local max = tonumber(a.maxResults or "5")
    if not max or max % 1 ~= 0 or max < 0 or max > 50 then
      gerror(400, "invalidParameter", "Invalid value '" .. tostring(a.maxResults) .. "'. Values must be within the"
        .. " range: [0, 50]", "global", { location = "maxResults", location_type = "parameter" })
      return nil
    end
    local offset = 0
    if a.pageToken ~= nil and a.pageToken ~= "" then
      local t = type(a.pageToken) == "string" and a.pageToken:gsub("%-", "+"):gsub("_", "/")
      local raw = t and ngx.decode_base64(t .. ("="):rep((4 - #t % 4) % 4))
      offset = raw and tonumber(raw:match("^sbx:(%d+)$") or "")
      if not offset then
        gerror(400, "invalidPageToken", "The request specifies an invalid page token.", "youtube.parameter",
          { location = "pageToken", location_type = "parameter" })                                    -- [mem]
        return nil
      end
    end
    return max, offset
  end

  local function page_token(offset)
    return (ngx.encode_base64("sbx:" .. offset):gsub("%+", "-"):gsub("/", "_"):gsub("=", ""))
  end

  -- a list response of items[offset+1 .. offset+max]
  local function list_response(kind, all, max, offset)
    local items = server.array()
    for i = offset + 1, math.min(#all, offset + max) do items[#items + 1] = all[i] end
    local out = { kind = kind, etag = etag(kind .. #all .. ":" .. offset .. ":" .. (items[1] and items[1].id or "")),
      items = items, pageInfo = { totalResults = #all, resultsPerPage = max } }
    if offset + max < #all and max > 0 then out.nextPageToken = page_token(offset + max) end
    if offset > 0 then out.prevPageToken = page_token(math.max(0, offset - max)) end
    return out
  end

  -- the video resource of a stored upload, moving its processing on by one read
  local function video_resource(id, owner)
    local rec = state.get("yt:video:" .. id)
    if not rec then
      local k = known_video(id)
      return k and k.resource
    end
    local r = rec.resource
    local done = rec.polls >= config().processing_polls
    if owner then
      rec.polls = rec.polls + 1
      state.set("yt:video:" .. id, rec)
    end
    if done then
      if rec.duplicate_of then
        r.status.uploadStatus, r.status.rejectionReason = "rejected", "duplicate"
      else
        r.status.uploadStatus = "processed"
      end
      r.processingDetails = { processingStatus = "succeeded", fileDetailsAvailability = "available",
        processingIssuesAvailability = "available", tagSuggestionsAvailability = "available",
        editorSuggestionsAvailability = "available", thumbnailsAvailability = "available" }
    else
      r.processingDetails = { processingStatus = "processing",
        processingProgress = { partsTotal = 1000, partsProcessed = 500, timeLeftMs = 1000 } }
    end
    r.contentDetails = { duration = "PT10S", dimension = "2d", definition = "sd", caption = "false",
      licensedContent = false, projection = "rectangular" }                                       -- sandbox
    if owner then
      r.fileDetails = { fileSize = tostring(rec.bytes), fileType = "video", container = "mov" }
    end
    r.statistics = { viewCount = "0", likeCount = "0", favoriteCount = "0", commentCount = "0" }
    return r, rec
  end

  local VIDEO_PARTS = { id = true, snippet = true, status = true, contentDetails = true, processingDetails = true,
    fileDetails = true, statistics = true, player = true, topicDetails = true, recordingDetails = true,
    liveStreamingDetails = true, localizations = true, suggestions = true, paidProductPlacementDetails = true }
  local OWNER_PARTS = { processingDetails = true, fileDetails = true, suggestions = true }

  -- GET videos?id=a,b&part=...: the videos found (unknown and others' private ones are left out)
  local function videos_list(req)
    local who = authorize(req)
    if not who then return end
    local set = parts(req, VIDEO_PARTS)
    if not set then return end
    local ids = ids_of(req:args().id)
    if not ids then
      return gerror(400, "missingRequiredParameter", "No filter selected. Expected one of: myRating, chart, id",
        "youtube.parameter")
    end
    if not charge(READ_COST) then return end
    local mine = channel_of(who)
    local items = server.array()
    for _, id in ipairs(ids) do
      local rec = state.get("yt:video:" .. id)
      local owner = rec ~= nil and rec.channel == mine
      local r = video_resource(id, owner)
      if r and (owner or not r.status or r.status.privacyStatus ~= "private") then
        local out = with_parts(r, set)
        if not owner then for name in pairs(OWNER_PARTS) do out[name] = nil end end
        items[#items + 1] = out
      end
    end
    return server.json(200, { kind = "youtube#videoListResponse", etag = etag("videos" .. #items),
      items = items, pageInfo = { totalResults = #items, resultsPerPage = #items } })
  end

  -- GET channels?part=...&mine=true | id= (also the identity call of the Google token flow:
  -- issued tokens need a read scope; youtube.upload alone → 403 insufficientPermissions [doc])
  local function channels_list(req)
    local who = authorize(req)
    if not who then return end
    if not oauth.has_any_scope(who, READ_SCOPES) then
      return gerror(403, "insufficientPermissions", "Request had insufficient authentication scopes.", "global")
    end
    local set = parts(req, { id = true, snippet = true, contentDetails = true, statistics = true, status = true,
      brandingSettings = true, localizations = true, topicDetails = true, auditDetails = true,
      contentOwnerDetails = true })
    if not set then return end
    local a = req:args()
    local ids = (a.mine == "true" or a.mine == true) and { channel_of(who) } or ids_of(a.id)
    if not ids then
      return gerror(400, "missingRequiredParameter", "No filter selected. Expected one of: forUsername, mine,"
        .. " managedByMe, categoryId, mySubscribers, forHandle, id", "youtube.parameter")
    end
    if not charge(READ_COST) then return end
    local items = server.array()
    for _, id in ipairs(ids) do
      if known_channel(id) then
        local n = 0
        for _, k in ipairs(state.keys("yt:video:")) do
          local v = state.get(k)
          if v and v.channel == id then n = n + 1 end
        end
        items[#items + 1] = with_parts({ kind = "youtube#channel", etag = etag(id .. n), id = id,
          snippet = { title = channel_title(id), description = "", customUrl = "@" .. id:lower(),
            publishedAt = "2020-01-01T00:00:00Z" },
          contentDetails = { relatedPlaylists = { likes = "LL", uploads = uploads_of(id) } },
          statistics = { viewCount = "0", subscriberCount = "0", hiddenSubscriberCount = false,
            videoCount = tostring(n) },
          status = { privacyStatus = "public", isLinked = true, longUploadsStatus = "allowed" } }, set)
      end
    end
    return server.json(200, { kind = "youtube#channelListResponse", etag = etag("channels" .. #items),
      items = items, pageInfo = { totalResults = #items, resultsPerPage = 5 } })
  end

  -- the uploads playlist of a channel as playlist items, newest first
  local function upload_items(channel, viewer)
    local vids = {}
    local lag = config().uploads_lag_secs
    for _, k in ipairs(state.keys("yt:video:")) do
      local v = state.get(k)
      if v and v.channel == channel and ngx.now() - (v.uploaded_at or 0) >= lag
        and (viewer == channel or v.resource.status.privacyStatus ~= "private") then
        vids[#vids + 1] = v
      end
    end
    table.sort(vids, function(x, y) return (x.seq or 0) > (y.seq or 0) end)   -- upload order, newest first
    local pl = uploads_of(channel)
    local out = {}
    for i, v in ipairs(vids) do
      local sn = v.resource.snippet
      local id = (ngx.encode_base64(pl .. "." .. v.resource.id):gsub("[+/=]", ""))
      out[i] = { kind = "youtube#playlistItem", etag = etag(id), id = id,
        snippet = { publishedAt = sn.publishedAt, channelId = channel, title = sn.title, description = sn.description,
          thumbnails = sn.thumbnails, channelTitle = sn.channelTitle, playlistId = pl, position = i - 1,
          resourceId = { kind = "youtube#video", videoId = v.resource.id }, videoOwnerChannelTitle = sn.channelTitle,
          videoOwnerChannelId = channel },
        contentDetails = { videoId = v.resource.id, videoPublishedAt = sn.publishedAt },
        status = { privacyStatus = v.resource.status.privacyStatus } }
    end
    return out
  end

  -- the items of an ordinary playlist in playlist order (positions recomputed)
  local function playlist_items(pl)
    local out = {}
    for _, id in ipairs(state.get("yt:plitems:" .. pl) or {}) do
      local r = state.get("yt:playlistItem:" .. id)
      if r then
        r.snippet.position = #out
        r.status = r.status or { privacyStatus = "public" }
        out[#out + 1] = r
      end
    end
    return out
  end

  -- GET playlistItems?playlistId=|id=&part=...&maxResults=&pageToken=
  local function playlist_items_list(req)
    local who = authorize(req)
    if not who then return end
    local set = parts(req, { id = true, snippet = true, contentDetails = true, status = true })
    if not set then return end
    local max, offset = paging(req)
    if not max then return end
    local a = req:args()
    local all
    if a.playlistId ~= nil then
      local pl = tostring(a.playlistId)
      local ch = channel_of_uploads(pl)
      if ch then
        all = upload_items(ch, channel_of(who))
      elseif get_playlist(pl) then
        all = playlist_items(pl)
      else
        return gerror(404, "playlistNotFound", "The playlist identified with the request's <code>playlistId</code>"
          .. " parameter cannot be found.", "youtube.playlistItem", { location = "playlistId",
          location_type = "parameter" })
      end
    elseif a.id ~= nil then
      all = {}
      for _, id in ipairs(ids_of(a.id)) do
        local r = state.get("yt:playlistItem:" .. id)
        if r then all[#all + 1] = r end
      end
    else
      return gerror(400, "missingRequiredParameter", "No filter selected. Expected one of: playlistId, id",
        "youtube.parameter")
    end
    if not charge(READ_COST) then return end
    if a.videoId ~= nil then
      local kept = {}
      for _, r in ipairs(all) do if r.snippet.resourceId.videoId == a.videoId then kept[#kept + 1] = r end end
      all = kept
    end
    local shown = {}
    for i, r in ipairs(all) do shown[i] = with_parts(r, set) end
    return server.json(200, list_response("youtube#playlistItemListResponse", shown, max, offset))
  end

  -- a stored (or the fixture) playlist's resource with contentDetails.itemCount
  local function playlist_resource(id, p)
    local r = p.resource
    r.etag = r.etag or etag(id)
    r.status = r.status or { privacyStatus = "public" }
    r.contentDetails = { itemCount = #playlist_items(id) }
    return r
  end

  -- GET playlists?mine=true|channelId=|id=&part=...: newest first ([guess]: the order is undocumented)
  local function playlists_list(req)
    local who = authorize(req)
    if not who then return end
    local set = parts(req, { id = true, snippet = true, status = true, contentDetails = true, player = true,
      localizations = true })
    if not set then return end
    local max, offset = paging(req)
    if not max then return end
    local a = req:args()
    local mine = channel_of(who)
    local list = {}
    if a.id ~= nil then
      for _, id in ipairs(ids_of(a.id)) do
        local p = get_playlist(id)
        if p then list[#list + 1] = { id = id, p = p, seq = p.seq or 0 } end
      end
    else
      local ch = (a.mine == "true" or a.mine == true) and mine or a.channelId
      if type(ch) ~= "string" then
        return gerror(400, "missingRequiredParameter", "No filter selected. Expected one of: channelId, id, mine",
          "youtube.parameter")
      end
      for _, k in ipairs(state.keys("yt:playlist:")) do
        local p = state.get(k)
        if p and (p.channel or fixture.channel_id) == ch then
          list[#list + 1] = { id = p.resource.id, p = p, seq = p.seq or 0 }
        end
      end
      local seededp = not state.get("yt:playlist:" .. fixture.playlist_id) and get_playlist(fixture.playlist_id)
      if ch == fixture.channel_id and seededp then
        list[#list + 1] = { id = fixture.playlist_id, p = seededp, seq = 0 }
      end
    end
    if not charge(READ_COST) then return end
    table.sort(list, function(x, y) return x.seq > y.seq end)
    local all = {}
    for _, e in ipairs(list) do
      local r = playlist_resource(e.id, e.p)
      if (e.p.channel or fixture.channel_id) == mine or r.status.privacyStatus ~= "private" then
        all[#all + 1] = with_parts(r, set)
      end
    end
    return server.json(200, list_response("youtube#playlistListResponse", all, max, offset))
  end

  -- GET channelSections?mine=true|channelId=|id=&part=...: position order, no paging
  local function sections_list(req)
    local who = authorize(req)
    if not who then return end
    local set = parts(req, { id = true, snippet = true, contentDetails = true, targeting = true,
      localizations = true })
    if not set then return end
    local a = req:args()
    local ids
    if a.id ~= nil then
      ids = ids_of(a.id)
    else
      local ch = (a.mine == "true" or a.mine == true) and channel_of(who) or a.channelId
      if type(ch) ~= "string" then
        return gerror(400, "missingRequiredParameter", "No filter selected. Expected one of: channelId, id, mine",
          "youtube.parameter")
      end
      ids = state.get(sections_key(ch)) or {}
    end
    if not charge(READ_COST) then return end
    local items = server.array()
    for _, id in ipairs(ids) do
      local r = state.get("yt:section:" .. id)
      if r then
        local list = state.get(sections_key(r.snippet.channelId)) or {}
        for i, x in ipairs(list) do if x == id then r.snippet.position = i - 1 end end
        items[#items + 1] = with_parts(r, set)
      end
    end
    return server.json(200, { kind = "youtube#channelSectionListResponse", etag = etag("sections" .. #items),
      items = items })
  end

  -- the `id` of a delete; nil after answering 400
  local function delete_id(req)
    local id = req:args().id
    if type(id) ~= "string" or id == "" then
      gerror(400, "missingRequiredParameter", "Required parameter: id", "global",
        { location = "id", location_type = "parameter" })
      return nil
    end
    return id
  end

  -- [mem] the reason names and messages of the four deletes
  local function videos_delete(req)
    local who = authorize(req)
    if not who then return end
    local id = delete_id(req)
    if not id then return end
    if not charge(DELETE_COST) then return end
    local rec = state.get("yt:video:" .. id)
    if not rec then
      if known_video(id) then
        return gerror(403, "forbidden", "The video that you are trying to delete cannot be deleted. The request"
          .. " might not be properly authorized.", "youtube.video")
      end
      return gerror(404, "videoNotFound", "The video that you are trying to delete cannot be found.",
        "youtube.video", { location = "id", location_type = "parameter" })
    end
    if rec.channel ~= channel_of(who) then
      return gerror(403, "forbidden", "The video that you are trying to delete cannot be deleted. The request"
        .. " might not be properly authorized.", "youtube.video")
    end
    state.delete("yt:video:" .. id)
    return server.send(204, nil)
  end

  local function playlists_delete(req)
    local who = authorize(req)
    if not who then return end
    local id = delete_id(req)
    if not id then return end
    if not charge(DELETE_COST) then return end
    local p = get_playlist(id)
    if not p or channel_of_uploads(id) then
      return gerror(404, "playlistNotFound", "The playlist identified with the request's <code>id</code> parameter"
        .. " cannot be found.", "youtube.playlist", { location = "id", location_type = "parameter" })
    end
    if (p.channel or fixture.channel_id) ~= channel_of(who) then
      return gerror(403, "playlistForbidden", "This operation is forbidden or the request is not properly"
        .. " authorized.", "youtube.playlist")
    end
    for _, item in ipairs(state.get("yt:plitems:" .. id) or {}) do state.delete("yt:playlistItem:" .. item) end
    state.delete("yt:plitems:" .. id)
    state.delete("yt:playlist:" .. id)
    if id == fixture.playlist_id then state.set("yt:playlist_gone:" .. id, true) end
    return server.send(204, nil)
  end

  local function playlist_items_delete(req)
    local who = authorize(req)
    if not who then return end
    local id = delete_id(req)
    if not id then return end
    if not charge(DELETE_COST) then return end
    local r = state.get("yt:playlistItem:" .. id)
    if not r then
      return gerror(404, "playlistItemNotFound", "The playlist item identified with the request's <code>id</code>"
        .. " parameter cannot be found.", "youtube.playlistItem", { location = "id", location_type = "parameter" })
    end
    local pl = r.snippet.playlistId
    local p = get_playlist(pl)
    if (p and p.channel or fixture.channel_id) ~= channel_of(who) then
      return gerror(403, "playlistItemsNotAccessible", "The request is not properly authorized to delete the"
        .. " specified playlist item.", "youtube.playlistItem")
    end
    state.delete("yt:playlistItem:" .. id)
    local order = state.get("yt:plitems:" .. pl) or {}
    for i, x in ipairs(order) do if x == id then table.remove(order, i) break end end
    state.set("yt:plitems:" .. pl, order)
    if p then
      p.items = math.max(0, (p.items or 1) - 1)
      state.set("yt:playlist:" .. pl, p)
    end
    return server.send(204, nil)
  end

  local function sections_delete(req)
    local who = authorize(req)
    if not who then return end
    local id = delete_id(req)
    if not id then return end
    if not charge(DELETE_COST) then return end
    local r = state.get("yt:section:" .. id)
    if not r then
      return gerror(404, "channelSectionNotFound", "The channel section that you are trying to delete cannot be"
        .. " found.", "youtube.channelSection", { location = "id", location_type = "parameter" })
    end
    local ch = r.snippet.channelId
    if ch ~= channel_of(who) then
      return gerror(403, "channelSectionForbidden", "The request is not properly authenticated or not supported"
        .. " for this channel.", "youtube.channelSection")
    end
    state.delete("yt:section:" .. id)
    local list = state.get(sections_key(ch)) or {}
    for i, x in ipairs(list) do if x == id then table.remove(list, i) break end end
    state.set(sections_key(ch), list)
    return server.send(204, nil)
  end

  ------------------------------------------------------------------ routes

  for _, prefix in ipairs({ "/upload", "/resumable/upload" }) do
    server.route(HOSTS, "POST", prefix .. "/youtube/v3/videos", initiate)
    server.route(HOSTS, "PUT", prefix .. "/youtube/v3/videos", chunk, { stream = true })
  end
  server.route(HOSTS, "POST", "/youtube/v3/playlists", playlist_insert)
  server.route(HOSTS, "POST", "/youtube/v3/playlistItems", playlist_item_insert)
  server.route(HOSTS, "POST", "/youtube/v3/channelSections", section_insert)
  server.route(HOSTS, "GET", "/youtube/v3/videos", videos_list)
  server.route(HOSTS, "DELETE", "/youtube/v3/videos", videos_delete)
  server.route(HOSTS, "GET", "/youtube/v3/channels", channels_list)
  server.route(HOSTS, "GET", "/youtube/v3/playlistItems", playlist_items_list)
  server.route(HOSTS, "DELETE", "/youtube/v3/playlistItems", playlist_items_delete)
  server.route(HOSTS, "GET", "/youtube/v3/playlists", playlists_list)
  server.route(HOSTS, "DELETE", "/youtube/v3/playlists", playlists_delete)
  server.route(HOSTS, "GET", "/youtube/v3/channelSections", sections_list)
  server.route(HOSTS, "DELETE", "/youtube/v3/channelSections", sections_delete)
  -- thumbnails are small: the body is read (spooled to a file when large) before the handler
  server.route(HOSTS, "POST", "/upload/youtube/v3/thumbnails/set", thumbnail_set)

  local H = server.CONTROL_HOST
  local function status()
    return { config = config(), used = { videos_insert = state.get("yt:quota:videos") or 0,
      units = state.get("yt:quota:units") or 0, uploads = state.get("yt:uploads") or 0,
      sections = #(state.get("yt:sections") or {}) } }
  end
  server.route(H, "GET", "/_/youtube", function() return server.json(200, status()) end)
  server.route(H, "POST", "/_/youtube", function(req)
    local v, err = req:json(65536)
    if type(v) ~= "table" then return server.fail(400, err or "expected a JSON object") end
    local c = config()
    for k, x in pairs(v) do
      if M.DEFAULTS[k] == nil or type(x) ~= "number" or x % 1 ~= 0 then
        return server.fail(400, "bad youtube setting " .. tostring(k))
      end
      c[k] = x
    end
    state.set("yt:config", c)
    return server.json(200, status())
  end)
  server.route(H, "GET", "/_/youtube/videos/([%w_%-]+)", function(_, id)
    local v = state.get("yt:video:" .. id)
    if not v then return server.fail(404, "no sandbox video " .. id) end
    return server.json(200, v)
  end)
  server.route(H, "DELETE", "/_/youtube/sessions", function()
    local n = 0
    for _, k in ipairs(state.keys("yt:session:")) do
      local s = state.get(k)
      if s and s.file then os.remove(s.file) end
      state.delete(k)
      n = n + 1
    end
    return server.json(200, { expired = n })
  end)
end

return M
