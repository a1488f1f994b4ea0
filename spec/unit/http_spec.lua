-- socialpush.core.http engine and request semantics that need no network:
-- option checks, refusal of bad input before anything is sent, close/gc/tostring.
local core = require "socialpush.core"
local http = core.http
local errors = require "socialpush.errors"

-- a URL nothing listens on is never contacted by these specs: every request below is
-- refused before it is added, or cancelled/closed before the engine runs
local URL = "https://api.x.com/2/tweets?access_token=SECRET123"

local function tmpfile(content)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write(content)
  f:close()
  return path
end

describe("core.http.new", function()
  it("creates an engine with defaults and with every option", function()
    local e = http.new()
    assert.matches("^socialpush.engine %(", tostring(e))
    e:close()
    e = http.new { timeout = 1.5, connect_timeout = 0.25, ca_file = "/nonexistent/ca.pem",
      proxy = "", connect_to = { "api.x.com:443:127.0.0.1:9" }, user_agent = "t/1",
      max_body = 1024 }
    assert.are.equal(0, e:running())
    e:close()
  end)

  it("raises on unknown options and wrong types", function()
    assert.has_error(function() http.new { verify = false } end, "http.new: unknown option 'verify'")
    assert.has_error(function() http.new { ssl_verifypeer = 0 } end)
    assert.has_error(function() http.new { timeout = "10" } end)
    assert.has_error(function() http.new { timeout = 0 } end)
    assert.has_error(function() http.new { timeout = -1 } end)
    assert.has_error(function() http.new { max_body = 1.5 } end)
    assert.has_error(function() http.new { connect_to = "a:443:b:1" } end)
    assert.has_error(function() http.new { connect_to = { 1 } } end)
    assert.has_error(function() http.new { connect_to = { "a:443:b:1\r\nX: y" } } end)
    assert.has_error(function() http.new { ca_file = "a\0b" } end)
    assert.has_error(function() http.new(42) end)
  end)

  it("offers a monotonic clock", function()
    local a = http.now()
    local b = http.now()
    assert.is_number(a)
    assert.is_true(b >= a)
  end)
end)

describe("engine userdata", function()
  it("closes idempotently; tostring says closed; use after close raises", function()
    local e = http.new()
    e:close()
    e:close()
    assert.are.equal("socialpush.engine (closed)", tostring(e))
    assert.has_error(function() e:add { url = URL } end, "attempt to use a closed socialpush.engine")
    assert.has_error(function() e:perform(0) end)
    assert.has_error(function() e:done() end)
  end)

  it("survives garbage collection with requests still linked", function()
    for _ = 1, 20 do
      local e = http.new()
      local r = e:add { url = URL }
      assert.is_truthy(r)
      e = nil  -- luacheck: ignore 311
      r = nil  -- luacheck: ignore 311
      collectgarbage()
      collectgarbage()
    end
  end)

  it("honours <close> on Lua 5.4", function()
    if _VERSION < "Lua 5.4" then return end
    local chunk = assert(load([[
      local http = ...
      local seen
      do
        local e <close> = http.new()
        seen = e
      end
      return tostring(seen)
    ]]))
    assert.are.equal("socialpush.engine (closed)", chunk(http))
  end)

  it("cancels in-flight requests when closed", function()
    local e = http.new()
    local r = assert(e:add { url = URL })
    assert.is_false(r:done())
    e:close()
    assert.is_true(r:done())
    local res, msg, err = r:result()
    assert.is_nil(res)
    assert.are.equal("cancelled", err.kind)
    assert.matches("api.x.com", msg, 1, true)
    assert.is_false(err.sent)
  end)
end)

