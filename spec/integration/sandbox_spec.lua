-- Integration specs of the local provider sandbox (nginx + Lua on loopback).
-- Drives it with the curl CLI only (independent of socialpush's transport).
-- Every curl call is bounded by --max-time; all traffic goes to 127.0.0.1.
local helpers = require("spec_helpers")
local sandbox = require("socialpush.sandbox")
local hosts = require("socialpush.sandbox.hosts")
local json = sandbox.json

local CONTROL = "https://sandbox.socialpush.test"

local function q(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- run a shell command; stdout and exit code (stderr dropped)
local function sh(cmd)
  local p = assert(io.popen("( " .. cmd .. " ) 2>/dev/null; echo \"__rc=$?\""))
  local out = p:read("*a")
  p:close()
  local body, rc = out:match("^(.-)__rc=(%d+)%s*$")
  return body, tonumber(rc)
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function write_file(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

-- curl against a sandbox; returns {body=, code=, version=, size=, time=, rc=, headers=}
local function curl(sb, args, url)
  local hdr = os.tmpname()
  args = args or ""
  local out_opt = args:find("%-o ") and "" or " -o -"
  local cmd = "curl -sS --max-time 120 " .. sb:curl_args() .. " -D " .. q(hdr) .. out_opt
    .. " -w '\\n__W %{http_code} %{http_version} %{size_download} %{time_total}' "
    .. args .. " " .. url
  local out, rc = sh(cmd)
  local headers = read_file(hdr) or ""
  os.remove(hdr)
  local body, code, version, size, time = out:match("^(.*)\n__W (%d+) (%S+) (%d+) (%S+)$")
  return {
    body = body or out, code = tonumber(code), version = version, size = tonumber(size),
    time = tonumber(time), rc = rc, headers = headers,
  }
end

local function header_of(r, name)
  local v
  for line in r.headers:gmatch("[^\r\n]+") do
    local k, x = line:match("^([^:]+):%s*(.-)%s*$")
    if k and k:lower() == name:lower() then v = x end
  end
  return v
end

local function decode(s)
  local v, err = json.decode(s)
  assert(v ~= nil, "not JSON: " .. tostring(err) .. ": " .. tostring(s):sub(1, 200))
  return v
end

-- a process that exists and is not a zombie
local function running(pid)
  local stat = read_file("/proc/" .. pid .. "/stat")
  if not stat then return false end
  local state = stat:match("^%d+ %b() (%a)")
  return state ~= nil and state ~= "Z" and state ~= "X"
end

local function sha256_file(path)
  local out = sh("sha256sum " .. q(path))
  return out:match("^(%x+)")
end

local function last_request(sb, filter)
  local list = assert(sb:requests(filter))
  return list[#list], list
end

local function rfc3986(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

-- the spec's own OAuth 1.0a signer (base string + openssl CLI HMAC-SHA1)
local function oauth_base_string(method, url, params)
  local enc = {}
  for i, p in ipairs(params) do enc[i] = { rfc3986(p[1]), rfc3986(p[2]) } end
  table.sort(enc, function(a, b)
    if a[1] == b[1] then return a[2] < b[2] end
    return a[1] < b[1]
  end)
  local parts = {}
  for i, p in ipairs(enc) do parts[i] = p[1] .. "=" .. p[2] end
  return method .. "&" .. rfc3986(url) .. "&" .. rfc3986(table.concat(parts, "&"))
end

local function hmac_b64(algo, key, data)
  local tmp = os.tmpname()
  write_file(tmp, data)
  local out = sh("openssl dgst -" .. algo .. " -hmac " .. q(key) .. " -binary < " .. q(tmp)
    .. " | base64")
  os.remove(tmp)
  return (out:gsub("%s+$", ""))
end

local function hmac_hex(algo, key, data)
  local tmp = os.tmpname()
  write_file(tmp, data)
  local out = sh("openssl dgst -" .. algo .. " -hmac " .. q(key) .. " < " .. q(tmp))
  os.remove(tmp)
  return out:match("(%x+)%s*$")
end

describe("sandbox", function()
  local sb

  setup(function()
    sb = helpers.sandbox()
  end)

  before_each(function()
    assert.is_true(sb:reset())
  end)

  describe("start and attach", function()
    it("describes itself with the contract's JSON line", function()
      local info = decode(sb:json_line())
      assert.is_number(info.port)
      assert.equal(sb.port, info.port)
      assert.matches("^/.+/ca%.pem$", info.ca_file)
      assert.truthy(read_file(info.ca_file):find("BEGIN CERTIFICATE", 1, true))
      assert.matches("^/", info.dir)
      assert.is_number(info.pid)
      assert.equal(#hosts.all, #info.connect_to)
      for i, h in ipairs(hosts.all) do
        assert.equal(h .. ":443:127.0.0.1:" .. info.port, info.connect_to[i])
      end
    end)

    it("gives client options and URLs", function()
      local o = sb:options()
      assert.equal(sb.ca_file, o.ca_file)
      assert.same(sb.connect_to, o.connect_to)
      assert.equal(CONTROL .. "/echo", sb:url("/echo"))
    end)

    it("attaches to a running sandbox from its JSON line", function()
      local other = assert(sandbox.attach(sb:json_line()))
      assert.equal(sb.port, other.port)
      local fid = assert(other:fault({ path = "/nowhere" }))
      local list = assert(sb:faults())
      assert.equal(fid, list[1].id)
    end)

    it("refuses to attach where nothing answers", function()
      local info = decode(sb:json_line())
      info.port = 1
      local other, err = sandbox.attach(info)
      assert.is_nil(other)
      assert.matches("no sandbox", err)
    end)

    it("offers HTTP/2 and speaks HTTP/1.1", function()
      local r2 = curl(sb, "--http2", q(CONTROL .. "/echo"))
      assert.equal(200, r2.code)
      assert.equal("2", r2.version)
      assert.equal("2", decode(r2.body).http_version)
      local r1 = curl(sb, "--http1.1", q(CONTROL .. "/echo"))
      assert.equal("1.1", r1.version)
      assert.equal("1.1", decode(r1.body).http_version)
    end)

    it("serves every host with one certificate the CA verifies", function()
      -- provider plug-ins answer their own hosts: only TLS + HTTP matter here
      for _, h in ipairs(hosts.all) do
        local r = curl(sb, "", q("https://" .. h .. "/socialpush-spec/no/such/path"))
        assert.equal(0, r.rc, h)
        assert.is_true(r.code >= 200 and r.code < 600, h)
        assert.equal(h, last_request(sb).host)
      end
      local other = curl(sb, "", q("https://" .. hosts.other .. "/any/path"))
      assert.equal(200, other.code) -- the redirect target echoes any path
      assert.equal(hosts.other, decode(other.body).host)
      local media = curl(sb, "", q("https://" .. hosts.media .. "/nothing.bin"))
      assert.equal(404, media.code)
      assert.is_true(decode(media.body).error.sandbox)
    end)
  end)

  describe("control API", function()
    it("answers ping", function()
      local status, v = sb:control("GET", "/_/ping")
      assert.equal(200, status)
      assert.is_true(v.ok)
    end)

    it("journals requests, resets, and never journals itself", function()
      curl(sb, "", q(CONTROL .. "/echo?n=1"))
      local posted = curl(sb, "-X POST -d x=1", q("https://api.x.com/socialpush-spec/unrouted"))
      local list = assert(sb:requests())
      assert.equal(2, #list)
      assert.equal("GET", list[1].method)
      assert.equal("sandbox.socialpush.test", list[1].host)
      assert.equal("/echo", list[1].path)
      assert.equal("n=1", list[1].query)
      assert.equal(200, list[1].status)
      assert.equal("api.x.com", list[2].host)
      assert.equal(3, list[2].body_size)
      assert.equal(posted.code, list[2].status)
      assert.is_true(list[2].seq > list[1].seq)
      local only = assert(sb:requests({ host = "api.x.com", method = "POST", path = "/socialpush-spec/*" }))
      assert.equal(1, #only)
      assert.equal("/socialpush-spec/unrouted", only[1].path)
      assert.is_true(sb:reset())
      assert.equal(0, #assert(sb:requests()))
    end)

    it("stores, lists and validates fault rules", function()
      local id = assert(sb:fault({ host = "API.X.com", method = "post", path = "/2/tweets", status = 503 }))
      local list = assert(sb:faults())
      assert.equal(1, #list)
      assert.equal(id, list[1].id)
      assert.equal("api.x.com", list[1].host)
      assert.equal("POST", list[1].method)
      assert.equal(0, list[1].fired)
      assert.has_error(function() sb:fault({ path = "/x", bogus = true }) end)
      assert.has_error(function() sb:fault({ path = "/x", status = 99 }) end)
      assert.has_error(function() sb:fault({ path = "/x", malformed = true, oversized_bytes = 5 }) end)
      local status = sb:control("POST", "/_/faults", "not an object")
      assert.equal(400, status)
      assert.is_true(sb:reset())
      assert.equal(0, #assert(sb:faults()))
    end)

    it("switches the facebook mode, and reset restores it", function()
      local status, v = sb:control("GET", "/_/mode")
      assert.equal(200, status)
      assert.equal("today", v.facebook)
      assert.equal("historic", assert(sb:mode({ facebook = "historic" })).facebook)
      status, v = sb:control("GET", "/_/mode")
      assert.equal(200, status)
      assert.equal("historic", v.facebook)
      local bad = sb:control("POST", "/_/mode", { facebook = "yesterday" })
      assert.equal(400, bad)
      assert.is_true(sb:reset())
      status, v = sb:control("GET", "/_/mode")
      assert.equal(200, status)
      assert.equal("today", v.facebook)
    end)

    it("serves the accounts fixture", function()
      local status, v = sb:control("GET", "/_/accounts")
      assert.equal(200, status)
      local a = sb:accounts()
      assert.equal(a.facebook.page_id, v.facebook.page_id)
      assert.equal(a.twitter.consumer_key, v.twitter.consumer_key)
      assert.equal(a.oneall.identities.youtube, v.oneall.identities.youtube)
      assert.matches("^urn:li:person:", a.linkedin.author)
      assert.matches("^urn:li:organization:", a.linkedin.company)
      for _, p in ipairs({ "facebook", "twitter", "linkedin", "pinterest", "youtube", "oneall" }) do
        assert.is_table(a[p], p)
        assert.is_table(a.expired[p], p)
      end
      a.facebook.page_id = "changed"
      assert.are_not.equal("changed", sb:accounts().facebook.page_id)
    end)

    it("deletes one fault rule, all rules, or the journal alone", function()
      local a = assert(sb:fault({ path = "/a", status = 500 }))
      local b = assert(sb:fault({ path = "/b", status = 500 }))
      assert.equal(200, (sb:control("DELETE", "/_/faults/" .. a)))
      assert.equal(404, (sb:control("DELETE", "/_/faults/" .. a)))
      local list = assert(sb:faults())
      assert.equal(1, #list)
      assert.equal(b, list[1].id)
      assert.equal(200, (sb:control("DELETE", "/_/faults")))
      assert.equal(0, #assert(sb:faults()))
      assert(sb:fault({ path = "/c", status = 500 }))
      curl(sb, "", q(CONTROL .. "/echo"))
      assert.equal(200, (sb:control("DELETE", "/_/journal")))
      assert.equal(0, #assert(sb:requests()))
      assert.equal(1, #assert(sb:faults()))
    end)

    it("answers unknown control paths with 404 JSON", function()
      local status, v = sb:control("GET", "/_/nope")
      assert.equal(404, status)
      assert.equal(404, v.error.status)
    end)
  end)

  describe("journal", function()
    it("masks secrets in headers and query, and never stores them", function()
      local secret = "s3cr3t-Zq9-value"
      local r = curl(sb, "-H " .. q("Authorization: Bearer " .. secret)
        .. " -H " .. q("Cookie: sid=" .. secret) .. " -H " .. q("X-Api-Key: " .. secret),
        q(CONTROL .. "/echo?access_token=" .. secret .. "&client_secret=" .. secret
          .. "&app_secret=" .. secret .. "&keep=visible"))
      assert.equal(200, r.code)
      assert.is_nil(r.body:find(secret, 1, true))
      local e = last_request(sb, { path = "/echo" })
      assert.equal("Bearer ***", e.headers.authorization)
      assert.equal("***", e.headers.cookie)
      assert.equal("***", e.headers["x-api-key"])
      assert.equal("access_token=***&client_secret=***&app_secret=***&keep=visible", e.query)
      local text, rc = sh("curl -sS --max-time 30 " .. sb:curl_args() .. " " .. q(CONTROL .. "/_/journal"))
      assert.equal(0, rc)
      assert.truthy(text:find("Bearer ***", 1, true))
      assert.is_nil(text:find(secret, 1, true))
    end)

    it("keeps the OAuth scheme and masks Basic", function()
      curl(sb, "-H " .. q('Authorization: OAuth oauth_consumer_key="k", oauth_signature="s"'),
        q(CONTROL .. "/status?code=204"))
      curl(sb, "-u user:pass", q(CONTROL .. "/status?code=204"))
      local _, list = last_request(sb)
      assert.equal("OAuth ***", list[1].headers.authorization)
      assert.equal("Basic ***", list[2].headers.authorization)
      assert.equal(204, list[1].status)
    end)

    it("digests bodies (size and sha256)", function()
      local tmp = os.tmpname()
      finally(function() os.remove(tmp) end)
      write_file(tmp, string.rep("socialpush ", 10000))
      curl(sb, "--data-binary @" .. q(tmp), q("https://graph.facebook.com/socialpush-spec/digest"))
      local e = last_request(sb)
      assert.equal(110000, e.body_size)
      assert.equal(sha256_file(tmp), e.body_sha256)
    end)

    for _, v in ipairs({ "--http1.1", "--http2" }) do
      it("shows one connection id for keep-alive requests (" .. v .. ")", function()
        curl(sb, v, q(CONTROL .. "/echo?a=1") .. " " .. q(CONTROL .. "/echo?a=2"))
        curl(sb, v, q(CONTROL .. "/echo?a=3"))
        local list = assert(sb:requests({ path = "/echo" }))
        assert.equal(3, #list)
        assert.is_number(list[1].connection)
        assert.equal(list[1].connection, list[2].connection)
        assert.are_not.equal(list[1].connection, list[3].connection)
      end)
    end
  end)

  describe("fault rules", function()
    it("answers only the nth matching request", function()
      assert(sb:fault({ path = "/echo", nth = 2, status = 503, retry_after = 7 }))
      local r1 = curl(sb, "", q(CONTROL .. "/echo"))
      local r2 = curl(sb, "", q(CONTROL .. "/echo"))
      local r3 = curl(sb, "", q(CONTROL .. "/echo"))
      assert.equal(200, r1.code)
      assert.equal(503, r2.code)
      assert.equal("7", header_of(r2, "Retry-After"))
      assert.equal(200, r3.code)
      local f = assert(sb:faults())[1]
      assert.equal(3, f.matched)
      assert.equal(1, f.fired)
      local _, list = last_request(sb)
      assert.equal(f.id, list[2].fault)
      assert.equal(503, list[2].status)
      assert.is_nil(list[1].fault)
    end)

    it("answers the first `times` matches, by host and method, on provider hosts", function()
      local id = assert(sb:fault({ host = "api.x.com", method = "POST", path = "/2/tweets", times = 2,
        status = 429, retry_after = 3, headers = { ["x-rate-limit-remaining"] = "0" },
        body = { title = "Too Many Requests" } }))
      local g = curl(sb, "", q("https://api.x.com/2/tweets"))
      local a = curl(sb, "-X POST -d {}", q("https://api.x.com/2/tweets"))
      local b = curl(sb, "-X POST -d {}", q("https://api.x.com/2/tweets"))
      local c = curl(sb, "-X POST -d {}", q("https://api.x.com/2/tweets"))
      assert.is_nil(header_of(g, "X-Sandbox-Fault")) -- GET does not match
      assert.equal(429, a.code)
      assert.equal("Too Many Requests", decode(a.body).title)
      assert.equal("3", header_of(a, "Retry-After"))
      assert.equal("0", header_of(a, "x-rate-limit-remaining"))
      assert.equal(tostring(id), header_of(a, "X-Sandbox-Fault"))
      assert.equal(429, b.code)
      assert.is_nil(header_of(c, "X-Sandbox-Fault")) -- the provider route answers again
      local _, list = last_request(sb)
      assert.same({ "none", id, id, "none" }, { list[1].fault or "none", list[2].fault or "none",
        list[3].fault or "none", list[4].fault or "none" })
    end)

    it("matches path prefixes with a trailing *", function()
      local id = assert(sb:fault({ host = "graph.facebook.com", path = "/v19.0/*", status = 500 }))
      local hit = curl(sb, "", q("https://graph.facebook.com/v19.0/me/feed"))
      local miss = curl(sb, "", q("https://graph.facebook.com/v19.1/me/feed"))
      assert.equal(500, hit.code)
      assert.equal(tostring(id), header_of(hit, "X-Sandbox-Fault"))
      assert.is_nil(header_of(miss, "X-Sandbox-Fault"))
    end)

    it("never applies to the control API", function()
      assert(sb:fault({ status = 500 }))
      local status, v = sb:control("GET", "/_/ping")
      assert.equal(200, status)
      assert.is_true(v.ok)
      assert.equal(500, curl(sb, "", q(CONTROL .. "/echo")).code)
    end)

    it("delays, then lets the route answer (with extra headers)", function()
      assert(sb:fault({ path = "/echo", delay_ms = 300, headers = { ["X-App-Usage"] = '{"call_count":95}' } }))
      local r = curl(sb, "", q(CONTROL .. "/echo"))
      assert.equal(200, r.code)
      assert.equal("/echo", decode(r.body).path)
      assert.equal('{"call_count":95}', header_of(r, "X-App-Usage"))
      assert.is_true(r.time >= 0.25) -- lower bound only: the delay happened
      assert.equal(1, assert(sb:faults())[1].fired)
    end)

    it("sends a malformed JSON body", function()
      assert(sb:fault({ path = "/echo", malformed = true }))
      local r = curl(sb, "", q(CONTROL .. "/echo"))
      assert.equal(200, r.code)
      assert.matches("^application/json", header_of(r, "Content-Type"))
      assert.is_nil((json.decode(r.body)))
      assert(sb:fault({ path = "/status", malformed = true, status = 502 }))
      assert.equal(502, curl(sb, "", q(CONTROL .. "/status?code=200")).code)
    end)

    it("sends an oversized body of exactly N bytes", function()
      assert(sb:fault({ path = "/echo", oversized_bytes = 3 * 1024 * 1024 + 7 }))
      local tmp = os.tmpname()
      finally(function() os.remove(tmp) end)
      local r = curl(sb, "-o " .. q(tmp), q(CONTROL .. "/echo"))
      assert.equal(200, r.code)
      assert.equal(3 * 1024 * 1024 + 7, r.size)
      assert.is_table(decode(read_file(tmp)))
    end)

    for _, v in ipairs({ "--http1.1", "--http2" }) do
      it("drops the connection after N body bytes (" .. v .. ")", function()
        assert(sb:fault({ path = "/upload", drop_after_bytes = 1000 }))
        local tmp = os.tmpname()
        finally(function() os.remove(tmp) end)
        write_file(tmp, string.rep("x", 200000))
        local r = curl(sb, v .. " --data-binary @" .. q(tmp), q(CONTROL .. "/upload"))
        assert.are_not.equal(0, r.rc)
        assert.equal(0, r.code)
        local e = last_request(sb, { path = "/upload" })
        assert.equal(444, e.status)
        if v == "--http1.1" then assert.equal(1000, e.body_size) end
        -- the sandbox keeps serving
        assert.equal(200, curl(sb, v, q(CONTROL .. "/echo")).code)
      end)
    end
  end)

  describe("test endpoints", function()
    it("echoes method, query, headers and body", function()
      local r = curl(sb, "-X PUT -H 'X-Thing: 1' --data-binary " .. q("héllo=wörld&b=2"),
        q(CONTROL .. "/echo?x=1&y=%20"))
      local v = decode(r.body)
      assert.equal("PUT", v.method)
      assert.equal("/echo", v.path)
      assert.equal("x=1&y=%20", v.query)
      assert.equal("1", v.headers["x-thing"])
      assert.equal("héllo=wörld&b=2", v.body)
      assert.equal(#"héllo=wörld&b=2", v.body_size)
      assert.equal("wörld", v.form["héllo"])
    end)

    it("echoes binary bodies as base64", function()
      local tmp = os.tmpname()
      finally(function() os.remove(tmp) end)
      write_file(tmp, "\255\254\0\1")
      local r = curl(sb, "--data-binary @" .. q(tmp), q(CONTROL .. "/echo"))
      local v = decode(r.body)
      assert.is_nil(v.body)
      assert.equal("//4AAQ==", v.body_base64)
      assert.equal(4, v.body_size)
    end)

    it("parses multipart/form-data parts", function()
      local tmp = os.tmpname()
      finally(function() os.remove(tmp) end)
      write_file(tmp, "\137PNG fake image bytes")
      local r = curl(sb, "-F 'status=hi there' -F " .. q("media=@" .. tmp .. ";type=image/png;filename=a.png"),
        q(CONTROL .. "/echo"))
      local v = decode(r.body)
      assert.equal(2, #v.parts)
      assert.equal("status", v.parts[1].name)
      assert.equal("hi there", v.parts[1].data)
      assert.equal("media", v.parts[2].name)
      assert.equal("a.png", v.parts[2].filename)
      assert.equal("image/png", v.parts[2].content_type)
      assert.equal(#"\137PNG fake image bytes", v.parts[2].size)
      assert.equal(sha256_file(tmp), v.parts[2].sha256)
    end)

    for _, v in ipairs({ "--http1.1", "--http2" }) do
      it("streams a 64 MiB upload and digests it (" .. v .. ")", function()
        local tmp = os.tmpname()
        finally(function() os.remove(tmp) end)
        local _, rc = sh("head -c 67108864 /dev/urandom > " .. q(tmp))
        assert.equal(0, rc)
        local want = sha256_file(tmp)
        local r = curl(sb, v .. " -H 'Content-Type: application/octet-stream' --data-binary @" .. q(tmp),
          q(CONTROL .. "/upload"))
        assert.equal(200, r.code)
        local body = decode(r.body)
        assert.equal(67108864, body.bytes)
        assert.equal(want, body.sha256)
        local e = last_request(sb, { path = "/upload" })
        assert.equal(67108864, e.body_size)
        assert.equal(want, e.body_sha256)
      end)
    end

    it("streams chunked uploads too", function()
      local tmp = os.tmpname()
      finally(function() os.remove(tmp) end)
      write_file(tmp, string.rep("0123456789", 300000))
      local r = curl(sb, "--http1.1 -H 'Transfer-Encoding: chunked' --data-binary @" .. q(tmp),
        q(CONTROL .. "/upload"))
      local body = decode(r.body)
      assert.equal(3000000, body.bytes)
      assert.equal(sha256_file(tmp), body.sha256)
    end)

    it("redirects without following", function()
      local r = curl(sb, "", q(CONTROL .. "/redirect?to=https://other.socialpush.test/landing"))
      assert.equal(302, r.code)
      assert.equal("https://other.socialpush.test/landing", header_of(r, "Location"))
      local r7 = curl(sb, "", q(CONTROL .. "/redirect?status=307&to=/echo"))
      assert.equal(307, r7.code)
      local o = curl(sb, "-H 'Authorization: Bearer t'", q("https://other.socialpush.test/landing"))
      assert.equal("other.socialpush.test", decode(o.body).host)
      assert.equal("other.socialpush.test", last_request(sb).host)
    end)

    it("sends N bytes", function()
      local r = curl(sb, "-o /dev/null", q(CONTROL .. "/bytes?n=1234567"))
      assert.equal(200, r.code)
      assert.equal(1234567, r.size)
      assert.equal(400, curl(sb, "", q(CONTROL .. "/bytes?n=-1")).code)
    end)

    it("delays and answers", function()
      local r = curl(sb, "", q(CONTROL .. "/delay?ms=50"))
      assert.equal(200, r.code)
      assert.equal(50, decode(r.body).delayed)
    end)

    it("answers any status with JSON", function()
      for _, code in ipairs({ 200, 201, 400, 401, 403, 404, 429, 500, 503 }) do
        local r = curl(sb, "", q(CONTROL .. "/status?code=" .. code))
        assert.equal(code, r.code)
        assert.equal(code, decode(r.body).status)
      end
    end)

    it("answers unknown hosts and paths with 404 JSON", function()
      local r = curl(sb, "-k --connect-to " .. q("unknown.socialpush.test:443:127.0.0.1:" .. sb.port),
        q("https://unknown.socialpush.test/x"))
      assert.equal(404, r.code)
      assert.is_true(decode(r.body).error.sandbox)
      assert.equal(405, curl(sb, "-X DELETE", q(CONTROL .. "/bytes?n=1")).code)
    end)

    it("serves media for {url=} tests", function()
      local tmp = os.tmpname()
      finally(function() os.remove(tmp) end)
      local r = curl(sb, "-o " .. q(tmp), q("https://media.socialpush.test/picture.png"))
      assert.equal(200, r.code)
      assert.equal("image/png", header_of(r, "Content-Type"))
      assert.equal("\137PNG\r\n\26\n", read_file(tmp):sub(1, 8))
      local v = curl(sb, "-o " .. q(tmp), q("https://media.socialpush.test/video.mp4"))
      assert.equal(200, v.code)
      assert.equal("video/mp4", header_of(v, "Content-Type"))
      assert.is_true(v.size > 100000)
      assert.equal("ftyp", read_file(tmp):sub(5, 8))
      local part = curl(sb, "-r 4-7", q("https://media.socialpush.test/video.mp4"))
      assert.equal(206, part.code)
      assert.equal("ftyp", part.body)
    end)
  end)

  describe("credential checks", function()
    it("looks bearer tokens up in the fixture", function()
      local a = sb:accounts()
      local function bearer(tok, provider)
        local r = curl(sb, "-H " .. q("Authorization: Bearer " .. tok),
          q(CONTROL .. "/auth/bearer" .. (provider and ("?provider=" .. provider) or "")))
        return r.code, decode(r.body)
      end
      local code, v = bearer(a.linkedin.access_token)
      assert.equal(200, code)
      assert.equal("linkedin", v.provider)
      assert.equal(200, (bearer(a.twitter.bearer_token, "twitter")))
      code, v = bearer(a.expired.youtube.access_token)
      assert.equal(401, code)
      assert.equal("expired", v.reason)
      code, v = bearer(a.pinterest.access_token, "youtube")
      assert.equal(401, code)
      assert.equal("invalid", v.reason)
      code, v = bearer("nope")
      assert.equal(401, code)
      assert.equal("invalid", v.reason)
    end)

    it("checks Basic credentials (OneAll keys)", function()
      local a = sb:accounts().oneall
      local ok = curl(sb, "-u " .. q(a.public_key .. ":" .. a.private_key), q(CONTROL .. "/auth/basic"))
      assert.equal(200, ok.code)
      local bad = curl(sb, "-u " .. q(a.public_key .. ":" .. sb:accounts().expired.oneall.private_key),
        q(CONTROL .. "/auth/basic"))
      assert.equal(401, bad.code)
      assert.equal("missing", decode(curl(sb, "", q(CONTROL .. "/auth/basic")).body).reason)
    end)

    it("checks appsecret_proof", function()
      local fb = sb:accounts().facebook
      local proof = hmac_hex("sha256", fb.app_secret, fb.access_token)
      assert.equal(64, #proof)
      local url = CONTROL .. "/auth/appsecret_proof?access_token=" .. fb.access_token
      assert.equal(200, curl(sb, "", q(url .. "&appsecret_proof=" .. proof)).code)
      local flipped = (proof:sub(1, 1) == "0" and "1" or "0") .. proof:sub(2)
      local bad = curl(sb, "", q(url .. "&appsecret_proof=" .. flipped))
      assert.equal("bad_proof", decode(bad.body).reason)
      local nop = curl(sb, "", q(url))
      assert.equal("missing_proof", decode(nop.body).reason)
      local form = curl(sb, "-H " .. q("Authorization: Bearer " .. fb.access_token)
        .. " -d " .. q("appsecret_proof=" .. proof), q(CONTROL .. "/auth/appsecret_proof"))
      assert.equal(200, form.code)
      local ex = sb:accounts().expired.facebook
      local exr = curl(sb, "", q(CONTROL .. "/auth/appsecret_proof?access_token=" .. ex.access_token
        .. "&appsecret_proof=" .. hmac_hex("sha256", ex.app_secret, ex.access_token)))
      assert.equal("expired", decode(exr.body).reason)
      local e = last_request(sb)
      assert.matches("appsecret_proof=%*%*%*", e.query)
      assert.matches("access_token=%*%*%*", e.query)
    end)

    it("checks the legacy REST MD5 sig", function()
      local lg = sb:accounts().facebook.legacy
      local params = { api_key = lg.api_key, method = "stream.publish", v = "1.0",
        call_id = "1700000000.1", session_key = lg.session_key, message = "hello world" }
      local keys = {}
      for k in pairs(params) do keys[#keys + 1] = k end
      table.sort(keys)
      local concat, form = {}, {}
      for i, k in ipairs(keys) do
        concat[i] = k .. "=" .. params[k]
        form[i] = rfc3986(k) .. "=" .. rfc3986(params[k])
      end
      local tmp = os.tmpname()
      finally(function() os.remove(tmp) end)
      write_file(tmp, table.concat(concat) .. lg.secret)
      local sig = sh("md5sum < " .. q(tmp)):match("^(%x+)")
      local body = table.concat(form, "&")
      local ok = curl(sb, "-d " .. q(body .. "&sig=" .. sig), q(CONTROL .. "/auth/sig"))
      assert.equal(200, ok.code)
      local bad = curl(sb, "-d " .. q(body .. "&sig=" .. string.rep("0", 32)), q(CONTROL .. "/auth/sig"))
      assert.equal("bad_signature", decode(bad.body).reason)
    end)

    describe("OAuth 1.0a", function()
      local tw = require("socialpush.sandbox.accounts").twitter
      local docs_params = {
        { "include_entities", "true" },
        { "status", "Hello Ladies + Gentlemen, a signed OAuth request!" },
        { "oauth_consumer_key", "xvz1evFS4wEEPTGEFPHBog" },
        { "oauth_nonce", "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg" },
        { "oauth_signature_method", "HMAC-SHA1" },
        { "oauth_timestamp", "1318622958" },
        { "oauth_token", "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb" },
        { "oauth_version", "1.0" },
      }

      it("the spec's own signer reproduces the documented vector", function()
        local base = oauth_base_string("POST", "https://api.x.com/1.1/statuses/update.json", docs_params)
        local key = rfc3986(tw.consumer_secret) .. "&" .. rfc3986(tw.token_secret)
        assert.equal("Ls93hJiZbQ3akF3HF3x1Bz8/zU4=", hmac_b64("sha1", key, base))
      end)

      it("the sandbox's verifier accepts the documented request", function()
        local function verify(url, sig, body)
          local status, v = sb:control("POST", "/_/verify/oauth1", {
            method = "POST", url = url, content_type = "application/x-www-form-urlencoded",
            body = body or "status=Hello%20Ladies%20%2b%20Gentlemen%2c%20a%20signed%20OAuth%20request%21",
            authorization = 'OAuth oauth_consumer_key="xvz1evFS4wEEPTGEFPHBog", '
              .. 'oauth_nonce="kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg", '
              .. 'oauth_signature="' .. rfc3986(sig) .. '", oauth_signature_method="HMAC-SHA1", '
              .. 'oauth_timestamp="1318622958", '
              .. 'oauth_token="370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb", oauth_version="1.0"',
          })
          assert.equal(200, status)
          return v
        end
        assert.is_true(verify("https://api.x.com/1.1/statuses/update.json?include_entities=true",
          "Ls93hJiZbQ3akF3HF3x1Bz8/zU4=").ok)
        assert.is_true(verify("https://api.twitter.com/1.1/statuses/update.json?include_entities=true",
          "hCtSmYh+iHYCEqBWrE7C7hYmtUk=").ok)
        local bad = verify("https://api.x.com/1.1/statuses/update.json?include_entities=false",
          "Ls93hJiZbQ3akF3HF3x1Bz8/zU4=")
        assert.is_false(bad.ok)
        assert.equal("bad_signature", bad.reason)
      end)

      local function signed_call(token, token_secret, tamper)
        local query = { { "b", "2" }, { "a", "x y" }, { "a", "~+" } }
        local form = { { "status", "Hello Ladies + Gentlemen ☃ & Dogs, Cats" }, { "empty", "" } }
        local oauth = {
          { "oauth_consumer_key", tw.consumer_key }, { "oauth_nonce", "n0nce" .. os.time() },
          { "oauth_signature_method", "HMAC-SHA1" }, { "oauth_timestamp", tostring(os.time()) },
          { "oauth_token", token }, { "oauth_version", "1.0" },
        }
        local all = {}
        for _, set in ipairs({ query, form, oauth }) do
          for _, p in ipairs(set) do all[#all + 1] = p end
        end
        local url = CONTROL .. "/auth/oauth1"
        local base = oauth_base_string("POST", url, all)
        local sig = hmac_b64("sha1", rfc3986(tw.consumer_secret) .. "&" .. rfc3986(token_secret), base)
        if tamper then sig = "AAAA" .. sig:sub(5) end
        local hparts = {}
        for _, p in ipairs(oauth) do hparts[#hparts + 1] = p[1] .. '="' .. rfc3986(p[2]) .. '"' end
        hparts[#hparts + 1] = 'oauth_signature="' .. rfc3986(sig) .. '"'
        local qs, fs = {}, {}
        for _, p in ipairs(query) do qs[#qs + 1] = rfc3986(p[1]) .. "=" .. rfc3986(p[2]) end
        for _, p in ipairs(form) do fs[#fs + 1] = rfc3986(p[1]) .. "=" .. rfc3986(p[2]) end
        local r = curl(sb, "-H " .. q("Authorization: OAuth " .. table.concat(hparts, ", "))
          .. " --data-binary " .. q(table.concat(fs, "&")), q(url .. "?" .. table.concat(qs, "&")))
        return r.code, decode(r.body)
      end

      it("verifies a signed request with query, form and UTF-8 parameters", function()
        local code, v = signed_call(tw.token, tw.token_secret)
        assert.equal(200, code)
        assert.equal("twitter", v.provider)
      end)

      it("rejects a tampered signature and a revoked token", function()
        local code, v = signed_call(tw.token, tw.token_secret, true)
        assert.equal(401, code)
        assert.equal("bad_signature", v.reason)
        local ex = sb:accounts().expired.twitter
        code, v = signed_call(ex.token, ex.token_secret)
        assert.equal(401, code)
        assert.equal("expired", v.reason)
        local e = last_request(sb)
        assert.equal("OAuth ***", e.headers.authorization)
      end)
    end)
  end)

  describe("provider plug-ins and stop", function()
    it("loads a plug-in module, routes to it, keeps its state until reset, and stops cleanly", function()
      local dir = os.tmpname()
      os.remove(dir)
      local ex = assert(sandbox.start({ dir = dir, record = false,
        providers = { "socialpush.sandbox.providers.example" } }))
      finally(function()
        ex:stop()
        sh("rm -rf " .. q(dir))
      end)
      local tok = ex:accounts().pinterest.access_token
      local list0 = curl(ex, "", q(CONTROL .. "/example/notes"))
      assert.equal('{"data":[]}', list0.body)
      local created = curl(ex, "-H " .. q("Authorization: Bearer " .. tok)
        .. " -H 'Content-Type: application/json' -d '{\"text\":\"hello\"}'", q(CONTROL .. "/example/notes"))
      assert.equal(201, created.code)
      local id = decode(created.body).id
      local got = curl(ex, "", q(CONTROL .. "/example/notes/" .. id))
      assert.equal(200, got.code)
      assert.equal("hello", decode(got.body).text)
      assert.equal("pinterest", decode(got.body).provider)
      assert.equal(401, curl(ex, "-d '{\"text\":\"x\"}'", q(CONTROL .. "/example/notes")).code)
      assert.equal(400, curl(ex, "-H " .. q("Authorization: Bearer " .. tok) .. " -d '{}'",
        q(CONTROL .. "/example/notes")).code)
      assert.is_true(ex:reset())
      assert.equal(404, curl(ex, "", q(CONTROL .. "/example/notes/" .. id)).code)
      -- the shared sandbox does not have the plug-in
      assert.equal(404, curl(sb, "", q(CONTROL .. "/example/notes")).code)

      local pid = ex.pid
      local workers = sh("pgrep -P " .. pid)
      assert.is_true(running(pid))
      assert.is_true(ex:stop())
      assert.is_true(ex:stop())
      assert.is_false(running(pid))
      for w in workers:gmatch("%d+") do assert.is_false(running(tonumber(w))) end
      assert.is_nil(read_file(dir .. "/nginx.pid"))
    end)

    it("sandbox/run start prints one JSON line; stop leaves no nginx", function()
      local dir = os.tmpname()
      os.remove(dir)
      -- a private TMPDIR: the run's own socialpush-sandbox.last is left alone
      local env = "TMPDIR=" .. q(dir .. ".tmp") .. " "
      sh("mkdir -p " .. q(dir .. ".tmp"))
      finally(function()
        sh(env .. "bash sandbox/run stop --dir " .. q(dir))
        sh("rm -rf " .. q(dir) .. " " .. q(dir .. ".tmp"))
      end)
      local out, rc = sh(env .. "bash sandbox/run start --dir " .. q(dir))
      assert.equal(0, rc)
      local lines = {}
      for line in out:gmatch("[^\n]+") do lines[#lines + 1] = line end
      assert.equal(1, #lines)
      local info = decode(lines[1])
      assert.equal(dir, info.dir)
      assert.equal(dir .. "/ca.pem", info.ca_file)
      assert.is_true(running(info.pid))
      local other = assert(sandbox.attach(lines[1]))
      assert.equal(200, curl(other, "", q(CONTROL .. "/echo")).code)
      assert.equal(dir, (read_file(dir .. ".tmp/socialpush-sandbox.last"):gsub("%s+$", "")))
      local status_out, src = sh(env .. "bash sandbox/run status")
      assert.equal(0, src)
      assert.equal(info.pid, decode(status_out).pid)
      local _, stop_rc = sh(env .. "bash sandbox/run stop")
      assert.equal(0, stop_rc)
      assert.is_false(running(info.pid))
      local _, after = sh(env .. "bash sandbox/run status --dir " .. q(dir))
      assert.equal(1, after)
      local r = curl(other, "--max-time 5", q(CONTROL .. "/_/ping"))
      assert.are_not.equal(0, r.rc)
      assert.truthy(read_file(dir .. "/ca.pem")) -- a --dir given by the caller is kept
    end)
  end)
end)
