-- socialpush.twitter with a stub client: request shapes of every operation, the checks
-- made before sending, the upload protocol's steps, and every row of map_error.
local json = require "socialpush.json"
local time = require "socialpush.time"
local twitter = require "socialpush.providers.twitter"

local OAUTH = { consumer_key = "ck-sandbox", consumer_secret = "cs-secret-1", token = "tk-token-1",
  token_secret = "ts-secret-1" }
local BEARER = { bearer_token = "bearer-user-token-1" }
local JSON = { ["content-type"] = "application/json" }

local stub_client = require "helpers.stub_client"

local function handle(c, creds) return twitter.new(c, creds or OAUTH) end

local function header(req, name)
  for _, kv in ipairs(req.headers) do
    if kv[1]:lower() == name:lower() then return kv[2] end
  end
end

local function parts_of(req)
  local t = {}
  for _, p in ipairs(req.body.multipart) do t[p.name] = p end
  return t
end

local PNG = "\137PNG\r\n\26\n" .. ("\0"):rep(56)
local MP4 = "\0\0\0\24ftypmp42" .. ("v"):rep(2500)

local function tweet_reply(id, text)
  return { status = 201, body = { data = { id = id, text = text or "" } } }
end

describe("socialpush.twitter", function()
  it("picks OAuth 1.0a when any OAuth 1.0a value is given, else the OAuth 2 bearer", function()
    assert.are.equal("oauth1", twitter.auth_scheme(OAUTH))
    assert.are.equal("bearer", twitter.auth_scheme(BEARER))
    assert.are.equal("oauth1", twitter.auth_scheme { consumer_key = "a", consumer_secret = "b", token = "c" })
  end)

  it("names the OAuth 1.0a credential that is missing or of the wrong type", function()
    local c = stub_client {}
    local _, msg, err = handle(c, { consumer_key = "ck-1", consumer_secret = "cs-1", token = "tk-1" })
      :post { message = "x" }
    assert.are.equal("invalid_argument", err.kind)
    assert.are.equal("token_secret", err.field)
    assert.matches("lack token_secret", msg, 1, true)
    _, msg, err = handle(c, { access_token = 123 }):post { message = "x" }
    assert.are.equal("access_token", err.field)
    assert.matches("access_token must be a non-empty string, got number", msg, 1, true)
    assert.are.equal(0, #c.sent)
  end)

  describe("post", function()
    it("sends POST /2/tweets with text, media ids and reply, signed with OAuth 1.0a", function()
      local c = stub_client { tweet_reply("1346889436626259968", "Hello") }
      local res = assert(handle(c):post { message = "Hello", attachments = { "1880028106020515840", 42 },
        reply_to = "1346889436626259000" })
      local req = c.sent[1]
      assert.are.equal("POST", req.method)
      assert.are.equal("https://api.x.com/2/tweets", req.url)
      assert.is_false(req.idempotent)
      assert.matches('^OAuth .*oauth_consumer_key="ck%-sandbox"', header(req, "Authorization"))
      assert.are.equal("application/json", header(req, "Content-Type"))
      assert.are.same({ text = "Hello", media = { media_ids = { "1880028106020515840", "42" } },
        reply = { in_reply_to_tweet_id = "1346889436626259000" } }, json.decode(req.body))
      assert.are.same({ provider = "twitter", object = "post", post_id = "1346889436626259968",
        post_location = "https://x.com/i/web/status/1346889436626259968",
        raw = { data = { id = "1346889436626259968", text = "Hello" } } }, res)
    end)

    it("uses the OAuth 2 user token as a bearer, and a base_url from the credentials", function()
      local c = stub_client { tweet_reply("7") }
      assert(handle(c, { access_token = "oauth2-user-token", base_url = "https://api.twitter.com" })
        :post { message = "hi" })
      assert.are.equal("https://api.twitter.com/2/tweets", c.sent[1].url)
      assert.are.equal("Bearer oauth2-user-token", header(c.sent[1], "Authorization"))
    end)

    it("posts media without text when attachments are given", function()
      local c = stub_client { tweet_reply("8") }
      assert(handle(c, BEARER):post { attachments = { "11" } })
      assert.are.same({ media = { media_ids = { "11" } } }, json.decode(c.sent[1].body))
    end)

    it("counts the weighted length: 140 CJK characters are 280 and pass, one more fails", function()
      local c = stub_client { tweet_reply("9") }
      local cjk = ("\228\184\128"):rep(140)          -- U+4E00 weighs 2
      assert(handle(c):post { message = cjk })
      local res, msg, err = handle(c):post { message = cjk .. "a" }
      assert.is_nil(res)
      assert.are.equal("invalid_argument", err.kind)
      assert.are.equal("message", err.field)
      assert.matches("281 weighted characters", msg, 1, true)
      assert.are.equal(1, #c.sent)
    end)

    it("counts every URL as 23", function()
      local c = stub_client { tweet_reply("10") }
      local url = "https://example.com/" .. ("p"):rep(200)
      assert(handle(c):post { message = ("a"):rep(257) .. url })   -- 257 + 23 = 280
      assert.are.equal(1, #c.sent)
    end)

    local refusals = {
      { "no message", {}, "message" },
      { "an empty message", { message = "  " }, "message" },
      { "a message that is not a string", { message = 5 }, "message" },
      { "invalid UTF-8", { message = "\255" }, "message" },
      { "five attachments", { message = "x", attachments = { "1", "2", "3", "4", "5" } }, "attachments" },
      { "a non-numeric media id", { message = "x", attachments = { "12a" } }, "attachments" },
      { "a media id with a slash", { message = "x", attachments = { "1/2" } }, "attachments" },
      { "attachments that are not a list", { message = "x", attachments = "1" }, "attachments" },
      { "a malformed reply_to", { message = "x", reply_to = "../1" }, "reply_to" },
      { "a non-numeric reply_to", { message = "x", reply_to = "abc" }, "reply_to" },
      { "a 20-digit reply_to", { message = "x", reply_to = ("1"):rep(20) }, "reply_to" },
    }
    for _, row in ipairs(refusals) do
      it("refuses " .. row[1] .. " before sending (field " .. row[3] .. ")", function()
        local c = stub_client {}
        local res, msg, err = handle(c):post(row[2])
        assert.is_nil(res)
        assert.are.equal("invalid_argument", err.kind, msg)
        assert.are.equal(row[3], err.field)
        assert.are.equal("twitter.post", err.operation)
        assert.are.equal(0, #c.sent)
      end)
    end

    it("does not change the caller's arguments", function()
      local c = stub_client { tweet_reply("11") }
      local args = { message = "x", attachments = { 5 }, reply_to = 6 }
      assert(handle(c):post(args))
      assert.are.equal(5, args.attachments[1])
      assert.are.equal(6, args.reply_to)
    end)

    it("maps a refusal and keeps secrets out of the message", function()
      local c = stub_client { { status = 401, headers = JSON,
        body = { title = "Unauthorized", type = "about:blank", status = 401, detail = "token tk-token-1 refused" } } }
      local res, msg, err = handle(c):post { message = "x" }
      assert.is_nil(res)
      assert.are.equal("auth", err.kind)
      assert.are.equal(401, err.status)
      assert.are.equal("twitter", err.provider)
      assert.is_nil(msg:find("tk-token-1", 1, true))
    end)

    it("fails with kind decode when the reply has no id", function()
      local c = stub_client { { status = 201, body = { data = {} } } }
      local _, _, err = handle(c):post { message = "x" }
      assert.are.equal("decode", err.kind)
    end)
  end)

  describe("picture", function()
    it("uploads in one shot, sets the alt text, and returns the media id", function()
      local c = stub_client {
        { body = { data = { id = "1880028106020515840", media_key = "3_1880028106020515840" } } },
        { body = { data = { id = "1880028106020515840" } } },
      }
      local res = assert(handle(c):picture { picture = { data = PNG, filename = "a.png" }, description = "A logo" })
      local up, meta = c.sent[1], c.sent[2]
      assert.are.equal("https://api.x.com/2/media/upload", up.url)
      assert.is_false(up.idempotent)
      assert.matches("^OAuth ", header(up, "Authorization"))
      local parts = parts_of(up)
      assert.are.equal("tweet_image", parts.media_category.data)
      assert.are.equal("image/png", parts.media_type.data)
      assert.are.equal(PNG, parts.media.data)
      assert.are.equal("image/png", parts.media.content_type)
      assert.are.equal("https://api.x.com/2/media/metadata", meta.url)
      assert.are.same({ id = "1880028106020515840", metadata = { alt_text = { text = "A logo" } } },
        json.decode(meta.body))
      assert.are.equal("picture", res.object)
      assert.are.equal("1880028106020515840", res.post_id)
      assert.is_nil(res.post_location)
      assert.are.equal(2, #c.sent)
    end)

    it("posts the picture when a message is given", function()
      local c = stub_client { { body = { data = { id = "55" } } }, tweet_reply("66", "look") }
      local res = assert(handle(c):picture { picture = { data = PNG }, message = "look" })
      assert.are.same({ text = "look", media = { media_ids = { "55" } } }, json.decode(c.sent[2].body))
      assert.are.equal("post", res.object)
      assert.are.equal("66", res.post_id)
      assert.are.equal("55", res.media_id)
    end)

    it("streams a file picture as a file part", function()
      local path = os.tmpname()
      local f = assert(io.open(path, "wb"))
      f:write(PNG)
      f:close()
      local c = stub_client { { body = { data = { id = "56" } } } }
      assert(handle(c):picture { picture = path })
      os.remove(path)
      assert.are.equal(path, parts_of(c.sent[1]).media.file)
    end)

    local refusals = {
      { "no picture", {}, "picture" },
      { "a BMP", { picture = { data = "BM" .. ("\0"):rep(60) } }, "picture" },
      { "a picture over 5 MB", { picture = { data = PNG .. ("\0"):rep(5 * 1024 * 1024) } }, "picture" },
      { "alt text over 1000 characters", { picture = { data = PNG }, description = ("d"):rep(1001) }, "description" },
      { "a message over 280", { picture = { data = PNG }, message = ("m"):rep(281) }, "message" },
    }
    for _, row in ipairs(refusals) do
      it("refuses " .. row[1] .. " before sending", function()
        local c = stub_client {}
        local res, msg, err = handle(c):picture(row[2])
        assert.is_nil(res)
        assert.are.equal("invalid_argument", err.kind, msg)
        assert.are.equal(row[3], err.field)
        assert.are.equal(0, #c.sent)
      end)
    end
  end)

  describe("video", function()
    local function status_reply(state, after, extra)
      local info = { state = state, check_after_secs = after }
      for k, v in pairs(extra or {}) do info[k] = v end
      return { body = { data = { id = "77", processing_info = info } } }
    end

    it("initializes, appends segments from 0, finalizes and polls STATUS, then posts", function()
      local c = stub_client {
        { body = { data = { id = "77", media_key = "7_77", expires_after_secs = 86399 } } },
        { body = { data = { expires_at = 1 } } }, { body = { data = { expires_at = 1 } } },
        { body = { data = { expires_at = 1 } } },
        status_reply("pending", 2),
        status_reply("in_progress", 3, { progress_percent = 40 }),
        status_reply("succeeded", nil, { progress_percent = 100 }),
        tweet_reply("88", "watch"),
      }
      local res = assert(handle(c):video { video = { data = MP4 }, message = "watch", chunk_size = 1000 })
      local init = c.sent[1]
      assert.are.equal("https://api.x.com/2/media/upload/initialize", init.url)
      assert.are.same({ media_type = "video/mp4", total_bytes = #MP4, media_category = "tweet_video" },
        json.decode(init.body))
      for i = 0, 2 do
        local req = c.sent[2 + i]
        assert.are.equal("https://api.x.com/2/media/upload/77/append", req.url)
        assert.is_true(req.idempotent)
        local parts = parts_of(req)
        assert.are.equal(tostring(i), parts.segment_index.data)
        assert.are.equal(MP4:sub(i * 1000 + 1, i * 1000 + 1000), parts.media.data)
        assert.matches("^OAuth ", header(req, "Authorization"))
      end
      local fin = c.sent[5]
      assert.are.equal("https://api.x.com/2/media/upload/77/finalize", fin.url)
      assert.is_nil(fin.body)
      assert.are.equal("GET", c.sent[6].method)
      assert.are.equal("https://api.x.com/2/media/upload?media_id=77&command=STATUS", c.sent[6].url)
      assert.are.equal("https://api.x.com/2/media/upload?media_id=77&command=STATUS", c.sent[7].url)
      assert.are.same({ 2, 3 }, c.slept)          -- check_after_secs honoured
      assert.are.same({ text = "watch", media = { media_ids = { "77" } } }, json.decode(c.sent[8].body))
      assert.are.equal("post", res.object)
      assert.are.equal("88", res.post_id)
      assert.are.equal("77", res.media_id)
      assert.are.equal(8, #c.sent)
    end)

    it("returns right after finalize with wait = false", function()
      local c = stub_client {
        { body = { data = { id = "77" } } }, { body = { data = {} } }, status_reply("pending", 1),
      }
      local res = assert(handle(c, BEARER):video { video = { data = MP4 }, wait = false })
      assert.are.equal(3, #c.sent)
      assert.are.equal("Bearer bearer-user-token-1", header(c.sent[2], "Authorization"))
      assert.are.equal("video", res.object)
      assert.are.equal("77", res.post_id)
      assert.are.equal("pending", res.state)
      assert.is_nil(res.post_location)
    end)

    it("needs no STATUS when finalize has no processing_info", function()
      local c = stub_client { { body = { data = { id = "77" } } }, { body = { data = {} } },
        { body = { data = { id = "77", size = #MP4 } } } }
      local res = assert(handle(c):video { video = { data = MP4 } })
      assert.are.equal("succeeded", res.state)
      assert.are.equal(3, #c.sent)
    end)

    it("fails with kind unsupported when processing fails with InvalidMedia", function()
      local c = stub_client {
        { body = { data = { id = "77" } } }, { body = { data = {} } }, status_reply("pending", 0),
        status_reply("failed", nil,
          { error = { code = 1, name = "InvalidMedia", message = "Unsupported video format" } }),
      }
      local res, msg, err = handle(c):video { video = { data = MP4 }, message = "never posted" }
      assert.is_nil(res)
      assert.are.equal("unsupported", err.kind)
      assert.are.equal("twitter.video", err.operation)
      assert.matches("Unsupported video format", msg, 1, true)
      assert.are.equal(4, #c.sent)
    end)

    it("gives up polling with kind timeout within the client's timeout", function()
      local replies = { { body = { data = { id = "77" } } }, { body = { data = {} } }, status_reply("pending", 10) }
      for _ = 1, 10 do replies[#replies + 1] = status_reply("in_progress", 10) end
      local c = stub_client(replies, { timeout = 25 })
      local res, msg, err = handle(c):video { video = { data = MP4 } }
      assert.is_nil(res)
      assert.are.equal("timeout", err.kind, msg)
      assert.are.same({ 10, 10 }, c.slept)
      assert.are.equal(5, #c.sent)                  -- init, append, finalize, 2 STATUS
    end)

    it("stops at a refused segment and sends nothing after it", function()
      local c = stub_client { { body = { data = { id = "77" } } }, { body = { data = {} } },
        { status = 400, headers = JSON, body = { title = "Invalid Request", detail = "bad segment",
          type = "https://api.x.com/2/problems/invalid-request" } } }
      local res, _, err = handle(c):video { video = { data = MP4 }, chunk_size = 1000 }
      assert.is_nil(res)
      assert.are.equal("invalid_argument", err.kind)
      assert.are.equal(3, #c.sent)
    end)

    describe("with resume_dir", function()
      local dir
      before_each(function()
        local p = assert(io.popen("mktemp -d"))
        dir = p:read("*l")
        p:close()
      end)
      after_each(function() os.execute("rm -rf '" .. dir .. "'") end)

      local function transport_failure()
        return { fail = setmetatable({ kind = "transport", message = "connection reset" },
          require("socialpush.errors").mt) }
      end
      local OK = { body = { data = {} } }
      local function segment_of(req) return parts_of(req).segment_index.data end

      it("continues from the first unacknowledged segment", function()
        local c = stub_client { { body = { data = { id = "77" } } }, OK, transport_failure() }
        c.resume_dir = dir
        local _, _, err = handle(c):video { video = { data = MP4 }, chunk_size = 1000 }
        assert.are.equal("transport", err.kind)
        local c2 = stub_client { OK, OK, { body = { data = { id = "77" } } } }
        c2.resume_dir = dir
        local res = assert(handle(c2):video { video = { data = MP4 }, chunk_size = 1000 })
        assert.are.equal("77", res.media_id)
        assert.are.equal("https://api.x.com/2/media/upload/77/append", c2.sent[1].url)
        assert.are.same({ "1", "2" }, { segment_of(c2.sent[1]), segment_of(c2.sent[2]) })
        assert.are.equal(3, #c2.sent)
      end)

      it("starts over once when the saved session is gone", function()
        local c = stub_client { { body = { data = { id = "77" } } }, transport_failure() }
        c.resume_dir = dir
        assert.is_nil(handle(c):video { video = { data = MP4 }, chunk_size = 4000 })
        local c2 = stub_client { { status = 404, headers = JSON, body = { title = "Not Found Error",
          detail = "Could not find media", type = "https://api.x.com/2/problems/resource-not-found" } },
          { body = { data = { id = "78" } } }, OK, { body = { data = { id = "78" } } } }
        c2.resume_dir = dir
        local res = assert(handle(c2):video { video = { data = MP4 }, chunk_size = 4000 })
        assert.are.equal("78", res.media_id)
        assert.are.equal("https://api.x.com/2/media/upload/initialize", c2.sent[2].url)
        assert.are.equal("0", segment_of(c2.sent[3]))
      end)

      it("only polls after a timeout that came after finalize", function()
        local c = stub_client({ { body = { data = { id = "77" } } }, OK,
          { body = { data = { id = "77", processing_info = { state = "pending", check_after_secs = 30 } } } } },
          { timeout = 10 })
        c.resume_dir = dir
        local _, _, err = handle(c):video { video = { data = MP4 } }
        assert.are.equal("timeout", err.kind)
        local c2 = stub_client { { body = { data = { id = "77", processing_info = { state = "succeeded" } } } } }
        c2.resume_dir = dir
        local res = assert(handle(c2):video { video = { data = MP4 } })
        assert.are.equal("GET", c2.sent[1].method)
        assert.are.equal("succeeded", res.state)
        assert.are.equal(1, #c2.sent)
      end)
    end)

    local refusals = {
      { "no video", {}, "video" },
      { "a WebM video", { video = { data = "\26\69\223\163" .. ("\0"):rep(40) } }, "video" },
      { "a video over 512 MB", { video = { source = "file", path = "/nonexistent", size = 512 * 1024 * 1024 + 1,
        content_type = "video/mp4" } }, "video" },
      { "an empty video", { video = { data = "", content_type = "video/mp4" } }, "video" },
      { "wait = false with a message", { video = { data = MP4 }, wait = false, message = "m" }, "wait" },
      { "a non-boolean wait", { video = { data = MP4 }, wait = "no" }, "wait" },
      { "a chunk_size over 4 MiB", { video = { data = MP4 }, chunk_size = 4 * 1024 * 1024 + 1 }, "chunk_size" },
    }
    for _, row in ipairs(refusals) do
      it("refuses " .. row[1] .. " before sending", function()
        local c = stub_client {}
        local res, msg, err = handle(c):video(row[2])
        assert.is_nil(res)
        assert.are.equal("invalid_argument", err.kind, msg)
        assert.are.equal(row[3], err.field)
        assert.are.equal(0, #c.sent)
      end)
    end
  end)

  describe("map_error", function()
    local now = os.time()
    local function problem(status, title, detail, ptype)
      return { title = title, detail = detail, type = ptype and ("https://api.x.com/2/problems/" .. ptype)
        or "about:blank", status = status }
    end
    local function v1(code, message) return { errors = { { code = code, message = message } } } end
    local function invalid(param, message)
      local p = {}
      p[param] = { "v" }
      return { errors = { { parameters = p, message = message } }, title = "Invalid Request",
        detail = "One or more parameters to your request was invalid.",
        type = "https://api.twitter.com/2/problems/invalid-request" }
    end
    local function failed(name, message)
      return { data = { id = "1", processing_info = { state = "failed",
        error = { code = 1, name = name, message = message } } } }
    end
    -- status, headers, body → kind, {field=, code=, detail=, retry_after={min, max}}
    local rows = {
      { "v2 401", 401, {}, problem(401, "Unauthorized", "Unauthorized"), "auth" },
      { "v1.1 code 32", 401, {}, v1(32, "Could not authenticate you."), "auth", { code = 32 } },
      { "v1.1 code 89", 401, {}, v1(89, "Invalid or expired token."), "auth", { code = 89 } },
      { "v1.1 code 215 on a 400", 400, {}, v1(215, "Bad Authentication data."), "auth", { code = 215 } },
      { "unsupported-authentication", 403, {}, problem(403, "Unsupported Authentication", "App-only",
        "unsupported-authentication"), "auth", { code = "unsupported-authentication" } },
      { "v2 duplicate", 403, {}, problem(403, "Forbidden",
        "You are not allowed to create a Tweet with duplicate content."), "duplicate",
        { detail = "You are not allowed to create a Tweet with duplicate content." } },
      { "v1.1 code 187", 403, {}, v1(187, "Status is a duplicate."), "duplicate", { code = 187 } },
      { "other 403", 403, {}, problem(403, "Forbidden", "You are not permitted to perform this action."),
        "permission" },
      { "client-forbidden", 403, {}, problem(403, "Client Forbidden", "not attached to a project",
        "client-forbidden"), "permission", { code = "client-forbidden" } },
      { "not-authorized-for-resource", 403, {}, problem(403, "Forbidden", "no", "not-authorized-for-resource"),
        "permission" },
      { "429 with x-rate-limit-reset", 429, { ["x-rate-limit-limit"] = "100", ["x-rate-limit-remaining"] = "0",
        ["x-rate-limit-reset"] = tostring(now + 120) }, problem(429, "Too Many Requests", "Too Many Requests"),
        "rate_limited", { retry_after = { 115, 120 } } },
      { "429 with the user's 24-hour cap", 429, { ["x-rate-limit-remaining"] = "40",
        ["x-rate-limit-reset"] = tostring(now + 60), ["x-user-limit-24hour-remaining"] = "0",
        ["x-user-limit-24hour-reset"] = tostring(now + 3600) }, nil, "rate_limited",
        { retry_after = { 3595, 3600 } } },
      { "429 with the app's 24-hour cap", 429, { ["x-app-limit-24hour-remaining"] = "0",
        ["x-app-limit-24hour-reset"] = tostring(now + 7200) }, nil, "rate_limited",
        { retry_after = { 7195, 7200 } } },
      { "429 with Retry-After only", 429, { ["retry-after"] = "30" }, nil, "rate_limited",
        { retry_after = { 30, 30 } } },
      { "429 with a reset already past", 429, { ["x-rate-limit-remaining"] = "0",
        ["x-rate-limit-reset"] = tostring(now - 5) }, nil, "rate_limited", { retry_after = { 1, 1 } } },
      { "429 without any reset", 429, {}, nil, "rate_limited", { retry_after = "none" } },
      { "v1.1 code 88", 400, {}, v1(88, "Rate limit exceeded"), "rate_limited", { code = 88 } },
      { "usage-capped", 429, {}, problem(429, "UsageCapExceeded", "Usage cap exceeded: Monthly product cap",
        "usage-capped"), "rate_limited", { code = "usage-capped" } },
      { "400 invalid-request on text", 400, {}, invalid("text", "Your Tweet text is too long."),
        "invalid_argument", { field = "message", detail = "Your Tweet text is too long.",
        code = "invalid-request" } },
      { "400 invalid-request on media ids", 400, {}, invalid("media.media_ids", "Your media IDs are invalid."),
        "invalid_argument", { field = "attachments" } },
      { "400 invalid-request on the reply", 400, {}, invalid("reply.in_reply_to_tweet_id", "bad"),
        "invalid_argument", { field = "reply_to" } },
      { "a bare 400", 400, {}, nil, "invalid_argument" },
      { "v1.1 code 186", 403, {}, v1(186, "Tweet needs to be a bit shorter."), "invalid_argument",
        { field = "message" } },
      { "v1.1 code 324", 400, {}, v1(324, "The validation of media ids failed."), "invalid_argument",
        { field = "attachments" } },
      { "404 resource-not-found", 404, {}, problem(404, "Not Found Error", "Could not find media",
        "resource-not-found"), "not_found" },
      { "a bare 404", 404, {}, nil, "not_found" },
      { "413", 413, {}, nil, "too_large" },
      { "500", 500, {}, problem(500, "Internal Error", "oops", "internal-error"), "server" },
      { "503", 503, {}, v1(130, "Over capacity"), "server", { code = 130 } },
      { "STATUS failed: InvalidMedia", 200, {}, failed("InvalidMedia", "Unsupported video format"),
        "unsupported", { detail = "Unsupported video format", code = 1 } },
      { "STATUS failed: other", 200, {}, failed("InternalError", "Processing failed"), "provider",
        { detail = "Processing failed" } },
      { "an unknown status", 409, {}, nil, nil },
    }
    for _, row in ipairs(rows) do
      local name, status, headers, body, kind, want = row[1], row[2], row[3], row[4], row[5], row[6] or {}
      it("maps " .. name .. " to " .. tostring(kind), function()
        local m = twitter.map_error { status = status, headers = headers, json = body,
          retry_after = time.retry_after(headers["retry-after"]) }   -- as client:request computes it
        assert.are.equal(kind, m.kind)
        if want.field then assert.are.equal(want.field, m.field) end
        if want.code then assert.are.equal(want.code, m.code) end
        if want.detail then assert.are.equal(want.detail, m.detail) end
        if want.retry_after == "none" then
          assert.is_nil(m.retry_after)
        elseif want.retry_after then
          assert.is_true(m.retry_after >= want.retry_after[1] and m.retry_after <= want.retry_after[2],
            "retry_after " .. tostring(m.retry_after))
        end
      end)
    end

    it("reads the request id from x-transaction-id", function()
      local m = twitter.map_error { status = 500, headers = { ["x-transaction-id"] = "abc123" } }
      assert.are.equal("abc123", m.request_id)
    end)

    it("feeds the pipeline: kind, field and retry_after reach the error", function()
      local c = stub_client { { status = 400, headers = JSON, body = invalid("text", "too long") } }
      local _, _, err = handle(c):post { message = "x" }
      assert.are.equal("invalid_argument", err.kind)
      assert.are.equal("message", err.field)
      c = stub_client { { status = 429, headers = { ["x-rate-limit-remaining"] = "0",
        ["x-rate-limit-reset"] = tostring(os.time() + 600) } } }
      _, _, err = handle(c):post { message = "x" }
      assert.are.equal("rate_limited", err.kind)
      assert.is_true(err.retry_after > 590 and err.retry_after <= 600)
      assert.is_true(err.retryable)
    end)
  end)
end)
