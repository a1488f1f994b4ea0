-- LinkedIn end to end through the sandbox: the library's requests, the sandbox's checks,
-- and the error kinds the refusals map to. Every wait is bounded.
local helpers = require "spec_helpers"
local linkedin = require "socialpush.providers.linkedin"
local json = require "socialpush.json"

local sb, accounts

local PNG = "\137PNG\r\n\26\n" .. ("\0"):rep(120)

local function client(opts) return helpers.client(sb, opts) end


local function journal(filter, min, c) return helpers.journal(sb, filter, min, c) end

local function versioned(h)
  return { { "LinkedIn-Version", h.creds.version or linkedin.version }, { "X-Restli-Protocol-Version", "2.0.0" } }
end

-- a raw Posts API call through the library's pipeline (maps refusals with linkedin.map_error)
local function raw_post(li, body, headers)
  return li:call { operation = "linkedin.post", method = "POST", url = "https://api.linkedin.com/rest/posts",
    headers = headers or versioned(li), json = body, idempotent = false }
end

local function body_of(author, extra)
  local b = { author = author, commentary = "raw", visibility = "PUBLIC", lifecycleState = "PUBLISHED",
    distribution = { feedDistribution = "MAIN_FEED", targetEntities = json.array {},
      thirdPartyDistributionChannels = json.array {} } }
  for k, v in pairs(extra or {}) do b[k] = v end
  return b
end

-- the stored post (GET /rest/posts/{urn} with the URN as a Rest.li path key)
local function fetch_post(li, urn)
  local res = assert(li:call { operation = "linkedin.get", method = "GET",
    url = linkedin.restli_url("/posts/{id}", { id = urn }), headers = versioned(li) })
  return res.json
end

local function check_api_headers(entry)
  assert.are.equal("api.linkedin.com", entry.host)
  assert.are.equal("Bearer ***", entry.headers.authorization)
  assert.are.equal("202605", entry.headers["linkedin-version"])
  assert.are.equal("2.0.0", entry.headers["x-restli-protocol-version"])
end

