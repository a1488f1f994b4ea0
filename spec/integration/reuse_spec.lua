-- What the engine keeps between requests, through real libcurl and the sandbox: pooled
-- easy handles keep their options for requests of the same shape (same method, no body
-- or one in memory) and are reset for any other, the engine remembers the last URL's
-- parse, the User-Agent line is the engine's unless a request sets its own, and a
-- response builds header_list and timings on first use. None of it may leak from one
-- request into the next: every spec here checks what the server saw.
local helpers = require "spec_helpers"
local socialpush = require "socialpush"
local json = require "socialpush.json"
local sign = require "socialpush.sign"
local http = require("socialpush.core").http

local sb, tmpdir
local sh = helpers.sh

-- the echo endpoint's view of a request: method, body size and sha256, headers
local function echo(c, spec)
  spec.url = spec.url or sb:url("/echo")
  local res, msg = c:request(spec)
  assert(res, msg)
  assert.are.equal(200, res.status)
  if spec.method == "HEAD" then return nil, res end
  return json.decode(res.body), res
end

local function header(seen, name)
  for k, v in pairs(seen.headers) do
    if k:lower() == name then return v end
  end
end

describe("engine reuse #integration", function()
  local function client(opts) return helpers.client(sb, opts) end

  setup(function()
    sb = helpers.sandbox()
    tmpdir = helpers.tmpdir()
  end)

  teardown(function() helpers.rmdir(tmpdir) end)

  before_each(function() sb:reset() end)

  it("switches request shapes on one client without carrying options over", function()
    local c = client()
    local file = tmpdir .. "/part.bin"
    sh("printf 'file-part-123' > '" .. file .. "'")
    -- neighbours with the same kind of body but another method are what a handle kept
    -- for reuse must not confuse (a custom method, NOBODY, POSTFIELDS left behind)
    local steps = {
      { method = "POST", body = "abc", size = 3 },
      { method = "PUT", body = "0123456789", size = 10 },
      { method = "POST", body = "defgh", size = 5 },
      { method = "PATCH", body = "pq", size = 2 },
      { method = "POST", body = "abc", size = 3 },
      { method = "GET", size = 0 },
      { method = "DELETE", size = 0 },
      { method = "GET", size = 0 },
      { method = "HEAD" },
      { method = "GET", size = 0 },
      { method = "PATCH", size = 0 },
      { method = "DELETE", size = 0 },
      { method = "POST", size = 0 },
      { method = "GET", size = 0 },
      { method = "POST", body = { file = file }, size = 13 },
      { method = "GET", size = 0 },
      { method = "POST", body = { multipart = { { name = "a", data = "xyz" } } } },
      { method = "PUT", body = { file = file, offset = 5 }, size = 8 },
      { method = "HEAD" },
      { method = "POST", body = "abc", size = 3 },
      { method = "OPTIONS", size = 0 },
      { method = "GET", size = 0 },
    }
    for i, s in ipairs(steps) do
      local seen, res = echo(c, { method = s.method, body = s.body,
        url = sb:url("/echo?shape=" .. i), headers = { ["X-Step"] = tostring(i) } })
      if s.method == "HEAD" then
        assert.are.equal("", res.body)
      else
        assert.are.equal(s.method, seen.method, "step " .. i)
        assert.are.equal(tostring(i), header(seen, "x-step"), "step " .. i)
        if s.size then assert.are.equal(s.size, seen.body_size, "step " .. i) end
        if s.size == 0 and (s.method == "GET" or s.method == "DELETE") then
          assert.is_nil(header(seen, "content-type"), "step " .. i)
        end
        if type(s.body) == "string" then
          assert.are.equal(sign.hex(sign.sha256(s.body)), seen.body_sha256, "step " .. i)
        end
      end
    end
    -- this spec's requests only (a late entry of an earlier spec may be journaled too)
    local j
    for _ = 1, 50 do
      j = {}
      for _, e in ipairs(assert(sb:requests { path = "/echo" })) do
        if (e.query or ""):match("^shape=%d+$") then j[#j + 1] = e end
      end
      if #j >= #steps then break end
      c:sleep(0.1)
    end
    assert.are.equal(#steps, #j)
    for i, s in ipairs(steps) do assert.are.equal(s.method, j[i].method, "journal " .. i) end
    c:close()
  end)

  it("keeps each request's own body when many of the same shape run at once", function()
    local c = client()
    local fns = {}
    for i = 1, 40 do
      fns[i] = function()
        local body = ("body-%d-"):format(i):rep(i)
        local seen = echo(c, { method = "POST", body = body })
        return seen.body_sha256 == sign.hex(sign.sha256(body)) and seen.body_size == #body
      end
    end
    local out = c:all(fns, { concurrency = 8 })
    for i = 1, 40 do assert.is_true(out[i][1], "request " .. i) end
    c:close()
  end)

  it("does not carry a request's max_body or timeout into the next one", function()
    local c = client { retries = 0 }
    local res, _, err = c:request { url = sb:url("/bytes?n=5000"), max_body = 1000 }
    assert.is_nil(res)
    assert.are.equal("too_large", err.kind)
    res = assert(c:request { url = sb:url("/bytes?n=5000") })
    assert.are.equal(5000, #res.body)
    res, _, err = c:request { url = sb:url("/delay?ms=700"), timeout = 0.2 }
    assert.is_nil(res)
    assert.are.equal("timeout", err.kind)
    res = assert(c:request { url = sb:url("/delay?ms=300") })
    assert.are.equal(200, res.status)
    -- the abandoned one is journaled when the server finishes it: wait for that, so
    -- it cannot land in a later spec's journal
    assert.are.equal(2, #helpers.journal(sb, { path = "/delay" }, 2, c))
    c:close()
  end)

  it("names the right host after the URL changes, and refuses a bad URL in between", function()
    local c = client { retries = 0 }
    local a = "https://sandbox.socialpush.test/bytes?n=3000"
    local b = "https://other.socialpush.test/bytes?n=3000"
    local _, msg1 = c:request { url = a, max_body = 10 }
    assert.matches("^sandbox%.socialpush%.test: ", msg1)
    local _, msg2 = c:request { url = b, max_body = 10 }
    assert.matches("^other%.socialpush%.test: ", msg2)
    local res, _, err = c:request { url = "ftp://sandbox.socialpush.test/x" }
    assert.is_nil(res)
    assert.are.equal("invalid_argument", err.kind)
    local _, msg3 = c:request { url = a, max_body = 10 }
    assert.matches("^sandbox%.socialpush%.test: ", msg3)
    assert.are.equal(3, #helpers.journal(sb, nil, 3, c))   -- aborted ones journaled too
    c:close()
  end)

  it("sends one User-Agent: the engine's, the request's own, or none", function()
    local c = client()
    local seen = echo(c, {})
    assert.are.equal("socialpush/" .. socialpush._VERSION, header(seen, "user-agent"))
    seen = echo(c, { headers = { ["User-Agent"] = "mine/2" } })
    assert.are.equal("mine/2", header(seen, "user-agent"))
    seen = echo(c, { headers = { { "user-agent", "lower/3" } } })
    assert.are.equal("lower/3", header(seen, "user-agent"))
    seen = echo(c, { headers = { ["User-Agent"] = false } })
    assert.is_nil(header(seen, "user-agent"))
    c:close()
    c = client { user_agent = "custom-agent/9" }
    seen = echo(c, { method = "POST", body = "{}" })
    assert.are.equal("custom-agent/9", header(seen, "user-agent"))
    c:close()
    local j = helpers.journal(sb, { path = "/echo" }, 5)
    for _, e in ipairs(j) do
      local n = 0
      for k in pairs(e.headers) do if k:lower() == "user-agent" then n = n + 1 end end
      assert.is_true(n <= 1)
    end
  end)

  it("builds header_list and timings on first use, in order, once", function()
    local c = client()
    sb:fault { path = "/status", headers = { ["X-Rep"] = "one" } }
    local res = assert(c:request { url = sb:url("/status?code=201") })
    assert.is_nil(rawget(res, "header_list"))
    assert.is_nil(rawget(res, "timings"))
    local list = res.header_list
    assert.are.equal(list, rawget(res, "header_list"))
    assert.are.equal(list, res.header_list)
    local names = {}
    for i, kv in ipairs(list) do
      assert.are.equal(2, #kv)
      names[#names + 1] = kv[1]
      assert.are.equal(kv[1]:lower(), kv[1], "entry " .. i)
    end
    assert.truthy(table.concat(names, " "):find("x-rep", 1, true))
    for _, kv in ipairs(list) do
      if kv[1] == "x-rep" then assert.are.equal("one", kv[2]) end
      assert.truthy(res.headers[kv[1]])
    end
    local t = res.timings
    assert.is_true(t.total > 0)
    assert.is_true(t.total >= t.start_transfer)
    for _, k in ipairs { "namelookup", "connect", "tls", "start_transfer", "total" } do
      assert.is_number(t[k])
    end
    assert.is_nil(res.no_such_field)
    c:close()
  end)

  it("gives the transport interface in C: a read-only empty list when nothing finished", function()
    local e = http.new()
    local list, running = e:step(0)
    assert.are.equal(0, running)
    assert.are.equal(0, #list)
    assert.are.equal(list, (e:step(0)))
    assert.has_error(function() list[1] = true end, "read-only list")
    assert.is_number(e:now())
    e:close()
  end)
end)
