-- socialpush.oneall with a stub client: request building for the 20 resources, argument
-- checks, result normalisation and the error-mapping table. No network.
local oneall = require "socialpush.providers.oneall"
local json = require "socialpush.json"
local sign = require "socialpush.sign"
local errors = require "socialpush.errors"

local PUB, PRIV = "0b7e8a4c-5d2f-4e61-9a3b-7c8d9e0f1a21", "6f1d2c3b-4a59-4867-8e7f-a0b1c2d3e4f5"
local TOKEN = "904efe18-6b7c-417c-af50-868f2828ebaf"
local JSON_CT = { ["content-type"] = "application/json; charset=utf-8" }

local stub_client = require "helpers.stub_client"

-- OneAll answers JSON
local function stub(responses)
  for _, r in ipairs(responses or {}) do
    r.headers = r.headers or JSON_CT
  end
  return stub_client(responses)
end

local function envelope(code, info, data)
  local t = { response = { request = { date = "Thu, 21 Sep 2017 15:56:59 +0200", resource = "/x.json",
    status = { flag = code < 400 and "success" or "error", code = code, info = info } } } }
  if data then t.response.result = { data = data } end
  return (assert(json.encode(t)))
end

local function ok_body(data) return envelope(200, "Your request has been processed successfully", data) end

local function handle(c, opts)
  opts = opts or {}
  return oneall.new(c, { subdomain = opts.subdomain or "demo", public_key = PUB, private_key = PRIV,
    base_url = opts.base_url })
end

local function header(req, name)
  for _, h in ipairs(req.headers) do
    if h[1]:lower() == name:lower() then return h[2] end
  end
end

