-- Pinterest provider: request building against a stub client, the media upload protocol,
-- error mapping.
local pinterest = require "socialpush.providers.pinterest"
local json = require "socialpush.json"
local sign = require "socialpush.sign"

local TOKEN = "pina_UnitTestPinterestToken0001"
local BOARD = "549755885175"
local PNG = "\137PNG\r\n\26\n" .. ("\0"):rep(40)
local JPEG = "\255\216\255\224" .. ("\0"):rep(40)
local MP4 = "\0\0\0\24ftypmp42" .. ("v"):rep(200)
local S3 = "https://pinterest-media-upload.s3-accelerate.amazonaws.com/"

local stub = require "helpers.stub_client"

-- Pinterest answers JSON unless told otherwise
local function stub_client(responses, timeout)
  for _, r in ipairs(responses) do
    if not r.fail then
      r.headers = r.headers or { ["content-type"] = "application/json" }
    end
  end
  return stub(responses, { timeout = timeout })
end

local function handle(responses, creds, timeout)
  local c = stub_client(responses, timeout)
  return pinterest.new(c, creds or { access_token = TOKEN, board_id = BOARD }), c
end

local function header(req, name)
  for _, kv in ipairs(req.headers) do
    if kv[1]:lower() == name:lower() then return kv[2] end
  end
end

local PIN = { status = 201, body = { id = "813620000000000001", board_id = BOARD } }
local REGISTERED = { status = 201, body = { media_id = "5212123920968240771", media_type = "video", upload_url = S3,
  upload_parameters = { ["x-amz-date"] = "20220127T185143Z", ["x-amz-signature"] = "fcd6", key = "uploads/11/aa",
    policy = "eyJl", ["x-amz-algorithm"] = "AWS4-HMAC-SHA256", ["x-amz-credential"] = "ASIA/us-east-1",
    ["x-amz-security-token"] = "IQoJ", ["Content-Type"] = "multipart/form-data" } } }
local function status(s)
  return { status = 200, body = { media_id = "5212123920968240771", media_type = "video", status = s } }
end

