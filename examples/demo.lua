--- make demo: publish through the local sandbox on every network, one line per operation.
-- Starts the sandbox (nginx on a free loopback port), publishes a post, a picture and a
-- video on every network plus the remaining operations of DESIGN §1, and stops it.
-- With provider credentials in the environment it would use the real providers instead
-- (see examples/_env.lua); `make demo` always runs against the sandbox.
local env = dofile(((arg and arg[0] or ""):match("^(.*/)") or "./") .. "_env.lua")

local client, acc, sb = env.setup { "facebook", "twitter", "linkedin", "pinterest", "youtube", "oneall" }
local picture, video = env.sample("picture"), env.sample("video")
local stamp = os.time()
local failures = 0
local function run(name, f)
  local ok, res, msg = pcall(f)
  if not ok then res, msg = nil, "raised: " .. tostring(res) end
  if not env.report(name, res, msg) then failures = failures + 1 end
  return res
end

local fb = client:facebook(acc.facebook)
local tw = client:twitter(acc.twitter)
local li = client:linkedin(acc.linkedin)
local pin = client:pinterest(acc.pinterest)
local yt = client:youtube(acc.youtube)
local page = acc.facebook.page_id

print("== Facebook Page")
run("facebook/page/post", function() return fb:page_post { page_id = page,
  message = "Hello from socialpush " .. stamp, link = "https://example.com/" } end)
run("facebook/page/picture", function() return fb:page_picture { page_id = page, picture = picture,
  description = "A picture" } end)
run("facebook/page/video", function() return fb:page_video { page_id = page, video = video,
  title = "A video", description = "Uploaded in chunks" } end)

print("== X")
local tw_pic = run("twitter/picture", function() return tw:picture { picture = picture, description = "alt text" } end)
run("twitter/post", function() return tw:post { message = "Hello from socialpush " .. stamp,
  attachments = tw_pic and { tw_pic.post_id } or nil } end)
run("twitter/video", function() return tw:video { video = video, message = "A video " .. stamp } end)

print("== LinkedIn")
run("linkedin/post", function() return li:post { message = "Hello from socialpush " .. stamp,
  link = "https://example.com/", title = "Example" } end)
run("linkedin/company/post", function() return li:company_post { message = "Company news " .. stamp,
  picture = picture } end)

print("== Pinterest")
local board = run("pinterest/board", function() return pin:board { name = "socialpush " .. stamp,
  description = "Made by the demo" } end)
run("pinterest/board/<id>/pin", function() return pin:pin {
  board_id = board and board.post_id or acc.pinterest.board_id, picture = picture, title = "A pin",
  link = "https://example.com/" } end)
run("pinterest pin (video)", function() return pin:pin { board_id = acc.pinterest.board_id, video = video,
  title = "A video pin", thumbnail = { url = "https://media.socialpush.test/picture.png" } } end)

print("== YouTube")
local ytv = run("youtube/video", function() return yt:video { video = video, title = "Demo " .. stamp,
  description = "Resumable upload", tags = { "demo" }, privacy = "private" } end)
local pl = run("youtube/playlist", function() return yt:playlist { title = "Demo playlist " .. stamp,
  privacy = "private" } end)
run("youtube/playlist/<id>/video", function() return yt:playlist_video {
  playlist_id = pl and pl.post_id or acc.youtube.playlist_id, video_id = ytv and ytv.post_id or "dQw4w9WgXcQ" } end)
run("youtube/channel/section", function() return yt:channel_section { type = "singlePlaylist",
  title = "Demo", playlist_ids = { pl and pl.post_id or acc.youtube.playlist_id } } end)

if acc.oneall and acc.oneall.identities then
  print("== Through a OneAll site (the sandbox's)")
  local oa = client:oneall { subdomain = acc.oneall.subdomain, public_key = acc.oneall.public_key,
    private_key = acc.oneall.private_key }
  run("oneall twitter/post", function() return oa:push(acc.oneall.identities.twitter, "twitter/post",
    { message = "Hello through OneAll " .. stamp }) end)
  run("oneall pinterest/board", function() return oa:push(acc.oneall.identities.pinterest, "pinterest/board",
    { name = "OneAll board " .. stamp }) end)
end

print("== Facebook operations retired by Facebook (today: refused as deprecated)")
local _, msg, err = fb:post { message = "Hello" }
print(("%-28s %-5s %s"):format("facebook/post", err and err.kind == "deprecated" and "ok" or "FAIL", tostring(msg)))
if not (err and err.kind == "deprecated") then failures = failures + 1 end

if sb then
  print("== ... and in the sandbox's historic mode, exactly as the old API accepted them")
  sb:mode { facebook = "historic" }
  local legacy = acc.facebook.legacy
  run("facebook/post", function() return fb:post { message = "Hello " .. stamp, link = "https://example.com/" } end)
  run("facebook/picture", function() return fb:picture { picture = picture, description = "A picture" } end)
  run("facebook/video", function() return fb:video { video = video, title = "A video" } end)
  run("facebook/group/post", function() return fb:group_post { group_id = acc.facebook.group_id,
    message = "Hello group " .. stamp } end)
  run("facebook/group/picture", function() return fb:group_picture { group_id = acc.facebook.group_id,
    picture = picture } end)
  run("facebook/group/video", function() return fb:group_video { group_id = acc.facebook.group_id,
    video = video, title = "A video" } end)
  run("stream.publish (REST)", function() return fb:stream_publish { api_key = legacy.api_key,
    secret = legacy.secret, session_key = legacy.session_key, message = "Hello stream " .. stamp,
    attachment = { name = "socialpush", href = "https://example.com/" } } end)
  sb:mode { facebook = "today" }
end

os.remove(picture)
os.remove(video)
client:close()
env.finish()
print(failures == 0 and "demo: every operation done" or ("demo: " .. failures .. " operation(s) failed"))
os.exit(failures == 0 and 0 or 1)
