--- Sandbox emulation of X (Twitter) API v2 on api.x.com and api.twitter.com:
-- POST /2/tweets, one-shot POST /2/media/upload, chunked
-- /2/media/upload/initialize, /{id}/append, /{id}/finalize, GET /2/media/upload
-- (command=STATUS) with a processing state machine, POST /2/media/metadata; reading posts
-- back (GET /2/tweets/:id, GET /2/tweets?ids=, the user timeline GET /2/users/:id/tweets with
-- X's paging and filters) and DELETE /2/tweets/:id.
--
-- Written independently of the socialpush library (runs inside nginx): its own
-- weighted-length count (a simplification of twitter-text v3: code point weights
-- by the v3 ranges, http(s) URLs count 23, no NFC and no emoji sequences), its
-- own problem bodies, per-user 15-minute counters with x-rate-limit-* headers on
-- every answer and an app 24-hour counter on /2/tweets.
--
-- Sandbox-only control (never journaled, no faults), host sandbox.socialpush.test:
--   GET/POST /_/x/config  {"limits": {"tweets": 2, ...}, "tweets_24h": N, "check_after_secs": 0|1,
--                          "duplicate_check": true|false, "duplicate_window_secs": N}
--   GET /_/x/tweets/<id>  the stored post (text, media_ids, reply_to, user, body as received)
--   GET /_/x/media/<id>   an upload (category, media_type, total, segments, appends, state, alt_text)
-- /_/reset restores the defaults.
local M = {}

local HOSTS = { "api.x.com", "api.twitter.com" }
local PROBLEMS = "https://api.x.com/2/problems/"
local WINDOW = 900                 -- rate-limit window (15 minutes)
local DAY = 86400
local IMAGE_MAX = 5 * 1024 * 1024
local VIDEO_MAX = 512 * 1024 * 1024
local SEGMENT_MAX = 5 * 1024 * 1024
local MAX_TEXT = 280

-- documented per-user 15-minute limits (PROVIDERS.md 6.1); specs lower them via /_/x/config
local DEFAULTS = {
  limits = { tweets = 100, media_upload = 500, media_status = 1000, media_initialize = 1875,
    media_append = 1875, media_finalize = 1875, media_metadata = 500,
    tweets_lookup = 900, users_tweets = 900, tweets_delete = 50 },
  tweets_24h = 10000,
  check_after_secs = 1,
  -- the 403 duplicate refusal of an identical text from the same user; the window is a
  -- [guess] (X does not document it): 0 = any earlier post that still exists
  duplicate_check = true,
  duplicate_window_secs = 0,
}

-- post fields a lookup may ask for (tweet.fields, or post.fields as in the 2026 OpenAPI);
-- the ones the sandbox fills are in post_data below, the others are accepted and omitted
local POST_FIELDS = {}
for _, f in ipairs({ "article", "article_title", "attachments", "author_id", "card_uri", "community_id",
  "context_annotations", "conversation_id", "created_at", "display_text_range", "edit_controls",
  "edit_history_tweet_ids", "entities", "geo", "id", "in_reply_to_user_id", "lang", "matched_media_notes",
  "media_metadata", "non_public_metrics", "note_post", "note_request_suggestions", "note_tweet",
  "organic_metrics", "paid_partnership", "possibly_sensitive", "promoted_metrics", "public_metrics",
  "referenced_tweets", "reply_settings", "scopes", "source", "suggested_source_links",
  "suggested_source_links_with_counts", "text", "withheld" }) do POST_FIELDS[f] = true end
local TIMELINE_CAP, TIMELINE_CAP_NO_REPLIES = 3200, 800   -- newest posts a timeline reaches [doc]

-- UTC calendar day number of y-m-d (days since 1970-01-01)
local function days_from_civil(y, m, d)
  y = m <= 2 and y - 1 or y
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = math.floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

--- seconds since the epoch of an RFC 3339 time (YYYY-MM-DDTHH:mm:ss[.fff](Z|±hh:mm)), or nil
local function parse_time(s)
  if type(s) ~= "string" then return nil end
  local y, mo, d, h, mi, sec, rest = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)T(%d%d):(%d%d):(%d%d)(.*)$")
  if not y then return nil end
  local frac = rest:match("^%.(%d+)") or ""
  rest = rest:sub(#frac + (frac ~= "" and 2 or 1))
  local off = 0
  if rest ~= "Z" and rest ~= "z" then
    local sign, oh, om = rest:match("^([%+%-])(%d%d):?(%d%d)$")
    if not sign then return nil end
    off = (tonumber(oh) * 60 + tonumber(om)) * 60 * (sign == "-" and -1 or 1)
  end
  local t = days_from_civil(tonumber(y), tonumber(mo), tonumber(d)) * 86400
    + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(sec) - off
  if frac ~= "" then t = t + tonumber("0." .. frac) end
  return t
end
M.parse_time = parse_time

-- X's created_at: 2026-03-01T12:00:00.000Z
local function iso_ms(t)
  local whole = math.floor(t)
  return os.date("!%Y-%m-%dT%H:%M:%S", whole) .. string.format(".%03dZ", math.floor((t - whole) * 1000))
end

local CATEGORIES = { amplify_video = true, tweet_gif = true, tweet_image = true, tweet_video = true,
  dm_gif = true, dm_image = true, dm_video = true, subtitles = true }
local MEDIA_TYPES = { ["video/mp4"] = true, ["video/webm"] = true, ["video/mp2t"] = true,
  ["video/quicktime"] = true, ["text/srt"] = true, ["text/vtt"] = true, ["image/jpeg"] = true,
  ["image/gif"] = true, ["image/bmp"] = true, ["image/png"] = true, ["image/webp"] = true,
  ["image/pjpeg"] = true, ["image/tiff"] = true, ["model/gltf-binary"] = true, ["model/vnd.usdz+zip"] = true }
local ONE_SHOT = { tweet_image = true, dm_image = true, subtitles = true }
local TWEET_VIDEO = { ["video/mp4"] = true, ["video/quicktime"] = true }

-- image magic numbers → type (what the one-shot upload accepts)
local IMAGES = {
  { "^\255\216\255", "image/jpeg" }, { "^\137PNG\r\n\26\n", "image/png" }, { "^GIF8[79]a", "image/gif" },
  { "^RIFF....WEBP", "image/webp" }, { "^BM", "image/bmp" }, { "^II%*%z", "image/tiff" },
  { "^MM%z%*", "image/tiff" },
}

local function image_type(head)
  for _, m in ipairs(IMAGES) do
    if head:find(m[1]) then return m[2] end
  end
end

-- weighted length (simplified twitter-text v3; see the header)
local LIGHT = { { 0, 4351 }, { 8192, 8205 }, { 8208, 8223 }, { 8242, 8247 } }

local function code_points(s)
  local out, i, n = {}, 1, #s
  while i <= n do
    local c = s:byte(i)
    local len, cp
    if c < 0x80 then len, cp = 1, c
    elseif c >= 0xC2 and c <= 0xDF then len, cp = 2, c - 0xC0
    elseif c >= 0xE0 and c <= 0xEF then len, cp = 3, c - 0xE0
    elseif c >= 0xF0 and c <= 0xF4 then len, cp = 4, c - 0xF0
    else return nil end
    for j = i + 1, i + len - 1 do
      local d = s:byte(j)
      if not d or d < 0x80 or d > 0xBF then return nil end
      cp = cp * 64 + (d - 0x80)
    end
    out[#out + 1] = cp
    i = i + len
  end
  return out
end

local function weighted_length(s)
  local urls = 0
  local rest = s:gsub("[hH][tT][tT][pP][sS]?://[^%s]+", function() urls = urls + 1; return "" end)
  local cps = code_points(rest)
  if not cps then return nil end
  local n = urls * 23
  for _, c in ipairs(cps) do
    local w = 2
    for _, r in ipairs(LIGHT) do
      if c >= r[1] and c <= r[2] then w = 1; break end
    end
    n = n + w
  end
  return n
end

function M.register(server)
  local state = server.state
  local array = server.array

  local function config()
    local c = state.get("x:config")
    if type(c) ~= "table" then return DEFAULTS end
    return c
  end

  local function txid()
    return string.format("%08x%08x", math.random(0, 0x7fffffff), math.random(0, 0x7fffffff))
  end

  -- answers ------------------------------------------------------------------

  local function problem(headers, status, title, detail, ptype, extra)
    headers["Content-Type"] = "application/problem+json"
    local body = { title = title, detail = detail, type = ptype or "about:blank", status = status }
    for k, v in pairs(extra or {}) do body[k] = v end
    return server.json(status, body, headers)
  end

  -- the v2 400 "Invalid Request" shape with one parameter error
  local function invalid(headers, param, value, message)
    headers["Content-Type"] = "application/problem+json"
    local params = {}
    params[param] = array({ value })
    return server.json(400, {
      errors = array({ { parameters = params, message = message } }),
      title = "Invalid Request", detail = "One or more parameters to your request was invalid.",
      type = PROBLEMS .. "invalid-request",
    }, headers)
  end

  local function not_found(headers, id, param)
    return problem(headers, 404, "Not Found Error", "Could not find media with id: [" .. tostring(id) .. "].",
      PROBLEMS .. "resource-not-found",
      { resource_type = "media", resource_id = tostring(id), parameter = param or "id", value = tostring(id) })
  end

  -- credentials and rate limits --------------------------------------------------

  local function authenticate(req)
    local h = req:header("authorization") or ""
    local scheme = h:match("^%s*(%S+)")
    if scheme and scheme:lower() == "oauth" then return server.auth.oauth1(req) end
    if scheme and scheme:lower() == "bearer" then
      local tok = server.auth.scheme(req, "Bearer")
      local tw = server.accounts().twitter
      if tw.app_bearer_token and tok == tw.app_bearer_token then return nil, "app_only" end
      return server.auth.bearer(req, "twitter")
    end
    return nil, "missing"
  end

  -- count a request in the user's 15-minute window (and the app's 24-hour one for posts);
  -- sets the x-rate-limit-* headers; false when a limit is exceeded
  local function count(bucket, user, headers)
    local cfg = config()
    local now = ngx.now()
    local limit = (cfg.limits or DEFAULTS.limits)[bucket] or DEFAULTS.limits[bucket]
    local window = math.floor(now / WINDOW)
    local n = state.incr("x:rl:" .. bucket .. ":" .. user .. ":" .. window, 1, 0)
    headers["x-rate-limit-limit"] = tostring(limit)
    headers["x-rate-limit-remaining"] = tostring(math.max(0, limit - n))
    headers["x-rate-limit-reset"] = tostring((window + 1) * WINDOW)
    local ok = n <= limit
    if bucket == "tweets" then
      local day = math.floor(now / DAY)
      local dlimit = cfg.tweets_24h or DEFAULTS.tweets_24h
      local d = state.incr("x:rl24:tweets:" .. day, 1, 0)
      headers["x-app-limit-24hour-limit"] = tostring(dlimit)
      headers["x-app-limit-24hour-remaining"] = tostring(math.max(0, dlimit - d))
      headers["x-app-limit-24hour-reset"] = tostring((day + 1) * DAY)
      ok = ok and d <= dlimit
    end
    return ok
  end

  -- every X route: credentials, rate limit, then the handler(req, user, headers, ...)
  local function route(method, pattern, bucket, fn)
    server.route(HOSTS, method, pattern, function(req, ...)
      local headers = { ["x-transaction-id"] = txid() }
      local who, reason = authenticate(req)
      if not who then
        count(bucket, "anonymous", headers)      -- the headers come on refusals too
        if reason == "app_only" then
          return problem(headers, 403, "Unsupported Authentication",
            "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  Supported "
            .. "authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context].",
            PROBLEMS .. "unsupported-authentication")
        end
        return problem(headers, 401, "Unauthorized", "Unauthorized")
      end
      local user = who.account and who.account.user_id or "0"
      if not count(bucket, user, headers) then
        return problem(headers, 429, "Too Many Requests", "Too Many Requests")
      end
      return fn(req, user, headers, ...)
    end)
  end

  -- media records -------------------------------------------------------------------

  local function new_media_id()
    return string.format("18800281%011d", state.incr("x:next_media", 1, 0))
  end

  local function media_get(id) return state.get("x:media:" .. id) end
  local function media_put(m) state.set("x:media:" .. m.id, m) end

  -- the data object of a media (upload, finalize and STATUS answers)
  local function media_data(m, with_processing)
    local d = { id = m.id, media_key = m.media_key, size = m.total, expires_after_secs = 86400 }
    if m.image_type then d.image = { image_type = m.image_type } end
    local p = m.processing
    if with_processing and p then
      local info = { state = p.state, progress_percent = p.progress }
      if p.state == "pending" or p.state == "in_progress" then
        info.check_after_secs = math.max(0, math.ceil(p.next_at - ngx.now()))
      end
      if p.state == "failed" then
        info.error = { code = 1, name = "InvalidMedia", message = p.message or "Unsupported video format" }
      end
      d.processing_info = info
    end
    return d
  end

  -- STATUS moves processing on by one step once check_after_secs have passed (with a
  -- little slack for the clocks): pending → in_progress → succeeded | failed
  local function advance(m)
    local p = m.processing
    if not p or p.state == "succeeded" or p.state == "failed" then return end
    if ngx.now() < p.next_at - 0.25 then return end
    local delay = config().check_after_secs or DEFAULTS.check_after_secs
    if p.state == "pending" then
      p.state, p.progress, p.next_at = "in_progress", 50, ngx.now() + delay
    elseif p.fail then
      p.state, p.progress = "failed", 100
    else
      p.state, p.progress = "succeeded", 100
    end
    p.polls = (p.polls or 0) + 1
    media_put(m)
  end

  -- whether the bytes look like the declared type (head = hex of the first 16 bytes)
  local function valid_content(m)
    local head = (m.head or ""):gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end)
    if m.category == "tweet_video" or m.category == "dm_video" or m.category == "amplify_video" then
      if not TWEET_VIDEO[m.media_type] then return false, "Unsupported video format" end
      if head:sub(5, 8) ~= "ftyp" then return false, "Unsupported video format" end
      return true
    end
    if m.category == "tweet_gif" or m.category == "dm_gif" then
      return head:find("^GIF8[79]a") ~= nil, "Unsupported gif format"
    end
    if m.category == "tweet_image" or m.category == "dm_image" then
      return image_type(head) ~= nil, "Unsupported image format"
    end
    return true
  end

  -- POST /2/tweets -------------------------------------------------------------------

  route("POST", "/2/tweets", "tweets", function(req, user, headers)
    local body, err = req:json(1024 * 1024)
    if type(body) ~= "table" then
      return problem(headers, 400, "Invalid Request", "Request body is not valid JSON: " .. tostring(err),
        PROBLEMS .. "invalid-request")
    end
    local text = body.text
    if text ~= nil and type(text) ~= "string" then
      return invalid(headers, "text", tostring(text), "$.text: must be a string")
    end
    local ids = {}
    if body.media ~= nil then
      local list = type(body.media) == "table" and body.media.media_ids
      if type(list) ~= "table" or #list < 1 or #list > 4 then
        return invalid(headers, "media.media_ids", nil, "$.media.media_ids: size must be between 1 and 4")
      end
      for _, id in ipairs(list) do
        if type(id) ~= "string" or not id:match("^%d+$") or #id > 19 then
          return invalid(headers, "media.media_ids", tostring(id),
            "$.media.media_ids: does not match the regex pattern ^[0-9]{1,19}$")
        end
        ids[#ids + 1] = id
      end
    end
    if (text == nil or text == "") and #ids == 0 then
      return invalid(headers, "text", nil, "Post text is required unless media is attached.")
    end
    if text then
      local n = weighted_length(text)
      if not n then return invalid(headers, "text", nil, "$.text: is not valid UTF-8") end
      if n > MAX_TEXT then
        return invalid(headers, "text", nil, "Your Tweet text is too long. For more information on how X "
          .. "determines text length see https://github.com/twitter/twitter-text.")
      end
    end
    -- media: known, the user's, processed, and at most one video/GIF (then alone)
    local heavy = 0
    for _, id in ipairs(ids) do
      local m = media_get(id)
      local p = m and m.processing
      if not m or m.user ~= user or not m.finalized or (p and p.state ~= "succeeded") then
        return invalid(headers, "media.media_ids", id, "Your media IDs are invalid.")
      end
      if m.category ~= "tweet_image" and m.category ~= "dm_image" then heavy = heavy + 1 end
    end
    if heavy > 0 and #ids > 1 then
      return invalid(headers, "media.media_ids", ids[1], "Your media IDs are invalid.")
    end
    local reply_to
    if body.reply ~= nil then
      reply_to = type(body.reply) == "table" and body.reply.in_reply_to_tweet_id
      if type(reply_to) ~= "string" or not reply_to:match("^%d+$") then
        return invalid(headers, "reply.in_reply_to_tweet_id", tostring(reply_to),
          "$.reply.in_reply_to_tweet_id: does not match the regex pattern ^[0-9]{1,19}$")
      end
      if not state.get("x:tweet:" .. reply_to) then
        return problem(headers, 403, "Forbidden",
          "You attempted to reply to a Tweet that is deleted or not visible to you.")
      end
    end
    local cfg = config()
    local dup_key
    if text and text ~= "" and cfg.duplicate_check ~= false then
      dup_key = "x:dup:" .. user .. ":" .. server.crypto.sha256_hex(text)
      local earlier = state.get(dup_key)
      local window = cfg.duplicate_window_secs or 0
      if type(earlier) == "table" and state.get("x:tweet:" .. earlier.id)
        and (window <= 0 or ngx.now() - earlier.at < window) then
        return problem(headers, 403, "Forbidden", "You are not allowed to create a Tweet with duplicate content.")
      end
    end
    local id = string.format("1445880548%09d", state.incr("x:next_tweet", 1, 0))
    local now = ngx.now()
    local parent = reply_to and state.get("x:tweet:" .. reply_to)
    state.set("x:tweet:" .. id, { id = id, text = text or "", media_ids = ids, reply_to = reply_to,
      user = user, host = req.host, body = body, created_at = iso_ms(now), created_ts = now,
      conversation_id = parent and (parent.conversation_id or parent.id) or id,
      reply_to_user = parent and parent.user or nil })
    if dup_key then state.set(dup_key, { id = id, at = now }) end
    return server.json(201, { data = { id = id, text = text or "", edit_history_tweet_ids = array({ id }) } },
      headers)
  end)

  -- lookups and delete of posts -------------------------------------------------------
  -- GET /2/tweets/:id, GET /2/tweets?ids=, GET /2/users/:id/tweets, DELETE /2/tweets/:id.
  -- A missing post in a lookup is not an HTTP error: 200 with an errors[] entry of type
  -- resource-not-found (and no data when nothing was found), as X answers.

  local function tweet_get(id) return state.get("x:tweet:" .. id) end

  local function not_found_post(id, param)
    return { value = id, detail = "Could not find tweet with " .. param .. ": [" .. id .. "].",
      title = "Not Found Error", resource_type = "tweet", parameter = param, resource_id = id,
      type = PROBLEMS .. "resource-not-found" }
  end

  -- the requested field set (tweet.fields or post.fields); nil after answering 400
  local function fields_of(req, headers)
    local a = req:args()
    local set = {}
    for _, name in ipairs({ "tweet.fields", "post.fields" }) do
      local v = a[name]
      if type(v) == "table" then v = table.concat(v, ",") end
      if type(v) == "string" then
        for f in v:gmatch("[^,]+") do
          if not POST_FIELDS[f] then
            local fields = {}
            for k in pairs(POST_FIELDS) do fields[#fields + 1] = k end
            table.sort(fields)
            invalid(headers, name, f, "The `" .. name .. "` query parameter value [" .. f .. "] is not one of ["
              .. table.concat(fields, ",") .. "]")
            return nil
          end
          set[f] = true
        end
      end
    end
    return set
  end

  -- a stored post in the v2 shape: id, text, edit_history_tweet_ids by default, the rest on request
  local function post_data(t, fields)
    local d = { id = t.id, text = t.text, edit_history_tweet_ids = array({ t.id }) }
    if fields.created_at then d.created_at = t.created_at end
    if fields.author_id then d.author_id = t.user end
    if fields.conversation_id then d.conversation_id = t.conversation_id or t.id end
    if fields.in_reply_to_user_id and t.reply_to_user then d.in_reply_to_user_id = t.reply_to_user end
    if fields.referenced_tweets and t.reply_to then
      d.referenced_tweets = array({ { type = "replied_to", id = t.reply_to } })
    end
    if fields.attachments and #(t.media_ids or {}) > 0 then
      local keys = array()
      for _, mid in ipairs(t.media_ids) do
        local m = media_get(mid)
        keys[#keys + 1] = m and m.media_key or ("3_" .. mid)
      end
      d.attachments = { media_keys = keys }
    end
    if fields.reply_settings then d.reply_settings = "everyone" end
    if fields.possibly_sensitive then d.possibly_sensitive = false end
    if fields.lang then d.lang = "en" end                                   -- [guess] always "en"
    if fields.public_metrics then
      d.public_metrics = { retweet_count = 0, reply_count = 0, like_count = 0, quote_count = 0,
        bookmark_count = 0, impression_count = 0 }
    end
    if fields.edit_controls then
      d.edit_controls = { edits_remaining = 5, is_edit_eligible = true,
        editable_until = iso_ms((t.created_ts or ngx.now()) + 1800) }
    end
    return d
  end

  route("GET", "/2/tweets/(%d+)", "tweets_lookup", function(req, _, headers, id)
    local fields = fields_of(req, headers)
    if not fields then return end
    local t = tweet_get(id)
    if not t then return server.json(200, { errors = array({ not_found_post(id, "id") }) }, headers) end
    return server.json(200, { data = post_data(t, fields) }, headers)
  end)

  route("GET", "/2/tweets", "tweets_lookup", function(req, _, headers)
    local fields = fields_of(req, headers)
    if not fields then return end
    local raw = req:args().ids
    if type(raw) == "table" then raw = table.concat(raw, ",") end
    if type(raw) ~= "string" or raw == "" then
      return invalid(headers, "ids", nil, "The query parameter [ids] is required")
    end
    local list = {}
    for v in (raw .. ","):gmatch("([^,]*),") do
      if not v:match("^%d+$") or #v > 19 then
        return invalid(headers, "ids", v, "The `ids` query parameter value [" .. v .. "] does not match ^[0-9]{1,19}$")
      end
      list[#list + 1] = v
    end
    if #list > 100 then
      return invalid(headers, "ids", raw, "The number of values in the `ids` query parameter list ["
        .. #list .. "] is not between 1 and 100")
    end
    local data, errors = array(), array()
    for _, v in ipairs(list) do
      local t = tweet_get(v)
      if t then data[#data + 1] = post_data(t, fields) else errors[#errors + 1] = not_found_post(v, "ids") end
    end
    local out = {}
    if #data > 0 then out.data = data end
    if #errors > 0 then out.errors = errors end
    return server.json(200, out, headers)
  end)

  -- pagination tokens: "n" + hex(id) = older than id (next), "p" + hex(id) = newer than id
  local function token(kind, id)
    return kind .. id:gsub(".", function(c) return string.format("%02x", c:byte()) end)
  end

  local function untoken(s)
    local kind, hex = s:match("^([np])(%x+)$")
    if not kind or #hex % 2 ~= 0 then return nil end
    local id = hex:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end)
    if not id:match("^%d+$") then return nil end
    return kind, id
  end

  local function known_user(id)
    local a = server.accounts()
    return id == a.twitter.user_id or (a.other and a.other.twitter and id == a.other.twitter.user_id)
  end

  -- one timeline query's filters from the query string; nil after answering 400
  local function timeline_query(req, headers)
    local a = req:args()
    local q = { max = 10 }
    if a.max_results ~= nil then
      local n = tonumber(a.max_results)
      if not n or n ~= math.floor(n) or n < 5 or n > 100 then
        invalid(headers, "max_results", tostring(a.max_results), "The `max_results` query parameter value ["
          .. tostring(a.max_results) .. "] is not between 5 and 100")
        return nil
      end
      q.max = n
    end
    for _, name in ipairs({ "since_id", "until_id" }) do
      local v = a[name]
      if v ~= nil then
        if type(v) ~= "string" or not v:match("^%d+$") then
          invalid(headers, name, tostring(v), "The `" .. name .. "` query parameter value [" .. tostring(v)
            .. "] does not match ^[0-9]{1,19}$")
          return nil
        end
        q[name] = v
      end
    end
    for _, name in ipairs({ "start_time", "end_time" }) do
      local v = a[name]
      if v ~= nil then
        local t = parse_time(v)
        if not t then
          invalid(headers, name, tostring(v), "Invalid '" .. name .. "':'" .. tostring(v)
            .. "'. '" .. name .. "' must be a valid RFC 3339 date-time (YYYY-MM-DDTHH:mm:ssZ).")
          return nil
        end
        q[name] = t
      end
    end
    local ex = a.exclude
    if type(ex) == "table" then ex = table.concat(ex, ",") end
    q.exclude = {}
    if type(ex) == "string" then
      for v in ex:gmatch("[^,]+") do
        if v ~= "replies" and v ~= "retweets" then
          invalid(headers, "exclude", v, "The `exclude` query parameter value [" .. v
            .. "] is not one of [replies,retweets]")
          return nil
        end
        q.exclude[v] = true
      end
    end
    if a.pagination_token ~= nil then
      local kind, id = untoken(tostring(a.pagination_token))
      if not kind then
        invalid(headers, "pagination_token", tostring(a.pagination_token),
          "The `pagination_token` query parameter value [" .. tostring(a.pagination_token) .. "] is not valid")
        return nil
      end
      q.page_kind, q.page_id = kind, id
    end
    return q
  end

  -- GET /2/users/:id/tweets: the user's posts, newest first, max_results per page
  route("GET", "/2/users/(%d+)/tweets", "users_tweets", function(req, _, headers, uid)
    local fields = fields_of(req, headers)
    if not fields then return end
    local q = timeline_query(req, headers)
    if not q then return end
    if not known_user(uid) then
      return server.json(200, { errors = array({ { value = uid, detail = "Could not find user with id: [" .. uid
        .. "].", title = "Not Found Error", resource_type = "user", parameter = "id", resource_id = uid,
        type = PROBLEMS .. "resource-not-found" } }) }, headers)
    end
    local all = {}
    local keys = state.keys("x:tweet:")
    for i = #keys, 1, -1 do                            -- ids grow with time: newest first
      local t = state.get(keys[i])
      if t and t.user == uid and not (q.exclude.replies and t.reply_to) then all[#all + 1] = t end
    end
    local cap = q.exclude.replies and TIMELINE_CAP_NO_REPLIES or TIMELINE_CAP
    local list = {}
    for i = 1, math.min(#all, cap) do
      local t = all[i]
      local ts = t.created_ts or 0
      if (not q.since_id or t.id > q.since_id) and (not q.until_id or t.id < q.until_id)
        and (not q.start_time or ts >= q.start_time) and (not q.end_time or ts < q.end_time) then
        list[#list + 1] = t
      end
    end
    local first, last                                  -- the page: after / before the token's post
    if q.page_kind == "n" then
      first = #list + 1
      for i, t in ipairs(list) do if t.id < q.page_id then first = i; break end end
      last = math.min(#list, first + q.max - 1)
    elseif q.page_kind == "p" then
      last = 0
      for i = #list, 1, -1 do if list[i].id > q.page_id then last = i; break end end
      first = math.max(1, last - q.max + 1)
    else
      first, last = 1, math.min(#list, q.max)
    end
    local data = array()
    for i = first, last do data[#data + 1] = post_data(list[i], fields) end
    local meta = { result_count = #data }
    if #data > 0 then
      meta.newest_id, meta.oldest_id = data[1].id, data[#data].id
      if last < #list then meta.next_token = token("n", data[#data].id) end
      if first > 1 then meta.previous_token = token("p", data[1].id) end
    end
    local out = { meta = meta }
    if #data > 0 then out.data = data end
    return server.json(200, out, headers)
  end)

  -- DELETE /2/tweets/:id → {"data":{"deleted":true}}; only the author may delete
  route("DELETE", "/2/tweets/(%d+)", "tweets_delete", function(_, user, headers, id)
    local t = tweet_get(id)
    if not t then                                      -- [guess] X's answer for an unknown id
      headers["Content-Type"] = "application/problem+json"
      local p = not_found_post(id, "id")
      p.status = 404
      return server.json(404, p, headers)
    end
    if t.user ~= user then                             -- [guess] the exact detail text
      return problem(headers, 403, "Forbidden", "You are not allowed to delete this Tweet.")
    end
    state.delete("x:tweet:" .. id)
    if t.text ~= "" then
      local key = "x:dup:" .. t.user .. ":" .. server.crypto.sha256_hex(t.text)
      local d = state.get(key)
      if type(d) == "table" and d.id == id then state.delete(key) end
    end
    return server.json(200, { data = { deleted = true } }, headers)
  end)

  -- POST /2/media/upload (one-shot: images and subtitles) ------------------------------

  route("POST", "/2/media/upload", "media_upload", function(req, user, headers)
    local fields = {}
    if req:content_type() == "application/json" then
      local body = req:json(16 * 1024 * 1024)
      if type(body) ~= "table" then return invalid(headers, "media", nil, "Request body is not valid JSON") end
      fields.media_category, fields.media_type = body.media_category, body.media_type
      fields.media = type(body.media) == "string" and ngx.decode_base64(body.media) or nil
    else
      local parts, err = req:multipart(16 * 1024 * 1024)
      if not parts then
        return invalid(headers, "media", nil, "Expected a multipart/form-data body: " .. tostring(err))
      end
      for _, name in ipairs({ "media", "media_category", "media_type" }) do
        fields[name] = parts.by_name[name] and parts.by_name[name].data
      end
    end
    local cat = fields.media_category
    if not fields.media then return invalid(headers, "media", nil, "media is required") end
    if not cat then return invalid(headers, "media_category", nil, "media_category is required") end
    if not ONE_SHOT[cat] then
      return invalid(headers, "media_category", cat,
        "media_category " .. cat .. " needs the chunked upload (initialize, append, finalize)")
    end
    if fields.media_type and not MEDIA_TYPES[fields.media_type] then
      return invalid(headers, "media_type", fields.media_type, "media_type is not supported")
    end
    if #fields.media > IMAGE_MAX then
      return invalid(headers, "media", nil, "File size exceeds " .. IMAGE_MAX .. " bytes.")
    end
    local itype = image_type(fields.media:sub(1, 16))
    if cat ~= "subtitles" and not itype then
      return invalid(headers, "media", nil, "media type unrecognized.")
    end
    local id = new_media_id()
    local m = { id = id, media_key = "3_" .. id, user = user, category = cat,
      media_type = fields.media_type or itype, image_type = itype, total = #fields.media,
      sha256 = server.crypto.sha256_hex(fields.media), finalized = true, one_shot = true,
      host = req.host }
    media_put(m)
    return server.json(200, { data = media_data(m) }, headers)
  end)

  -- GET /2/media/upload?media_id=&command=STATUS ---------------------------------------

  route("GET", "/2/media/upload", "media_status", function(req, user, headers)
    local a = req:args()
    local id, command = a.media_id, a.command
    if command ~= nil and command ~= "STATUS" then
      return invalid(headers, "command", tostring(command), "command must be STATUS")
    end
    if type(id) ~= "string" or not id:match("^%d+$") then
      return invalid(headers, "media_id", tostring(id), "media_id is required (digits)")
    end
    local m = media_get(id)
    if not m or m.user ~= user then return not_found(headers, id, "media_id") end
    if not m.finalized then
      return invalid(headers, "media_id", id, "The media upload is not finalized.")
    end
    m.status_polls = (m.status_polls or 0) + 1
    media_put(m)
    advance(m)
    return server.json(200, { data = media_data(media_get(id), true) }, headers)
  end)

  -- chunked upload -------------------------------------------------------------------------

  route("POST", "/2/media/upload/initialize", "media_initialize", function(req, user, headers)
    local body, err = req:json(65536)
    if type(body) ~= "table" then
      return problem(headers, 400, "Invalid Request", "Request body is not valid JSON: " .. tostring(err),
        PROBLEMS .. "invalid-request")
    end
    local cat, mtype, total = body.media_category, body.media_type, body.total_bytes
    if cat ~= nil and not CATEGORIES[cat] then
      return invalid(headers, "media_category", tostring(cat), "media_category is not supported")
    end
    cat = cat or "tweet_image"
    if type(mtype) ~= "string" or not MEDIA_TYPES[mtype] then
      return invalid(headers, "media_type", tostring(mtype), "media_type is not supported")
    end
    if type(total) ~= "number" or total ~= math.floor(total) or total < 1 or total > 17179869184 then
      return invalid(headers, "total_bytes", tostring(total), "total_bytes must be an integer in 1..17179869184")
    end
    local max = (cat == "tweet_image" or cat == "dm_image") and IMAGE_MAX
      or (cat == "tweet_gif" or cat == "dm_gif") and 15 * 1024 * 1024 or VIDEO_MAX
    if total > max then
      return invalid(headers, "total_bytes", tostring(total), "File size exceeds " .. max .. " bytes.")
    end
    local id = new_media_id()
    local prefix = cat:find("video", 1, true) and "7_" or cat:find("gif", 1, true) and "16_" or "3_"
    local m = { id = id, media_key = prefix .. id, user = user, category = cat, media_type = mtype,
      total = total, received = 0, segments = {}, appends = {}, finalized = false, host = req.host,
      expires_at = math.floor(ngx.now()) + DAY }
    media_put(m)
    return server.json(200, { data = { id = id, media_key = m.media_key, expires_after_secs = DAY - 1 } },
      headers)
  end)

  route("POST", "/2/media/upload/(%d+)/append", "media_append", function(req, user, headers, id)
    local m = media_get(id)
    if not m or m.user ~= user or m.one_shot then return not_found(headers, id) end
    if m.finalized then
      return invalid(headers, "id", id, "The media upload is already finalized: no more segments.")
    end
    local parts, err = req:multipart(16 * 1024 * 1024)
    if not parts then
      return invalid(headers, "media", nil, "Expected a multipart/form-data body: " .. tostring(err))
    end
    local si = parts.by_name.segment_index and tonumber(parts.by_name.segment_index.data)
    if not si or si ~= math.floor(si) or si < 0 or si > 999 then
      return invalid(headers, "segment_index", nil, "segment_index must be an integer in 0..999")
    end
    local chunk = parts.by_name.media and parts.by_name.media.data
    if not chunk or chunk == "" then return invalid(headers, "media", nil, "media is required") end
    if #chunk > SEGMENT_MAX then
      return invalid(headers, "media", nil, "Segment exceeds " .. SEGMENT_MAX .. " bytes.")
    end
    local have = 0
    while m.segments["s" .. have] do have = have + 1 end
    if si > have then
      return invalid(headers, "segment_index", tostring(si),
        "Segments must be sent in order: expected segment_index " .. have .. " or lower.")
    end
    m.segments["s" .. si] = #chunk
    m.appends[#m.appends + 1] = si
    if si == 0 then
      m.head = chunk:sub(1, 16):gsub(".", function(c) return string.format("%02x", c:byte()) end)
    end
    media_put(m)
    return server.json(200, { data = { expires_at = m.expires_at } }, headers)
  end)

  route("POST", "/2/media/upload/(%d+)/finalize", "media_finalize", function(req, user, headers, id)
    local m = media_get(id)
    if not m or m.user ~= user or m.one_shot then return not_found(headers, id) end
    if not m.finalized then
      local n, size = 0, 0
      while m.segments["s" .. n] do size = size + m.segments["s" .. n]; n = n + 1 end
      if n == 0 or size ~= m.total then
        return invalid(headers, "id", id, "Segments do not add up to provided total file size.")
      end
      m.finalized, m.received = true, size
      local ok, why = valid_content(m)
      local cat = m.category
      if cat == "tweet_image" or cat == "dm_image" or cat == "subtitles" then
        if not ok then
          m.processing = { state = "failed", progress = 100, fail = true, message = why, next_at = 0 }
        end
      else
        m.processing = { state = "pending", progress = 0, fail = not ok, message = why,
          next_at = ngx.now() + (config().check_after_secs or DEFAULTS.check_after_secs) }
      end
      media_put(m)
    end
    return server.json(200, { data = media_data(m, true) }, headers)
  end)

  -- POST /2/media/metadata (alt text) ---------------------------------------------------------

  route("POST", "/2/media/metadata", "media_metadata", function(req, user, headers)
    local body, err = req:json(65536)
    if type(body) ~= "table" then
      return problem(headers, 400, "Invalid Request", "Request body is not valid JSON: " .. tostring(err),
        PROBLEMS .. "invalid-request")
    end
    local id = body.id
    if type(id) ~= "string" or not id:match("^%d+$") then
      return invalid(headers, "id", tostring(id), "$.id: does not match the regex pattern ^[0-9]{1,19}$")
    end
    local m = media_get(id)
    if not m or m.user ~= user then return invalid(headers, "id", id, "Your media ID is invalid.") end
    local meta = type(body.metadata) == "table" and body.metadata or {}
    local alt = type(meta.alt_text) == "table" and meta.alt_text.text
    if alt ~= nil then
      local cps = type(alt) == "string" and code_points(alt)
      if not cps or #cps > 1000 then
        return invalid(headers, "metadata.alt_text.text", nil, "$.metadata.alt_text.text: at most 1000 characters")
      end
      m.alt_text = alt
      media_put(m)
    end
    return server.json(200, { data = { id = id, associated_metadata = meta } }, headers)
  end)

  -- sandbox-only control ----------------------------------------------------------------------

  local H = server.CONTROL_HOST

  server.route(H, { "GET", "POST" }, "/_/x/config", function(req)
    if req.method == "POST" then
      local t, err = req:json(65536)
      if type(t) ~= "table" then return server.fail(400, err or "expected a JSON object") end
      local c = config()
      local new = { limits = {}, tweets_24h = c.tweets_24h, check_after_secs = c.check_after_secs,
        duplicate_check = c.duplicate_check, duplicate_window_secs = c.duplicate_window_secs }
      for k, v in pairs(c.limits or DEFAULTS.limits) do new.limits[k] = v end
      for k, v in pairs(type(t.limits) == "table" and t.limits or {}) do
        if not DEFAULTS.limits[k] or type(v) ~= "number" or v < 0 then
          return server.fail(400, "bad limit " .. tostring(k))
        end
        new.limits[k] = v
      end
      if t.tweets_24h ~= nil then
        if type(t.tweets_24h) ~= "number" or t.tweets_24h < 0 then return server.fail(400, "bad tweets_24h") end
        new.tweets_24h = t.tweets_24h
      end
      if t.check_after_secs ~= nil then
        local v = t.check_after_secs
        if type(v) ~= "number" or v < 0 or v > 60 then return server.fail(400, "bad check_after_secs") end
        new.check_after_secs = v
      end
      if t.duplicate_check ~= nil then
        if type(t.duplicate_check) ~= "boolean" then return server.fail(400, "bad duplicate_check") end
        new.duplicate_check = t.duplicate_check
      end
      if t.duplicate_window_secs ~= nil then
        local v = t.duplicate_window_secs
        if type(v) ~= "number" or v < 0 then return server.fail(400, "bad duplicate_window_secs") end
        new.duplicate_window_secs = v
      end
      state.set("x:config", new)
    end
    return server.json(200, config())
  end)

  server.route(H, "GET", "/_/x/tweets/(%d+)", function(_, id)
    local t = state.get("x:tweet:" .. id)
    if not t then return server.fail(404, "no post " .. id) end
    return server.json(200, t)
  end)

  server.route(H, "GET", "/_/x/media/(%d+)", function(_, id)
    local m = media_get(id)
    if not m then return server.fail(404, "no media " .. id) end
    return server.json(200, m)
  end)
end

M.weighted_length = weighted_length
return M
