-- socialpush.oneall end to end: real libcurl against the sandbox's OneAll site
-- (sandbox.api.oneall.com on 127.0.0.1). Every wait is bounded.
local helpers = require "spec_helpers"
local socialpush = require "socialpush"
local oneall = require "socialpush.providers.oneall"
local sign = require "socialpush.sign"

local HOST = "sandbox.api.oneall.com"
local AUTH_INFO = "Authentication credentials are missing or incorrect: "
  .. "http://docs.oneall.com/api/basic/authentication/"

local sb, acc, client, oa

local function sha256_hex(s) return sign.hex(sign.sha256(s)) end

local function push_path(provider, resource)
  return "/push/identities/" .. acc.oneall.identities[provider] .. "/" .. resource .. ".json"
end

-- the callbacks the sandbox received under name, waiting (bounded, ~5 s) for at least one
local function callbacks(name, want)
  local list = {}
  for _ = 1, 50 do
    local status, v = sb:control("GET", "/_/oneall/callbacks?name=" .. name)
    assert.are.equal(200, status)
    list = v.callbacks
    if #list >= (want or 1) then break end
    client:sleep(0.1)
  end
  return list
end

local function job(job_id)
  for _ = 1, 50 do
    local _, v = sb:control("GET", "/_/oneall/jobs")
    for _, j in ipairs(v.jobs) do
      if j.job_id == job_id and j.status == "done" then return j end
    end
    client:sleep(0.1)
  end
end

