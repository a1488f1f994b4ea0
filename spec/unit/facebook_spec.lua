-- socialpush.facebook with a stub client: request building for every operation, the
-- resumable video protocol, argument checks, and a table of every error mapping row.
local sign = require "socialpush.sign"
local json = require "socialpush.json"
local facebook = require "socialpush.providers.facebook"

local CREDS = { access_token = "EAAUnitPageToken000000000001", app_secret = "unit-app-secret-0001",
  legacy = { api_key = "unit-api-key-0001", secret = "unit-legacy-secret-01", session_key = "unit-session-key-01" } }
local PAGE, GROUP = "1122334455", "5566778899"
local PROOF = sign.appsecret_proof(CREDS.access_token, CREDS.app_secret)
local PNG = "\137PNG\r\n\26\n" .. string.rep("p", 200)

local stub_client = require "helpers.stub_client"

-- the stub with Facebook's JSON content type on every answer
local function stub(responses)
  for _, r in ipairs(responses or {}) do
    if not r.fail then
      r.headers = r.headers or {}
      r.headers["content-type"] = r.headers["content-type"] or "application/json; charset=UTF-8"
    end
  end
  return stub_client(responses)
end

local function handle(responses, creds)
  local c = stub(responses)
  return facebook.new(c, creds or CREDS), c
end

local function header(req, name)
  for _, kv in ipairs(req.headers) do
    if kv[1]:lower() == name:lower() then return kv[2] end
  end
end

