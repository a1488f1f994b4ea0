--- socialpush.providers.twitter: X (Twitter) API v2 — posts, pictures and videos.
-- Handles: `client:twitter{creds}` (or `client:x{creds}`). Credentials are OAuth 1.0a user
-- context (consumer_key, consumer_secret, token, token_secret) or an OAuth 2 user token
-- (bearer_token or access_token); `base_url` (default https://api.x.com) and `version`
-- ("2") may be overridden in them. See docs/providers/twitter.md.
--
-- syntax: res, msg, err = tw:post{message=, attachments=, reply_to=, extra=}
-- syntax: res, msg, err = tw:picture{picture=, description=, message=, extra=}
-- syntax: res, msg, err = tw:video{video=, message=, wait=, chunk_size=, extra=}
local Handle = require "socialpush.pipeline.handle"
local pipeline = require "socialpush.pipeline"
local check = require "socialpush.pipeline.check"
local media = require "socialpush.pipeline.media"
local schemes = require "socialpush.pipeline.schemes"
local text = require "socialpush.text"
local upload = require "socialpush.providers.twitter.upload"

local M = Handle.class {
  name = "twitter",
  base_url = "https://api.x.com",          -- creds.base_url overrides (https://api.twitter.com answers too)
  version = "2",                           -- creds.version overrides
  status_url = "https://x.com/i/web/status/",
  max_text = 280,                          -- weighted length (twitter-text v3)
  max_attachments = 4,
  max_alt_text = 1000,
  chunk_size = upload.chunk_size,
  image_limits = { types = { "image/jpeg", "image/png", "image/gif", "image/webp" }, max_size = 5 * 1024 * 1024 },
  video_limits = { types = { "video/mp4", "video/quicktime" }, max_size = 512 * 1024 * 1024 },
  -- credentials that are not secret (kept readable in messages)
  public_creds = { base_url = true, version = true, user_id = true },
}
local mt = { __index = M, __tostring = Handle.tostring }

--- A handle bound to a client (client:twitter{creds}).
-- syntax: tw = twitter.new(client, creds)
function M.new(client, creds) return Handle.new(mt, client, creds) end

-- v1.1 error codes that mean the credentials were refused
local AUTH_CODES = { [32] = true, [89] = true, [135] = true, [215] = true }
-- v2 "parameters" names → the argument they come from
local FIELDS = { text = "message", ["media.media_ids"] = "attachments",
  ["reply.in_reply_to_tweet_id"] = "reply_to", id = "attachments" }

--- The auth scheme of a credentials table: "oauth1" when any OAuth 1.0a value is there (so
-- a missing one is named), else "bearer" (an OAuth 2 user token in bearer_token or access_token).
-- syntax: scheme = twitter.auth_scheme(creds)
function M.auth_scheme(creds)
  for _, k in ipairs(schemes.OAUTH1_KEYS) do
    if creds[k] ~= nil then return "oauth1" end
  end
  return "bearer"
end

--- The URL of an API path for a handle; nil, msg, err when base_url or version is malformed.
-- syntax: url, msg, err = tw:api(op, path)
function M.api(h, op, path)
  local base, version = h.creds.base_url or M.base_url, h.creds.version or M.version
  if type(base) ~= "string" or not base:match("^[hH][tT][tT][pP][sS]?://[^%s/?#]+[^%s?#]*$") then
    return check.fail(op, "base_url", "credentials base_url must be an http(s) URL")
  end
  if type(version) ~= "string" or not version:match("^[%w%.]+$") then
    return check.fail(op, "version", "credentials version must be a string such as \"2\"")
  end
  return base:gsub("/+$", "") .. "/" .. version .. path
end
-- seconds until the rate-limit window that stopped the request resets: the latest reset
-- of an exhausted window (15-minute, per-user 24-hour, per-app 24-hour), else
-- Retry-After, else the 15-minute reset; at least 1.
local function reset_wait(res, now)
  local headers = res.headers or {}
  local best
  for _, prefix in ipairs { "x-rate-limit", "x-user-limit-24hour", "x-app-limit-24hour" } do
    local reset, left = tonumber(headers[prefix .. "-reset"]), tonumber(headers[prefix .. "-remaining"])
    if reset and left and left <= 0 and (best == nil or reset - now > best) then best = reset - now end
  end
  if best == nil then best = res.retry_after end
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
    out.retry_after = reset_wait(res, os.time())
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

--- The data.id (digits) of a reply and its data table, or nil, msg, err (kind decode).
-- syntax: id, data = tw:data_id(op, res)
function M.data_id(h, op, res)
  local data = type(res.json) == "table" and res.json.data
  local id = type(data) == "table" and data.id
  if type(id) == "number" then id = ("%.0f"):format(id) end
  if type(id) ~= "string" or not id:match("^%d+$") then return pipeline.no_id(h, op, res, "data.id") end
  return id, data
end

---------------------------------------------------------------------------- checks

-- message: a string, weighted length at most 280 (twitter-text v3); "" counts as absent
local function check_message(op, a, required)
  if a.message == "" and not required then a.message = nil end
  local ok, msg, err = check.text(op, a, "message", { required = required })
  if not ok or a.message == nil then return ok, msg, err end
  local n, lmsg = text.twitter_length(a.message)
  if not n then return check.fail(op, "message", "%s", (tostring(lmsg):gsub("^[%w%._]+: ", ""))) end
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

------------------------------------------------------------------------ operations

-- POST /2/tweets with the arguments' extra parameters; the normalised "post" result
local function create_post(h, op, a, media_ids, reply_to)
  local body = { text = a.message }
  if media_ids and #media_ids > 0 then body.media = { media_ids = media_ids } end
  if reply_to then body.reply = { in_reply_to_tweet_id = reply_to } end
  local b, msg, err = Handle.merge_extra(op, a, body)
  if not b then return nil, msg, err end
  local url
  url, msg, err = h:api(op, "/tweets")
  if not url then return nil, msg, err end
  local res
  res, msg, err = h:call { operation = op, method = "POST", url = url, json = b, idempotent = false }
  if not res then return nil, msg, err end
  local id
  id, msg, err = h:data_id(op, res)
  if not id then return nil, msg, err end
  return pipeline.result(M.name, "post", id, M.status_url .. id, res.json)
end

--- Publish a post: text (weighted length ≤ 280) and/or up to 4 media ids, optionally as a
-- reply; extra = {reply_settings=, poll=, ...} adds POST /2/tweets body fields. Result:
-- object "post", post_id = the post id, post_location its x.com URL.
-- syntax: res, msg, err = tw:post{message=, attachments={media_id, ...}, reply_to=post_id, extra=}
Handle.operation(M, "post", { "message", "attachments", "reply_to" }, function(h, a, op)
  local ok, msg, err = check.all(op, a, { { check_attachments }, { check_digits, "reply_to" } })
  if not ok then return nil, msg, err end
  ok, msg, err = check_message(op, a, a.attachments == nil or #a.attachments == 0)
  if not ok then return nil, msg, err end
  return create_post(h, op, a, a.attachments, a.reply_to)
end)

-- the media result, or the post of it when a message is given
local function posted(h, op, a, object, id, raw)
  if a.message then
    local post, msg, err = create_post(h, op, a, { id })
    if not post then return nil, msg, err end
    post.media_id = id
    return post
  end
  local r = pipeline.result(M.name, object, id, nil, raw)
  r.media_id = id
  return r
end

--- Upload a picture (one-shot v2 upload), with alt text from `description`; with `message`
-- the picture is also posted and the result is that post (object "post", media_id = the
-- picture), else object "picture" with post_id = the media id (attach it within 24 h).
-- syntax: res, msg, err = tw:picture{picture=, description=, message=, extra=}
Handle.operation(M, "picture", { "picture", "description", "message" }, function(h, a, op)
  local ok, msg, err = check.all(op, a, { { check.text, "description", { max = M.max_alt_text } } })
  if not ok then return nil, msg, err end
  ok, msg, err = check_message(op, a, false)
  if not ok then return nil, msg, err end
  local m
  m, msg, err = media.prepare(h.client, op, "picture", a.picture, M.image_limits, { download = true })
  if not m then return nil, msg, err end
  local up
  up, msg, err = upload.picture(h, op, m, a.description)
  media.release(m)
  if not up then return nil, msg, err end
  return posted(h, op, a, "picture", up.id, up.raw)
end)

--- Upload a video (chunked v2 upload: initialize, append segments, finalize, STATUS polling)
-- and, with `message`, post it. wait = false returns right after finalize (object "video",
-- post_id = the media id, state = the processing state) and cannot be combined with message.
-- syntax: res, msg, err = tw:video{video=, message=, wait=true, chunk_size=, extra=}
Handle.operation(M, "video", { "video", "message", "wait", "chunk_size" }, function(h, a, op)
  local ok, msg, err = check.all(op, a, { { check.boolean, "wait" },
    { check.integer, "chunk_size", { min = 1, max = upload.chunk_size } } })
  if not ok then return nil, msg, err end
  ok, msg, err = check_message(op, a, false)
  if not ok then return nil, msg, err end
  local wait = a.wait ~= false
  if a.message and not wait then
    return check.fail(op, "wait", "a post needs the processed video: wait = false cannot go with message")
  end
  local m
  m, msg, err = media.prepare(h.client, op, "video", a.video, M.video_limits, { download = true, nonempty = true })
  if not m then return nil, msg, err end
  local up
  up, msg, err = upload.video(h, op, m, { chunk_size = a.chunk_size, wait = wait })
  media.release(m)
  if not up then return nil, msg, err end
  if a.message then return posted(h, op, a, "video", up.id, up.raw) end
  local r = pipeline.result(M.name, "video", up.id, nil, up.raw)
  r.media_id, r.state = up.id, up.state
  return r
end)

return M