describe("oneall #integration", function()
  setup(function()
    sb = helpers.sandbox()
    acc = sb:accounts()
    client = socialpush.new(sb:options())
    oa = client:oneall(acc.oneall)
  end)

  before_each(function() sb:reset() end)

  -- resource, identity provider, args (a function of the accounts), result object
  local function rows()
    local pic, vid = acc.media.picture, acc.media.video
    return {
      { "facebook/post", "facebook", { message = "Hello World!", link = "http://www.oneall.com/" }, "post" },
      { "facebook/picture", "facebook", { picture = { url = pic }, description = "OneAll Logo", create_post = true },
        "picture" },
      { "facebook/video", "facebook", { video = { url = vid }, description = "Sample Video" }, "video" },
      { "facebook/group/post", "facebook", { group_id = acc.facebook.group_id, message = "Hello group" }, "post" },
      { "facebook/group/picture", "facebook", { group_id = acc.facebook.group_id, picture = { url = pic } },
        "picture" },
      { "facebook/group/video", "facebook", { group_id = acc.facebook.group_id, video = { url = vid }, title = "t" },
        "video" },
      { "facebook/page/post", "facebook", { page_id = acc.facebook.page_id, message = "Hello page",
        link = "https://example.com/" }, "post" },
      { "facebook/page/picture", "facebook", { page_id = acc.facebook.page_id, picture = { url = pic },
        description = "d" }, "picture" },
      { "facebook/page/video", "facebook", { page_id = acc.facebook.page_id, video = { url = vid }, title = "t" },
        "video" },
      { "linkedin/post", "linkedin", { link = "https://www.fcbarcelona.com/", message = "Best part",
        title = "My holiday", picture = { url = pic } }, "post" },
      { "linkedin/company/post", "linkedin", { company = acc.linkedin.company, link = "https://example.com/",
        message = "News" }, "post" },
      { "pinterest/board/" .. acc.pinterest.board_id .. "/pin", "pinterest", { description = "Offices",
        picture = { url = pic }, link = "https://example.com/" }, "pin" },
      { "pinterest/board", "pinterest", { name = "Recipes", description = "Good food" }, "board" },
      { "twitter/post", "twitter", { message = "Hello World!", location = "Ahmedabad" }, "post" },
      { "twitter/picture", "twitter", { picture = { url = pic }, description = "OneAll Logo" }, "picture" },
      { "twitter/video", "twitter", { video = { url = vid } }, "video" },
      { "youtube/video", "youtube", { video = { url = vid }, title = "Holiday", thumbnail = { url = pic } }, "video" },
      { "youtube/playlist/" .. acc.youtube.playlist_id .. "/video", "youtube", { video_id = "dQw4w9WgXcQ",
        position = 0 }, "playlist_item" },
      { "youtube/playlist", "youtube", { title = "My PlayList", description = "Awesome Mix 1", privacy = "private" },
        "playlist" },
      { "youtube/channel/section", "youtube", { type = "singlePlaylist", title = "Mix",
        playlist_ids = { acc.youtube.playlist_id } }, "channel_section" },
    }
  end

  it("has 20 resources to push", function()
    acc = sb:accounts()
    assert.are.equal(20, #rows())
  end)

  for i = 1, 20 do
    it("pushes resource " .. i .. " with the request checked in the journal", function()
      local row = rows()[i]
      local resource, provider, args, object = row[1], row[2], row[3], row[4]
      if resource:match("^facebook/[pgv]") and not resource:match("^facebook/page/") then
        sb:mode { facebook = "historic" }
      end
      local token = acc.oneall.identities[provider]
      local sent = assert(oa:build(token, resource, args))
      local res, msg = oa:push(token, resource, args)
      assert.is_nil(msg)
      assert.are.equal(provider, res.provider)
      assert.are.equal(object, res.object)
      if res.status == "queued" then
        assert.is_string(res.job_id)
        assert.is_nil(res.post_id)
      else
        assert.is_string(res.post_id)
        assert.is_true(#res.post_id > 0)
        assert.are.equal(res.post_id, res.raw.post_id)
      end
      local list = sb:requests { host = HOST }
      assert.are.equal(1, #list)
      local e = list[1]
      assert.are.equal("POST", e.method)
      assert.are.equal(push_path(provider, resource), e.path)
      assert.are.equal("Basic ***", e.headers.authorization)
      assert.are.equal("application/json", e.headers["content-type"])
      assert.are.equal(#sent.body, e.body_size)
      assert.are.equal(sha256_hex(sent.body), e.body_sha256)
      assert.are.equal(200, e.status)
    end)
  end

  it("gives ids and locations in the providers' shapes", function()
    local page = assert(oa:push(acc.oneall.identities.facebook, "facebook/page/post",
      { page_id = acc.facebook.page_id, message = "m" }))
    assert.matches("^" .. acc.facebook.page_id .. "_%d+$", page.post_id)
    assert.are.equal("https://www.facebook.com/" .. page.post_id, page.post_location)
    local li = assert(oa:push(acc.oneall.identities.linkedin, "linkedin/post", { link = "https://example.com/" }))
    assert.matches("^urn:li:share:%d+$", li.post_id)
    local tw = assert(oa:push(acc.oneall.identities.twitter, "twitter/post", { message = "m" }))
    assert.matches("^%d+$", tw.post_id)
    local pl = assert(oa:push(acc.oneall.identities.youtube, "youtube/playlist", { title = "t" }))
    assert.matches("^PL[%w_%-]+$", pl.post_id)
    assert.are.equal("https://www.youtube.com/playlist?list=" .. pl.post_id, pl.post_location)
  end)

  it("attaches an uploaded twitter picture to a tweet; an unknown id is refused", function()
    local tok = acc.oneall.identities.twitter
    local pic = assert(oa:push(tok, "twitter/picture", { picture = { url = acc.media.picture } }))
    local tweet = assert(oa:push(tok, "twitter/post", { message = "with picture", attachments = { pic.post_id } }))
    assert.is_string(tweet.post_id)
    local res, _, err = oa:push(tok, "twitter/post", { message = "m", attachments = { "1234567890" } })
    assert.is_nil(res)
    assert.are.equal("invalid_argument", err.kind)
    assert.are.equal(400, err.status)
  end)

  it("maps Facebook's removal of the user and group resources to deprecated (today's mode)", function()
    local res, msg, err = oa:push(acc.oneall.identities.facebook, "facebook/post", { message = "m" })
    assert.is_nil(res)
    assert.are.equal("deprecated", err.kind)
    assert.are.equal(409, err.status)
    assert.matches("facebook/page/post", msg, 1, true)
    res, msg, err = oa:push(acc.oneall.identities.facebook, "facebook/group/post",
      { group_id = acc.facebook.group_id, message = "m" })
    assert.is_nil(res)
    assert.are.equal("deprecated", err.kind)
    assert.matches("April 22, 2024", msg, 1, true)
  end)

  it("refuses wrong keys with OneAll's text (auth)", function()
    local bad = client:oneall(acc.expired.oneall)
    local res, msg, err = bad:push(acc.oneall.identities.twitter, "twitter/post", { message = "m" })
    assert.is_nil(res)
    assert.are.equal("auth", err.kind)
    assert.are.equal(401, err.status)
    assert.matches(AUTH_INFO, msg, 1, true)
    assert.is_nil(msg:find(acc.expired.oneall.private_key, 1, true))
    local e = sb:requests { host = HOST }[1]
    assert.are.equal("Basic ***", e.headers.authorization)
    assert.are.equal(401, e.status)
  end)

  it("refuses an unknown identity (not_found) and one of another provider (provider)", function()
    local res, _, err = oa:push("00000000-0000-4000-8000-000000000000", "twitter/post", { message = "m" })
    assert.is_nil(res)
    assert.are.equal("not_found", err.kind)
    assert.are.equal(404, err.status)
    res, _, err = oa:push(acc.oneall.identities.twitter, "facebook/page/post",
      { page_id = acc.facebook.page_id, message = "m" })
    assert.is_nil(res)
    assert.are.equal("provider", err.kind)
    assert.are.equal(409, err.status)
  end)

  it("refuses a page the identity does not administer (permission)", function()
    local res, _, err = oa:push(acc.oneall.identities.facebook, "facebook/page/post",
      { page_id = "999999999", message = "m" })
    assert.is_nil(res)
    assert.are.equal("permission", err.kind)
    assert.are.equal(403, err.status)
  end)

  it("refuses a missing key the sandbox checks (400 → invalid_argument with field)", function()
    -- the client does not know YouTube's rule that a singlePlaylist section needs playlists
    local res, _, err = oa:push(acc.oneall.identities.youtube, "youtube/channel/section",
      { type = "singlePlaylist" })
    assert.is_nil(res)
    assert.are.equal("invalid_argument", err.kind)
    assert.are.equal(400, err.status)
    assert.are.equal("playlist_ids", err.field)
  end)

  it("refuses file media before sending anything", function()
    local res, msg, err = oa:push(acc.oneall.identities.twitter, "twitter/picture",
      { picture = { file = "/etc/hostname" } })
    assert.is_nil(res)
    assert.are.equal("invalid_argument", err.kind)
    assert.are.equal("picture", err.field)
    assert.matches("URL", msg, 1, true)
    res, msg, err = oa:push(acc.oneall.identities.youtube, "youtube/video",
      { video = { data = "\0\0\0\24ftypmp42" }, title = "t" })
    assert.matches("URL", msg, 1, true)
    assert.is_nil(res)
    assert.are.equal("video", err.field)
    assert.are.equal(0, #sb:requests { host = HOST })
  end)

  it("queues a twitter video and the callback arrives at callback_url", function()
    local url = sb:url("/callbacks/twv1")
    local res = assert(oa:push(acc.oneall.identities.twitter, "twitter/video",
      { video = { url = acc.media.video }, callback_url = url }))
    assert.are.equal("queued", res.status)
    assert.is_string(res.job_id)
    local list = callbacks("twv1")
    assert.are.equal(1, #list)
    local cb = list[1]
    assert.are.equal("application/json", cb.content_type)
    local done = assert(oneall.parse_callback(cb.body))
    assert.are.equal("twitter", done.provider)
    assert.are.equal("video", done.object)
    assert.matches("^%d+$", done.post_id)
    assert.are.equal(res.job_id, done.raw.job_id)
    -- the callback went through the sandbox itself (journaled), nothing else was contacted
    local posted = sb:requests { host = "sandbox.socialpush.test", path = "/callbacks/twv1" }
    assert.are.equal(1, #posted)
    assert.are.equal("POST", posted[1].method)
    assert.are.equal(cb.body_sha256, posted[1].body_sha256)
    -- the finished video can be attached to a tweet
    assert(oa:push(acc.oneall.identities.twitter, "twitter/post",
      { message = "video", attachments = { done.post_id } }))
  end)

  it("queues a youtube video; the callback carries the watch URL", function()
    local res = assert(oa:push(acc.oneall.identities.youtube, "youtube/video",
      { video_url = acc.media.video, title = "Holiday", callback_url = sb:url("/callbacks/ytv1") }))
    assert.are.equal("queued", res.status)
    local list = callbacks("ytv1")
    assert.are.equal(1, #list)
    local done = assert(oneall.parse_callback(list[1].body))
    assert.are.equal("youtube", done.provider)
    assert.are.equal("https://www.youtube.com/watch?v=" .. done.post_id, done.post_location)
    assert.are.equal(11, #done.post_id)
  end)

  it("never contacts a callback_url outside the sandbox", function()
    local res = assert(oa:push(acc.oneall.identities.twitter, "twitter/video",
      { video = { url = acc.media.video }, callback_url = "https://callback.example.net/hook" }))
    local j = job(res.job_id)
    assert.is_table(j)
    assert.is_string(j.callback.skipped)
    assert.is_nil(j.callback.status)
    local all = sb:requests()
    assert.are.equal(1, #all)
    assert.are.equal(HOST, all[1].host)
  end)

  it("maps throttling (429 + Retry-After) and overload (503)", function()
    local path = push_path("twitter", "twitter/post")
    sb:fault { host = HOST, path = path, status = 429, retry_after = 3600, times = 1,
      body = { response = { request = { status = { flag = "error", code = 429, info = "Too many requests" } } } } }
    local res, msg, err = oa:push(acc.oneall.identities.twitter, "twitter/post", { message = "m" })
    assert.is_nil(res)
    assert.are.equal("rate_limited", err.kind)
    assert.are.equal(3600, err.retry_after)
    assert.matches("Too many requests", msg, 1, true)
    sb:fault { host = HOST, path = path, status = 503, times = 1, body = "overloaded" }
    res, msg, err = oa:push(acc.oneall.identities.twitter, "twitter/post", { message = "m" })
    assert.is_nil(res)
    assert.are.equal("server", err.kind)
    assert.are.equal(503, err.status, msg)
  end)

  it("maps a malformed answer to decode", function()
    sb:fault { host = HOST, path = push_path("twitter", "twitter/post"), malformed = true, times = 1 }
    local res, _, err = oa:push(acc.oneall.identities.twitter, "twitter/post", { message = "m" })
    assert.is_nil(res)
    assert.are.equal("decode", err.kind)
  end)
end)
