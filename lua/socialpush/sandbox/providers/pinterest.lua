--- Sandbox emulation of Pinterest API v5: POST /v5/boards, POST /v5/pins, POST /v5/media,
-- GET /v5/boards/{id}, /v5/pins/{id}, /v5/media/{id} (on api.pinterest.com and
-- api-sandbox.pinterest.com), and the S3 POST-policy upload on
-- pinterest-media-upload.s3-accelerate.amazonaws.com. Runs inside nginx; never uses
-- socialpush.* library code.
--
-- Behaviour (docs/providers/pinterest.md lists what is unconfirmed):
-- - Bearer token from the accounts fixture, else 401 {"code":2,"message":"Authentication failed."}.
-- - Request bodies are validated against the OpenAPI 5.23.0 schemas (PinCreate, BoardCreate,
--   MediaUploadCreate: required, maxLength, patterns, enums) with 400 {"code":1,"message":
--   "<what> - '<field>'"} (jsonschema/connexion style).
-- - Boards: the fixture board (owned by the token's user) and a board of another user
--   (accounts.pinterest.foreign_board_id) exist from the start; unknown board → 404 code 40;
--   another user's board → 403 code 29; a second board with the same name → 409 code 58.
-- - Media: registered → (S3 upload) → processing → succeeded, one step per status read;
--   bytes that are not MP4/MOV end as failed. The S3 route refuses an Authorization header,
--   checks that every upload parameter came before `file` with its value (fields after the
--   file are ignored, as S3 does), answers 204.
-- - Reading back: GET /v5/pins/{id}, /v5/pins (the user's pins), /v5/boards/{id}/pins,
--   /v5/boards (the user's boards), newest first ([guess]: the order is undocumented), page_size
--   1..250 (25) and an opaque `bookmark`; DELETE /v5/pins/{id} and /v5/boards/{id} (with its pins)
--   → 204, by the board owner only (else 403 code 29); deleted → 404.
-- - A video pin needs a media upload that succeeded and a cover (cover_image_url,
--   cover_image_data + content type, or cover_image_key_frame_time).
local cjson = require("cjson")

local M = {}

local NULL = cjson.null
local API_HOSTS = { "api.pinterest.com", "api-sandbox.pinterest.com" }
local S3_HOST = "pinterest-media-upload.s3-accelerate.amazonaws.com"
local USER = "sandbox_pinner"
local OTHER_USER = "another_pinner"
local BOARD_NAME = "Sandbox board"
local MAX_BODY = 64 * 1024 * 1024
local SOURCE_TYPES = { "image_url", "image_base64", "video_id", "multiple_image_urls",
  "multiple_image_base64", "pin_url" }

local function bad(server, message)
  return server.json(400, { code = 1, message = message })
end

local function show(v)
  local s = tostring(v)
  if #s > 40 then s = s:sub(1, 40) .. "..." end
  return "'" .. s .. "'"
end

local function chars(s)
  local _, n = s:gsub("[^\128-\191]", "")
  return n
end

-- the fixture account of the bearer token, or nil after answering 401
local function authenticate(server, req)
  local who = server.auth.bearer(req, "pinterest")
  if who then return who end
  server.json(401, { code = 2, message = "Authentication failed." })
  return nil
end

local function body_json(server, req)
  local body, err = req:json(MAX_BODY)
  if err == "too_large" then
    server.json(413, { code = 1, message = "Request entity too large." })
    return nil
  end
  if type(body) ~= "table" then
    bad(server, "Invalid JSON body")
    return nil
  end
  return body
end

-- schema checks of an optional (nullable) string property; a message or nil
local function string_prop(body, name, rules, prefix)
  local v = body[name]
  local path = (prefix or "") .. name
  if v == nil or v == NULL then
    if rules.required then return "'" .. name .. "' is a required property" end
    return nil
  end
  if type(v) ~= "string" then return show(v) .. " is not of type 'string' - '" .. path .. "'" end
  if rules.max and chars(v) > rules.max then return show(v) .. " is too long - '" .. path .. "'" end
  if rules.min and chars(v) < rules.min then return show(v) .. " is too short - '" .. path .. "'" end
  if rules.digits and not v:match("^%d+$") then
    return show(v) .. " does not match '^\\d+$' - '" .. path .. "'"
  end
  if rules.enum then
    local ok = false
    for _, e in ipairs(rules.enum) do if e == v then ok = true end end
    if not ok then
      return show(v) .. " is not one of ['" .. table.concat(rules.enum, "', '") .. "'] - '" .. path .. "'"
    end
  end
  if rules.url and not v:match("^[hH][tT][tT][pP][sS]?://[^%s/?#]+") then
    return show(v) .. " is not a valid URL - '" .. path .. "'"
  end
  return nil
end

----------------------------------------------------------------------------- boards

-- the username of the token's account (the fixture pinner, or the account's own username)
local function owner_of(account)
  return account and account.access_token and (account.username or USER) or OTHER_USER
end

local SEEDED_AT = "2024-01-01T00:00:00"

local function seeded(id)
  local a = require("socialpush.sandbox.accounts").pinterest
  if id == a.board_id then
    return { id = id, name = BOARD_NAME, description = "The fixture's board", privacy = "PUBLIC",
      owner = { username = USER }, pin_count = 0, created_at = SEEDED_AT, follower_count = 0,
      collaborator_count = 0, is_ads_only = false }
  end
  if id == a.foreign_board_id then
    return { id = id, name = "Somebody else's board", description = "", privacy = "PUBLIC",
      owner = { username = OTHER_USER }, pin_count = 0, created_at = SEEDED_AT, follower_count = 0,
      collaborator_count = 0, is_ads_only = false }
  end
end

local function board(server, id)
  if server.state.get("pin:board_gone:" .. id) then return nil end   -- a deleted seeded board
  return server.state.get("pin:board:" .. id) or seeded(id)
end

local function board_names(server, user)
  local names = {}
  local a = require("socialpush.sandbox.accounts").pinterest
  for _, id in ipairs({ a.board_id, a.foreign_board_id }) do
    local b = board(server, id)
    if b and b.owner.username == user then names[b.name:lower()] = true end
  end
  for _, k in ipairs(server.state.keys("pin:board:")) do
    local b = server.state.get(k)
    if b and b.owner.username == user then names[b.name:lower()] = true end
  end
  return names
end

local function create_board(server, req)
  local who = authenticate(server, req)
  if not who then return end
  local body = body_json(server, req)
  if not body then return end
  local msg = string_prop(body, "name", { required = true, min = 1 })
    or string_prop(body, "description", {})
    or string_prop(body, "privacy", { enum = { "PUBLIC", "PROTECTED", "SECRET" } })
  if not msg and body.is_ads_only ~= nil and type(body.is_ads_only) ~= "boolean" then
    msg = show(body.is_ads_only) .. " is not of type 'boolean' - 'is_ads_only'"
  end
  if msg then return bad(server, msg) end
  local user = owner_of(who.account)
  local name = body.is_ads_only and "Ad-only Pins" or body.name
  if board_names(server, user)[name:lower()] then
    return server.json(409, { code = 58, message = "You already have a board with this name." })
  end
  local id = string.format("5497558%08d", server.state.incr("pin:boards"))
  local b = { id = id, name = name, description = body.description ~= NULL and body.description or nil,
    privacy = body.is_ads_only and "PROTECTED" or body.privacy or "PUBLIC", owner = { username = user },
    created_at = os.date("!%Y-%m-%dT%H:%M:%S"), pin_count = 0, follower_count = 0, collaborator_count = 0,
    is_ads_only = body.is_ads_only == true }
  server.state.set("pin:board:" .. id, b)
  return server.json(201, b)
end

-- pins of a board, or of every board of a user (newest first: ids grow with time)
local function pins_where(server, test)
  local out = {}
  local keys = server.state.keys("pin:pin:")
  for i = #keys, 1, -1 do
    local p = server.state.get(keys[i])
    if p and test(p) then out[#out + 1] = p end
  end
  return out
end

-- a board as the API shows it: pin_count counted from the stored pins
local function shown(server, b)
  b.pin_count = #pins_where(server, function(p) return p.board_id == b.id end)
  return b
end

local function get_board(server, req, id)
  if not authenticate(server, req) then return end
  local b = board(server, id)
  if not b then return server.json(404, { code = 40, message = "Board not found." }) end
  return server.json(200, shown(server, b))
end

------------------------------------------------------------------------------ media

local function media_key(id) return "pin:media:" .. id end

local function register_media(server, req)
  local who = authenticate(server, req)
  if not who then return end
  local body = body_json(server, req)
  if not body then return end
  local msg = string_prop(body, "media_type", { required = true, enum = { "video" } })
  if msg then return bad(server, msg) end
  local n = server.state.incr("pin:medias")
  local id = string.format("52121239209%07d", n)
  local date = os.date("!%Y%m%dT%H%M%SZ")
  local key = "uploads/sb/" .. string.format("%02x", n % 256) .. "/" .. USER .. ":video:" .. id
  local secret = server.crypto.sha256_hex("sandbox-s3:" .. key)
  local params = {
    ["x-amz-date"] = date,
    ["x-amz-signature"] = secret,
    ["x-amz-security-token"] = "IQoJb3JpZ2luX2VjSandbox" .. secret:sub(1, 16),
    ["x-amz-algorithm"] = "AWS4-HMAC-SHA256",
    key = key,
    policy = ngx.encode_base64('{"expiration":"2099-01-01T00:00:00Z","conditions":[{"key":"' .. key .. '"}]}'),
    ["x-amz-credential"] = "ASIASANDBOX0000000/" .. date:sub(1, 8) .. "/us-east-1/s3/aws4_request",
    ["Content-Type"] = "multipart/form-data",
  }
  server.state.set(media_key(id), { id = id, user = owner_of(who.account), status = "registered",
    uploaded = false, params = params })
  server.state.set("pin:mediakey:" .. key, id)
  return server.json(201, { media_id = id, media_type = "video",
    upload_url = "https://" .. S3_HOST .. "/", upload_parameters = params })
end

local function get_media(server, req, id)
  local who = authenticate(server, req)
  if not who then return end
  local user = owner_of(who.account)
  local m = server.state.update(media_key(id), function(old)
    if not old or old.user ~= user then return old end
    if old.uploaded then
      if old.status == "registered" then old.status = "processing"
      elseif old.status == "processing" then old.status = old.video_ok and "succeeded" or "failed" end
    end
    return old
  end)
  if not m or m.user ~= user then return server.json(404, { code = 404, message = "Media not found." }) end
  return server.json(200, { media_id = m.id, media_type = "video", status = m.status })
end

local function s3_error(server, status, code, message)
  local xml = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>' .. code .. "</Code><Message>" .. message
    .. "</Message><RequestId>SANDBOX0000000001</RequestId></Error>"
  return server.send(status, xml, { ["Content-Type"] = "application/xml" })
end

local function s3_upload(server, req)
  if req:header("authorization") then
    return s3_error(server, 400, "InvalidArgument", "Only one auth mechanism allowed; only the X-Amz-Algorithm "
      .. "query parameter, Signature query string parameter or the Authorization header should be specified")
  end
  local parts, err = req:multipart(MAX_BODY)
  if not parts then
    if err == "too_large" then
      return s3_error(server, 400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
    end
    return s3_error(server, 400, "MalformedPOSTRequest",
      "The body of your POST request is not well-formed multipart/form-data.")
  end
  local fields, file = {}, nil
  for _, p in ipairs(parts) do
    if p.name == "file" then file = p; break end   -- S3 ignores every field after the file
    if p.name then fields[p.name] = p.data end
  end
  if not file then
    return s3_error(server, 400, "InvalidArgument", "POST requires exactly one file upload per request.")
  end
  local id = fields.key and server.state.get("pin:mediakey:" .. fields.key)
  local m = id and server.state.get(media_key(id))
  if not m then
    return s3_error(server, 403, "AccessDenied", "Invalid according to Policy: Policy Condition failed: "
      .. '["eq", "$key", "…"]')
  end
  local names = {}
  for name in pairs(m.params) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local want = m.params[name]
    if name == "x-amz-signature" and fields[name] ~= nil and fields[name] ~= want then
      return s3_error(server, 403, "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided.")
    end
    if fields[name] ~= want then
      return s3_error(server, 403, "AccessDenied", "Invalid according to Policy: Policy Condition failed: "
        .. '["eq", "$' .. name .. '", "' .. want .. '"]')
    end
  end
  local data = file.data
  server.state.update(media_key(id), function(old)
    old.uploaded, old.size = true, #data
    old.sha256 = server.crypto.sha256_hex(data)
    old.video_ok = data:find("^....ftyp") ~= nil
    return old
  end)
  return server.send(204, nil, { ETag = '"' .. ngx.md5(data) .. '"',
    Location = "https://" .. S3_HOST .. "/" .. fields.key })
end

------------------------------------------------------------------------------- pins

local function base64_image(data, ctype)
  if type(data) ~= "string" or not data:match("^[%w+/=]+$") then return nil end
  local bytes = ngx.decode_base64(data)
  if not bytes then return nil end
  if ctype == "image/jpeg" then return bytes:find("^\255\216\255") ~= nil end
  return bytes:find("^\137PNG\r\n\26\n") ~= nil
end

-- media_source checks; a 400 message or nil, and the media type
local function check_source(server, s, user)
  local P = "media_source."
  if s == nil or s == NULL then return "'media_source' is a required property" end
  if type(s) ~= "table" then return show(s) .. " is not of type 'object' - 'media_source'" end
  local msg = string_prop(s, "source_type", { required = true, enum = SOURCE_TYPES }, P)
  if msg then return msg end
  local t = s.source_type
  if t == "image_url" then
    return string_prop(s, "url", { required = true, url = true }, P), "image"
  elseif t == "image_base64" then
    msg = string_prop(s, "content_type", { required = true, enum = { "image/jpeg", "image/png" } }, P)
      or string_prop(s, "data", { required = true }, P)
    if msg then return msg end
    if not base64_image(s.data, s.content_type) then
      return "Invalid image data: not a base64 " .. s.content_type .. " image - 'media_source.data'"
    end
    return nil, "image"
  elseif t == "video_id" then
    msg = string_prop(s, "media_id", { required = true, digits = true }, P)
    if msg then return msg end
    local m = server.state.get(media_key(s.media_id))
    if not m or m.user ~= user then return "Media not found - 'media_source.media_id'" end
    if m.status ~= "succeeded" then
      return "Media upload is not ready (status: " .. m.status .. ") - 'media_source.media_id'"
    end
    if s.cover_image_url ~= nil then
      return string_prop(s, "cover_image_url", { url = true }, P), "video"
    elseif s.cover_image_data ~= nil then
      msg = string_prop(s, "cover_image_content_type", { required = true, enum = { "image/jpeg", "image/png" } }, P)
      if msg then return msg end
      if not base64_image(s.cover_image_data, s.cover_image_content_type) then
        return "Invalid image data - 'media_source.cover_image_data'"
      end
      return nil, "video"
    elseif s.cover_image_key_frame_time ~= nil then
      local k = s.cover_image_key_frame_time
      if type(k) ~= "number" or k < 0 or k ~= math.floor(k) then
        return show(k) .. " is not a valid key frame time - 'media_source.cover_image_key_frame_time'"
      end
      return nil, "video"
    end
    return "A video Pin needs a cover image: cover_image_url, cover_image_data or cover_image_key_frame_time"
      .. " - 'media_source.cover_image_url'"
  end
  return show(t) .. " is not supported by the sandbox - 'media_source.source_type'"
end

local function create_pin(server, req)
  local who = authenticate(server, req)
  if not who then return end
  local body = body_json(server, req)
  if not body then return end
  local user = owner_of(who.account)
  local msg = string_prop(body, "board_id", { required = true, digits = true })
    or string_prop(body, "board_section_id", { digits = true })
    or string_prop(body, "parent_pin_id", { digits = true })
    or string_prop(body, "title", { max = 100 })
    or string_prop(body, "description", { max = 800 })
    or string_prop(body, "link", { max = 2048, url = true })
    or string_prop(body, "alt_text", { max = 500 })
    or string_prop(body, "dominant_color", {})
  if msg then return bad(server, msg) end
  local b = board(server, body.board_id)
  if not b then return server.json(404, { code = 40, message = "Board not found." }) end
  if b.owner.username ~= user then
    return server.json(403, { code = 29, message = "You are not permitted to access that resource." })
  end
  local mtype
  msg, mtype = check_source(server, body.media_source, user)
  if msg then return bad(server, msg) end
  local id = string.format("81362%013d", server.state.incr("pin:pins"))
  local function opt(v) if v ~= NULL then return v end end
  local pin = { id = id, created_at = os.date("!%Y-%m-%dT%H:%M:%S"), board_id = body.board_id,
    board_owner = { username = b.owner.username }, title = opt(body.title), description = opt(body.description),
    link = opt(body.link), alt_text = opt(body.alt_text), is_owner = true, is_standard = true,
    media = { media_type = mtype }, media_source_type = body.media_source.source_type,
    media_id = body.media_source.media_id, creative_type = mtype == "video" and "VIDEO" or "REGULAR" }
  server.state.set("pin:pin:" .. id, pin)
  if server.state.get("pin:board:" .. b.id) then
    server.state.update("pin:board:" .. b.id, function(old) old.pin_count = (old.pin_count or 0) + 1; return old end)
  end
  return server.json(201, pin)
end

local function get_pin(server, req, id)
  if not authenticate(server, req) then return end
  local p = server.state.get("pin:pin:" .. id)
  if not p then return server.json(404, { code = 50, message = "Pin not found." }) end
  return server.json(200, p)
end

local function forbidden(server)
  return server.json(403, { code = 29, message = "You are not permitted to access that resource." })
end

-- DELETE /v5/pins/{id} → 204; only the board owner may
local function delete_pin(server, req, id)
  local who = authenticate(server, req)
  if not who then return end
  local p = server.state.get("pin:pin:" .. id)
  if not p then return server.json(404, { code = 50, message = "Pin not found." }) end
  if p.board_owner.username ~= owner_of(who.account) then return forbidden(server) end
  server.state.delete("pin:pin:" .. id)
  return server.send(204, nil)
end

-- DELETE /v5/boards/{id} → 204, with the board's pins
local function delete_board(server, req, id)
  local who = authenticate(server, req)
  if not who then return end
  local b = board(server, id)
  if not b then return server.json(404, { code = 40, message = "Board not found." }) end
  if b.owner.username ~= owner_of(who.account) then return forbidden(server) end
  for _, p in ipairs(pins_where(server, function(x) return x.board_id == id end)) do
    server.state.delete("pin:pin:" .. p.id)
  end
  server.state.delete("pin:board:" .. id)
  if seeded(id) then server.state.set("pin:board_gone:" .. id, true) end
  return server.send(204, nil)
end

-- bookmarks: url-safe base64 of the last item's id ([guess]: Pinterest's are opaque too)
local function bookmark_of(id)
  return (ngx.encode_base64("sbx:" .. id):gsub("%+", "-"):gsub("/", "_"):gsub("=", ""))
end

local function unbookmark(s)
  s = s:gsub("%-", "+"):gsub("_", "/")
  local d = ngx.decode_base64(s .. ("="):rep((4 - #s % 4) % 4))
  return d and d:match("^sbx:(%d+)$")
end

-- one page of items (newest first) after the request's bookmark: {items, bookmark}; nil after 400
local function page_of(server, req, items)
  local a = req:args()
  local size = tonumber(a.page_size or "25")
  if not size or size % 1 ~= 0 or size < 1 or size > 250 then
    bad(server, show(a.page_size) .. " is not a valid page_size: an integer between 1 and 250 - 'page_size'")
    return nil
  end
  local first = 1
  if a.bookmark ~= nil and a.bookmark ~= "" then
    local after = type(a.bookmark) == "string" and unbookmark(a.bookmark)
    if not after then
      bad(server, "Invalid bookmark - 'bookmark'")                        -- [guess] the text
      return nil
    end
    first = #items + 1
    for i, x in ipairs(items) do
      if #x.id < #after or (#x.id == #after and x.id < after) then first = i; break end
    end
  end
  local out = server.array()
  for i = first, math.min(#items, first + size - 1) do out[#out + 1] = items[i] end
  local more = first + size - 1 < #items
  return { items = out, bookmark = more and bookmark_of(out[#out].id) or NULL }
end

-- a creative_types filter (REGULAR, VIDEO, ...), or nil for all
local function creative_filter(req)
  local v = req:args().creative_types
  if type(v) == "table" then v = table.concat(v, ",") end
  if type(v) ~= "string" or v == "" then return nil end
  local set = {}
  for t in v:gmatch("[^,]+") do set[t] = true end
  return set
end

-- GET /v5/boards/{id}/pins
local function board_pins(server, req, id)
  if not authenticate(server, req) then return end
  local b = board(server, id)
  if not b then return server.json(404, { code = 404, message = "Board not found." }) end
  local kinds = creative_filter(req)
  local page = page_of(server, req, pins_where(server, function(p)
    return p.board_id == id and (not kinds or kinds[p.creative_type])
  end))
  if page then return server.json(200, page) end
end

-- GET /v5/pins: the token user's pins on every board
local function list_pins(server, req)
  local who = authenticate(server, req)
  if not who then return end
  local user = owner_of(who.account)
  local kinds = creative_filter(req)
  local page = page_of(server, req, pins_where(server, function(p)
    return p.board_owner.username == user and (not kinds or kinds[p.creative_type])
  end))
  if page then return server.json(200, page) end
end

local PRIVACY_FILTER = { ALL = { PUBLIC = true, PROTECTED = true, SECRET = true },
  PUBLIC_AND_SECRET = { PUBLIC = true, SECRET = true }, PUBLIC = { PUBLIC = true },
  PROTECTED = { PROTECTED = true }, SECRET = { SECRET = true } }

-- GET /v5/boards: the token user's boards (newest first; privacy PUBLIC_AND_SECRET by default [guess])
local function list_boards(server, req)
  local who = authenticate(server, req)
  if not who then return end
  local user = owner_of(who.account)
  local want = PRIVACY_FILTER[req:args().privacy or "PUBLIC_AND_SECRET"]
  if not want then
    return bad(server, show(req:args().privacy) .. " is not one of ['ALL', 'PUBLIC', 'PROTECTED', 'SECRET',"
      .. " 'PUBLIC_AND_SECRET'] - 'privacy'")
  end
  local list = {}
  local a = require("socialpush.sandbox.accounts").pinterest
  for _, id in ipairs({ a.board_id, a.foreign_board_id }) do
    local b = not server.state.get("pin:board:" .. id) and board(server, id)
    if b then list[#list + 1] = b end
  end
  for _, k in ipairs(server.state.keys("pin:board:")) do list[#list + 1] = server.state.get(k) end
  local mine = {}
  for _, b in ipairs(list) do
    if b.owner.username == user and want[b.privacy] then mine[#mine + 1] = shown(server, b) end
  end
  table.sort(mine, function(x, y)
    if #x.id ~= #y.id then return #x.id > #y.id end
    return x.id > y.id
  end)
  local page = page_of(server, req, mine)
  if page then return server.json(200, page) end
end

--- syntax: pinterest.register(server)
function M.register(server)
  server.route(API_HOSTS, "POST", "/v5/boards", function(req) return create_board(server, req) end)
  server.route(API_HOSTS, "GET", "/v5/boards", function(req) return list_boards(server, req) end)
  server.route(API_HOSTS, "GET", "/v5/boards/(%d+)", function(req, id) return get_board(server, req, id) end)
  server.route(API_HOSTS, "DELETE", "/v5/boards/(%d+)", function(req, id) return delete_board(server, req, id) end)
  server.route(API_HOSTS, "GET", "/v5/boards/(%d+)/pins", function(req, id) return board_pins(server, req, id) end)
  server.route(API_HOSTS, "GET", "/v5/pins", function(req) return list_pins(server, req) end)
  server.route(API_HOSTS, "DELETE", "/v5/pins/(%d+)", function(req, id) return delete_pin(server, req, id) end)
  server.route(API_HOSTS, "POST", "/v5/pins", function(req) return create_pin(server, req) end)
  server.route(API_HOSTS, "GET", "/v5/pins/(%d+)", function(req, id) return get_pin(server, req, id) end)
  server.route(API_HOSTS, "POST", "/v5/media", function(req) return register_media(server, req) end)
  server.route(API_HOSTS, "GET", "/v5/media/(%d+)", function(req, id) return get_media(server, req, id) end)
  server.route(S3_HOST, "POST", "/", function(req) return s3_upload(server, req) end)
end

return M
