-- socialpush.youtube end to end through the sandbox (loopback only): every operation
-- with its request checked in the journal, refusals mapped to kinds, and the resumable
-- upload's recovery paths (broken chunk resumed, 503 waited out, expired session,
-- resume in a new process via resume_dir). The sandbox checks bytes and digests itself.
local helpers = require("spec_helpers")
local socialpush = require("socialpush")
local youtube = require("socialpush.providers.youtube")

local UNIT = 262144
local UPLOAD = "/upload/youtube/v3/videos"
local HOST = "www.googleapis.com"

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- sha256 of a file with the coreutils tool (independent of socialpush)
local function sha256_file(path)
  local p = assert(io.popen("sha256sum " .. q(path)))
  local out = p:read("*a")
  p:close()
  return out:match("^(%x+)")
end

-- an MP4-looking file of n bytes with deterministic filler
local function video_file(n)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  local head = "\0\0\0\32ftypisom\0\0\2\0isomiso2avc1mp41"
  f:write(head)
  local block, x = {}, 7
  for i = 1, 4096 do
    x = (x * 1103515245 + 12345) % 2147483648
    block[i] = string.char(x % 251)
  end
  local s, left = table.concat(block), n - #head
  while left > 0 do
    local k = math.min(left, #s)
    f:write(k == #s and s or s:sub(1, k))
    left = left - k
  end
  f:close()
  return path
end

local PNG = "\137PNG\r\n\26\n\0\0\0\13IHDR\0\0\0\1\0\0\0\1\8\2\0\0\0" .. string.rep("\0", 40)

local function tmpdir()
  local d = os.tmpname()
  os.remove(d)
  assert(os.execute("mkdir -p " .. q(d)))
  return d
end

describe("youtube through the sandbox", function()
  local sb = helpers.sandbox()
  local acc = sb:accounts()
  local files = {}

  local function new_client(extra)
    local o = sb:options()
    o.timeout, o.retries = 30, 2
    for k, v in pairs(extra or {}) do o[k] = v end
    return socialpush.new(o)
  end

  local function file(n)
    local p = video_file(n)
    files[#files + 1] = p
    return p
  end

  local function uploads()
    return assert(sb:requests { host = HOST, path = UPLOAD })
  end

  local function sandbox_video(id)
    local status, v = sb:control("GET", "/_/youtube/videos/" .. id)
    assert.are.equal(200, status)
    return v
  end

  local function configure(t)
    local status = sb:control("POST", "/_/youtube", t)
    assert.are.equal(200, status)
  end

  local function puts(list)
    local out = {}
    for _, e in ipairs(list) do if e.method == "PUT" then out[#out + 1] = e end end
    return out
  end

  local function posts(list)
    local n = 0
    for _, e in ipairs(list) do if e.method == "POST" then n = n + 1 end end
    return n
  end

  before_each(function() assert(sb:reset()) end)
  after_each(function()
    for _, p in ipairs(files) do os.remove(p) end
    files = {}
  end)

  describe("video", function()
    it("uploads in chunks, sets the thumbnail, and the sandbox holds the same bytes", function()
      local path = file(3 * UNIT + 12345)
      local yt = new_client():youtube(acc.youtube)
      local res, msg = yt:video { video = { file = path }, title = "Sandbox clip", description = "Made in a test",
        tags = { "socialpush", "sand box" }, privacy = "unlisted", category_id = "22", made_for_kids = false,
        thumbnail = { data = PNG }, chunk_size = UNIT }
      assert(res, msg)
      assert.are.equal("video", res.object)
      assert.matches("^[%w_%-]+$", res.post_id)
      assert.are.equal(11, #res.post_id)
      assert.are.equal("https://www.youtube.com/watch?v=" .. res.post_id, res.post_location)
      assert.is_nil(res.thumbnail_error)
      assert.are.equal("unlisted", res.raw.status.privacyStatus)

      local list = uploads()
      assert.are.equal(1, posts(list))
      local init = list[1]
      assert.are.equal("POST", init.method)
      assert.are.equal("uploadType=resumable&part=snippet%2Cstatus", init.query)
      assert.are.equal("Bearer ***", init.headers["authorization"])
      assert.are.equal(tostring(3 * UNIT + 12345), init.headers["x-upload-content-length"])
      assert.are.equal("video/mp4", init.headers["x-upload-content-type"])
      assert.are.equal(200, init.status)
      local p = puts(list)
      assert.are.equal(4, #p)
      local total = 3 * UNIT + 12345
      for i, e in ipairs(p) do
        local first = (i - 1) * UNIT
        local last = i == 4 and total - 1 or first + UNIT - 1
        assert.are.equal(("bytes %d-%d/%d"):format(first, last, total), e.headers["content-range"])
        assert.are.equal(last - first + 1, e.body_size)
        assert.are.equal(i == 4 and 201 or 308, e.status)
      end

      local v = sandbox_video(res.post_id)
      assert.are.equal(total, v.bytes)
      assert.are.equal(sha256_file(path), v.sha256)
      assert.are.equal("Sandbox clip", v.resource.snippet.title)
      assert.are.same({ "socialpush", "sand box" }, v.resource.snippet.tags)
      assert.are.equal(#PNG, v.thumbnail.bytes)
      local thumbs = assert(sb:requests { host = HOST, path = "/upload/youtube/v3/thumbnails/set" })
      assert.are.equal(1, #thumbs)
      assert.are.equal("videoId=" .. res.post_id .. "&uploadType=media", thumbs[1].query)
      assert.are.equal("image/png", thumbs[1].headers["content-type"])
      assert.are.equal(200, thumbs[1].status)
    end)

    it("downloads a {url=} video and uploads it", function()
      local yt = new_client():youtube(acc.youtube)
      local res, msg = yt:video { video = { url = acc.media.video }, title = "From a URL" }
      assert(res, msg)
      local got = assert(sb:requests { host = "media.socialpush.test", path = "/video.mp4" })
      assert.are.equal(1, #got)
      local v = sandbox_video(res.post_id)
      assert.are.equal(300 * 1024, v.bytes)
      assert.are.equal("video/mp4", v.content_type)
      -- the same bytes as the media host serves (fetched here with the curl CLI)
      local p = assert(io.popen("curl -sS --max-time 30 " .. sb:curl_args() .. " " .. q(acc.media.video)
        .. " | sha256sum"))
      local want = p:read("*a"):match("^(%x+)")
      p:close()
      assert.are.equal(want, v.sha256)
    end)

    it("is refused with an expired token (auth)", function()
      local yt = new_client():youtube(acc.expired.youtube)
      local res, msg, err = yt:video { video = { file = file(1000) }, title = "t" }
      assert.is_nil(res)
      assert.are.equal("auth", err.kind)
      assert.are.equal("authError", err.code)
      assert.are.equal(401, err.status)
      assert.is_nil(msg:find(acc.expired.youtube.access_token, 1, true))
      assert.are.equal(0, #puts(uploads()))
    end)

    it("maps the spent videos.insert bucket to rate_limited", function()
      configure { videos_insert_limit = 1 }
      local yt = new_client():youtube(acc.youtube)
      assert(yt:video { video = { file = file(1000) }, title = "first" })
      local res, _, err = yt:video { video = { file = file(1000) }, title = "second" }
      assert.is_nil(res)
      assert.are.equal("rate_limited", err.kind)
      assert.are.equal("quotaExceeded", err.code)
      assert.are.equal(403, err.status)
      assert.is_true(err.retry_after > 0 and err.retry_after <= 25 * 3600)
      local list = uploads()
      assert.are.equal(403, list[#list].status)
    end)

    it("maps the channel upload cap to rate_limited with a day to wait", function()
      configure { upload_limit = 0 }
      local yt = new_client():youtube(acc.youtube)
      local res, _, err = yt:video { video = { file = file(1000) }, title = "t" }
      assert.is_nil(res)
      assert.are.equal("rate_limited", err.kind)
      assert.are.equal("uploadLimitExceeded", err.code)
      assert.are.equal(86400, err.retry_after)
    end)

    it("resumes a broken chunk from the persisted offset, not from 0", function()
      local total = 3 * UNIT + 777
      local path = file(total)
      sb:fault { host = HOST, method = "PUT", path = UPLOAD, nth = 2, drop_after_bytes = 100000 }
      local yt = new_client():youtube(acc.youtube)
      local res, msg = yt:video { video = { file = path }, title = "Broken chunk", chunk_size = UNIT }
      assert(res, msg)
      local list = uploads()
      assert.are.equal(1, posts(list))           -- resumed in the same session
      local p = puts(list)
      assert.are.equal(("bytes 0-%d/%d"):format(UNIT - 1, total), p[1].headers["content-range"])
      assert.are.equal(444, p[2].status)          -- dropped by the fault
      assert.are.equal(("bytes */%d"):format(total), p[3].headers["content-range"])
      assert.are.equal(0, p[3].body_size)
      assert.are.equal(308, p[3].status)
      -- the next chunk starts where the status query said, i.e. after the first chunk
      assert.are.equal(("bytes %d-%d/%d"):format(UNIT, 2 * UNIT - 1, total), p[4].headers["content-range"])
      assert.are.equal(201, p[#p].status)
      local v = sandbox_video(res.post_id)
      assert.are.equal(total, v.bytes)
      assert.are.equal(sha256_file(path), v.sha256)
    end)

    it("waits out a 503 with Retry-After on a chunk, asks the session, sends the chunk again", function()
      local total = 2 * UNIT + 10
      local path = file(total)
      sb:fault { host = HOST, method = "PUT", path = UPLOAD, nth = 2, status = 503, retry_after = 1 }
      local yt = new_client():youtube(acc.youtube)
      local res, msg = yt:video { video = { file = path }, title = "Busy", chunk_size = UNIT }
      assert(res, msg)
      local p = puts(uploads())
      assert.are.equal(503, p[2].status)
      assert.is_not_nil(p[2].fault)
      -- once the wait is over: one status query (one retry policy, the upload's), then the same chunk
      assert.are.equal("bytes */" .. total, p[3].headers["content-range"])
      assert.is_true(p[3].time - p[2].time >= 0.9)
      assert.are.equal(p[2].headers["content-range"], p[4].headers["content-range"])
      assert.are.equal(308, p[4].status)
      assert.are.equal(sha256_file(path), sandbox_video(res.post_id).sha256)
    end)

    it("resumes the same session in a new process (resume_dir), with no second initiate", function()
      local dir = tmpdir()
      local total = 3 * UNIT + 5
      local path = file(total)
      local args = { video = { file = path }, title = "Across processes", chunk_size = UNIT }
      -- the first process: the second chunk fails for good (a revoked token, say)
      sb:fault { host = HOST, method = "PUT", path = UPLOAD, nth = 2, status = 401,
        body = { error = { code = 401, message = "Invalid Credentials",
          errors = { { reason = "authError", domain = "global", message = "Invalid Credentials" } } } } }
      local res, _, err = new_client { resume_dir = dir }:youtube(acc.youtube):video(args)
      assert.is_nil(res)
      assert.are.equal("auth", err.kind)
      local first = uploads()
      local session = first[2].query
      -- a new client (nothing shared but the directory) resumes
      local res2, msg2 = new_client { resume_dir = dir }:youtube(acc.youtube):video(args)
      assert(res2, msg2)
      local list = uploads()
      assert.are.equal(1, posts(list))
      local p = puts(list)
      assert.are.equal(("bytes */%d"):format(total), p[3].headers["content-range"])
      for i = 3, #p do assert.are.equal(session, p[i].query) end   -- the same session URI
      assert.are.equal(("bytes %d-%d/%d"):format(UNIT, 2 * UNIT - 1, total), p[4].headers["content-range"])
      local v = sandbox_video(res2.post_id)
      assert.are.equal(total, v.bytes)
      assert.are.equal(sha256_file(path), v.sha256)
      os.execute("rm -rf " .. q(dir))
    end)

    it("resumes a cancelled job in a new client", function()
      local dir = tmpdir()
      local total = 4 * UNIT
      local path = file(total)
      local args = { video = { file = path }, title = "Cancelled", chunk_size = UNIT }
      sb:fault { host = HOST, method = "PUT", path = UPLOAD, nth = 3, delay_ms = 3000 }
      local c1 = new_client { resume_dir = dir }
      local job = c1:spawn(function() return c1:youtube(acc.youtube):video(args) end)
      -- run the job until its state file records two chunks, then cancel it
      local function offset()
        for _, name in ipairs(helpers.listdir(dir)) do
          local f = io.open(dir .. "/" .. name, "rb")
          local s = f and f:read("*a") or ""
          if f then f:close() end
          local n = s:match('"offset":(%d+)')
          if n then return tonumber(n) end
        end
        return 0
      end
      local polls = 0
      while offset() < 2 * UNIT and polls < 2000 and not job:done() do
        c1:sleep(0.005)
        polls = polls + 1
      end
      assert.are.equal(2 * UNIT, offset())
      assert.is_true(job:cancel())
      c1:close()
      local res, msg = new_client { resume_dir = dir }:youtube(acc.youtube):video(args)
      assert(res, msg)
      local list = uploads()
      assert.are.equal(1, posts(list))
      local after
      for _, e in ipairs(puts(list)) do
        if after == false then after = e.headers["content-range"]; break end
        if e.headers["content-range"] == "bytes */" .. total then after = false end
      end
      local start = tonumber(after:match("^bytes (%d+)%-"))
      assert.is_true(start >= 2 * UNIT and start % UNIT == 0)
      assert.are.equal(sha256_file(path), sandbox_video(res.post_id).sha256)
      os.execute("rm -rf " .. q(dir))
    end)

    it("starts a new session when the saved one has expired (404)", function()
      local dir = tmpdir()
      local total = 2 * UNIT + 1
      local path = file(total)
      local args = { video = { file = path }, title = "Expired session", chunk_size = UNIT }
      sb:fault { host = HOST, method = "PUT", path = UPLOAD, nth = 2, status = 401 }
      local res = new_client { resume_dir = dir }:youtube(acc.youtube):video(args)
      assert.is_nil(res)
      local status, expired = sb:control("DELETE", "/_/youtube/sessions")
      assert.are.equal(200, status)
      assert.are.equal(1, expired.expired)
      local res2, msg2 = new_client { resume_dir = dir }:youtube(acc.youtube):video(args)
      assert(res2, msg2)
      local list = uploads()
      assert.are.equal(2, posts(list))
      local saw404 = false
      for _, e in ipairs(list) do if e.method == "PUT" and e.status == 404 then saw404 = true end end
      assert.is_true(saw404)
      assert.are.equal(sha256_file(path), sandbox_video(res2.post_id).sha256)
      os.execute("rm -rf " .. q(dir))
    end)
  end)

  describe("playlist", function()
    it("creates a playlist", function()
      local yt = new_client():youtube(acc.youtube)
      local res, msg = yt:playlist { title = "Sandbox list", description = "d", privacy = "private", tags = { "x" } }
      assert(res, msg)
      assert.are.equal("playlist", res.object)
      assert.matches("^PL[%w_%-]+$", res.post_id)
      assert.are.equal("https://www.youtube.com/playlist?list=" .. res.post_id, res.post_location)
      local list = assert(sb:requests { host = HOST, path = "/youtube/v3/playlists" })
      assert.are.equal(1, #list)
      assert.are.equal("POST", list[1].method)
      assert.are.equal("part=snippet%2Cstatus", list[1].query)
      assert.are.equal("application/json", list[1].headers["content-type"])
      assert.are.equal(200, list[1].status)
    end)

    it("maps a spent unit budget to rate_limited", function()
      configure { units_limit = 49 }
      local res, _, err = new_client():youtube(acc.youtube):playlist { title = "t" }
      assert.is_nil(res)
      assert.are.equal("rate_limited", err.kind)
      assert.are.equal("quotaExceeded", err.code)
    end)
  end)

  describe("playlist_video", function()
    it("adds the fixture video to a new playlist and an uploaded one to the fixture playlist", function()
      local yt = new_client():youtube(acc.youtube)
      local pl = assert(yt:playlist { title = "For items" })
      local res, msg = yt:playlist_video { playlist_id = pl.post_id, video_id = acc.youtube.video_id, position = 0 }
      assert(res, msg)
      assert.are.equal("playlist_item", res.object)
      assert.are.equal(("https://www.youtube.com/watch?v=%s&list=%s"):format(acc.youtube.video_id, pl.post_id),
        res.post_location)
      assert.are.equal(pl.post_id, res.raw.snippet.playlistId)
      local v = assert(yt:video { video = { file = file(1000) }, title = "t" })
      -- by its OneAll resource name
      local res2 = assert(new_client():push(acc.youtube,
        "youtube/playlist/" .. acc.youtube.playlist_id .. "/video", { video_id = v.post_id }))
      assert.are.equal(v.post_id, res2.raw.snippet.resourceId.videoId)
      local list = assert(sb:requests { host = HOST, path = "/youtube/v3/playlistItems" })
      assert.are.equal(2, #list)
      assert.are.equal("part=snippet", list[1].query)
      assert.are.equal(200, list[2].status)
    end)

    it("maps unknown playlists and videos to not_found and a full playlist to provider", function()
      local yt = new_client():youtube(acc.youtube)
      local res, _, err = yt:playlist_video { playlist_id = "PLnothere", video_id = acc.youtube.video_id }
      assert.is_nil(res)
      assert.are.same({ "not_found", "playlistNotFound", 404 }, { err.kind, err.code, err.status })
      res, _, err = yt:playlist_video { playlist_id = acc.youtube.playlist_id, video_id = "AAAAAAAAAAA" }
      assert.is_nil(res)
      assert.are.same({ "not_found", "videoNotFound" }, { err.kind, err.code })
      configure { playlist_max_items = 1 }
      assert(yt:playlist_video { playlist_id = acc.youtube.playlist_id, video_id = acc.youtube.video_id })
      res, _, err = yt:playlist_video { playlist_id = acc.youtube.playlist_id, video_id = acc.youtube.video_id }
      assert.is_nil(res)
      assert.are.same({ "provider", "playlistContainsMaximumNumberOfVideos" }, { err.kind, err.code })
    end)
  end)

  describe("channel_section", function()
    it("adds sections up to the channel's limit of 10", function()
      local yt = new_client():youtube(acc.youtube)
      local res, msg = yt:channel_section { type = "singlePlaylist", playlist_ids = { acc.youtube.playlist_id } }
      assert(res, msg)
      assert.are.equal("channel_section", res.object)
      assert.are.equal(acc.youtube.channel_id, res.post_id:match("^([^.]+)%."))
      assert.are.equal("https://www.youtube.com/channel/" .. acc.youtube.channel_id, res.post_location)
      local list = assert(sb:requests { host = HOST, path = "/youtube/v3/channelSections" })
      assert.are.equal("part=snippet%2CcontentDetails", list[1].query)
      assert.are.equal(200, list[1].status)
      for i = 2, 10 do
        assert(yt:channel_section { type = "multiplePlaylists", title = "Shelf " .. i,
          playlist_ids = { acc.youtube.playlist_id } })
      end
      local res11, _, err = yt:channel_section { type = "recentUploads" }
      assert.is_nil(res11)
      assert.are.same({ "provider", "maxChannelSectionExceeded", 400 }, { err.kind, err.code, err.status })
    end)

    it("maps an unknown playlist to not_found", function()
      local res, _, err = new_client():youtube(acc.youtube):channel_section { type = "singlePlaylist",
        playlist_ids = { "PLdoesnotexist" } }
      assert.is_nil(res)
      assert.are.same({ "not_found", "playlistNotFound" }, { err.kind, err.code })
    end)
  end)

  describe("the sandbox's own checks", function()
    local function raw(c, method, url, headers, body)
      local h = { { "Authorization", "Bearer " .. acc.youtube.access_token } }
      for _, kv in ipairs(headers or {}) do h[#h + 1] = kv end
      local res = assert(c:request { method = method, url = url, headers = h, body = body })
      return res, res.body ~= "" and require("socialpush.json").decode(res.body) or nil
    end
    local INIT_URL = "https://www.googleapis.com/upload/youtube/v3/videos?uploadType=resumable&part=snippet"

    it("refuses bad metadata with Google's reasons", function()
      local c = new_client()
      for _, case in ipairs {
        { '{"snippet":{"title":"a <b>"}}', "invalidTitle" },
        { '{"snippet":{"title":"' .. string.rep("x", 101) .. '"}}', "invalidTitle" },
        { '{"snippet":{}}', "invalidTitle" },
        { '{"snippet":{"title":"t","description":"' .. string.rep("d", 5001) .. '"}}', "invalidDescription" },
        { '{"snippet":{"title":"t","tags":["' .. string.rep("t", 501) .. '"]}}', "invalidTags" },
      } do
        local res, body = raw(c, "POST", INIT_URL, { { "Content-Type", "application/json" },
          { "X-Upload-Content-Length", "10" } }, case[1])
        assert.are.equal(400, res.status)
        assert.are.equal(case[2], body.error.errors[1].reason)
        assert.are.equal("invalid_argument", youtube.map_error { status = res.status, headers = res.headers,
          json = body }.kind)
      end
    end)

    it("persists whole 256 KiB units only, checks Content-Range and forgets unknown sessions", function()
      local c = new_client()
      local res = raw(c, "POST", INIT_URL, { { "Content-Type", "application/json" },
        { "X-Upload-Content-Length", tostring(UNIT + 50000) }, { "X-Upload-Content-Type", "video/mp4" } },
        '{"snippet":{"title":"raw"}}')
      assert.are.equal(200, res.status)
      local loc = res.headers["location"]
      assert.matches("^https://www%.googleapis%.com/upload/youtube/v3/videos%?uploadType=resumable&upload_id=", loc)
      -- 300000 bytes sent, 262144 kept
      res = raw(c, "PUT", loc, { { "Content-Range", "bytes 0-299999/" .. (UNIT + 50000) } }, string.rep("a", 300000))
      assert.are.equal(308, res.status)
      assert.are.equal("bytes=0-262143", res.headers["range"])
      res = raw(c, "PUT", loc, { { "Content-Range", "bytes */" .. (UNIT + 50000) } }, "")
      assert.are.equal(308, res.status)
      assert.are.equal("bytes=0-262143", res.headers["range"])
      local body
      res, body = raw(c, "PUT", loc, { { "Content-Range", "bytes 262144-262150/" .. (UNIT + 50000) } }, "ab")
      assert.are.equal(400, res.status)
      assert.are.equal("badContentRange", body.error.errors[1].reason)
      res, body = raw(c, "PUT", loc:gsub("upload_id=[^&]+", "upload_id=nosuchsession"),
        { { "Content-Range", "bytes */10" } }, "")
      assert.are.equal(404, res.status)
      assert.are.equal("notFound", body.error.errors[1].reason)
      assert.are.equal("not_found", youtube.map_error { status = 404, headers = res.headers, json = body }.kind)
      res = raw(c, "PUT", loc, { { "Content-Range", "bytes 262144-312143/" .. (UNIT + 50000) } },
        string.rep("b", 50000))
      assert.are.equal(201, res.status)
      local id = require("socialpush.json").decode(res.body).id
      assert.are.equal(UNIT + 50000, sandbox_video(id).bytes)
    end)

    it("streams HTTP/1.1 chunks too (curl CLI)", function()
      local total = UNIT + 100000
      local path = file(total)
      local part1, part2 = os.tmpname(), os.tmpname()
      files[#files + 1], files[#files + 2] = part1, part2
      local function sh(cmd)
        local p = assert(io.popen(cmd))
        local out = p:read("*a")
        p:close()
        return out
      end
      sh(("head -c 300000 %s > %s; tail -c %d %s > %s"):format(q(path), q(part1), total - UNIT, q(path), q(part2)))
      local curl = "curl -sS --http1.1 --max-time 30 -D - " .. sb:curl_args()
        .. " -H " .. q("Authorization: Bearer " .. acc.youtube.access_token) .. " "
      local out = sh(curl .. "-o /dev/null -H 'Content-Type: application/json' -H 'X-Upload-Content-Length: "
        .. total .. "' --data-binary '{\"snippet\":{\"title\":\"h1\"}}' " .. q(INIT_URL))
      local loc = out:match("\n[Ll]ocation: (%S+)")
      assert.is_not_nil(loc)
      out = sh(curl .. "-X PUT -H " .. q(("Content-Range: bytes 0-299999/%d"):format(total))
        .. " --data-binary @" .. q(part1) .. " " .. q(loc))
      assert.matches("^HTTP/1%.1 308", out)
      assert.matches("\n[Rr]ange: bytes=0%-262143\r?\n", out)
      out = sh(curl .. "-X PUT -H " .. q(("Content-Range: bytes %d-%d/%d"):format(UNIT, total - 1, total))
        .. " --data-binary @" .. q(part2) .. " " .. q(loc))
      assert.matches("^HTTP/1%.1 201", out)
      local id = out:match('"id":"([%w_%-]+)"')
      assert.are.equal(sha256_file(path), sandbox_video(id).sha256)
      -- this upload's own requests (other specs' requests may still be finishing)
      local mine = 0
      for _, e in ipairs(uploads()) do
        local range = e.headers and e.headers["content-range"]
        if range == ("bytes %d-%d/%d"):format(UNIT, total - 1, total)
            or range == ("bytes 0-299999/%d"):format(total) then
          assert.are.equal("1.1", e.http_version)
          mine = mine + 1
        end
      end
      assert.are.equal(2, mine)
    end)
  end)
end)
