--- Sandbox emulation of a OneAll site ("sandbox"): the 20 Push API operations.
--
-- Host sandbox.api.oneall.com (certificate: *.api.oneall.com).
--   POST /push/identities/<identity_token>/<resource>.json
-- HTTP Basic public_key:private_key of the accounts fixture; the JSON body is parsed
-- whatever the Content-Type (OneAll's own examples send none). Answers use OneAll's
-- envelope {"response":{"request":{date, resource, status{flag, code, info}}, "result":{"data":{...}}}}.
-- Wire reference: PROVIDERS-ONEALL.md. Only the 401 info text and the success info text are
-- OneAll's [doc]; every other info text, the result.data shape beyond the seed's
-- {provider, object, post_id, post_location}, the queued answer and the callback body are
-- INVENTED here (PROVIDERS-ONEALL.md §5) and marked so.
--
-- Order of checks: Basic auth (401) → resource (404) → identity token (404 unknown; 409 an
-- identity of another provider) → JSON body (400) → Facebook user/group resources in
-- today's mode (409, Facebook removed them) → keys (400) → targets the identity may use
-- (403 page/group/company; 404 unknown board or playlist) → 200.
--
-- twitter/video and youtube/video are queued: 200 at once with result.data.status =
-- "queued" and a job_id, then (ngx.timer, non-blocking) the job finishes and, when the
-- request had a callback_url on a host this sandbox serves (https, port 443, e.g.
-- https://sandbox.socialpush.test/callbacks/<name>), the final envelope is POSTed there
-- through a cosocket to 127.0.0.1:<own port> with SNI. Nothing else is ever contacted:
-- any other callback_url is recorded as skipped.
--
-- Control host additions (sandbox.socialpush.test):
--   POST /callbacks/<name>     records the body (journaled, subject to faults) → 200 {"ok":true}
--   GET  /_/oneall/callbacks   → {"callbacks":[{seq, name, path, content_type, user_agent,
--                                 body_size, body_sha256, body (decoded JSON or text)}]} (?name=)
--   GET  /_/oneall/jobs        → {"jobs":[{job_id, resource, status, callback, result}]}
--
-- Reading a queued job: GET /push/identities/<identity_token>/jobs/<job_id>.json (same Basic
-- auth) → the job's envelope: queued, then done with the callback's data. INVENTED: OneAll
-- documents no such resource (see job_state below).
local hosts = require("socialpush.sandbox.hosts")

local M = {}

M.HOST = "sandbox.api.oneall.com"
M.JOB_DELAY = 0.3          -- seconds a queued video job takes
local AUTH_INFO = "Authentication credentials are missing or incorrect: "
  .. "http://docs.oneall.com/api/basic/authentication/"                       -- [doc]
local OK_INFO = "Your request has been processed successfully"                   -- [doc]
local QUEUED_INFO = "Your request has been queued and will be processed asynchronously" -- invented

local FB_WEB = "https://www.facebook.com/"
local YT_WATCH = "https://www.youtube.com/watch?v="

-- removal notices (409) of the Facebook user/group resources in today's mode
local GONE_PROFILE = "This endpoint is deprecated. On August 1, 2018 Facebook has removed the possibility"
  .. " for third-party apps to share to personal profiles. Alternatively you can use our API to publish"
  .. " posts on pages."                                                            -- [doc, seed]
local GONE_GROUP = "This endpoint is deprecated. On April 22, 2024 Facebook has removed the Groups API"
  .. " (publishing to groups). Alternatively you can use our API to publish posts on pages." -- invented

-- kinds of keys: s string (non-empty when required), u http(s) URL, b boolean,
-- i integer >= 0, l list of ids, id string/number id
local OPS = {
  ["facebook/post"] = { "facebook", "post", { "post" }, { message = "s", link = "u", attachments = "l" },
    req = { "message" }, max = 1, xor = true, gone = GONE_PROFILE },
  ["facebook/picture"] = { "facebook", "picture", { "picture" }, { url = "u", description = "s",
    create_post = "b" }, req = { "url" }, gone = GONE_PROFILE },
  ["facebook/video"] = { "facebook", "video", { "video" }, { url = "u", description = "s", title = "s",
    create_post = "b" }, req = { "url" }, gone = GONE_PROFILE },
  ["facebook/group/post"] = { "facebook", "post", { "group" }, { id = "id", message = "s", link = "u",
    attachments = "l" }, req = { "id", "message" }, max = 1, xor = true, gone = GONE_GROUP, target = "group" },
  ["facebook/group/picture"] = { "facebook", "picture", { "group" }, { id = "id", url = "u",
    description = "s" }, req = { "id", "url" }, gone = GONE_GROUP, target = "group" },
  ["facebook/group/video"] = { "facebook", "video", { "group" }, { id = "id", url = "u", description = "s",
    title = "s" }, req = { "id", "url" }, gone = GONE_GROUP, target = "group" },
  ["facebook/page/post"] = { "facebook", "post", { "page" }, { id = "id", message = "s", link = "u",
    attachments = "l" }, req = { "id", "message" }, max = 1, xor = true, target = "page" },
  ["facebook/page/picture"] = { "facebook", "picture", { "page" }, { id = "id", url = "u",
    description = "s", create_post = "b" }, req = { "id", "url" }, target = "page" },
  ["facebook/page/video"] = { "facebook", "video", { "page" }, { id = "id", url = "u", description = "s",
    title = "s" }, req = { "id", "url" }, target = "page" },
  ["linkedin/post"] = { "linkedin", "post", { "post" }, { link = "u", message = "s", title = "s",
    description = "s", picture = "u" }, req = { "link" } },
  ["linkedin/company/post"] = { "linkedin", "post", { "post" }, { company = "id", link = "u", message = "s",
    title = "s", description = "s", picture = "u" }, req = { "company", "link" }, target = "company" },
  ["pinterest/pin"] = { "pinterest", "pin", { "pin" }, { board = "id", description = "s", picture = "u",
    link = "u", title = "s" }, req = { "description", "picture" }, target = "board" },
  ["pinterest/board"] = { "pinterest", "board", { "board" }, { name = "s", description = "s",
    privacy = "s" }, req = { "name" } },
  ["twitter/post"] = { "twitter", "post", { "post" }, { message = "s", attachments = "l", location = "s" },
    req = { "message" }, max = 4, media = true },
  ["twitter/picture"] = { "twitter", "picture", { "picture" }, { url = "u", description = "s" },
    req = { "url" } },
  ["twitter/video"] = { "twitter", "video", { "video" }, { video_url = "u", callback_url = "u" },
    req = { "video_url" }, async = true },
  ["youtube/video"] = { "youtube", "video", { "video" }, { video_url = "u", title = "s", description = "s",
    thumbnail_url = "u", callback_url = "u" }, req = { "video_url", "title" }, async = true },
  ["youtube/playlist/video"] = { "youtube", "playlist_item", { "video" }, { id = "id", position = "i" },
    req = { "id" }, target = "playlist" },
  ["youtube/playlist"] = { "youtube", "playlist", { "playlist" }, { title = "s", description = "s",
    privacy_status = "s", default_language = "s" }, req = { "title" } },
  ["youtube/channel/section"] = { "youtube", "channel_section", { "channel", "section" }, { type = "s",
    style = "s", title = "s", position = "i", playlists = "l", defaultLanguage = "s" }, req = { "type" } },
}

-- YouTube channelSections.insert snippet.type values
local SECTION_TYPES = {}
for _, t in ipairs { "allPlaylists", "completedEvents", "likedPlaylists", "likes", "liveEvents",
  "multipleChannels", "multiplePlaylists", "popularUploads", "postedPlaylists", "postedVideos",
  "recentActivity", "recentPosts", "recentUploads", "singlePlaylist", "subscriptions", "upcomingEvents" } do
  SECTION_TYPES[t] = true
end

-- resource (path without .json) → OPS name and the id carried in the path
local function resolve(resource)
  local board = resource:match("^pinterest/board/([^/]+)/pin$")
  if board then return "pinterest/pin", board end
  local pl = resource:match("^youtube/playlist/([^/]+)/video$")
  if pl then return "youtube/playlist/video", pl end
  if OPS[resource] and resource ~= "pinterest/pin" and resource ~= "youtube/playlist/video" then
    return resource
  end
  return nil
end

local function http_date()
  return os.date("!%a, %d %b %Y %H:%M:%S +0000", ngx.time())
end

local function envelope(status, info, resource, data)
  local t = { response = { request = { date = http_date(), resource = resource,
    status = { flag = status < 400 and "success" or "error", code = status, info = info } } } }
  if data then t.response.result = { data = data } end
  return t
end

-- ids --------------------------------------------------------------------------

-- an id as text (cjson decodes large numbers as doubles: no exponent form)
local function idstr(v)
  if type(v) == "number" then return string.format("%.0f", v) end
  return tostring(v)
end

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

-- n written with base64url digits, left-padded with 'A' to len characters
local function b64n(n, len)
  local out = {}
  while n > 0 do
    local d = n % 64
    out[#out + 1] = B64:sub(d + 1, d + 1)
    n = (n - d) / 64
  end
  while #out < len do out[#out + 1] = "A" end
  return string.reverse(table.concat(out))
end

-- post_id and post_location of a new object, in each provider's shapes
local function new_ids(server, name, o, target)
  local n = server.state.incr("oneall:seq")
  local a = server.accounts()
  if name == "facebook/post" or name == "facebook/page/post" or name == "facebook/group/post" then
    local owner = (name == "facebook/post") and a.facebook.user_id or idstr(o.id)
    local id = owner .. "_10213" .. string.format("%012d", n)
    return id, FB_WEB .. id
  elseif name:match("^facebook/.*picture$") then
    local id = "10213" .. string.format("%012d", n)
    return id, FB_WEB .. "photo.php?fbid=" .. id
  elseif name:match("^facebook/.*video$") then
    local id = "10214" .. string.format("%012d", n)
    return id, FB_WEB .. "watch/?v=" .. id
  elseif name:match("^linkedin/") then
    local id = "urn:li:share:7" .. string.format("%018d", n)
    return id, "https://www.linkedin.com/feed/update/" .. id .. "/"
  elseif name == "pinterest/pin" then
    local id = "9" .. string.format("%017d", n)
    return id, "https://www.pinterest.com/pin/" .. id .. "/"
  elseif name == "pinterest/board" then
    local id = "5497" .. string.format("%08d", n)
    local slug = tostring(o.name):lower():gsub("[^%w]+", "-"):gsub("^%-+", ""):gsub("%-+$", "")
    return id, "https://www.pinterest.com/socialpush_sandbox/" .. (slug ~= "" and slug or id) .. "/"
  elseif name == "twitter/post" then
    local id = "18" .. string.format("%017d", n)
    return id, "https://x.com/i/web/status/" .. id
  elseif name == "twitter/picture" or name == "twitter/video" then
    return "19" .. string.format("%017d", n), nil
  elseif name == "youtube/video" then
    local id = "Sbx" .. b64n(n, 8)
    return id, YT_WATCH .. id
  elseif name == "youtube/playlist/video" then
    return "UExTYnhJdGVt" .. b64n(n, 24), YT_WATCH .. idstr(o.id) .. "&list=" .. target
  elseif name == "youtube/playlist" then
    local id = "PLSbx" .. b64n(n, 29)
    return id, "https://www.youtube.com/playlist?list=" .. id
  elseif name == "youtube/channel/section" then
    return a.youtube.channel_id .. "." .. b64n(n, 22), "https://www.youtube.com/channel/" .. a.youtube.channel_id
  end
end

-- checks -------------------------------------------------------------------------

local function absent(v)
  return v == nil or v == "" or v == ngx.null or (type(v) == "table" and next(v) == nil)
end

-- the 400 info for a bad key, or nil
local function check_keys(op, obj, where)
  for _, k in ipairs(op.req) do
    if absent(obj[k]) then
      return "Missing or empty key: " .. where .. "." .. k                      -- invented text
    end
  end
  for k, kind in pairs(op[4]) do
    local v = obj[k]
    if not absent(v) then
      local bad
      if kind == "s" then bad = type(v) ~= "string"
      elseif kind == "u" then bad = type(v) ~= "string" or not v:match("^[hH][tT][tT][pP][sS]?://[^%s/?#]+%S*$")
      elseif kind == "b" then bad = type(v) ~= "boolean"
      elseif kind == "i" then bad = type(v) ~= "number" or v ~= math.floor(v) or v < 0
      elseif kind == "id" then
        bad = not ((type(v) == "string" and v:match("^[%w_%-%.:]+$")) or (type(v) == "number" and v >= 0))
      elseif kind == "l" then
        bad = type(v) ~= "table"
        if not bad then
          for _, x in ipairs(v) do
            if not ((type(x) == "string" and x:match("^[%w_%-%.:]+$")) or type(x) == "number") then bad = true end
          end
          if op.max and #v > op.max then
            return "Too many attachments in " .. where .. "." .. k .. ": at most " .. op.max -- invented
          end
        end
      end
      if bad then return "Invalid value for key: " .. where .. "." .. k end        -- invented text
    end
  end
  if op.xor and not absent(obj.link) and not absent(obj.attachments) then
    return "You can either include a link or attachments but not both at the same time." -- [doc]
  end
  return nil
end

-- status, info when the identity may not use the target; nil when it may
local function check_target(server, op, obj, path_id)
  local a = server.accounts()
  local t = op.target
  if t == "page" and idstr(obj.id) ~= a.facebook.page_id then
    return 403, "The page " .. idstr(obj.id) .. " is not part of the pages the identity is an"
      .. " administrator of"                                                         -- invented
  elseif t == "group" and idstr(obj.id) ~= a.facebook.group_id then
    return 403, "The identity is not a member of the group " .. idstr(obj.id)     -- invented
  elseif t == "company" then
    local want = a.linkedin.company
    local c = idstr(obj.company)
    if c ~= want and c ~= want:match("(%d+)$") then
      return 403, "The identity is not an administrator of the company " .. c         -- invented
    end
  elseif t == "board" then
    if path_id ~= a.pinterest.board_id and not server.state.get("oneall:board:" .. path_id) then
      return 404, "The board " .. path_id .. " does not exist"                        -- invented
    end
    if not absent(obj.board) and idstr(obj.board) ~= path_id then
      return 400, "The key request.push.pin.board does not match the board of the resource" -- invented
    end
  elseif t == "playlist" then
    if path_id ~= a.youtube.playlist_id and not server.state.get("oneall:playlist:" .. path_id) then
      return 404, "The playlist " .. path_id .. " does not exist"                     -- invented
    end
    if type(obj.id) ~= "string" or not obj.id:match("^[%w_%-]+$") or #obj.id ~= 11 then
      return 400, "Invalid value for key: request.push.video.id (a YouTube video id)" -- invented
    end
  end
  return nil
end

-- extra rules of single operations: status, info or nil
local function check_extra(server, name, op, obj)
  if op.media then
    for _, id in ipairs(type(obj.attachments) == "table" and obj.attachments or {}) do
      if not server.state.get("oneall:media:" .. idstr(id)) then
        return 400, "Unknown attachment: " .. idstr(id) .. " (upload it with twitter/picture or"
          .. " twitter/video first)"                                                 -- invented
      end
    end
  end
  if name == "youtube/playlist" and obj.privacy_status ~= nil and obj.privacy_status ~= "public"
    and obj.privacy_status ~= "unlisted" and obj.privacy_status ~= "private" then
    return 400, "Invalid value for key: request.push.playlist.privacy_status"       -- invented
  end
  if name == "youtube/channel/section" then
    if not SECTION_TYPES[obj.type] then
      return 400, "Invalid value for key: request.push.channel.section.type"         -- invented
    end
    if (obj.type == "singlePlaylist" or obj.type == "multiplePlaylists") and absent(obj.playlists) then
      return 400, "Missing or empty key: request.push.channel.section.playlists"     -- invented
    end
  end
  return nil
end

-- async jobs and callbacks ----------------------------------------------------------

-- host, path of a callback_url this sandbox serves (https, port 443), or nil, reason
local function served(url)
  local host, port, path = url:match("^[hH][tT][tT][pP][sS]://([^/:?#]+)(:?%d*)([^#]*)$")
  if not host then return nil, "not an https URL" end
  host = host:lower()
  if port ~= "" and port ~= ":443" then return nil, "port other than 443" end
  for _, h in ipairs(hosts.all) do
    if h == host then return host, path ~= "" and path or "/" end
  end
  return nil, "host " .. host .. " is not served by the sandbox (nothing external is contacted)"
end

-- POST body to https://host/path on this sandbox (127.0.0.1:<port>, TLS with SNI);
-- returns the HTTP status, or nil, err
local function post_local(port, host, path, body)
  local sock = ngx.socket.tcp()
  sock:settimeout(5000)
  local ok, err = sock:connect("127.0.0.1", port)
  if not ok then return nil, "connect: " .. tostring(err) end
  -- our own certificate on loopback: no verification (nginx has no trust store set)
  ok, err = sock:sslhandshake(nil, host, false)
  if not ok then sock:close() return nil, "tls: " .. tostring(err) end
  local req = "POST " .. path .. " HTTP/1.1\r\nHost: " .. host .. "\r\nUser-Agent: OneAll-Sandbox-Callback/1.0\r\n"
    .. "Content-Type: application/json\r\nContent-Length: " .. #body .. "\r\nConnection: close\r\n\r\n" .. body
  ok, err = sock:send(req)
  if not ok then sock:close() return nil, "send: " .. tostring(err) end
  local line
  line, err = sock:receive("*l")
  sock:close()
  if not line then return nil, "receive: " .. tostring(err) end
  return tonumber(line:match("^HTTP/%d%.%d (%d%d%d)")) or nil, line
end

local function finish_job(premature, server, job_id)
  if premature then return end
  local key = "oneall:job:" .. job_id
  local job = server.state.get(key)
  if not job or job.status ~= "queued" then return end   -- a reset forgot it
  local id, loc = new_ids(server, job.name, {}, nil)
  server.state.set("oneall:media:" .. id, { provider = job.provider, kind = "video" })
  local data = { provider = job.provider, object = "video", post_id = id, post_location = loc,
    job_id = job_id, status = "done" }
  if job.provider == "twitter" then data.video_id = id end
  job.status, job.result = "done", data
  if job.callback_url then
    local host, path = served(job.callback_url)
    if not host then
      job.callback = { skipped = path }
    else
      local body = server.encode(envelope(200, OK_INFO, job.resource, data))
      job.callback = { state = "sending" }
      server.state.set(key, job)
      local status, err = post_local(server.config.port, host, path, body)
      job = server.state.get(key)
      if not job then return end
      job.callback = status and { status = status } or { error = err }
    end
  end
  server.state.set(key, job)
end

local function queue_job(server, name, op, obj, resource, identity)
  local n = server.state.incr("oneall:jobs")
  local now = ngx.now()
  local job_id = string.format("%08x-%04x-4%03x-8%03x-%012x", math.floor(now), n % 65536,
    math.random(0, 4095), math.random(0, 4095), math.floor((now % 1) * 1e6) * 4096 + n % 4096)
  local job = { job_id = job_id, name = name, provider = op[1], resource = resource, status = "queued",
    created = now, identity = identity }
  if type(obj.callback_url) == "string" and obj.callback_url ~= "" then
    job.callback_url = obj.callback_url
    local ok, why = served(obj.callback_url)
    if not ok then job.callback = { skipped = why } end
  end
  server.state.set("oneall:job:" .. job_id, job)
  local ok, err = ngx.timer.at(M.JOB_DELAY, finish_job, server, job_id)
  if not ok then ngx.log(ngx.ERR, "oneall sandbox: cannot queue job: ", err) end
  return { provider = op[1], object = op[2], status = "queued", job_id = job_id,
    callback_url = job.callback_url }                                              -- invented shape
end

-- handlers ----------------------------------------------------------------------------

local function push(server, req, token, resource)
  local where = req.path
  local function reply(status, info, data, headers)
    return server.json(status, envelope(status, info, where, data), headers)
  end
  if not server.auth.oneall(req) then
    return reply(401, AUTH_INFO, nil, { ["WWW-Authenticate"] = 'Basic realm="OneAll API"' })
  end
  if req.method ~= "POST" then
    return reply(405, "The method " .. req.method .. " is not supported by this resource; use POST") -- invented
  end
  local name, path_id = resolve(resource)
  if not name then return reply(404, "The resource " .. where .. " does not exist") end  -- invented
  local op = OPS[name]
  local a = server.accounts()
  local identity_provider
  for p, tok in pairs(a.oneall.identities) do
    if tok == token then identity_provider = p end
  end
  if not identity_provider then
    return reply(404, "The identity_token " .. token .. " is invalid or does not exist")  -- invented
  end
  if identity_provider ~= op[1] then
    return reply(409, "The identity " .. token .. " belongs to " .. identity_provider
      .. " and cannot be used to push to " .. op[1])                                 -- invented
  end
  local body, err = req:json(1024 * 1024)
  if type(body) ~= "table" then
    return reply(400, "The request body is not valid JSON: " .. tostring(err or "not an object")) -- invented
  end
  local obj = type(body.request) == "table" and type(body.request.push) == "table" and body.request.push or nil
  local keypath = "request.push"
  for _, k in ipairs(op[3]) do
    keypath = keypath .. "." .. k
    obj = type(obj) == "table" and obj[k] or nil
  end
  if type(obj) ~= "table" then return reply(400, "Missing or empty key: " .. keypath) end -- invented
  if op.gone and server.mode("facebook") ~= "historic" then return reply(409, op.gone) end
  local info = check_keys(op, obj, keypath)
  if info then return reply(400, info) end
  local status
  status, info = check_target(server, op, obj, path_id)
  if status then return reply(status, info) end
  status, info = check_extra(server, name, op, obj)
  if status then return reply(status, info) end
  if op.async then return reply(200, QUEUED_INFO, queue_job(server, name, op, obj, where, token)) end
  local id, loc = new_ids(server, name, obj, path_id)
  local data = { provider = op[1], object = op[2], post_id = id, post_location = loc }
  if op[2] == "picture" then data.picture_id = id end
  if name == "twitter/picture" then server.state.set("oneall:media:" .. id, { provider = "twitter" }) end
  if name == "pinterest/board" then server.state.set("oneall:board:" .. id, { name = obj.name }) end
  if name == "youtube/playlist" then server.state.set("oneall:playlist:" .. id, { title = obj.title }) end
  server.state.set("oneall:object:" .. id, { resource = name, object = op[2] })
  return reply(200, OK_INFO, data)
end

-- GET /push/identities/<identity_token>/jobs/<job_id>.json: a queued job's state. INVENTED
-- (PROVIDERS-ONEALL.md §2.4: OneAll documents the queue and the callback, no way to read a
-- job): 200 with result.data as the queued answer while it runs ({provider, object, status =
-- "queued", job_id}) and as the callback's data once done (status = "done", post_id, ...);
-- 404 for an unknown job or a job of another identity.
local function job_state(server, req, token, job_id)
  local where = req.path
  local function reply(status, info, data, headers)
    return server.json(status, envelope(status, info, where, data), headers)
  end
  if not server.auth.oneall(req) then
    return reply(401, AUTH_INFO, nil, { ["WWW-Authenticate"] = 'Basic realm="OneAll API"' })
  end
  local known = false
  for _, tok in pairs(server.accounts().oneall.identities) do
    if tok == token then known = true end
  end
  if not known then
    return reply(404, "The identity_token " .. token .. " is invalid or does not exist")  -- invented
  end
  local job = server.state.get("oneall:job:" .. job_id)
  if not job or job.identity ~= token then
    return reply(404, "The job " .. job_id .. " does not exist")                       -- invented
  end
  if job.status == "done" then return reply(200, OK_INFO, job.result) end
  return reply(200, QUEUED_INFO, { provider = job.provider, object = "video", status = job.status,
    job_id = job.job_id, callback_url = job.callback_url })                           -- invented shape
end

local function list(server, prefix)
  local out = server.array()
  for _, k in ipairs(server.state.keys(prefix)) do out[#out + 1] = server.state.get(k) end
  return out
end

--- syntax: oneall.register(server)
function M.register(server)
  server.route(M.HOST, "GET", "/push/identities/([^/]+)/jobs/([%w%-]+)%.json", function(req, token, job_id)
    return job_state(server, req, server.auth.decode(token), job_id)
  end)
  server.route(M.HOST, "ANY", "/push/identities/([^/]+)/(.+)%.json", function(req, token, resource)
    return push(server, req, server.auth.decode(token), resource)
  end)

  local H = server.CONTROL_HOST
  server.route(H, "POST", "/callbacks/([%w_%-%.]+)", function(req, name)
    local n = server.state.incr("oneall:callbacks")
    local raw = req:body(1024 * 1024) or ""
    local decoded = server.decode(raw)
    server.state.set(string.format("oneall:callback:%08d", n), {
      seq = n, name = name, path = req.path, time = ngx.now(), content_type = req:header("content-type"),
      user_agent = req:header("user-agent"), body_size = req.body_size, body_sha256 = req.body_sha256,
      body = decoded ~= nil and decoded or raw,
    })
    return server.json(200, { ok = true })
  end)

  server.route(H, "GET", "/_/oneall/callbacks", function(req)
    local want = req:args().name
    local out = server.array()
    for _, c in ipairs(list(server, "oneall:callback:")) do
      if type(want) ~= "string" or c.name == want then out[#out + 1] = c end
    end
    return server.json(200, { callbacks = out })
  end)

  server.route(H, "GET", "/_/oneall/jobs", function()
    return server.json(200, { jobs = list(server, "oneall:job:") })
  end)
end

return M
