-- The pipeline (build → sign → send → decode → refuse), its checks, media, and the OneAll
-- operation table, over the shared stub client.
local pipeline = require "socialpush.pipeline"
local form = require "socialpush.pipeline.form"
local Handle = require "socialpush.pipeline.handle"
local operations = require "socialpush.pipeline.operations"
local check = require "socialpush.pipeline.check"
local media = require "socialpush.pipeline.media"
local json = require "socialpush.json"
local sign = require "socialpush.sign"
local stub_client = require "helpers.stub_client"

-- a provider class of its own, as a provider module declares one
local fake = Handle.class { name = "fake", public_creds = { page = true } }
local fake_mt = { __index = fake, __tostring = Handle.tostring }
function fake.map_error(res)
  local b = res.json or {}
  return { code = b.code, detail = b.message, kind = b.code == 7 and "duplicate" or nil }
end
local function handle(c, creds) return Handle.new(fake_mt, c, creds or { access_token = "t" }) end

describe("socialpush.pipeline", function()
  it("encodes forms and queries with RFC 3986", function()
    assert.are.equal("a=1&b=x%20y%2Bz", form.encode { b = "x y+z", a = 1 })
    assert.are.equal("a=2&a=1", form.encode { { "a", 2 }, { "a", 1 } })
    assert.are.equal("https://h/p?x=1&q=%26", form.with_query("https://h/p?x=1", { q = "&" }))
    assert.are.equal("https://h/p", form.with_query("https://h/p", {}))
    assert.are.same({ a = "x y", b = "&" }, form.decode("a=x+y&b=%26"))
  end)

  it("sends a bearer-authenticated JSON call and decodes the reply", function()
    local c = stub_client { { status = 201, headers = { ["content-type"] = "application/json" },
      body = '{"id":"1455952740635586573"}' } }
    local res = assert(pipeline.call(handle(c, { access_token = "tok-123456" }), { operation = "fake.op",
      method = "POST", url = "https://api.example/x", json = { text = "hi" } }))
    assert.are.equal("1455952740635586573", res.json.id)
    local req = c.sent[1]
    assert.are.same({ "Authorization", "Bearer tok-123456" }, req.headers[1])
    assert.are.same({ "Content-Type", "application/json" }, req.headers[2])
    assert.are.same({ text = "hi" }, json.decode(req.body))
  end)

  it("signs OAuth 1.0a with the query and form parameters", function()
    local c = stub_client { { status = 200, body = "{}" } }
    assert(pipeline.call(handle(c), { operation = "fake.op", method = "POST", auth = "oauth1",
      url = "https://api.example/x", query = { q = "1" }, form = { status = "a b" },
      creds = { consumer_key = "ck", consumer_secret = "cs", token = "tk", token_secret = "ts" } }))
    local auth = c.sent[1].headers[1][2]
    assert.matches('^OAuth ', auth)
    assert.matches('oauth_signature="', auth, 1, true)
    assert.are.equal("status=a%20b", c.sent[1].body)
    assert.are.equal("https://api.example/x?q=1", c.sent[1].url)
  end)

  it("adds the query parameters a scheme returns (Facebook's appsecret_proof)", function()
    local c = stub_client { { status = 200, body = "{}" } }
    local facebook = require "socialpush.providers.facebook"
    assert(pipeline.call(handle(c), { operation = "fake.op", method = "POST", url = "https://g/x",
      auth = facebook.graph_scheme, creds = { access_token = "EAATestAccessToken", app_secret = "test_app_secret" } }))
    assert.are.equal("https://g/x?appsecret_proof=b2d7d3730f94e0ff60d3741ef00e4160d7227dc1962d0c3d2c498b937b222843",
      c.sent[1].url)
  end)

  it("builds without changing the spec: a form signed twice carries one sig", function()
    local facebook = require "socialpush.providers.facebook"
    local spec = { operation = "fake.op", method = "POST", url = "https://api.facebook.com/restserver.php",
      auth = facebook.legacy_scheme, creds = { secret = "legacy-secret-1" },
      form = { { "method", "x" }, { "v", "1.0" } } }
    local h = handle(stub_client {})
    local a = assert(pipeline.build(h, spec))
    local b = assert(pipeline.build(h, spec))
    assert.are.equal(a.body, b.body)
    local n = 0
    for _ in a.body:gmatch("sig=") do n = n + 1 end
    assert.are.equal(1, n)
    assert.are.equal(2, #spec.form)
  end)

  it("refuses an unknown call spec field (a library bug: it raises)", function()
    local h = handle(stub_client {})
    assert.has_error(function() pipeline.call(h, { operation = "fake.op", url = "https://h/x", retired = {} }) end,
      "pipeline: unknown call spec field 'retired'")
    assert.has_error(function() pipeline.call(h, { operation = "fake.op", url = "https://h/x", idempotent = 1 }) end)
  end)

  it("masks what a scheme derives from a secret when a provider echoes it", function()
    local facebook = require "socialpush.providers.facebook"
    local creds = { access_token = "EAATestAccessToken", app_secret = "test_app_secret" }
    local proof = sign.appsecret_proof(creds.access_token, creds.app_secret)
    local c = stub_client { { status = 400, body = { message = "bad proof " .. proof .. " for "
      .. sign.percent_encode("EAATestAccessToken") .. " " .. sign.base64("test_app_secret"), code = 1 } } }
    local _, msg, err = pipeline.call(handle(c, creds), { operation = "fake.op", method = "GET", url = "https://g/x",
      auth = facebook.graph_scheme })
    assert.is_nil(msg:find(proof, 1, true))
    assert.is_nil(tostring(err):find(proof, 1, true))
    assert.is_nil(err.detail:find(proof, 1, true))
    assert.is_nil(msg:find(sign.base64("test_app_secret"), 1, true))
    assert.matches("bad proof ***", msg, 1, true)
  end)

  it("maps a refusal through the provider and scrubs secrets", function()
    local c = stub_client { { status = 400, headers = { ["retry-after"] = "7" },
      body = '{"code":7,"message":"duplicate of tok-secret-99"}' } }
    local res, msg, err = pipeline.call(handle(c, { access_token = "tok-secret-99", page = "page-1234" }),
      { operation = "fake.op", method = "POST", url = "https://h/x" })
    assert.is_nil(res)
    assert.are.equal("duplicate", err.kind)
    assert.are.equal(7, err.code)
    assert.are.equal(400, err.status)
    assert.are.equal(7, err.retry_after)
    assert.are.equal("fake", err.provider)
    assert.is_nil(msg:find("tok-secret-99", 1, true))
    assert.matches("***", msg, 1, true)
  end)

  it("maps bare statuses to kinds", function()
    assert.are.equal("auth", pipeline.status_kind(401))
    assert.are.equal("rate_limited", pipeline.status_kind(429))
    assert.are.equal("server", pipeline.status_kind(503))
    assert.are.equal("provider", pipeline.status_kind(418))
  end)

  it("reports an undecodable success body as decode", function()
    local c = stub_client { { status = 200, headers = { ["content-type"] = "application/json" }, body = "{oops" } }
    local _, _, err = pipeline.call(handle(c), { operation = "fake.op", method = "GET", url = "https://h/x" })
    assert.are.equal("decode", err.kind)
  end)

  it("refuses missing credentials before sending", function()
    local c = stub_client {}
    local _, _, err = pipeline.call(handle(c, {}), { operation = "fake.op", method = "GET", url = "https://h/x" })
    assert.are.equal("invalid_argument", err.kind)
    assert.are.equal("access_token", err.field)
    assert.are.equal(0, #c.sent)
  end)

  it("passes transport failures through with the operation", function()
    local core = require "socialpush.core"
    local c = stub_client { { fail = setmetatable({ kind = "timeout", message = "timed out" }, core.error_mt) } }
    local _, msg, err = pipeline.call(handle(c), { operation = "fake.op", method = "GET", url = "https://h/x" })
    assert.are.equal("timeout", err.kind)
    assert.are.equal("fake.op: timed out", msg)
  end)

  it("normalises results with string ids", function()
    local r = pipeline.result("x", "post", 12345, nil, {})
    assert.are.equal("12345", r.post_id)
    assert.are.equal("x", r.provider)
  end)
end)

describe("socialpush.pipeline.check", function()
  it("checks text fields", function()
    assert.is_true(check.text("op", { m = "hi" }, "m", { required = true }))
    local _, msg, err = check.text("op", {}, "m", { required = true })
    assert.are.equal("m", err.field)
    assert.are.equal("op: m is required", msg)
    assert.is_nil(check.text("op", { m = "  " }, "m", { required = true }))
    assert.is_nil(check.text("op", { m = "ééé" }, "m", { max = 2 }))
    assert.is_true(check.text("op", { m = "ééé" }, "m", { max = 3 }))
    assert.is_nil(check.text("op", { m = "\255" }, "m", {}))
  end)

  it("validates UTF-8 as strictly as the JSON encoder: surrogates, overlongs, > U+10FFFF", function()
    for _, bad in ipairs { "\237\160\128", "a\192\175", "\224\128\175", "\244\144\128\128", "\255" } do
      local ok, msg, err = check.text("op", { m = bad }, "m", {})
      assert.is_nil(ok, msg)
      assert.are.equal("m", err.field)
      assert.is_nil(json.encode(bad))          -- the encoder refuses the same texts
    end
    assert.is_true(check.text("op", { m = "\240\159\152\128 é" }, "m", {}))
    assert.are.equal(3, check.utf8_len("\240\159\152\128 é"))
    local twitter = require "socialpush.providers.twitter"
    local c = stub_client {}
    local _, _, err = twitter.new(c, { bearer_token = "b-123456" }):post { message = "a\237\160\128" }
    assert.are.equal("invalid_argument", err.kind)
    assert.are.equal("message", err.field)
    assert.are.equal(0, #c.sent)
  end)

  it("refuses ids that could escape a URL path", function()
    for _, bad in ipairs { "a/b", "..", "a b", "", "x?y", "1%2F", "a\nb" } do
      local ok, _, err = check.id("op", { id = bad }, "id")
      assert.is_nil(ok, bad)
      assert.are.equal("id", err.field)
    end
    for _, good in ipairs { "1122334455", "urn:li:organization:5", "PLx_y-z.1" } do
      assert.is_true(check.id("op", { id = good }, "id"), good)
    end
    local args = { id = 12345 }
    assert.is_true(check.id("op", args, "id"))
    assert.are.equal("12345", args.id)
  end)
end)

describe("check helpers", function()
  it("copies argument tables shallowly", function()
    local inner = {}
    local t = { a = 1, b = inner }
    local c = check.copy(t)
    assert.are_not.equal(t, c)
    assert.are.equal(inner, c.b)
    assert.are.equal(1, c.a)
    assert.are.equal("x", check.copy("x"))
  end)

  it("accepts upload URLs only over https on the given hosts", function()
    local hosts = { ["www.linkedin.com"] = true }
    assert.is_true(check.https_host("https://www.linkedin.com/dms-uploads/x?y=1", hosts))
    assert.is_true(check.https_host("HTTPS://WWW.LinkedIn.com:443/x", hosts))
    for _, bad in ipairs { "http://www.linkedin.com/x", "https://evil.example/x",
      "https://www.linkedin.com@evil.example/x", "https://www.linkedin.com:8443/x",
      "https://www.linkedin.com.evil.example/", "ftp://www.linkedin.com/", 42 } do
      assert.is_false(check.https_host(bad, hosts), tostring(bad))
    end
  end)
end)

describe("socialpush.pipeline.media", function()
  it("opens data, files and URLs and sniffs types", function()
    local m = assert(media.open("op", "picture", { data = "\137PNG\r\n\26\n0000" }))
    assert.are.equal("image/png", m.content_type)
    assert.are.equal(12, m.size)
    local path = os.tmpname()
    local f = assert(io.open(path, "wb")); f:write("\0\0\0\24ftypmp42", ("x"):rep(100)); f:close()
    local v = assert(media.open("op", "video", path))
    os.remove(path)
    assert.are.equal("video/mp4", v.content_type)
    assert.are.equal(112, v.size)
    assert.are.same({ file = path, offset = 10, length = 5 }, media.range(v, 10, 5))
    local u = assert(media.open("op", "picture", { url = "https://media.socialpush.test/a.JPG?x=1" }))
    assert.are.equal("image/jpeg", u.content_type)
    local _, _, err = media.open("op", "picture", { url = "ftp://x" })
    assert.are.equal("picture", err.field)
    local _, _, err2 = media.open("op", "video", "/nonexistent/file.mp4")
    assert.are.equal("video", err2.field)
  end)

  it("checks type and size limits", function()
    local m = { size = 10, content_type = "image/png" }
    assert.is_true(media.check("op", "picture", m, { types = { "image/png" }, max_size = 10 }))
    assert.is_nil(media.check("op", "picture", m, { types = { "image/jpeg" } }))
    assert.is_nil(media.check("op", "picture", m, { max_size = 9 }))
  end)
end)

describe("socialpush.pipeline.operations", function()
  it("resolves every OneAll resource name, and the older pinterest/pin path", function()
    local n = 0
    for _, name in ipairs { "facebook/post", "facebook/picture", "facebook/video", "facebook/group/post",
      "facebook/group/picture", "facebook/group/video", "facebook/page/post", "facebook/page/picture",
      "facebook/page/video", "linkedin/post", "linkedin/company/post", "pinterest/board/123/pin",
      "pinterest/board", "twitter/post", "twitter/picture", "twitter/video", "youtube/video",
      "youtube/playlist/PL1/video", "youtube/playlist", "youtube/channel/section" } do
      local r = operations.resolve(name)
      assert.is_table(r, name)
      assert.is_string(r.operation, name)
      n = n + 1
    end
    assert.are.equal(20, n)
    assert.are.equal(20, #operations.RESOURCES)
    local r, value, old = operations.resolve("pinterest/board/987/pin.json")
    assert.are.same({ "pinterest", "pin", "board_id", "987", false },
      { r.provider, r.operation, r.path_field, value, old })
    r, value, old = operations.resolve("/pinterest/pin.json")
    assert.are.same({ "pin", nil, true }, { r.operation, value, old })
    assert.is_nil(operations.resolve("myspace/post"))
  end)

  it("names, for every field, a direct argument its operation takes", function()
    local mods = { facebook = "socialpush.providers.facebook", linkedin = "socialpush.providers.linkedin",
      pinterest = "socialpush.providers.pinterest", twitter = "socialpush.providers.twitter",
      youtube = "socialpush.providers.youtube" }
    for _, r in ipairs(operations.RESOURCES) do
      local args = require(mods[r.provider]).OPERATIONS[r.operation]
      assert.is_table(args, r.resource)
      local known = { [r.path_field or ""] = true }
      for _, a in ipairs(args) do known[a] = true end
      for _, f in ipairs(r.fields) do
        if f.direct ~= false then assert.is_true(known[f.arg] == true, r.resource .. " " .. f.arg) end
      end
    end
  end)
end)

describe("client:push (socialpush.pipeline.push)", function()
  local push = require("socialpush.pipeline.push")
  local twitter = require "socialpush.providers.twitter"
  local function client(responses)
    local c = stub_client(responses)
    c.twitter = function(self, creds) return twitter.new(self, creds) end
    return c
  end

  it("takes OneAll's keys for the direct arguments", function()
    local c = client { { status = 201, body = { data = { id = "1" } } } }
    assert(push.push(c, { twitter = { bearer_token = "bt-123456" } }, "twitter/post", { message = "m" }))
    local _, _, err = push.push(client(), { twitter = { bearer_token = "bt-123456" } }, "twitter/post",
      { message = "m", location = "Paris" })
    assert.are.equal("location", err.field)
    _, _, err = push.push(client(), { bearer_token = "bt-123456" }, "twitter/picture",
      { url = "https://e.com/a.png", picture = "https://e.com/b.png" })
    assert.are.equal("picture", err.field)
    _, _, err = push.push(client(), { bearer_token = "b" }, "myspace/post", {})
    assert.are.equal("resource", err.field)
  end)
end)
