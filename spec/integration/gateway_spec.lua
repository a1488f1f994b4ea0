-- socialpush.gateway inside a real nginx (spec/fixtures/nginx/): OneAll's Push API served
-- over HTTPS on 127.0.0.1, publishing through the direct provider modules (cosocket
-- transport) to the sandbox. Clients: the curl CLI (with the seed document's example
-- body) and socialpush's own OneAll client (client:oneall{base_url = ...}).
-- Needs build/luajit/socialpush/core.so (make build LUA=luajit). Every wait is bounded.
local helpers = require "spec_helpers"
local harness = require "fixtures.nginx.harness"
local socialpush = require "socialpush"
local json = require "socialpush.json"

local SEED = "seeds/000_4f2ac320b8729f5b.txt"
local AUTH_INFO = "Authentication credentials are missing or incorrect: "
  .. "http://docs.oneall.com/api/basic/authentication/"

local TOKEN = "5f0d9a8e-7c1b-4e2a-9f3d-1b2c3d4e5f60"      -- every provider
local EXPIRED = "0e9d8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b"    -- revoked credentials
local TW_ONLY = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"    -- twitter only
local KEYS = { public_key = "gw-public-5e7b1c", private_key = "gw-private-9f8e7d6c5b4a3210" }
local MAX_BODY = 32768                                    -- client_max_body_size is 64k

local sb, srv, acc
local seen = {}              -- every response body and header block, for the secret scan

local function sleep(s) harness.run("sleep " .. s) end

