-- socialpush inside a real nginx (Debian nginx + libnginx-mod-http-lua, LuaJIT): the
-- cosocket transport (socialpush.transport.openresty, chosen by default in the content
-- phase) against the sandbox. The test nginx runs one worker on a free loopback port from
-- a scratch directory (spec/fixtures/nginx/); its locations are in sp_test_app.lua.
-- Needs build/luajit/socialpush/core.so (make build LUA=luajit). Every wait is bounded.
local helpers = require "spec_helpers"
local harness = require "fixtures.nginx.harness"
local json = require "socialpush.json"

local sb, srv

local function sleep(s) harness.run("sleep " .. s) end

local function get(path)
  local status, body = srv:curl(path)
  assert.are.equal(200, status, body)
  return assert(json.decode(body))
end

local function sha256sum(cmd)
  return (harness.run(cmd .. " | sha256sum"):match("^(%x+)"))
end

-- journal entries matching, waiting (bounded) for at least min of them
local function journal(filter, min)
  local list = sb:requests(filter)
  for _ = 1, 100 do
    if #list >= (min or 0) then break end
    sleep(0.1)
    list = sb:requests(filter)
  end
  return list
end

-- operation → provider, accepted objects, and a request it must have made (host, method,
-- path pattern); facebook/* user and group operations and stream.publish: historic mode
local OPS = {
  { "facebook/post", "facebook", { post = true }, "graph.facebook.com", "POST", "/me/feed$" },
  { "facebook/picture", "facebook", { picture = true }, "graph.facebook.com", "POST", "/me/photos$" },
  { "facebook/video", "facebook", { video = true }, "graph-video.facebook.com", "POST", "/me/videos$" },
  { "facebook/group/post", "facebook", { post = true }, "graph.facebook.com", "POST", "/%d+/feed$" },
  { "facebook/group/picture", "facebook", { picture = true }, "graph.facebook.com", "POST", "/%d+/photos$" },
  { "facebook/group/video", "facebook", { video = true }, "graph-video.facebook.com", "POST", "/%d+/videos$" },
  { "facebook/page/post", "facebook", { post = true }, "graph.facebook.com", "POST", "/%d+/feed$" },
  { "facebook/page/picture", "facebook", { picture = true }, "graph.facebook.com", "POST", "/%d+/photos$" },
  { "facebook/page/video", "facebook", { video = true }, "graph-video.facebook.com", "POST", "/%d+/videos$" },
  { "linkedin/post", "linkedin", { post = true }, "api.linkedin.com", "POST", "^/rest/posts$" },
  { "linkedin/company/post", "linkedin", { post = true }, "api.linkedin.com", "POST", "^/rest/images" },
  { "pinterest/board", "pinterest", { board = true }, "api.pinterest.com", "POST", "^/v5/boards$" },
  { "pinterest/board/<id>/pin", "pinterest", { pin = true }, "api.pinterest.com", "POST", "^/v5/pins$" },
  { "twitter/picture", "twitter", { picture = true, media = true }, "api.x.com", "POST", "^/2/media/upload" },
  { "twitter/post", "twitter", { post = true }, "api.x.com", "POST", "^/2/tweets$" },
  { "twitter/video", "twitter", { post = true, video = true }, "api.x.com", "POST", "/append$" },
  { "youtube/video", "youtube", { video = true }, "www.googleapis.com", "PUT", "^/upload/youtube/v3/videos" },
  { "youtube/playlist", "youtube", { playlist = true }, "www.googleapis.com", "POST", "^/youtube/v3/playlists$" },
  { "youtube/playlist/<id>/video", "youtube", { playlist_item = true }, "www.googleapis.com", "POST",
    "^/youtube/v3/playlistItems$" },
  { "youtube/channel/section", "youtube", { channel_section = true }, "www.googleapis.com", "POST",
    "^/youtube/v3/channelSections$" },
  { "stream.publish", "facebook", { post = true }, "api.facebook.com", "POST", "^/restserver%.php$" },
}

describe("openresty transport #integration", function()
  setup(function()
    sb = helpers.sandbox()
    local msg
    srv, msg = harness.start { sandbox = sb }
    assert(srv, msg)
  end)

  teardown(function()
    if srv then srv:stop() end
    if sb then sb:mode { facebook = "today" } end
  end)

  before_each(function() sb:reset() end)

  it("is the client's default transport in the content phase", function()
    local r = get("/test/fast")
    assert.is_number(r.pid)
    sb:fault { method = "GET", path = "/echo", delay_ms = 10 }
    local s = get("/test/slow")
    assert.are.equal(200, s.status, s.error)
    assert.matches("^socialpush%.transport%.openresty", s.transport)
    local j = journal({ path = "/echo" }, 1)
    assert.are.equal(1, #j)
    assert.are.equal("1.1", j[1].http_version)      -- cosockets speak HTTP/1.1 (curl would use h2)
    assert.matches("^socialpush/", j[1].headers["user-agent"])
  end)

  it("keeps the same worker answering while an upstream request is delayed", function()
    sb:fault { method = "GET", path = "/echo", delay_ms = 3000 }
    local bg = srv:curl_background("/test/slow", "slow")
    local first
    for _ = 1, 200 do                    -- until the slow request is in flight in the worker
      first = get("/test/fast")
      if first.slow_in_flight == 1 then break end
      sleep(0.02)
    end
    assert.are.equal(1, first.slow_in_flight)
    for _ = 1, 5 do
      local r = get("/test/fast")
      assert.are.equal(first.pid, r.pid)            -- one worker: the same process served both
      assert.are.equal(1, r.slow_in_flight)         -- while the slow upstream request was pending
    end
    assert.is_nil(harness.read_file(bg .. ".status"))   -- the slow one has not answered yet
    for _ = 1, 200 do
      if harness.read_file(bg .. ".status") then break end
      sleep(0.05)
    end
    assert.are.equal("200", harness.read_file(bg .. ".status"))
    local slow = assert(json.decode(harness.read_file(bg .. ".body")))
    assert.are.equal(200, slow.status, slow.error)
    assert.are.equal(first.pid, slow.pid)
    assert.are.equal(0, get("/test/fast").slow_in_flight)
    assert.are.equal(1, #journal({ path = "/echo" }, 1))
  end)

  it("runs every provider operation (21) through cosockets", function()
    sb:mode { facebook = "historic" }
    local r = get("/test/ops")
    sb:mode { facebook = "today" }
    assert.matches("^socialpush%.transport%.openresty", r.transport)
    local by = {}
    for _, op in ipairs(r.ops) do by[op.name] = op end
    local all = sb:requests()
    for _, want in ipairs(OPS) do
      local name = want[1]
      local op = by[name]
      assert.is_table(op, name)
      assert.is_true(op.ok, name .. ": " .. tostring(op.error))
      assert.are.equal(want[2], op.provider, name)
      assert.is_true(want[3][op.object] == true, name .. ": object " .. tostring(op.object))
      assert.are.equal("string", op.post_id_type, name)
      assert.is_true(#op.post_id > 0, name)
      if op.post_location then assert.matches("^https://", op.post_location, nil, nil, name) end
      local seen = false
      for _, e in ipairs(all) do
        if e.host == want[4] and e.method == want[5] and e.path:find(want[6]) and e.status < 300 then
          seen = true
        end
      end
      assert.is_true(seen, name .. ": no " .. want[5] .. " " .. want[4] .. " " .. want[6] .. " in the journal")
    end
    assert.are.equal(#OPS, #r.ops)
    for _, e in ipairs(all) do
      assert.are.equal("1.1", e.http_version, e.host .. e.path)
      assert.matches("^socialpush/", e.headers["user-agent"])
    end
  end)

  it("streams uploads, multipart and downloads; decodes every response framing", function()
    local r = get("/test/io")
    local big = r.upload_path
    local want = sha256sum("cat '" .. big .. "'")
    assert.are.equal(16 * 1024 * 1024, r.upload.bytes)
    assert.are.equal(want, r.upload.sha256)
    assert.are.same({ sent = 16 * 1024 * 1024, total = 16 * 1024 * 1024 }, r.progress)
    assert.are.equal(5000, r.slice.bytes)
    assert.are.equal(sha256sum("tail -c +1001 '" .. big .. "' | head -c 5000"), r.slice.sha256)
    local parts = r.multipart.parts
    assert.matches("^multipart/form%-data; boundary=", r.multipart.headers["content-type"])
    assert.are.equal("field", parts[1].name)
    assert.are.equal("value-abc", parts[1].data)
    assert.are.equal("pic.png", parts[2].filename)
    assert.are.equal("image/png", parts[2].content_type)
    assert.are.equal("file-content-123", parts[2].data)
    assert.are.equal("big.bin", parts[3].filename)
    assert.are.equal(want, parts[3].sha256)
    assert.are.equal(200, r.sink.status)
    assert.are.equal("", r.sink.body)
    assert.are.equal(300000, r.sink.body_bytes)
    assert.are.equal("300000", (harness.run("stat -c %s '" .. r.sink.path .. "'"):gsub("%s+$", "")))
    assert.are.equal(1000000, r.bytes.size)
    assert.are.equal("chunked", r.chunked.te)
    assert.are.equal(123456, r.chunked.size)
    assert.are.equal("0123456789abcdef0123", r.chunked.head)
    assert.is_true(r.chunked.second_reused)           -- keep-alive after a chunked body
    assert.are.equal(54321, r.close_delimited.size)    -- body ends when the server closes
    assert.is_false(r.close_delimited.second_reused)
    assert.are.equal("close", r.no_keepalive.connection)
    assert.is_false(r.no_keepalive.second_reused)     -- Connection: close is honoured
    assert.are.same({ true, true, "1.1" }, r.keepalive)
    assert.are.equal(302, r.redirect.status)          -- never follows redirects
    assert.are.equal("https://other.socialpush.test/echo", r.redirect.location)
    assert.are.equal(0, #sb:requests { host = "other.socialpush.test" })
    for i = 1, 20 do assert.are.equal("n" .. i, r.all[i]) end
  end)

  it("streams a 64 MiB upload from disk without holding it in memory", function()
    local pid = get("/test/fast").pid
    local function peak()
      return tonumber(harness.read_file("/proc/" .. pid .. "/status"):match("VmHWM:%s*(%d+)"))
    end
    local f = io.open("/proc/" .. pid .. "/clear_refs", "w")   -- reset the peak when allowed
    if f then
      f:write("5")
      f:close()
    end
    local before = peak()
    local r = get("/test/bigupload")
    assert.are.equal(64 * 1024 * 1024, r.upload.bytes, r.upload.error)
    assert.are.equal(pid, r.pid)
    assert.is_true(peak() - before < 32 * 1024, "worker peak RSS grew by " .. (peak() - before) .. " kB")
  end)

  describe("error kinds", function()
    local function kind(case, prefix)
      return get((prefix or "/test/") .. "kind?case=" .. case)
    end

    it("timeout: a delayed answer, sent, not re-sent", function()
      sb:fault { method = "POST", path = "/echo", delay_ms = 1500 }
      local r = kind("timeout")
      assert.are.equal("timeout", r.kind, r.msg)
      assert.is_true(r.sent)
      assert.are.equal(1, r.attempts)
      assert.matches("sandbox.socialpush.test", r.msg, 1, true)
      assert.are.equal(1, #journal({ path = "/echo" }, 1))
    end)

    it("transport: a dropped connection after the request was sent", function()
      sb:fault { method = "POST", path = "/echo", drop_after_bytes = 0 }
      local r = kind("dropped")
      assert.are.equal("transport", r.kind, r.msg)
      assert.is_true(r.sent)
      assert.are.equal(1, #journal({ path = "/echo" }, 1))
    end)

    it("transport: a refused connection, nothing sent", function()
      local r = kind("refused")
      assert.are.equal("transport", r.kind, r.msg)
      assert.is_false(r.sent)
      assert.is_false(r.connected)
    end)

    it("tls: a certificate for another name", function()
      local r = kind("hostname")
      assert.are.equal("tls", r.kind, r.msg)
      assert.is_false(r.sent)
      assert.are.equal(1, r.attempts)            -- a failed verification is not retried
      assert.are.equal(0, #sb:requests())
    end)

    it("tls: a trust store without the sandbox CA (lua_ssl_trusted_certificate)", function()
      local r = kind("untrusted", "/wrongca/")
      assert.are.equal("tls", r.kind, r.msg)
      assert.is_false(r.sent)
      assert.are.equal(0, #sb:requests())
    end)

    it("too_large: a body over max_body, by length or as it streams", function()
      local r = kind("too_large")
      assert.are.equal("too_large", r.kind, r.msg)
      sb:fault { path = "/echo", oversized_bytes = 5000000 }
      r = kind("too_large_cl")
      assert.are.equal("too_large", r.kind, r.msg)
      r = kind("too_large_chunked")
      assert.are.equal("too_large", r.kind, r.msg)
      assert.matches("max_body", r.msg)
    end)

    it("invalid_argument: CR/LF in a header or a bad name, nothing sent", function()
      local r = kind("crlf")
      assert.are.equal("invalid_argument", r.kind, r.msg)
      assert.is_false(r.sent)
      r = kind("badname")
      assert.are.equal("invalid_argument", r.kind, r.msg)
      sleep(0.2)
      assert.are.same({}, sb:requests())
    end)

    it("cancelled: a job cancelled while its request waits", function()
      sb:fault { path = "/echo", delay_ms = 3000 }
      local r = kind("cancel")
      assert.is_true(r.cancelled)
      assert.are.equal("cancelled", r.kind, r.msg)
      assert.is_false(r.ok)
    end)
  end)

  it("left nothing alarming in the error log", function()
    local log = srv:error_log()
    assert.is_nil(log:find("[alert]", 1, true), log)
    assert.is_nil(log:find("lua entry thread aborted", 1, true), log)
    assert.is_nil(log:find("user thread aborted", 1, true), log)
  end)
end)