describe("engine:add", function()
  local e
  before_each(function() e = http.new() end)
  after_each(function() e:close() end)

  local function refused(spec, pattern)
    local r, msg, err = e:add(spec)
    assert.is_nil(r)
    assert.is_string(msg)
    assert.is_true(errors.is(err, "invalid_argument"), tostring(msg))
    assert.are.equal(0, e:running())      -- nothing was started, so nothing was sent
    assert.is_false(err.sent)
    if pattern then assert.matches(pattern, msg) end
    assert.is_nil(msg:find("SECRET123", 1, true))
    return msg
  end

  it("refuses CR, LF or NUL in header names and values before anything is sent", function()
    refused({ url = URL, headers = { ["X-A"] = "v\r\nInjected: 1" } }, "X%-A")
    refused({ url = URL, headers = { ["X-A"] = "v\nx" } })
    refused({ url = URL, headers = { ["X-A"] = "v\rx" } })
    refused({ url = URL, headers = { ["X-A"] = "v\0x" } })
    refused({ url = URL, headers = { ["X-A\r\nB"] = "v" } })
    refused({ url = URL, headers = { { "X-A", "ok" }, { "X-B", "bad\r\n" } } })
    refused({ url = URL, headers = { { "Bad Name", "v" } } })
    refused({ url = URL, headers = { { "Bad:Name", "v" } } })
    refused({ url = URL, headers = { { "", "v" } } })
  end)

  it("never echoes a refused header value", function()
    local msg = refused({ url = URL, headers = { Authorization = "Bearer SECRET123\r\n" } })
    assert.is_nil(msg:find("Bearer", 1, true))
  end)

  it("refuses bad URLs and methods", function()
    refused({ url = "https://api.x.com/a b" })
    refused({ url = "https://api.x.com/\r\nHost: evil" })
    refused({ url = "ftp://example.com/x" }, "https and http")
    refused({ url = "file:///etc/passwd" })
    refused({ url = "not a url" })
    refused({ url = URL, method = "GE T" })
    refused({ url = URL, method = "" })
    refused({ url = URL, method = "POST\r\n" })
  end)

  it("refuses unusable upload files", function()
    refused({ url = URL, method = "PUT", body = { file = "/nonexistent/file" } }, "cannot open")
    refused({ url = URL, method = "PUT", body = { file = "/" } }, "regular file")
    local path = tmpfile("0123456789")
    refused({ url = URL, method = "PUT", body = { file = path, offset = 11 } })
    refused({ url = URL, method = "PUT", body = { file = path, offset = 4, length = 7 } }, "shorter")
    refused({ url = URL, method = "POST", body = { multipart = { { name = "f", file = "/nonexistent" } } } })
    local r = assert(e:add { url = URL, method = "PUT", body = { file = path, offset = 4, length = 6 } })
    local _, total = r:progress()
    assert.are.equal(0, total)     -- nothing ran yet
    r:cancel()
    os.remove(path)
  end)

  it("raises on misuse: unknown fields and wrong types", function()
    assert.has_error(function() e:add { url = URL, follow = true } end, "engine:add: unknown option 'follow'")
    assert.has_error(function() e:add {} end, "engine:add: url expected")
    assert.has_error(function() e:add { url = 1 } end)
    assert.has_error(function() e:add { url = URL, headers = "X: y" } end)
    assert.has_error(function() e:add { url = URL, headers = { X = {} } } end)
    assert.has_error(function() e:add { url = URL, headers = { [1] = "X: y" } } end)
    assert.has_error(function() e:add { url = URL, body = 42 } end)
    assert.has_error(function() e:add { url = URL, body = { path = "x" } } end)
    assert.has_error(function() e:add { url = URL, body = { file = "x", offset = -1 } } end)
    assert.has_error(function() e:add { url = URL, body = { multipart = {} } } end)
    assert.has_error(function() e:add { url = URL, body = { multipart = { { name = "a" } } } } end)
    assert.has_error(function() e:add { url = URL, body = { multipart = { { data = "a" } } } } end)
    assert.has_error(function()
      e:add { url = URL, body = { multipart = { { name = "a", data = "x", file = "y" } } } }
    end)
    assert.has_error(function() e:add { url = URL, timeout = 0 } end)
    assert.has_error(function() e:add { url = URL, max_body = -5 } end)
    assert.has_error(function() e:add { url = URL, sink = "file" } end)
    assert.are.equal(0, e:running())
  end)

  it("accepts map and list headers, false to suppress, numbers as values", function()
    local r = assert(e:add { url = URL, method = "POST", body = "{}",
      headers = { ["Content-Type"] = "application/json", Accept = false, ["X-N"] = 5,
        { "X-Repeat", "1" }, { "X-Repeat", "2" }, { "X-Empty", "" } } })
    assert.are.equal(1, e:running())
    assert.is_true(r:cancel())
    assert.is_false(r:cancel())
    assert.are.equal(0, e:running())
  end)
end)

