-- client:request, the job scheduler and the retry policy with real libcurl against the
-- sandbox (HTTPS on 127.0.0.1, routed with CONNECT_TO). Every wait is bounded.
local helpers = require "spec_helpers"
local socialpush = require "socialpush"
local json = require "socialpush.json"
local errors = require "socialpush.errors"

local sb
local tmpdir

local function sh(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("*a")
  p:close()
  return out
end

local function client(opts) return helpers.client(sb, opts) end

local function journal(filter, min, c) return helpers.journal(sb, filter, min, c) end

local function make_file(name, mib)
  local path = tmpdir .. "/" .. name
  sh(("head -c %d /dev/urandom > '%s'"):format(mib * 1024 * 1024, path))
  return path
end

local function sha256sum(path)
  return sh("sha256sum '" .. path .. "'"):match("^(%x+)")
end

describe("transport #integration", function()
  setup(function()
    sb = helpers.sandbox()
    tmpdir = sh("mktemp -d"):match("^%s*(.-)%s*$")
  end)

  teardown(function()
    if tmpdir and tmpdir:match("^/tmp/") then sh("rm -rf '" .. tmpdir .. "'") end
  end)

  before_each(function() sb:reset() end)

  it("reuses one connection for sequential requests (keep-alive)", function()
    local c = client()
    local a = assert(c:request { url = sb:url("/echo?n=1") })
    local b = assert(c:request { url = sb:url("/echo?n=2") })
    assert.are.equal(200, a.status)
    assert.are.equal(200, b.status)
    assert.is_true(b.reused)
    assert.are.equal("2", b.http_version)      -- HTTP/2 over TLS when offered
    local j = journal({ path = "/echo" }, 2)
    assert.are.equal(2, #j)
    assert.are.equal(j[1].connection, j[2].connection)
    assert.is_number(b.timings.total)
    c:close()
  end)

  it("returns responses of any status with lower-cased headers", function()
    local c = client()
    sb:fault { path = "/status", headers = { ["X-Test-Header"] = "yes" } }
    local res = assert(c:request { url = sb:url("/status?code=404") })
    assert.are.equal(404, res.status)
    assert.are.equal("yes", res.headers["x-test-header"])
    local seen = false
    for _, kv in ipairs(res.header_list) do
      assert.are.equal(kv[1]:lower(), kv[1])
      if kv[1] == "x-test-header" then seen = kv[2] == "yes" end
    end
    assert.is_true(seen)
    assert.are.equal(1, res.attempts)
    c:close()
  end)

  it("fails with kind tls without the sandbox CA, never showing the query", function()
    local c = socialpush.new { connect_to = sb:options().connect_to, retries = 2 }
    local res, msg, err = c:request { url = sb:url("/echo?access_token=SECRET_TOKEN") }
    assert.is_nil(res)
    assert.are.equal("tls", err.kind)
    assert.is_false(err.sent)
    assert.are.equal(1, err.attempts)          -- a failed verification is not retried
    assert.is_nil(msg:find("SECRET_TOKEN", 1, true))
    assert.matches("sandbox.socialpush.test", msg, 1, true)
    assert.are.equal(0, #sb:requests())
    c:close()
  end)

  it("returns a redirect as a response and sends nothing to the other host", function()
    local c = client()
    local to = "https://other.socialpush.test/echo"
    local res = assert(c:request { url = sb:url("/redirect?to=" .. to),
      headers = { Authorization = "Bearer SECRET_TOKEN" } })
    assert.are.equal(302, res.status)
    assert.are.equal(to, res.headers.location)
    journal({ path = "/redirect" }, 1)
    assert.are.equal(0, #sb:requests { host = "other.socialpush.test" })
    c:close()
  end)

  it("times out with kind timeout", function()
    local c = client()
    local res, msg, err = c:request { url = sb:url("/delay?ms=3000"), timeout = 0.3, retries = 0 }
    assert.is_nil(res)
    assert.are.equal("timeout", err.kind, msg)
    assert.is_true(err.sent)
    assert.is_true(err.connected)
    c:close()
  end)

  it("reports a dropped connection as kind transport and does not re-send a POST", function()
    local c = client()
    sb:fault { method = "POST", path = "/echo", drop_after_bytes = 0 }
    local res, msg, err = c:request { method = "POST", url = sb:url("/echo"), body = "payload" }
    assert.is_nil(res)
    assert.are.equal("transport", err.kind, msg)
    assert.is_true(err.sent)
    assert.are.equal(1, err.attempts)
    assert.are.equal(1, #journal({ path = "/echo" }, 1))
    c:close()
  end)

  it("refuses a body over max_body with kind too_large", function()
    local c = client { max_body = 100000 }
    local ok = assert(c:request { url = sb:url("/bytes?n=100000") })
    assert.are.equal(100000, #ok.body)
    local res, msg, err = c:request { url = sb:url("/bytes?n=100001") }
    assert.is_nil(res)
    assert.are.equal("too_large", err.kind, msg)
    assert.are.equal(1, err.attempts)
    sb:fault { path = "/echo", oversized_bytes = 5000000 }
    res, msg, err = c:request { url = sb:url("/echo"), max_body = 4096 }
    assert.is_nil(res)
    assert.are.equal("too_large", err.kind, msg)
    c:close()
  end)

  it("refuses CR/LF in a header with invalid_argument and sends nothing", function()
    local c = client()
    local res, msg, err = c:request { method = "POST", url = sb:url("/echo?t=crlf1"), body = "x",
      headers = { { "X-Evil", "a\r\nX-Injected: 1" } } }
    assert.is_nil(res)
    assert.are.equal("invalid_argument", err.kind, msg)
    res, msg, err = c:request { url = sb:url("/echo?t=crlf2"), headers = { ["X-Evil\n"] = "a" } }
    assert.is_nil(res)
    assert.are.equal("invalid_argument", err.kind, msg)
    c:sleep(0.2)
    -- (only this spec's requests: an aborted response of the spec before may be
    -- journaled late, after the reset)
    local mine = {}
    for _, e in ipairs(sb:requests()) do
      if (e.query or ""):find("crlf", 1, true) or e.method == "POST" then mine[#mine + 1] = e end
    end
    assert.are.same({}, mine)
    c:close()
  end)

  it("runs 200 requests through client:all with 16 in flight, all correct", function()
    local c = client()
    local fns = {}
    for i = 1, 200 do
      fns[i] = function()
        local body = "request number " .. i
        local res, msg = c:request { method = "POST", url = sb:url("/echo?i=" .. i), body = body,
          headers = { ["Content-Type"] = "text/plain" } }
        if not res then return nil, msg end
        local doc = assert(json.decode(res.body))
        return doc.body, doc.query, res.status
      end
    end
    local out = c:all(fns, { concurrency = 16 })
    assert.are.equal(200, #out)
    for i = 1, 200 do
      assert.are.equal(3, out[i].n)
      assert.are.equal("request number " .. i, out[i][1])
      assert.are.equal("i=" .. i, out[i][2])
      assert.are.equal(200, out[i][3])
    end
    local j = journal({ path = "/echo" }, 200)
    assert.are.equal(200, #j)
    local conns = {}
    for _, e in ipairs(j) do conns[e.connection] = true end
    local n = 0
    for _ in pairs(conns) do n = n + 1 end
    assert.is_true(n <= 16, "connections used: " .. n)
    c:close()
  end)

  it("poll() returns at once while a slow request is pending", function()
    local c = client()
    local job = c:spawn(function()
      return c:request { url = sb:url("/delay?ms=1500") }
    end)
    assert.is_false(job:done())
    local polls = 0
    while not job:done() and polls < 50000000 do
      polls = polls + 1
      assert.is_true(c:poll() <= 1)
    end
    -- a blocking poll would have returned once or twice in 1.5 s
    assert.is_true(polls > 100, "polls: " .. polls)
    local res = assert(job:result())
    assert.are.equal(200, res.status)
    assert.are.equal(0, c:poll())
    c:close()
  end)

  it("cancels a job mid-upload; the server gets fewer bytes", function()
    local c = client()
    local path = make_file("cancel.bin", 16)
    sb:fault { method = "PUT", path = "/upload", delay_ms = 3000 }
    local sent = 0
    local job = c:spawn(function()
      return c:request { method = "PUT", url = sb:url("/upload"), body = { file = path },
        on_progress = function(p) sent = p.sent end }
    end)
    local deadline = c:now() + 10
    while sent == 0 and c:now() < deadline do c:sleep(0.01) end
    assert.is_true(sent > 0)
    assert.is_true(job:cancel())
    assert.is_false(job:cancel())
    local res, msg, err = job:result()
    assert.is_nil(res)
    assert.are.equal("cancelled", err.kind, msg)
    assert.is_true(errors.is(err, "cancelled"))
    for _, e in ipairs(sb:requests { path = "/upload" }) do
      assert.is_true(e.body_size < 16 * 1024 * 1024)
    end
    c:close()
  end)

  it("uploads 64 MiB from a file, streamed, with the right sha256", function()
    local c = client { timeout = 120 }
    local path = make_file("big.bin", 64)
    local last
    local res = assert(c:request { method = "PUT", url = sb:url("/upload"), body = { file = path },
      headers = { ["Content-Type"] = "application/octet-stream" },
      on_progress = function(p) last = p end })
    assert.are.equal(200, res.status)
    local doc = assert(json.decode(res.body))
    assert.are.equal(64 * 1024 * 1024, doc.bytes)
    assert.are.equal(sha256sum(path), doc.sha256)
    assert.are.equal(64 * 1024 * 1024, last.sent)
    assert.are.equal(64 * 1024 * 1024, last.total)
  end)

  it("uploads a slice of a file (offset, length)", function()
    local c = client()
    local path = make_file("slice.bin", 1)
    local want = sh(("tail -c +1001 '%s' | head -c 5000 | sha256sum"):format(path)):match("^(%x+)")
    local res = assert(c:request { method = "POST", url = sb:url("/upload"),
      body = { file = path, offset = 1000, length = 5000 } })
    local doc = assert(json.decode(res.body))
    assert.are.equal(5000, doc.bytes)
    assert.are.equal(want, doc.sha256)
    c:close()
  end)

  it("sends a multipart body intact", function()
    local c = client()
    local path = tmpdir .. "/part.txt"
    local f = assert(io.open(path, "wb"))
    f:write("file-content-123")
    f:close()
    local res = assert(c:request { method = "POST", url = sb:url("/echo"), body = { multipart = {
      { name = "field", data = "value-abc" },
      { name = "media", file = path, filename = "pic.png", content_type = "image/png" } } } })
    local doc = assert(json.decode(res.body))
    assert.matches("^multipart/form%-data; boundary=", doc.headers["content-type"])
    assert.is_true(doc.body_size > #"value-abc" + #"file-content-123")
    assert.matches('name="field"', doc.body, 1, true)
    assert.matches("value-abc", doc.body, 1, true)
    assert.matches('filename="pic.png"', doc.body, 1, true)
    assert.matches("Content-Type: image/png", doc.body, 1, true)
    assert.matches("file-content-123", doc.body, 1, true)
    c:close()
  end)

  it("streams a download to a sink file", function()
    local c = client()
    local path = tmpdir .. "/sink.bin"
    local res = assert(c:request { url = sb:url("/bytes?n=300000"), sink = { file = path } })
    assert.are.equal(200, res.status)
    assert.are.equal("", res.body)
    assert.are.equal(300000, res.body_bytes)
    local f = assert(io.open(path, "rb"))
    assert.are.equal(300000, f:seek("end"))
    f:close()
    c:close()
  end)

  describe("retry policy", function()
    it("retries a POST refused with 503 + Retry-After", function()
      local c = client()
      sb:fault { method = "POST", path = "/echo", nth = 1, status = 503, retry_after = 1 }
      local res = assert(c:request { method = "POST", url = sb:url("/echo"), body = "once" })
      assert.are.equal(200, res.status)
      assert.are.equal(2, res.attempts)
      local j = journal({ path = "/echo" }, 2)
      assert.are.equal(2, #j)
      assert.are.equal(503, j[1].status)
      assert.are.equal(200, j[2].status)
      c:close()
    end)

    it("hands back a 429 whose Retry-After exceeds the timeout, with retry_after", function()
      local c = client { timeout = 5 }
      sb:fault { method = "POST", path = "/echo", status = 429, retry_after = 3600 }
      local res = assert(c:request { method = "POST", url = sb:url("/echo"), body = "x" })
      assert.are.equal(429, res.status)
      assert.are.equal(3600, res.retry_after)
      assert.are.equal(1, res.attempts)
      c:close()
    end)

    it("never re-sends a POST that timed out after sending", function()
      local c = client()
      sb:fault { method = "POST", path = "/echo", nth = 1, delay_ms = 1500 }
      local res, msg, err = c:request { method = "POST", url = sb:url("/echo"), body = "once",
        timeout = 0.5 }
      assert.is_nil(res)
      assert.are.equal("timeout", err.kind, msg)
      assert.is_true(err.sent)
      assert.are.equal(1, err.attempts)
      -- the delayed request is journaled when the server finishes it; a re-send would
      -- have come (and been journaled) before that
      assert.are.equal(1, #journal({ path = "/echo" }, 1, c))
      c:sleep(0.3)
      assert.are.equal(1, #sb:requests { path = "/echo" })
      c:close()
    end)

    it("retries an idempotent GET after a timeout", function()
      local c = client()
      sb:fault { method = "GET", path = "/echo", nth = 1, delay_ms = 1500 }
      local res = assert(c:request { url = sb:url("/echo"), timeout = 0.5 })
      assert.are.equal(200, res.status)
      assert.are.equal(2, res.attempts)
      c:close()
    end)

    it("retries a refused connection `retries` times, then fails with kind transport", function()
      local c = socialpush.new { retries = 2 }
      local res, msg, err = c:request { method = "POST", url = "http://127.0.0.1:1/x", body = "x" }
      assert.is_nil(res)
      assert.are.equal("transport", err.kind, msg)
      assert.is_false(err.sent)
      assert.are.equal(3, err.attempts)
      c:close()
    end)
  end)

  it("progresses other jobs while a call blocks outside a job", function()
    local c = client()
    local job = c:spawn(function()
      local a = assert(c:request { url = sb:url("/delay?ms=200") })
      local b = assert(c:request { url = sb:url("/echo?second") })
      return a.status + b.status
    end)
    local res = assert(c:request { url = sb:url("/delay?ms=600") })
    assert.are.equal(200, res.status)
    assert.is_true(job:done())
    assert.are.equal(400, job:result())
    c:close()
  end)
end)
