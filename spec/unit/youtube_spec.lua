-- socialpush.youtube with a stub client: request building, the resumable upload's
-- decisions (follow Range, status query after a broken chunk, 404 restart, resume
-- state), input checks before any byte, and every map_error row.
local youtube = require "socialpush.providers.youtube"
local time = require "socialpush.time"
local errors = require "socialpush.errors"
local json = require "socialpush.json"

local TOKEN = "ya29.unit-test-token-0123456789"
local SESSION = "https://www.googleapis.com/upload/youtube/v3/videos?uploadType=resumable&upload_id=UP1"
  .. "&part=snippet,status"
local UNIT = 262144

local stub_client = require "helpers.stub_client"

local function handle(responses, opts, creds)
  local c = stub_client(responses, opts)
  return youtube.new(c, creds or { access_token = TOKEN }), c
end

local function header(req, name)
  for _, kv in ipairs(req.headers) do
    if kv[1]:lower() == name:lower() then return kv[2] end
  end
end

local function tmpfile(bytes)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write(bytes)
  f:close()
  return path
end

local function mp4(n)   -- an ftyp box then filler: sniffed as video/mp4
  local head = "\0\0\0\32ftypisom\0\0\2\0isomiso2avc1mp41"
  return head .. string.rep("v", n - #head)
end

local PNG = "\137PNG\r\n\26\n" .. string.rep("p", 100)

local function video_reply(id)
  return { status = 201, json = { kind = "youtube#video", id = id or "abcdefghijk",
    status = { uploadStatus = "uploaded" } } }
end

local INIT = { status = 200, headers = { Location = SESSION } }
local function r308(last) return { status = 308, headers = last and { Range = "bytes=0-" .. last } or {} } end

local function gerr(status, reason, message, headers)
  return { status = status, headers = headers, json = { error = { code = status, message = message or reason,
    errors = { { reason = reason, domain = "youtube.api", message = message or reason } } } } }
end

describe("socialpush.youtube", function()
  local files = {}
  local function file_of(bytes)
    local p = tmpfile(bytes)
    files[#files + 1] = p
    return p
  end
  after_each(function()
    for _, p in ipairs(files) do os.remove(p) end
    files = {}
  end)

  describe("video", function()
    it("initiates a resumable session and streams the file in chunks", function()
      local path = file_of(mp4(UNIT * 2 + 1000))
      local total = UNIT * 2 + 1000
      local yt, c = handle { INIT, r308(UNIT - 1), r308(2 * UNIT - 1), video_reply("dQw4w9WgXcQ") }
      local res = assert(yt:video { video = { file = path }, title = "Clip", description = "About it",
        tags = { "one", "two words" }, privacy = "unlisted", category_id = 22, made_for_kids = false,
        notify_subscribers = false, chunk_size = UNIT })
      assert.are.same({ provider = "youtube", object = "video", post_id = "dQw4w9WgXcQ",
        post_location = "https://www.youtube.com/watch?v=dQw4w9WgXcQ" },
        { provider = res.provider, object = res.object, post_id = res.post_id, post_location = res.post_location })
      assert.are.equal("uploaded", res.raw.status.uploadStatus)

      local init = c.sent[1]
      assert.are.equal("POST", init.method)
      assert.are.equal("https://www.googleapis.com/upload/youtube/v3/videos?uploadType=resumable"
        .. "&part=snippet%2Cstatus&notifySubscribers=false", init.url)
      assert.are.equal("Bearer " .. TOKEN, header(init, "Authorization"))
      assert.are.equal(tostring(total), header(init, "X-Upload-Content-Length"))
      assert.are.equal("video/mp4", header(init, "X-Upload-Content-Type"))
      assert.are.equal("application/json; charset=UTF-8", header(init, "Content-Type"))
      assert.are.same({ snippet = { title = "Clip", description = "About it", tags = { "one", "two words" },
        categoryId = "22" }, status = { privacyStatus = "unlisted", selfDeclaredMadeForKids = false } },
        json.decode(init.body))

      assert.are.equal(4, #c.sent)
      local ranges = {}
      for i = 2, 4 do
        local put = c.sent[i]
        assert.are.equal("PUT", put.method)
        assert.are.equal(SESSION, put.url)
        assert.is_false(put.idempotent)
        -- streamed from the file: a {file, offset, length} body, never the bytes
        assert.are.same({ file = path, offset = (i - 2) * UNIT, length = i == 4 and 1000 or UNIT }, put.body)
        ranges[#ranges + 1] = header(put, "Content-Range")
      end
      assert.are.same({ "bytes 0-262143/" .. total, "bytes 262144-524287/" .. total,
        "bytes 524288-" .. (total - 1) .. "/" .. total }, ranges)
    end)

    it("follows the server's Range when it keeps less than was sent", function()
      local data = mp4(UNIT * 3)
      local yt, c = handle { INIT, r308(UNIT - 1), video_reply() }
      assert(yt:video { video = { data = data }, title = "t", chunk_size = 2 * UNIT })
      assert.are.equal("bytes 0-524287/786432", header(c.sent[2], "Content-Range"))
      -- only 256 KiB were kept: the next chunk starts there, not at 512 KiB
      assert.are.equal("bytes 262144-786431/786432", header(c.sent[3], "Content-Range"))
      assert.are.equal(data:sub(UNIT + 1), c.sent[3].body)
      assert.are.equal(3, #c.sent)
    end)

    it("asks for the status when the server holds every byte but answers 308", function()
      local yt, c = handle { INIT, r308(999), video_reply() }
      assert(yt:video { video = { data = mp4(1000) }, title = "t" })
      assert.are.equal("bytes */1000", header(c.sent[3], "Content-Range"))
      local yt2 = handle { INIT, r308(999), r308(999) }
      local res, _, err = yt2:video { video = { data = mp4(1000) }, title = "t" }
      assert.is_nil(res)
      assert.are.equal("provider", err.kind)
    end)

    it("resumes a broken chunk from the offset a status query reports", function()
      local data = mp4(UNIT * 3)
      local broken = errors.new { kind = "transport", message = "connection reset by peer" }
      local yt, c = handle { INIT, r308(UNIT - 1), { fail = broken }, r308(UNIT - 1), r308(2 * UNIT - 1),
        video_reply() }
      local res = assert(yt:video { video = { data = data }, title = "t", chunk_size = UNIT })
      assert.are.equal("abcdefghijk", res.post_id)
      local q = c.sent[4]
      assert.are.equal("PUT", q.method)
      assert.are.equal(SESSION, q.url)
      assert.are.equal("bytes */786432", header(q, "Content-Range"))
      assert.are.equal("", q.body)
      assert.are.equal("bytes 262144-524287/786432", header(c.sent[5], "Content-Range"))
      assert.are.equal(1, #c.slept)
      assert.is_true(c.slept[1] > 0)
      local posts = 0
      for _, r in ipairs(c.sent) do if r.method == "POST" then posts = posts + 1 end end
      assert.are.equal(1, posts)   -- resumed, not restarted
    end)

    it("resumes after a 5xx and takes Retry-After from it", function()
      local yt, c = handle { INIT, gerr(503, "backendError", "Backend Error", { ["Retry-After"] = "2" }),
        r308(nil), video_reply() }
      assert(yt:video { video = { data = mp4(1000) }, title = "t" })
      assert.are.same({ 2 }, c.slept)
      assert.are.equal("bytes */1000", header(c.sent[3], "Content-Range"))
      assert.are.equal("bytes 0-999/1000", header(c.sent[4], "Content-Range"))   -- no Range: from 0
    end)

    it("gives up on a persistent 503 after max_recoveries status queries: one retry policy", function()
      local q = { INIT }
      for _ = 1, youtube.max_recoveries + 1 do q[#q + 1] = gerr(503, "backendError", "Backend Error") end
      local yt, c = handle(q)
      local res, _, err = yt:video { video = { data = mp4(1000) }, title = "t" }
      assert.is_nil(res)
      assert.are.equal("server", err.kind)
      assert.are.equal(2 + youtube.max_recoveries, #c.sent)      -- initiate, the chunk, the queries
      for i = 2, #c.sent do assert.are.equal(0, c.sent[i].retries) end   -- the client never retries inside
      assert.are.equal(youtube.max_recoveries, #c.slept)
    end)

    it("takes the video from the status query when the last chunk's reply is lost", function()
      local lost = errors.new { kind = "timeout", message = "operation timed out" }
      local yt, c = handle { INIT, { fail = lost }, { status = 200, json = { id = "dQw4w9WgXcQ" } } }
      local res = assert(yt:video { video = { data = mp4(1000) }, title = "t" })
      assert.are.equal("dQw4w9WgXcQ", res.post_id)
      assert.are.equal(3, #c.sent)
      assert.are.equal("bytes */1000", header(c.sent[3], "Content-Range"))
    end)

    it("downloads a {url=} video first and removes the download afterwards", function()
      local bytes = mp4(5000)
      local yt, c = handle { { status = 200, headers = { ["Content-Type"] = "video/mp4" }, body = bytes },
        INIT, video_reply() }
      assert(yt:video { video = { url = "https://media.example/clip.mp4" }, title = "t" })
      assert.are.equal("GET", c.sent[1].method)
      assert.are.equal("https://media.example/clip.mp4", c.sent[1].url)
      assert.are.equal("5000", header(c.sent[2], "X-Upload-Content-Length"))
      local body = c.sent[3].body
      assert.are.equal(0, body.offset)
      assert.are.equal(5000, body.length)
      assert.is_nil(io.open(body.file, "rb"))     -- the temporary file is gone

      local yt2, c2 = handle { { status = 200, headers = { ["Content-Type"] = "image/png" }, body = PNG } }
      local res, _, err = yt2:video { video = { url = "https://media.example/clip" }, title = "t" }
      assert.is_nil(res)
      assert.are.same({ "invalid_argument", "video" }, { err.kind, err.field })
      assert.are.equal(1, #c2.sent)
    end)

    it("gives up after max_recoveries broken chunks", function()
      local q = {}
      q[1] = INIT
      for _ = 1, youtube.max_recoveries + 1 do
        q[#q + 1] = gerr(500, "backendError")
        q[#q + 1] = r308(nil)
      end
      table.remove(q)
      local yt, c = handle(q)
      local res, msg, err = yt:video { video = { data = mp4(1000) }, title = "t" }
      assert.is_nil(res)
      assert.are.equal("server", err.kind)
      assert.matches("youtube.video", msg, 1, true)
      assert.are.equal(youtube.max_recoveries, #c.slept)
    end)

    it("starts a new session once when the session URI answers 404", function()
      local yt, c = handle { INIT, gerr(404, "notFound"), INIT, video_reply() }
      assert(yt:video { video = { data = mp4(1000) }, title = "t" })
      assert.are.equal("POST", c.sent[3].method)
      assert.are.equal("bytes 0-999/1000", header(c.sent[4], "Content-Range"))

      local yt2 = handle { INIT, gerr(404, "notFound"), INIT, gerr(404, "notFound") }
      local res, _, err = yt2:video { video = { data = mp4(1000) }, title = "t" }
      assert.is_nil(res)
      assert.are.equal("not_found", err.kind)
    end)

    it("stops at a 401 on a chunk with an auth error", function()
      local yt, c = handle { INIT, gerr(401, "authError", "Invalid Credentials") }
      local res, msg, err = yt:video { video = { data = mp4(1000) }, title = "t" }
      assert.is_nil(res)
      assert.are.equal("auth", err.kind)
      assert.are.equal(2, #c.sent)
      assert.is_nil(msg:find(TOKEN, 1, true))
    end)

    it("stops when the server keeps none of the bytes", function()
      local q = { INIT }
      for _ = 1, youtube.max_stalls + 1 do q[#q + 1] = r308(nil) end
      local yt = handle(q)
      local res, _, err = yt:video { video = { data = mp4(UNIT * 2) }, title = "t", chunk_size = UNIT }
      assert.is_nil(res)
      assert.are.equal("provider", err.kind)
    end)

    it("refuses a session URI that is not https on a Google host", function()
      for _, loc in ipairs { "http://www.googleapis.com/upload/youtube/v3/videos?upload_id=1",
        "https://evil.example/upload?upload_id=1", "https://user@www.googleapis.com/x",
        "https://www.googleapis.com.evil.example/x", "" } do
        local yt, c = handle { { status = 200, headers = { Location = loc } } }
        local res, msg, err = yt:video { video = { data = mp4(1000) }, title = "t" }
        assert.is_nil(res)
        assert.are.equal("provider", err.kind)
        assert.matches("session URI", msg, 1, true)
        assert.are.equal(1, #c.sent)     -- no chunk (and no token) went there
      end
      local yt = handle { { status = 200 } }
      local _, _, err = yt:video { video = { data = mp4(1000) }, title = "t" }
      assert.are.equal("provider", err.kind)
      assert.is_true(youtube.session_ok({ creds = {} },
        "https://youtube.googleapis.com:443/upload/youtube/v3/videos?upload_id=x"))
    end)

    it("refuses a reply without a video id (kind decode, as every provider)", function()
      local yt = handle { INIT, { status = 201, json = { kind = "youtube#video" } } }
      local res, _, err = yt:video { video = { data = mp4(1000) }, title = "t" }
      assert.is_nil(res)
      assert.are.equal("decode", err.kind)
    end)

    it("keeps the session in resume_dir and resumes it from another handle", function()
      local dir = os.tmpname()
      os.remove(dir)
      assert(os.execute("mkdir -p " .. dir))
      local path = file_of(mp4(UNIT * 3))
      local args = { video = { file = path }, title = "t", chunk_size = UNIT }
      local yt, c = handle({ INIT, r308(UNIT - 1), gerr(401, "authError") }, { resume_dir = dir })
      local res, _, err = yt:video(args)
      assert.is_nil(res)
      assert.are.equal("auth", err.kind)
      assert.are.equal(3, #c.sent)
      -- a new client (a new process) with the same resume_dir: no second initiate
      local yt2, c2 = handle({ r308(UNIT - 1), r308(2 * UNIT - 1), video_reply() }, { resume_dir = dir })
      assert(yt2:video(args))
      assert.are.equal("PUT", c2.sent[1].method)
      assert.are.equal(SESSION, c2.sent[1].url)
      assert.are.equal("bytes */786432", header(c2.sent[1], "Content-Range"))
      assert.are.equal("bytes 262144-524287/786432", header(c2.sent[2], "Content-Range"))
      -- done: the state is gone, a third upload starts a new session
      local yt3, c3 = handle({ INIT, video_reply() }, { resume_dir = dir })
      assert(yt3:video { video = { file = path }, title = "t" })
      assert.are.equal("POST", c3.sent[1].method)
      -- another title is another upload: not resumed from the same file's state
      local yt4, c4 = handle({ INIT, r308(UNIT - 1), gerr(401, "authError") }, { resume_dir = dir })
      assert.is_nil(yt4:video(args))
      local yt5, c5 = handle({ INIT, video_reply() }, { resume_dir = dir })
      assert(yt5:video { video = { file = path }, title = "other title", chunk_size = UNIT * 4 })
      assert.are.equal("POST", c5.sent[1].method)
      assert.are.equal(3, #c4.sent)
      os.execute("rm -rf " .. dir)
    end)

    it("sets the thumbnail after the upload", function()
      local yt, c = handle { INIT, video_reply("dQw4w9WgXcQ"),
        { status = 200, json = { kind = "youtube#thumbnailSetResponse", items = {} } } }
      local res = assert(yt:video { video = { data = mp4(1000) }, title = "t",
        thumbnail = { data = PNG } })
      assert.is_nil(res.thumbnail_error)
      local t = c.sent[3]
      assert.are.equal("POST", t.method)
      assert.are.equal("https://www.googleapis.com/upload/youtube/v3/thumbnails/set?videoId=dQw4w9WgXcQ"
        .. "&uploadType=media", t.url)
      assert.are.equal("image/png", header(t, "Content-Type"))
      assert.are.equal(PNG, t.body)
    end)

    it("keeps the video when the thumbnail is refused", function()
      local yt = handle { INIT, video_reply("dQw4w9WgXcQ"), gerr(403, "forbidden") }
      local res = assert(yt:video { video = { data = mp4(1000) }, title = "t", thumbnail = { data = PNG } })
      assert.are.equal("dQw4w9WgXcQ", res.post_id)
      assert.are.equal("permission", res.thumbnail_error.kind)
    end)

    it("honours creds.api_host and creds.version", function()
      local yt, c = handle({ { status = 200, headers = { Location = "https://yt.test/upload?upload_id=1" } },
        video_reply() }, nil, { access_token = TOKEN, api_host = "https://yt.test", version = "v9" })
      assert(yt:video { video = { data = mp4(10) }, title = "t" })
      assert.matches("^https://yt%.test/upload/youtube/v9/videos%?", c.sent[1].url)
    end)
  end)

  describe("refuses bad input before any byte is sent", function()
    local long_tags = {}
    for i = 1, 100 do long_tags[i] = "tag" .. (i % 10) end   -- 100 * 4 + 99 commas = 499
    local cases = {
      { "title missing", { video = { data = mp4(10) } }, "title" },
      { "title blank", { video = { data = mp4(10) }, title = "  " }, "title" },
      { "title over 100", { video = { data = mp4(10) }, title = string.rep("é", 101) }, "title" },
      { "title with <", { video = { data = mp4(10) }, title = "a <b>" }, "title" },
      { "description over 5000 bytes", { video = { data = mp4(10) }, title = "t",
        description = string.rep("é", 2501) }, "description" },
      { "description with >", { video = { data = mp4(10) }, title = "t", description = "x > y" }, "description" },
      { "tags over 500", { video = { data = mp4(10) }, title = "t", tags = { string.rep("a", 499), "b" } }, "tags" },
      { "tags with spaces count quotes", { video = { data = mp4(10) }, title = "t",
        tags = { string.rep("a", 497) .. " b" } }, "tags" },
      { "tags not strings", { video = { data = mp4(10) }, title = "t", tags = { 1 } }, "tags" },
      { "privacy unknown", { video = { data = mp4(10) }, title = "t", privacy = "friends" }, "privacy" },
      { "category not numeric", { video = { data = mp4(10) }, title = "t", category_id = "music" }, "category_id" },
      { "made_for_kids not boolean", { video = { data = mp4(10) }, title = "t", made_for_kids = "no" },
        "made_for_kids" },
      { "chunk not a 256 KiB multiple", { video = { data = mp4(10) }, title = "t", chunk_size = 1000 },
        "chunk_size" },
      { "video missing", { title = "t" }, "video" },
      { "video empty", { video = { data = "", content_type = "video/mp4" }, title = "t" }, "video" },
      { "video not a video", { video = { data = PNG }, title = "t" }, "video" },
      { "video file missing", { video = { file = "/nonexistent/clip.mp4" }, title = "t" }, "video" },
      { "thumbnail gif", { video = { data = mp4(10) }, title = "t", thumbnail = { data = "GIF89a..." } },
        "thumbnail" },
      { "thumbnail over 2 MiB", { video = { data = mp4(10) }, title = "t",
        thumbnail = { data = PNG .. string.rep("p", 2097152) } }, "thumbnail" },
    }
    for _, case in ipairs(cases) do
      it("video: " .. case[1], function()
        local yt, c = handle {}
        local res, msg, err = yt:video(case[2])
        assert.is_nil(res)
        assert.are.equal("invalid_argument", err.kind)
        assert.are.equal(case[3], err.field)
        assert.matches("^youtube.video: ", msg)
        assert.are.equal(0, #c.sent)
      end)
    end

    it("video: accepts tags of exactly 500 characters and application/octet-stream", function()
      local yt = handle { INIT, video_reply() }
      local tags = { string.rep("a", 496) .. " b" }   -- 498 characters + 2 quotes
      assert(yt:video { video = { data = "raw", content_type = "application/octet-stream" }, title = "t",
        tags = tags })
      local yt2, c2 = handle { INIT, video_reply() }
      assert(yt2:video { video = { data = mp4(10) }, title = "t", tags = long_tags })
      assert.are.equal(100, #json.decode(c2.sent[1].body).snippet.tags)
    end)

    local others = {
      { "playlist_video", { video_id = "dQw4w9WgXcQ" }, "playlist_id" },
      { "playlist_video", { playlist_id = "PL/../x", video_id = "dQw4w9WgXcQ" }, "playlist_id" },
      { "playlist_video", { playlist_id = "PLx", video_id = "short" }, "video_id" },
      { "playlist_video", { playlist_id = "PLx", video_id = "dQw4w9WgXc!" }, "video_id" },
      { "playlist_video", { playlist_id = "PLx", video_id = "dQw4w9WgXcQ", position = -1 }, "position" },
      { "playlist_video", { playlist_id = "PLx", video_id = "dQw4w9WgXcQ", position = 1.5 }, "position" },
      { "playlist", {}, "title" },
      { "playlist", { title = string.rep("x", 151) }, "title" },
      { "playlist", { title = "t", privacy = "hidden" }, "privacy" },
      { "playlist", { title = "t", description = "<script>" }, "description" },
      { "channel_section", {}, "type" },
      { "channel_section", { type = "allVideos" }, "type" },
      { "channel_section", { type = "singlePlaylist" }, "playlist_ids" },
      { "channel_section", { type = "singlePlaylist", playlist_ids = { "PLa", "PLb" } }, "playlist_ids" },
      { "channel_section", { type = "multiplePlaylists", title = "t", playlist_ids = {} }, "playlist_ids" },
      { "channel_section", { type = "multiplePlaylists", playlist_ids = { "PLa" } }, "title" },
      { "channel_section", { type = "multiplePlaylists", title = "t", playlist_ids = { "PLa", "PLa" } },
        "playlist_ids" },
      { "channel_section", { type = "popularUploads", playlist_ids = { "PLa" } }, "playlist_ids" },
      { "channel_section", { type = "multipleChannels", title = "t" }, "channel_ids" },
      { "channel_section", { type = "singlePlaylist", playlist_ids = { "PL a" } }, "playlist_ids" },
      { "channel_section", { type = "recentUploads", position = -2 }, "position" },
    }
    for _, case in ipairs(others) do
      it(case[1] .. ": " .. case[3] .. " " .. json.encode(case[2]), function()
        local yt, c = handle {}
        local res, msg, err = yt[case[1]](yt, case[2])
        assert.is_nil(res)
        assert.are.equal("invalid_argument", err.kind)
        assert.are.equal(case[3], err.field)
        assert.matches("^youtube." .. case[1] .. ": ", msg)
        assert.are.equal(0, #c.sent)
      end)
    end
  end)

  describe("playlists and sections", function()
    it("adds a video to a playlist", function()
      local yt, c = handle { { status = 200, json = { kind = "youtube#playlistItem", id = "UExJdGVtMQ" } } }
      local res = assert(yt:playlist_video { playlist_id = "PLabc_-1", video_id = "dQw4w9WgXcQ", position = 0 })
      assert.are.equal("playlist_item", res.object)
      assert.are.equal("UExJdGVtMQ", res.post_id)
      assert.are.equal("https://www.youtube.com/watch?v=dQw4w9WgXcQ&list=PLabc_-1", res.post_location)
      local req = c.sent[1]
      assert.are.equal("https://www.googleapis.com/youtube/v3/playlistItems?part=snippet", req.url)
      assert.is_false(req.idempotent)
      assert.are.same({ snippet = { playlistId = "PLabc_-1", position = 0,
        resourceId = { kind = "youtube#video", videoId = "dQw4w9WgXcQ" } } }, json.decode(req.body))
    end)

    it("creates a playlist", function()
      local yt, c = handle { { status = 200, json = { kind = "youtube#playlist", id = "PLnew" } } }
      local res = assert(yt:playlist { title = "Mine", description = "d", privacy = "private", tags = { "x" } })
      assert.are.same({ "playlist", "PLnew", "https://www.youtube.com/playlist?list=PLnew" },
        { res.object, res.post_id, res.post_location })
      local req = c.sent[1]
      assert.are.equal("https://www.googleapis.com/youtube/v3/playlists?part=snippet%2Cstatus", req.url)
      assert.are.same({ snippet = { title = "Mine", description = "d", tags = { "x" } },
        status = { privacyStatus = "private" } }, json.decode(req.body))
    end)

    it("adds a channel section", function()
      local yt, c = handle { { status = 200, json = { kind = "youtube#channelSection", id = "UCx.abc",
        snippet = { channelId = "UCx", type = "multiplePlaylists" } } } }
      local res = assert(yt:channel_section { type = "multiplePlaylists", title = "Best",
        playlist_ids = { "PLa", "PLb" }, position = 1 })
      assert.are.same({ "channel_section", "UCx.abc", "https://www.youtube.com/channel/UCx" },
        { res.object, res.post_id, res.post_location })
      local req = c.sent[1]
      assert.are.equal("https://www.googleapis.com/youtube/v3/channelSections?part=snippet%2CcontentDetails", req.url)
      assert.are.same({ snippet = { type = "multiplePlaylists", title = "Best", position = 1 },
        contentDetails = { playlists = { "PLa", "PLb" } } }, json.decode(req.body))

      local yt2, c2 = handle { { status = 200, json = { id = "UCx.def" } } }
      local res2 = assert(yt2:channel_section { type = "recentUploads" })
      assert.is_nil(res2.post_location)
      assert.are.same({ snippet = { type = "recentUploads" } }, json.decode(c2.sent[1].body))
    end)

    it("maps a refusal through map_error", function()
      local yt = handle { gerr(404, "playlistNotFound", "Playlist not found " .. TOKEN) }
      local res, msg, err = yt:playlist_video { playlist_id = "PLnone", video_id = "dQw4w9WgXcQ" }
      assert.is_nil(res)
      assert.are.equal("not_found", err.kind)
      assert.are.equal("playlistNotFound", err.code)
      assert.are.equal("playlist_id", err.field)
      assert.are.equal(404, err.status)
      assert.is_nil(msg:find(TOKEN, 1, true))
    end)
  end)

  describe("map_error", function()
    -- a response as client:request gives it: retry_after computed from Retry-After
    local function res_of(status, reason, headers, body)
      headers = headers or {}
      return { status = status, headers = headers, retry_after = time.retry_after(headers["retry-after"]),
        json = body or { error = { code = status,
        message = "m", errors = { { reason = reason, domain = "youtube.api", message = "m" } } } } }
    end
    -- status, reason, kind, retry_after (nil: none; "reset": seconds to Pacific midnight)
    local rows = {
      { 403, "quotaExceeded", "rate_limited", "reset" },
      { 403, "rateLimitExceeded", "rate_limited", nil },
      { 429, "rateLimitExceeded", "rate_limited", nil },
      { 403, "userRateLimitExceeded", "rate_limited", nil },
      { 400, "uploadLimitExceeded", "rate_limited", 86400 },
      { 429, "uploadRateLimitExceeded", "rate_limited", nil },
      { 403, "forbidden", "permission", nil },
      { 403, "insufficientPermissions", "permission", nil },
      { 403, "accountDelegationForbidden", "permission", nil },
      { 401, "authError", "auth", nil },
      { 401, "required", "auth", nil },
      { 401, "somethingNew", "auth", nil },
      { 404, "playlistNotFound", "not_found", nil },
      { 404, "videoNotFound", "not_found", nil },
      { 404, "channelNotFound", "not_found", nil },
      { 400, "invalidTitle", "invalid_argument", nil },
      { 400, "invalidDescription", "invalid_argument", nil },
      { 400, "invalidTags", "invalid_argument", nil },
      { 400, "missingRequiredParameter", "invalid_argument", nil },
      { 400, "invalidValue", "invalid_argument", nil },
      { 400, "badRequest", "invalid_argument", nil },
      { 400, "titleRequired", "invalid_argument", nil },
      { 400, "onePlaylistNeeded", "invalid_argument", nil },
      { 400, "maxChannelSectionExceeded", "provider", nil },
      { 403, "playlistContainsMaximumNumberOfVideos", "provider", nil },
      { 500, "backendError", "server", nil },
      { 503, "backendError", "server", nil },
      { 503, "somethingElse", "server", nil },
      { 403, "somethingElse", "permission", nil },
      { 400, "somethingElse", "provider", nil },
    }
    for _, row in ipairs(rows) do
      it(("%d %s -> %s"):format(row[1], row[2], row[3]), function()
        local m = youtube.map_error(res_of(row[1], row[2]))
        assert.are.equal(row[3], m.kind)
        assert.are.equal(row[2], m.code)
        assert.are.equal("m", m.detail)
        if row[4] == "reset" then
          assert.is_true(m.retry_after > 0 and m.retry_after <= 25 * 3600)
        else
          assert.are.equal(row[4], m.retry_after)
        end
      end)
    end

    it("prefers Retry-After", function()
      assert.are.equal(30, youtube.map_error(res_of(403, "quotaExceeded", { ["retry-after"] = "30" })).retry_after)
      assert.are.equal(5, youtube.map_error(res_of(429, "rateLimitExceeded", { ["retry-after"] = "5" })).retry_after)
    end)

    it("names the field of a metadata refusal", function()
      assert.are.equal("title", youtube.map_error(res_of(400, "invalidTitle")).field)
      assert.are.equal("tags", youtube.map_error(res_of(400, "invalidTags")).field)
      assert.are.equal("video_id", youtube.map_error(res_of(404, "videoNotFound")).field)
    end)

    it("copes with bodies that are not Google's", function()
      local m = youtube.map_error({ status = 502, headers = {}, body = "<html>Bad Gateway</html>" })
      assert.are.same({ kind = "server" }, m)
      m = youtube.map_error({ status = 404, headers = {}, json = { error = { code = 404, message = "Not Found" } } })
      assert.are.same({ kind = "not_found", code = 404, detail = "Not Found" }, m)
      m = youtube.map_error({ status = 400, headers = {}, json = { error = "invalid_grant" } })
      assert.are.equal("provider", m.kind)
    end)
  end)

  describe("time.until_midnight_pacific (the quota reset)", function()
    -- epoch seconds of UTC date-times (computed independently with GNU date)
    local vectors = {
      -- 2026-01-15 12:00:00Z, PST: midnight Pacific = 2026-01-16 08:00Z
      { 1768478400, 20 * 3600 },
      -- 2026-07-15 12:00:00Z, PDT: midnight Pacific = 2026-07-16 07:00Z
      { 1784116800, 19 * 3600 },
      -- 2026-03-08 07:30:00Z = 2026-03-07 23:30 PST; DST starts 2026-03-08 02:00 PST,
      -- the next midnight is 2026-03-08 08:00Z (PST still)
      { 1772955000, 30 * 60 },
      -- 2026-03-08 08:30:00Z = 00:30 PST on DST day; next midnight 2026-03-09 07:00Z (PDT)
      { 1772958600, 22 * 3600 + 30 * 60 },
      -- 2026-11-01 07:30:00Z = 00:30 PDT on the day DST ends; next midnight 2026-11-02 08:00Z (PST)
      { 1793518200, 24 * 3600 + 30 * 60 },
      -- exactly midnight Pacific (2026-01-16 08:00Z): a full day
      { 1768550400, 24 * 3600 },
    }
    for _, v in ipairs(vectors) do
      it("at " .. v[1], function()
        assert.are.equal(v[2], time.until_midnight_pacific(v[1]))
      end)
    end
  end)
end)
