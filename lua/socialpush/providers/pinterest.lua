--- socialpush.providers.pinterest: Pinterest API v5 — pins (image URL, inline image, uploaded video)
-- and boards. Handles: `client:pinterest{access_token=, board_id=}`; `board_id` is the
-- default board of pin. `base_url` (default https://api.pinterest.com/v5; Pinterest's own
-- sandbox is https://api-sandbox.pinterest.com/v5) may be overridden in the credentials.
-- See docs/providers/pinterest.md.
--
-- syntax: res, msg, err = pin:pin{board_id=, picture= | video=, title=, description=, link=, alt_text=,
--   thumbnail=, extra=}
-- syntax: res, msg, err = pin:board{name=, description=, privacy=, extra=}
local Handle = require "socialpush.pipeline.handle"
local pipeline = require "socialpush.pipeline"
local check = require "socialpush.pipeline.check"
local media = require "socialpush.pipeline.media"
local poll = require "socialpush.pipeline.poll"
local errors = require "socialpush.errors"

local M = Handle.class {
  name = "pinterest",
  base_url = "https://api.pinterest.com/v5",     -- creds.base_url overrides
  pin_url = "https://www.pinterest.com/pin/",
  -- hosts a media upload_url may point at (the S3 POST carries no Pinterest token)
  upload_hosts = { ["pinterest-media-upload.s3-accelerate.amazonaws.com"] = true },
  limits = { title = 100, description = 800, link = 2048, alt_text = 500 },   -- PinCreate maxLength
  image = { types = { "image/jpeg", "image/png" }, max_size = 20 * 1024 * 1024 },  -- inline base64
  video = { types = { "video/mp4", "video/quicktime" }, max_size = 2 * 1024 * 1024 * 1024 },
  privacies = { "PUBLIC", "PROTECTED", "SECRET" },
  poll_interval = 0.5,         -- first wait between media status checks (doubles up to max)
  max_poll_interval = 5,
  max_polls = 1000,            -- status checks per upload (the client timeout bounds them too)
  public_creds = { board_id = true, base_url = true },
}
local mt = { __index = M, __tostring = Handle.tostring }

--- A handle bound to a client (client:pinterest{creds}).
-- syntax: pin = pinterest.new(client, creds)
function M.new(client, creds) return Handle.new(mt, client, creds) end

-- fields named in a 400 message ("… - 'title'", "'board_id' is a required property") → argument
local FIELDS = { board_id = "board_id", title = "title", description = "description", link = "link",
  alt_text = "alt_text", name = "name", privacy = "privacy", media_type = "video" }

------------------------------------------------------------------------------ errors

local function field_of(msg, spec)
  local media_field = spec and spec.ctx and spec.ctx.media_field
  if not msg then return nil end
  local path = msg:match("%- '([%w_%.]+)'%s*$") or msg:match("^'([%w_]+)' is a required property")
  if not path then return nil end
  local top = path:match("^([%w_]+)")
  if top == "media_source" then
    if path:find("cover_image", 1, true) then return "thumbnail" end
    return media_field or "picture"
  end
  return FIELDS[top]
end

-- statuses whose kind differs from pipeline.status_kind's
local STATUS_KIND = { [400] = "invalid_argument", [409] = "duplicate" }

--- Map a refused Pinterest response ({code, message}; an S3 upload's XML <Error>) to an
-- error description.
-- syntax: t = pinterest.map_error(res, spec)   -- {kind=, code=, detail=, field=, retry_after=}
function M.map_error(res, spec)
  local body = type(res.json) == "table" and res.json or {}
  local headers = res.headers or {}
  local status = res.status or 0
  local detail = type(body.message) == "string" and body.message or nil
  local code = tonumber(body.code)
  if res.json == nil and type(res.body) == "string" and res.body:find("<Error>", 1, true) then
    code = res.body:match("<Code>(.-)</Code>")          -- S3 (media upload)
    detail = res.body:match("<Message>(.-)</Message>")
  end
  local out = { code = code, detail = detail, request_id = headers["x-request-id"] or headers["x-amz-request-id"],
    kind = STATUS_KIND[status] or pipeline.status_kind(status) }
  if status == 400 then out.field = field_of(detail, spec) end
  return out
end

------------------------------------------------------------------------------ checks

local function check_board_id(op, a)
  local ok, msg, err = check.id(op, a, "board_id")
  if not ok then return nil, msg, err end
  if not a.board_id:match("^%d+$") then return check.fail(op, "board_id", "board_id must be digits") end
  return true
end

local function check_link(op, a)
  local ok, msg, err = check.url(op, a, "link")
  if not ok then return nil, msg, err end
  return check.text(op, a, "link", { max = M.limits.link })
end

local function check_media_choice(op, a)
  if a.picture ~= nil and a.video ~= nil then
    return check.fail(op, "video", "give a picture or a video, not both")
  end
  if a.picture == nil and a.video == nil then return check.fail(op, "picture", "picture or video is required") end
  if a.thumbnail ~= nil and a.video == nil then
    return check.fail(op, "thumbnail", "thumbnail is the cover of a video pin")
  end
  return true
end

------------------------------------------------------------------------- operations

local function api(h, op, path)
  local base = h.creds.base_url or M.base_url
  if type(base) ~= "string" or not base:match("^[hH][tT][tT][pP][sS]?://[^%s/?#]+[^%s?#]*$") then
    return check.fail(op, "base_url", "credentials base_url must be an http(s) URL")
  end
  return base:gsub("/+$", "") .. path
end

local function digits_id(h, op, res, name)
  local id = type(res.json) == "table" and res.json[name]
  if type(id) == "number" then id = ("%.0f"):format(id) end
  if type(id) ~= "string" or not id:match("^%d+$") then return pipeline.no_id(h, op, res, name) end
  return id
end

local function upload_url_ok(url) return check.https_host(url, M.upload_hosts) end

-- GET /media/{id} until succeeded (failed → error), bounded by the client's timeout
local function await_media(h, op, id)
  local url, msg, err = api(h, op, "/media/" .. id)
  if not url then return nil, msg, err end
  local wait = M.poll_interval
  return poll.run(h.client, { operation = op, provider = M.name, what = "media " .. id, max_polls = M.max_polls },
    function()
      local res
      res, msg, err = h:call { operation = op, method = "GET", url = url, idempotent = true,
        ctx = { media_field = "video" } }
      if not res then return nil, msg, err end
      local status = type(res.json) == "table" and res.json.status
      if status == "succeeded" then return "done", true end
      if status == "failed" then
        return errors.fail { kind = "provider", provider = M.name, operation = op, status = res.status,
          code = "failed", field = "video", detail = "media " .. id .. " processing failed" }
      end
      if status ~= "registered" and status ~= "processing" then
        return errors.fail { kind = "decode", provider = M.name, operation = op, status = res.status,
          detail = "unknown media status " .. tostring(status) }
      end
      local this = wait
      wait = math.min(wait * 2, M.max_poll_interval)
      return "wait", this, status
    end)
end

-- register a media upload, POST the file to its S3 URL (no Pinterest token), await processing
local function upload_video(h, op, m)
  local url, msg, err = api(h, op, "/media")
  if not url then return nil, msg, err end
  -- registering only reserves an upload slot: repeating it after a lost reply is harmless
  local res
  res, msg, err = h:call { operation = op, method = "POST", url = url, idempotent = true,
    json = { media_type = "video" }, ctx = { media_field = "video" } }
  if not res then return nil, msg, err end
  local id
  id, msg, err = digits_id(h, op, res, "media_id")
  if not id then return nil, msg, err end
  local s3, params = res.json.upload_url, res.json.upload_parameters
  if type(s3) ~= "string" or type(params) ~= "table" then
    return pipeline.no_id(h, op, res, "upload_url / upload_parameters")
  end
  if not upload_url_ok(s3) then
    return errors.fail { kind = "provider", provider = M.name, operation = op, status = res.status,
      detail = "refusing an upload URL outside Pinterest's media bucket" }
  end
  local names = {}
  for k in pairs(params) do names[#names + 1] = tostring(k) end
  table.sort(names)
  local parts = {}
  for i, k in ipairs(names) do parts[i] = { name = k, data = tostring(params[k]) } end
  parts[#parts + 1] = media.part("file", m)           -- S3 ignores fields after the file: last
  -- the same key and policy: a repeated POST stores the same object
  res, msg, err = h:call { operation = op, method = "POST", url = s3, auth = "none", multipart = parts,
    idempotent = true, expect = { 204, 200, 201 }, decode = "none", ctx = { media_field = "video" },
    progress = { phase = "upload", total = m.size } }
  if not res then return nil, msg, err end
  local ok
  ok, msg, err = await_media(h, op, id)
  if not ok then return nil, msg, err end
  return id
end

-- an inline image (base64): jpeg or png, opened and checked
local function inline_image(h, op, field, value)
  return media.prepare(h.client, op, field, value, M.image, { nonempty = true, lazy_url = true })
end

-- the cover of a video pin: a URL, inline jpeg/png, or the first frame
local function cover_of(source, thumb)
  if not thumb then
    source.cover_image_key_frame_time = 0
  elseif thumb.source == "url" then
    source.cover_image_url = thumb.url
  else
    source.cover_image_content_type = thumb.content_type
    source.cover_image_data = media.base64(thumb)
  end
  return source
end

-- the media_source of a pin: an image (URL or inline), or an uploaded video
local function media_source(h, op, a)
  if a.picture ~= nil then
    local m, msg, err = inline_image(h, op, "picture", a.picture)
    if not m then return nil, msg, err end
    if m.source == "url" then return { source_type = "image_url", url = m.url } end
    return { source_type = "image_base64", content_type = m.content_type, data = media.base64(m) }
  end
  local thumb = false
  if a.thumbnail ~= nil then
    local tmsg, terr
    thumb, tmsg, terr = inline_image(h, op, "thumbnail", a.thumbnail)
    if not thumb then return nil, tmsg, terr end
  end
  -- Pinterest takes no video URL: it is downloaded
  local m, msg, err = media.prepare(h.client, op, "video", a.video, M.video, { download = true, nonempty = true })
  if not m then return nil, msg, err end
  local id
  id, msg, err = upload_video(h, op, m)
  media.release(m)
  if not id then return nil, msg, err end
  return cover_of({ source_type = "video_id", media_id = id }, thumb)
end

--- Publish a pin on a board (board_id, default creds.board_id): a picture ({url=} is passed
-- to Pinterest, a file or data is sent inline as base64, jpeg/png) or a video (uploaded
-- through the media API, then pinned once processed; thumbnail = its cover, else the first
-- frame); extra = {...} adds POST /v5/pins body fields. Result: object "pin", post_id = the
-- pin id, post_location its pinterest.com URL.
-- syntax: res, msg, err = pin:pin{board_id=, picture= | video=, title=, description=, link=, alt_text=,
--   thumbnail=, extra=}
Handle.operation(M, "pin", { "board_id", "picture", "video", "title", "description", "link", "alt_text",
  "thumbnail" }, function(h, a, op)
  if a.board_id == nil then a.board_id = h.creds.board_id end
  local L = M.limits
  local ok, msg, err = check.all(op, a, {
    { check_board_id }, { check.text, "title", { max = L.title } },
    { check.text, "description", { max = L.description } }, { check_link },
    { check.text, "alt_text", { max = L.alt_text } }, { check_media_choice },
  })
  if not ok then return nil, msg, err end
  local body
  body, msg, err = Handle.merge_extra(op, a, { board_id = a.board_id, title = a.title,
    description = a.description, link = a.link, alt_text = a.alt_text })
  if not body then return nil, msg, err end
  local url
  url, msg, err = api(h, op, "/pins")
  if not url then return nil, msg, err end
  body.media_source, msg, err = media_source(h, op, a)
  if not body.media_source then return nil, msg, err end
  local res
  res, msg, err = h:call { operation = op, method = "POST", url = url, idempotent = false,
    expect = { 201, 200 }, ctx = { media_field = a.video ~= nil and "video" or "picture" }, json = body }
  if not res then return nil, msg, err end
  local id
  id, msg, err = digits_id(h, op, res, "id")
  if not id then return nil, msg, err end
  local r = pipeline.result(M.name, "pin", id, M.pin_url .. id .. "/", res.json)
  r.media_id = body.media_source.media_id
  return r
end)

--- Create a board (privacy PUBLIC, PROTECTED or SECRET; Pinterest's default PUBLIC).
-- Result: object "board", post_id = the board id, post_location nil (Pinterest's board URL
-- is made of the owner's name and a slug it chooses).
-- syntax: res, msg, err = pin:board{name=, description=, privacy=, extra=}
Handle.operation(M, "board", { "name", "description", "privacy" }, function(h, a, op)
  local ok, msg, err = check.all(op, a, {
    { check.text, "name", { required = true } }, { check.text, "description" },
    { check.one_of, "privacy", M.privacies },
  })
  if not ok then return nil, msg, err end
  local body
  body, msg, err = Handle.merge_extra(op, a, { name = a.name, description = a.description, privacy = a.privacy })
  if not body then return nil, msg, err end
  local url
  url, msg, err = api(h, op, "/boards")
  if not url then return nil, msg, err end
  local res
  res, msg, err = h:call { operation = op, method = "POST", url = url, idempotent = false,
    expect = { 201, 200 }, json = body }
  if not res then return nil, msg, err end
  local id
  id, msg, err = digits_id(h, op, res, "id")
  if not id then return nil, msg, err end
  return pipeline.result(M.name, "board", id, nil, res.json)
end)

return M