-- POST body (a string or table) to the gateway with curl; status, decoded envelope, headers
local function post(path, body, opts)
  opts = opts or {}
  if type(body) == "table" then body = assert(json.encode(body)) end
  local file = srv.dir .. "/request.json"
  local f = assert(io.open(file, "wb"))
  f:write(body or "")
  f:close()
  local args = { "-X", opts.method or "POST" }
  if opts.json ~= false then
    args[#args + 1] = "-H"
    args[#args + 1] = "Content-Type: application/json"
  end
  if opts.user ~= false then
    args[#args + 1] = "-u"
    args[#args + 1] = opts.user or (KEYS.public_key .. ":" .. KEYS.private_key)
  end
  if body then
    args[#args + 1] = "--data-binary"
    args[#args + 1] = "@" .. file
  end
  local status, text, headers = srv:curl(path, args)
  seen[#seen + 1] = text
  for k, v in pairs(headers) do seen[#seen + 1] = k .. ": " .. v end
  return status, json.decode(text), headers, text
end

local function push_path(token, resource, prefix)
  return (prefix or "") .. "/push/identities/" .. token .. "/" .. resource .. ".json"
end

local function status_of(env) return env.response.request.status end

-- the JSON block of the seed that follows the marker
local function seed_json(marker)
  local text = helpers.read(helpers.shared(SEED))
  local from = assert(text:find(marker, 1, true), marker)
  local a = text:find("{", from, true)
  local depth, i = 0, a
  repeat
    local c = text:sub(i, i)
    if c == "{" then depth = depth + 1 elseif c == "}" then depth = depth - 1 end
    i = i + 1
  until depth == 0
  return text:sub(a, i - 1)
end

-- every credential value of the fixture and the gateway keys
local function secret_values()
  local out = { KEYS.private_key, KEYS.public_key .. ":" .. KEYS.private_key }
  local function walk(t)
    for k, v in pairs(t) do
      if type(v) == "table" then walk(v)
      elseif type(v) == "string" and type(k) == "string" and (k:find("token") or k:find("secret")
        or k:find("key") or k:find("password")) then
        out[#out + 1] = v
      end
    end
  end
  walk({ acc.facebook, acc.twitter, acc.linkedin, acc.pinterest, acc.youtube, acc.expired })
  return out
end

describe("gateway #integration", function()
  setup(function()
    sb = helpers.sandbox()
    acc = sb:accounts()
    local ids = {
      [TOKEN] = { facebook = acc.facebook, twitter = acc.twitter, linkedin = acc.linkedin,
        pinterest = acc.pinterest, youtube = acc.youtube },
      [EXPIRED] = { facebook = acc.expired.facebook, twitter = acc.expired.twitter,
        linkedin = acc.expired.linkedin, pinterest = acc.expired.pinterest, youtube = acc.expired.youtube },
      [TW_ONLY] = { twitter = acc.twitter },
    }
    local msg
    srv, msg = harness.start {
      sandbox = sb,
      files = { ["identities.json"] = assert(json.encode(ids)) },
      init = function(dir)
        return { gateway = { keys = { KEYS }, identities_file = dir .. "/identities.json", max_body = MAX_BODY } }
      end,
    }
    assert(srv, msg)
  end)

  teardown(function()
    if srv then srv:stop() end
    if sb then sb:mode { facebook = "today" } end
  end)

  before_each(function() sb:reset() end)

  describe("with curl and the seed document's example body", function()
    it("answers facebook/post in OneAll's result shape (historic mode)", function()
      sb:mode { facebook = "historic" }
      -- the seed's body with its example values; attachments left empty ([] means absent)
      local body = seed_json("POST data to include in the request"):gsub("#message#", "Hello World!")
        :gsub("#link#", "http://www.oneall.com/"):gsub('%[%s*"#picture_id#"%s*%]', "[]")
      -- no Content-Type of ours: curl's default form type, as OneAll's own PHP examples send
      local status, env = post(push_path(TOKEN, "facebook/post"), body, { json = false })
      sb:mode { facebook = "today" }
      assert.are.equal(200, status)
      local example = assert(json.decode(seed_json("Resultset Example")))
      local req, want = env.response.request, example.response.request
      for k in pairs(want) do assert.is_not_nil(req[k], "response.request." .. k) end
      assert.are.same(want.status, req.status)            -- success, 200, OneAll's info text
      assert.are.equal("/push/identities/" .. TOKEN .. "/facebook/post.json", req.resource)
      assert.matches("^%a%a%a, %d%d %a%a%a %d%d%d%d %d%d:%d%d:%d%d [+-]%d%d%d%d$", req.date)
      local data = env.response.result.data
      for k in pairs(example.response.result.data) do assert.is_string(data[k], "result.data." .. k) end
      assert.are.equal("facebook", data.provider)
      assert.are.equal("post", data.object)
      assert.matches("^%d+_%d+$", data.post_id)
      assert.are.equal("https://www.facebook.com/" .. data.post_id, data.post_location)
      local j = sb:requests { host = "graph.facebook.com", method = "POST" }
      assert.are.equal(1, #j)
      assert.matches("/me/feed$", j[1].path)
      assert.are.equal("1.1", j[1].http_version)          -- through the cosocket transport
    end)

    it("refuses the seed body as written (link and attachments together) with a 400 envelope", function()
      sb:mode { facebook = "historic" }
      local body = seed_json("POST data to include in the request"):gsub("#message#", "Hello World!")
        :gsub("#link#", "http://www.oneall.com/"):gsub("#picture_id#", "10213097336001811")
      local status, env = post(push_path(TOKEN, "facebook/post"), body)
      sb:mode { facebook = "today" }
      assert.are.equal(400, status)
      assert.are.equal("error", status_of(env).flag)
      assert.are.equal(400, status_of(env).code)
      assert.matches("request.push.post.", status_of(env).info, 1, true)
      assert.is_nil(env.response.result)
      assert.are.equal(0, #sb:requests())                   -- nothing reached the provider
    end)

    it("maps today's refusal of facebook/post to 409, saying it was removed", function()
      local status, env = post(push_path(TOKEN, "facebook/post"),
        { request = { push = { post = { message = "Hello World!" } } } })
      assert.are.equal(409, status)
      assert.matches("removed", status_of(env).info)
    end)
  end)

  describe("with the OneAll client", function()
    local client, oa

    setup(function()
      client = socialpush.new { ca_file = sb.ca_file, timeout = 120, retries = 0 }
      oa = client:oneall { public_key = KEYS.public_key, private_key = KEYS.private_key,
        base_url = srv:url("") }
    end)

    teardown(function() if client then client:close() end end)

    it("publishes all 20 resources", function()
      local media = acc.media
      local page, group = acc.facebook.page_id, acc.facebook.group_id
      local stamp = tostring(os.time())
      local ops = {
        { "facebook/post", { message = "Hello World!", link = "http://www.oneall.com/" }, "post" },
        { "facebook/picture", { picture = media.picture, description = "OneAll Logo" }, "picture" },
        { "facebook/video", { video = media.video, description = "Sample Video", title = "A video" }, "video" },
        { "facebook/group/post", { group_id = group, message = "Hello group" }, "post" },
        { "facebook/group/picture", { group_id = group, picture = media.picture }, "picture" },
        { "facebook/group/video", { group_id = group, video = media.video, title = "A video" }, "video" },
        { "facebook/page/post", { page_id = page, message = "Hello page", link = "https://example.com/" }, "post" },
        { "facebook/page/picture", { page_id = page, picture = media.picture, description = "d" }, "picture" },
        { "facebook/page/video", { page_id = page, video = media.video, title = "t", description = "d" }, "video" },
        { "linkedin/post", { link = "https://example.com/", message = "Hello", title = "T" }, "post" },
        { "linkedin/company/post", { company = acc.linkedin.company, link = "https://example.com/",
          message = "News", picture = media.picture }, "post" },
        { "pinterest/board", { name = "gateway board " .. stamp, description = "d" }, "board" },
        { "pinterest/board/" .. acc.pinterest.board_id .. "/pin", { description = "A pin", picture = media.picture,
          link = "https://example.com/", title = "Pin" }, "pin" },
        { "twitter/picture", { picture = media.picture, description = "alt" }, "picture" },
        { "twitter/post", { message = "Hello via the gateway " .. stamp }, "post" },
        { "twitter/video", { video = media.video }, "video" },
        { "youtube/video", { video = media.video, title = "Via the gateway", description = "d" }, "video" },
        { "youtube/playlist", { title = "Gateway playlist", privacy = "private" }, "playlist" },
        { "youtube/playlist/" .. acc.youtube.playlist_id .. "/video", { video_id = acc.youtube.video_id },
          "playlist_item" },
        { "youtube/channel/section", { type = "singlePlaylist", title = "S",
          playlist_ids = { acc.youtube.playlist_id } }, "channel_section" },
      }
      sb:mode { facebook = "historic" }
      local results = {}
      for i, op in ipairs(ops) do
        local res, msg = oa:push(TOKEN, op[1], op[2])
        results[i] = { res = res, msg = msg }
        seen[#seen + 1] = res and assert(json.encode(res.raw or {})) or tostring(msg)
      end
      sb:mode { facebook = "today" }
      for i, op in ipairs(ops) do
        local res, msg = results[i].res, results[i].msg
        assert.is_table(res, op[1] .. ": " .. tostring(msg))
        assert.are.equal(op[1]:match("^%a+"), res.provider, op[1])
        if op[1] ~= "twitter/video" then
          assert.are.equal(op[3], res.object, op[1])
        end
        assert.is_string(res.post_id, op[1])
        assert.is_true(#res.post_id > 0, op[1])
      end
      local hosts = {}
      for _, e in ipairs(sb:requests()) do hosts[e.host] = (hosts[e.host] or 0) + 1 end
      for _, h in ipairs { "graph.facebook.com", "graph-video.facebook.com", "api.linkedin.com", "api.pinterest.com",
        "api.x.com", "www.googleapis.com", "media.socialpush.test" } do
        assert.is_true((hosts[h] or 0) > 0, "no request to " .. h)
      end
      assert.is_nil(hosts["sandbox.api.oneall.com"])      -- published directly, not through OneAll
    end)

    it("hands back the gateway's refusals as the client's error kinds", function()
      local res, msg, err = oa:push(EXPIRED, "facebook/page/post", { page_id = acc.facebook.page_id,
        message = "Hello" })
      seen[#seen + 1] = tostring(msg)
      assert.is_nil(res)
      assert.are.equal("permission", err.kind, msg)       -- upstream auth refusal → 403
      assert.are.equal(403, err.status)
      local wrong = client:oneall { public_key = KEYS.public_key, private_key = "not-the-key",
        base_url = srv:url("") }
      res, msg, err = wrong:push(TOKEN, "twitter/post", { message = "Hello" })
      assert.is_nil(res)
      assert.are.equal("auth", err.kind, msg)
      assert.are.equal(401, err.status)
      res, msg, err = oa:push("ffffffff-0000-4000-8000-000000000000", "twitter/post", { message = "Hello" })
      assert.is_nil(res)
      assert.are.equal("not_found", err.kind, msg)
    end)
  end)

  describe("refusals", function()
    local ok_body = { request = { push = { post = { message = "Hello" } } } }

    it("401 with OneAll's info text for missing or wrong keys", function()
      for _, user in ipairs { false, KEYS.public_key .. ":wrong", "wrong:" .. KEYS.private_key, "nobody:x" } do
        local status, env, headers = post(push_path(TOKEN, "twitter/post"), ok_body, { user = user })
        assert.are.equal(401, status, tostring(user))
        assert.are.same({ flag = "error", code = 401, info = AUTH_INFO }, status_of(env))
        assert.matches("^Basic ", headers["www-authenticate"])
      end
      assert.are.equal(0, #sb:requests())
    end)

    it("404 for an unknown identity or resource; 409 for a provider the identity lacks", function()
      local status, env = post(push_path("ffffffff-0000-4000-8000-000000000000", "twitter/post"), ok_body)
      assert.are.equal(404, status)
      assert.are.equal(404, status_of(env).code)
      assert.matches("identity_token", status_of(env).info)
      status, env = post(push_path(TOKEN, "twitter/nothing"), ok_body)
      assert.are.equal(404, status)
      assert.are.equal("error", status_of(env).flag)
      status, env = post(push_path(TW_ONLY, "linkedin/post"),
        { request = { push = { post = { link = "https://example.com/" } } } })
      assert.are.equal(409, status)
      assert.matches("linkedin", status_of(env).info)
    end)

    it("400 envelopes for malformed JSON and missing or bad keys", function()
      local status, env = post(push_path(TOKEN, "twitter/post"), '{"request": {"push": {"post": ')
      assert.are.equal(400, status)
      assert.are.equal("error", status_of(env).flag)
      assert.matches("JSON", status_of(env).info)
      status, env = post(push_path(TOKEN, "facebook/page/post"), { request = { push = { post = {} } } })
      assert.are.equal(400, status)
      assert.are.equal("Missing or empty key: request.push.page", status_of(env).info)
      status, env = post(push_path(TOKEN, "facebook/page/picture"),
        { request = { push = { page = { id = acc.facebook.page_id, url = "/etc/passwd" } } } })
      assert.are.equal(400, status)                         -- media only by URL, never a local path
      assert.matches("request.push.page.url", status_of(env).info, 1, true)
      status, env = post(push_path(TOKEN, "twitter/post"), { request = { push = { post = { message = "" } } } })
      assert.are.equal(400, status)                         -- refused by the direct call's checks
      assert.matches("message", status_of(env).info)
      assert.are.equal(0, #sb:requests())
    end)

    it("405 for another method", function()
      local status, env, headers = post(push_path(TOKEN, "twitter/post"), nil, { method = "GET" })
      assert.are.equal(405, status)
      assert.are.equal(405, status_of(env).code)
      assert.are.equal("POST", headers.allow)
    end)

    it("413 for an oversized body, from the handler and from nginx's client_max_body_size", function()
      local big = '{"request":{"push":{"post":{"message":"' .. ("x"):rep(40000) .. '"}}}}'
      local status, env = post(push_path(TOKEN, "twitter/post"), big)
      assert.are.equal(413, status)
      assert.are.equal(413, status_of(env).code)
      big = '{"request":{"push":{"post":{"message":"' .. ("x"):rep(100000) .. '"}}}}'
      status, env = post(push_path(TOKEN, "twitter/post"), big)
      assert.are.equal(413, status)
      assert.are.equal(413, status_of(env).code)
      assert.are.equal(0, #sb:requests())
    end)

    it("maps upstream refusals: auth → 403, rate limit → 429 + Retry-After, server → 502", function()
      local status, env = post(push_path(EXPIRED, "twitter/post"),
        { request = { push = { post = { message = "Hello expired" } } } })
      assert.are.equal(403, status)
      assert.are.equal("error", status_of(env).flag)
      assert.are.equal(403, status_of(env).code)
      sb:fault { host = "api.x.com", method = "POST", path = "/2/tweets", status = 429, retry_after = 120 }
      local headers
      status, env, headers = post(push_path(TOKEN, "twitter/post"), { request = { push = { post = {
        message = "Hello rate limit" } } } })
      assert.are.equal(429, status)
      assert.are.equal(429, status_of(env).code)
      assert.are.equal("120", headers["retry-after"])
      sb:reset()
      sb:fault { host = "api.x.com", method = "POST", path = "/2/tweets", status = 500 }
      status, env = post(push_path(TOKEN, "twitter/post"), { request = { push = { post = {
        message = "Hello server error" } } } })
      assert.are.equal(502, status)
      assert.are.equal(502, status_of(env).code)
    end)
  end)

  it("serves identity stores given as a table and as a function", function()
    for _, prefix in ipairs { "/table", "/function" } do
      local status, env = post(push_path(TOKEN, "twitter/post", prefix),
        { request = { push = { post = { message = "Hello from " .. prefix .. " " .. os.time() } } } })
      assert.are.equal(200, status, prefix)
      assert.are.equal("twitter", env.response.result.data.provider)
      status = post(push_path("ffffffff-0000-4000-8000-000000000000", "twitter/post", prefix),
        { request = { push = { post = { message = "x" } } } })
      assert.are.equal(404, status, prefix)
    end
  end)

  it("queues a video push and POSTs the result to callback_url (async = 'queue')", function()
    local callback = "https://sandbox.socialpush.test/callbacks/gateway-video"
    local status, env = post(push_path(TOKEN, "twitter/video", "/queue"),
      { request = { push = { video = { video_url = acc.media.video, callback_url = callback } } } })
    assert.are.equal(200, status)
    local data = env.response.result.data
    assert.are.equal("queued", data.status)
    assert.is_string(data.job_id)
    local got
    for _ = 1, 100 do
      local _, v = sb:control("GET", "/_/oneall/callbacks?name=gateway-video")
      got = v and v.callbacks and v.callbacks[1]
      if got then break end
      sleep(0.1)
    end
    assert.is_table(got, "no callback arrived")
    local cb = got.body.response
    assert.are.equal("success", cb.request.status.flag)
    assert.are.equal(data.job_id, cb.result.data.job_id)
    assert.are.equal("twitter", cb.result.data.provider)
    assert.is_string(cb.result.data.post_id)
    local refused = post(push_path(TOKEN, "twitter/video", "/queue"),
      { request = { push = { video = { video_url = acc.media.video, callback_url = "https://example.com/cb" } } } })
    assert.are.equal(400, refused)                        -- not an allowed callback host
  end)

  it("never shows a secret in a response or in the error log", function()
    assert.is_true(#seen > 20)
    local log = srv:error_log()
    assert.matches("socialpush.gateway", log, 1, true)    -- refusals were logged
    for _, secret in ipairs(secret_values()) do
      for _, text in ipairs(seen) do
        assert.is_nil(text:find(secret, 1, true), "a response shows a secret")
      end
      assert.is_nil(log:find(secret, 1, true), "the error log shows a secret")
    end
  end)
end)
