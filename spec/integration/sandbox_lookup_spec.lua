-- The sandbox's read, lookup and delete endpoints, provider by provider: objects created
-- through the existing endpoints are read back, found again by the account's lookups with
-- the provider's paging (more objects than one page), deleted by their owner only (another
-- fixture account is refused), then gone from reads and lookups; duplicate refusals and their
-- switches. Raw requests through client:request (real libcurl, loopback only).
local helpers = require "spec_helpers"
local json = require "socialpush.json"
local sign = require "socialpush.sign"
local linkedin = require "socialpush.providers.linkedin"

local sb, acc, other

local function client() return helpers.client(sb) end

-- status, decoded JSON body (nil when empty), response
local function call(c, method, url, headers, body)
  local res, msg = c:request { method = method, url = url, headers = headers, body = body }
  assert(res, msg)
  local v
  if res.body and res.body ~= "" then v = json.decode(res.body) end
  return res.status, v, res
end

-- the decoded body of a 200 answer
local function ok(status, v)
  assert.are.equal(200, status)
  return v
end

local function control(method, path, body)
  local status, v = sb:control(method, path, body)
  assert.are.equal(200, status, path)
  return v
end

local function keys_of(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  table.sort(out)
  return out
end

local function ids_of(list, field)
  local out = {}
  for i, x in ipairs(list or {}) do out[i] = x[field or "id"] end
  return out
end

local function reversed(list)
  local out = {}
  for i = #list, 1, -1 do out[#out + 1] = list[i] end
  return out
end

describe("sandbox lookups #integration", function()
  setup(function()
    sb = helpers.sandbox()
    acc = sb:accounts()
    other = acc.other
  end)

  before_each(function() sb:reset() end)

  -------------------------------------------------------------------------- X
  describe("x", function()
    local API = "https://api.x.com"

    local function x(c, method, path, who, body)
      local h = { { "Authorization", "Bearer " .. (who or acc.twitter).bearer_token } }
      if body then
        h[#h + 1] = { "Content-Type", "application/json" }
        body = assert(json.encode(body))
      end
      return call(c, method, API .. path, h, body)
    end

    it("reads a post back, alone and by ids, with the fields asked for", function()
      local c = client()
      local tw = c:twitter(acc.twitter)
      local root = assert(tw:post { message = "the root" })
      local reply = assert(tw:post { message = "the reply", reply_to = root.post_id })
      local status, v = x(c, "GET", "/2/tweets/" .. reply.post_id
        .. "?tweet.fields=created_at,author_id,conversation_id,in_reply_to_user_id,referenced_tweets")
      assert.are.equal(200, status)
      local d = v.data
      assert.are.equal(reply.post_id, d.id)
      assert.are.equal("the reply", d.text)
      assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ$", d.created_at)
      assert.are.equal(acc.twitter.user_id, d.author_id)
      assert.are.equal(root.post_id, d.conversation_id)
      assert.are.equal(acc.twitter.user_id, d.in_reply_to_user_id)
      assert.are.same({ { type = "replied_to", id = root.post_id } }, d.referenced_tweets)
      -- the default fields only; post.fields (the 2026 OpenAPI name) works as well
      v = ok(x(c, "GET", "/2/tweets/" .. root.post_id))
      assert.are.same({ "edit_history_tweet_ids", "id", "text" }, keys_of(v.data))
      v = ok(x(c, "GET", "/2/tweets/" .. root.post_id .. "?post.fields=created_at"))
      assert.is_string(v.data.created_at)
      -- several at once: the missing one is an errors[] entry, not an HTTP error
      status, v = x(c, "GET", "/2/tweets?ids=" .. root.post_id .. "," .. reply.post_id .. ",1445880548999999999")
      assert.are.equal(200, status)
      assert.are.same({ root.post_id, reply.post_id }, ids_of(v.data))
      assert.are.equal(1, #v.errors)
      assert.are.equal("https://api.x.com/2/problems/resource-not-found", v.errors[1].type)
      assert.are.equal("1445880548999999999", v.errors[1].resource_id)
      status, v = x(c, "GET", "/2/tweets/" .. root.post_id .. "?tweet.fields=nope")
      assert.are.equal(400, status)
      assert.are.same({ "nope" }, v.errors[1].parameters["tweet.fields"])
      c:close()
    end)

    it("pages the user timeline newest first, with next and previous tokens and filters", function()
      local c = client()
      local tw = c:twitter(acc.twitter)
      local made = {}
      for i = 1, 12 do made[i] = assert(tw:post { message = "timeline " .. i }).post_id end
      local reply = assert(tw:post { message = "a reply", reply_to = made[1] }).post_id
      assert(c:twitter(other.twitter):post { message = "someone else" })
      local newest = reversed(made)
      table.insert(newest, 1, reply)
      local path = "/2/users/" .. acc.twitter.user_id .. "/tweets?max_results=5&tweet.fields=created_at"
      local seen, pages, token, page2 = {}, {}, nil, nil
      repeat
        local status, v = x(c, "GET", path .. (token and "&pagination_token=" .. token or ""))
        assert.are.equal(200, status)
        pages[#pages + 1] = v.meta.result_count
        for _, d in ipairs(v.data) do seen[#seen + 1] = d.id end
        assert.are.equal(v.data[1].id, v.meta.newest_id)
        assert.are.equal(v.data[#v.data].id, v.meta.oldest_id)
        if #pages == 2 then page2 = v end
        token = v.meta.next_token
      until not token or #pages > 5
      assert.are.same({ 5, 5, 3 }, pages)
      assert.are.same(newest, seen)
      -- back from page 2 to page 1
      local status, v = x(c, "GET", path .. "&pagination_token=" .. page2.meta.previous_token)
      assert.are.equal(200, status)
      assert.are.same({ newest[1], newest[2], newest[3], newest[4], newest[5] }, ids_of(v.data))
      assert.is_nil(v.meta.previous_token)
      -- filters
      v = ok(x(c, "GET", "/2/users/" .. acc.twitter.user_id .. "/tweets?max_results=100&exclude=replies"))
      assert.are.same(reversed(made), ids_of(v.data))
      v = ok(x(c, "GET", "/2/users/" .. acc.twitter.user_id .. "/tweets?since_id=" .. newest[4]))
      assert.are.same({ newest[1], newest[2], newest[3] }, ids_of(v.data))
      v = ok(x(c, "GET", "/2/users/" .. acc.twitter.user_id .. "/tweets?until_id=" .. newest[11]))
      assert.are.same({ newest[12], newest[13] }, ids_of(v.data))
      status, v = x(c, "GET", "/2/users/" .. acc.twitter.user_id .. "/tweets?start_time=2099-01-01T00:00:00Z")
      assert.are.equal(200, status)
      assert.are.same({ result_count = 0 }, v.meta)
      assert.is_nil(v.data)
      v = ok(x(c, "GET", "/2/users/" .. acc.twitter.user_id
        .. "/tweets?start_time=2020-01-01T00:00:00Z&end_time=2099-01-01T00:00:00.000Z&max_results=100"))
      assert.are.equal(13, v.meta.result_count)
      -- refusals
      status = x(c, "GET", "/2/users/" .. acc.twitter.user_id .. "/tweets?max_results=4")
      assert.are.equal(400, status)
      status = x(c, "GET", "/2/users/" .. acc.twitter.user_id .. "/tweets?start_time=yesterday")
      assert.are.equal(400, status)
      status, v = x(c, "GET", "/2/users/999/tweets")
      assert.are.equal(200, status)
      assert.are.equal("user", v.errors[1].resource_type)
      c:close()
    end)

    it("deletes for the author only; the post is then gone from every lookup", function()
      local c = client()
      local id = assert(c:twitter(acc.twitter):post { message = "to be deleted" }).post_id
      local status, v = x(c, "DELETE", "/2/tweets/" .. id, other.twitter)
      assert.are.equal(403, status)
      assert.are.equal("Forbidden", v.title)
      status, v = x(c, "DELETE", "/2/tweets/" .. id)
      assert.are.equal(200, status)
      assert.are.same({ data = { deleted = true } }, v)
      status, v = x(c, "GET", "/2/tweets/" .. id)
      assert.are.equal(200, status)
      assert.is_nil(v.data)
      assert.are.equal("Could not find tweet with id: [" .. id .. "].", v.errors[1].detail)
      v = ok(x(c, "GET", "/2/users/" .. acc.twitter.user_id .. "/tweets"))
      assert.are.same({ result_count = 0 }, v.meta)
      status = x(c, "DELETE", "/2/tweets/" .. id)
      assert.are.equal(404, status)
      -- the text is free again
      status = x(c, "POST", "/2/tweets", nil, { text = "to be deleted" })
      assert.are.equal(201, status)
      c:close()
    end)

    it("refuses an identical text from the same user with X's 403 body; a switch turns it off", function()
      local c = client()
      assert.are.equal(201, (x(c, "POST", "/2/tweets", nil, { text = "say it once" })))
      local status, v, res = x(c, "POST", "/2/tweets", nil, { text = "say it once" })
      assert.are.equal(403, status)
      assert.matches("^application/problem%+json", res.headers["content-type"])
      assert.are.same({ detail = "You are not allowed to create a Tweet with duplicate content.",
        title = "Forbidden", status = 403, type = "about:blank" }, v)
      assert.are.equal(201, (x(c, "POST", "/2/tweets", other.twitter, { text = "say it once" })))
      local cfg = control("POST", "/_/x/config", { duplicate_check = false })
      assert.is_false(cfg.duplicate_check)
      assert.are.equal(201, (x(c, "POST", "/2/tweets", nil, { text = "say it once" })))
      assert.are.equal(400, (sb:control("POST", "/_/x/config", { duplicate_window_secs = -1 })))
      c:close()
    end)

    it("answers the media STATUS of a one-shot picture to its owner only", function()
      local c = client()
      local pic = assert(c:twitter(acc.twitter):picture { picture = { url = acc.media.picture } })
      local status, v = x(c, "GET", "/2/media/upload?command=STATUS&media_id=" .. pic.post_id)
      assert.are.equal(200, status)
      assert.are.equal(pic.post_id, v.data.id)
      status = x(c, "GET", "/2/media/upload?command=STATUS&media_id=" .. pic.post_id, other.twitter)
      assert.are.equal(404, status)
      c:close()
    end)
  end)

  ------------------------------------------------------------------- Facebook
  describe("facebook", function()
    local function graph(c, method, path, who)
      who = who or acc.facebook
      local url = path:match("^https://") and path or "https://graph.facebook.com/v25.0" .. path
      if not url:find("appsecret_proof=", 1, true) then
        url = url .. (url:find("?", 1, true) and "&" or "?") .. "appsecret_proof="
          .. sign.appsecret_proof(who.access_token, who.app_secret)
      end
      return call(c, method, url, { { "Authorization", "Bearer " .. who.access_token } })
    end

    local PAGE

    before_each(function() PAGE = acc.facebook.page_id end)

    it("reads posts, photos and videos back in Graph's shapes with fields", function()
      local c = client()
      local fb = c:facebook(acc.facebook)
      local post = assert(fb:page_post { page_id = PAGE, message = "hello graph" })
      local status, v = graph(c, "GET", "/" .. post.post_id .. "?fields=id,message,created_time,from,permalink_url,"
        .. "is_published,status_type")
      assert.are.equal(200, status)
      assert.are.equal(post.post_id, v.id)
      assert.are.equal("hello graph", v.message)
      assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%+0000$", v.created_time)
      assert.are.same({ id = PAGE, name = "socialpush sandbox page" }, v.from)
      assert.are.equal("https://www.facebook.com/" .. post.post_id, v.permalink_url)
      assert.is_true(v.is_published)
      assert.are.equal("mobile_status_update", v.status_type)
      local pic = assert(fb:page_picture { page_id = PAGE, picture = { url = acc.media.picture }, description = "cap" })
      v = ok(graph(c, "GET", "/" .. pic.raw.id .. "?fields=id,name,from,page_story_id,created_time"))
      assert.are.same({ "created_time", "from", "id", "name", "page_story_id" }, keys_of(v))
      assert.are.equal("cap", v.name)
      assert.are.equal(pic.post_id, v.page_story_id)
      local vid = assert(fb:page_video { page_id = PAGE, video = { url = acc.media.video }, title = "T",
        description = "D" })
      status, v = graph(c, "GET", "/" .. vid.post_id .. "?fields=id,title,description,created_time,status")
      assert.are.equal(200, status)
      assert.are.same({ "T", "D", "ready" }, { v.title, v.description, v.status.video_status })
      -- a field the node type does not have
      status, v = graph(c, "GET", "/" .. post.post_id .. "?fields=id,nope")
      assert.are.equal(400, status)
      assert.are.same({ 100, "(#100) Tried accessing nonexisting field (nope) on node type (PagePost)" },
        { v.error.code, v.error.message })
      c:close()
    end)

    it("lists the Page's posts newest first with cursors, limit and since/until", function()
      local c = client()
      local fb = c:facebook(acc.facebook)
      local made = {}
      for i = 1, 23 do made[i] = assert(fb:page_post { page_id = PAGE, message = "feed " .. i }).post_id end
      assert(c:facebook(other.facebook):page_post { page_id = other.facebook.page_id, message = "not ours" })
      local newest = reversed(made)
      for _, edge in ipairs({ "feed", "posts", "published_posts" }) do
        local seen, sizes, url, second = {}, {}, "/" .. PAGE .. "/" .. edge .. "?fields=id,message&limit=10", nil
        repeat
          local status, v = graph(c, "GET", url)
          assert.are.equal(200, status, edge)
          sizes[#sizes + 1] = #v.data
          for _, d in ipairs(v.data) do seen[#seen + 1] = d.id end
          assert.is_string(v.paging.cursors.after)
          if #sizes == 2 then second = v end
          url = v.paging.next
        until not url or #sizes > 5
        assert.are.same({ 10, 10, 3 }, sizes, edge)
        assert.are.same(newest, seen, edge)
        local status, v = graph(c, "GET", second.paging.previous)
        assert.are.equal(200, status)
        assert.are.equal(newest[1], v.data[1].id)
        assert.are.equal(10, #v.data)
        assert.is_nil(v.paging.previous)
      end
      -- defaults: 25 per page, Graph's default fields; /me/feed with a Page token is the Page
      local v = ok(graph(c, "GET", "/me/feed"))
      assert.are.equal(23, #v.data)
      assert.are.same({ "created_time", "id", "message" }, keys_of(v.data[1]))
      assert.is_nil(v.paging.next)
      v = ok(graph(c, "GET", "/" .. PAGE .. "/posts?since=4102444800"))         -- 2100-01-01
      assert.are.same({}, v.data)
      assert.is_nil(v.paging)
      v = ok(graph(c, "GET", "/" .. PAGE .. "/posts?until=2000-01-01"))
      assert.are.equal(0, #v.data)
      v = ok(graph(c, "GET", "/" .. PAGE .. "/posts?since=2000-01-01T00:00:00&limit=500"))
      assert.are.equal(23, #v.data)
      -- another Page's token reads no other Page's feed
      local status
      status, v = graph(c, "GET", "/" .. PAGE .. "/feed", other.facebook)
      assert.are.equal(403, status)
      assert.are.equal(10, v.error.code)
      c:close()
    end)

    it("lists the Page's videos and photos", function()
      local c = client()
      local fb = c:facebook(acc.facebook)
      local v1 = assert(fb:page_video { page_id = PAGE, video = { url = acc.media.video }, title = "one" }).post_id
      local v2 = assert(fb:page_video { page_id = PAGE, video = { url = acc.media.video }, title = "two",
        description = "second" }).post_id
      local status, v = graph(c, "GET", "/" .. PAGE .. "/videos?fields=id,title,description,created_time,status")
      assert.are.equal(200, status)
      assert.are.same({ v2, v1 }, ids_of(v.data))
      assert.are.same({ "two", "second", "ready" }, { v.data[1].title, v.data[1].description,
        v.data[1].status.video_status })
      local p = assert(fb:page_picture { page_id = PAGE, picture = { url = acc.media.picture } })
      v = ok(graph(c, "GET", "/" .. PAGE .. "/photos?fields=id,created_time"))
      assert.are.same({ p.raw.id }, ids_of(v.data))
      c:close()
    end)

    it("deletes for the Page only: {success:true}, then gone; a photo takes its post along", function()
      local c = client()
      local fb = c:facebook(acc.facebook)
      local id = assert(fb:page_post { page_id = PAGE, message = "short-lived" }).post_id
      local status, v = graph(c, "DELETE", "/" .. id, other.facebook)
      assert.are.equal(403, status)
      assert.are.equal(200, v.error.code)
      status, v = graph(c, "DELETE", "/" .. id)
      assert.are.equal(200, status)
      assert.are.same({ success = true }, v)
      status, v = graph(c, "GET", "/" .. id .. "?fields=id")
      assert.are.equal(400, status)
      assert.are.same({ 100, 33 }, { v.error.code, v.error.error_subcode })
      v = ok(graph(c, "GET", "/" .. PAGE .. "/feed"))
      assert.are.same({}, v.data)
      status, v = graph(c, "DELETE", "/" .. id)
      assert.are.equal(400, status)
      assert.are.equal(33, v.error.error_subcode)
      assert.matches("Unsupported delete request", v.error.message, 1, true)
      -- the same message may be posted again once the first is gone
      assert(fb:page_post { page_id = PAGE, message = "short-lived" })
      local pic = assert(fb:page_picture { page_id = PAGE, picture = { url = acc.media.picture } })
      assert.are.equal(200, (graph(c, "DELETE", "/" .. pic.raw.id)))
      assert.are.equal(400, (graph(c, "GET", "/" .. pic.post_id .. "?fields=id")))
      local vid = assert(fb:page_video { page_id = PAGE, video = { url = acc.media.video }, title = "t" }).post_id
      assert.are.equal(200, (graph(c, "DELETE", "/" .. vid)))
      v = ok(graph(c, "GET", "/" .. PAGE .. "/videos"))
      assert.are.same({}, v.data)
      c:close()
    end)

    it("refuses the same message to the same Page with #506; a switch turns it off", function()
      local c = client()
      local fb = c:facebook(acc.facebook)
      assert(fb:page_post { page_id = PAGE, message = "once only" })
      local status, v = graph(c, "POST", "/" .. PAGE .. "/feed?message=once%20only")
      assert.are.equal(400, status)
      assert.are.same({ "(#506) Duplicate status message", "OAuthException", 506 },
        { v.error.message, v.error.type, v.error.code })
      local cfg = control("GET", "/_/facebook/config")
      assert.are.same({ duplicate_check = true, duplicate_window_secs = 86400 }, cfg)
      control("POST", "/_/facebook/config", { duplicate_check = false })
      status = graph(c, "POST", "/" .. PAGE .. "/feed?message=once%20only")
      assert.are.equal(200, status)
      assert.are.equal(400, (sb:control("POST", "/_/facebook/config", { nope = 1 })))
      c:close()
    end)
  end)

  -------------------------------------------------------------------- LinkedIn
  describe("linkedin", function()
    local API = "https://api.linkedin.com/rest"

    local function li(c, method, path, who, body)
      local h = { { "Authorization", "Bearer " .. (who or acc.linkedin).access_token },
        { "LinkedIn-Version", "202605" }, { "X-Restli-Protocol-Version", "2.0.0" } }
      if body then
        h[#h + 1] = { "Content-Type", "application/json" }
        body = assert(json.encode(body))
      end
      return call(c, method, API .. path, h, body)
    end

    local function post_path(urn) return "/posts/" .. linkedin.restli_encode(urn) end

    local function finder(author, extra)
      return "/posts?q=author&author=" .. linkedin.restli_encode(author) .. (extra or "")
    end

    local function grant(list) control("POST", "/_/linkedin/config", { grant = list }) end

    it("reads the author's own post back; another member is refused", function()
      local c = client()
      local res = assert(c:linkedin(acc.linkedin):post { message = "read me" })
      local status, v = li(c, "GET", post_path(res.post_id))
      assert.are.equal(200, status)
      assert.are.same({ res.post_id, acc.linkedin.author, "read me", "PUBLISHED", "PUBLIC" },
        { v.id, v.author, v.commentary, v.lifecycleState, v.visibility })
      assert.are.equal("number", type(v.createdAt))
      assert.are.equal(v.createdAt, v.lastModifiedAt)
      assert.are.equal(v.createdAt, v.publishedAt)
      status, v = li(c, "GET", post_path(res.post_id), other.linkedin)
      assert.are.same({ 403, "ACCESS_DENIED" }, { status, v.code })
      c:close()
    end)

    it("lists the author's posts with start/count only when r_member_social is granted", function()
      local c = client()
      local h = c:linkedin(acc.linkedin)
      local made = {}
      for i = 1, 12 do made[i] = assert(h:post { message = "post " .. i }).post_id end
      local status, v = li(c, "GET", finder(acc.linkedin.author))
      assert.are.same({ 403, 100, "ACCESS_DENIED" }, { status, v.serviceErrorCode, v.code })
      assert.matches("partnerApiPostsExternal.FINDER-author", v.message, 1, true)
      grant { "r_member_social" }
      local seen, sizes, start = {}, {}, 0
      repeat
        status, v = li(c, "GET", finder(acc.linkedin.author, "&count=5&sortBy=CREATED&start=" .. start))
        assert.are.equal(200, status)
        sizes[#sizes + 1] = #v.elements
        for _, e in ipairs(v.elements) do seen[#seen + 1] = e.id end
        assert.are.same({ start, 5, 12 }, { v.paging.start, v.paging.count, v.paging.total })
        local nxt
        for _, l in ipairs(v.paging.links) do if l.rel == "next" then nxt = l.href end end
        start = nxt and tonumber(nxt:match("[?&]start=(%d+)"))
      until not start or #sizes > 5
      assert.are.same({ 5, 5, 2 }, sizes)
      assert.are.same(reversed(made), seen)
      -- the organization's posts need r_organization_social; other members see nothing of ours
      assert(h:company_post { message = "company news" })
      status = li(c, "GET", finder(acc.linkedin.company))
      assert.are.equal(403, status)
      grant { "r_member_social", "r_organization_social" }
      status, v = li(c, "GET", finder(acc.linkedin.company))
      assert.are.equal(200, status)
      assert.are.equal(1, #v.elements)
      assert.are.equal(acc.linkedin.company, v.elements[1].author)
      status = li(c, "GET", finder(acc.linkedin.author), other.linkedin)
      assert.are.equal(403, status)
      c:close()
    end)

    it("deletes for the author only: 204, then 404 and out of the finder", function()
      local c = client()
      grant { "r_member_social" }
      local urn = assert(c:linkedin(acc.linkedin):post { message = "delete me" }).post_id
      local status, v = li(c, "DELETE", post_path(urn), other.linkedin)
      assert.are.same({ 403, "ACCESS_DENIED" }, { status, v.code })
      status, v = li(c, "DELETE", post_path(urn))
      assert.are.equal(204, status)
      assert.is_nil(v)
      status, v = li(c, "GET", post_path(urn))
      assert.are.same({ 404, "NOT_FOUND" }, { status, v.code })
      v = ok(li(c, "GET", finder(acc.linkedin.author)))
      assert.are.same({}, v.elements)
      assert.are.equal(404, (li(c, "DELETE", post_path(urn))))
      -- the commentary is free again (no ghost URNs by default)
      assert(c:linkedin(acc.linkedin):post { message = "delete me" })
      c:close()
    end)

    it("names the existing URN in the 422 DUPLICATE_POST refusal; ghost URNs after a delete on request", function()
      local c = client()
      local body = { author = acc.linkedin.author, commentary = "twice", visibility = "PUBLIC",
        lifecycleState = "PUBLISHED", distribution = { feedDistribution = "MAIN_FEED" } }
      local status, _, res = li(c, "POST", "/posts", nil, body)
      assert.are.equal(201, status)
      local urn = res.headers["x-restli-id"]
      assert.matches("^urn:li:share:%d+$", urn)
      local v
      status, v = li(c, "POST", "/posts", nil, body)
      assert.are.equal(422, status)
      assert.are.equal(422, v.status)
      assert.are.equal("com.linkedin.common.error.BadRequest", v.errorDetailType)
      assert.are.equal("DUPLICATE_POST", v.errorDetails.inputErrors[1].code)
      assert.are.equal(urn, v.message:match("Content is a duplicate of (urn:li:share:%d+)$"))
      control("POST", "/_/linkedin/config", { ghost_secs = 3600 })
      assert.are.equal(204, (li(c, "DELETE", post_path(urn))))
      status, v = li(c, "POST", "/posts", nil, body)
      assert.are.equal(422, status)
      local ghost = v.message:match("(urn:li:share:%d+)$")
      assert.are_not.equal(urn, ghost)
      assert.are.equal(404, (li(c, "GET", post_path(ghost))))
      control("POST", "/_/linkedin/config", { duplicate_check = false })
      assert.are.equal(201, (li(c, "POST", "/posts", nil, body)))
      c:close()
    end)
  end)

  ------------------------------------------------------------------- Pinterest
  describe("pinterest", function()
    local API = "https://api.pinterest.com/v5"

    local function pin(c, method, path, who)
      return call(c, method, API .. path, { { "Authorization", "Bearer " .. (who or acc.pinterest).access_token } })
    end

    -- every item over the pages of a list (page_size n): ids and page sizes
    local function all_pages(c, path, n, who)
      local ids, sizes, bookmark = {}, {}, nil
      repeat
        local status, v = pin(c, "GET", path .. (path:find("?", 1, true) and "&" or "?") .. "page_size=" .. n
          .. (bookmark and "&bookmark=" .. bookmark or ""), who)
        assert.are.equal(200, status, path)
        sizes[#sizes + 1] = #v.items
        for _, p in ipairs(v.items) do ids[#ids + 1] = p.id end
        bookmark = v.bookmark ~= json.null and v.bookmark or nil
      until not bookmark or #sizes > 10
      return ids, sizes
    end

    it("reads pins back and lists a board's and the user's pins newest first with bookmarks", function()
      local c = client()
      local h = c:pinterest(acc.pinterest)
      local made = {}
      for i = 1, 7 do
        made[i] = assert(h:pin { picture = { url = acc.media.picture }, title = "pin " .. i,
          link = "https://example.com/" .. i }).post_id
      end
      local status, v = pin(c, "GET", "/pins/" .. made[3])
      assert.are.equal(200, status)
      assert.are.same({ made[3], "pin 3", "https://example.com/3", acc.pinterest.board_id },
        { v.id, v.title, v.link, v.board_id })
      assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d", v.created_at)
      local ids, sizes = all_pages(c, "/boards/" .. acc.pinterest.board_id .. "/pins", 3)
      assert.are.same({ 3, 3, 1 }, sizes)
      assert.are.same(reversed(made), ids)
      ids, sizes = all_pages(c, "/pins", 250)
      assert.are.same({ 7 }, sizes)
      assert.are.same(reversed(made), ids)
      ids = all_pages(c, "/pins", 25, other.pinterest)
      assert.are.same({}, ids)
      status, v = pin(c, "GET", "/pins?page_size=251")
      assert.are.same({ 400, 1 }, { status, v.code })
      status, v = pin(c, "GET", "/boards/1234/pins")
      assert.are.same({ 404, "Board not found." }, { status, v.message })
      c:close()
    end)

    it("lists the user's boards, newest first", function()
      local c = client()
      local h = c:pinterest(acc.pinterest)
      local b1 = assert(h:board { name = "First" }).post_id
      local b2 = assert(h:board { name = "Second", privacy = "SECRET" }).post_id
      local b3 = assert(h:board { name = "Third", privacy = "PROTECTED" }).post_id
      local ids = all_pages(c, "/boards", 2)
      assert.are.same({ b2, b1, acc.pinterest.board_id }, ids)
      ids = all_pages(c, "/boards?privacy=ALL", 25)
      assert.are.same({ b3, b2, b1, acc.pinterest.board_id }, ids)
      ids = all_pages(c, "/boards", 25, other.pinterest)
      assert.are.same({ acc.pinterest.foreign_board_id }, ids)
      local status, v = pin(c, "GET", "/boards/" .. b1)
      assert.are.same({ 200, "First", 0 }, { status, v.name, v.pin_count })
      c:close()
    end)

    it("deletes pins and boards for the owner only; a board takes its pins along", function()
      local c = client()
      local h = c:pinterest(acc.pinterest)
      local p1 = assert(h:pin { picture = { url = acc.media.picture }, title = "one" }).post_id
      local status, v = pin(c, "DELETE", "/pins/" .. p1, other.pinterest)
      assert.are.same({ 403, 29 }, { status, v.code })
      status, v = pin(c, "DELETE", "/pins/" .. p1)
      assert.are.equal(204, status)
      assert.is_nil(v)
      status, v = pin(c, "GET", "/pins/" .. p1)
      assert.are.same({ 404, 50 }, { status, v.code })
      assert.are.equal(404, (pin(c, "DELETE", "/pins/" .. p1)))
      assert.are.same({}, (all_pages(c, "/pins", 25)))
      local b = assert(h:board { name = "Doomed" }).post_id
      local p2 = assert(h:pin { board_id = b, picture = { url = acc.media.picture } }).post_id
      v = ok(pin(c, "GET", "/boards/" .. b))
      assert.are.equal(1, v.pin_count)
      status, v = pin(c, "DELETE", "/boards/" .. b, other.pinterest)
      assert.are.same({ 403, 29 }, { status, v.code })
      assert.are.equal(204, (pin(c, "DELETE", "/boards/" .. b)))
      status, v = pin(c, "GET", "/boards/" .. b)
      assert.are.same({ 404, 40 }, { status, v.code })
      assert.are.equal(404, (pin(c, "GET", "/pins/" .. p2)))
      -- the fixture's seeded board too, until the next reset
      assert.are.equal(204, (pin(c, "DELETE", "/boards/" .. acc.pinterest.board_id)))
      assert.are.equal(404, (pin(c, "GET", "/boards/" .. acc.pinterest.board_id)))
      sb:reset()
      assert.are.equal(200, (pin(c, "GET", "/boards/" .. acc.pinterest.board_id)))
      c:close()
    end)
  end)

  --------------------------------------------------------------------- YouTube
  describe("youtube", function()
    local API = "https://www.googleapis.com/youtube/v3"

    local function yt(c, method, path, who)
      return call(c, method, API .. path, { { "Authorization", "Bearer " .. (who or acc.youtube).access_token } })
    end

    local function configure(t) return control("POST", "/_/youtube", t) end

    local function mp4(seed, n)
      local head = "\0\0\0\32ftypisom\0\0\2\0isomiso2avc1mp41"
      return head .. (seed .. ":"):rep(math.ceil((n or 2000) / (#seed + 1))):sub(1, (n or 2000) - #head)
    end

    local function upload(h, seed, title)
      return assert(h:video { video = { data = mp4(seed), content_type = "video/mp4" }, title = title or seed }).post_id
    end

    it("reads videos back by id with processing that ends after the configured reads", function()
      local c = client()
      local h = c:youtube(acc.youtube)
      local v1, v2 = upload(h, "a", "first"), upload(h, "b", "second")
      local before = control("GET", "/_/youtube").used.units
      local status, v = yt(c, "GET", "/videos?part=snippet,status,processingDetails&id=" .. v1 .. "," .. v2
        .. ",AAAAAAAAAAA")
      assert.are.equal(200, status)
      assert.are.equal("youtube#videoListResponse", v.kind)
      assert.are.same({ v1, v2 }, ids_of(v.items))
      assert.are.same({ "first", "uploaded", "processing" }, { v.items[1].snippet.title,
        v.items[1].status.uploadStatus, v.items[1].processingDetails.processingStatus })
      v = ok(yt(c, "GET", "/videos?part=status,processingDetails&id=" .. v1))
      assert.are.same({ "processed", "succeeded" }, { v.items[1].status.uploadStatus,
        v.items[1].processingDetails.processingStatus })
      assert.is_nil(v.items[1].snippet)
      assert.are.equal(before + 2, control("GET", "/_/youtube").used.units)   -- 1 unit per read
      -- another channel sees the public video without the owner-only parts
      v = ok(yt(c, "GET", "/videos?part=snippet,processingDetails&id=" .. v1, other.youtube))
      assert.are.equal(v1, v.items[1].id)
      assert.is_nil(v.items[1].processingDetails)
      status, v = yt(c, "GET", "/videos?part=snippet")
      assert.are.same({ 400, "missingRequiredParameter" }, { status, v.error.errors[1].reason })
      c:close()
    end)

    it("lists the uploads playlist newest first with page tokens, playlists and sections", function()
      local c = client()
      local h = c:youtube(acc.youtube)
      local made = {}
      for i = 1, 5 do made[i] = upload(h, "up" .. i) end
      upload(c:youtube(other.youtube), "theirs")
      local status, v = yt(c, "GET", "/channels?part=contentDetails&mine=true")
      assert.are.equal(200, status)
      assert.are.equal(acc.youtube.channel_id, v.items[1].id)
      local uploads = v.items[1].contentDetails.relatedPlaylists.uploads
      assert.are.equal("UU" .. acc.youtube.channel_id:sub(3), uploads)
      local seen, sizes, token = {}, {}, nil
      repeat
        status, v = yt(c, "GET", "/playlistItems?part=snippet,contentDetails&maxResults=2&playlistId=" .. uploads
          .. (token and "&pageToken=" .. token or ""))
        assert.are.equal(200, status)
        sizes[#sizes + 1] = #v.items
        for _, it in ipairs(v.items) do
          seen[#seen + 1] = it.contentDetails.videoId
          assert.are.equal(it.contentDetails.videoId, it.snippet.resourceId.videoId)
        end
        assert.are.equal(5, v.pageInfo.totalResults)
        if #sizes > 1 then assert.is_string(v.prevPageToken) end
        token = v.nextPageToken
      until not token or #sizes > 5
      assert.are.same({ 2, 2, 1 }, sizes)
      assert.are.same(reversed(made), seen)
      -- an ordinary playlist lists its items in order; playlists and sections of the channel
      local pl = assert(h:playlist { title = "Mine" }).post_id
      local i1 = assert(h:playlist_video { playlist_id = pl, video_id = made[1] }).post_id
      local i2 = assert(h:playlist_video { playlist_id = pl, video_id = made[2], position = 0 }).post_id
      v = ok(yt(c, "GET", "/playlistItems?part=snippet&playlistId=" .. pl))
      assert.are.same({ i2, i1 }, ids_of(v.items))
      assert.are.same({ 0, 1 }, { v.items[1].snippet.position, v.items[2].snippet.position })
      v = ok(yt(c, "GET", "/playlists?part=snippet,contentDetails&mine=true"))
      assert.are.same({ pl, acc.youtube.playlist_id }, ids_of(v.items))
      assert.are.equal(2, v.items[1].contentDetails.itemCount)
      v = ok(yt(c, "GET", "/playlists?part=snippet&mine=true", other.youtube))
      assert.are.same({}, v.items)
      local sec = assert(h:channel_section { type = "singlePlaylist", playlist_ids = { pl } }).post_id
      v = ok(yt(c, "GET", "/channelSections?part=snippet,contentDetails&mine=true"))
      assert.are.same({ sec }, ids_of(v.items))
      assert.are.same({ pl }, v.items[1].contentDetails.playlists)
      status, v = yt(c, "GET", "/playlistItems?part=snippet&playlistId=PLnothere")
      assert.are.same({ 404, "playlistNotFound" }, { status, v.error.errors[1].reason })
      c:close()
    end)

    it("deletes videos, playlists, items and sections for the owner only: 204, then gone", function()
      local c = client()
      local h = c:youtube(acc.youtube)
      local vid = upload(h, "del")
      local pl = assert(h:playlist { title = "Temp" }).post_id
      local item = assert(h:playlist_video { playlist_id = pl, video_id = vid }).post_id
      local sec = assert(h:channel_section { type = "singlePlaylist", playlist_ids = { pl } }).post_id
      local cases = {
        { "/channelSections?id=" .. sec, "channelSectionForbidden", "channelSectionNotFound" },
        { "/playlistItems?id=" .. item, "playlistItemsNotAccessible", "playlistItemNotFound" },
        { "/playlists?id=" .. pl, "playlistForbidden", "playlistNotFound" },
        { "/videos?id=" .. vid, "forbidden", "videoNotFound" },
      }
      for _, case in ipairs(cases) do
        local status, v = yt(c, "DELETE", case[1], other.youtube)
        assert.are.same({ 403, case[2] }, { status, v.error.errors[1].reason })
        status, v = yt(c, "DELETE", case[1])
        assert.are.equal(204, status, case[1])
        assert.is_nil(v)
        status, v = yt(c, "DELETE", case[1])
        assert.are.same({ 404, case[3] }, { status, v.error.errors[1].reason })
      end
      local v = ok(yt(c, "GET", "/videos?part=id&id=" .. vid))
      assert.are.same({}, v.items)
      v = ok(yt(c, "GET", "/playlists?part=id&id=" .. pl))
      assert.are.same({}, v.items)
      v = ok(yt(c, "GET", "/channelSections?part=id&mine=true"))
      assert.are.same({}, v.items)
      v = ok(yt(c, "GET", "/playlistItems?part=id&playlistId=UU" .. acc.youtube.channel_id:sub(3)))
      assert.are.same({}, v.items)
      c:close()
    end)

    it("answers the session status query: 308 with Range before the end, 200 with the video after", function()
      local c = client()
      local data = mp4("session", 300000)
      local auth = { "Authorization", "Bearer " .. acc.youtube.access_token }
      local status, _, res = call(c, "POST", "https://www.googleapis.com/upload/youtube/v3/videos"
        .. "?uploadType=resumable&part=snippet", { auth, { "Content-Type", "application/json" },
          { "X-Upload-Content-Length", tostring(#data) }, { "X-Upload-Content-Type", "video/mp4" } },
        assert(json.encode { snippet = { title = "by hand" } }))
      assert.are.equal(200, status)
      local session = res.headers.location
      local function put(range, body)
        return call(c, "PUT", session, { { "Content-Range", range } }, body or "")
      end
      local _, _, r = put("bytes 0-262143/" .. #data, data:sub(1, 262144))
      assert.are.equal(308, r.status)
      _, _, r = put("bytes */" .. #data)
      assert.are.same({ 308, "bytes=0-262143" }, { r.status, r.headers.range })
      status = put("bytes 262144-" .. (#data - 1) .. "/" .. #data, data:sub(262145))
      assert.are.equal(201, status)
      local v
      status, v = put("bytes */" .. #data)
      assert.are.equal(200, status)
      assert.are.equal("by hand", v.snippet.title)
      c:close()
    end)

    it("rejects a second upload of the same bytes as a duplicate when switched on", function()
      local c = client()
      local h = c:youtube(acc.youtube)
      configure { processing_polls = 0 }
      local a, b = upload(h, "same", "one"), upload(h, "same", "two")
      local _, v = yt(c, "GET", "/videos?part=status&id=" .. a .. "," .. b)
      assert.are.same({ "processed", "processed" }, { v.items[1].status.uploadStatus, v.items[2].status.uploadStatus })
      configure { duplicate_uploads = 1 }
      local d = upload(h, "same", "three")
      _, v = yt(c, "GET", "/videos?part=status&id=" .. d)
      assert.are.same({ "rejected", "duplicate" }, { v.items[1].status.uploadStatus,
        v.items[1].status.rejectionReason })
      c:close()
    end)
  end)

  ---------------------------------------------------------------------- OneAll
  describe("oneall", function()
    local BASE = "https://sandbox.api.oneall.com/push/identities/"

    local function basic(private)
      return { { "Authorization", "Basic " .. sign.base64(acc.oneall.public_key .. ":"
        .. (private or acc.oneall.private_key)) } }
    end

    it("reads a queued job's state by its job id until it is done", function()
      local c = client()
      local oa = c:oneall(acc.oneall)
      local token = acc.oneall.identities.twitter
      local res = assert(oa:push(token, "twitter/video", { video = { url = acc.media.video } }))
      assert.are.equal("queued", res.status)
      local url = BASE .. token .. "/jobs/" .. res.job_id .. ".json"
      local status, v
      for _ = 1, 50 do
        status, v = call(c, "GET", url, basic())
        assert.are.equal(200, status)
        local d = v.response.result.data
        assert.are.equal(res.job_id, d.job_id)
        if d.status == "done" then break end
        assert.are.equal("queued", d.status)
        c:sleep(0.1)
      end
      local d = v.response.result.data
      assert.are.same({ "done", "twitter", "video" }, { d.status, d.provider, d.object })
      assert.is_string(d.post_id)
      assert.are.equal("/push/identities/" .. token .. "/jobs/" .. res.job_id .. ".json", v.response.request.resource)
      -- another identity, an unknown job, wrong credentials
      status = call(c, "GET", BASE .. acc.oneall.identities.youtube .. "/jobs/" .. res.job_id .. ".json", basic())
      assert.are.equal(404, status)
      status = call(c, "GET", BASE .. token .. "/jobs/00000000-0000-4000-8000-000000000000.json", basic())
      assert.are.equal(404, status)
      status, v = call(c, "GET", url, basic("wrong"))
      assert.are.same({ 401, "error" }, { status, v.response.request.status.flag })
      c:close()
    end)
  end)
end)
