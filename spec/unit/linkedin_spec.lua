-- LinkedIn provider: request building against a stub client, error mapping, Rest.li encoding.
local linkedin = require "socialpush.providers.linkedin"
local time = require "socialpush.time"
local json = require "socialpush.json"

local TOKEN = "AQVUnitTestLinkedInToken000001"
local AUTHOR = "urn:li:person:Unit0Author1"
local COMPANY = "urn:li:organization:2414183"
local PNG = "\137PNG\r\n\26\n" .. ("\0"):rep(56)

local stub_client = require "helpers.stub_client"

local function handle(responses, creds)
  local c = stub_client(responses)
  creds = creds or { access_token = TOKEN, author = AUTHOR, company = COMPANY }
  return linkedin.new(c, creds), c
end

local function header(req, name)
  for _, kv in ipairs(req.headers) do
    if kv[1]:lower() == name:lower() then return kv[2] end
  end
end

local CREATED = { status = 201, headers = { ["x-restli-id"] = "urn:li:share:7300000000000000001" } }
local INIT = { status = 200, headers = { ["content-type"] = "application/json" },
  body = '{"value":{"uploadUrlExpiresAt":1,'
    .. '"uploadUrl":"https://www.linkedin.com/dms-uploads/sp/C4E/uploaded-image/0?ut=x",'
    .. '"image":"urn:li:image:C4E10AQUnit01"}}' }

