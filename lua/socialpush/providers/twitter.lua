--- socialpush.twitter: X (Twitter) API v2 — posts, pictures and videos.
-- Handles: `client:twitter{creds}` (or `client:x{creds}`). Credentials are OAuth 1.0a user
-- context (consumer_key, consumer_secret, token, token_secret) or an OAuth 2 user token
-- (bearer_token or access_token); `base_url` (default https://api.x.com) and `version`
-- ("2") may be overridden in them. See docs/providers/twitter.md.
--
-- syntax: res, msg, err = tw:post{message=, attachments=, reply_to=}
-- syntax: res, msg, err = tw:picture{picture=, description=, message=}
-- syntax: res, msg, err = tw:video{video=, message=, wait=, chunk_size=}
local pipeline = require "socialpush.pipeline"
local check = require "socialpush.check"
local media = require "socialpush.media"
local upload = require "socialpush.upload"
local text = require "socialpush.text"
local errors = require "socialpush.errors"

local M = {
  name = "twitter",
  base_url = "https://api.x.com",          -- creds.base_url overrides (https://api.twitter.com answers too)
  version = "2",                           -- creds.version overrides
  status_url = "https://x.com/i/web/status/",
  max_text = 280,                          -- weighted length (twitter-text v3)
  max_attachments = 4,
  max_alt_text = 1000,
  chunk_size = 4 * 1024 * 1024,            -- APPEND segments (v2 limit unconfirmed; xurl uses 4 MB)
  max_polls = 1000,                        -- STATUS polls per upload (the timeout bounds them too)
  image_limits = { types = { "image/jpeg", "image/png", "image/gif", "image/webp" }, max_size = 5 * 1024 * 1024 },
  video_limits = { types = { "video/mp4", "video/quicktime" }, max_size = 512 * 1024 * 1024 },
}

-- v1.1 error codes that mean the credentials were refused
local AUTH_CODES = { [32] = true, [89] = true, [135] = true, [215] = true }
-- v2 "parameters" names → the argument they come from
local FIELDS = { text = "message", ["media.media_ids"] = "attachments",
  ["reply.in_reply_to_tweet_id"] = "reply_to", id = "attachments" }

--- The auth scheme of a credentials table: "oauth1" when all four OAuth 1.0a values are
-- there, else "bearer" (an OAuth 2 user token in bearer_token or access_token).
-- syntax: scheme = twitter.auth_scheme(creds)
function M.auth_scheme(creds)
  for _, k in ipairs { "consumer_key", "consumer_secret", "token", "token_secret" } do
    if type(creds[k]) ~= "string" or creds[k] == "" then return "bearer" end
  end
  return "oauth1"
end

local function api(h, path)
  return (h.creds.base_url or M.base_url) .. "/" .. (h.creds.version or M.version) .. path
end

local copy = check.copy

-- seconds until the rate-limit window that stopped the request resets: the latest reset
-- of an exhausted window (15-minute, per-user 24-hour, per-app 24-hour), else
-- Retry-After, else the 15-minute reset; at least 1.
local function reset_wait(headers, now)
  local best
  for _, prefix in ipairs { "x-rate-limit", "x-user-limit-24hour", "x-app-limit-24hour" } do
    local reset, left = tonumber(headers[prefix .. "-reset"]), tonumber(headers[prefix .. "-remaining"])
    if reset and left and left <= 0 and (best == nil or reset - now > best) then best = reset - now end
  end
  if best == nil then best = pipeline.retry_after_of(headers) end
  if best == nil and tonumber(headers["x-rate-limit-reset"]) then
    best = tonumber(headers["x-rate-limit-reset"]) - now
  end
  if best == nil then return nil end
  return best < 1 and 1 or best
end

--- Map a refused X response (v2 problem JSON, {errors=[{code, message}]} of v1.1 and the
-- simple Error shape, or a STATUS reply whose processing failed) to an error description.
-- syntax: t = twitter.map_error(res, spec)   -- {kind=, code=, detail=, field=, retry_after=, request_id=}
function M.map_error(res)
  local body = type(res.json) == "table" and res.json or {}
  local headers = res.headers or {}
  local status = res.status or 0
  local out = { request_id = headers["x-transaction-id"] or headers["x-request-id"] }
  local data = type(body.data) == "table" and body.data or nil
  local info = data and type(data.processing_info) == "table" and data.processing_info or nil
  if info and info.state == "failed" then
    local e = type(info.error) == "table" and info.error or {}
    out.kind = e.name == "InvalidMedia" and "unsupported" or "provider"
    out.code = e.code or e.name
    out.detail = e.message or e.name or "media processing failed"
    return out
  end
  local first = type(body.errors) == "table" and type(body.errors[1]) == "table" and body.errors[1] or {}
  local code = tonumber(body.code) or tonumber(first.code)
  local ptype = type(body.type) == "string" and body.type or type(first.type) == "string" and first.type or ""
  local detail = first.message or first.detail or body.detail or body.message or body.title
    or (type(body.error) == "table" and body.error.message) or nil
  if type(detail) ~= "string" then detail = nil end
  local low = (detail or "") .. " " .. (type(body.detail) == "string" and body.detail or "")
  low = low:lower()
  out.detail = detail
  out.code = code or ptype:match("/problems/([%w%-]+)$")
  if type(first.parameters) == "table" then
    for name in pairs(first.parameters) do out.field = FIELDS[name] or out.field end
  end
  local kind
  if status == 401 or AUTH_CODES[code] or ptype:find("unsupported-authentication", 1, true) then
    kind = "auth"
  elseif code == 187 or (status == 403 and low:find("duplicate", 1, true)) then
    kind = "duplicate"
  elseif status == 429 or code == 88 or code == 185 or ptype:find("usage-capped", 1, true)
      or ptype:find("rate-limit", 1, true) then
    kind = "rate_limited"
    out.retry_after = reset_wait(headers, os.time())
  elseif code == 186 then
    kind, out.field = "invalid_argument", "message"
  elseif code == 324 then
    kind, out.field = "invalid_argument", "attachments"
  elseif status == 413 then
    kind = "too_large"
  elseif status >= 500 then
    kind = "server"
  elseif status == 403 then
    kind = "permission"
  elseif status == 404 or ptype:find("resource-not-found", 1, true) then
    kind = "not_found"
  elseif status == 400 or ptype:find("invalid-request", 1, true) then
    kind = "invalid_argument"
  end
  out.kind = kind
  return out
end

-- nil, msg, err from a reply map_error describes (a 2xx whose media processing failed)
local function refuse(h, op, res)
  local m = M.map_error(res)
  return errors.fail { kind = m.kind or "provider", provider = M.name, operation = op, status = res.status,
    code = m.code, detail = m.detail, request_id = m.request_id,
    secrets = pipeline.secrets_of(h.creds) }
end

local function bad_reply(op, res, what)
  return errors.fail { kind = "decode", provider = M.name, operation = op, status = res.status,
    detail = "reply has no " .. what }
end

-- the data.id (digits) of a reply, or nil, msg, err
local function data_id(op, res)
  local data = type(res.json) == "table" and res.json.data
  local id = type(data) == "table" and data.id
  if type(id) == "number" then id = ("%.0f"):format(id) end
  if type(id) ~= "string" or not id:match("^%d+$") then return bad_reply(op, res, "data.id") end
  return id, data
end

---------------------------------------------------------------------------- checks

-- message: a string, weighted length at most 280 (twitter-text v3); "" counts as absent
local function check_message(op, a, required)
  if a.message == "" and not required then a.message = nil end
  local ok, msg, err = check.text(op, a, "message", { required = required })
  if not ok or a.message == nil then return ok, msg, err end
  local n, lmsg = text.twitter_length(a.message)
  if not n then return check.fail(op, "message", "%s", (lmsg:gsub("^[%w%._]+: ", ""))) end
  if n > M.max_text then
    return check.fail(op, "message", "message is %d weighted characters, the limit is %d", n, M.max_text)
  end
  return true
end

-- a numeric X id (post or media): digits only, at most 19; numbers below 2^53 are accepted
local function check_digits(op, a, field)
  if a[field] == nil then return true end
  local ok, msg, err = check.id(op, a, field, { required = false })
  if not ok then return nil, msg, err end
  if not a[field]:match("^%d+$") or #a[field] > 19 then
    return check.fail(op, field, "%s is not a numeric X id", field)
  end
  return true
end

local function check_attachments(op, a)
  local ok, msg, err = check.list(op, a, "attachments", M.max_attachments)
  if not ok or a.attachments == nil then return ok, msg, err end
  local ids = {}
  for i, v in ipairs(a.attachments) do
    local key = "attachments[" .. i .. "]"
    local t = { [key] = v }
    ok, msg, err = check_digits(op, t, key)
    if not ok then err.field = "attachments"; return nil, msg, err end
    ids[i] = t[key]
  end
  a.attachments = ids
  return true
end

local function check_flag(op, a, field)
  if a[field] ~= nil and type(a[field]) ~= "boolean" then
    return check.fail(op, field, "%s must be a boolean", field)
  end
  return true
end

local function check_chunk(op, a)
  local v = a.chunk_size
  if v ~= nil and (type(v) ~= "number" or v % 1 ~= 0 or v < 1 or v > M.chunk_size) then
    return check.fail(op, "chunk_size", "chunk_size must be an integer in 1..%d", M.chunk_size)
  end
  return true
end

-- open, check, and (for a URL: X cannot ingest URLs) download a media argument
local function open_media(h, op, field, value, limits)
  if value == nil then return check.fail(op, field, "%s is required", field) end
  local m, msg, err = media.open(op, field, value)
  if not m then return nil, msg, err end
  local ok
  ok, msg, err = media.check(op, field, m, limits)
  if not ok then return nil, msg, err end
  if m.source == "url" then
    local url = m.url
    m, msg, err = media.fetch(h.client, op, field, m, limits.max_size)
    if not m then return nil, msg, err end
    m.origin = url
    ok, msg, err = media.check(op, field, m, limits)
    if not ok then media.release(m); return nil, msg, err end
  end
  return m
end

------------------------------------------------------------------------ operations

-- POST /2/tweets; the normalised "post" result
local function create_post(h, op, message, media_ids, reply_to)
  local body = { text = message }
  if media_ids and #media_ids > 0 then body.media = { media_ids = media_ids } end
  if reply_to then body.reply = { in_reply_to_tweet_id = reply_to } end
  local res, msg, err = h:call { operation = op, method = "POST", url = api(h, "/tweets"), json = body,
    idempotent = false }
  if not res then return nil, msg, err end
  local id
  id, msg, err = data_id(op, res)
  if not id then return nil, msg, err end
  return pipeline.result(M.name, "post", id, M.status_url .. id, res.json)
end

--- Publish a post: text (weighted length ≤ 280) and/or up to 4 media ids, optionally as a
-- reply. Result: object "post", post_id = the post id, post_location its x.com URL.
-- syntax: res, msg, err = tw:post{message=, attachments={media_id, ...}, reply_to=post_id}
function M.post(h, args)
  local op = "twitter.post"
  local a = copy(args)
  local ok, msg, err = check.all(op, a, {
    { check_attachments }, { check_digits, "reply_to" },
  })
  if not ok then return nil, msg, err end
  ok, msg, err = check_message(op, a, a.attachments == nil or #a.attachments == 0)
  if not ok then return nil, msg, err end
  return create_post(h, op, a.message, a.attachments, a.reply_to)
end

-- POST /2/media/metadata: alt text of a media
local function set_alt_text(h, op, id, description)
  return h:call { operation = op, method = "POST", url = api(h, "/media/metadata"), idempotent = true,
    json = { id = id, metadata = { alt_text = { text = description } } } }
end

--- Upload a picture (one-shot v2 upload), with alt text from `description`; with `message`
-- the picture is also posted and the result is that post (object "post", media_id = the
-- picture), else object "picture" with post_id = the media id (attach it within 24 h).
-- syntax: res, msg, err = tw:picture{picture=, description=, message=}
function M.picture(h, args)
  local op = "twitter.picture"
  local a = copy(args)
  local ok, msg, err = check.all(op, a, { { check.text, "description", { max = M.max_alt_text } } })
  if not ok then return nil, msg, err end
  ok, msg, err = check_message(op, a, false)
  if not ok then return nil, msg, err end
  local m
  m, msg, err = open_media(h, op, "picture", a.picture, M.image_limits)
  if not m then return nil, msg, err end
  local res
  res, msg, err = h:call { operation = op, method = "POST", url = api(h, "/media/upload"), idempotent = false,
    multipart = {
      { name = "media_category", data = "tweet_image" },
      { name = "media_type", data = m.content_type },
      media.part("media", m),
    } }
  media.release(m)
  if not res then return nil, msg, err end
  local id
  id, msg, err = data_id(op, res)
  if not id then return nil, msg, err end
  if a.description and a.description:find("%S") then
    local mres
    mres, msg, err = set_alt_text(h, op, id, a.description)
    if not mres then return nil, msg, err end
  end
  if a.message then
    local post
    post, msg, err = create_post(h, op, a.message, { id })
    if not post then return nil, msg, err end
    post.media_id = id
    return post
  end
  local r = pipeline.result(M.name, "picture", id, nil, res.json)
  r.media_id = id
  return r
end

-- INITIALIZE (unless resuming), APPEND every segment from the resume point, FINALIZE.
-- Returns the media id and the finalize reply's data (processing_info).
local function chunked_upload(h, op, m, chunk, restarted)
  -- a downloaded URL is keyed by its URL, not by the temporary file
  local key = upload.key(op, m.origin and { url = m.origin, size = m.size } or m, tostring(chunk))
  local st = upload.state(h.client, key)
  local s = st.data
  if s.id and (type(s.id) ~= "string" or (tonumber(s.expires_at) or 0) <= os.time()) then
    st:clear(); s = st.data
  end
  local resumed = s.id ~= nil
  local res, msg, err
  if not resumed then
    res, msg, err = h:call { operation = op, method = "POST", url = api(h, "/media/upload/initialize"),
      idempotent = false,
      json = { media_type = m.content_type, total_bytes = m.size, media_category = "tweet_video" } }
    if not res then return nil, msg, err end
    local id, data, derr = data_id(op, res)
    if not id then return nil, data, derr end
    st.data = { id = id, next = 0, expires_at = os.time() + (tonumber(data.expires_after_secs) or 86400) }
    s = st.data
    st:save()
  end
  if not s.finalized then
    local from = tonumber(s.next) or 0
    for offset, length, i in upload.chunks(m.size, chunk, from * chunk) do
      local seg = from + i
      -- segments are idempotent: the client re-sends one after a dropped connection or a
      -- 429/503 with Retry-After; nothing before it is sent again
      res, msg, err = h:call { operation = op, method = "POST", idempotent = true,
        url = api(h, "/media/upload/" .. s.id .. "/append"),
        multipart = { { name = "segment_index", data = tostring(seg) }, media.part("media", m, offset, length) } }
      if not res then
        local gone = err.kind == "not_found" or err.kind == "invalid_argument"
        if resumed and not restarted and seg == from and gone then
          st:clear()                       -- the saved session is gone: start over, once
          return chunked_upload(h, op, m, chunk, true)
        end
        return nil, msg, err
      end
      s.next = seg + 1
      st:save()
    end
    res, msg, err = h:call { operation = op, method = "POST", idempotent = true,
      url = api(h, "/media/upload/" .. s.id .. "/finalize") }
    if not res then
      if err.kind == "invalid_argument" or err.kind == "not_found" then st:clear() end
      return nil, msg, err
    end
    local id, data, derr = data_id(op, res)
    if not id then return nil, data, derr end
    if id ~= s.id then return bad_reply(op, res, "the uploaded media id") end
    s.finalized = true
    st:save()
    return s.id, data, st, res
  end
  return s.id, { id = s.id, processing_info = { state = "pending", check_after_secs = 0 } }, st, nil
end

-- STATUS polling until succeeded/failed, honouring check_after_secs, bounded by the
-- client's timeout. Returns the final state ("succeeded", or the pending one when wait
-- is false) and the last reply.
local function await_processing(h, op, id, data, res, wait)
  local client = h.client
  local info = type(data.processing_info) == "table" and data.processing_info or nil
  local deadline = client:now() + (client.timeout or 60)
  local polls = 0
  while info and (info.state == "pending" or info.state == "in_progress") do
    if not wait then return info.state, res end
    local delay = tonumber(info.check_after_secs) or 1
    if delay < 0 then delay = 0 end
    polls = polls + 1
    if client:now() + delay > deadline or polls > M.max_polls then
      return errors.fail { kind = "timeout", provider = M.name, operation = op,
        detail = ("media %s still %s after %d status checks"):format(id, info.state, polls - 1) }
    end
    upload.sleep(client, delay)
    local msg, err
    res, msg, err = h:call { operation = op, method = "GET", url = api(h, "/media/upload"), idempotent = true,
      query = { { "media_id", id }, { "command", "STATUS" } } }
    if not res then return nil, msg, err end
    local rdata = type(res.json) == "table" and res.json.data
    if type(rdata) ~= "table" then return bad_reply(op, res, "data") end
    info = type(rdata.processing_info) == "table" and rdata.processing_info or nil
  end
  if info and info.state == "failed" then return refuse(h, op, res) end
  if info and info.state ~= "succeeded" then
    return errors.fail { kind = "decode", provider = M.name, operation = op, status = res and res.status,
      detail = "unknown processing state " .. tostring(info.state) }
  end
  return "succeeded", res
end

--- Upload a video (chunked v2 upload: initialize, append segments, finalize, STATUS polling)
-- and, with `message`, post it. wait = false returns right after finalize (object "video",
-- post_id = the media id, state = the processing state) and cannot be combined with message.
-- syntax: res, msg, err = tw:video{video=, message=, wait=true, chunk_size=}
function M.video(h, args)
  local op = "twitter.video"
  local a = copy(args)
  local ok, msg, err = check.all(op, a, { { check_flag, "wait" }, { check_chunk } })
  if not ok then return nil, msg, err end
  ok, msg, err = check_message(op, a, false)
  if not ok then return nil, msg, err end
  local wait = a.wait ~= false
  if a.message and not wait then
    return check.fail(op, "wait", "a post needs the processed video: wait = false cannot go with message")
  end
  local m
  m, msg, err = open_media(h, op, "video", a.video, M.video_limits)
  if not m then return nil, msg, err end
  if (m.size or 0) == 0 then media.release(m); return check.fail(op, "video", "video is empty") end
  local id, data, st, fres = chunked_upload(h, op, m, a.chunk_size or M.chunk_size)
  media.release(m)
  if not id then return nil, data, st end
  local state, res
  state, res, err = await_processing(h, op, id, data, fres, wait)
  if not state then
    if err.kind ~= "timeout" then st:clear() end     -- a timeout may be resumed: keep the session
    return nil, res, err
  end
  if state == "succeeded" then st:clear() end
  if a.message then
    local post
    post, msg, err = create_post(h, op, a.message, { id })
    if not post then return nil, msg, err end
    post.media_id = id
    return post
  end
  local r = pipeline.result(M.name, "video", id, nil, (res or fres) and (res or fres).json or data)
  r.media_id, r.state = id, state
  return r
end

return M
