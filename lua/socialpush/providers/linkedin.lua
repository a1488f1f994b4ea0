--- socialpush.providers.linkedin: LinkedIn Posts API (member and organization posts, pictures via the
-- Images API). Handles: `client:linkedin{access_token=, author=, company=}`; `author`
-- (urn:li:person:…) and `company` (urn:li:organization:… or its numeric id) are the
-- defaults of the operations' arguments. `version` (LinkedIn-Version, YYYYMM, default
-- M.version) and `base_url` (default https://api.linkedin.com/rest) may be overridden in the
-- credentials. See docs/providers/linkedin.md.
--
-- syntax: res, msg, err = li:post{author=, message=, link=, title=, description=, picture=, visibility=, extra=}
-- syntax: res, msg, err = li:company_post{company=, message=, link=, title=, description=, picture=, extra=}
local Handle = require "socialpush.pipeline.handle"
local pipeline = require "socialpush.pipeline"
local check = require "socialpush.pipeline.check"
local media = require "socialpush.pipeline.media"
local time = require "socialpush.time"
local json = require "socialpush.json"
local errors = require "socialpush.errors"

local M = Handle.class {
  name = "linkedin",
  base_url = "https://api.linkedin.com/rest",    -- creds.base_url overrides
  version = "202605",                            -- LinkedIn-Version; creds.version overrides
  restli_version = "2.0.0",                      -- X-Restli-Protocol-Version
  feed_url = "https://www.linkedin.com/feed/update/",
  max_commentary = 3000,                         -- characters, after little-text escaping (3p figure)
  visibilities = { "PUBLIC", "CONNECTIONS", "LOGGED_IN" },
  -- hosts an Images API upload URL may point at (the bearer token is sent there)
  upload_hosts = { ["www.linkedin.com"] = true, ["api.linkedin.com"] = true },
  image = { types = { "image/jpeg", "image/png", "image/gif" }, max_size = 5 * 1024 * 1024 }, -- 3p figures
  public_creds = { author = true, company = true, version = true, base_url = true },
}
local mt = { __index = M, __tostring = Handle.tostring }

--- A handle bound to a client (client:linkedin{creds}).
-- syntax: li = linkedin.new(client, creds)
function M.new(client, creds) return Handle.new(mt, client, creds) end

local AUTH_CODES = { [65600] = true, [65601] = true }
-- JSON pointers of the post body → the argument they come from
local FIELDS = {
  ["/commentary"] = "message", ["/visibility"] = "visibility", ["/content/article/source"] = "link",
  ["/content/article/title"] = "title", ["/content/article/description"] = "description",
  ["/content/article/thumbnail"] = "picture", ["/content/media/id"] = "picture",
  ["/content/media/altText"] = "description", ["/content/media/title"] = "title",
  ["/author"] = "author", ["/initializeUploadRequest/owner"] = "author",
}

------------------------------------------------------------------------- Rest.li 2.0

local RECORD_MT = {}

--- An ordered Rest.li record (complex key): a list of {name, value} pairs kept in order.
-- syntax: rec = linkedin.restli_record{{"member", urn}, {"account", urn}}
function M.restli_record(list)
  return setmetatable({ pairs = list }, RECORD_MT)
end

local function restli_string(s)
  if s == "" then return "''" end
  -- encodeURIComponent, then the Rest.li reserved , ( ) ' : as %XX (! ~ * stay)
  return (s:gsub("[^%w%-_%.!~%*]", function(c) return ("%%%02X"):format(c:byte()) end))
end

local function is_list(t)
  return check.is_list(t) and (#t > 0 or getmetatable(t) == json.array_mt)
end

--- Rest.li 2.0 URL encoding of a value (path keys, complex keys, query values): strings are
-- percent-encoded (reserved , ( ) ' : included; '' for the empty string), numbers and
-- booleans as text, lists as List(a,b), maps as (k:v,…) in key order, restli_record()s in
-- their own order, json.array() marks an empty list.
-- syntax: s = linkedin.restli_encode(value)
function M.restli_encode(v)
  local t = type(v)
  if t == "string" then return restli_string(v) end
  if t == "number" then
    if v == math.floor(v) and v > -2 ^ 53 and v < 2 ^ 53 then return ("%.0f"):format(v) end
    return restli_string(tostring(v))
  end
  if t == "boolean" then return tostring(v) end
  if v == json.null then return "null" end
  if t ~= "table" then error("linkedin.restli_encode: cannot encode a " .. t, 2) end
  local out = {}
  if getmetatable(v) == RECORD_MT then
    for i, kv in ipairs(v.pairs) do out[i] = restli_string(tostring(kv[1])) .. ":" .. M.restli_encode(kv[2]) end
    return "(" .. table.concat(out, ",") .. ")"
  end
  if is_list(v) then
    for i = 1, #v do out[i] = M.restli_encode(v[i]) end
    return "List(" .. table.concat(out, ",") .. ")"
  end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  for i, k in ipairs(keys) do out[i] = restli_string(k) .. ":" .. M.restli_encode(v[k]) end
  return "(" .. table.concat(out, ",") .. ")"
end

--- A resource URL with {name} placeholders of the path template replaced by Rest.li-encoded
-- keys: restli_url("/socialActions/{actionUrn}/comments/{commentId}", {actionUrn = urn, ...}).
-- syntax: url = linkedin.restli_url(template, keys [, base_url])
function M.restli_url(template, keys, base)
  local path = template:gsub("{([%w_]+)}", function(name)
    local v = keys[name]
    if v == nil then error("linkedin.restli_url: no value for {" .. name .. "}", 3) end
    return M.restli_encode(v)
  end)
  return (base or M.base_url) .. path
end

------------------------------------------------------------------------------ errors

--- Map a refused LinkedIn response ({message, serviceErrorCode, status, code}) to an error
-- description. 422 messages name the failing field as a JSON pointer ("ERROR :: /author ::").
-- syntax: t = linkedin.map_error(res, spec)   -- {kind=, code=, detail=, field=, retry_after=}
function M.map_error(res, spec)
  local body = type(res.json) == "table" and res.json or {}
  local headers = res.headers or {}
  local status = res.status or 0
  local detail = type(body.message) == "string" and body.message or nil
  local sec = tonumber(body.serviceErrorCode)
  local code = type(body.code) == "string" and body.code or nil
  local out = { detail = detail, code = code or sec, subcode = code and sec or nil,
    request_id = headers["x-li-uuid"] or headers["x-li-request-id"] }
  local low = (detail or ""):lower()
  if status == 401 or AUTH_CODES[sec] then
    out.kind = "auth"
  elseif code == "DUPLICATE_POST" or low:find("duplicate", 1, true) then
    out.kind = "duplicate"
  elseif status == 426 or code == "NONEXISTENT_VERSION" or code == "VERSION_MISSING" then
    out.kind = "unsupported"
  elseif status == 429 then
    out.retry_after = res.retry_after or time.until_midnight_utc()
  elseif status == 422 then
    local ptr = detail and detail:match("::%s*(/[%w_/]+)")
    if ptr then
      local field = FIELDS[ptr] or ptr:match("^/([%w_]+)")
      if field == "author" and spec and spec.operation == "linkedin.company_post" then field = "company" end
      out.field = field
    end
  end
  out.kind = out.kind or pipeline.status_kind(status)
  return out
end

------------------------------------------------------------------------------ checks

--- Little-text escaping of commentary: \ | { } @ [ ] ( ) < > # * _ ~ get a backslash.
-- syntax: s = linkedin.little_text(message)
function M.little_text(s)
  return (s:gsub("[\\|{}@%[%]%(%)<>#%*_~]", "\\%0"))
end

local function check_author(op, a)
  local v = a.author
  if v == nil then return check.fail(op, "author", "author is required (urn:li:person:…)") end
  if type(v) ~= "string" or not v:match("^urn:li:person:[%w_%-]+$") then
    return check.fail(op, "author", "author must be a urn:li:person:… URN")
  end
  return true
end

local function check_company(op, a)
  local v = a.company
  if type(v) == "number" and v == math.floor(v) and v > 0 and v < 2 ^ 53 then v = ("%.0f"):format(v) end
  if type(v) == "string" and v:match("^%d+$") then v = "urn:li:organization:" .. v end
  if v == nil then return check.fail(op, "company", "company is required (urn:li:organization:… or its id)") end
  if type(v) ~= "string" or not v:match("^urn:li:organization:%d+$") then
    return check.fail(op, "company", "company must be a urn:li:organization:… URN or a numeric id")
  end
  a.company = v
  return true
end

-- message (commentary after escaping ≤ max_commentary) or link required
local function check_text(op, a)
  if a.message == "" then a.message = nil end
  local ok, msg, err = check.all(op, a, {
    { check.text, "message" }, { check.url, "link" }, { check.text, "title" }, { check.text, "description" },
  })
  if not ok then return nil, msg, err end
  if a.message == nil and a.link == nil then
    return check.fail(op, "message", "message or link is required")
  end
  if a.little_text ~= nil and type(a.little_text) ~= "boolean" then
    return check.fail(op, "little_text", "little_text must be a boolean")
  end
  a.commentary = a.message and (a.little_text and a.message or M.little_text(a.message)) or ""
  local n = check.utf8_len(a.commentary)
  if n > M.max_commentary then
    return check.fail(op, "message", "message is %d characters once escaped, the limit is %d", n, M.max_commentary)
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

local function versioned(h, op)
  local v = h.creds.version or M.version
  if type(v) ~= "string" or not v:match("^%d%d%d%d%d%d$") then
    return check.fail(op, "version", "credentials version must be a LinkedIn-Version such as \"%s\"", M.version)
  end
  return { { "LinkedIn-Version", v }, { "X-Restli-Protocol-Version", M.restli_version } }
end

-- the upload URL's host must be LinkedIn's own (the bearer token goes there)
local function upload_url_ok(url) return check.https_host(url, M.upload_hosts) end

-- Images API: initializeUpload for owner, then PUT the bytes; the image URN
local function upload_image(h, op, owner, value)
  local m, msg, err = media.prepare(h.client, op, "picture", value, M.image, { download = true, nonempty = true })
  if not m then return nil, msg, err end
  local url, headers
  url, msg, err = api(h, op, "/images")
  if url then headers, msg, err = versioned(h, op) end
  if not headers then media.release(m); return nil, msg, err end
  -- initializeUpload only reserves an upload slot: repeating it after a lost reply is harmless
  local res
  res, msg, err = h:call { operation = op, method = "POST", url = url,
    query = { action = "initializeUpload" }, headers = headers, idempotent = true,
    json = { initializeUploadRequest = { owner = owner } } }
  if not res then media.release(m); return nil, msg, err end
  local value_t = type(res.json) == "table" and type(res.json.value) == "table" and res.json.value or {}
  local upload_url, urn = value_t.uploadUrl, value_t.image
  if type(urn) ~= "string" or not urn:match("^urn:li:image:[%w_%-]+$") or type(upload_url) ~= "string" then
    media.release(m)
    return pipeline.no_id(h, op, res, "value.uploadUrl / value.image (initializeUpload)")
  end
  if not upload_url_ok(upload_url) then
    media.release(m)
    return errors.fail { kind = "provider", provider = M.name, operation = op, status = res.status,
      detail = "refusing to send the token to an upload URL outside LinkedIn" }
  end
  res, msg, err = h:call { operation = op, method = "PUT", url = upload_url, body = media.range(m),
    content_type = m.content_type, idempotent = true, decode = "none",
    progress = { phase = "upload", total = m.size } }
  media.release(m)
  if not res then return nil, msg, err end
  return urn
end

-- POST /rest/posts for an author (person or organization URN); the normalised result
local function create_post(h, op, author, a)
  local body = {
    author = author,
    commentary = a.commentary,
    visibility = a.visibility or "PUBLIC",
    distribution = { feedDistribution = "MAIN_FEED", targetEntities = json.array {},
      thirdPartyDistributionChannels = json.array {} },
    lifecycleState = "PUBLISHED",
    isReshareDisabledByAuthor = false,
  }
  local msg, err
  body, msg, err = Handle.merge_extra(op, a, body)
  if not body then return nil, msg, err end
  local url, headers
  url, msg, err = api(h, op, "/posts")
  if url then headers, msg, err = versioned(h, op) end
  if not headers then return nil, msg, err end
  local image
  if a.picture ~= nil then
    image, msg, err = upload_image(h, op, author, a.picture)
    if not image then return nil, msg, err end
  end
  if a.link then
    -- the Posts API does not scrape previews: the article carries title/description/thumbnail
    body.content = { article = { source = a.link, title = a.title or a.link, description = a.description,
      thumbnail = image } }
  elseif image then
    body.content = { media = { id = image, title = a.title, altText = a.description } }
  end
  local res
  res, msg, err = h:call { operation = op, method = "POST", url = url, headers = headers,
    json = body, idempotent = false, expect = { 201, 200 } }
  if not res then return nil, msg, err end
  local urn = res.headers and (res.headers["x-restli-id"] or res.headers["x-linkedin-id"])
  if type(urn) ~= "string" or not urn:match("^urn:li:%w+:[%w_%-]+$") then
    return pipeline.no_id(h, op, res, "x-restli-id header")
  end
  -- LinkedIn answers 201 with an empty body: raw is the reply, or the id it gave in a header
  local r = pipeline.result(M.name, "post", urn, M.feed_url .. urn .. "/", res.json or { id = urn })
  r.image = image
  return r
end

local POST_ARGS = { "message", "link", "title", "description", "picture", "little_text" }

local function args_with(extra)
  local t = {}
  for i, n in ipairs(POST_ARGS) do t[i] = n end
  for _, n in ipairs(extra) do t[#t + 1] = n end
  return t
end

--- Publish a post on a member's profile. message (little-text escaped unless little_text =
-- true) or link is required; link makes an article (title, description, picture as its
-- thumbnail), a picture alone a media post. author defaults to the handle's creds.author;
-- extra = {...} adds Posts API body fields.
-- Result: object "post", post_id = the post URN (urn:li:share:…), post_location its feed URL.
-- syntax: res, msg, err = li:post{author=, message=, link=, title=, description=, picture=, visibility=, extra=}
Handle.operation(M, "post", args_with { "author", "visibility" }, function(h, a, op)
  if a.author == nil then a.author = h.creds.author end
  local ok, msg, err = check.all(op, a, {
    { check_author }, { check_text }, { check.one_of, "visibility", M.visibilities },
  })
  if not ok then return nil, msg, err end
  return create_post(h, op, a.author, a)
end)

--- Publish a post on an organization page the member administers (same arguments as post,
-- company = urn:li:organization:… or its numeric id, default creds.company; always PUBLIC).
-- syntax: res, msg, err = li:company_post{company=, message=, link=, title=, description=, picture=, extra=}
Handle.operation(M, "company_post", args_with { "company" }, function(h, a, op)
  if a.company == nil then a.company = h.creds.company end
  local ok, msg, err = check.all(op, a, { { check_company }, { check_text } })
  if not ok then return nil, msg, err end
  return create_post(h, op, a.company, a)
end)

return M
