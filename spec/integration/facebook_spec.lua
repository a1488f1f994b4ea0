-- socialpush.facebook end to end through the sandbox (HTTPS on loopback): every operation
-- succeeds with its request checked in the journal and the sandbox state, and is refused
-- with the right kind; the retired ones in both modes; create calls are never re-sent
-- after a timeout; the resumable video upload resumes a broken chunk and waits out
-- Retry-After. Every wait is bounded.
local helpers = require "spec_helpers"
local sign = require "socialpush.sign"
local json = require "socialpush.json"

local sb, acc, PAGE, GROUP
local tmpdir, picture_file, video_file
local WINDOW = 1048576
local VIDEO_SIZE = 2 * WINDOW + WINDOW / 2      -- three server windows

local function sh(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("*a")
  p:close()
  return out
end

local function client(opts) return helpers.client(sb, opts) end

local function creds(t)
  local out = {}
  for k, v in pairs(acc.facebook) do out[k] = v end
  for k, v in pairs(t or {}) do out[k] = v end
  return out
end

local function journal(filter, min, c) return helpers.journal(sb, filter, min, c) end

-- a Graph create call as the journal shows it: method, host, path, masked auth and proof
local function assert_graph(e, host, path, status)
  assert.are.equal("POST", e.method)
  assert.are.equal(host, e.host)
  assert.are.equal(path, e.path)
  assert.are.equal("Bearer ***", e.headers.authorization)
  assert.matches("appsecret_proof=***", e.query, 1, true)
  assert.are.equal(status or 200, e.status)
  assert.is_true(e.body_size > 0)
end

-- what the sandbox stored for an object id (GET /{id})
local function object(c, id)
  local url = "https://graph.facebook.com/v25.0/" .. id .. "?appsecret_proof="
    .. sign.appsecret_proof(acc.facebook.access_token, acc.facebook.app_secret)
  local res = assert(c:request { url = url, headers = { { "Authorization", "Bearer " .. acc.facebook.access_token } } })
  assert.are.equal(200, res.status, res.body)
  return assert(json.decode(res.body))
end

local function file_sha256(path, offset, length)
  local f = assert(io.open(path, "rb"))
  f:seek("set", offset or 0)
  local data = f:read(length or "*a")
  f:close()
  return sign.hex(sign.sha256(data))
end

local function vpath(target) return "/v25.0/" .. target .. "/videos" end

describe("facebook #integration", function()
  setup(function()
    sb = helpers.sandbox()
    acc = sb:accounts()
    PAGE, GROUP = acc.facebook.page_id, acc.facebook.group_id
    tmpdir = sh("mktemp -d"):match("^%s*(.-)%s*$")
    picture_file = tmpdir .. "/picture.png"
    local f = assert(io.open(picture_file, "wb"))
    f:write("\137PNG\r\n\26\n" .. sign.random(4000))
    f:close()
    video_file = tmpdir .. "/video.mp4"
    sh(("head -c %d /dev/urandom > '%s'"):format(VIDEO_SIZE, video_file))
  end)

  teardown(function()
    if tmpdir and tmpdir:match("^/tmp/") then sh("rm -rf '" .. tmpdir .. "'") end
  end)

  before_each(function() sb:reset() end)

  describe("page_post", function()
    it("posts to /{page}/feed", function()
      local c = client()
      local res = assert(c:facebook(acc.facebook):page_post { page_id = PAGE, message = "Hello World!",
        link = "https://example.com/" })
      assert.are.equal("post", res.object)
      assert.matches("^" .. PAGE .. "_%d+$", res.post_id)
      assert.are.equal("https://www.facebook.com/" .. res.post_id, res.post_location)
      local j = journal { host = "graph.facebook.com" }
      assert.are.equal(1, #j)
      assert_graph(j[1], "graph.facebook.com", "/v25.0/" .. PAGE .. "/feed")
      assert.are.equal("application/x-www-form-urlencoded", j[1].headers["content-type"])
      local o = object(c, res.post_id)
      assert.are.equal("Hello World!", o.message)
      assert.are.equal("https://example.com/", o.link)
      c:close()
    end)

    it("attaches an unpublished page picture", function()
      local c = client()
      local fb = c:facebook(acc.facebook)
      local pic = assert(fb:page_picture { page_id = PAGE, picture = picture_file, create_post = false })
      assert.is_nil(pic.post_location)
      local res = assert(fb:page_post { page_id = PAGE, message = "with a picture", attachments = { pic.post_id } })
      local o = object(c, res.post_id)
      assert.are.same({ { media_fbid = pic.post_id } }, o.attached_media)
      c:close()
    end)

    it("maps refusals: duplicate, unknown page, expired token, wrong app secret, no proof", function()
      local c = client()
      local fb = c:facebook(acc.facebook)
      assert(fb:page_post { page_id = PAGE, message = "same text" })
      local _, msg, err = fb:page_post { page_id = PAGE, message = "same text" }
      assert.are.equal("duplicate", err.kind, msg)
      assert.are.equal(506, err.code)
      assert.matches("^A%w+$", err.request_id)
      _, msg, err = fb:page_post { page_id = "4242424242", message = "x" }
      assert.are.equal("not_found", err.kind, msg)
      _, msg, err = c:facebook(acc.expired.facebook):page_post { page_id = PAGE, message = "x" }
      assert.are.equal("auth", err.kind, msg)
      assert.are.equal(190, err.code)
      assert.is_nil(msg:find(acc.expired.facebook.access_token, 1, true))
      _, msg, err = c:facebook(creds { app_secret = "not-the-app-secret" }):page_post { page_id = PAGE, message = "y" }
      assert.are.equal("invalid_argument", err.kind, msg)
      assert.are.equal("app_secret", err.field)
      _, msg, err = c:facebook(creds { app_secret = false }):page_post { page_id = PAGE, message = "z" }
      assert.are.equal("invalid_argument", err.kind, msg)
      assert.matches("appsecret_proof", msg, 1, true)
      assert.are.equal(6, #journal { host = "graph.facebook.com" })
      c:close()
    end)

    it("refuses link and attachments together without sending", function()
      local c = client()
      local _, _, err = c:facebook(acc.facebook):page_post { page_id = PAGE, link = "https://e.com/",
        attachments = { "123" } }
      assert.are.equal("invalid_argument", err.kind)
      assert.are.equal("attachments", err.field)
      assert.are.equal(0, #journal {})
      c:close()
    end)

    it("reads a Pages throttle with X-Business-Use-Case-Usage into retry_after", function()
      local c = client()
      local buc = json.encode { [PAGE] = { { type = "pages", call_count = 100, total_cputime = 10, total_time = 10,
        estimated_time_to_regain_access = 3 } } }
      sb:fault { host = "graph.facebook.com", method = "POST", path = "/v25.0/" .. PAGE .. "/feed", status = 400,
        headers = { ["X-Business-Use-Case-Usage"] = buc },
        body = { error = { message = "(#80001) There have been too many calls to this Page account.",
          type = "OAuthException", code = 80001, fbtrace_id = "AthrottleXY" } } }
      local _, msg, err = c:facebook(acc.facebook):page_post { page_id = PAGE, message = "x" }
      assert.are.equal("rate_limited", err.kind, msg)
      assert.are.equal(180, err.retry_after)
      assert.are.equal("AthrottleXY", err.request_id)
      assert.are.equal(1, #journal { host = "graph.facebook.com" })   -- a 400 is not retried
      c:close()
    end)

    it("carries X-App-Usage on every Graph answer", function()
      local c = client()
      local res = assert(c:request { method = "POST", url = "https://graph.facebook.com/v25.0/" .. PAGE .. "/feed",
        body = "message=raw" })
      assert.are.equal(400, res.status)   -- no token
      local usage = assert(json.decode(res.headers["x-app-usage"]))
      assert.is_number(usage.call_count)
      assert.are.equal("v25.0", res.headers["facebook-api-version"])
      local body = assert(json.decode(res.body))
      assert.are.equal("OAuthException", body.error.type)
      assert.are.equal(104, body.error.code)
      c:close()
    end)

    it("never re-sends a create POST after a timeout", function()
      local c = client { timeout = 0.5 }
      local path = "/v25.0/" .. PAGE .. "/feed"
      sb:fault { host = "graph.facebook.com", method = "POST", path = path, delay_ms = 1500 }
      local res, msg, err = c:facebook(acc.facebook):page_post { page_id = PAGE, message = "only once" }
      assert.is_nil(res)
      assert.are.equal("timeout", err.kind, msg)
      assert.are.equal("facebook.page_post", err.operation)
      -- the delayed request is journaled when the server finishes it; a re-send would
      -- have been journaled before that
      assert.are.equal(1, #journal({ path = path }, 1, c))
      c:sleep(0.3)
      assert.are.equal(1, #journal { path = path })
      c:close()
    end)
  end)

  describe("page_picture", function()
    it("sends a URL picture as url= with the description as message", function()
      local c = client()
      local res = assert(c:facebook(acc.facebook):page_picture { page_id = PAGE, picture = { url = acc.media.picture },
        description = "from a URL" })
      assert.are.equal("picture", res.object)
      assert.matches("^" .. PAGE .. "_%d+$", res.post_id)
      assert.are.equal("https://www.facebook.com/" .. res.post_id, res.post_location)
      local j = journal { host = "graph.facebook.com" }
      assert.are.equal(1, #j)
      assert_graph(j[1], "graph.facebook.com", "/v25.0/" .. PAGE .. "/photos")
      local photo = object(c, res.raw.id)
      assert.are.equal(acc.media.picture, photo.url)
      assert.are.equal("from a URL", photo.message)
      assert.is_true(photo.published)
      c:close()
    end)

    it("uploads a file as the multipart source part", function()
      local c = client()
      local res = assert(c:facebook(acc.facebook):page_picture { page_id = PAGE, picture = picture_file,
        description = "from a file" })
      local j = journal { host = "graph.facebook.com" }
      assert_graph(j[1], "graph.facebook.com", "/v25.0/" .. PAGE .. "/photos")
      assert.matches("^multipart/form%-data", j[1].headers["content-type"])
      assert.is_true(j[1].body_size > 4008)
      local photo = object(c, res.raw.id)
      assert.are.equal(file_sha256(picture_file), photo.sha256)
      assert.are.equal("image/png", photo.content_type)
      assert.are.equal(res.post_id, photo.post_id)
      c:close()
    end)

    it("maps the server's refusal of a file that is no image", function()
      local c = client()
      local _, msg, err = c:facebook(acc.facebook):page_picture { page_id = PAGE,
        picture = { data = "this is not an image", content_type = "image/png", filename = "x.png" } }
      assert.are.equal("invalid_argument", err.kind, msg)
      assert.are.equal(324, err.code)
      assert.are.equal("picture", err.field)
      c:close()
    end)
  end)

  describe("page_video", function()
    it("uploads with start, the server's transfer windows and finish", function()
      local c = client()
      local res = assert(c:facebook(acc.facebook):page_video { page_id = PAGE, video = video_file,
        title = "Title", description = "Description" })
      assert.are.equal("video", res.object)
      assert.are.equal("https://www.facebook.com/" .. PAGE .. "/videos/" .. res.post_id, res.post_location)
      local j = journal { host = "graph-video.facebook.com" }
      assert.are.equal(5, #j)
      for _, e in ipairs(j) do assert_graph(e, "graph-video.facebook.com", vpath(PAGE)) end
      assert.are.equal("application/x-www-form-urlencoded", j[1].headers["content-type"])
      assert.is_true(j[1].body_size < 100)                              -- start
      for i = 2, 4 do assert.matches("^multipart/form%-data", j[i].headers["content-type"]) end
      assert.is_true(j[2].body_size > WINDOW and j[3].body_size > WINDOW)
      assert.is_true(j[4].body_size > WINDOW / 2 and j[4].body_size < WINDOW)
      assert.is_true(j[5].body_size < 200)                              -- finish
      local v = object(c, res.post_id)
      assert.are.equal("Title", v.title)
      assert.are.equal("Description", v.description)
      assert.are.equal(VIDEO_SIZE, v.size)
      local t = v.sandbox.transfers
      assert.are.equal(3, #t)
      for i, rec in ipairs(t) do
        local off = (i - 1) * WINDOW
        assert.are.equal(off, rec.start_offset)
        assert.are.equal(file_sha256(video_file, off, rec.size), rec.sha256)
      end
      c:close()
    end)

    it("sends a URL video as file_url", function()
      local c = client()
      local res = assert(c:facebook(acc.facebook):page_video { page_id = PAGE, video = { url = acc.media.video },
        title = "By URL" })
      local j = journal {}
      assert.are.equal(1, #j)
      assert_graph(j[1], "graph-video.facebook.com", vpath(PAGE))
      local v = object(c, res.post_id)
      assert.are.equal(acc.media.video, v.file_url)
      assert.are.equal("By URL", v.title)
      c:close()
    end)

    it("maps a refused start (expired token) and sends nothing more", function()
      local c = client()
      local _, msg, err = c:facebook(acc.expired.facebook):page_video { page_id = PAGE, video = video_file }
      assert.are.equal("auth", err.kind, msg)
      assert.are.equal(1, #journal {})
      c:close()
    end)

    it("resumes a broken transfer chunk from the acknowledged offset", function()
      local c = client()
      -- 1 start, 2 first transfer, 3 second transfer: dropped after a few bytes
      sb:fault { host = "graph-video.facebook.com", method = "POST", path = vpath(PAGE), nth = 3,
        drop_after_bytes = 4096 }
      local res = assert(c:facebook(acc.facebook):page_video { page_id = PAGE, video = video_file, title = "Resumed" })
      local j = journal { host = "graph-video.facebook.com" }
      local statuses = {}
      for i, e in ipairs(j) do statuses[i] = e.status end
      assert.are.same({ 200, 200, 444, 200, 200, 200 }, statuses)
      local forms = {}     -- start and finish are form-encoded, transfers multipart
      for i, e in ipairs(j) do
        if e.headers["content-type"] == "application/x-www-form-urlencoded" then forms[#forms + 1] = i end
      end
      assert.are.same({ 1, #j }, forms)     -- one start (first), one finish (last)
      -- the server saw the second window once, from offset WINDOW: not restarted, no resync needed
      local t = object(c, res.post_id).sandbox.transfers
      assert.are.equal(3, #t)
      for i, rec in ipairs(t) do
        assert.are.equal((i - 1) * WINDOW, rec.start_offset)
        assert.is_nil(rec.refused)
        assert.are.equal(file_sha256(video_file, rec.start_offset, rec.size), rec.sha256)
      end
      c:close()
    end)

    it("waits out 503 and 429 with Retry-After on transfer chunks", function()
      local c = client()
      sb:fault { host = "graph-video.facebook.com", method = "POST", path = vpath(PAGE), nth = 3, status = 503,
        retry_after = 1 }
      sb:fault { host = "graph-video.facebook.com", method = "POST", path = vpath(PAGE), nth = 5, status = 429,
        retry_after = 1 }
      local res = assert(c:facebook(acc.facebook):page_video { page_id = PAGE, video = video_file })
      local statuses = {}
      for i, e in ipairs(journal { host = "graph-video.facebook.com" }) do statuses[i] = e.status end
      assert.are.same({ 200, 200, 503, 200, 429, 200, 200 }, statuses)
      local t = object(c, res.post_id).sandbox.transfers
      assert.are.equal(3, #t)
      for i, rec in ipairs(t) do assert.are.equal((i - 1) * WINDOW, rec.start_offset) end
      c:close()
    end)
  end)

  -- the operations Facebook removed: the historic request, refused today, served in historic mode
  describe("retired operations", function()
    local cases = {
      { "post", function() return { message = "on my profile" } end, "graph.facebook.com", "/v25.0/me/feed",
        "page_post", 200 },
      { "picture", function() return { picture = picture_file, description = "mine" } end, "graph.facebook.com",
        "/v25.0/me/photos", "page_picture", 200 },
      { "video", function() return { video = video_file, title = "mine" } end, "graph-video.facebook.com",
        "/v25.0/me/videos", "page_video", 200 },
      { "group_post", function() return { group_id = GROUP, message = "to the group" } end, "graph.facebook.com",
        "/v25.0/" .. GROUP .. "/feed", "page_post", 3 },
      { "group_picture", function() return { group_id = GROUP, picture = { url = acc.media.picture } } end,
        "graph.facebook.com", "/v25.0/" .. GROUP .. "/photos", "page_picture", 3 },
      { "group_video", function() return { group_id = GROUP, video = { url = acc.media.video } } end,
        "graph-video.facebook.com", "/v25.0/" .. GROUP .. "/videos", "page_video", 3 },
    }
    for _, case in ipairs(cases) do
      local name, args, host, path, instead, code = case[1], case[2], case[3], case[4], case[5], case[6]

      it(name .. " today: the historic request, refused as deprecated naming " .. instead, function()
        local c = client()
        local fb = c:facebook(acc.facebook)
        local res, msg, err = fb[name](fb, args())
        assert.is_nil(res)
        assert.are.equal("deprecated", err.kind, msg)
        assert.are.equal(code, err.code)
        assert.matches("use " .. instead .. " instead", msg, 1, true)
        local j = journal {}
        assert.are.equal(1, #j)
        assert_graph(j[1], host, path, 403)
        c:close()
      end)

      it(name .. " in historic mode succeeds", function()
        sb:mode { facebook = "historic" }
        local c = client()
        local fb = c:facebook(acc.facebook)
        local res = assert(fb[name](fb, args()))
        assert.are.equal((name:gsub("^group_", "")), res.object)
        local j = journal {}
        for _, e in ipairs(j) do assert_graph(e, host, path) end
        local id = res.object == "picture" and res.raw.id or res.post_id
        local o = object(c, id)
        local owner = name:find("^group_") and GROUP or acc.facebook.user_id
        assert.are.equal(owner, o.from)
        if res.object == "post" then assert.are.equal(args().message, o.message) end
        c:close()
      end)
    end
  end)

  describe("stream_publish", function()
    local ATTACHMENT = { name = "socialpush", href = "https://example.com/", caption = "{*actor*} posted",
      properties = { site = { text = "example", href = "https://example.com/" } },
      media = { { type = "image", src = "https://example.com/a.png", href = "https://example.com/" } } }
    local LINKS = { { text = "Read", href = "https://example.com/read" } }

    it("today: the REST API refuses; deprecated naming page_post", function()
      local c = client()
      local res, msg, err = c:facebook(acc.facebook):stream_publish { message = "hello 2009" }
      assert.is_nil(res)
      assert.are.equal("deprecated", err.kind, msg)
      assert.are.equal(12, err.code)
      assert.matches("use page_post instead", msg, 1, true)
      local j = journal {}
      assert.are.equal(1, #j)
      assert.are.equal("api.facebook.com", j[1].host)
      assert.are.equal("/restserver.php", j[1].path)
      assert.are.equal(200, j[1].status)
      c:close()
    end)

    it("historic: publishes with the MD5 sig and returns uid_postid", function()
      sb:mode { facebook = "historic" }
      local c = client()
      local res = assert(c:facebook(acc.facebook):stream_publish { message = "hello 2009", attachment = ATTACHMENT,
        action_links = LINKS, target_id = PAGE })
      assert.are.equal("post", res.object)
      assert.matches("^" .. PAGE .. "_%d+$", res.post_id)
      assert.are.equal("https://www.facebook.com/" .. res.post_id, res.post_location)
      local j = journal {}
      assert.are.equal(1, #j)
      assert.are.equal("POST", j[1].method)
      assert.are.equal("/restserver.php", j[1].path)
      assert.is_nil(j[1].headers.authorization)
      assert.are.equal("application/x-www-form-urlencoded", j[1].headers["content-type"])
      local o = object(c, res.post_id)
      assert.are.equal("hello 2009", o.message)
      assert.are.equal(acc.facebook.legacy.uid, o.from)
      assert.are.same(ATTACHMENT, o.attachment)
      assert.are.same(LINKS, o.action_links)
      c:close()
    end)

    it("historic: maps a bad signature, an expired session and an invisible target", function()
      sb:mode { facebook = "historic" }
      local c = client()
      local fb = c:facebook(acc.facebook)
      local _, msg, err = fb:stream_publish { message = "x", secret = "0000000000000000wrong" }
      assert.are.equal("auth", err.kind, msg)
      assert.are.equal(104, err.code)
      _, msg, err = fb:stream_publish { message = "x", session_key = acc.expired.facebook.legacy.session_key }
      assert.are.equal("auth", err.kind, msg)
      assert.are.equal(102, err.code)
      assert.is_nil(msg:find(acc.expired.facebook.legacy.session_key, 1, true))
      _, msg, err = fb:stream_publish { message = "x", target_id = "1234567" }
      assert.are.equal("permission", err.kind, msg)
      assert.are.equal(210, err.code)
      _, msg, err = fb:stream_publish { message = "x", attachment = { properties = { bad = 5 } } }
      assert.are.equal("invalid_argument", err.kind, msg)
      assert.are.equal(100, err.code)
      c:close()
    end)
  end)

  it("answers client:push with OneAll resource names", function()
    local c = client()
    local res = assert(c:push(acc.facebook, "facebook/page/picture", { page_id = PAGE, url = acc.media.picture }))
    assert.are.equal("picture", res.object)
    assert.are.equal(1, #journal { path = "/v25.0/" .. PAGE .. "/photos" })
    c:close()
  end)
end)
