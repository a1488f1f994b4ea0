--- Sandbox emulation of LinkedIn: the Posts API (POST /rest/posts), the Images API
-- (POST /rest/images?action=initializeUpload, GET /rest/images/{urn}) and the upload URL it
-- hands out (PUT https://www.linkedin.com/dms-uploads/…). Runs inside nginx; never uses
-- socialpush.* library code.
--
-- Behaviour (see docs/providers/linkedin.md; figures marked unconfirmed there are the
-- sandbox's own choice):
-- - Bearer token from the accounts fixture: none → 401 "Empty oauth2_access_token", unknown
--   → 401 serviceErrorCode 65600, revoked (fixture `expired`) → 401 serviceErrorCode 65601.
-- - Every /rest/ call needs LinkedIn-Version (one of the 12 monthly versions up to
--   ACTIVE_LATEST, optionally "YYYYMM.RR"; missing or sunset → 426 NONEXISTENT_VERSION) and
--   X-Restli-Protocol-Version: 2.0.0 (else 400).
-- - Posts: required fields → 422 "ERROR :: /field :: field is required but not found and
--   has no default value"; enums; author must be the token's member or an organization the
--   fixture says the member administers (creds.company / creds.organizations) → else 403;
--   commentary over 3000 characters → 422; content.media.id / article.thumbnail must name an
--   uploaded image of the author → else 422; the same commentary twice from one author → 422
--   DUPLICATE_POST; 150 posts per author per UTC day → 429. Success: 201, empty body,
--   x-restli-id: urn:li:share:….
-- - Reading back: GET /rest/posts/{urn} (the author's own posts), the finder
--   GET /rest/posts?q=author&author=&count=&start=&sortBy= (needs r_member_social or
--   r_organization_social: the fixture tokens lack them; POST /_/linkedin/config {"grant": [...]}
--   grants them), DELETE /rest/posts/{urn} → 204; another member's post → 403, a deleted or
--   unknown one → 404. The duplicate check, its window and the ghost URNs after a delete are
--   switches of /_/linkedin/config.
-- - Images: initializeUpload (owner as for posts) → value {uploadUrl, image, uploadUrlExpiresAt};
--   the PUT (bearer of the same member) takes jpeg/png/gif bytes ≤ 5 MiB → 201; the image is
--   then AVAILABLE.
local M = {}

local ACTIVE_LATEST = 202605         -- newest LinkedIn-Version the sandbox serves
local ACTIVE_MONTHS = 12             -- versions stay active about a year
local MAX_COMMENTARY = 3000
local MAX_IMAGE = 5 * 1024 * 1024
local DAILY_POSTS = 150              -- per author per UTC day (third-party figure)
local UPLOAD_HOST = "www.linkedin.com"

local API = "api.linkedin.com"

--- sandbox switches (GET/POST /_/linkedin/config; /_/reset restores these)
M.DEFAULTS = {
  grant = {},                  -- extra permissions every fixture token holds, e.g. {"r_member_social"}
  duplicate_check = true,      -- 422 DUPLICATE_POST on the same commentary from the same author
  duplicate_window_secs = 0,   -- [guess] how long a commentary counts as a duplicate (0: forever)
  ghost_secs = 0,              -- [issue] after a delete, re-posting it is refused naming a fresh
                               -- "ghost" URN for this long (ComposioHQ/composio#2710: 24-48 h)
}
local FINDER_MAX = 100         -- [guess] largest `count` of the posts finder

local function config(server)
  local c = server.state.get("li:config") or {}
  for k, v in pairs(M.DEFAULTS) do if c[k] == nil then c[k] = v end end
  return c
end

-- whether the token's account holds a permission (its own `scopes`, or granted by the config)
local function has_scope(server, account, scope)
  for _, list in ipairs({ account.scopes or {}, config(server).grant }) do
    for _, s in ipairs(list) do if s == scope then return true end end
  end
  return false
end

local function fail(server, status, message, extra)
  local body = { status = status, message = message }
  for k, v in pairs(extra or {}) do body[k] = v end
  return server.json(status, body)
end

local function unprocessable(server, pointer, text, extra)
  return fail(server, 422, "ERROR :: " .. pointer .. " :: " .. text, extra)
end

local function required(server, pointer)
  return unprocessable(server, pointer, "field is required but not found and has no default value")
end

-- the account of the request's bearer token, or nil after answering 401
local function authenticate(server, req)
  local who, reason, detail = server.auth.bearer(req, "linkedin")
  if who then return who end
  if reason == "missing" then
    fail(server, 401, "Empty oauth2_access_token", { serviceErrorCode = 401 })
  elseif reason == "expired" and detail and detail.reason == "lapsed" then
    -- a token of the sandbox's OAuth past its lifetime [guess: code and text]
    fail(server, 401, "The token used in the request has expired",
      { serviceErrorCode = 65600, code = "EXPIRED_ACCESS_TOKEN" })
  elseif reason == "expired" then
    fail(server, 401, "The token used in the request has been revoked by the user",
      { serviceErrorCode = 65601, code = "REVOKED_ACCESS_TOKEN" })
  else
    fail(server, 401, "Invalid access token", { serviceErrorCode = 65600, code = "INVALID_ACCESS_TOKEN" })
  end
  return nil
end

local function version_active(v)
  local y, m = v:match("^(%d%d%d%d)(%d%d)$")
  if not y then y, m = v:match("^(%d%d%d%d)(%d%d)%.%d%d$") end
  if not y then return false end
  y, m = tonumber(y), tonumber(m)
  if m < 1 or m > 12 then return false end
  local latest_y, latest_m = math.floor(ACTIVE_LATEST / 100), ACTIVE_LATEST % 100
  local age = (latest_y - y) * 12 + (latest_m - m)
  return age >= 0 and age < ACTIVE_MONTHS
end

-- LinkedIn-Version and X-Restli-Protocol-Version; false after answering
local function versioned(server, req)
  local v = req:header("linkedin-version")
  if not v or v == "" then
    fail(server, 426, "A version must be present. Please specify a version by adding the LinkedIn-Version header.",
      { code = "NONEXISTENT_VERSION" })
    return false
  end
  if not version_active(v) then
    fail(server, 426, "Requested version " .. v:sub(1, 6) .. "01 is not active", { code = "NONEXISTENT_VERSION" })
    return false
  end
  if req:header("x-restli-protocol-version") ~= "2.0.0" then
    fail(server, 400, "X-Restli-Protocol-Version header must be 2.0.0 for this resource")
    return false
  end
  return true
end

-- whether the member may act as author (themselves, or an organization they administer)
local function may_act_as(account, urn)
  if urn == account.author then return true end
  if urn == account.company then return true end
  for _, org in ipairs(account.organizations or {}) do
    if org == urn then return true end
  end
  return false
end

local function forbidden(server, what)
  return fail(server, 403, "Not enough permissions to access: " .. what .. "." .. ACTIVE_LATEST .. "01",
    { serviceErrorCode = 100, code = "ACCESS_DENIED" })
end

local function utf8_chars(s)
  local _, n = s:gsub("[^\128-\191]", "")
  return n
end

local function valid_urn(v)
  return type(v) == "string" and (v:match("^urn:li:person:[%w_%-]+$") or v:match("^urn:li:organization:%d+$"))
end

-- Rest.li path key: percent-encode like encodeURIComponent plus , ( ) ' :
local function restli_encode(s)
  return (s:gsub("[^%w%-_%.!~%*]", function(c) return string.format("%%%02X", c:byte()) end))
end

---------------------------------------------------------------------------- images

local function image_key(urn) return "li:image:" .. urn end

local function sniff_image(head)
  if head:find("^\255\216\255") then return "image/jpeg" end
  if head:find("^\137PNG\r\n\26\n") then return "image/png" end
  if head:find("^GIF8[79]a") then return "image/gif" end
  return nil
end

local function initialize_upload(server, req)
  local who = authenticate(server, req)
  if not who or not versioned(server, req) then return end
  local args = req:args()
  if args.action ~= "initializeUpload" then
    return fail(server, 400, "Unsupported action " .. tostring(args.action))
  end
  local body = req:json(65536)
  if type(body) ~= "table" then return fail(server, 400, "Unable to parse the request body as JSON") end
  local r = body.initializeUploadRequest
  if type(r) ~= "table" then return required(server, "/initializeUploadRequest") end
  if r.owner == nil then return required(server, "/initializeUploadRequest/owner") end
  if not valid_urn(r.owner) then
    return unprocessable(server, "/initializeUploadRequest/owner", '"' .. tostring(r.owner) .. '" is not a valid Urn')
  end
  if not may_act_as(who.account, r.owner) then return forbidden(server, "images.ACTION.initializeUpload") end
  local n = server.state.incr("li:images")
  local id = string.format("C4E10AQSbx%09d", n)
  local urn = "urn:li:image:" .. id
  local ut = string.format("AQ%s", server.crypto.sha256_hex(urn .. ":" .. n):sub(1, 24))
  server.state.set(image_key(urn), { id = urn, owner = r.owner, status = "WAITING_UPLOAD", ut = ut,
    member = who.account.author })
  local expires = math.floor(ngx.now() * 1000) + 86400000
  return server.json(200, { value = {
    uploadUrlExpiresAt = expires,
    uploadUrl = "https://" .. UPLOAD_HOST .. "/dms-uploads/sp/" .. id
      .. "/uploaded-image/0?ca=vector_feedshare&cn=uploads&sync=0&v=beta&ut=" .. ut,
    image = urn,
  } })
end

local function put_upload(server, req, id)
  local who = authenticate(server, req)
  if not who then return end
  local urn = "urn:li:image:" .. id
  local img = server.state.get(image_key(urn))
  if not img or req:args().ut ~= img.ut then return fail(server, 404, "Upload not found") end
  if img.member ~= who.account.author then return forbidden(server, "dms-uploads.PUT") end
  local cl = tonumber(req:header("content-length") or "")
  if cl and cl > MAX_IMAGE then return fail(server, 413, "Request entity too large") end
  local head = ""
  local size, sha = req:stream(function(chunk)
    if #head < 16 then head = head .. chunk:sub(1, 16 - #head) end
  end)
  if not size then return fail(server, 400, "Could not read the upload: " .. tostring(sha)) end
  if size > MAX_IMAGE then return fail(server, 413, "Request entity too large") end
  if size == 0 then return fail(server, 400, "Empty upload") end
  local ctype = sniff_image(head)
  if not ctype then return fail(server, 400, "Unsupported image format (JPG, PNG or GIF expected)") end
  server.state.update(image_key(urn), function(old)
    old.status, old.size, old.sha256, old.content_type = "AVAILABLE", size, sha, ctype
    return old
  end)
  return server.send(201, nil)
end

local function get_image(server, req, key)
  local who = authenticate(server, req)
  if not who or not versioned(server, req) then return end
  local urn = server.auth.decode(key)
  local img = server.state.get(image_key(urn))
  if not img then return fail(server, 404, "Image " .. urn .. " does not exist") end
  if not may_act_as(who.account, img.owner) then return forbidden(server, "images.GET") end
  return server.json(200, { id = img.id, owner = img.owner, status = img.status,
    mediaType = img.content_type })
end

----------------------------------------------------------------------------- posts

local ENUMS = {
  visibility = { PUBLIC = true, CONNECTIONS = true, LOGGED_IN = true, CONTAINER = true },
  lifecycleState = { PUBLISHED = true, DRAFT = true },
  feedDistribution = { MAIN_FEED = true, NONE = true },
}

local function not_enum(server, pointer, v)
  return unprocessable(server, pointer, '"' .. tostring(v) .. '" is not an enum symbol')
end

-- an uploaded image of the author; nil after answering 422
local function check_image(server, pointer, urn, author)
  if type(urn) ~= "string" or not urn:match("^urn:li:image:") then
    return unprocessable(server, pointer,
      '"' .. tostring(urn) .. '" is not a supported media Urn (sandbox: images only)')
  end
  local img = server.state.get(image_key(urn))
  if not img then return unprocessable(server, pointer, urn .. " does not exist") end
  if img.status ~= "AVAILABLE" then return unprocessable(server, pointer, urn .. " is not uploaded yet") end
  if img.owner ~= author then return unprocessable(server, pointer, urn .. " is not owned by the author") end
  return true
end

-- content: {media = {id}} or {article = {source, title, ...}}; true or nil after answering
local function check_content(server, c, author)
  if type(c) ~= "table" then return unprocessable(server, "/content", "content must be a record") end
  if c.media ~= nil then
    if type(c.media) ~= "table" or c.media.id == nil then return required(server, "/content/media/id") end
    return check_image(server, "/content/media/id", c.media.id, author)
  elseif c.article ~= nil then
    local a = c.article
    if type(a) ~= "table" or a.source == nil then return required(server, "/content/article/source") end
    if type(a.source) ~= "string" or not a.source:match("^[hH][tT][tT][pP][sS]?://[^%s/?#]+") then
      return unprocessable(server, "/content/article/source", '"' .. tostring(a.source) .. '" is not a valid URL')
    end
    if a.title == nil then return required(server, "/content/article/title") end
    if a.thumbnail ~= nil then return check_image(server, "/content/article/thumbnail", a.thumbnail, author) end
    return true
  end
  return unprocessable(server, "/content", "unsupported content type (sandbox: media or article)")
end

local function new_urn(server)
  return string.format("urn:li:share:73%017d", server.state.incr("li:posts"))
end

-- the URN a duplicate refusal names, or nil: the earlier post while it exists (within the
-- window), or a fresh ghost URN during ghost_secs after that post was deleted
local function duplicate_of(server, cfg, earlier)
  if type(earlier) ~= "table" then return nil end
  local window = cfg.duplicate_window_secs
  if window > 0 and ngx.now() - earlier.at >= window then return nil end
  if server.state.get("li:post:" .. earlier.urn) then return earlier.urn end
  if earlier.deleted_at and ngx.now() - earlier.deleted_at < cfg.ghost_secs then return new_urn(server) end
  return nil
end

-- 422 DUPLICATE_POST as LinkedIn sends it (Arisamiga/Linkedin-RSS#5); the top-level "code"
-- is the sandbox's addition, kept for clients that read it
local function duplicate(server, urn)
  return fail(server, 422, "com.linkedin.content.common.exception.BadRequestResponseException: Content is a"
    .. " duplicate of " .. urn, { errorDetailType = "com.linkedin.common.error.BadRequest",
      errorDetails = { inputErrors = server.array({ { description = "Duplicate post is detected", input = {},
        code = "DUPLICATE_POST" } }) }, code = "DUPLICATE_POST" })
end

local function create_post(server, req)
  local who = authenticate(server, req)
  if not who or not versioned(server, req) then return end
  local body = req:json(1048576)
  if type(body) ~= "table" then return fail(server, 400, "Unable to parse the request body as JSON") end
  for _, f in ipairs({ "author", "commentary", "visibility", "distribution", "lifecycleState" }) do
    if body[f] == nil or body[f] == server.null then return required(server, "/" .. f) end
  end
  if type(body.distribution) ~= "table" or body.distribution.feedDistribution == nil then
    return required(server, "/distribution/feedDistribution")
  end
  if not ENUMS.visibility[body.visibility] then return not_enum(server, "/visibility", body.visibility) end
  if not ENUMS.lifecycleState[body.lifecycleState] then
    return not_enum(server, "/lifecycleState", body.lifecycleState)
  end
  if not ENUMS.feedDistribution[body.distribution.feedDistribution] then
    return not_enum(server, "/distribution/feedDistribution", body.distribution.feedDistribution)
  end
  if not valid_urn(body.author) then
    return unprocessable(server, "/author", '"' .. tostring(body.author) .. '" is not a valid Urn')
  end
  if not may_act_as(who.account, body.author) then return forbidden(server, "partnerApiPostsExternal.CREATE") end
  if type(body.commentary) ~= "string" then
    return unprocessable(server, "/commentary", "commentary must be a string")
  end
  local n = utf8_chars(body.commentary)
  if n > MAX_COMMENTARY then
    return unprocessable(server, "/commentary", "length of " .. n .. " exceeds the maximum allowed length of "
      .. MAX_COMMENTARY)
  end
  if body.content ~= nil and body.content ~= server.null then
    if not check_content(server, body.content, body.author) then return end
  elseif not body.commentary:find("%S") then
    return unprocessable(server, "/commentary", "commentary is empty and the post has no content")
  end
  local dup_key
  local cfg = config(server)
  if body.commentary:find("%S") and cfg.duplicate_check then
    dup_key = "li:dup:" .. body.author .. ":" .. server.crypto.sha256_hex(body.commentary)
    local urn = duplicate_of(server, cfg, server.state.get(dup_key))
    if urn then return duplicate(server, urn) end
  end
  local day_key = "li:day:" .. os.date("!%Y%m%d") .. ":" .. body.author
  if (server.state.get(day_key) or 0) >= DAILY_POSTS then
    return fail(server, 429, "Resource level throttle MEMBER DAY limit for calls to this resource is reached.")
  end
  server.state.incr(day_key, 1, 0)
  local urn = new_urn(server)
  local now = math.floor(ngx.now() * 1000)
  server.state.set("li:post:" .. urn, { id = urn, author = body.author, commentary = body.commentary,
    visibility = body.visibility, lifecycleState = body.lifecycleState, content = body.content,
    distribution = body.distribution, isReshareDisabledByAuthor = body.isReshareDisabledByAuthor == true,
    createdAt = now, lastModifiedAt = now, publishedAt = body.lifecycleState == "PUBLISHED" and now or nil,
    lifecycleStateInfo = { isEditedByAuthor = false } })
  if dup_key then server.state.set(dup_key, { urn = urn, at = ngx.now() }) end
  return server.send(201, nil, { ["x-restli-id"] = urn, Location = "/rest/posts/" .. restli_encode(urn) })
end

local function not_found(server, urn)
  return fail(server, 404, "Post " .. urn .. " not found", { serviceErrorCode = 100, code = "NOT_FOUND" }) -- [guess]
end

-- GET /rest/posts/{urn}: the author's own post (the member, or an organization they administer)
local function get_post(server, req, key)
  local who = authenticate(server, req)
  if not who or not versioned(server, req) then return end
  local urn = server.auth.decode(key)
  local post = server.state.get("li:post:" .. urn)
  if not post then return not_found(server, urn) end
  if not may_act_as(who.account, post.author) then return forbidden(server, "partnerApiPostsExternal.GET") end
  return server.json(200, post)
end

-- DELETE /rest/posts/{urn} → 204 (X-RestLi-Method: DELETE is optional here)
local function delete_post(server, req, key)
  local who = authenticate(server, req)
  if not who or not versioned(server, req) then return end
  local urn = server.auth.decode(key)
  local post = server.state.get("li:post:" .. urn)
  if not post then return not_found(server, urn) end
  if not may_act_as(who.account, post.author) then return forbidden(server, "partnerApiPostsExternal.DELETE") end
  server.state.delete("li:post:" .. urn)
  local dup_key = "li:dup:" .. post.author .. ":" .. server.crypto.sha256_hex(post.commentary or "")
  server.state.update(dup_key, function(d)
    if type(d) ~= "table" or d.urn ~= urn then return d end
    if config(server).ghost_secs > 0 then d.deleted_at = ngx.now(); return d end
    return nil
  end)
  return server.send(204, nil)
end

-- GET /rest/posts?q=author&author={urn}&count=&start=&sortBy=CREATED|LAST_MODIFIED: the author's
-- posts newest first. Needs r_member_social (a member author) or r_organization_social (an
-- organization): the fixture tokens lack both unless the config grants them.
local function find_posts(server, req)
  local who = authenticate(server, req)
  if not who or not versioned(server, req) then return end
  local a = req:args()
  if a.q ~= "author" then
    return fail(server, 400, "Invalid query parameters passed to request: the finder q=" .. tostring(a.q)
      .. " is not supported (sandbox: author only)")
  end
  local author = a.author
  if type(author) ~= "string" or not valid_urn(author) then
    return fail(server, 400, "Invalid query parameters passed to request: author=" .. tostring(author))
  end
  local scope = author:match("^urn:li:organization:") and "r_organization_social" or "r_member_social"
  if not has_scope(server, who.account, scope) or not may_act_as(who.account, author) then
    return forbidden(server, "partnerApiPostsExternal.FINDER-author")
  end
  local count, start = tonumber(a.count or "10"), tonumber(a.start or "0")
  if not count or count < 0 or count % 1 ~= 0 or not start or start < 0 or start % 1 ~= 0 then
    return fail(server, 400, "Invalid query parameters passed to request: count/start must be integers >= 0")
  end
  count = math.min(count, FINDER_MAX)
  local sort = a.sortBy or "LAST_MODIFIED"
  if sort ~= "CREATED" and sort ~= "LAST_MODIFIED" then
    return fail(server, 400, "Invalid query parameters passed to request: sortBy=" .. tostring(sort))
  end
  local drafts = a.viewContext == "AUTHOR"
  local all = {}
  for _, k in ipairs(server.state.keys("li:post:")) do
    local p = server.state.get(k)
    if p and p.author == author and (drafts or p.lifecycleState == "PUBLISHED") then all[#all + 1] = p end
  end
  local field = sort == "CREATED" and "createdAt" or "lastModifiedAt"
  table.sort(all, function(x, y)
    if x[field] ~= y[field] then return x[field] > y[field] end
    return x.id > y.id
  end)
  local elements = server.array()
  for i = start + 1, math.min(#all, start + count) do elements[#elements + 1] = all[i] end
  local links = server.array()
  local function link(rel, at)
    links[#links + 1] = { type = "application/json", rel = rel, href = "/rest/posts?author=" .. restli_encode(author)
      .. "&count=" .. count .. "&q=author&sortBy=" .. sort .. "&start=" .. at }
  end
  if start > 0 and count > 0 then link("prev", math.max(0, start - count)) end
  if count > 0 and start + count < #all then link("next", start + count) end
  return server.json(200, { paging = { start = start, count = count, links = links, total = #all },
    elements = elements })
end

--- syntax: linkedin.register(server)
function M.register(server)
  server.route(server.CONTROL_HOST, { "GET", "POST" }, "/_/linkedin/config", function(req)
    if req.method == "POST" then
      local t, err = req:json(65536)
      if type(t) ~= "table" then return server.fail(400, err or "expected a JSON object") end
      local c = config(server)
      for k, v in pairs(t) do
        local want = M.DEFAULTS[k]
        if want == nil or type(v) ~= type(want) or (type(v) == "number" and v < 0) then
          return server.fail(400, "bad linkedin setting " .. tostring(k))
        end
        c[k] = v
      end
      server.state.set("li:config", c)
    end
    local c = config(server)
    c.grant = server.array(c.grant)
    return server.json(200, c)
  end)
  server.route(API, "POST", "/rest/posts", function(req) return create_post(server, req) end)
  server.route(API, "GET", "/rest/posts", function(req) return find_posts(server, req) end)
  server.route(API, "GET", "/rest/posts/([^/]+)", function(req, key) return get_post(server, req, key) end)
  server.route(API, "DELETE", "/rest/posts/([^/]+)", function(req, key) return delete_post(server, req, key) end)
  server.route(API, "POST", "/rest/images", function(req) return initialize_upload(server, req) end)
  server.route(API, "GET", "/rest/images/([^/]+)", function(req, key) return get_image(server, req, key) end)
  server.route(UPLOAD_HOST, "PUT", "/dms%-uploads/sp/([%w_%-]+)/uploaded%-image/0",
    function(req, id) return put_upload(server, req, id) end, { stream = true })
end

return M
