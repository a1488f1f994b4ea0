--- socialpush.providers.facebook: Facebook Graph API (Pages) and the legacy REST stream.publish.
-- Operations 1-6 (/me/* and group edges) and 21 (restserver.php stream.publish) are
-- gone from today's Facebook: they send the historic requests exactly, and today's
-- refusal maps to kind "deprecated" naming the operation to use instead.
-- Handles: `client:facebook{access_token=, app_secret=, api_version=, legacy = {api_key=,
-- secret=, session_key=}}`. Graph calls carry appsecret_proof when app_secret is given
-- (the graph scheme below); stream.publish signs its form with the legacy MD5 sig.
-- Wire reference: docs/providers/facebook.md.
local Handle = require "socialpush.pipeline.handle"
local pipeline = require "socialpush.pipeline"
local check = require "socialpush.pipeline.check"
local media = require "socialpush.pipeline.media"
local schemes = require "socialpush.pipeline.schemes"
local form = require "socialpush.pipeline.form"
local json = require "socialpush.json"
local sign = require "socialpush.sign"
local upload = require "socialpush.providers.facebook.upload"

local M = Handle.class {
  name = "facebook",
  api_version = "v25.0",                      -- creds.api_version overrides it per handle
  graph_url = "https://graph.facebook.com",
  video_url = "https://graph-video.facebook.com",
  rest_url = "https://api.facebook.com/restserver.php",
  web_url = "https://www.facebook.com",
  limits = {
    message = 63206,                 -- characters of a post [mem]
    attachments = 1,                 -- OneAll: "Only one single attachment allowed"
    picture_types = { "image/jpeg", "image/bmp", "image/png", "image/gif", "image/tiff" },
    picture_max = 10 * 1024 * 1024,  -- hard limit we enforce; Facebook recommends < 4 MB
    video_min = 1024,                -- error subcode 1363022 below this
    video_max = 10 * 1024 ^ 3,       -- 10 GB (resumable path), subcode 1363023 above
    stalls = 8,                      -- transfer answers in a row that make no progress
  },
  throttle_wait = 300,               -- seconds, when only X-App-Usage says we are throttled
  -- credentials that are not secret (ids stay readable in "Object with ID ..." errors)
  public_creds = { page_id = true, group_id = true, user_id = true, api_version = true, uid = true },
}
local mt = { __index = M, __tostring = Handle.tostring }

--- A handle bound to a client (client:facebook{creds}).
-- syntax: fb = facebook.new(client, creds)
function M.new(client, creds) return Handle.new(mt, client, creds) end

--------------------------------------------------------------------------- schemes

--- Graph calls: Bearer token, plus appsecret_proof (hex HMAC-SHA256 of the token keyed by
-- the app secret) in the query when the credentials have app_secret.
-- syntax: auth = facebook.graph_scheme(creds, req)
function M.graph_scheme(creds)
  local auth, field, msg = schemes.bearer(creds)
  if not auth then return nil, field, msg end
  if creds.app_secret ~= nil and creds.app_secret ~= false then     -- false: no proof on purpose
    if type(creds.app_secret) ~= "string" or creds.app_secret == "" then
      return nil, "app_secret", "credentials app_secret must be a non-empty string, got " .. type(creds.app_secret)
    end
    local proof = sign.appsecret_proof(creds.access_token or creds.bearer_token, creds.app_secret)
    auth.query = { { "appsecret_proof", proof } }
    auth.secrets[#auth.secrets + 1] = proof
  end
  return auth
end

--- The legacy REST API: md5 `sig` over every form parameter, keyed by the secret.
-- syntax: auth = facebook.legacy_scheme(creds, req)
function M.legacy_scheme(creds, req)
  local ok, field, msg = schemes.need(creds, "secret", "api_key, secret, session_key: args or creds.legacy")
  if not ok then return nil, field, msg end
  local params = {}
  for _, kv in ipairs(req.form or {}) do params[kv[1]] = kv[2] end
  local sig = sign.legacy_sig(params, creds.secret)
  return { form = { { "sig", sig } }, secrets = { sig } }
end

--- Graph calls use graph_scheme (stream.publish names legacy_scheme itself).
function M.auth_scheme() return M.graph_scheme end

-- the operations Facebook removed, what to use instead, and how today's refusal looks:
-- Graph answers the removed edges with a permission error ((#200), (#3), (#10)); the REST
-- API with error_code 12 (deprecated) or 3 (unknown method)
local function retired(edge, removed, instead, codes)
  return { edge = edge, removed = removed, instead = instead, permission = codes == nil, codes = codes or {} }
end
local RETIRED = {
  post = retired("POST /me/feed", "1 Aug 2018", "page_post"),
  picture = retired("POST /me/photos", "1 Aug 2018", "page_picture"),
  video = retired("POST /me/videos", "1 Aug 2018", "page_video"),
  group_post = retired("POST /{group-id}/feed", "22 Apr 2024", "page_post"),
  group_picture = retired("POST /{group-id}/photos", "22 Apr 2024", "page_picture"),
  group_video = retired("POST /{group-id}/videos", "22 Apr 2024", "page_video"),
  stream_publish = retired("the REST API (restserver.php stream.publish)", "Graph API v2.1, 2014", "page_post",
    { [3] = true, [12] = true }),
}
M.RETIRED = RETIRED

--------------------------------------------------------------------------- errors

-- error.code -> kind (Graph and legacy REST share the numbers)
local CODE_KIND = {
  [1] = "server", [2] = "server", [3] = "permission", [4] = "rate_limited", [10] = "permission",
  [12] = "deprecated", [17] = "rate_limited", [32] = "rate_limited", [100] = "invalid_argument",
  [101] = "auth", [102] = "auth", [104] = "auth", [190] = "auth", [324] = "invalid_argument",
  [340] = "rate_limited", [341] = "rate_limited", [368] = "permission", [506] = "duplicate",
  [613] = "rate_limited", [2500] = "auth",
}
-- error_subcode -> kind (wins over the code)
local SUBCODE_KIND = {
  [458] = "auth", [459] = "auth", [460] = "auth", [463] = "auth", [464] = "auth", [467] = "auth",
  [1363022] = "invalid_argument", [1363023] = "too_large",
}

local function code_kind(code, subcode)
  if subcode and SUBCODE_KIND[subcode] then return SUBCODE_KIND[subcode] end
  if code == 100 and subcode == 33 then return "not_found" end   -- object does not exist
  if code and CODE_KIND[code] then return CODE_KIND[code] end
  if code and code >= 200 and code <= 299 then return "permission" end
  if code and code >= 80000 and code <= 80014 then return "rate_limited" end  -- BUC throttles
  if code and SUBCODE_KIND[code] then return SUBCODE_KIND[code] end
  return "provider"
end

-- Graph parameter names -> our argument names
local PARAM_FIELD = {
  message = "message", link = "link", attached_media = "attachments", url = "picture",
  source = "picture", file_url = "video", video_file_chunk = "video", file_size = "video",
  title = "title", description = "description", page_id = "page_id", access_token = "access_token",
  attachment = "attachment", action_links = "action_links", target_id = "target_id", uid = "uid",
  session_key = "session_key", api_key = "api_key",
}

local function field_of(text, spec)
  if type(text) ~= "string" then return nil end
  if text:find("appsecret_proof", 1, true) then return "app_secret" end
  if text:find("Missing message or attachment", 1, true) then return "message" end
  local fields = spec and spec.ctx and spec.ctx.fields
  local function known(p) return p and (fields and fields[p] or PARAM_FIELD[p]) end
  return known(text:match("[Pp]aram%s+([%a_][%w_]*)")) or known(text:match("[Pp]arameter%s+([%a_][%w_]*)"))
    or known(text:match("^%(#%d+%)%s+([%a_][%w_]*)"))
end

-- seconds until a throttled app/page may call again
local function throttle_wait(res)
  local h = res.headers or {}
  local buc = h["x-business-use-case-usage"]
  if buc then
    local v = json.decode(buc)
    local best = 0
    if type(v) == "table" then
      for _, list in pairs(v) do
        if type(list) == "table" then
          for _, u in ipairs(list) do
            local m = type(u) == "table" and tonumber(u.estimated_time_to_regain_access)
            if m and m > best then best = m end
          end
        end
      end
    end
    if best > 0 then return best * 60 end
  end
  if res.retry_after then return res.retry_after end
  if h["x-app-usage"] or h["x-page-usage"] or h["x-ad-account-usage"] or buc then
    return M.throttle_wait
  end
  return nil
end

--- Map a refused Graph or REST response to an error description (the only mapping).
-- Graph: {"error":{"message","type","code","error_subcode","fbtrace_id"}}; REST (HTTP 200):
-- {"error_code":N,"error_msg":"..."}. On a retired operation a permission refusal (and the
-- REST shutdown, code 12) becomes kind "deprecated" naming the replacement.
-- syntax: t = facebook.map_error(res, spec)   -- {kind=, code=, subcode=, detail=, field=, ...}
function M.map_error(res, spec)
  local body = type(res.json) == "table" and res.json or {}
  local e = body.error
  local out = {}
  if type(e) == "table" then
    out.code, out.subcode = tonumber(e.code), tonumber(e.error_subcode)
    out.detail = type(e.message) == "string" and e.message or nil
    if type(e.error_user_msg) == "string" and e.error_user_msg ~= "" then
      out.detail = (out.detail and out.detail .. " - " or "") .. e.error_user_msg
    end
    out.request_id = type(e.fbtrace_id) == "string" and e.fbtrace_id or nil
    if e.is_transient == true then out.retryable = true end
  elseif body.error_code ~= nil then
    out.code = tonumber(body.error_code)
    out.detail = type(body.error_msg) == "string" and body.error_msg or nil
  elseif type(e) == "string" then
    out.detail = e
  end
  if out.code then
    out.kind = code_kind(out.code, out.subcode)
  elseif res.status and res.status ~= 200 then
    out.kind = pipeline.status_kind(res.status)
  else
    out.kind = "provider"
  end
  if out.kind == "invalid_argument" then
    out.field = field_of(out.detail, spec) or (out.code == 324 and "picture") or nil
  end
  if out.subcode == 1363022 or out.subcode == 1363023 then out.field = "video" end
  if out.kind == "rate_limited" then out.retry_after = throttle_wait(res) end
  local ctx = spec and spec.ctx or {}
  local gone = ctx.retired
  if gone and (out.kind == "deprecated" or (out.code and gone.codes[out.code])
      or (gone.permission and out.kind == "permission")
      or (not out.code and (res.status == 404 or res.status == 410))) then
    out.kind = "deprecated"
    out.retryable = false
    out.detail = ("Facebook removed %s (%s); use %s instead%s"):format(gone.edge, gone.removed, gone.instead,
      out.detail and (" (Facebook said: " .. out.detail .. ")") or "")
  end
  return out
end

------------------------------------------------------------------------- helpers

local function graph(h, op, path, video)
  local v = h.creds.api_version or M.api_version
  if type(v) ~= "string" or not v:match("^v%d+%.%d+$") then
    return check.fail(op, "api_version", "credentials api_version must look like v25.0")
  end
  return (video and M.video_url or M.graph_url) .. "/" .. v .. "/" .. path
end

local function nonblank(s) return type(s) == "string" and s:find("%S") ~= nil end

local function post_location(id) return M.web_url .. "/" .. id end

-- the Graph call spec of an operation: POST to url, never re-sent blindly
local function graph_spec(op, name, url, fields)
  return { operation = op, method = "POST", url = url, idempotent = false,
    ctx = { retired = RETIRED[name], fields = fields } }
end

---------------------------------------------------------------------------- posts

-- message/link/attachments rules of every post operation (OneAll + Graph); the media ids
local function post_args(op, args, id_field)
  local list = {
    { check.text, "message", { max = M.limits.message } }, { check.url, "link" },
    { check.list, "attachments", M.limits.attachments },
  }
  if id_field then table.insert(list, 1, { check.id, id_field }) end
  local ok, msg, err = check.all(op, args, list)
  if not ok then return nil, msg, err end
  local atts = args.attachments or {}
  if not nonblank(args.message) and args.link == nil then
    return check.fail(op, "message", "message or link is required")
  end
  if args.link ~= nil and #atts > 0 then
    return check.fail(op, "attachments", "a post takes a link or attachments, not both")
  end
  local ids = {}
  for i, a in ipairs(atts) do
    local t = { attachment = a }
    if not check.id(op, t, "attachment") then
      return check.fail(op, "attachments", "attachments[%d] is not a well-formed picture id", i)
    end
    ids[i] = { media_fbid = t.attachment }
  end
  return ids
end

local POST_ARGS = { "message", "link", "attachments" }

local function feed(name, target, id_field)
  local names = {}
  for i, n in ipairs(POST_ARGS) do names[i] = n end
  if id_field then names[#names + 1] = id_field end
  return Handle.operation(M, name, names, function(h, a, op)
    local media_ids, msg, err = post_args(op, a, id_field)
    if not media_ids then return nil, msg, err end
    local url
    url, msg, err = graph(h, op, (target or a[id_field]) .. "/feed")
    if not url then return nil, msg, err end
    local spec = graph_spec(op, name, url)
    spec.form, msg, err = Handle.merge_extra(op, a, { message = nonblank(a.message) and a.message or nil,
      link = a.link, attached_media = #media_ids > 0 and media_ids or nil })
    if not spec.form then return nil, msg, err end
    local res
    res, msg, err = h:call(spec)
    if not res then return nil, msg, err end
    local id = type(res.json) == "table" and res.json.id or nil
    if id == nil then return pipeline.no_id(h, op, res, "post id") end
    return pipeline.result(M.name, "post", id, post_location(tostring(id)), res.json)
  end)
end

--- Publish a post on the user's profile (POST /me/feed; removed by Facebook in 2018).
-- syntax: res, msg, err = fb:post{message=, link=, attachments={picture_id}, extra=}
feed("post", "me")

--- Publish a post to a group (POST /{group-id}/feed; removed by Facebook in 2024).
-- syntax: res, msg, err = fb:group_post{group_id=, message=, link=, attachments=, extra=}
feed("group_post", nil, "group_id")

--- Publish a post on a Page (POST /{page-id}/feed). extra = {published = false,
-- scheduled_publish_time = t, ...} adds Graph parameters.
-- syntax: res, msg, err = fb:page_post{page_id=, message=, link=, attachments={picture_id}, extra=}
feed("page_post", nil, "page_id")

------------------------------------------------------------------------- pictures

local PICTURE_FIELDS = { message = "description", caption = "description", url = "picture", source = "picture" }
local PICTURE = { types = M.limits.picture_types, max_size = M.limits.picture_max }

local function photos(name, target, id_field)
  local names = { "picture", "description", "create_post" }
  if id_field then names[#names + 1] = id_field end
  return Handle.operation(M, name, names, function(h, a, op)
    local list = { { check.text, "description" }, { check.boolean, "create_post" } }
    if id_field then table.insert(list, 1, { check.id, id_field }) end
    local ok, msg, err = check.all(op, a, list)
    if not ok then return nil, msg, err end
    local m
    m, msg, err = media.prepare(h.client, op, "picture", a.picture, PICTURE)
    if not m then return nil, msg, err end
    local url
    url, msg, err = graph(h, op, (target or a[id_field]) .. "/photos")
    if not url then return nil, msg, err end
    local published = a.create_post ~= false
    local description = nonblank(a.description) and a.description or nil
    local spec = graph_spec(op, name, url, PICTURE_FIELDS)
    local params
    params, msg, err = Handle.merge_extra(op, a, { message = description })
    if not params then return nil, msg, err end
    if not published then params.published = false end
    if m.source == "url" then
      params.url = m.url
      spec.form = params
    else
      local texts, tmsg, tname = form.texts(params)
      if not texts then return check.fail(op, "extra", "extra.%s cannot be encoded: %s", tname, tmsg) end
      local parts = {}
      for i, kv in ipairs(texts) do parts[i] = { name = kv[1], data = kv[2] } end
      parts[#parts + 1] = media.part("source", m)
      spec.multipart = parts
      spec.progress = { phase = "upload", total = m.size }
    end
    local res
    res, msg, err = h:call(spec)
    if not res then return nil, msg, err end
    local j = type(res.json) == "table" and res.json or {}
    if j.id == nil then return pipeline.no_id(h, op, res, "photo id") end
    if published and j.post_id ~= nil then
      return pipeline.result(M.name, "picture", j.post_id, post_location(tostring(j.post_id)), j)
    end
    return pipeline.result(M.name, "picture", j.id, nil, j)
  end)
end

--- Upload a picture for the user (POST /me/photos; removed by Facebook in 2018).
-- syntax: res, msg, err = fb:picture{picture=, description=, create_post=, extra=}
photos("picture", "me")

--- Upload a picture to a group (POST /{group-id}/photos; removed by Facebook in 2024).
-- syntax: res, msg, err = fb:group_picture{group_id=, picture=, description=, create_post=, extra=}
photos("group_picture", nil, "group_id")

--- Upload a picture to a Page (POST /{page-id}/photos): url= for {url=}, else multipart source.
-- create_post = false uploads it unpublished; its id can then be a page_post attachment.
-- syntax: res, msg, err = fb:page_picture{page_id=, picture=, description=, create_post=, extra=}
photos("page_picture", nil, "page_id")

--------------------------------------------------------------------------- videos

local VIDEO_FIELDS = { message = "description" }
local VIDEO = { min_size = M.limits.video_min, max_size = M.limits.video_max }

local function videos(name, target, id_field)
  local names = { "video", "description", "title", "create_post" }
  if id_field then names[#names + 1] = id_field end
  return Handle.operation(M, name, names, function(h, a, op)
    local list = { { check.text, "description" }, { check.text, "title" }, { check.boolean, "create_post" } }
    if id_field then table.insert(list, 1, { check.id, id_field }) end
    local ok, msg, err = check.all(op, a, list)
    if not ok then return nil, msg, err end
    local m
    m, msg, err = media.prepare(h.client, op, "video", a.video, VIDEO, { lazy_url = true })
    if not m then return nil, msg, err end
    local where = target or a[id_field]
    local url
    url, msg, err = graph(h, op, where .. "/videos", true)
    if not url then return nil, msg, err end
    local meta
    meta, msg, err = Handle.merge_extra(op, a, { title = nonblank(a.title) and a.title or nil,
      description = nonblank(a.description) and a.description or nil })
    if not meta then return nil, msg, err end
    if a.create_post == false then meta.published = false end
    local spec = graph_spec(op, name, url, VIDEO_FIELDS)
    local id, raw
    if m.source == "url" then
      meta.file_url = m.url
      spec.form = meta
      local res
      res, msg, err = h:call(spec)
      if not res then return nil, msg, err end
      raw = type(res.json) == "table" and res.json or {}
      id = raw.id
      if id == nil then return pipeline.no_id(h, op, res, "video id") end
    else
      local up
      up, msg, err = upload.resumable(h, spec, m, meta, M.limits.stalls)
      if not up then return nil, msg, err end
      id, raw = up.video_id, up.raw
    end
    local loc
    if id_field == "page_id" then loc = M.web_url .. "/" .. where .. "/videos/" .. tostring(id) end
    return pipeline.result(M.name, "video", id, loc, raw)
  end)
end

--- Upload a video for the user (POST graph-video/me/videos; removed by Facebook in 2018).
-- syntax: res, msg, err = fb:video{video=, description=, title=, create_post=, extra=}
videos("video", "me")

--- Upload a video to a group (POST graph-video/{group-id}/videos; removed by Facebook in 2024).
-- syntax: res, msg, err = fb:group_video{group_id=, video=, description=, title=, create_post=, extra=}
videos("group_video", nil, "group_id")

--- Upload a video to a Page: resumable start/transfer/finish on graph-video (file_url= for {url=}).
-- create_post = false uploads it unpublished (published=false).
-- syntax: res, msg, err = fb:page_video{page_id=, video=, description=, title=, create_post=, extra=}
videos("page_video", nil, "page_id")

---------------------------------------------------------------- legacy REST (#21)

local last_call_id = 0

-- call_id: an increasing number (milliseconds)
local function call_id()
  local t = os.time() * 1000
  if t <= last_call_id then t = last_call_id + 1 end
  last_call_id = t
  return ("%.0f"):format(t)
end

-- a JSON argument: a string (sent as is) or a table that JSON can encode
local function json_arg(op, args, field, want)
  local v = args[field]
  if v == nil or type(v) == "string" then return true end
  if type(v) ~= "table" then return check.fail(op, field, "%s must be a table or a JSON string", field) end
  if want == "array" and next(v) ~= nil and not check.is_list(v) then
    return check.fail(op, field, "%s must be a list of {text=, href=}", field)
  end
  local s, msg = json.encode(v)
  if not s then return check.fail(op, field, "%s cannot be encoded as JSON: %s", field, msg) end
  args[field] = s
  return true
end

--- Publish to a stream with the legacy REST API (restserver.php method=stream.publish, MD5 sig).
-- api_key/secret/session_key come from the arguments or the handle's creds.legacy.
-- syntax: res, msg, err = fb:stream_publish{message=, attachment=, action_links=, target_id=, uid=,
--   api_key=, secret=, session_key=, extra=}
Handle.operation(M, "stream_publish", { "message", "attachment", "action_links", "target_id", "uid", "api_key",
  "secret", "session_key" }, function(h, a, op)
  local ok, msg, err = check.all(op, a, {
    { check.text, "message" }, { check.id, "target_id", { required = false } },
    { check.id, "uid", { required = false } }, { json_arg, "attachment" }, { json_arg, "action_links", "array" },
  })
  if not ok then return nil, msg, err end
  if not nonblank(a.message) and a.attachment == nil then
    return check.fail(op, "message", "message or attachment is required")
  end
  local legacy = type(h.creds.legacy) == "table" and h.creds.legacy or {}
  local creds = { api_key = a.api_key or legacy.api_key, secret = a.secret or legacy.secret,
    session_key = a.session_key or legacy.session_key }
  for _, k in ipairs { "api_key", "secret", "session_key" } do
    if creds[k] ~= nil and (type(creds[k]) ~= "string" or creds[k] == "") then
      return check.fail(op, k, "%s must be a non-empty string", k)
    end
  end
  if creds.api_key == nil then return check.fail(op, "api_key", "api_key is required (args or creds.legacy)") end
  local params = { { "method", "stream.publish" }, { "api_key", creds.api_key }, { "v", "1.0" },
    { "call_id", call_id() }, { "format", "JSON" } }
  for _, kv in ipairs { { "session_key", creds.session_key }, { "message", a.message },
      { "attachment", a.attachment }, { "action_links", a.action_links },
      { "target_id", a.target_id }, { "uid", a.uid } } do
    if kv[2] ~= nil then params[#params + 1] = kv end
  end
  local extra = {}
  for k, v in pairs(a.extra or {}) do
    for _, kv in ipairs(params) do
      if kv[1] == k then return check.fail(op, "extra", "extra.%s is set by the operation itself", k) end
    end
    extra[#extra + 1] = { k, v }
  end
  table.sort(extra, function(x, y) return x[1] < y[1] end)
  for _, kv in ipairs(extra) do params[#params + 1] = kv end
  local spec = { operation = op, method = "POST", url = M.rest_url, auth = M.legacy_scheme, creds = creds,
    form = params, idempotent = false, decode = "json", ctx = { retired = RETIRED.stream_publish } }
  local res
  res, msg, err = h:call(spec)
  if not res then return nil, msg, err end
  local v = res.json
  if type(v) == "table" then return pipeline.refuse(h, spec, res) end     -- errors come with HTTP 200
  if type(v) == "number" then v = ("%.0f"):format(v) end
  if type(v) ~= "string" or v == "" then return pipeline.no_id(h, op, res, "post id") end
  return pipeline.result(M.name, "post", v, post_location(v), v)
end)

return M
