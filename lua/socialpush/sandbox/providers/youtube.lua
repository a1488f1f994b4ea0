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
local M = {}

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

  local function known_video(id)
    if id == fixture.video_id then return { resource = { id = id, snippet = { title = "Sandbox video" } } } end
    return state.get("yt:video:" .. id)
  end

  local function get_playlist(id)
    local p = state.get("yt:playlist:" .. id)
    if p == nil and id == fixture.playlist_id then
      p = { items = 0, resource = { kind = "youtube#playlist", id = id,
        snippet = { title = "Sandbox playlist", channelId = fixture.channel_id } } }
    end
    return p
  end

  ------------------------------------------------------------- videos.insert

  local function initiate(req)
    if not authorize(req) then return end
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
      meta = v, file = file, parts = req:args().part })
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
      snippet = { publishedAt = now_iso(), channelId = fixture.channel_id, title = sn.title,
        description = sn.description or "", tags = sn.tags and server.array(sn.tags) or nil,
        categoryId = sn.categoryId or "22", channelTitle = "socialpush sandbox",
        liveBroadcastContent = "none",
        thumbnails = { default = { url = "https://i.ytimg.com/vi/" .. id .. "/default.jpg", width = 120,
          height = 90 } },
        localized = { title = sn.title, description = sn.description or "" } },
      status = { uploadStatus = "uploaded", privacyStatus = st.privacyStatus or "public", license = "youtube",
        embeddable = true, publicStatsViewable = true,
        selfDeclaredMadeForKids = st.selfDeclaredMadeForKids },
    }
    state.set("yt:video:" .. id, { resource = resource, bytes = s.total, sha256 = sha,
      content_type = s.content_type, session = s.id })
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
    if not authorize(req) then return end
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
      snippet = { publishedAt = now_iso(), channelId = fixture.channel_id, title = s.title,
        description = s.description or "", tags = s.tags and server.array(s.tags) or nil,
        channelTitle = "socialpush sandbox", localized = { title = s.title, description = s.description or "" } },
      status = { privacyStatus = st and st.privacyStatus or "public" } }
    state.set("yt:playlist:" .. id, { items = 0, resource = resource })
    return server.json(200, resource)
  end

  local function playlist_item_insert(req)
    if not authorize(req) then return end
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
      snippet = { publishedAt = now_iso(), channelId = fixture.channel_id, title = video.resource.snippet.title,
        description = "", channelTitle = "socialpush sandbox", playlistId = s.playlistId,
        position = pos or p.items, resourceId = { kind = "youtube#video", videoId = r.videoId },
        videoOwnerChannelId = fixture.channel_id } }
    p.items = p.items + 1
    state.set("yt:playlist:" .. s.playlistId, p)
    state.set("yt:playlistItem:" .. id, resource)
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

  local function section_insert(req)
    if not authorize(req) then return end
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
    local list = state.get("yt:sections") or {}
    if #list >= config().max_sections then
      return gerror(400, "maxChannelSectionExceeded", "The request cannot be completed because the channel "
        .. "already has the maximum number of channel sections.", "youtube.channelSection")
    end
    local pos = s.position
    if pos ~= nil and (type(pos) ~= "number" or pos < 0 or pos % 1 ~= 0 or pos > #list) then
      return gerror(400, "inValidPosition", "Invalid position.", "youtube.channelSection")             -- [mem]
    end
    local id = fixture.channel_id .. "." .. new_id(22, "section")
    local resource = { kind = "youtube#channelSection", etag = etag(id), id = id,
      snippet = { type = s.type, channelId = fixture.channel_id, title = s.title, position = pos or #list },
      contentDetails = type(cd) == "table" and {
        playlists = type(cd.playlists) == "table" and server.array(cd.playlists) or nil,
        channels = type(cd.channels) == "table" and server.array(cd.channels) or nil } or nil }
    list[#list + 1] = id
    state.set("yt:sections", list)
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

  ------------------------------------------------------------------ routes

  for _, prefix in ipairs({ "/upload", "/resumable/upload" }) do
    server.route(HOSTS, "POST", prefix .. "/youtube/v3/videos", initiate)
    server.route(HOSTS, "PUT", prefix .. "/youtube/v3/videos", chunk, { stream = true })
  end
  server.route(HOSTS, "POST", "/youtube/v3/playlists", playlist_insert)
  server.route(HOSTS, "POST", "/youtube/v3/playlistItems", playlist_item_insert)
  server.route(HOSTS, "POST", "/youtube/v3/channelSections", section_insert)
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