-- decoded form body -> name -> value (and the ordered names)
local function form(req)
  local t, names = {}, {}
  for pair in (req.body .. "&"):gmatch("([^&]*)&") do
    if pair ~= "" then
      local k, v = pair:match("^([^=]*)=(.*)$")
      k, v = assert(sign.percent_decode(k)), assert(sign.percent_decode(v))
      t[k] = v
      names[#names + 1] = k
    end
  end
  return t, names
end

local function parts(req)
  local t = {}
  for _, p in ipairs(req.body.multipart) do t[p.name] = p end
  return t
end

local function graph_err(code, message, extra)
  local e = { message = message or "(#" .. code .. ") error", type = "OAuthException", code = code,
    fbtrace_id = "AbCdEfGhIjK" }
  for k, v in pairs(extra or {}) do e[k] = v end
  return { error = e }
end

describe("socialpush.facebook", function()
  describe("page_post", function()
    it("POSTs the form to /{page}/feed with bearer auth and appsecret_proof in the query", function()
      local fb, c = handle { { body = { id = PAGE .. "_10213097383563000" } } }
      local res = assert(fb:page_post { page_id = PAGE, message = "Hello World!", link = "https://example.com/" })
      local req = c.sent[1]
      assert.are.equal("POST", req.method)
      assert.are.equal("https://graph.facebook.com/v25.0/" .. PAGE .. "/feed?appsecret_proof=" .. PROOF, req.url)
      assert.are.equal("Bearer " .. CREDS.access_token, header(req, "Authorization"))
      assert.are.equal("application/x-www-form-urlencoded", header(req, "Content-Type"))
      assert.is_false(req.idempotent)
      assert.are.same({ message = "Hello World!", link = "https://example.com/" }, (form(req)))
      assert.are.same({ provider = "facebook", object = "post", post_id = PAGE .. "_10213097383563000",
        post_location = "https://www.facebook.com/" .. PAGE .. "_10213097383563000",
        raw = { id = PAGE .. "_10213097383563000" } }, res)
    end)

    it("sends one attachment as attached_media and honours creds.api_version", function()
      local creds = { access_token = CREDS.access_token, api_version = "v19.0" }
      local fb, c = handle({ { body = { id = PAGE .. "_2" } } }, creds)
      assert(fb:page_post { page_id = tonumber(PAGE), message = "pic", attachments = { "10213097336001811" } })
      local req = c.sent[1]
      assert.are.equal("https://graph.facebook.com/v19.0/" .. PAGE .. "/feed", req.url)   -- no app_secret: no proof
      local f = form(req)
      assert.are.same({ { media_fbid = "10213097336001811" } }, json.decode(f.attached_media))
      assert.are.equal("pic", f.message)
    end)

    local refused = {
      { "no message nor link", { page_id = PAGE }, "message" },
      { "a blank message", { page_id = PAGE, message = "  \n" }, "message" },
      { "link and attachments together", { page_id = PAGE, link = "https://e.com/", attachments = { "1" } },
        "attachments" },
      { "two attachments", { page_id = PAGE, message = "m", attachments = { "1", "2" } }, "attachments" },
      { "a malformed attachment id", { page_id = PAGE, message = "m", attachments = { "1/2" } }, "attachments" },
      { "a page id with a slash", { page_id = "12/feed", message = "m" }, "page_id" },
      { "no page id", { message = "m" }, "page_id" },
      { "a link that is not http(s)", { page_id = PAGE, link = "javascript:alert(1)" }, "link" },
      { "a message over 63206 characters", { page_id = PAGE, message = string.rep("a", 63207) }, "message" },
      { "a message that is not UTF-8", { page_id = PAGE, message = "\255\254" }, "message" },
    }
    for _, row in ipairs(refused) do
      it("refuses " .. row[1] .. " before sending", function()
        local fb, c = handle {}
        local res, msg, err = fb:page_post(row[2])
        assert.is_nil(res)
        assert.are.equal("invalid_argument", err.kind, msg)
        assert.are.equal(row[3], err.field)
        assert.are.equal(0, #c.sent)
      end)
    end

    it("returns kind decode for a 200 without a post id", function()
      local fb = handle { { body = '"just a string"' }, { body = { success = true } } }
      local _, _, err = fb:page_post { page_id = PAGE, message = "m" }
      assert.are.equal("decode", err.kind)
      _, _, err = fb:page_post { page_id = PAGE, message = "n" }
      assert.are.equal("decode", err.kind)
    end)

    it("refuses a bad api_version and missing credentials before sending", function()
      local fb = handle({}, { access_token = "x", api_version = "25" })
      local _, _, err = fb:page_post { page_id = PAGE, message = "m" }
      assert.are.equal("api_version", err.field)
      local c
      fb, c = handle({}, { app_secret = "only-a-secret" })
      _, _, err = fb:page_post { page_id = PAGE, message = "m" }
      assert.are.equal("invalid_argument", err.kind)
      assert.are.equal("access_token", err.field)
      assert.are.equal(0, #c.sent)
    end)
  end)

  describe("retired posts", function()
    it("post sends POST /me/feed and group_post POST /{group}/feed", function()
      local fb, c = handle { { body = { id = "100_1" } }, { body = { id = GROUP .. "_2" } } }
      local a = assert(fb:post { message = "me" })
      local b = assert(fb:group_post { group_id = GROUP, link = "https://e.com/" })
      assert.are.equal("https://graph.facebook.com/v25.0/me/feed?appsecret_proof=" .. PROOF, c.sent[1].url)
      assert.are.equal("https://graph.facebook.com/v25.0/" .. GROUP .. "/feed?appsecret_proof=" .. PROOF, c.sent[2].url)
      assert.are.equal("100_1", a.post_id)
      assert.are.equal("https://www.facebook.com/" .. GROUP .. "_2", b.post_location)
    end)

    local today = {
      { "post", { message = "m" }, graph_err(200, "(#200) The user hasn't authorized the application"), "page_post" },
      { "group_post", { group_id = GROUP, message = "m" }, graph_err(3, "(#3) Application does not have the"
        .. " capability to make this API call."), "page_post" },
      { "picture", { picture = { data = PNG } }, graph_err(200), "page_picture" },
      { "group_picture", { group_id = GROUP, picture = { url = "https://e.com/a.png" } }, graph_err(10),
        "page_picture" },
      { "video", { video = { url = "https://e.com/v.mp4" } }, graph_err(200), "page_video" },
      { "group_video", { group_id = GROUP, video = { url = "https://e.com/v.mp4" } }, graph_err(3), "page_video" },
    }
    for _, row in ipairs(today) do
      it(row[1] .. ": today's permission refusal becomes deprecated, naming " .. row[4], function()
        local fb = handle { { status = 403, body = row[3] } }
        local res, msg, err = fb[row[1]](fb, row[2])
        assert.is_nil(res)
        assert.are.equal("deprecated", err.kind)
        assert.is_false(err.retryable)
        assert.matches("use " .. row[4] .. " instead", msg, 1, true)
        assert.are.equal(row[3].error.code, err.code)
        assert.are.equal("AbCdEfGhIjK", err.request_id)
      end)
    end

    it("scrubs the token from messages but keeps ids kept in the credentials readable", function()
      local creds = { access_token = CREDS.access_token, app_secret = CREDS.app_secret, page_id = PAGE }
      local fb = handle({ { status = 400, body = graph_err(100, "Object with ID '" .. PAGE .. "' and token "
        .. CREDS.access_token, { error_subcode = 33 }) } }, creds)
      local _, msg, err = fb:page_post { page_id = PAGE, message = "m" }
      assert.are.equal("not_found", err.kind)
      assert.matches("Object with ID '" .. PAGE .. "'", msg, 1, true)
      assert.is_nil(msg:find(CREDS.access_token, 1, true))
      assert.is_nil(err.detail:find(CREDS.access_token, 1, true))
    end)

    it("keeps other refusals of a retired operation as they are", function()
      local fb = handle { { status = 400, body = graph_err(190, "Invalid OAuth access token") } }
      local _, _, err = fb:post { message = "m" }
      assert.are.equal("auth", err.kind)
    end)
  end)

  describe("pictures", function()
    it("page_picture by URL sends url=, message= and published=false", function()
      local fb, c = handle { { body = { id = "9001" } } }
      local res = assert(fb:page_picture { page_id = PAGE, picture = { url = "https://e.com/a.png" },
        description = "caption", create_post = false })
      local req = c.sent[1]
      assert.are.equal("https://graph.facebook.com/v25.0/" .. PAGE .. "/photos?appsecret_proof=" .. PROOF, req.url)
      assert.are.same({ url = "https://e.com/a.png", message = "caption", published = "false" }, (form(req)))
      assert.are.equal("picture", res.object)
      assert.are.equal("9001", res.post_id)
      assert.is_nil(res.post_location)
    end)

    it("page_picture by bytes sends a multipart source; the result is the post when published", function()
      local fb, c = handle { { body = { id = "9002", post_id = PAGE .. "_77" } } }
      local res = assert(fb:page_picture { page_id = PAGE, picture = { data = PNG, filename = "a.png" },
        description = "caption" })
      local p = parts(c.sent[1])
      assert.are.equal(PNG, p.source.data)
      assert.are.equal("image/png", p.source.content_type)
      assert.are.equal("a.png", p.source.filename)
      assert.are.equal("caption", p.message.data)
      assert.is_nil(p.published)
      assert.are.equal(PAGE .. "_77", res.post_id)
      assert.are.equal("https://www.facebook.com/" .. PAGE .. "_77", res.post_location)
    end)

    it("picture and group_picture use /me/photos and /{group}/photos", function()
      local fb, c = handle { { body = { id = "1", post_id = "100_1" } },
        { body = { id = "2", post_id = GROUP .. "_2" } } }
      assert(fb:picture { picture = { data = PNG } })
      assert(fb:group_picture { group_id = GROUP, picture = { data = PNG } })
      assert.matches("/v25.0/me/photos?", c.sent[1].url, 1, true)
      assert.matches("/v25.0/" .. GROUP .. "/photos?", c.sent[2].url, 1, true)
    end)

    local bad = {
      { "no picture", { page_id = PAGE }, "picture" },
      { "a WebP picture", { page_id = PAGE, picture = { data = "RIFF\0\0\0\0WEBPVP8 " } }, "picture" },
      { "an unknown file type", { page_id = PAGE, picture = { data = "just text" } }, "picture" },
      { "a picture over 10 MB",
        { page_id = PAGE, picture = { data = "\255\216\255" .. string.rep("j", 10 * 1024 * 1024) } }, "picture" },
      { "a non-boolean create_post", { page_id = PAGE, picture = { data = PNG }, create_post = "no" }, "create_post" },
      { "a picture URL that is not http(s)", { page_id = PAGE, picture = { url = "ftp://e.com/a.png" } }, "picture" },
    }
    for _, row in ipairs(bad) do
      it("refuses " .. row[1] .. " before sending", function()
        local fb, c = handle {}
        local _, msg, err = fb:page_picture(row[2])
        assert.are.equal("invalid_argument", err.kind, msg)
        assert.are.equal(row[3], err.field)
        assert.are.equal(0, #c.sent)
      end)
    end
  end)

  describe("videos", function()
    local VIDEO = {}
    for i = 1, 3000 do VIDEO[i] = string.char(i % 251) end
    VIDEO = table.concat(VIDEO)
    local URL = "https://graph-video.facebook.com/v25.0/" .. PAGE .. "/videos?appsecret_proof=" .. PROOF

    local function start_reply(e)
      return { body = { video_id = "555", start_offset = "0", end_offset = tostring(e), upload_session_id = "777" } }
    end

    it("page_video runs start, transfers the server's windows, finishes", function()
      local fb, c = handle {
        start_reply(1000),
        { body = { start_offset = "1000", end_offset = "3000" } },
        { body = { start_offset = "3000", end_offset = "3000" } },
        { body = { success = true } },
      }
      local res = assert(fb:page_video { page_id = PAGE, video = { data = VIDEO, filename = "v.mp4" },
        title = "T", description = "D" })
      assert.are.equal(4, #c.sent)
      for _, req in ipairs(c.sent) do
        assert.are.equal(URL, req.url)
        assert.are.equal("Bearer " .. CREDS.access_token, header(req, "Authorization"))
      end
      local f, names = form(c.sent[1])
      assert.are.same({ "upload_phase", "file_size" }, names)
      assert.are.same({ upload_phase = "start", file_size = "3000" }, f)
      assert.is_false(c.sent[1].idempotent)
      local t1, t2 = parts(c.sent[2]), parts(c.sent[3])
      assert.are.equal("transfer", t1.upload_phase.data)
      assert.are.equal("777", t1.upload_session_id.data)
      assert.are.equal("0", t1.start_offset.data)
      assert.are.equal(VIDEO:sub(1, 1000), t1.video_file_chunk.data)
      assert.are.equal("1000", t2.start_offset.data)
      assert.are.equal(VIDEO:sub(1001, 3000), t2.video_file_chunk.data)
      assert.is_true(c.sent[2].idempotent)
      assert.are.same({ upload_phase = "finish", upload_session_id = "777", title = "T", description = "D" },
        (form(c.sent[4])))
      assert.is_false(c.sent[4].idempotent)
      assert.are.equal("video", res.object)
      assert.are.equal("555", res.post_id)
      assert.are.equal("https://www.facebook.com/" .. PAGE .. "/videos/555", res.post_location)
    end)

    it("follows error_data offsets of subcode 1363037", function()
      local fb, c = handle {
        start_reply(1000),
        { status = 400, body = graph_err(6000, "bad offset", { error_subcode = 1363037,
          error_data = { start_offset = "500", end_offset = "1500" } }) },
        { body = { start_offset = "1500", end_offset = "3000" } },
        { body = { start_offset = "3000", end_offset = "3000" } },
        { body = { success = true } },
      }
      assert(fb:page_video { page_id = PAGE, video = { data = VIDEO } })
      local t = parts(c.sent[3])
      assert.are.equal("500", t.start_offset.data)
      assert.are.equal(VIDEO:sub(501, 1500), t.video_file_chunk.data)
      assert.are.equal("1500", parts(c.sent[4]).start_offset.data)
    end)

    it("re-sends the same chunk on a retry subcode (1363019) after a pause", function()
      local fb, c = handle {
        start_reply(3000),
        { status = 400, body = graph_err(6000, "retry", { error_subcode = 1363019 }) },
        { body = { start_offset = "3000", end_offset = "3000" } },
        { body = { success = true } },
      }
      assert(fb:page_video { page_id = PAGE, video = { data = VIDEO } })
      assert.are.equal(parts(c.sent[2]).video_file_chunk.data, parts(c.sent[3]).video_file_chunk.data)
      assert.are.equal("0", parts(c.sent[3]).start_offset.data)
      assert.are.same({ 1 }, c.slept)
    end)

    it("gives up when the server makes no progress", function()
      local replies = { start_reply(1000) }
      for _ = 1, 9 do replies[#replies + 1] = { body = { start_offset = "0", end_offset = "1000" } } end
      local fb, c = handle(replies)
      local res, msg, err = fb:page_video { page_id = PAGE, video = { data = VIDEO } }
      assert.is_nil(res)
      assert.are.equal("provider", err.kind, msg)
      assert.are.equal(10, #c.sent)
    end)

    it("maps a refused transfer and keeps other replies' kinds", function()
      local fb = handle { start_reply(1000),
        { status = 400, body = graph_err(190, "expired", { error_subcode = 463 }) } }
      local _, _, err = fb:page_video { page_id = PAGE, video = { data = VIDEO } }
      assert.are.equal("auth", err.kind)
      assert.are.equal(463, err.subcode)
    end)

    it("resumes a saved session from resume_dir without a new start", function()
      local dir = os.tmpname()
      os.remove(dir)
      assert(os.execute("mkdir -p '" .. dir .. "'"))
      local path = dir .. "/v.mp4"
      local f = assert(io.open(path, "wb"))
      f:write(VIDEO)
      f:close()
      local fb, c = handle {
        start_reply(1000),
        { body = { start_offset = "1000", end_offset = "2000" } },
        { fail = { kind = "transport", message = "connection reset", sent = true } },
      }
      c.resume_dir = dir
      local res, msg, err = fb:page_video { page_id = PAGE, video = path }
      assert.is_nil(res)
      assert.are.equal("transport", err.kind, msg)
      -- a new process (new handle), same resume_dir: continues at 1000 in session 777
      local fb2, c2 = handle {
        { body = { start_offset = "2000", end_offset = "3000" } },
        { body = { start_offset = "3000", end_offset = "3000" } },
        { body = { success = true } },
      }
      c2.resume_dir = dir
      res = assert(fb2:page_video { page_id = PAGE, video = path })
      assert.are.equal("555", res.post_id)
      local t = parts(c2.sent[1])
      assert.are.equal("777", t.upload_session_id.data)
      assert.are.equal("1000", t.start_offset.data)
      assert.are.equal(VIDEO:sub(1001, 2000), t.video_file_chunk.data)
      os.remove(path)
      local p = io.popen("ls -A '" .. dir .. "'")
      local left = p:read("*a")
      p:close()
      assert.are.equal("", left)     -- the state file is gone after finish
      os.remove(dir)
    end)

    it("sends file_url for a URL video, and uses /me and /{group} for the retired ones", function()
      local fb, c = handle { { body = { id = "1" } }, { body = { id = "2" } }, { body = { id = "3" } } }
      local a = assert(fb:page_video { page_id = PAGE, video = { url = "https://e.com/v.mp4" }, title = "T" })
      assert.are.same({ file_url = "https://e.com/v.mp4", title = "T" }, (form(c.sent[1])))
      assert.are.equal(URL, c.sent[1].url)
      assert.are.equal("https://www.facebook.com/" .. PAGE .. "/videos/1", a.post_location)
      local b = assert(fb:video { video = { url = "https://e.com/v.mp4" } })
      assert.matches("graph-video.facebook.com/v25.0/me/videos?", c.sent[2].url, 1, true)
      assert.is_nil(b.post_location)
      assert(fb:group_video { group_id = GROUP, video = { url = "https://e.com/v.mp4" } })
      assert.matches("/v25.0/" .. GROUP .. "/videos?", c.sent[3].url, 1, true)
    end)

    it("refuses videos under 1 KB or over 10 GB before sending", function()
      local fb, c = handle {}
      local _, _, err = fb:page_video { page_id = PAGE, video = { data = string.rep("v", 1023) } }
      assert.are.equal("invalid_argument", err.kind)
      assert.are.equal("video", err.field)
      _, _, err = fb:page_video { page_id = PAGE, video = { source = "file", path = "/nonexistent",
        size = 10 * 1024 ^ 3 + 1, content_type = "video/mp4" } }
      assert.are.equal("video", err.field)
      _, _, err = fb:page_video { page_id = PAGE }
      assert.are.equal("video", err.field)
      assert.are.equal(0, #c.sent)
    end)
  end)

  describe("stream_publish", function()
    it("POSTs the signed legacy form to restserver.php and returns the post id string", function()
      local fb, c = handle { { headers = { ["content-type"] = "text/javascript; charset=UTF-8" },
        body = '"100087654321001_1234"' } }
      local res = assert(fb:stream_publish { message = "hi", target_id = "104584925233744",
        attachment = { name = "n", href = "https://e.com/" },
        action_links = { { text = "t", href = "https://e.com/" } } })
      local req = c.sent[1]
      assert.are.equal("https://api.facebook.com/restserver.php", req.url)
      assert.are.equal("POST", req.method)
      assert.is_nil(header(req, "Authorization"))
      local f, names = form(req)
      assert.are.same({ "method", "api_key", "v", "call_id", "format", "session_key", "message", "attachment",
        "action_links", "target_id", "sig" }, names)
      assert.are.equal("stream.publish", f.method)
      assert.are.equal("1.0", f.v)
      assert.are.equal("JSON", f.format)
      assert.are.equal(CREDS.legacy.session_key, f.session_key)
      assert.matches("^%d+$", f.call_id)
      assert.are.same({ name = "n", href = "https://e.com/" }, json.decode(f.attachment))
      assert.are.same({ { text = "t", href = "https://e.com/" } }, json.decode(f.action_links))
      local params = {}
      for k, v in pairs(f) do if k ~= "sig" then params[k] = v end end
      assert.are.equal(sign.legacy_sig(params, CREDS.legacy.secret), f.sig)
      assert.are.same({ provider = "facebook", object = "post", post_id = "100087654321001_1234",
        post_location = "https://www.facebook.com/100087654321001_1234", raw = "100087654321001_1234" }, res)
    end)

    it("takes the legacy credentials from the arguments first; call_id increases", function()
      local fb, c = handle { { body = '"1_2"' }, { body = '"1_3"' } }
      assert(fb:stream_publish { message = "a", api_key = "arg-key", secret = "arg-secret-000",
        session_key = "arg-sk-000" })
      assert(fb:stream_publish { message = "b", uid = 100087654321001 })
      local f1, f2 = form(c.sent[1]), form(c.sent[2])
      assert.are.equal("arg-key", f1.api_key)
      assert.are.equal("arg-sk-000", f1.session_key)
      local params = {}
      for k, v in pairs(f1) do if k ~= "sig" then params[k] = v end end
      assert.are.equal(sign.legacy_sig(params, "arg-secret-000"), f1.sig)
      assert.are.equal("100087654321001", f2.uid)
      assert.is_true(tonumber(f2.call_id) > tonumber(f1.call_id))
    end)

    it("maps an HTTP 200 error body and scrubs the secrets", function()
      local fb = handle { { body = { error_code = 102, error_msg = "Session key invalid: " .. CREDS.legacy.session_key,
        request_args = {} } } }
      local res, msg, err = fb:stream_publish { message = "x" }
      assert.is_nil(res)
      assert.are.equal("auth", err.kind)
      assert.are.equal(102, err.code)
      assert.are.equal(200, err.status)
      assert.is_nil(msg:find(CREDS.legacy.session_key, 1, true))
    end)

    it("turns today's REST refusal (code 12) into deprecated naming page_post", function()
      local fb = handle { { body = { error_code = 12,
        error_msg = "REST API is deprecated for versions v2.1 and higher" } } }
      local _, msg, err = fb:stream_publish { message = "x" }
      assert.are.equal("deprecated", err.kind)
      assert.matches("use page_post instead", msg, 1, true)
    end)

    local bad = {
      { "nothing to publish", { }, "message" },
      { "a bad target_id", { message = "m", target_id = "../x" }, "target_id" },
      { "an action_links map", { message = "m", action_links = { text = "t" } }, "action_links" },
      { "an attachment number", { message = "m", attachment = 5 }, "attachment" },
    }
    for _, row in ipairs(bad) do
      it("refuses " .. row[1] .. " before sending", function()
        local fb, c = handle {}
        local _, _, err = fb:stream_publish(row[2])
        assert.are.equal("invalid_argument", err.kind)
        assert.are.equal(row[3], err.field)
        assert.are.equal(0, #c.sent)
      end)
    end

    it("needs api_key and secret", function()
      local fb, c = handle({}, { access_token = "t" })
      local _, _, err = fb:stream_publish { message = "m" }
      assert.are.equal("api_key", err.field)
      _, _, err = fb:stream_publish { message = "m", api_key = "k" }
      assert.are.equal("secret", err.field)
      assert.are.equal(0, #c.sent)
    end)
  end)

  -- every row of the error mapping: status, body, headers -> kind and fields
  describe("map_error", function()
    local BUC = json.encode { [PAGE] = { { type = "pages", call_count = 100, total_cputime = 20, total_time = 30,
      estimated_time_to_regain_access = 7 } } }
    local APP = '{"call_count":100,"total_cputime":40,"total_time":40}'
    local rows = {
      -- name, status, body, headers, kind, extra expectations
      { "1 unknown", 500, graph_err(1, "An unknown error occurred"), nil, "server", { retryable = true } },
      { "2 service", 503, graph_err(2, "Service temporarily unavailable"), nil, "server", { retryable = true } },
      { "3 capability", 400, graph_err(3), nil, "permission" },
      { "4 app limit + X-App-Usage", 400,
        graph_err(4, "(#4) Application request limit reached", { is_transient = true }),
        { ["x-app-usage"] = APP }, "rate_limited", { retry_after = 300, retryable = true } },
      { "4 with Retry-After", 400, graph_err(4), { ["retry-after"] = "30" }, "rate_limited", { retry_after = 30 } },
      { "17 user limit + BUC", 400, graph_err(17), { ["x-business-use-case-usage"] = BUC, ["x-app-usage"] = APP },
        "rate_limited", { retry_after = 420 } },
      { "32 page limit", 400, graph_err(32), { ["x-business-use-case-usage"] = BUC }, "rate_limited",
        { retry_after = 420 } },
      { "613 custom limit", 400, graph_err(613), nil, "rate_limited" },
      { "80001 Pages BUC", 400, graph_err(80001, nil, { error_subcode = 2494055 }),
        { ["x-business-use-case-usage"] = BUC }, "rate_limited", { retry_after = 420, subcode = 2494055 } },
      { "80004 BUC family", 400, graph_err(80004), nil, "rate_limited" },
      { "341 feed limit", 400, graph_err(341, "(#341) Feed action request limit reached"), nil, "rate_limited" },
      { "10 permission", 400, graph_err(10), nil, "permission" },
      { "200 permission", 403, graph_err(200), nil, "permission" },
      { "210 user not visible", 400, graph_err(210), nil, "permission" },
      { "299 permission range", 400, graph_err(299), nil, "permission" },
      { "100 with a param", 400, graph_err(100, "(#100) param message must be non-empty UTF-8 encoded string"), nil,
        "invalid_argument", { field = "message" } },
      { "100 parameter link", 400, graph_err(100, "(#100) The parameter link is required"), nil,
        "invalid_argument", { field = "link" } },
      { "100 missing message", 400, graph_err(100, "(#100) Missing message or attachment"), nil,
        "invalid_argument", { field = "message" } },
      { "100 bad appsecret_proof", 400, graph_err(100, "Invalid appsecret_proof provided in the API argument",
        { type = "GraphMethodException" }), nil, "invalid_argument", { field = "app_secret" } },
      { "100 unclear", 400, graph_err(100, "(#100) Invalid parameter"), nil, "invalid_argument", { field = false } },
      { "100/33 no such object", 400, graph_err(100, "Unsupported post request.", { error_subcode = 33 }), nil,
        "not_found" },
      { "102 session", 400, graph_err(102), nil, "auth" },
      { "104 signature / token required", 400, graph_err(104), nil, "auth" },
      { "190 invalid token", 400, graph_err(190, "Invalid OAuth access token"), nil, "auth" },
      { "190/458 app not installed", 400, graph_err(190, "x", { error_subcode = 458 }), nil, "auth",
        { subcode = 458 } },
      { "190/459 checkpoint", 400, graph_err(190, "x", { error_subcode = 459 }), nil, "auth" },
      { "190/460 password changed", 400, graph_err(190, "x", { error_subcode = 460 }), nil, "auth" },
      { "190/463 expired", 400, graph_err(190, "x", { error_subcode = 463 }), nil, "auth" },
      { "190/464 unconfirmed user", 400, graph_err(190, "x", { error_subcode = 464 }), nil, "auth" },
      { "190/467 invalid token", 400, graph_err(190, "x", { error_subcode = 467 }), nil, "auth" },
      { "368 policy block", 400, graph_err(368, "(#368) The action attempted has been deemed abusive"), nil,
        "permission" },
      { "506 duplicate", 400, graph_err(506, "(#506) Duplicate status message"), nil, "duplicate" },
      { "12 deprecated", 400, graph_err(12, "(#12) deprecated"), nil, "deprecated" },
      { "6000/1363023 too large", 400, graph_err(6000, "too large", { error_subcode = 1363023 }), nil, "too_large",
        { field = "video" } },
      { "6000/1363022 too small", 400, graph_err(6000, "too small", { error_subcode = 1363022 }), nil,
        "invalid_argument", { field = "video" } },
      { "324 invalid image", 400, graph_err(324, "(#324) Missing or invalid image file"), nil, "invalid_argument",
        { field = "picture" } },
      { "6000 generic upload", 400, graph_err(6000, "There was a problem uploading your video file."), nil,
        "provider" },
      { "1609005 link scraping", 400, graph_err(1609005, "Error posting link"), nil, "provider" },
      { "unknown code", 400, graph_err(987654), nil, "provider" },
      { "no body 503", 503, "", nil, "server" },
      { "no body 404", 404, "", nil, "not_found" },
      { "string error", 400, { error = "bad request" }, nil, "provider" },
    }
    for _, row in ipairs(rows) do
      it(row[1] .. " -> " .. row[5], function()
        local fb = handle { { status = row[2], body = row[3], headers = row[4] } }
        local res, msg, err = fb:page_post { page_id = PAGE, message = "m" }
        assert.is_nil(res)
        assert.are.equal(row[5], err.kind, msg)
        assert.are.equal(row[2], err.status)
        assert.are.equal("facebook", err.provider)
        assert.are.equal("facebook.page_post", err.operation)
        local body = row[3]
        if type(body) == "table" and type(body.error) == "table" then
          assert.are.equal(body.error.code, err.code)
          assert.are.equal("AbCdEfGhIjK", err.request_id)
          assert.matches(body.error.message, msg, 1, true)
        end
        for k, v in pairs(row[6] or {}) do
          if v == false then assert.is_nil(err[k], k) else assert.are.equal(v, err[k], k) end
        end
      end)
    end

    -- the legacy REST API: HTTP 200 and {"error_code","error_msg"}
    local rest = {
      { 1, "server" }, { 4, "rate_limited" }, { 17, "rate_limited" }, { 100, "invalid_argument" },
      { 101, "auth" }, { 102, "auth" }, { 104, "auth" }, { 200, "permission" }, { 210, "permission" },
      { 340, "rate_limited" }, { 341, "rate_limited" }, { 12, "deprecated" }, { 3, "deprecated" }, { 999, "provider" },
    }
    for _, row in ipairs(rest) do
      it("REST error_code " .. row[1] .. " -> " .. row[2], function()
        local fb = handle { { body = { error_code = row[1], error_msg = "REST says no", request_args = {} } } }
        local _, msg, err = fb:stream_publish { message = "m" }
        assert.are.equal(row[2], err.kind, msg)
        assert.are.equal(row[1], err.code)
        assert.are.equal("facebook.stream_publish", err.operation)
      end)
    end

    it("is one function reading both body shapes directly", function()
      local m = facebook.map_error({ status = 400, headers = {}, json = graph_err(506) }, {})
      assert.are.same({ kind = "duplicate", code = 506, detail = "(#506) error", request_id = "AbCdEfGhIjK" }, m)
      m = facebook.map_error({ status = 200, headers = {}, json = { error_code = 341, error_msg = "limit" } })
      assert.are.equal("rate_limited", m.kind)
      m = facebook.map_error({ status = 404, headers = {} }, { ctx = { retired = facebook.RETIRED.post } })
      assert.are.equal("deprecated", m.kind)
      assert.matches("page_post", m.detail, 1, true)
    end)
  end)

  it("answers OneAll resource names through client:push", function()
    local c = stub { { body = { id = PAGE .. "_1" } } }
    c.facebook = function(self, creds) return facebook.new(self, creds) end   -- what socialpush.new gives a client
    local push = require("socialpush.pipeline.push").push
    local res = assert(push(c, CREDS, "facebook/page/post", { page_id = PAGE, message = "m" }))
    assert.are.equal(PAGE .. "_1", res.post_id)
    assert.matches("/" .. PAGE .. "/feed?", c.sent[1].url, 1, true)
  end)
end)