describe("pinterest (stub client)", function()
  it("pins an image URL on the default board", function()
    local pin, c = handle { PIN }
    local res = assert(pin:pin { picture = { url = "https://example.com/a.jpg" }, title = "T", description = "D",
      link = "https://example.com/", alt_text = "A" })
    assert.are.equal(1, #c.sent)
    local req = c.sent[1]
    assert.are.equal("POST", req.method)
    assert.are.equal("https://api.pinterest.com/v5/pins", req.url)
    assert.are.equal("Bearer " .. TOKEN, header(req, "Authorization"))
    assert.are.equal("application/json", header(req, "Content-Type"))
    assert.is_false(req.idempotent)
    assert.are.same({ board_id = BOARD, title = "T", description = "D", link = "https://example.com/", alt_text = "A",
      media_source = { source_type = "image_url", url = "https://example.com/a.jpg" } }, json.decode(req.body))
    assert.are.equal("pinterest", res.provider)
    assert.are.equal("pin", res.object)
    assert.are.equal("813620000000000001", res.post_id)
    assert.are.equal("https://www.pinterest.com/pin/813620000000000001/", res.post_location)
  end)

  it("sends a file or data picture inline as base64 (jpeg, png)", function()
    local pin, c = handle { PIN, PIN }
    assert(pin:pin { board_id = "123", picture = { data = PNG } })
    local body = json.decode(c.sent[1].body)
    assert.are.equal("123", body.board_id)
    assert.are.same({ source_type = "image_base64", content_type = "image/png", data = sign.base64(PNG) },
      body.media_source)
    local path = os.tmpname()
    local f = assert(io.open(path, "wb")); f:write(JPEG); f:close()
    assert(pin:pin { board_id = 456, picture = path })
    os.remove(path)
    body = json.decode(c.sent[2].body)
    assert.are.equal("456", body.board_id)
    assert.are.equal("image/jpeg", body.media_source.content_type)
    assert.are.equal(sign.base64(JPEG), body.media_source.data)
  end)

  it("uploads a video: register, S3 POST without the token, status polls, then the pin", function()
    local pin, c = handle { REGISTERED, { status = 204 }, status "processing", status "succeeded", PIN }
    local res = assert(pin:pin { video = { data = MP4, filename = "v.mp4" }, title = "V" })
    assert.are.equal(5, #c.sent)
    local reg, s3, poll1, poll2, post = c.sent[1], c.sent[2], c.sent[3], c.sent[4], c.sent[5]
    assert.are.equal("https://api.pinterest.com/v5/media", reg.url)
    assert.are.same({ media_type = "video" }, json.decode(reg.body))
    assert.are.equal("Bearer " .. TOKEN, header(reg, "Authorization"))
    assert.are.equal("POST", s3.method)
    assert.are.equal(S3, s3.url)
    assert.is_nil(header(s3, "Authorization"))
    local parts = s3.body.multipart
    local names = {}
    for i, p in ipairs(parts) do names[i] = p.name end
    assert.are.same({ "Content-Type", "key", "policy", "x-amz-algorithm", "x-amz-credential", "x-amz-date",
      "x-amz-security-token", "x-amz-signature", "file" }, names)
    for i = 1, #parts - 1 do
      assert.are.equal(REGISTERED.body.upload_parameters[parts[i].name], parts[i].data)
    end
    assert.are.equal(MP4, parts[#parts].data)
    assert.are.equal("video/mp4", parts[#parts].content_type)
    assert.are.equal("v.mp4", parts[#parts].filename)
    assert.are.equal("GET", poll1.method)
    assert.are.equal("https://api.pinterest.com/v5/media/5212123920968240771", poll1.url)
    assert.are.equal(poll1.url, poll2.url)
    assert.are.same({ 0.5 }, c.slept)
    assert.are.same({ source_type = "video_id", media_id = "5212123920968240771", cover_image_key_frame_time = 0 },
      json.decode(post.body).media_source)
    assert.are.equal("5212123920968240771", res.media_id)
  end)

  it("uses the thumbnail as the video's cover (URL or inline)", function()
    local pin, c = handle { REGISTERED, { status = 204 }, status "succeeded", PIN,
      REGISTERED, { status = 204 }, status "succeeded", PIN }
    assert(pin:pin { video = { data = MP4 }, thumbnail = { url = "https://example.com/c.png" } })
    assert.are.same({ source_type = "video_id", media_id = "5212123920968240771",
      cover_image_url = "https://example.com/c.png" }, json.decode(c.sent[4].body).media_source)
    assert(pin:pin { video = { data = MP4 }, thumbnail = { data = JPEG } })
    assert.are.same({ source_type = "video_id", media_id = "5212123920968240771",
      cover_image_content_type = "image/jpeg", cover_image_data = sign.base64(JPEG) },
      json.decode(c.sent[8].body).media_source)
  end)

  it("refuses an upload URL outside the media bucket without sending the video", function()
    for _, url in ipairs { "https://evil.example/", "http://pinterest-media-upload.s3-accelerate.amazonaws.com/",
      "https://pinterest-media-upload.s3-accelerate.amazonaws.com.evil.example/" } do
      local reg = { status = 201, body = { media_id = "1", media_type = "video", upload_url = url,
        upload_parameters = { key = "k" } } }
      local pin, c = handle { reg }
      local res, msg, err = pin:pin { video = { data = MP4 } }
      assert.is_nil(res, url)
      assert.are.equal("provider", err.kind)
      assert.matches("upload URL", msg)
      assert.are.equal(1, #c.sent)
    end
  end)

  it("reports a failed media processing", function()
    local pin, c = handle { REGISTERED, { status = 204 }, status "failed" }
    local _, _, err = pin:pin { video = { data = MP4 } }
    assert.are.equal("provider", err.kind)
    assert.are.equal("video", err.field)
    assert.are.equal(3, #c.sent)
  end)

  it("stops polling at the client timeout", function()
    local pin, c = handle({ REGISTERED, { status = 204 }, status "registered", status "processing",
      status "processing" }, nil, 2)
    local _, _, err = pin:pin { video = { data = MP4 } }
    assert.are.equal("timeout", err.kind)
    assert.are.same({ 0.5, 1 }, c.slept)
    assert.are.equal(5, #c.sent)
  end)

  it("maps an S3 refusal (XML) to its kind", function()
    local pin = handle { REGISTERED, { status = 403, headers = { ["content-type"] = "application/xml" },
      body = "<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code>"
        .. "<Message>Invalid according to Policy</Message></Error>" } }
    local _, _, err = pin:pin { video = { data = MP4 } }
    assert.are.equal("permission", err.kind)
    assert.are.equal("AccessDenied", err.code)
    assert.are.equal("Invalid according to Policy", err.detail)
  end)

  it("creates a board", function()
    local pin, c = handle { { status = 201, body = { id = 549755800000001, name = "B", privacy = "SECRET" } } }
    local res = assert(pin:board { name = "B", description = "d", privacy = "SECRET" })
    assert.are.equal("https://api.pinterest.com/v5/boards", c.sent[1].url)
    assert.are.equal("Bearer " .. TOKEN, header(c.sent[1], "Authorization"))
    assert.are.same({ name = "B", description = "d", privacy = "SECRET" }, json.decode(c.sent[1].body))
    assert.are.equal("board", res.object)
    assert.are.equal("549755800000001", res.post_id)
    assert.is_nil(res.post_location)
  end)

  it("uses creds.base_url", function()
    local pin, c = handle({ PIN }, { access_token = TOKEN, board_id = BOARD,
      base_url = "https://api-sandbox.pinterest.com/v5" })
    assert(pin:pin { picture = { url = "https://example.com/a.png" } })
    assert.are.equal("https://api-sandbox.pinterest.com/v5/pins", c.sent[1].url)
  end)

  it("checks arguments before sending anything", function()
    local url = { url = "https://example.com/a.png" }
    local rows = {
      { "pin", { picture = url, board_id = "abc" }, "board_id" },
      { "pin", { picture = url, board_id = "1/2" }, "board_id" },
      { "pin", { picture = url, board_id = "1", title = ("t"):rep(101) }, "title" },
      { "pin", { picture = url, board_id = "1", description = ("d"):rep(801) }, "description" },
      { "pin", { picture = url, board_id = "1", link = "https://e.x/" .. ("l"):rep(2040) }, "link" },
      { "pin", { picture = url, board_id = "1", link = "javascript:alert(1)" }, "link" },
      { "pin", { picture = url, board_id = "1", alt_text = ("a"):rep(501) }, "alt_text" },
      { "pin", { board_id = "1" }, "picture" },
      { "pin", { board_id = "1", picture = url, video = { data = MP4 } }, "video" },
      { "pin", { board_id = "1", picture = url, thumbnail = url }, "thumbnail" },
      { "pin", { board_id = "1", picture = { data = "GIF89a" .. ("\0"):rep(10) } }, "picture" },
      { "pin", { board_id = "1", picture = { data = "" , content_type = "image/png" } }, "picture" },
      { "pin", { board_id = "1", picture = { url = "ftp://x/a.png" } }, "picture" },
      { "pin", { board_id = "1", video = { data = PNG } }, "video" },
      { "pin", { board_id = "1", video = { data = MP4 }, thumbnail = { data = "GIF89a00" } }, "thumbnail" },
      { "board", {}, "name" },
      { "board", { name = " " }, "name" },
      { "board", { name = "n", privacy = "public" }, "privacy" },
      { "board", { name = "n", description = 5 }, "description" },
    }
    for i, row in ipairs(rows) do
      local pin, c = handle({}, { access_token = TOKEN })
      local res, msg, err = pin[row[1]](pin, row[2])
      assert.is_nil(res, "row " .. i)
      assert.is_string(msg)
      assert.are.equal("invalid_argument", err.kind, "row " .. i)
      assert.are.equal(row[3], err.field, "row " .. i)
      assert.are.equal(0, #c.sent, "row " .. i)
    end
    local pin = handle({}, { access_token = TOKEN })
    local _, _, err = pin:pin { picture = url }
    assert.are.equal("board_id", err.field)
  end)

  it("maps a refusal through the pipeline with the secrets scrubbed", function()
    local pin = handle { { status = 400, body = { code = 1, message = "'" .. TOKEN .. "' is too long - 'title'" } } }
    local res, msg, err = pin:pin { picture = { url = "https://example.com/a.png" } }
    assert.is_nil(res)
    assert.are.equal("invalid_argument", err.kind)
    assert.are.equal("title", err.field)
    assert.are.equal(1, err.code)
    assert.are.equal("pinterest.pin", err.operation)
    assert.is_nil(msg:find(TOKEN, 1, true))
  end)
end)

describe("pinterest.map_error", function()
  local function res(st, body, headers, raw)
    return { status = st, json = body, headers = headers or {}, body = raw }
  end
  local rows = {
    { res(401, { code = 2, message = "Authentication failed." }), "auth", 2 },
    { res(403, { code = 29, message = "You are not permitted to access that resource." }), "permission", 29 },
    { res(404, { code = 40, message = "Board not found." }), "not_found", 40 },
    { res(409, { code = 58, message = "You already have a board with this name." }), "duplicate", 58 },
    { res(400, { code = 1, message = "'xxxx' is too long - 'title'" }), "invalid_argument", 1, "title" },
    { res(400, { code = 1, message = "'board_id' is a required property" }), "invalid_argument", 1, "board_id" },
    { res(400, { code = 1, message = "'x' does not match '^\\d+$' - 'board_id'" }), "invalid_argument", 1, "board_id" },
    { res(400, { code = 1, message = "'SOME' is not one of ['PUBLIC'] - 'privacy'" }),
      "invalid_argument", 1, "privacy" },
    { res(400, { code = 1, message = "'ftp:' is not a valid URL - 'media_source.url'" }),
      "invalid_argument", 1, "picture" },
    { res(400, { code = 1, message = "Invalid image data - 'media_source.cover_image_data'" }),
      "invalid_argument", 1, "thumbnail" },
    { res(400, { code = 1, message = "no field here" }), "invalid_argument", 1 },
    { res(413, { code = 1, message = "Request entity too large." }), "too_large" },
    { res(429, { code = 8, message = "Rate limit exceeded." }, { ["retry-after"] = "17" }), "rate_limited", 8 },
    { res(500, { code = 0, message = "Internal error" }), "server" },
    { res(502, nil, {}, "<html>bad gateway</html>"), "server" },
    { res(503, nil), "server" },
    { res(403, nil, {}, "<Error><Code>SignatureDoesNotMatch</Code><Message>no</Message></Error>"), "permission",
      "SignatureDoesNotMatch" },
    { res(418, { code = 9, message = "teapot" }), "provider", 9 },
  }
  for i, row in ipairs(rows) do
    it(("row %d: HTTP %d → %s"):format(i, row[1].status, tostring(row[2])), function()
      local m = pinterest.map_error(row[1], { operation = "pinterest.pin" })
      assert.are.equal(row[2], m.kind)
      if row[3] ~= nil then assert.are.equal(row[3], m.code) end
      if row[4] ~= nil then assert.are.equal(row[4], m.field) end
      if row[1].json then assert.are.equal(row[1].json.message, m.detail) end
    end)
  end

  it("takes Retry-After on 429 (res.retry_after: seconds or an HTTP date, computed by the client)", function()
    local seconds = handle { { status = 429, body = { code = 8, message = "x" },
      headers = { ["content-type"] = "application/json", ["retry-after"] = "17" } } }
    local _, _, e17 = seconds:board { name = "b" }
    assert.are.equal(17, e17.retry_after)
    local none = handle { { status = 429, body = { code = 8, message = "x" } } }
    local _, _, enone = none:board { name = "b" }
    assert.is_nil(enone.retry_after)
    local date = os.date("!%a, %d %b %Y %H:%M:%S GMT", os.time() + 120)
    local pin = handle { { status = 429, body = { code = 8, message = "Rate limited" },
      headers = { ["content-type"] = "application/json", ["retry-after"] = date } } }
    local _, _, err = pin:board { name = "b" }
    assert.are.equal("rate_limited", err.kind)
    assert.is_true(err.retry_after >= 115 and err.retry_after <= 120, tostring(err.retry_after))
  end)

  it("names video for a media_source field of a video call", function()
    local m = pinterest.map_error(res(400, { code = 1, message = "Media not found - 'media_source.media_id'" }),
      { operation = "pinterest.pin", ctx = { media_field = "video" } })
    assert.are.equal("video", m.field)
  end)
end)
