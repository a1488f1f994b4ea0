-- X (Twitter) end to end through the sandbox: posts, pictures and chunked videos with
-- OAuth 1.0a and OAuth 2 bearer credentials, refusals mapped to kinds, and the upload
-- protocol under faults (429 + Retry-After on a segment, a dropped segment, resume).
local helpers = require "spec_helpers"
local json = require "socialpush.json"

local sb, accounts

local function client(opts) return helpers.client(sb, opts) end

local function sh(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("*a")
  p:close()
  return out
end

-- journal entries; entries are written when nginx finishes a request, so wait (bounded)
-- until at least min are there
local function journal(filter, min, c) return helpers.journal(sb, filter, min, c) end

local function control(method, path, body)
  local status, v = sb:control(method, path, body)
  assert.are.equal(200, status, path)
  return v
end

local function copy(t, extra)
  local out = {}
  for k, v in pairs(t) do out[k] = v end
  for k, v in pairs(extra or {}) do out[k] = v end
  return out
end

local function oauth_only()
  local t = accounts.twitter
  return { consumer_key = t.consumer_key, consumer_secret = t.consumer_secret, token = t.token,
    token_secret = t.token_secret }
end

local function mp4(size)
  local head = "\0\0\0\24ftypmp42\0\0\0\0mp42isom"
  return head .. ("\1"):rep(size - #head)
end

local CHUNK = 65536

describe("twitter #integration", function()
  setup(function()
    sb = helpers.sandbox()
    accounts = sb:accounts()
  end)

  before_each(function() sb:reset() end)

  describe("post", function()
    it("posts with OAuth 1.0a: 201, the id, and the request as X expects it", function()
      local c = client()
      local res = assert(c:twitter(oauth_only()):post { message = "Hello from socialpush" })
      assert.are.equal("twitter", res.provider)
      assert.are.equal("post", res.object)
      assert.matches("^%d+$", res.post_id)
      assert.are.equal("https://x.com/i/web/status/" .. res.post_id, res.post_location)
      assert.are.equal(res.post_id, res.raw.data.id)
      local j = journal({ host = "api.x.com", path = "/2/tweets" }, 1)
      assert.are.equal(1, #j)
      assert.are.equal("POST", j[1].method)
      assert.are.equal(201, j[1].status)
      assert.are.equal("OAuth ***", j[1].headers.authorization)
      assert.matches("^application/json", j[1].headers["content-type"])
      local stored = control("GET", "/_/x/tweets/" .. res.post_id)
      assert.are.same({ text = "Hello from socialpush" }, stored.body)
      assert.are.equal(accounts.twitter.user_id, stored.user)
      c:close()
    end)

    it("posts with an OAuth 2 bearer token through client:x", function()
      local c = client()
      local res = assert(c:x { bearer_token = accounts.twitter.bearer_token }:post { message = "bearer post" })
      assert.matches("^%d+$", res.post_id)
      local j = journal({ host = "api.x.com", path = "/2/tweets" }, 1)
      assert.are.equal("Bearer ***", j[1].headers.authorization)
      assert.are.equal(201, j[1].status)
      c:close()
    end)

    it("replies with attachments; the stored post has the media ids and the reply", function()
      local c = client()
      local tw = c:twitter(accounts.twitter)
      local first = assert(tw:post { message = "first" })
      local pic = assert(tw:picture { picture = { url = accounts.media.picture } })
      local res = assert(tw:post { message = "reply", attachments = { pic.post_id }, reply_to = first.post_id })
      local stored = control("GET", "/_/x/tweets/" .. res.post_id)
      assert.are.same({ text = "reply", media = { media_ids = { pic.post_id } },
        reply = { in_reply_to_tweet_id = first.post_id } }, stored.body)
      c:close()
    end)

    it("answers on api.twitter.com as well", function()
      local c = client()
      local res = assert(c:twitter(copy(accounts.twitter, { base_url = "https://api.twitter.com" }))
        :post { message = "old host" })
      assert.matches("^%d+$", res.post_id)
      local j = journal({ host = "api.twitter.com", path = "/2/tweets" }, 1)
      assert.are.equal(201, j[1].status)
      assert.are.equal(0, #sb:requests { host = "api.x.com" })
      c:close()
    end)

    it("goes through client:push with the OneAll resource name", function()
      local c = client()
      local res = assert(c:push(accounts.twitter, "twitter/post", { message = "pushed" }))
      assert.are.equal("post", res.object)
      assert.are.equal("pushed", control("GET", "/_/x/tweets/" .. res.post_id).text)
      c:close()
    end)

    it("refuses the same text twice with kind duplicate", function()
      local c = client()
      local tw = c:twitter(accounts.twitter)
      assert(tw:post { message = "only once" })
      local res, msg, err = tw:post { message = "only once" }
      assert.is_nil(res)
      assert.are.equal("duplicate", err.kind, msg)
      assert.are.equal(403, err.status)
      assert.matches("duplicate content", msg, 1, true)
      c:close()
    end)

    it("refuses a 281-weight text with invalid_argument and sends nothing", function()
      local c = client()
      local res, _, err = c:twitter(accounts.twitter):post { message = ("\228\184\128"):rep(140) .. "!" }
      assert.is_nil(res)
      assert.are.equal("invalid_argument", err.kind)
      assert.are.equal("message", err.field)
      sh("sleep 0.2")
      assert.are.equal(0, #sb:requests())
      c:close()
    end)

    it("has its own length check: 281 letters sent past the library → 400, field message", function()
      local c = client()
      local res = assert(c:request { method = "POST", url = "https://api.x.com/2/tweets",
        headers = { { "Authorization", "Bearer " .. accounts.twitter.bearer_token },
          { "Content-Type", "application/json" } },
        body = '{"text":"' .. ("a"):rep(281) .. '"}' })
      assert.are.equal(400, res.status)
      assert.matches("^application/problem%+json", res.headers["content-type"])
      local m = require("socialpush.providers.twitter").map_error { status = res.status, headers = res.headers,
        json = json.decode(res.body) }
      assert.are.equal("invalid_argument", m.kind)
      assert.are.equal("message", m.field)
      c:close()
    end)

    it("has its own media checks: 5 ids, an unknown id, an unprocessed video → 400", function()
      local c = client()
      local function post(body)
        local res = assert(c:request { method = "POST", url = "https://api.x.com/2/tweets",
          headers = { { "Authorization", "Bearer " .. accounts.twitter.bearer_token },
            { "Content-Type", "application/json" } }, body = body })
        local m = require("socialpush.providers.twitter").map_error { status = res.status, headers = res.headers,
          json = json.decode(res.body) }
        return res, m
      end
      local res, m = post('{"text":"five","media":{"media_ids":["1","2","3","4","5"]}}')
      assert.are.equal(400, res.status)
      assert.are.equal("attachments", m.field)
      res, m = post('{"text":"unknown","media":{"media_ids":["1880028199999999999"]}}')
      assert.are.equal(400, res.status)
      assert.are.equal("invalid_argument", m.kind)
      assert.are.equal("Your media IDs are invalid.", m.detail)
      local up = assert(c:x { bearer_token = accounts.twitter.bearer_token }:video {
        video = { data = mp4(1000), content_type = "video/mp4" }, wait = false })
      res = post('{"text":"too early","media":{"media_ids":["' .. up.media_id .. '"]}}')
      assert.are.equal(400, res.status)
      assert.is_string(res.headers["x-rate-limit-remaining"])
      c:close()
    end)

    it("maps expired OAuth 1.0a credentials to kind auth", function()
      local c = client()
      local res, msg, err = c:twitter(accounts.expired.twitter):post { message = "x" }
      assert.is_nil(res)
      assert.are.equal("auth", err.kind, msg)
      assert.are.equal(401, err.status)
      assert.is_nil(msg:find(accounts.expired.twitter.token_secret, 1, true))
      c:close()
    end)

    it("maps an expired bearer token and an app-only token to kind auth", function()
      local c = client()
      local _, _, err = c:x { bearer_token = accounts.expired.twitter.bearer_token }:post { message = "x" }
      assert.are.equal("auth", err.kind)
      assert.are.equal(401, err.status)
      local raw = assert(c:request { method = "POST", url = "https://api.x.com/2/tweets", body = "{}" })
      assert.are.equal(401, raw.status)
      assert.is_string(raw.headers["x-rate-limit-reset"])
      local _, msg, err2 = c:x { bearer_token = accounts.twitter.app_bearer_token }:post { message = "x" }
      assert.are.equal("auth", err2.kind)
      assert.are.equal(403, err2.status)
      assert.matches("Application%-Only", msg)
      c:close()
    end)

    it("sends x-rate-limit headers and refuses the user's extra post with 429 → rate_limited", function()
      control("POST", "/_/x/config", { limits = { tweets = 1 } })
      local c = client()
      local tok = accounts.twitter.bearer_token
      local raw = assert(c:request { method = "POST", url = "https://api.x.com/2/tweets",
        headers = { { "Authorization", "Bearer " .. tok }, { "Content-Type", "application/json" } },
        body = '{"text":"counted"}' })
      assert.are.equal(201, raw.status)
      assert.are.equal("1", raw.headers["x-rate-limit-limit"])
      assert.are.equal("0", raw.headers["x-rate-limit-remaining"])
      local reset = tonumber(raw.headers["x-rate-limit-reset"])
      assert.is_true(reset > os.time() - 1 and reset <= os.time() + 901)
      local res, msg, err = c:twitter(accounts.twitter):post { message = "one too many" }
      assert.is_nil(res)
      assert.are.equal("rate_limited", err.kind, msg)
      assert.are.equal(429, err.status)
      assert.is_true(err.retry_after > 0 and err.retry_after <= 901, tostring(err.retry_after))
      assert.is_true(err.retryable)
      c:close()
    end)

    it("maps the app's 24-hour cap to rate_limited with the 24-hour reset", function()
      control("POST", "/_/x/config", { tweets_24h = 1 })
      local c = client()
      local tw = c:twitter(accounts.twitter)
      assert(tw:post { message = "day one" })
      local _, _, err = tw:post { message = "day two" }
      assert.are.equal("rate_limited", err.kind)
      local day_end = (math.floor(os.time() / 86400) + 1) * 86400
      assert.is_true(math.abs(err.retry_after - (day_end - os.time())) <= 2, tostring(err.retry_after))
      c:close()
    end)
  end)

  describe("picture", function()
    it("fetches a URL picture, uploads it in one shot with alt text; object picture", function()
      local c = client()
      local res = assert(c:twitter(accounts.twitter):picture { picture = { url = accounts.media.picture },
        description = "The sandbox logo" })
      assert.are.equal("picture", res.object)
      assert.matches("^%d+$", res.post_id)
      assert.is_nil(res.post_location)
      local j = journal({}, 3)
      assert.are.equal(3, #j)
      assert.are.equal("media.socialpush.test", j[1].host)
      assert.is_nil(j[1].headers.authorization)
      assert.are.equal("api.x.com", j[2].host)
      assert.are.equal("/2/media/upload", j[2].path)
      assert.are.equal("OAuth ***", j[2].headers.authorization)
      assert.matches("^multipart/form%-data; boundary=", j[2].headers["content-type"])
      assert.are.equal("/2/media/metadata", j[3].path)
      assert.are.equal(200, j[3].status)
      local m = control("GET", "/_/x/media/" .. res.post_id)
      assert.are.equal("tweet_image", m.category)
      assert.are.equal("image/png", m.media_type)
      assert.are.equal("The sandbox logo", m.alt_text)
      c:close()
    end)

    it("posts a file picture with a message using a bearer token; object post", function()
      local c = client()
      local path = os.tmpname()
      local f = assert(io.open(path, "wb"))
      f:write("\137PNG\r\n\26\n" .. ("\0"):rep(200))
      f:close()
      local res = assert(c:x { bearer_token = accounts.twitter.bearer_token }:picture { picture = path,
        message = "a picture" })
      os.remove(path)
      assert.are.equal("post", res.object)
      assert.are.equal("https://x.com/i/web/status/" .. res.post_id, res.post_location)
      local stored = control("GET", "/_/x/tweets/" .. res.post_id)
      assert.are.same({ res.media_id }, stored.body.media.media_ids)
      assert.are.equal(208, control("GET", "/_/x/media/" .. res.media_id).total)
      for _, e in ipairs(journal({ host = "api.x.com" }, 2)) do
        assert.are.equal("Bearer ***", e.headers.authorization)
      end
      c:close()
    end)

    it("refuses a picture the sandbox cannot recognise with invalid_argument", function()
      local c = client()
      local res, msg, err = c:twitter(accounts.twitter):picture {
        picture = { data = ("z"):rep(100), content_type = "image/png" } }
      assert.is_nil(res)
      assert.are.equal("invalid_argument", err.kind, msg)
      assert.are.equal(400, err.status)
      c:close()
    end)
  end)

  describe("video", function()
    it("uploads in segments, polls STATUS as told, and posts the video", function()
      local c = client()
      local res = assert(c:twitter(accounts.twitter):video { video = { url = accounts.media.video },
        message = "a video", chunk_size = 128 * 1024 })
      assert.are.equal("post", res.object)
      local id = res.media_id
      local init = journal { path = "/2/media/upload/initialize" }
      assert.are.equal(1, #init)
      assert.matches("^application/json", init[1].headers["content-type"])
      local appends = journal { path = "/2/media/upload/" .. id .. "/append" }
      assert.are.equal(3, #appends)
      for _, e in ipairs(appends) do
        assert.are.equal("OAuth ***", e.headers.authorization)
        assert.matches("^multipart/form%-data", e.headers["content-type"])
        assert.are.equal(200, e.status)
      end
      assert.is_true(appends[1].body_size > 128 * 1024 and appends[3].body_size < appends[1].body_size)
      assert.are.equal(1, #journal { path = "/2/media/upload/" .. id .. "/finalize" })
      local polls = journal { method = "GET", path = "/2/media/upload" }
      assert.is_true(#polls >= 2, "STATUS polls: " .. #polls)
      for _, e in ipairs(polls) do
        assert.are.equal("media_id=" .. id .. "&command=STATUS", e.query)
        assert.are.equal("OAuth ***", e.headers.authorization)
        assert.are.equal(200, e.status)
      end
      local m = control("GET", "/_/x/media/" .. id)
      assert.are.equal("tweet_video", m.category)
      assert.are.equal("video/mp4", m.media_type)
      assert.are.equal(300 * 1024, m.total)
      assert.are.same({ 0, 1, 2 }, m.appends)
      assert.are.equal("succeeded", m.processing.state)
      local stored = control("GET", "/_/x/tweets/" .. res.post_id)
      assert.are.same({ text = "a video", media = { media_ids = { id } } }, stored.body)
      local order = {}
      for _, e in ipairs(journal({ host = "api.x.com" }, 1)) do order[#order + 1] = e.method .. " " .. e.path end
      assert.are.equal("POST /2/tweets", order[#order])
      c:close()
    end)

    it("returns after finalize with wait = false (bearer); no STATUS is sent", function()
      local c = client()
      local res = assert(c:x { bearer_token = accounts.twitter.bearer_token }:video {
        video = { data = mp4(CHUNK + 10), content_type = "video/mp4" }, wait = false, chunk_size = CHUNK })
      assert.are.equal("video", res.object)
      assert.are.equal("pending", res.state)
      assert.is_nil(res.post_location)
      assert.are.equal(res.post_id, res.media_id)
      sh("sleep 0.2")
      assert.are.equal(0, #sb:requests { method = "GET", path = "/2/media/upload" })
      assert.are.equal(2, #sb:requests { path = "/2/media/upload/" .. res.post_id .. "/append" })
      for _, e in ipairs(sb:requests { host = "api.x.com" }) do
        assert.are.equal("Bearer ***", e.headers.authorization)
      end
      c:close()
    end)

    it("waits out a 429 with Retry-After on a segment and re-sends that segment only", function()
      control("POST", "/_/x/config", { check_after_secs = 0 })
      -- initialize is the 1st request under /2/media/upload/, the 2nd APPEND the 3rd
      sb:fault { host = "api.x.com", method = "POST", path = "/2/media/upload/*", nth = 3, status = 429,
        retry_after = 1 }
      local c = client()
      local res = assert(c:twitter(accounts.twitter):video {
        video = { data = mp4(2 * CHUNK + 1000), content_type = "video/mp4" }, chunk_size = CHUNK })
      assert.are.equal("video", res.object)
      assert.are.equal("succeeded", res.state)
      local id = res.media_id
      assert.are.equal(1, #journal { path = "/2/media/upload/initialize" })
      local appends = journal { path = "/2/media/upload/" .. id .. "/append" }
      assert.are.equal(4, #appends)
      assert.are.same({ 200, 429, 200, 200 }, { appends[1].status, appends[2].status, appends[3].status,
        appends[4].status })
      assert.is_number(appends[2].fault)
      assert.are.equal(appends[2].body_size, appends[3].body_size)     -- the same segment, again
      assert.is_true(appends[4].body_size < appends[3].body_size)
      assert.are.same({ 0, 1, 2 }, control("GET", "/_/x/media/" .. id).appends)
      c:close()
    end)

    it("re-sends a segment whose connection broke, not the whole upload", function()
      control("POST", "/_/x/config", { check_after_secs = 0 })
      sb:fault { host = "api.x.com", method = "POST", path = "/2/media/upload/*", nth = 3,
        drop_after_bytes = 1000 }
      local c = client()
      local res = assert(c:twitter(accounts.twitter):video {
        video = { data = mp4(2 * CHUNK + 1000), content_type = "video/mp4" }, chunk_size = CHUNK })
      local id = res.media_id
      assert.are.equal(1, #journal { path = "/2/media/upload/initialize" })
      local appends = journal { path = "/2/media/upload/" .. id .. "/append" }
      assert.are.equal(4, #appends)
      assert.are.equal(444, appends[2].status)
      assert.are.equal(200, appends[3].status)
      assert.are.same({ 0, 1, 2 }, control("GET", "/_/x/media/" .. id).appends)
      assert.are.equal(1, #journal { path = "/2/media/upload/" .. id .. "/finalize" })
      c:close()
    end)

    it("resumes a failed upload from the last acknowledged segment (resume_dir)", function()
      control("POST", "/_/x/config", { check_after_secs = 0 })
      local dir = sh("mktemp -d"):match("^%s*(.-)%s*$")
      sb:fault { host = "api.x.com", method = "POST", path = "/2/media/upload/*", nth = 3,
        drop_after_bytes = 0 }
      local c = client { resume_dir = dir, retries = 0 }
      local video = { data = mp4(2 * CHUNK + 1000), content_type = "video/mp4" }
      local tw = c:twitter(accounts.twitter)
      local res, msg, err = tw:video { video = video, chunk_size = CHUNK }
      assert.is_nil(res)
      assert.are.equal("transport", err.kind, msg)
      res = assert(tw:video { video = video, chunk_size = CHUNK })
      assert.are.equal(1, #journal { path = "/2/media/upload/initialize" })
      local appends = journal { path = "/2/media/upload/" .. res.media_id .. "/append" }
      assert.are.equal(4, #appends)
      assert.are.same({ 0, 1, 2 }, control("GET", "/_/x/media/" .. res.media_id).appends)
      assert.are.equal("", sh("ls -A '" .. dir .. "'"))            -- state cleared once done
      sh("rm -rf '" .. dir .. "'")
      c:close()
    end)

    it("maps processing that fails with InvalidMedia to kind unsupported", function()
      control("POST", "/_/x/config", { check_after_secs = 0 })
      local c = client()
      local res, msg, err = c:twitter(accounts.twitter):video {
        video = { data = ("not a video "):rep(100), content_type = "video/mp4" }, message = "never" }
      assert.is_nil(res)
      assert.are.equal("unsupported", err.kind, msg)
      assert.matches("Unsupported video format", msg, 1, true)
      assert.is_true(#journal({ method = "GET", path = "/2/media/upload" }, 1) >= 1)
      assert.are.equal(0, #sb:requests { path = "/2/tweets" })
      c:close()
    end)

    it("refuses a segment after finalize, and segments out of order", function()
      local c = client()
      local tok = accounts.twitter.bearer_token
      local function call(path, body, ctype)
        return assert(c:request { method = "POST", url = "https://api.x.com/2/media/upload" .. path,
          headers = { { "Authorization", "Bearer " .. tok }, ctype and { "Content-Type", ctype } or nil },
          body = body })
      end
      local init = call("/initialize", '{"media_type":"video/mp4","total_bytes":4,"media_category":"tweet_video"}',
        "application/json")
      local id = json.decode(init.body).data.id
      local function seg(i, data)
        return call("/" .. id .. "/append", { multipart = { { name = "segment_index", data = tostring(i) },
          { name = "media", data = data, filename = "blob", content_type = "application/octet-stream" } } })
      end
      assert.are.equal(400, seg(1, "ab").status)                 -- gap: segment 0 first
      assert.are.equal(200, seg(0, "ab").status)
      assert.are.equal(400, call("/" .. id .. "/finalize").status)  -- 2 of 4 bytes
      assert.are.equal(200, seg(1, "cd").status)
      assert.are.equal(200, call("/" .. id .. "/finalize").status)
      local late = seg(2, "ef")
      assert.are.equal(400, late.status)
      local m = require("socialpush.providers.twitter").map_error { status = late.status, headers = late.headers,
        json = json.decode(late.body) }
      assert.are.equal("invalid_argument", m.kind)
      c:close()
    end)
  end)
end)
