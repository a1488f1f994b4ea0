--- Sandbox emulation of Facebook: Graph API Page feed/photos/videos (legacy resumable
-- start/transfer/finish with server-chosen windows), the retired /me/* and group edges,
-- object lookup (GET /{id}), and the legacy REST restserver.php stream.publish.
--
-- Written independently of socialpush.*: bearer/OAuth/access_token + appsecret_proof
-- (required for the fixture's app) via server.auth, MD5 sig via server.auth.legacy.
-- Error bodies are Graph's {"error":{"message","type","code","error_subcode","fbtrace_id"}}
-- (REST: HTTP 200 {"error_code","error_msg","request_args"}). Every Graph answer carries
-- X-App-Usage (and X-Business-Use-Case-Usage for Page calls), facebook-api-version and
-- x-fb-trace-id. Mode "today" (default) refuses the retired edges as today's Facebook
-- does; mode "historic" serves them. Messages marked (sandbox) are not Facebook's exact text.
--
-- Reading back: GET /{id}?fields= (Graph shapes of posts, photos and videos), the Page edges
-- /{page}/feed, /posts, /published_posts, /photos, /videos (newest first, limit, since/until,
-- cursor paging) and DELETE /{id} → {"success":true}. The #506 duplicate refusal and its
-- window are switches: GET/POST /_/facebook/config {"duplicate_check", "duplicate_window_secs"}.
--
-- Sandbox-only extra: GET /{id} without `fields` answers with what was stored, including a
-- "sandbox" block (video transfers with offsets, sizes and sha256).
local M = {}

local DEFAULT_VERSION = "v25.0"
local WINDOW = 1048576                       -- transfer window chosen by the server
local VIDEO_MIN, VIDEO_MAX = 1024, 10 * 1024 * 1024 * 1024
local PHOTO_MAX = 10 * 1024 * 1024
local MESSAGE_MAX = 63206
local APP_LIMIT = 5000                       -- calls per run before (#4)
local PAGE_LIMIT = 4800                      -- Page calls per run before (#80001)
local ID_BASE = 1000000000000000             -- ids: 16 digits

local UNSUPPORTED = "Unsupported %s request. Object with ID '%s' does not exist, cannot be loaded due"
  .. " to missing permissions, or does not support this operation. Please read the Graph API"
  .. " documentation at https://developers.facebook.com/docs/graph-api"
local UPLOAD_PROBLEM = "There was a problem uploading your video file. Please try again."
local TOO_SMALL = "The video file you tried to upload is too small. Please try again with a larger file."
local TOO_LARGE = "The video file you tried to upload is too large. Please try again with a smaller file."

local function utf8_len(s)
  local n, i, len = 0, 1, #s
  while i <= len do
    local c = s:byte(i)
    local extra
    if c < 0x80 then extra = 0
    elseif c >= 0xC2 and c <= 0xDF then extra = 1
    elseif c >= 0xE0 and c <= 0xEF then extra = 2
    elseif c >= 0xF0 and c <= 0xF4 then extra = 3
    else return nil end
    for j = i + 1, i + extra do
      local d = s:byte(j)
      if not d or d < 0x80 or d > 0xBF then return nil end
    end
    i = i + extra + 1
    n = n + 1
  end
  return n
end

--- sandbox switches (GET/POST /_/facebook/config; /_/reset restores these)
M.DEFAULTS = {
  duplicate_check = true,        -- #506 on the same message to the same target again
  duplicate_window_secs = 86400, -- [guess] how long a message counts as a duplicate (0: forever)
}

local function nonblank(s) return type(s) == "string" and s:find("%S") ~= nil end

local function is_url(s)
  return type(s) == "string" and s:match("^[hH][tT][tT][pP][sS]?://[^%s/?#]+[^%s]*$") ~= nil
end

local function falsy(v) return v == false or v == "false" or v == "0" end

-- image type from the first bytes (Facebook's formats: JPEG, BMP, PNG, GIF, TIFF)
local function image_type(data)
  if data:find("^\255\216\255") then return "image/jpeg" end
  if data:find("^\137PNG\r\n\26\n") then return "image/png" end
  if data:find("^GIF8[79]a") then return "image/gif" end
  if data:find("^BM") then return "image/bmp" end
  if data:find("^II%*%z") or data:find("^MM%z%*") then return "image/tiff" end
  return nil
end

function M.register(server)
  local state = server.state
  local accounts = server.accounts()
  local fba = accounts.facebook

  local function new_id()
    return string.format("%.0f", ID_BASE + state.incr("fb:next_id"))
  end

  local function trace_id()
    local n = state.incr("fb:trace")
    local raw = ngx.encode_base64(ngx.md5_bin(tostring(n) .. ":" .. tostring(ngx.now())))
    return "A" .. raw:gsub("[^%w]", ""):sub(1, 10)
  end

  -- request parameters: query, then the body (form, JSON or multipart text parts);
  -- files = multipart parts that carry a filename
  local function params(req)
    local p, files = {}, {}
    for _, kv in ipairs(server.auth.pairs_of(req.query)) do
      if p[kv[1]] == nil then p[kv[1]] = kv[2] end
    end
    local ct = req:content_type()
    if ct == "application/x-www-form-urlencoded" then
      local _, list = req:form()
      for _, kv in ipairs(list or {}) do p[kv[1]] = kv[2] end
    elseif ct == "application/json" then
      local j = req:json()
      if type(j) == "table" then
        for k, v in pairs(j) do
          p[k] = type(v) == "table" and server.encode(v) or (type(v) == "boolean" and tostring(v) or v)
        end
      end
    elseif ct and ct:match("^multipart/") then
      local parts, err = req:multipart()
      if not parts then return nil, err end
      for _, part in ipairs(parts) do
        if part.name then
          if part.filename then files[part.name] = part else p[part.name] = part.data end
        end
      end
    end
    return p, files
  end

  ----------------------------------------------------------------- responses

  -- usage headers of every Graph answer (percentages of this run's limits)
  local function usage_headers(ctx)
    local app = math.floor((ctx.app_calls or 0) * 100 / APP_LIMIT)
    local h = {
      ["X-App-Usage"] = server.encode({ call_count = math.min(app, 100),
        total_cputime = math.min(math.floor(app / 2), 100), total_time = math.min(math.floor(app / 2), 100) }),
      ["facebook-api-version"] = ctx.version or DEFAULT_VERSION,
      ["x-fb-trace-id"] = ctx.trace,
    }
    if ctx.page then
      local pc = math.floor((ctx.page_calls or 0) * 100 / PAGE_LIMIT)
      h["X-Business-Use-Case-Usage"] = server.encode({ [ctx.page] = { {
        type = "pages", call_count = math.min(pc, 100), total_cputime = math.min(math.floor(pc / 3), 100),
        total_time = math.min(math.floor(pc / 3), 100),
        estimated_time_to_regain_access = pc >= 100 and 60 or 0 } } })
    end
    return h
  end

  local function reply(ctx, status, value)
    return server.json(status, value, usage_headers(ctx))
  end

  -- Graph error body; o: subcode, type, data, transient, title, user_msg
  local function fail(ctx, status, code, message, o)
    o = o or {}
    local e = { message = message, type = o.type or "OAuthException", code = code, fbtrace_id = ctx.trace }
    if o.subcode then e.error_subcode = o.subcode end
    if o.data then e.error_data = o.data end
    if o.transient ~= nil then e.is_transient = o.transient end
    if o.title then e.error_user_title = o.title end
    if o.user_msg then e.error_user_msg = o.user_msg end
    return reply(ctx, status, { error = e })
  end

  -------------------------------------------------------------- auth, targets

  local AUTH_FAIL = {
    missing = { 104, "An access token is required to request this resource." },
    invalid = { 190, "Invalid OAuth access token - Cannot parse access token" },
    expired = { 190, "Error validating access token: The session has been invalidated because the user"
      .. " changed their password or Facebook has changed the session for security reasons.", 460 },
    missing_proof = { 100, "API calls from the server require an appsecret_proof argument", nil,
      "GraphMethodException" },
    bad_proof = { 100, "Invalid appsecret_proof provided in the API argument", nil, "GraphMethodException" },
  }

  -- common prologue: counters, auth (appsecret_proof required for the fixture app), throttling
  local function begin(req, version, page)
    local ctx = { version = version, trace = trace_id() }
    ctx.app_calls = state.incr("fb:usage:app")
    if page == fba.page_id then
      ctx.page = page
      ctx.page_calls = state.incr("fb:usage:page:" .. page)
    end
    local info, reason, detail = server.auth.appsecret_proof(req, true)
    if not info then
      if detail and detail.reason == "lapsed" then   -- a token of the sandbox's OAuth past its lifetime
        local message = require("socialpush.sandbox.providers.oauth_facebook").expired_message(detail.expires_at)
        return nil, fail(ctx, 400, 190, message, { subcode = 463 })
      end
      local f = AUTH_FAIL[reason] or AUTH_FAIL.invalid
      return nil, fail(ctx, 400, f[1], f[2], { subcode = f[3], type = f[4] })
    end
    if ctx.app_calls > APP_LIMIT then
      return nil, fail(ctx, 400, 4, "(#4) Application request limit reached", { transient = true })
    end
    if ctx.page and ctx.page_calls > PAGE_LIMIT then
      return nil, fail(ctx, 400, 80001, "(#80001) There have been too many calls to this Page account."
        .. " Wait a bit and try again. For more info, please refer to"
        .. " https://developers.facebook.com/docs/graph-api/overview/rate-limiting.", { transient = true })
    end
    ctx.account = info.account
    return ctx
  end

  -- who a path id designates: "page", "me" (the user) or "group"; owner id
  local function target_of(id)
    if id == fba.page_id then return "page", fba.page_id end
    local other = accounts.other and accounts.other.facebook          -- the second fixture Page
    if other and id == other.page_id then return "page", other.page_id end
    if id == "me" or id == fba.user_id then return "me", fba.user_id end
    if id == fba.group_id then return "group", fba.group_id end
    return nil
  end

  -- today's refusal of the retired edges (nil when allowed)
  local function retired(ctx, kind)
    if server.mode("facebook") ~= "today" then return nil end
    if kind == "me" then
      return fail(ctx, 403, 200, "(#200) The user hasn't authorized the application to perform this action")
    elseif kind == "group" then
      return fail(ctx, 403, 3, "(#3) Application does not have the capability to make this API call.")
    end
  end

  -- prologue of the create edges: auth, target, mode; returns ctx, kind, owner
  local function edge(req, version, id, what)
    local ctx, resp = begin(req, version, id)
    if not ctx then return nil, resp end
    local kind, owner = target_of(id)
    if not kind then
      return nil, fail(ctx, 400, 100, UNSUPPORTED:format("post", id), { subcode = 33, type = "GraphMethodException" })
    end
    local refused = retired(ctx, kind)
    if refused then return nil, refused end
    ctx.kind, ctx.owner, ctx.what = kind, owner, what
    return ctx
  end

  local function store(obj) state.set("fb:object:" .. obj.id, obj) end

  -- sandbox switches (POST /_/facebook/config); /_/reset restores M.DEFAULTS
  local function config()
    local c = state.get("fb:config") or {}
    for k, v in pairs(M.DEFAULTS) do if c[k] == nil then c[k] = v end end
    return c
  end

  -------------------------------------------------------------------- feed

  local function feed(req, version, id)
    local ctx, resp = edge(req, version, id, "feed")
    if not ctx then return resp end
    local p = params(req)
    local message, link, att = p.message, p.link, p.attached_media
    local media
    if att ~= nil and att ~= "" then
      media = server.decode(att)
      if type(media) ~= "table" then
        return fail(ctx, 400, 100, "(#100) param attached_media must be an array of objects")
      end
      for i, a in ipairs(media) do
        local fbid = type(a) == "table" and a.media_fbid and tostring(a.media_fbid)
        local photo = fbid and state.get("fb:object:" .. fbid)
        if not photo or photo.type ~= "photo" or photo.published or photo.from ~= ctx.owner then
          return fail(ctx, 400, 100, ("(#100) param attached_media[%d] must be an unpublished photo of"
            .. " this target (sandbox)"):format(i - 1))
        end
      end
      if #media == 0 then media = nil end
    end
    if not nonblank(message) and not nonblank(link) and not media then
      return fail(ctx, 400, 100, "(#100) Missing message or attachment")
    end
    if message then
      local n = utf8_len(message)
      if not n then return fail(ctx, 400, 100, "(#100) param message must be a UTF-8 encoded string") end
      if n > MESSAGE_MAX then
        return fail(ctx, 400, 100, "(#100) param message must be at most " .. MESSAGE_MAX .. " characters (sandbox)")
      end
    end
    if link ~= nil and not is_url(link) then
      return fail(ctx, 400, 100, "(#100) param link must be a valid URL")
    end
    if link ~= nil and media then
      return fail(ctx, 400, 100, "(#100) param link cannot be used together with attached_media (sandbox)")
    end
    local dup_key
    local cfg = config()
    if nonblank(message) and cfg.duplicate_check then
      dup_key = "fb:dup:" .. ctx.owner .. ":" .. ngx.md5(message)
      local earlier = state.get(dup_key)
      local window = cfg.duplicate_window_secs
      if type(earlier) == "table" and state.get("fb:object:" .. earlier.id)
        and (window <= 0 or ngx.now() - earlier.at < window) then
        return fail(ctx, 400, 506, "(#506) Duplicate status message", { title = "Duplicate Status Update",
          user_msg = "This status update is identical to the last one you posted." })
      end
    end
    local post_id = ctx.owner .. "_" .. new_id()
    store({ id = post_id, type = "post", from = ctx.owner, target = ctx.kind, message = message, link = link,
      attached_media = media, published = not falsy(p.published), created_time = ngx.time() })
    if dup_key then state.set(dup_key, { id = post_id, at = ngx.now() }) end
    return reply(ctx, 200, { id = post_id })
  end

  ------------------------------------------------------------------ photos

  local function photos(req, version, id)
    local ctx, resp = edge(req, version, id, "photos")
    if not ctx then return resp end
    local p, files = params(req)
    if not p then return fail(ctx, 400, 100, "(#100) Invalid multipart body: " .. tostring(files)) end
    local src = files.source or select(2, next(files))
    local photo = { id = new_id(), type = "photo", from = ctx.owner, target = ctx.kind,
      message = p.message or p.caption, published = not falsy(p.published), created_time = ngx.time() }
    if src then
      if #src.data > PHOTO_MAX then
        return fail(ctx, 400, 100, "(#100) The photo is larger than " .. PHOTO_MAX .. " bytes (sandbox)")
      end
      local t = image_type(src.data)
      if not t then return fail(ctx, 400, 324, "(#324) Missing or invalid image file") end
      photo.size, photo.content_type = #src.data, t
      photo.sha256 = server.crypto.sha256_hex(src.data)
    elseif p.url ~= nil then
      if not is_url(p.url) then return fail(ctx, 400, 100, "(#100) url should represent a valid URL") end
      photo.url = p.url
    else
      return fail(ctx, 400, 324, "(#324) Requires upload file")
    end
    local out = { id = photo.id }
    if photo.published then
      photo.post_id = ctx.owner .. "_" .. new_id()
      out.post_id = photo.post_id
      store({ id = photo.post_id, type = "post", from = ctx.owner, target = ctx.kind, message = photo.message,
        photo_id = photo.id, published = true, created_time = photo.created_time })
    end
    store(photo)
    return reply(ctx, 200, out)
  end

  ------------------------------------------------------------------ videos

  local function upload_fail(ctx, subcode, message, data)
    return fail(ctx, 400, 6000, message or UPLOAD_PROBLEM, { subcode = subcode, data = data,
      title = "Video upload error" })
  end

  local function window(size, offset)
    local e = offset + WINDOW
    if e > size then e = size end
    return e
  end

  local function video_start(ctx, p)
    local size = tonumber(p.file_size or "")
    if not size or size ~= math.floor(size) or size < 0 then
      return fail(ctx, 400, 100, "(#100) param file_size must be an integer")
    end
    if size < VIDEO_MIN then
      return upload_fail(ctx, 1363022, TOO_SMALL)
    end
    if size > VIDEO_MAX then
      return upload_fail(ctx, 1363023, TOO_LARGE)
    end
    local sid, vid = new_id(), new_id()
    local e = window(size, 0)
    state.set("fb:session:" .. sid, { id = sid, video_id = vid, owner = ctx.owner, target = ctx.kind,
      size = size, offset = 0, end_offset = e, transfers = {} })
    return reply(ctx, 200, { video_id = vid, start_offset = "0", end_offset = tostring(e),
      upload_session_id = sid })
  end

  local function session_of(ctx, p)
    local s = p.upload_session_id and state.get("fb:session:" .. p.upload_session_id)
    if not s or s.owner ~= ctx.owner then return nil end
    return s
  end

  local function video_transfer(ctx, p, files)
    local s = session_of(ctx, p)
    if not s then return fail(ctx, 400, 100, "(#100) Invalid upload_session_id") end
    local chunk = files.video_file_chunk
    if not chunk then return fail(ctx, 400, 100, "(#100) param video_file_chunk must be a file upload") end
    local start = tonumber(p.start_offset or "")
    local rec = { start_offset = start, size = #chunk.data }
    if start ~= s.offset or #chunk.data ~= s.end_offset - s.offset then
      rec.refused = 1363037
      state.update("fb:session:" .. s.id, function(cur)
        if cur then cur.transfers[#cur.transfers + 1] = rec end
        return cur
      end)
      return upload_fail(ctx, 1363037, nil, { start_offset = tostring(s.offset), end_offset = tostring(s.end_offset) })
    end
    rec.sha256 = server.crypto.sha256_hex(chunk.data)
    local offset = s.offset + #chunk.data
    local e = window(s.size, offset)
    state.update("fb:session:" .. s.id, function(cur)
      if cur then
        cur.transfers[#cur.transfers + 1] = rec
        cur.offset, cur.end_offset = offset, e
      end
      return cur
    end)
    return reply(ctx, 200, { start_offset = tostring(offset), end_offset = tostring(e) })
  end

  local function video_finish(ctx, p)
    local s = session_of(ctx, p)
    if not s then return fail(ctx, 400, 100, "(#100) Invalid upload_session_id") end
    if s.offset ~= s.size then
      return upload_fail(ctx, nil,
        ("The upload is incomplete: %d of %d bytes received (sandbox)"):format(s.offset, s.size))
    end
    state.delete("fb:session:" .. s.id)
    store({ id = s.video_id, type = "video", from = s.owner, target = s.target, title = p.title,
      description = p.description, published = not falsy(p.published), size = s.size,
      created_time = ngx.time(), sandbox = { upload_session_id = s.id, transfers = s.transfers } })
    return reply(ctx, 200, { success = true })
  end

  local function videos(req, version, id)
    local ctx, resp = edge(req, version, id, "videos")
    if not ctx then return resp end
    local p, files = params(req)
    if not p then return fail(ctx, 400, 100, "(#100) Invalid multipart body: " .. tostring(files)) end
    local phase = p.upload_phase and p.upload_phase:lower()
    if phase == "start" then return video_start(ctx, p) end
    if phase == "transfer" then return video_transfer(ctx, p, files) end
    if phase == "finish" then return video_finish(ctx, p) end
    if phase == "cancel" then
      local s = session_of(ctx, p)
      if not s then return fail(ctx, 400, 100, "(#100) Invalid upload_session_id") end
      state.delete("fb:session:" .. s.id)
      return reply(ctx, 200, { success = true })
    end
    if phase ~= nil then
      return fail(ctx, 400, 100, "(#100) param upload_phase must be one of {start, transfer, finish, cancel}")
    end
    local video = { id = new_id(), type = "video", from = ctx.owner, target = ctx.kind, title = p.title,
      description = p.description, published = not falsy(p.published), created_time = ngx.time() }
    if files.source then
      local n = #files.source.data
      if n < VIDEO_MIN then return upload_fail(ctx, 1363022, TOO_SMALL) end
      video.size, video.sandbox = n, { sha256 = server.crypto.sha256_hex(files.source.data) }
    elseif p.file_url ~= nil then
      if not is_url(p.file_url) then return fail(ctx, 400, 100, "(#100) param file_url must be a valid URL") end
      video.file_url = p.file_url
    else
      return fail(ctx, 400, 100, "(#100) No file was uploaded: give source, file_url or upload_phase (sandbox)")
    end
    store(video)
    return reply(ctx, 200, { id = video.id })
  end

  ------------------------------------------------------------------ lookup

  -- Graph's node types and the fields each accepts (facebook-business-sdk-codegen specs:
  -- PagePost, Photo, AdVideo); fields the sandbox has no data for are accepted and omitted
  local NODE = { post = "PagePost", photo = "Photo", video = "Video" }
  local FIELDS = {
    post = "actions admin_creator allowed_advertising_objectives application attachments backdated_time"
      .. " call_to_action can_reply_privately child_attachments comments_mirroring_domain coordinates"
      .. " created_time event expanded_height expanded_width feed_targeting from full_picture height icon id"
      .. " instagram_eligibility is_app_share is_eligible_for_dark_post is_eligible_for_promotion is_expired"
      .. " is_hidden is_inline_created is_instagram_eligible is_popular is_published is_spherical message"
      .. " message_tags multi_share_end_card multi_share_optimized parent_id permalink_url picture place privacy"
      .. " promotable_id promotion_status properties scheduled_publish_time shares status_type story"
      .. " story_tags subscribed target targeting timeline_visibility updated_time via"
      .. " video_buying_eligibility width",
    photo = "album alt_text alt_text_custom backdated_time backdated_time_granularity can_backdate can_delete"
      .. " can_tag created_time event from height icon id images link name name_tags page_story_id picture"
      .. " place position source target updated_time webp_images width",
    video = "ad_breaks admin_creator audio_isrc backdated_time backdated_time_granularity boost_eligibility_info"
      .. " content_category content_tags copyright copyright_check_information copyright_monitoring_status"
      .. " created_time custom_labels description embed_html embeddable event expiration format from icon id"
      .. " is_crosspost_video is_crossposting_eligible is_episode is_instagram_eligible is_reference_only"
      .. " length live_audience_count live_status music_video_copyright permalink_url picture place post_id"
      .. " post_views premiere_living_room_status privacy published scheduled_publish_time source spherical"
      .. " status title universal_video_id updated_time views",
  }
  for kind, list in pairs(FIELDS) do
    local set = {}
    for f in list:gmatch("%S+") do set[f] = true end
    FIELDS[kind] = set
  end
  -- what a GET without `fields` answers in each edge ([guess]: Graph's usual defaults)
  local DEFAULT_FIELDS = { post = { "created_time", "message", "id" }, photo = { "created_time", "name", "id" },
    video = { "description", "updated_time", "id" } }

  local function iso(t) return os.date("!%Y-%m-%dT%H:%M:%S+0000", t or 0) end

  -- the Pages of the fixture accounts (owner id → name)
  local function page_name(id)
    if id == fba.page_id then return "socialpush sandbox page" end
    local other = accounts.other and accounts.other.facebook
    if other and id == other.page_id then return "another sandbox page" end
    if id == fba.user_id then return "Sandbox User" end
    if id == fba.group_id then return "Sandbox Group" end
    return nil
  end

  -- the field names of a `fields` parameter (nested `from{name}` and `.limit(n)` ignored);
  -- nil and the bad name when a field is unknown for the node kind
  local function field_list(spec, kind)
    local out, depth, cur = {}, 0, {}
    for c in (spec .. ","):gmatch(".") do
      if c == "{" or c == "(" then depth = depth + 1
      elseif c == "}" or c == ")" then depth = depth - 1
      elseif c == "," and depth == 0 then
        local name = table.concat(cur):match("^%s*([%w_]+)")
        cur = {}
        if name then
          if not FIELDS[kind][name] then return nil, name end
          out[#out + 1] = name
        end
      elseif depth == 0 then cur[#cur + 1] = c end
    end
    return out
  end

  local function video_status(o)
    return { video_status = "ready", processing_progress = 100,
      uploading_phase = { status = "complete" }, processing_phase = { status = "complete" },
      publishing_phase = { status = "complete", publish_status = o.published and "published" or "not_published" } }
  end

  -- one field of a stored object in Graph's shape (nil: no data, the field is omitted)
  local function graph_field(o, f)
    if f == "id" then return o.id end
    if f == "created_time" or f == "updated_time" then return iso(o.created_time) end
    if f == "from" then return { id = o.from, name = page_name(o.from) } end
    if o.type == "post" then
      if f == "message" then return o.message end
      if f == "is_published" then return o.published ~= false end
      if f == "permalink_url" then return "https://www.facebook.com/" .. o.id end
      if f == "status_type" then
        return o.photo_id and "added_photos" or o.link and "shared_story" or "mobile_status_update"
      end
      if f == "parent_id" then return nil end
    elseif o.type == "photo" then
      if f == "name" then return o.message end
      if f == "link" then return "https://www.facebook.com/photo.php?fbid=" .. o.id end
      if f == "page_story_id" then return o.post_id end
      if f == "can_delete" then return true end
    elseif o.type == "video" then
      if f == "title" or f == "description" then return o[f] end
      if f == "published" then return o.published ~= false end
      if f == "status" then return video_status(o) end
      if f == "permalink_url" then return "/" .. o.from .. "/videos/" .. o.id .. "/" end
    end
    return nil
  end

  local function render(o, names)
    local out = {}
    for _, f in ipairs(names) do out[f] = graph_field(o, f) end
    return out
  end

  -- names of the `fields` parameter (or the defaults); nil after answering 400
  local function fields_for(ctx, p, kind)
    if p.fields == nil or p.fields == "" then return DEFAULT_FIELDS[kind] end
    local names, bad = field_list(p.fields, kind)
    if not names then
      fail(ctx, 400, 100, "(#100) Tried accessing nonexisting field (" .. bad .. ") on node type ("
        .. NODE[kind] .. ")")
      return nil
    end
    return names
  end

  -- GET /{id}: with `fields`, Graph's shape; without, the stored record (sandbox view, the
  -- superset the specs read: from as an id, sandbox transfer block) with created_time as Graph's
  local function object(req, version, id)
    local ctx, resp = begin(req, version)
    if not ctx then return resp end
    local o = state.get("fb:object:" .. id)
    if not o then
      return fail(ctx, 400, 100, UNSUPPORTED:format("get", id), { subcode = 33, type = "GraphMethodException" })
    end
    local p = params(req)
    if p.fields == nil or p.fields == "" then
      o.created_time = iso(o.created_time)
      return reply(ctx, 200, o)
    end
    local names = fields_for(ctx, p, o.type)
    if not names then return end
    return reply(ctx, 200, render(o, names))
  end

  -- whether the token's account owns a stored object (its Page, or its user for /me posts)
  local function owns(account, o)
    return account and (o.from == account.page_id or (account.user_id and o.from == account.user_id)) or false
  end

  -- DELETE /{id} → {"success":true}; a photo takes its Page post along ([guess])
  local function delete_object(req, version, id)
    local ctx, resp = begin(req, version)
    if not ctx then return resp end
    local o = state.get("fb:object:" .. id)
    if not o then
      return fail(ctx, 400, 100, UNSUPPORTED:format("delete", id), { subcode = 33, type = "GraphMethodException" })
    end
    if not owns(ctx.account, o) then
      return fail(ctx, 403, 200, "(#200) Permissions error")              -- [guess] the text
    end
    state.delete("fb:object:" .. id)
    if o.type == "photo" and o.post_id then state.delete("fb:object:" .. o.post_id) end
    if o.message then
      local key = "fb:dup:" .. o.from .. ":" .. ngx.md5(o.message)
      local d = state.get(key)
      if type(d) == "table" and d.id == id then state.delete(key) end
    end
    return reply(ctx, 200, { success = true })
  end

  -- cursors: url-safe base64 of the object's sequence number (the digits after the last "_")
  local function seq_of(o) return o.id:match("(%d+)$") end

  local function cursor(o)
    return (ngx.encode_base64("sbx:" .. seq_of(o)):gsub("%+", "-"):gsub("/", "_"):gsub("=", ""))
  end

  local function uncursor(s)
    s = s:gsub("%-", "+"):gsub("_", "/")
    s = s .. ("="):rep((4 - #s % 4) % 4)
    local d = ngx.decode_base64(s)
    return d and d:match("^sbx:(%d+)$")
  end

  -- a since/until value: a unix time, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS[Z|+0000] in UTC
  -- ([guess]: the other strtotime forms Graph takes are not emulated)
  local function time_arg(v)
    if v == nil then return nil end
    if v:match("^%d+$") then return tonumber(v) end
    local y, mo, d, rest = v:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)(.*)$")
    if not y then return nil end
    local h, mi, sec = 0, 0, 0
    if rest ~= "" then
      h, mi, sec = rest:match("^T(%d%d):(%d%d):(%d%d)")
      if not h then return nil end
    end
    y, mo = tonumber(y), tonumber(mo)
    if mo <= 2 then y = y - 1 end
    local era = math.floor(y / 400)
    local yoe = y - era * 400
    local doy = math.floor((153 * ((mo + 9) % 12) + 2) / 5) + tonumber(d) - 1
    local days = era * 146097 + yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy - 719468
    return days * 86400 + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(sec)
  end

  local EDGE_KIND = { feed = "post", posts = "post", published_posts = "post", photos = "photo", videos = "video" }
  local LIMIT_MAX = 100

  -- GET /{page}/{feed|posts|published_posts|photos|videos}: the Page's objects, newest first,
  -- `limit` (25, at most 100) per page, cursors after/before and paging.next/previous
  local function edge_list(edge_name)
    local kind = EDGE_KIND[edge_name]
    return function(req, version, id)
      local ctx, resp = begin(req, version, id)
      if not ctx then return resp end
      local page = id == "me" and ctx.account and ctx.account.page_id or id
      if not page_name(page) or page == fba.user_id or page == fba.group_id then
        return fail(ctx, 400, 100, UNSUPPORTED:format("get", id), { subcode = 33, type = "GraphMethodException" })
      end
      if not ctx.account or ctx.account.page_id ~= page then         -- [guess] no Page Public Content Access
        return fail(ctx, 403, 10, "(#10) This endpoint requires the 'pages_read_engagement' permission or the"
          .. " 'Page Public Content Access' feature.")
      end
      local p = params(req)
      local names = fields_for(ctx, p, kind)
      if not names then return end
      local limit = tonumber(p.limit or "25")
      if not limit or limit < 1 then return fail(ctx, 400, 100, "(#100) param limit must be a positive integer") end
      limit = math.min(math.floor(limit), LIMIT_MAX)                      -- [guess] larger limits are capped
      local since, till = time_arg(p.since), time_arg(p["until"])
      if (p.since and not since) or (p["until"] and not till) then
        return fail(ctx, 400, 100, "(#100) The since/until parameter is not a valid time (sandbox)")
      end
      local after = p.after and uncursor(p.after)
      local before = p.before and uncursor(p.before)
      if (p.after and not after) or (p.before and not before) then
        return fail(ctx, 400, 100, "(#100) Invalid cursor (sandbox)")
      end
      local all = {}
      for _, k in ipairs(state.keys("fb:object:")) do
        local o = state.get(k)
        if o and o.type == kind and o.from == page and o.published ~= false
          and (not since or o.created_time >= since) and (not till or o.created_time <= till) then
          all[#all + 1] = o
        end
      end
      table.sort(all, function(a, b) return seq_of(a) > seq_of(b) end)
      local first, last
      if after then
        first = #all + 1
        for i, o in ipairs(all) do if seq_of(o) < after then first = i; break end end
        last = math.min(#all, first + limit - 1)
      elseif before then
        last = 0
        for i = #all, 1, -1 do if seq_of(all[i]) > before then last = i; break end end
        first = math.max(1, last - limit + 1)
      else
        first, last = 1, math.min(#all, limit)
      end
      local data = server.array()
      for i = first, last do data[#data + 1] = render(all[i], names) end
      local out = { data = data }
      if #data > 0 then
        local base = {}
        for _, kv in ipairs(server.auth.pairs_of(req.query)) do
          if kv[1] ~= "after" and kv[1] ~= "before" then
            base[#base + 1] = ngx.escape_uri(kv[1]) .. "=" .. ngx.escape_uri(kv[2])
          end
        end
        local url = "https://" .. req.host .. "/" .. (version or DEFAULT_VERSION) .. "/" .. id .. "/" .. edge_name
          .. "?" .. table.concat(base, "&") .. (#base > 0 and "&" or "")
        local paging = { cursors = { before = cursor(all[first]), after = cursor(all[last]) } }
        if last < #all then paging.next = url .. "after=" .. paging.cursors.after end
        if first > 1 then paging.previous = url .. "before=" .. paging.cursors.before end
        out.paging = paging
      end
      return reply(ctx, 200, out)
    end
  end

  local GRAPH = "graph.facebook.com"
  local HOSTS = { "graph.facebook.com", "graph-video.facebook.com" }
  local ID = "([%w_%.%-:]+)"

  -- a versioned (/v25.0/...) and an unversioned route for one edge
  local function graph_route(hosts, method, tail, handler)
    server.route(hosts, method, "/(v%d+%.%d+)/" .. ID .. tail, handler)
    server.route(hosts, method, "/" .. ID .. tail, function(req, id) return handler(req, nil, id) end)
  end

  graph_route(GRAPH, "POST", "/feed", feed)
  graph_route(GRAPH, "POST", "/photos", photos)
  graph_route(HOSTS, "POST", "/videos", videos)
  for name in pairs(EDGE_KIND) do graph_route(HOSTS, "GET", "/" .. name, edge_list(name)) end
  graph_route(HOSTS, "GET", "", object)
  graph_route(HOSTS, "DELETE", "", delete_object)

  -- sandbox-only switches (control host, not journaled)
  server.route(server.CONTROL_HOST, { "GET", "POST" }, "/_/facebook/config", function(req)
    if req.method == "POST" then
      local t, err = req:json(65536)
      if type(t) ~= "table" then return server.fail(400, err or "expected a JSON object") end
      local c = config()
      for k, v in pairs(t) do
        local want = M.DEFAULTS[k]
        if want == nil or type(v) ~= type(want) or (type(v) == "number" and v < 0) then
          return server.fail(400, "bad facebook setting " .. tostring(k))
        end
        c[k] = v
      end
      state.set("fb:config", c)
    end
    return server.json(200, config())
  end)

  ------------------------------------------------------------ legacy REST

  local function rest_send(fmt, status, value, root)
    if fmt == "JSON" then
      return server.send(status, server.encode(value), { ["Content-Type"] = "text/javascript; charset=UTF-8" })
    end
    local x = { '<?xml version="1.0" encoding="UTF-8"?>\n' }
    if type(value) == "table" then
      x[#x + 1] = '<error_response xmlns="http://api.facebook.com/1.0/"><error_code>' .. value.error_code
        .. "</error_code><error_msg>" .. value.error_msg:gsub("&", "&amp;"):gsub("<", "&lt;")
        .. "</error_msg></error_response>"
    else
      x[#x + 1] = "<" .. root .. ' xmlns="http://api.facebook.com/1.0/">' .. value .. "</" .. root .. ">"
    end
    return server.send(status, table.concat(x), { ["Content-Type"] = "text/xml; charset=UTF-8" })
  end

  local function rest_error(fmt, list, code, message)
    local args = server.array()
    for _, kv in ipairs(list or {}) do args[#args + 1] = { key = kv[1], value = kv[2] } end
    return rest_send(fmt, 200, { error_code = code, error_msg = message, request_args = args })
  end

  local function json_object(s)
    local v = server.decode(s)
    if type(v) ~= "table" then return nil end
    return v
  end

  local function check_attachment(s)
    local a = json_object(s)
    if not a or a[1] ~= nil then return "param attachment must be a JSON-encoded object" end
    if a.properties ~= nil then
      if type(a.properties) ~= "table" then return "properties must be an object" end
      for _, v in pairs(a.properties) do
        local link = type(v) == "table" and type(v.text) == "string" and type(v.href) == "string"
        if type(v) ~= "string" and not link then
          return "property values must be strings or objects with a 'text' and a 'href' attribute"
        end
      end
    end
    if a.media ~= nil and type(a.media) ~= "table" then return "media must be an array" end
  end

  local function check_action_links(s)
    local v = json_object(s)
    if not v or (next(v) ~= nil and v[1] == nil) then return "param action_links must be a JSON-encoded array" end
    for _, l in ipairs(v) do
      if type(l) ~= "table" or type(l.text) ~= "string" or type(l.href) ~= "string" then
        return "action links must be objects with a 'text' and a 'href' attribute"
      end
    end
  end

  local KNOWN_TARGETS = { [fba.page_id] = true, [fba.user_id] = true, [fba.group_id] = true }

  local function rest(req, path_method)
    local p, list = server.auth.params(req)
    local fmt = (p.format or "XML"):upper() == "JSON" and "JSON" or "XML"
    if server.mode("facebook") == "today" then
      return rest_error(fmt, list, 12, "REST API is deprecated for versions v2.1 and higher")
    end
    local method = (path_method or p.method or ""):lower():gsub("^facebook%.", "")
    if method ~= "stream.publish" then return rest_error(fmt, list, 3, "Unknown method") end
    local info, reason = server.auth.legacy(req)
    if not info then
      if reason == "missing" and not p.api_key then
        return rest_error(fmt, list, 101, "Invalid API key")
      elseif reason == "invalid" and p.api_key ~= fba.legacy.api_key then
        return rest_error(fmt, list, 101, "Invalid API key")
      elseif reason == "missing" or reason == "bad_signature" then
        return rest_error(fmt, list, 104, "Incorrect signature")
      end
      return rest_error(fmt, list, 102, "Session key invalid or no longer valid")
    end
    if not info.session and not p.uid then
      return rest_error(fmt, list, 102, "Session key invalid or no longer valid")
    end
    local actor = p.uid or fba.legacy.uid
    if actor ~= fba.legacy.uid and actor ~= fba.page_id then
      return rest_error(fmt, list, 200, "Permissions error")
    end
    if p.target_id and not KNOWN_TARGETS[p.target_id] then
      return rest_error(fmt, list, 210, "User not visible")
    end
    if not nonblank(p.message) and not p.attachment then
      return rest_error(fmt, list, 100, "Invalid parameter")
    end
    if p.message and not utf8_len(p.message) then return rest_error(fmt, list, 100, "Invalid parameter") end
    local bad = p.attachment and check_attachment(p.attachment)
      or p.action_links and check_action_links(p.action_links)
    if bad then return rest_error(fmt, list, 100, bad) end
    local owner = p.target_id or actor
    local post_id = owner .. "_" .. new_id()
    store({ id = post_id, type = "post", from = actor, target = owner, message = p.message,
      attachment = p.attachment and json_object(p.attachment), action_links = p.action_links
        and json_object(p.action_links), published = true, created_time = ngx.time(), api = "rest" })
    return rest_send(fmt, 200, post_id, "stream_publish_response")
  end

  server.route("api.facebook.com", { "GET", "POST" }, "/restserver.php", function(req) return rest(req) end)
  server.route("api.facebook.com", { "GET", "POST" }, "/method/([%w%._]+)", rest)
end

return M