describe("linkedin (stub client)", function()
  it("posts text with the versioned headers and the Posts API body", function()
    local li, c = handle { CREATED }
    local res = assert(li:post { message = "Hello World!" })
    assert.are.equal(1, #c.sent)
    local req = c.sent[1]
    assert.are.equal("POST", req.method)
    assert.are.equal("https://api.linkedin.com/rest/posts", req.url)
    assert.are.equal("Bearer " .. TOKEN, header(req, "Authorization"))
    assert.are.equal("202605", header(req, "LinkedIn-Version"))
    assert.are.equal("2.0.0", header(req, "X-Restli-Protocol-Version"))
    assert.are.equal("application/json", header(req, "Content-Type"))
    assert.is_false(req.idempotent)
    local body = json.decode(req.body)
    assert.are.equal(AUTHOR, body.author)
    assert.are.equal("Hello World!", body.commentary)
    assert.are.equal("PUBLIC", body.visibility)
    assert.are.equal("PUBLISHED", body.lifecycleState)
    assert.is_false(body.isReshareDisabledByAuthor)
    assert.are.equal("MAIN_FEED", body.distribution.feedDistribution)
    assert.are.same({}, body.distribution.targetEntities)
    assert.is_nil(body.content)
    assert.matches('"targetEntities":%[%]', req.body)
    assert.matches('"thirdPartyDistributionChannels":%[%]', req.body)
    assert.are.equal("linkedin", res.provider)
    assert.are.equal("post", res.object)
    assert.are.equal("urn:li:share:7300000000000000001", res.post_id)
    assert.are.equal("https://www.linkedin.com/feed/update/urn:li:share:7300000000000000001/", res.post_location)
  end)

  it("takes the version, base URL and visibility from creds and args", function()
    local li, c = handle({ CREATED }, { access_token = TOKEN, author = AUTHOR, version = "202604",
      base_url = "https://api-staging.example/rest" })
    assert(li:post { message = "x", visibility = "CONNECTIONS" })
    assert.are.equal("https://api-staging.example/rest/posts", c.sent[1].url)
    assert.are.equal("202604", header(c.sent[1], "LinkedIn-Version"))
    assert.are.equal("CONNECTIONS", json.decode(c.sent[1].body).visibility)
  end)

  it("escapes the little-text reserved characters of the commentary", function()
    local li, c = handle { CREATED }
    assert(li:post { message = [[a\b|c{d}e@f[g]h(i)j<k>l#m*n_o~p]] })
    assert.are.equal([[a\\b\|c\{d\}e\@f\[g\]h\(i\)j\<k\>l\#m\*n\_o\~p]], json.decode(c.sent[1].body).commentary)
    assert.are.equal("plain text, punctuation. ok!", linkedin.little_text("plain text, punctuation. ok!"))
    local li2, c2 = handle { CREATED }
    assert(li2:post { message = "@[Org](urn:li:organization:1)", little_text = true })
    assert.are.equal("@[Org](urn:li:organization:1)", json.decode(c2.sent[1].body).commentary)
  end)

  it("turns a link into an article (title defaults to the link)", function()
    local li, c = handle { CREATED, CREATED }
    assert(li:post { link = "https://example.com/a", title = "T", description = "D" })
    local body = json.decode(c.sent[1].body)
    assert.are.equal("", body.commentary)
    assert.are.same({ article = { source = "https://example.com/a", title = "T", description = "D" } }, body.content)
    assert(li:post { message = "m", link = "https://example.com/b" })
    assert.are.same({ article = { source = "https://example.com/b", title = "https://example.com/b" } },
      json.decode(c.sent[2].body).content)
  end)

  it("uploads a picture through the Images API and posts its URN", function()
    local li, c = handle { INIT, { status = 201 }, CREATED }
    local res = assert(li:post { message = "pic", picture = { data = PNG }, description = "alt" })
    assert.are.equal(3, #c.sent)
    local init, put, post = c.sent[1], c.sent[2], c.sent[3]
    assert.are.equal("POST", init.method)
    assert.are.equal("https://api.linkedin.com/rest/images?action=initializeUpload", init.url)
    assert.are.equal("202605", header(init, "LinkedIn-Version"))
    assert.are.equal("2.0.0", header(init, "X-Restli-Protocol-Version"))
    assert.are.same({ initializeUploadRequest = { owner = AUTHOR } }, json.decode(init.body))
    assert.are.equal("PUT", put.method)
    assert.are.equal("https://www.linkedin.com/dms-uploads/sp/C4E/uploaded-image/0?ut=x", put.url)
    assert.are.equal(PNG, put.body)
    assert.are.equal("Bearer " .. TOKEN, header(put, "Authorization"))
    assert.are.equal("image/png", header(put, "Content-Type"))
    assert.are.same({ media = { id = "urn:li:image:C4E10AQUnit01", altText = "alt" } }, json.decode(post.body).content)
    assert.are.equal("urn:li:image:C4E10AQUnit01", res.image)
  end)

  it("uses the uploaded picture as the article thumbnail when there is a link", function()
    local li, c = handle { INIT, { status = 201 }, CREATED }
    assert(li:post { link = "https://example.com/", picture = { data = PNG } })
    assert.are.equal("urn:li:image:C4E10AQUnit01", json.decode(c.sent[3].body).content.article.thumbnail)
  end)

  it("downloads a picture URL before uploading it", function()
    local li, c = handle { { status = 200, headers = { ["content-type"] = "image/png" }, body = PNG },
      INIT, { status = 201 }, CREATED }
    assert(li:post { message = "m", picture = { url = "https://media.example/p.png" } })
    assert.are.equal("GET", c.sent[1].method)
    assert.are.equal("https://media.example/p.png", c.sent[1].url)
    assert.are.same({ file = c.sent[3].body.file, offset = 0, length = #PNG }, c.sent[3].body)
  end)

  it("refuses an upload URL outside LinkedIn or without https, before sending the bytes", function()
    for _, url in ipairs { "https://evil.example/dms-uploads/x", "http://www.linkedin.com/dms-uploads/x",
      "https://www.linkedin.com.evil.example/x", "https://user@www.linkedin.com/x" } do
      local li, c = handle { { status = 200, headers = { ["content-type"] = "application/json" },
        body = json.encode { value = { uploadUrl = url, image = "urn:li:image:C4E1" } } } }
      local res, msg, err = li:post { message = "m", picture = { data = PNG } }
      assert.is_nil(res, url)
      assert.are.equal("provider", err.kind)
      assert.matches("upload URL", msg)
      assert.are.equal(1, #c.sent)
    end
  end)

  it("posts for a company given as an id, a URN or the default", function()
    local li, c = handle { CREATED, CREATED, CREATED }
    local res = assert(li:company_post { company = 12345, message = "a" })
    assert.are.equal("urn:li:organization:12345", json.decode(c.sent[1].body).author)
    assert.are.equal("post", res.object)
    assert(li:company_post { company = "678", message = "b" })
    assert.are.equal("urn:li:organization:678", json.decode(c.sent[2].body).author)
    assert(li:company_post { message = "c" })
    local body = json.decode(c.sent[3].body)
    assert.are.equal(COMPANY, body.author)
    assert.are.equal("PUBLIC", body.visibility)
  end)

  it("checks arguments before sending anything", function()
    local rows = {
      { "post", {}, "message" },
      { "post", { message = "" }, "message" },
      { "post", { message = ("x"):rep(3001) }, "message" },
      { "post", { message = ("#"):rep(1501) }, "message" },           -- 3002 once escaped
      { "post", { message = "m", link = "ftp://x" }, "link" },
      { "post", { message = "m", author = "urn:li:organization:1" }, "author" },
      { "post", { message = "m", author = "bob" }, "author" },
      { "post", { message = "m", visibility = "EVERYONE" }, "visibility" },
      { "post", { message = "m", picture = { data = "BM" .. ("\0"):rep(30) } }, "picture" },
      { "post", { message = "m", picture = { data = PNG, content_type = "image/webp" } }, "picture" },
      { "post", { message = "m", picture = { data = "\255\216\255" .. ("x"):rep(5 * 1024 * 1024) } }, "picture" },
      { "post", { message = "m", little_text = "yes" }, "little_text" },
      { "company_post", { message = "m", company = "urn:li:person:x" }, "company" },
      { "company_post", { message = "m", company = "1/2" }, "company" },
      { "company_post", { message = "m", company = false }, "company" },
    }
    for i, row in ipairs(rows) do
      local li, c = handle({}, { access_token = TOKEN, author = AUTHOR })
      local res, msg, err = li[row[1]](li, row[2])
      assert.is_nil(res, "row " .. i)
      assert.is_string(msg)
      assert.are.equal("invalid_argument", err.kind, "row " .. i)
      assert.are.equal(row[3], err.field, "row " .. i)
      assert.are.equal(0, #c.sent, "row " .. i)
    end
    local li = handle({}, { access_token = TOKEN })
    local _, _, err = li:post { message = "m" }
    assert.are.equal("author", err.field)
    local _, _, err2 = li:company_post { message = "m" }
    assert.are.equal("company", err2.field)
    assert(handle({ CREATED }):post { message = ("x"):rep(3000) })
    assert(handle({ CREATED }):post { message = ("é"):rep(3000) })
  end)

  it("reports a 201 without x-restli-id as a decode error", function()
    local li = handle { { status = 201 } }
    local _, _, err = li:post { message = "m" }
    assert.are.equal("decode", err.kind)
  end)

  it("maps refusals through the pipeline with the secrets scrubbed", function()
    local li = handle { { status = 422, headers = { ["content-type"] = "application/json" },
      body = '{"message":"ERROR :: /commentary :: bad ' .. TOKEN .. '","status":422}' } }
    local res, msg, err = li:post { message = "m" }
    assert.is_nil(res)
    assert.are.equal("invalid_argument", err.kind)
    assert.are.equal("message", err.field)
    assert.are.equal(422, err.status)
    assert.are.equal("linkedin.post", err.operation)
    assert.is_nil(msg:find(TOKEN, 1, true))
    local li2 = handle { { status = 400, body = "" } }
    local _, _, err2 = li2:post { message = "m" }
    assert.are.equal("provider", err2.kind)
  end)
end)

describe("linkedin.map_error", function()
  local function res(status, body, headers)
    return { status = status, json = body, headers = headers or {} }
  end
  local rows = {
    { res(401, { message = "Empty oauth2_access_token", serviceErrorCode = 401, status = 401 }), "auth" },
    { res(401, { message = "Invalid access token", serviceErrorCode = 65600, status = 401 }), "auth", 65600 },
    { res(400, { message = "revoked", serviceErrorCode = 65601, status = 400 }), "auth", 65601 },
    { res(403, { message = "Not enough permissions", serviceErrorCode = 100, code = "ACCESS_DENIED" }),
      "permission", "ACCESS_DENIED" },
    { res(404, { message = "Not found", status = 404 }), "not_found" },
    { res(422, { message = "ERROR :: /author :: field is required but not found", status = 422 }),
      "invalid_argument", nil, "author" },
    { res(422, { message = "ERROR :: /commentary :: length of 3001 exceeds", status = 422 }),
      "invalid_argument", nil, "message" },
    { res(422, { message = "ERROR :: /content/article/source :: not a URL", status = 422 }),
      "invalid_argument", nil, "link" },
    { res(422, { message = "ERROR :: /content/media/id :: urn:li:image:x does not exist", status = 422 }),
      "invalid_argument", nil, "picture" },
    { res(422, { message = "ERROR :: /visibility :: \"X\" is not an enum symbol", status = 422 }),
      "invalid_argument", nil, "visibility" },
    { res(422, { message = "something else", status = 422 }), "invalid_argument" },
    { res(422, { message = "Content is a duplicate of urn:li:share:1", status = 422, code = "DUPLICATE_POST" }),
      "duplicate", "DUPLICATE_POST" },
    { res(409, { message = "This post is a duplicate" }), "duplicate" },
    { res(426, { message = "Requested version 20240101 is not active", status = 426, code = "NONEXISTENT_VERSION" }),
      "unsupported", "NONEXISTENT_VERSION" },
    { res(400, { message = "x", code = "NONEXISTENT_VERSION" }), "unsupported" },
    { res(429, { message = "throttled", status = 429 }, { ["retry-after"] = "30" }), "rate_limited" },
    { res(500, { message = "Internal Server Error", status = 500 }), "server" },
    { res(503, nil), "server" },
    { res(504, nil), "server" },
    { res(400, { message = "Unpermitted fields present" }), "provider" },
  }
  for i, row in ipairs(rows) do
    it(("row %d: HTTP %d → %s"):format(i, row[1].status, tostring(row[2])), function()
      local m = linkedin.map_error(row[1], { operation = "linkedin.post" })
      assert.are.equal(row[2], m.kind)
      if row[3] ~= nil then assert.are.equal(row[3], m.code) end
      if row[4] ~= nil then assert.are.equal(row[4], m.field) end
      if row[1].json and row[1].json.message then assert.are.equal(row[1].json.message, m.detail) end
    end)
  end

  it("names company as the failing field of a company post's /author", function()
    local m = linkedin.map_error(res(422, { message = "ERROR :: /author :: bad" }),
      { operation = "linkedin.company_post" })
    assert.are.equal("company", m.field)
  end)

  it("takes Retry-After (res.retry_after, computed by client:request), else waits until midnight UTC", function()
    local r = res(429, {}, { ["retry-after"] = "30" })
    r.retry_after = time.retry_after(r.headers["retry-after"])
    assert.are.equal(30, linkedin.map_error(r).retry_after)
    local before = time.until_midnight_utc(os.time())
    local wait = linkedin.map_error(res(429, {})).retry_after
    assert.is_true(wait >= 1 and wait <= 86400)
    assert.is_true(math.abs(wait - before) <= 2)
    assert.are.equal(86400, time.until_midnight_utc(1700006400))     -- a midnight
    assert.are.equal(1, time.until_midnight_utc(1700006399))
  end)
end)

describe("linkedin Rest.li encoding (VECTORS §3.12)", function()
  local enc = linkedin.restli_encode
  it("encodes URN path keys", function()
    assert.are.equal("https://api.linkedin.com/rest/socialActions/urn%3Ali%3Ashare%3A123/comments/foobar123",
      linkedin.restli_url("/socialActions/{actionUrn}/comments/{commentId}",
        { actionUrn = "urn:li:share:123", commentId = "foobar123" }))
  end)
  it("encodes complex keys in their order", function()
    assert.are.equal("(member:urn%3Ali%3Amember%3A123,account:urn%3Ali%3Aaccount%3A456)",
      enc(linkedin.restli_record { { "member", "urn:li:member:123" }, { "account", "urn:li:account:456" } }))
  end)
  it("encodes objects and lists", function()
    assert.are.equal("(k1:v1,k2:value%20with%20spaces,k3:List(1,2,3),k5:(k51:v51,k52:v52))",
      enc { k1 = "v1", k2 = "value with spaces", k3 = { 1, 2, 3 }, k5 = { k51 = "v51", k52 = "v52" } })
  end)
  it("escapes the reserved characters inside values", function()
    assert.are.equal("List%28value%3Awith%25reserved%2Cchars%2C%27%27%29", enc "List(value:with%reserved,chars,'')")
  end)
  it("encodes empty strings and lists", function()
    assert.are.equal("''", enc "")
    assert.are.equal("List()", enc(json.array {}))
    assert.are.equal("List('')", enc { "" })
  end)
  it("percent-encodes UTF-8", function()
    assert.are.equal("%E6%A0%AA%E5%BC%8F%E4%BC%9A%E7%A4%BE", enc "株式会社")
  end)
  it("keeps the characters encodeURIComponent keeps", function()
    assert.are.equal("a-b_c.d!e~f*g", enc "a-b_c.d!e~f*g")
    assert.are.equal("true", enc(true))
    assert.are.equal("42", enc(42))
  end)
end)
