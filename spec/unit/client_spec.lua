-- socialpush.client without a network: option checks, the job scheduler and the retry
-- policy, over a stub transport with a virtual clock (same interface as transport.curl).
local socialpush = require "socialpush"
local client_mod = require "socialpush.client"
local errors = require "socialpush.errors"

-- stub transport: serve(req, n) -> {delay=, status=, headers=, body=} or {delay=, err={...}}
local function stub(serve)
  local T = { started = {}, log = {} }
  T.__index = T
  local H = {}
  H.__index = H
  function H:done() return self.state ~= "running" end
  function H:result()
    if self.state == "cancelled" then
      return errors.fail { kind = "cancelled", message = "cancelled" }
    end
    local a = self.answer
    if a.err then
      local e = errors.new(a.err)
      e.sent, e.curl_code = a.err.sent, a.err.curl_code   -- set by the C engine
      return nil, e.message, e
    end
    return { status = a.status or 200, headers = a.headers or {}, header_list = {}, body = a.body or "" }
  end
  function H:cancel()
    if self.state ~= "running" then return false end
    self.state = "cancelled"
    return true
  end
  function H.progress() return 1, 2, 3, 4 end
  function H:close() self.closed = true end
  local mod = {}
  function mod.new(opts)
    local t = setmetatable({ clock = 0, inflight = {}, opts = opts, n = 0 }, T)
    mod.last = t
    return t
  end
  function T:start(shared)
    local req = {}                       -- the client reuses its table: keep a copy
    for k, v in pairs(shared) do req[k] = v end
    if req.url:find("invalid") then
      return errors.fail { kind = "invalid_argument", message = "bad url" }
    end
    self.n = self.n + 1
    T.log[#T.log + 1] = req
    local h = setmetatable({ state = "running", req = req,
      answer = serve(req, self.n), t0 = self.clock }, H)
    self.inflight[h] = true
    return h
  end
  function T:step(wait)
    local due, soonest = {}, nil
    for h in pairs(self.inflight) do
      if h.state ~= "running" then
        self.inflight[h] = nil
      else
        local at = h.t0 + (h.answer.delay or 0)
        if at <= self.clock then due[#due + 1] = h
        elseif not soonest or at < soonest then soonest = at end
      end
    end
    if #due == 0 and wait > 0 then      -- sleep: jump the virtual clock
      self.clock = self.clock + ((soonest and soonest - self.clock < wait) and soonest - self.clock or wait)
      return self:step(0)
    end
    for _, h in ipairs(due) do
      h.state = "done"
      self.inflight[h] = nil
    end
    return due, self:running()
  end
  function T:running()
    local n = 0
    for _ in pairs(self.inflight) do n = n + 1 end
    return n
  end
  function T:now() return self.clock end
  function T:close() self.closed = true end
  mod.T = T
  return mod
end

local function ok_after(delay, body)
  return function() return { delay = delay, status = 200, body = body or "ok" } end
end

describe("socialpush.new", function()
  it("raises on unknown options and wrong types", function()
    assert.has_error(function() socialpush.new { verify = false } end,
      "socialpush.new: unknown option 'verify'")
    assert.has_error(function() socialpush.new { timeout = "1" } end)
    assert.has_error(function() socialpush.new { timeout = 0 } end)
    assert.has_error(function() socialpush.new { retries = -1 } end)
    assert.has_error(function() socialpush.new { retries = 1.5 } end)
    assert.has_error(function() socialpush.new { max_body = 0.5 } end)
    assert.has_error(function() socialpush.new { on_progress = true } end)
    assert.has_error(function() socialpush.new "x" end)
  end)

  it("passes transport options through and keeps the rest on the client", function()
    local tr = stub(ok_after(0))
    local ids = {}
    local c = socialpush.new { transport = tr, timeout = 7, connect_timeout = 2, ca_file = "/ca",
      connect_to = { "a:443:b:1" }, identities = ids, resume_dir = "/tmp", retries = 1 }
    assert.are.same({ timeout = 7, connect_timeout = 2, ca_file = "/ca", connect_to = { "a:443:b:1" } },
      tr.last.opts)
    assert.are.equal(ids, c.identities)
    assert.are.equal("/tmp", c.resume_dir)
    c:close()
  end)

  it("closes idempotently; a closed client raises; tostring says closed", function()
    local tr = stub(ok_after(0))
    local c = socialpush.new { transport = tr }
    assert.are.equal("socialpush.client", tostring(c))
    c:close()
    c:close()
    assert.is_true(tr.last.closed)
    assert.are.equal("socialpush.client (closed)", tostring(c))
    assert.has_error(function() c:request { url = "https://x.test/" } end,
      "socialpush: attempt to use a closed client")
    assert.has_error(function() c:poll() end)
    assert.has_error(function() c:spawn(function() end) end)
    assert.has_error(function() c:all {} end)
  end)

  it("creates a real client on the curl transport", function()
    local c = socialpush.new()
    assert.are.equal(0, c:poll())
    c:close()
  end)
end)

describe("client:request", function()
  it("raises on misuse", function()
    local c = socialpush.new { transport = stub(ok_after(0)) }
    assert.has_error(function() c:request() end)
    assert.has_error(function() c:request {} end, "client:request: url expected")
    assert.has_error(function() c:request { url = "https://x.test/", follow = true } end,
      "client:request: unknown option 'follow'")
    assert.has_error(function() c:request { url = "https://x.test/", body = 5 } end)
    assert.has_error(function() c.request({}, { url = "https://x.test/" }) end)
  end)

  it("returns non-2xx statuses as responses and parses Retry-After", function()
    local c = socialpush.new { transport = stub(function()
      return { status = 404, headers = { ["retry-after"] = "7" } }
    end) }
    local res = assert(c:request { url = "https://x.test/" })
    assert.are.equal(404, res.status)
    assert.are.equal(7, res.retry_after)
    assert.are.equal(1, res.attempts)
  end)

  it("passes a refusal before sending straight through", function()
    local c = socialpush.new { transport = stub(ok_after(0)) }
    local res, msg, err = c:request { url = "https://invalid.test/" }
    assert.is_nil(res)
    assert.are.equal("bad url", msg)
    assert.are.equal("invalid_argument", err.kind)
  end)

  it("uppercases the method and forwards only transport fields", function()
    local tr = stub(ok_after(0))
    local c = socialpush.new { transport = tr }
    assert(c:request { method = "post", url = "https://x.test/", body = "b", idempotent = true,
      operation = "op", headers = { A = "1" } })
    local req = tr.T.log[#tr.T.log]
    assert.are.equal("POST", req.method)
    assert.are.equal("b", req.body)
    assert.is_nil(req.idempotent)
    assert.is_nil(req.operation)
  end)
end)

describe("retry policy", function()
  local function run(opts, spec, answers)
    local tr = stub(function(_, n) return answers[n] or answers[#answers] end)
    opts.transport = tr
    local c = socialpush.new(opts)
    local res, msg, err = c:request(spec)
    return res, msg, err, tr.last.n, tr.last.clock
  end
  it("re-sends a POST only when it provably never reached the server", function()
    local unsent = { err = { kind = "transport", message = "refused", sent = false } }
    local res, _, err, n = run({ retries = 3 }, { method = "POST", url = "https://x.test/" },
      { unsent, unsent, { status = 201 } })
    assert.are.equal(201, res.status)
    assert.are.equal(3, n)
    assert.is_nil(err)
    local sent = { err = { kind = "timeout", message = "timed out", sent = true } }
    res, _, err, n = run({ retries = 3 }, { method = "POST", url = "https://x.test/" }, { sent })
    assert.is_nil(res)
    assert.are.equal("timeout", err.kind)
    assert.are.equal(1, n)
    assert.are.equal(1, err.attempts)
    -- an idempotent GET is retried after the same failure
    res, _, _, n = run({ retries = 3 }, { url = "https://x.test/" }, { sent, { status = 200 } })
    assert.are.equal(200, res.status)
    assert.are.equal(2, n)
  end)

  it("never retries certificate failures, cancellations or too_large", function()
    for _, e in ipairs {
      { kind = "tls", message = "cert", sent = false, curl_code = 60 },
      { kind = "cancelled", message = "c", sent = false },
      { kind = "too_large", message = "big", sent = true },
    } do
      local res, _, err, n = run({ retries = 3 }, { url = "https://x.test/" }, { { err = e } })
      assert.is_nil(res)
      assert.are.equal(e.kind, err.kind)
      assert.are.equal(1, n)
    end
    -- a handshake that broke off (curl 35) before sending may be tried again
    local res, _, _, n = run({ retries = 3 }, { method = "POST", url = "https://x.test/" },
      { { err = { kind = "tls", message = "hs", sent = false, curl_code = 35 } }, { status = 200 } })
    assert.are.equal(200, res.status)
    assert.are.equal(2, n)
  end)

  it("retries on 429/503 with Retry-After for any method, waiting that long", function()
    local res, _, _, n, clock = run({ retries = 3 }, { method = "POST", url = "https://x.test/" },
      { { status = 503, headers = { ["retry-after"] = "2" } }, { status = 201 } })
    assert.are.equal(201, res.status)
    assert.are.equal(2, n)
    assert.is_true(clock >= 2)
  end)

  it("does not retry a POST on 5xx without Retry-After, but retries a GET", function()
    local res, _, _, n = run({ retries = 3 }, { method = "POST", url = "https://x.test/" },
      { { status = 502 }, { status = 200 } })
    assert.are.equal(502, res.status)
    assert.are.equal(1, n)
    res, _, _, n = run({ retries = 3 }, { method = "GET", url = "https://x.test/" },
      { { status = 502 }, { status = 500 }, { status = 200 } })
    assert.are.equal(200, res.status)
    assert.are.equal(3, n)
  end)

  it("honours idempotent = true on a POST and retries = 0", function()
    local res, _, _, n = run({ retries = 3 }, { method = "POST", url = "https://x.test/", idempotent = true },
      { { status = 504 }, { status = 200 } })
    assert.are.equal(200, res.status)
    assert.are.equal(2, n)
    res, _, _, n = run({ retries = 0 }, { url = "https://x.test/" }, { { status = 503 }, { status = 200 } })
    assert.are.equal(503, res.status)
    assert.are.equal(1, n)
  end)

  it("stops after `retries` extra attempts", function()
    local res, _, _, n = run({ retries = 2 }, { url = "https://x.test/" }, { { status = 500 } })
    assert.are.equal(500, res.status)
    assert.are.equal(3, n)
    assert.are.equal(3, res.attempts)
  end)

  it("does not wait longer than the timeout for Retry-After", function()
    local res, _, _, n = run({ retries = 3, timeout = 10 }, { url = "https://x.test/" },
      { { status = 429, headers = { ["retry-after"] = "60" } }, { status = 200 } })
    assert.are.equal(429, res.status)
    assert.are.equal(60, res.retry_after)
    assert.are.equal(1, n)
  end)
end)

describe("client.retry_after", function()
  local now = 784111777 -- Sun, 06 Nov 1994 08:49:37 GMT
  it("parses delta-seconds and the three HTTP-date forms", function()
    assert.are.equal(120, client_mod.retry_after("120"))
    assert.are.equal(0, client_mod.retry_after(" 0 "))
    assert.are.equal(10, client_mod.retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now))
    assert.are.equal(10, client_mod.retry_after("Sunday, 06-Nov-94 08:49:47 GMT", now))
    assert.are.equal(10, client_mod.retry_after("Sun Nov  6 08:49:47 1994", now))
    assert.are.equal(0, client_mod.retry_after("Sun, 06 Nov 1994 08:49:27 GMT", now))
    assert.are.equal(86400 + 3600, client_mod.retry_after("Mon, 07 Nov 1994 09:49:37 GMT", now))
  end)
  it("returns nil for anything else", function()
    assert.is_nil(client_mod.retry_after(nil))
    assert.is_nil(client_mod.retry_after("-5"))
    assert.is_nil(client_mod.retry_after("soon"))
    assert.is_nil(client_mod.retry_after("Sun, 06 Foo 1994 08:49:37 GMT", now))
  end)
end)

describe("jobs", function()
  local c, tr
  before_each(function()
    tr = stub(function(req)
      local ms = tonumber(req.url:match("ms=(%d+)") or "0")
      return { delay = ms / 1000, status = 200, body = req.url }
    end)
    c = socialpush.new { transport = tr }
  end)
  after_each(function() c:close() end)

  local function get(ms) return c:request { url = "https://x.test/?ms=" .. ms } end

  it("spawn runs until the first wait; result drives the loop", function()
    local job = c:spawn(function(a, b) local r = get(100) return r.body, a + b end, 1, 2)
    assert.is_false(job:done())
    assert.are.equal(1, c:poll())
    local body, sum = job:result()
    assert.are.equal("https://x.test/?ms=100", body)
    assert.are.equal(3, sum)
    assert.is_true(job:done())
    assert.are.equal(0, c:poll())
  end)

  it("poll never blocks: the virtual clock does not move", function()
    local job = c:spawn(function() return get(5000) end)
    for _ = 1, 10 do c:poll() end
    assert.are.equal(0, tr.last.clock)
    assert.is_false(job:done())
    job:result()
    assert.is_true(tr.last.clock >= 5)
  end)

  it("all returns packed results in order, whatever order they finish in", function()
    local out = c:all({
      function() return get(300).body, "a" end,
      function() return nil end,
      function() return get(100).body end,
      function() return end,
    })
    assert.are.equal(4, #out)
    assert.are.same({ n = 2, "https://x.test/?ms=300", "a" }, out[1])
    assert.are.same({ n = 1 }, out[2])
    assert.are.same({ n = 1, "https://x.test/?ms=100" }, out[3])
    assert.are.same({ n = 0 }, out[4])
    -- ran concurrently: the clock moved by the longest, not the sum
    assert.is_true(tr.last.clock < 0.4)
  end)

  it("all respects the concurrency limit", function()
    local fns = {}
    for i = 1, 6 do fns[i] = function() return get(100) end end
    c:all(fns, { concurrency = 2 })
    assert.is_true(tr.last.clock >= 0.3 - 1e-9)
    assert.has_error(function() c:all(fns, { concurrency = 0 }) end)
    assert.has_error(function() c:all { 1 } end)
  end)

  it("all inside a job yields instead of blocking", function()
    local job = c:spawn(function()
      local out = c:all { function() return get(100).body end, function() return get(200).body end }
      return out[1][1], out[2][1]
    end)
    assert.is_false(job:done())
    local a, b = job:result()
    assert.are.equal("https://x.test/?ms=100", a)
    assert.are.equal("https://x.test/?ms=200", b)
  end)

  it("all raises the first error and cancels the rest", function()
    local slow
    assert.has_error(function()
      c:all {
        function() slow = true; return get(1000) end,
        function() get(10); error("boom", 0) end,
      }
    end, "boom")
    assert.is_true(slow)
  end)

  it("job:result re-raises the job's error", function()
    local job = c:spawn(function() error({ code = 42 }) end)
    assert.is_true(job:done())
    local ok, e = pcall(job.result, job)
    assert.is_false(ok)
    assert.are.equal(42, e.code)
  end)

  it("cancel ends a waiting job with kind cancelled and cancels its request", function()
    local job = c:spawn(function() return get(1000) end)
    assert.is_true(job:cancel())
    assert.is_false(job:cancel())
    local res, msg, err = job:result()
    assert.is_nil(res)
    assert.are.equal("job cancelled", msg)
    assert.are.equal("cancelled", err.kind)
    assert.are.equal(0, c:poll())
  end)

  it("cancel works on a sleeping job", function()
    local job = c:spawn(function() c:sleep(100) return "woke" end)
    assert.is_true(job:cancel())
    local _, _, err = job:result()
    assert.are.equal("cancelled", err.kind)
    assert.are.equal(0, tr.last.clock)
  end)

  it("sleep inside a job does not block other jobs", function()
    local order = {}
    local a = c:spawn(function() c:sleep(1) order[#order + 1] = "a" end)
    local b = c:spawn(function() get(100) order[#order + 1] = "b" end)
    a:result()
    b:result()
    assert.are.same({ "b", "a" }, order)
  end)

  it("a plain coroutine.yield in a job resumes at the next poll", function()
    local n = 0
    local job = c:spawn(function()
      for _ = 1, 3 do n = n + 1; coroutine.yield() end
      return n
    end)
    assert.are.equal(1, n)
    c:poll()
    assert.are.equal(2, n)
    assert.are.equal(3, job:result())
  end)

  it("close cancels running jobs", function()
    local job = c:spawn(function() return get(1000) end)
    c:close()
    local _, _, err = job:result()
    assert.are.equal("cancelled", err.kind)
  end)

  it("calls on_progress from the loop", function()
    local seen = {}
    local pc = socialpush.new { transport = tr, on_progress = function(p) seen[#seen + 1] = p end }
    assert(pc:request { url = "https://x.test/?ms=50", operation = "test.op" })
    assert.is_true(#seen >= 1)
    assert.are.same({ operation = "test.op", sent = 1, total = 2, received = 3, received_total = 4 },
      seen[1])
    pc:close()
  end)
end)