describe("linkedin through the sandbox", function()
  setup(function()
    sb = helpers.sandbox()
    accounts = sb:accounts()
  end)
  before_each(function() sb:reset() end)

  describe("post", function()
    it("publishes a text post as the member", function()
      local c = client()
      local li = c:linkedin(accounts.linkedin)
      local res, msg = li:post { message = "Hello #sandbox (from socialpush)" }
      assert.is_table(res, msg)
      assert.are.equal("linkedin", res.provider)
      assert.are.equal("post", res.object)
      assert.matches("^urn:li:share:%d+$", res.post_id)
      assert.are.equal("https://www.linkedin.com/feed/update/" .. res.post_id .. "/", res.post_location)
      local list = journal { host = "api.linkedin.com", method = "POST", path = "/rest/posts" }
      assert.are.equal(1, #list)
      check_api_headers(list[1])
      assert.matches("^application/json", list[1].headers["content-type"])
      assert.are.equal(201, list[1].status)
      local stored = fetch_post(li, res.post_id)
      assert.are.equal(accounts.linkedin.author, stored.author)
      assert.are.equal([[Hello \#sandbox \(from socialpush\)]], stored.commentary)
      c:close()
    end)

    it("uploads a picture URL through the Images API and posts it", function()
      local c = client()
      local li = c:linkedin(accounts.linkedin)
      local res, msg = li:post { message = "with a picture", picture = { url = accounts.media.picture },
        description = "a test picture" }
      assert.is_table(res, msg)
      assert.matches("^urn:li:image:", res.image)
      local fetched = journal { host = "media.socialpush.test", path = "/picture.png" }
      assert.are.equal(1, #fetched)
      assert.is_nil(fetched[1].headers.authorization)
      local init = journal { host = "api.linkedin.com", path = "/rest/images" }
      assert.are.equal(1, #init)
      check_api_headers(init[1])
      assert.are.equal("action=initializeUpload", init[1].query)
      local put = journal { host = "www.linkedin.com", method = "PUT", path = "/dms-uploads/*" }
      assert.are.equal(1, #put)
      assert.are.equal("Bearer ***", put[1].headers.authorization)
      assert.are.equal(201, put[1].status)
      assert.is_true(put[1].body_size > 0)
      assert.are.equal(put[1].body_size, tonumber(put[1].headers["content-length"]))
      local stored = fetch_post(li, res.post_id)
      assert.are.equal(res.image, stored.content.media.id)
      assert.are.equal(init[1].seq < put[1].seq, true)
      c:close()
    end)

    it("publishes a link as an article with a data picture as its thumbnail", function()
      local c = client()
      local li = c:linkedin(accounts.linkedin)
      local res, msg = li:post { link = "https://example.com/story", title = "A story", description = "Read it",
        picture = { data = PNG, filename = "thumb.png" } }
      assert.is_table(res, msg)
      local stored = fetch_post(li, res.post_id)
      assert.are.same({ source = "https://example.com/story", title = "A story", description = "Read it",
        thumbnail = res.image }, stored.content.article)
      c:close()
    end)

    it("maps a revoked token to auth", function()
      local c = client()
      local _, msg, err = c:linkedin(accounts.expired.linkedin):post { message = "nope" }
      assert.are.equal("auth", err.kind)
      assert.are.equal(401, err.status)
      assert.are.equal(65601, err.subcode)
      assert.is_nil(msg:find(accounts.expired.linkedin.access_token, 1, true))
      c:close()
    end)

    it("maps the same commentary twice to duplicate", function()
      local c = client()
      local li = c:linkedin(accounts.linkedin)
      assert(li:post { message = "only once" })
      local _, _, err = li:post { message = "only once" }
      assert.are.equal("duplicate", err.kind)
      assert.are.equal(422, err.status)
      assert.are.equal("DUPLICATE_POST", err.code)
      c:close()
    end)

    it("maps a sunset LinkedIn-Version to unsupported", function()
      local c = client()
      local creds = {}
      for k, v in pairs(accounts.linkedin) do creds[k] = v end
      creds.version = "202401"
      local _, _, err = c:linkedin(creds):post { message = "old version" }
      assert.are.equal("unsupported", err.kind)
      assert.are.equal(426, err.status)
      assert.are.equal("NONEXISTENT_VERSION", err.code)
      local list = journal { host = "api.linkedin.com", path = "/rest/posts" }
      assert.are.equal("202401", list[1].headers["linkedin-version"])
      c:close()
    end)

    it("refuses an upload URL outside LinkedIn without sending the token there", function()
      sb:fault { host = "api.linkedin.com", method = "POST", path = "/rest/images", status = 200,
        body = { value = { uploadUrl = "https://other.socialpush.test/steal", image = "urn:li:image:C4E10AQX" } } }
      local c = client()
      local _, msg, err = c:linkedin(accounts.linkedin):post { message = "m", picture = { data = PNG } }
      assert.are.equal("provider", err.kind)
      assert.matches("upload URL", msg)
      journal({ host = "api.linkedin.com", path = "/rest/images" }, 1)
      assert.are.equal(0, #sb:requests { host = "other.socialpush.test" })
      assert.are.equal(0, #sb:requests { host = "api.linkedin.com", path = "/rest/posts" })
      c:close()
    end)

    it("maps a 429 to rate_limited with Retry-After, else until midnight UTC", function()
      local c = client { retries = 0 }
      local li = c:linkedin(accounts.linkedin)
      sb:fault { host = "api.linkedin.com", path = "/rest/posts", times = 1, status = 429, retry_after = 120,
        body = { status = 429, message = "Resource level throttle APPLICATION DAY limit" } }
      local _, _, err = li:post { message = "throttled" }
      assert.are.equal("rate_limited", err.kind)
      assert.are.equal(120, err.retry_after)
      sb:fault { host = "api.linkedin.com", path = "/rest/posts", times = 1, status = 429,
        body = { status = 429, message = "Resource level throttle MEMBER DAY limit" } }
      _, _, err = li:post { message = "throttled again" }
      assert.are.equal("rate_limited", err.kind)
      assert.is_true(err.retry_after >= 1 and err.retry_after <= 86400)
      c:close()
    end)
  end)

  describe("company_post", function()
    it("publishes on the administered organization", function()
      local c = client()
      local li = c:linkedin(accounts.linkedin)
      local org_id = accounts.linkedin.company:match("(%d+)$")
      local res, msg = li:company_post { company = org_id, message = "Company news", link = "https://example.com/" }
      assert.is_table(res, msg)
      assert.matches("^urn:li:share:", res.post_id)
      local list = journal { host = "api.linkedin.com", method = "POST", path = "/rest/posts" }
      assert.are.equal(1, #list)
      check_api_headers(list[1])
      local stored = fetch_post(li, res.post_id)
      assert.are.equal(accounts.linkedin.company, stored.author)
      assert.are.equal("PUBLIC", stored.visibility)
      c:close()
    end)

    it("uploads a picture owned by the organization", function()
      local c = client()
      local li = c:linkedin(accounts.linkedin)
      local res, msg = li:company_post { message = "Company picture", picture = { data = PNG } }
      assert.is_table(res, msg)
      local put = journal { host = "www.linkedin.com", method = "PUT", path = "/dms-uploads/*" }
      assert.are.equal(1, #put)
      assert.are.equal(#PNG, put[1].body_size)
      c:close()
    end)

    it("is reachable by its OneAll resource name (picture as a URL string)", function()
      local c = client()
      local res, msg = c:push(accounts.linkedin, "linkedin/company/post", { company = accounts.linkedin.company,
        title = "My holiday", description = "A stadium", message = "The best part of my holiday",
        link = "https://example.com/holiday", picture = accounts.media.picture })
      assert.is_table(res, msg)
      assert.are.equal("post", res.object)
      assert.are.equal(1, #journal { host = "www.linkedin.com", method = "PUT", path = "/dms-uploads/*" })
      local stored = fetch_post(c:linkedin(accounts.linkedin), res.post_id)
      assert.are.equal(accounts.linkedin.company, stored.author)
      assert.are.equal("https://example.com/holiday", stored.content.article.source)
      assert.are.equal(res.image, stored.content.article.thumbnail)
      c:close()
    end)

    it("maps an organization the member does not administer to permission", function()
      local c = client()
      local _, _, err = c:linkedin(accounts.linkedin):company_post { company = "urn:li:organization:1", message = "x" }
      assert.are.equal("permission", err.kind)
      assert.are.equal(403, err.status)
      c:close()
    end)
  end)

  describe("sandbox rules", function()
    it("answers 422 with LinkedIn's message for a missing field, mapped to the field", function()
      local c = client()
      local li = c:linkedin(accounts.linkedin)
      local b = body_of(accounts.linkedin.author)
      b.author = nil
      local _, _, err = raw_post(li, b)
      assert.are.equal("invalid_argument", err.kind)
      assert.are.equal("author", err.field)
      assert.matches("ERROR :: /author :: field is required", err.detail, 1, true)
      c:close()
    end)

    it("refuses a post that names an image never uploaded", function()
      local c = client()
      local li = c:linkedin(accounts.linkedin)
      local _, _, err = raw_post(li, body_of(accounts.linkedin.author,
        { content = { media = { id = "urn:li:image:C4E10AQNever" } } }))
      assert.are.equal("invalid_argument", err.kind)
      assert.are.equal("picture", err.field)
      c:close()
    end)

    it("refuses commentary over 3000 characters", function()
      local c = client()
      local li = c:linkedin(accounts.linkedin)
      local _, _, err = raw_post(li, body_of(accounts.linkedin.author, { commentary = ("é"):rep(3001) }))
      assert.are.equal("invalid_argument", err.kind)
      assert.are.equal("message", err.field)
      assert(raw_post(li, body_of(accounts.linkedin.author, { commentary = ("é"):rep(3000) })))
      c:close()
    end)

    it("requires the version headers", function()
      local c = client()
      local li = c:linkedin(accounts.linkedin)
      local _, _, err = raw_post(li, body_of(accounts.linkedin.author), { { "LinkedIn-Version", "202605" } })
      assert.are.equal(400, err.status)
      _, _, err = raw_post(li, body_of(accounts.linkedin.author), { { "X-Restli-Protocol-Version", "2.0.0" } })
      assert.are.equal(426, err.status)
      assert.are.equal("unsupported", err.kind)
      assert(raw_post(li, body_of(accounts.linkedin.author), { { "LinkedIn-Version", "202506.01" },
        { "X-Restli-Protocol-Version", "2.0.0" } }))
      c:close()
    end)

    it("refuses an image upload with a foreign token or an unknown image", function()
      local c = client()
      local li = c:linkedin(accounts.linkedin)
      local init = assert(li:call { operation = "linkedin.init", method = "POST",
        url = "https://api.linkedin.com/rest/images",
        query = { action = "initializeUpload" }, headers = versioned(li),
        json = { initializeUploadRequest = { owner = accounts.linkedin.author } } })
      local url = init.json.value.uploadUrl
      assert.matches("^https://www%.linkedin%.com/dms%-uploads/", url)
      local other = c:linkedin { access_token = accounts.pinterest.access_token }   -- not a LinkedIn token
      local _, _, err = other:call { operation = "x", method = "PUT", url = url, body = PNG }
      assert.are.equal("auth", err.kind)
      _, _, err = li:call { operation = "x", method = "PUT", url = url:gsub("ut=[^&]*", "ut=forged"), body = PNG }
      assert.are.equal("not_found", err.kind)
      _, _, err = li:call { operation = "x", method = "PUT", url = url, body = "not an image" }
      assert.are.equal(400, err.status)
      assert(li:call { operation = "x", method = "PUT", url = url, body = PNG, decode = "none" })
      c:close()
    end)
  end)
end)
