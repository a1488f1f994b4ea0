-- Pinterest end to end through the sandbox: pins (image URL, inline image, uploaded video),
-- boards, the media upload to S3, and the error kinds refusals map to. Every wait is bounded.
local helpers = require "spec_helpers"

local sb, accounts

local PNG = "\137PNG\r\n\26\n" .. ("\0"):rep(64)

local function client(opts) return helpers.client(sb, opts) end


local function journal(filter, min, c) return helpers.journal(sb, filter, min, c) end

local function get(pin, path)
  local res = assert(pin:call { operation = "pinterest.get", method = "GET",
    url = "https://api.pinterest.com/v5" .. path })
  return res.json
end

local function check_api(entry, path)
  assert.are.equal("api.pinterest.com", entry.host)
  assert.are.equal(path, entry.path)
  assert.are.equal("Bearer ***", entry.headers.authorization)
end

describe("pinterest through the sandbox", function()
  setup(function()
    sb = helpers.sandbox()
    accounts = sb:accounts()
  end)
  before_each(function() sb:reset() end)

  describe("pin", function()
    it("pins an image URL on the fixture board", function()
      local c = client()
      local pin = c:pinterest(accounts.pinterest)
      local res, msg = pin:pin { picture = { url = accounts.media.picture }, title = "A picture",
        description = "From the sandbox", link = "https://example.com/", alt_text = "A test picture" }
      assert.is_table(res, msg)
      assert.are.equal("pinterest", res.provider)
      assert.are.equal("pin", res.object)
      assert.matches("^%d+$", res.post_id)
      assert.are.equal("https://www.pinterest.com/pin/" .. res.post_id .. "/", res.post_location)
      local list = journal { host = "api.pinterest.com", method = "POST", path = "/v5/pins" }
      assert.are.equal(1, #list)
      check_api(list[1], "/v5/pins")
      assert.matches("^application/json", list[1].headers["content-type"])
      assert.are.equal(201, list[1].status)
      assert.are.equal(0, #sb:requests { host = "media.socialpush.test" })   -- Pinterest fetches URLs itself
      local stored = get(pin, "/pins/" .. res.post_id)
      assert.are.equal(accounts.pinterest.board_id, stored.board_id)
      assert.are.equal("A picture", stored.title)
      assert.are.equal("https://example.com/", stored.link)
      assert.are.equal("image_url", stored.media_source_type)
      c:close()
    end)

    it("pins an inline (base64) picture", function()
      local c = client()
      local pin = c:pinterest(accounts.pinterest)
      local res, msg = pin:pin { picture = { data = PNG }, title = "Inline" }
      assert.is_table(res, msg)
      local stored = get(pin, "/pins/" .. res.post_id)
      assert.are.equal("image_base64", stored.media_source_type)
      assert.are.equal("image", stored.media.media_type)
      c:close()
    end)

    it("uploads a video (register, S3 POST without the token, status polls) and pins it", function()
      local c = client()
      local pin = c:pinterest(accounts.pinterest)
      local res, msg = pin:pin { video = { url = accounts.media.video }, title = "A video",
        thumbnail = { url = accounts.media.picture } }
      assert.is_table(res, msg)
      assert.matches("^%d+$", res.media_id)
      local reg = journal { host = "api.pinterest.com", method = "POST", path = "/v5/media" }
      assert.are.equal(1, #reg)
      check_api(reg[1], "/v5/media")
      assert.are.equal(201, reg[1].status)
      local s3 = journal { host = "pinterest-media-upload.s3-accelerate.amazonaws.com" }
      assert.are.equal(1, #s3)
      assert.are.equal("POST", s3[1].method)
      assert.are.equal("/", s3[1].path)
      assert.is_nil(s3[1].headers.authorization)
      assert.matches("^multipart/form%-data", s3[1].headers["content-type"])
      assert.are.equal(204, s3[1].status)
      assert.is_true(s3[1].body_size > 300 * 1024)
      local polls = journal { host = "api.pinterest.com", method = "GET", path = "/v5/media/" .. res.media_id }
      assert.is_true(#polls >= 2)
      for _, p in ipairs(polls) do assert.are.equal("Bearer ***", p.headers.authorization) end
      local post = journal { host = "api.pinterest.com", method = "POST", path = "/v5/pins" }
      assert.are.equal(1, #post)
      assert.is_true(reg[1].seq < s3[1].seq and s3[1].seq < polls[1].seq and polls[#polls].seq < post[1].seq)
      local stored = get(pin, "/pins/" .. res.post_id)
      assert.are.equal("video", stored.media.media_type)
      assert.are.equal(res.media_id, stored.media_id)
      assert.are.equal("succeeded", get(pin, "/media/" .. res.media_id).status)
      c:close()
    end)

    it("reports a video the provider could not process", function()
      local c = client()
      local pin = c:pinterest(accounts.pinterest)
      local _, _, err = pin:pin { video = { data = ("not a video "):rep(100), content_type = "video/mp4" } }
      assert.are.equal("provider", err.kind)
      assert.are.equal("video", err.field)
      assert.are.equal(0, #sb:requests { host = "api.pinterest.com", path = "/v5/pins" })
      c:close()
    end)

    it("maps a revoked token to auth", function()
      local c = client()
      local _, msg, err = c:pinterest(accounts.expired.pinterest):pin { picture = { url = accounts.media.picture } }
      assert.are.equal("auth", err.kind)
      assert.are.equal(401, err.status)
      assert.is_nil(msg:find(accounts.expired.pinterest.access_token, 1, true))
      c:close()
    end)

    it("maps another user's board to permission and an unknown board to not_found", function()
      local c = client()
      local pin = c:pinterest(accounts.pinterest)
      local _, _, err = pin:pin { board_id = accounts.pinterest.foreign_board_id,
        picture = { url = accounts.media.picture } }
      assert.are.equal("permission", err.kind)
      assert.are.equal(29, err.code)
      _, _, err = pin:pin { board_id = "1234", picture = { url = accounts.media.picture } }
      assert.are.equal("not_found", err.kind)
      c:close()
    end)

    it("answers schema violations with {code, message} mapped to the field", function()
      local c = client()
      local pin = c:pinterest(accounts.pinterest)
      local function raw(body)
        return pin:call { operation = "pinterest.pin", method = "POST", url = "https://api.pinterest.com/v5/pins",
          json = body, idempotent = false }
      end
      local src = { source_type = "image_url", url = accounts.media.picture }
      local _, _, err = raw { board_id = accounts.pinterest.board_id, title = ("t"):rep(101), media_source = src }
      assert.are.equal("invalid_argument", err.kind)
      assert.are.equal("title", err.field)
      assert.are.equal(1, err.code)
      _, _, err = raw { media_source = src }
      assert.are.equal("board_id", err.field)
      _, _, err = raw { board_id = "12x", media_source = src }
      assert.are.equal("board_id", err.field)
      _, _, err = raw { board_id = accounts.pinterest.board_id, alt_text = ("a"):rep(501), media_source = src }
      assert.are.equal("alt_text", err.field)
      _, _, err = raw { board_id = accounts.pinterest.board_id,
        media_source = { source_type = "image_base64", content_type = "image/gif", data = "R0lG" } }
      assert.are.equal("picture", err.field)
      assert(raw { board_id = accounts.pinterest.board_id, title = ("é"):rep(100), media_source = src })
      c:close()
    end)

    it("refuses a video pin whose media is not processed yet", function()
      local c = client()
      local pin = c:pinterest(accounts.pinterest)
      local reg = assert(pin:call { operation = "x", method = "POST", url = "https://api.pinterest.com/v5/media",
        json = { media_type = "video" } })
      local _, _, err = pin:call { operation = "pinterest.pin", method = "POST", ctx = { media_field = "video" },
        url = "https://api.pinterest.com/v5/pins", json = { board_id = accounts.pinterest.board_id,
          media_source = { source_type = "video_id", media_id = reg.json.media_id, cover_image_key_frame_time = 0 } } }
      assert.are.equal("invalid_argument", err.kind)
      assert.are.equal("video", err.field)
      c:close()
    end)

    it("enforces the S3 upload rules: no Authorization, every parameter before the file", function()
      local c = client()
      local pin = c:pinterest(accounts.pinterest)
      local reg = assert(pin:call { operation = "x", method = "POST", url = "https://api.pinterest.com/v5/media",
        json = { media_type = "video" } })
      local params = reg.json.upload_parameters
      local names = {}
      for k in pairs(params) do names[#names + 1] = k end
      table.sort(names)
      local function parts(file_at)
        local list = {}
        for _, k in ipairs(names) do list[#list + 1] = { name = k, data = params[k] } end
        table.insert(list, file_at or (#list + 1), { name = "file", data = "\0\0\0\24ftypmp42", filename = "v.mp4" })
        return list
      end
      local _, _, err = pin:call { operation = "x", method = "POST", url = reg.json.upload_url, multipart = parts() }
      assert.are.equal(400, err.status)                     -- the Pinterest token must not go to S3
      assert.are.equal("InvalidArgument", err.code)
      _, _, err = pin:call { operation = "x", method = "POST", url = reg.json.upload_url, auth = "none",
        multipart = parts(2) }                              -- fields after the file are ignored
      assert.are.equal("permission", err.kind)
      assert.are.equal("AccessDenied", err.code)
      local ok = assert(pin:call { operation = "x", method = "POST", url = reg.json.upload_url, auth = "none",
        multipart = parts(), decode = "none" })
      assert.are.equal(204, ok.status)
      assert.are.equal("processing", get(pin, "/media/" .. reg.json.media_id).status)
      c:close()
    end)

    it("is reachable by its OneAll resource name (board in the path, picture as a URL string)", function()
      local c = client()
      local res, msg = c:push(accounts.pinterest, "pinterest/board/" .. accounts.pinterest.board_id .. "/pin",
        { description = "User Integration Platform", picture = accounts.media.picture, link = "https://example.com/" })
      assert.is_table(res, msg)
      assert.are.equal("pin", res.object)
      local stored = get(c:pinterest(accounts.pinterest), "/pins/" .. res.post_id)
      assert.are.equal(accounts.pinterest.board_id, stored.board_id)
      assert.are.equal("User Integration Platform", stored.description)
      local board, bmsg = c:push(accounts.pinterest, "pinterest/board", { name = "From OneAll" })
      assert.is_table(board, bmsg)
      assert.are.equal("board", board.object)
      c:close()
    end)

    it("maps a 429 to rate_limited with Retry-After", function()
      local c = client { retries = 0 }
      sb:fault { host = "api.pinterest.com", path = "/v5/pins", times = 1, status = 429, retry_after = 90,
        body = { code = 8, message = "Rate limit exceeded." } }
      local _, _, err = c:pinterest(accounts.pinterest):pin { picture = { url = accounts.media.picture } }
      assert.are.equal("rate_limited", err.kind)
      assert.are.equal(90, err.retry_after)
      assert.are.equal(8, err.code)
      c:close()
    end)

    it("talks to api-sandbox.pinterest.com when base_url says so", function()
      local c = client()
      local creds = {}
      for k, v in pairs(accounts.pinterest) do creds[k] = v end
      creds.base_url = "https://api-sandbox.pinterest.com/v5"
      assert(c:pinterest(creds):pin { picture = { url = accounts.media.picture } })
      assert.are.equal(1, #journal { host = "api-sandbox.pinterest.com", path = "/v5/pins" })
      c:close()
    end)
  end)

  describe("board", function()
    it("creates a board", function()
      local c = client()
      local pin = c:pinterest(accounts.pinterest)
      local res, msg = pin:board { name = "Summer recipes", description = "My favourites", privacy = "SECRET" }
      assert.is_table(res, msg)
      assert.are.equal("board", res.object)
      assert.matches("^%d+$", res.post_id)
      assert.is_nil(res.post_location)
      local list = journal { host = "api.pinterest.com", method = "POST", path = "/v5/boards" }
      assert.are.equal(1, #list)
      check_api(list[1], "/v5/boards")
      assert.are.equal(201, list[1].status)
      local stored = get(pin, "/boards/" .. res.post_id)
      assert.are.equal("Summer recipes", stored.name)
      assert.are.equal("SECRET", stored.privacy)
      local p = assert(pin:pin { board_id = res.post_id, picture = { url = accounts.media.picture } })
      assert.are.equal(res.post_id, get(pin, "/pins/" .. p.post_id).board_id)
      c:close()
    end)

    it("maps a board name already taken to duplicate", function()
      local c = client()
      local pin = c:pinterest(accounts.pinterest)
      assert(pin:board { name = "Twice" })
      local _, _, err = pin:board { name = "twice" }
      assert.are.equal("duplicate", err.kind)
      assert.are.equal(409, err.status)
      c:close()
    end)

    it("answers an invalid privacy with 400 mapped to the field", function()
      local c = client()
      local pin = c:pinterest(accounts.pinterest)
      local _, _, err = pin:call { operation = "pinterest.board", method = "POST", idempotent = false,
        url = "https://api.pinterest.com/v5/boards", json = { name = "x", privacy = "FRIENDS" } }
      assert.are.equal("invalid_argument", err.kind)
      assert.are.equal("privacy", err.field)
      _, _, err = pin:call { operation = "pinterest.board", method = "POST", idempotent = false,
        url = "https://api.pinterest.com/v5/boards", json = { description = "no name" } }
      assert.are.equal("name", err.field)
      c:close()
    end)

    it("maps a revoked token to auth", function()
      local c = client()
      local _, _, err = c:pinterest(accounts.expired.pinterest):board { name = "x" }
      assert.are.equal("auth", err.kind)
      c:close()
    end)
  end)
end)