describe("socialpush.oneall", function()
  describe("handle", function()
    it("binds a site by subdomain, or base_url", function()
      local c = stub { { status = 200, body = ok_body { provider = "twitter", object = "post", post_id = "1" } } }
      local oa = handle(c)
      assert(oa:push(TOKEN, "twitter/post", { message = "hi" }))
      assert.are.equal("https://demo.api.oneall.com/push/identities/" .. TOKEN .. "/twitter/post.json",
        c.sent[1].url)
      c = stub { { status = 200, body = ok_body { provider = "twitter", object = "post", post_id = "1" } } }
      oa = handle(c, { base_url = "https://proxy.example/oneall/" })
      assert(oa:push(TOKEN, "twitter/post", { message = "hi" }))
      assert.are.equal("https://proxy.example/oneall/push/identities/" .. TOKEN .. "/twitter/post.json",
        c.sent[1].url)
    end)

    it("raises on bad options (misuse)", function()
      local c = stub()
      assert.has_error(function() oneall.new(c, nil) end)
      assert.has_error(function() oneall.new(c, { subdomain = "demo", public_key = PUB }) end)
      assert.has_error(function() oneall.new(c, { subdomain = "demo", private_key = PRIV }) end)
      assert.has_error(function() oneall.new(c, { subdomain = "a.b/c", public_key = PUB, private_key = PRIV }) end)
      assert.has_error(function() oneall.new(c, { subdomain = "", public_key = PUB, private_key = PRIV }) end)
      assert.has_error(function() oneall.new(c, { base_url = "http://plain.example", public_key = PUB,
        private_key = PRIV }) end)
    end)

    it("never shows the private key", function()
      local oa = handle(stub())
      assert.is_nil(tostring(oa):find(PRIV, 1, true))
      assert.is_nil(tostring(oa):find(PUB, 1, true))
    end)

    it("sends HTTP Basic public:private, JSON, POST, not idempotent", function()
      local c = stub { { status = 200, body = ok_body { provider = "twitter", object = "post", post_id = "1" } } }
      assert(handle(c):push(TOKEN, "twitter/post", { message = "hi" }))
      local req = c.sent[1]
      assert.are.equal("POST", req.method)
      assert.are.equal("Basic " .. sign.base64(PUB .. ":" .. PRIV), header(req, "Authorization"))
      assert.are.equal("Basic MGI3ZThhNGMtNWQyZi00ZTYxLTlhM2ItN2M4ZDllMGYxYTIxOjZmMWQyYzNiLTRhNTktNDg2Ny04"
        .. "ZTdmLWEwYjFjMmQzZTRmNQ==", header(req, "Authorization"))
      assert.are.equal("application/json", header(req, "Content-Type"))
      assert.is_false(req.idempotent)
    end)
  end)

  -- every resource: args → path after /push/identities/<token>/ and the request.push object
  local ROWS = {
    { "facebook/post", { message = "Hello World!", link = "http://www.oneall.com/" }, "facebook/post",
      { post = { message = "Hello World!", link = "http://www.oneall.com/" } }, "post" },
    { "facebook/picture", { picture = { url = "https://m.example/p.png" }, description = "OneAll Logo",
      create_post = false }, "facebook/picture",
      { picture = { url = "https://m.example/p.png", description = "OneAll Logo", create_post = false } }, "picture" },
    { "facebook/video", { video = { url = "https://m.example/v.mp4" }, description = "d", title = "t" },
      "facebook/video", { video = { url = "https://m.example/v.mp4", description = "d", title = "t" } }, "video" },
    { "facebook/group/post", { group_id = "351818455117222", message = "m", attachments = { "10213097336001811" } },
      "facebook/group/post",
      { group = { id = "351818455117222", message = "m", attachments = { "10213097336001811" } } }, "post" },
    { "facebook/group/picture", { group_id = "351818455117222", url = "https://m.example/p.png" },
      "facebook/group/picture", { group = { id = "351818455117222", url = "https://m.example/p.png" } }, "picture" },
    { "facebook/group/video", { id = "351818455117222", video = { url = "https://m.example/v.mp4" }, title = "t" },
      "facebook/group/video", { group = { id = "351818455117222", url = "https://m.example/v.mp4", title = "t" } },
      "video" },
    { "facebook/page/post", { page_id = 104584925233744, message = "m", link = "https://e.example/" },
      "facebook/page/post", { page = { id = "104584925233744", message = "m", link = "https://e.example/" } }, "post" },
    { "facebook/page/picture", { page_id = "104584925233744", picture = { url = "https://m.example/p.png" },
      description = "d" }, "facebook/page/picture",
      { page = { id = "104584925233744", url = "https://m.example/p.png", description = "d" } }, "picture" },
    { "facebook/page/video", { page_id = "104584925233744", video = { url = "https://m.example/v.mp4" },
      description = "d", title = "t" }, "facebook/page/video",
      { page = { id = "104584925233744", url = "https://m.example/v.mp4", description = "d", title = "t" } }, "video" },
    { "linkedin/post", { link = "https://www.fcbarcelona.com/", title = "My holiday", description = "Stadium",
      message = "Best part", picture = { url = "https://m.example/p.jpg" } }, "linkedin/post",
      { post = { link = "https://www.fcbarcelona.com/", title = "My holiday", description = "Stadium",
        message = "Best part", picture = "https://m.example/p.jpg" } }, "post" },
    { "linkedin/company/post",
      { company = "2414183", link = "https://e.example/", picture = "https://m.example/p.jpg" },
      "linkedin/company/post",
      { post = { company = "2414183", link = "https://e.example/", picture = "https://m.example/p.jpg" } }, "post" },
    { "pinterest/board/549755885175/pin", { description = "User Integration Platform",
      picture = { url = "https://m.example/offices.jpg" }, link = "https://e.example/", title = "t" },
      "pinterest/board/549755885175/pin",
      { pin = { board = "549755885175", description = "User Integration Platform",
        picture = "https://m.example/offices.jpg", link = "https://e.example/", title = "t" } }, "pin" },
    { "pinterest/board", { name = "Recipes", description = "d" }, "pinterest/board",
      { board = { name = "Recipes", description = "d" } }, "board" },
    { "twitter/post", { message = "Hello World!", attachments = { "912249625129684992" }, location = "Ahmedabad" },
      "twitter/post",
      { post = { message = "Hello World!", attachments = { "912249625129684992" }, location = "Ahmedabad" } }, "post" },
    { "twitter/picture", { picture = { url = "https://m.example/p.png" }, description = "OneAll Logo" },
      "twitter/picture", { picture = { url = "https://m.example/p.png", description = "OneAll Logo" } }, "picture" },
    { "twitter/video", { video = { url = "https://m.example/v.mp4" }, callback_url = "https://cb.example/done" },
      "twitter/video", { video = { video_url = "https://m.example/v.mp4", callback_url = "https://cb.example/done" } },
      "video" },
    { "youtube/video", { video = { url = "https://m.example/v.mp4" }, title = "T", description = "D",
      thumbnail = { url = "https://m.example/t.jpg" }, callback_url = "https://cb.example/yt" }, "youtube/video",
      { video = { video_url = "https://m.example/v.mp4", title = "T", description = "D",
        thumbnail_url = "https://m.example/t.jpg", callback_url = "https://cb.example/yt" } }, "video" },
    { "youtube/playlist/PLSbx0socialpush000000000000000001/video", { video_id = "dQw4w9WgXcQ", position = 0 },
      "youtube/playlist/PLSbx0socialpush000000000000000001/video",
      { video = { id = "dQw4w9WgXcQ", position = 0 } }, "playlist_item" },
    { "youtube/playlist", { title = "My PlayList", description = "Awesome Mix 1", privacy = "unlisted" },
      "youtube/playlist",
      { playlist = { title = "My PlayList", description = "Awesome Mix 1", privacy_status = "unlisted" } },
      "playlist" },
    { "youtube/channel/section", { type = "multiplePlaylists", title = "Mixes", playlist_ids = { "PL1", "PL2" },
      position = 1 }, "youtube/channel/section",
      { channel = { section = { type = "multiplePlaylists", title = "Mixes", playlists = { "PL1", "PL2" },
        position = 1 } } }, "channel_section" },
  }

  describe("request building", function()
    it("covers the 20 resources", function()
      assert.are.equal(20, #ROWS)
    end)

    for _, row in ipairs(ROWS) do
      local resource, args, path, push, object = row[1], row[2], row[3], row[4], row[5]
      it(resource, function()
        local provider = resource:match("^[^/]+")
        local data = { provider = provider, object = object, post_id = "4711",
          post_location = "https://example/4711" }
        local c = stub { { status = 200, body = ok_body(data) } }
        local res, msg = handle(c):push(TOKEN, resource, args)
        assert.is_nil(msg)
        local req = c.sent[1]
        assert.are.equal("https://demo.api.oneall.com/push/identities/" .. TOKEN .. "/" .. path .. ".json", req.url)
        assert.are.same({ request = { push = push } }, json.decode(req.body))
        -- deterministic bytes (sorted keys): what oa:build shows is what was sent
        assert.are.equal(req.body, handle(stub()):build(TOKEN, resource, args).body)
        assert.are.same({ provider = provider, object = object, post_id = "4711",
          post_location = "https://example/4711", raw = data }, res)
      end)
    end

    it("accepts OneAll's own keys as given", function()
      local c = stub {
        { status = 200, body = ok_body { provider = "youtube", object = "video", status = "queued", job_id = "j1" } },
        { status = 200, body = ok_body { provider = "facebook", object = "picture", post_id = "1" } },
      }
      local oa = handle(c)
      assert(oa:push(TOKEN, "youtube/video", { video_url = "https://m.example/v.mp4", title = "T",
        thumbnail_url = "https://m.example/t.jpg", privacy = nil }))
      assert.are.same({ video_url = "https://m.example/v.mp4", title = "T", thumbnail_url = "https://m.example/t.jpg" },
        json.decode(c.sent[1].body).request.push.video)
      assert(oa:push(TOKEN, "facebook/page/picture", { id = "104584925233744", url = "https://m.example/p.png" }))
      assert.are.same({ id = "104584925233744", url = "https://m.example/p.png" },
        json.decode(c.sent[2].body).request.push.page)
    end)

    it("merges extra OneAll keys the module does not know", function()
      local c = stub { { status = 200, body = ok_body { provider = "youtube", object = "video", status = "queued" } } }
      assert(handle(c):push(TOKEN, "youtube/video", { video = { url = "https://m.example/v.mp4" }, title = "T",
        extra = { privacy_status = "private" } }))
      assert.are.equal("private", json.decode(c.sent[1].body).request.push.video.privacy_status)
    end)

    it("leaves an empty attachments list out (OneAll treats [] as absent)", function()
      local c = stub { { status = 200, body = ok_body { provider = "twitter", object = "post", post_id = "1" } } }
      assert(handle(c):push(TOKEN, "twitter/post", { message = "x", attachments = {} }))
      assert.are.same({ message = "x" }, json.decode(c.sent[1].body).request.push.post)
    end)
  end)

  describe("argument checks (nothing is sent)", function()
    local CASES = {
      { "twitter/post", {}, "message" },
      { "twitter/post", { message = "   " }, "message" },
      { "facebook/page/post", { page_id = "1", message = "m", link = "https://e.example/", attachments = { "2" } },
        "attachments" },
      { "facebook/page/post", { message = "m" }, "page_id" },
      { "facebook/page/post", { page_id = "1/../2", message = "m" }, "page_id" },
      { "facebook/post", { message = "m", attachments = { "1", "2" } }, "attachments" },
      { "facebook/post", { message = "m", attachments = { "a/b" } }, "attachments" },
      { "twitter/post", { message = "m", reply_to = "1" }, "reply_to" },
      { "twitter/video", { video = { url = "https://m.example/v.mp4" }, message = "m" }, "message" },
      { "twitter/picture", { picture = { file = "/tmp/picture.png" } }, "picture" },
      { "twitter/picture", { picture = { data = "\137PNG\r\n\26\n" } }, "picture" },
      { "twitter/picture", { picture = "/tmp/picture.png" }, "picture" },
      { "youtube/video", { video = { file = "/tmp/v.mp4" }, title = "t" }, "video" },
      { "youtube/video", { video = { url = "https://m.example/v.mp4" }, title = "t",
        thumbnail = { data = "x" } }, "thumbnail" },
      { "youtube/video", { video = { url = "https://m.example/v.mp4" } }, "title" },
      { "youtube/video", { video = { url = "ftp://m.example/v.mp4" }, title = "t" }, "video" },
      { "twitter/video", { video = { url = "https://m.example/v.mp4" }, callback_url = "not a url" }, "callback_url" },
      { "facebook/picture", { picture = { url = "https://m.example/p.png" }, url = "https://m.example/q.png" }, "url" },
      { "facebook/picture", { picture = { url = "https://m.example/p.png" }, create_post = "yes" }, "create_post" },
      { "linkedin/post", { message = "m" }, "link" },
      { "linkedin/company/post", { link = "https://e.example/" }, "company" },
      { "pinterest/board/549755885175/pin", { picture = { url = "https://m.example/p.png" } }, "description" },
      { "pinterest/board/549755885175/pin", { description = "d", picture = { url = "https://m.example/p.png" },
        board_id = "123" }, "board_id" },
      { "pinterest/board/../pin", { description = "d", picture = { url = "https://m.example/p.png" } }, "board_id" },
      { "pinterest/board", {}, "name" },
      { "youtube/playlist", { title = "t", privacy = "secret" }, "privacy" },
      { "youtube/playlist/PL1/video", { video_id = "v", position = -1 }, "position" },
      { "youtube/channel/section", { title = "t" }, "type" },
      { "youtube/channel/section", { type = "x", extra = { type = "y" } }, "extra" },
      { "facebook/nothing", { message = "m" }, "resource" },
    }
    for i, case in ipairs(CASES) do
      it(("%d: %s refuses %s"):format(i, case[1], case[3]), function()
        local c = stub()
        local res, msg, err = handle(c):push(TOKEN, case[1], case[2])
        assert.is_nil(res)
        assert.are.equal("invalid_argument", err.kind)
        assert.are.equal(case[3], err.field)
        assert.is_string(msg)
        assert.are.equal(0, #c.sent)
      end)
    end

    it("explains that OneAll needs a URL for media", function()
      local _, msg = handle(stub()):push(TOKEN, "twitter/picture", { picture = { file = "/tmp/p.png" } })
      assert.matches("OneAll downloads media itself", msg, 1, true)
    end)

    it("never lets a '/' into the path through the identity token", function()
      for _, tok in ipairs { "a/b", "../x", "", "a b", 12.5 } do
        local c = stub()
        local res, _, err = handle(c):push(tok, "twitter/post", { message = "m" })
        assert.is_nil(res)
        assert.are.equal("identity_token", err.field)
        assert.are.equal(0, #c.sent)
      end
    end)

    it("raises when args is not a table", function()
      assert.has_error(function() handle(stub()):push(TOKEN, "twitter/post", "hello") end)
    end)
  end)

  describe("results", function()
    it("keeps the seed's result shape", function()
      local data = { provider = "facebook", object = "post", post_id = "1122334455_10213097383563000",
        post_location = "https://www.facebook.com/1122334455_10213097383563000" }
      local c = stub { { status = 200, body = ok_body(data) } }
      local res = assert(handle(c):push(TOKEN, "facebook/page/post",
        { page_id = "1122334455", message = "Hello World!" }))
      assert.are.equal("1122334455_10213097383563000", res.post_id)
      assert.are.equal("https://www.facebook.com/1122334455_10213097383563000", res.post_location)
      assert.are.same(data, res.raw)
    end)

    it("makes a numeric id a string", function()
      local c = stub { { status = 200, body = '{"response":{"request":{"status":{"flag":"success","code":200}},'
        .. '"result":{"data":{"provider":"twitter","object":"picture","picture_id":912249625129684992}}}}' } }
      local res = assert(handle(c):push(TOKEN, "twitter/picture", { picture = { url = "https://m.example/p.png" } }))
      assert.are.equal("912249625129684992", res.post_id)
      assert.is_nil(res.post_location)
    end)

    it("returns the queued state of an asynchronous video and passes callback_url on", function()
      local c = stub { { status = 200, body = envelope(200, "queued", { provider = "twitter", object = "video",
        status = "queued", job_id = "6b04871a-0001-4cb5-8b2e-00005ff27001" }) } }
      local res = assert(handle(c):push(TOKEN, "twitter/video", { video = { url = "https://m.example/v.mp4" },
        callback_url = "https://app.example/cb?x=1" }))
      assert.are.equal("queued", res.status)
      assert.are.equal("6b04871a-0001-4cb5-8b2e-00005ff27001", res.job_id)
      assert.is_nil(res.post_id)
      assert.are.equal("video", res.object)
      assert.are.equal("https://app.example/cb?x=1", json.decode(c.sent[1].body).request.push.video.callback_url)
    end)

    it("parses the body OneAll posts to the callback_url", function()
      local body = ok_body { provider = "youtube", object = "video", post_id = "SbxAAAAAAAC",
        post_location = "https://www.youtube.com/watch?v=SbxAAAAAAAC", job_id = "j1", status = "done" }
      local res = assert(oneall.parse_callback(body))
      assert.are.equal("SbxAAAAAAAC", res.post_id)
      assert.are.equal("youtube", res.provider)
      assert.is_nil(res.status)
      local _, _, err = oneall.parse_callback("<html>")
      assert.are.equal("decode", err.kind)
      _, _, err = oneall.parse_callback(envelope(409, "Upload failed"))
      assert.are.equal("provider", err.kind)
    end)
  end)

  -- the error-mapping table: answer → kind, code, field, retry_after, message text
  local AUTH = "Authentication credentials are missing or incorrect: http://docs.oneall.com/api/basic/authentication/"
  local ERRORS = {
    { "400 missing key", "twitter/post", 400, envelope(400, "Missing or empty key: request.push.post.message"),
      { kind = "invalid_argument", code = 400, field = "message" } },
    { "400 media key", "youtube/video", 400, envelope(400, "Invalid value for key: request.push.video.video_url"),
      { kind = "invalid_argument", field = "video" } },
    { "400 page id", "facebook/page/post", 400, envelope(400, "Invalid value for key: request.push.page.id."),
      { kind = "invalid_argument", field = "page_id" } },
    { "400 link and attachments", "facebook/page/post", 400,
      envelope(400, "You can either include a link or attachments but not both at the same time."),
      { kind = "invalid_argument", field = "attachments" } },
    { "401", "twitter/post", 401, envelope(401, AUTH), { kind = "auth", code = 401, text = AUTH } },
    { "403", "facebook/page/post", 403, envelope(403, "not an administrator"),
      { kind = "permission", code = 403, text = "not an administrator" } },
    { "404 identity", "twitter/post", 404, envelope(404, "The identity_token x is invalid"),
      { kind = "not_found", code = 404, text = "identity_token" } },
    { "409", "twitter/post", 409, envelope(409, "Status is a duplicate"), { kind = "provider", code = 409 } },
    { "409 retired", "facebook/post", 409, envelope(409, "This endpoint is deprecated. Facebook has removed it"),
      { kind = "deprecated", text = "facebook/page/post" } },
    { "409 other on a retired resource", "facebook/post", 409, envelope(409, "identity belongs to twitter"),
      { kind = "provider" } },
    { "429 Retry-After", "twitter/post", 429, envelope(429, "Too many requests"),
      { kind = "rate_limited", retry_after = 30, retryable = true }, { ["retry-after"] = "30" } },
    { "500", "twitter/post", 500, envelope(500, "Internal error"), { kind = "server", retryable = true } },
    { "502 not JSON", "twitter/post", 502, "<html>Bad Gateway</html>", { kind = "server" },
      { ["content-type"] = "text/html" } },
    { "503", "twitter/post", 503, envelope(503, "The API is overloaded"), { kind = "server" } },
    { "200 not JSON", "twitter/post", 200, "<html>ok</html>", { kind = "decode" }, { ["content-type"] = "text/html" } },
    { "200 JSON, no envelope", "twitter/post", 200, '{"ok":true}', { kind = "decode" } },
    { "200 no result.data", "twitter/post", 200, envelope(200, "ok"), { kind = "decode" } },
    { "200 no id", "twitter/post", 200, ok_body { provider = "twitter", object = "post" }, { kind = "decode" } },
    { "200 empty body", "twitter/post", 200, "", { kind = "decode" } },
    { "200 with an error flag", "twitter/post", 200, envelope(200, "x"):gsub('"success"', '"error"'):gsub(
      '"code":200', '"code":403'), { kind = "permission" } },
  }
  local ARGS = {
    ["twitter/post"] = { message = "m" },
    ["youtube/video"] = { video = { url = "https://m.example/v.mp4" }, title = "t" },
    ["facebook/page/post"] = { page_id = "1", message = "m" },
    ["facebook/post"] = { message = "m" },
  }

  describe("error mapping", function()
    for _, row in ipairs(ERRORS) do
      local name, resource, status, body, want, headers = row[1], row[2], row[3], row[4], row[5], row[6]
      it(name .. " -> " .. want.kind, function()
        local c = stub { { status = status, body = body, headers = headers or JSON_CT,
          retry_after = headers and tonumber(headers["retry-after"]) } }
        local res, msg, err = handle(c):push(TOKEN, resource, ARGS[resource])
        assert.is_nil(res)
        assert.is_true(errors.is(err))
        assert.are.equal(want.kind, err.kind)
        assert.are.equal("oneall", err.provider)
        assert.are.equal(msg, err.message)
        assert.matches("^oneall%.", err.operation)
        assert.are.equal(status, err.status)
        if want.code then assert.are.equal(want.code, err.code) end
        if want.field then assert.are.equal(want.field, err.field) end
        if want.retry_after then assert.are.equal(want.retry_after, err.retry_after) end
        if want.retryable ~= nil then assert.are.equal(want.retryable, err.retryable) end
        if want.text then assert.matches(want.text, msg, 1, true) end
      end)
    end

    it("scrubs the keys out of messages", function()
      local c = stub { { status = 401, body = envelope(401, "bad key " .. PRIV .. " for " .. PUB) } }
      local _, msg, err = handle(c):push(TOKEN, "twitter/post", { message = "m" })
      assert.are.equal("auth", err.kind)
      assert.is_nil(msg:find(PRIV, 1, true))
      assert.is_nil(msg:find(PUB, 1, true))
      assert.is_nil(tostring(err.detail):find(PRIV, 1, true))
      assert.matches("***", msg, 1, true)
    end)

    it("maps a transport failure with the operation named", function()
      local c = { request = function()
        return errors.fail { kind = "transport", message = "could not connect" }
      end }
      local res, msg, err = handle(c):push(TOKEN, "twitter/post", { message = "m" })
      assert.is_nil(res)
      assert.are.equal("transport", err.kind)
      assert.matches("^oneall.twitter.post: ", msg)
    end)
  end)
end)