describe("request userdata", function()
  local e
  before_each(function() e = http.new() end)
  after_each(function() e:close() end)

  it("never shows the URL in tostring, and says closed once closed", function()
    local r = assert(e:add { url = URL })
    local s = tostring(r)
    assert.matches("^socialpush.request GET api.x.com %(running%)$", s)
    r:close()
    r:close()
    assert.are.equal("socialpush.request (closed)", tostring(r))
    assert.has_error(function() r:result() end, "attempt to use a closed socialpush.request")
    assert.has_error(function() r:progress() end)
    assert.has_error(function() r:cancel() end)
    assert.are.equal(0, e:running())
  end)

  it("raises when result() is asked before it finished", function()
    local r = assert(e:add { url = URL })
    assert.has_error(function() r:result() end)
    r:cancel()
  end)

  it("gives kind cancelled after cancel, the same triple every time", function()
    local r = assert(e:add { url = URL, method = "POST", body = "x" })
    assert.is_true(r:cancel())
    assert.is_true(r:done())
    local res, msg, err = r:result()
    assert.is_nil(res)
    assert.are.equal("cancelled", err.kind)
    assert.are.equal(msg, tostring(err))
    local res2, msg2, err2 = r:result()
    assert.is_nil(res2)
    assert.are.equal(msg, msg2)
    assert.are.equal(err, err2)
    local sent, ul_total, received, dl_total = r:progress()
    assert.are.same({ 0, 0, 0, 0 }, { sent, ul_total, received, dl_total })
  end)

  it("result(true) returns the result and closes the request", function()
    local r = assert(e:add { url = URL, method = "POST", body = "x" })
    r:cancel()
    local res, msg, err = r:result(true)
    assert.is_nil(res)
    assert.are.equal("cancelled", err.kind)
    assert.are.equal(msg, tostring(err))
    assert.are.equal("socialpush.request (closed)", tostring(r))
    assert.has_error(function() r:result() end, "attempt to use a closed socialpush.request")
    assert.are.equal(0, e:running())
  end)

  it("reuses a request the caller is done with, without its old state", function()
    local r1 = assert(e:add { url = URL, method = "POST", body = "x" })
    r1:cancel()
    assert.are.equal("cancelled", select(3, r1:result(true)).kind)
    local r2 = assert(e:add { url = "https://upload.x.com/1.1/media/upload.json" })
    assert.are.equal(r1, r2)                    -- the same userdata, recycled
    assert.matches("^socialpush.request GET upload.x.com %(running%)$", tostring(r2))
    assert.is_false(r2:done())
    assert.has_error(function() r2:result() end)   -- no stale cached result
    r2:cancel()
    local res, _, err = r2:result()
    assert.is_nil(res)
    assert.are.equal("cancelled", err.kind)
    r2:close()
    local r3 = assert(e:add { url = URL })      -- a plain close is not recycled
    assert.are_not.equal(r2, r3)
    r3:close()
  end)

  it("start is add, and a start after a refused one still works (URL cache)", function()
    local r1, msg, err = e:start { url = "https://exa mple.com/" }
    assert.is_nil(r1)
    assert.are.equal("invalid_argument", err.kind)
    assert.matches("invalid URL", msg)
    local r = assert(e:start { url = URL })
    assert.matches("api.x.com", tostring(r))
    local r2 = assert(e:start { url = "https://upload.x.com/1.1/media/upload.json" })
    assert.matches("upload.x.com", tostring(r2))
    local r3 = assert(e:start { url = URL })
    assert.matches("api.x.com", tostring(r3))
    assert.is_nil((e:start { url = "gopher://api.x.com/" }))
    for _, q in ipairs { r, r2, r3 } do q:close() end
  end)

  it("is not reported by done() once cancelled", function()
    local r = assert(e:add { url = URL })
    r:cancel()
    local running, nfinished = e:perform(0)
    assert.are.equal(0, running)
    assert.are.equal(0, nfinished)
    assert.are.same({}, e:done())
  end)

  it("keeps its engine alive", function()
    local r = assert(http.new():add { url = URL })
    collectgarbage()
    collectgarbage()
    assert.is_false(r:done())
    assert.is_true(r:cancel())
  end)

  it("honours <close> on Lua 5.4", function()
    if _VERSION < "Lua 5.4" then return end
    local chunk = assert(load([[
      local e, url = ...
      local seen
      do
        local r <close> = e:add { url = url }
        seen = r
      end
      return tostring(seen), e:running()
    ]]))
    local s, n = chunk(e, URL)
    assert.are.equal("socialpush.request (closed)", s)
    assert.are.equal(0, n)
  end)

  it("perform() with a wait sleeps when nothing runs", function()
    local t0 = http.now()
    local running, nfinished = e:perform(0.05)
    assert.are.equal(0, running)
    assert.are.equal(0, nfinished)
    assert.is_true(http.now() - t0 >= 0.04)
  end)
end)
