-- Facebook Page: a post with a link, a picture by URL, an unpublished picture attached to a
-- post, a video (resumable upload), and how refusals come back.
--
-- Credentials from the environment (examples/_env.lua): FB_ACCESS_TOKEN (a Page access
-- token), FB_APP_SECRET (adds appsecret_proof), FB_PAGE_ID; optional FB_API_VERSION
-- (default v25.0), FB_PICTURE / FB_VIDEO (local files to upload). With none set it starts
-- the local sandbox and uses its fixture accounts and media (nothing leaves the machine);
-- there it also shows the retired operations: refused today with kind "deprecated", and
-- served in the sandbox's historic mode.
--
-- From the repository root, after `make build`:   lua5.4 examples/facebook.lua
local env = dofile(((arg and arg[0] or ""):match("^(.*/)") or "./") .. "_env.lua")

local client, acc, sb = env.setup { "facebook" }
local creds = acc.facebook
creds.api_version = os.getenv("FB_API_VERSION") or creds.api_version
local page = creds.page_id
local fb = client:facebook(creds)
local stamp = os.date("!%Y-%m-%d %H:%M:%S")

local picture = os.getenv("FB_PICTURE") and { file = os.getenv("FB_PICTURE") }
  or { url = acc.media and acc.media.picture or "https://www.facebook.com/images/fb_icon_325x325.png" }
local sample
local video = os.getenv("FB_VIDEO") and { file = os.getenv("FB_VIDEO") }
if not video then
  sample = env.sample("video")
  video = { file = sample }
end

local function refused(name, res, msg, err)
  if res then return env.report(name, res) end
  print(("%-28s %-5s kind=%s code=%s field=%s  %s"):format(name, "no", tostring(err.kind), tostring(err.code),
    tostring(err.field), msg))
end

env.report("page_post", fb:page_post { page_id = page, message = "Hello from socialpush, " .. stamp,
  link = "https://example.com/" })

env.report("page_picture", fb:page_picture { page_id = page, picture = picture, description = "A picture " .. stamp })

-- an unpublished picture, then a post that carries it (one attachment, and no link)
local pic = env.report("page_picture (unpublished)", fb:page_picture { page_id = page, picture = picture,
  create_post = false })
if pic then
  env.report("page_post + attachment", fb:page_post { page_id = page, message = "With a picture, " .. stamp,
    attachments = { pic.post_id } })
end

env.report("page_video", fb:page_video { page_id = page, video = video, title = "A video",
  description = "Uploaded with the resumable protocol, " .. stamp })

-- bad input is refused before anything is sent; the provider's refusals carry a stable kind
refused("link + attachments", fb:page_post { page_id = page, link = "https://example.com/", attachments = { "1" } })
refused("duplicate", fb:page_post { page_id = page, message = "Hello from socialpush, " .. stamp,
  link = "https://example.com/" })

if sb then
  print("-- retired operations, today:")
  refused("post (/me/feed)", fb:post { message = "On my profile" })
  refused("group_post", fb:group_post { group_id = creds.group_id, message = "To my group" })
  refused("stream_publish (REST)", fb:stream_publish { message = "Hello 2009" })
  print("-- ... and in the sandbox's historic mode:")
  sb:mode { facebook = "historic" }
  env.report("post (/me/feed)", fb:post { message = "On my profile " .. stamp })
  env.report("group_post", fb:group_post { group_id = creds.group_id, message = "To my group " .. stamp })
  env.report("stream_publish (REST)", fb:stream_publish { message = "Hello 2009 " .. stamp,
    attachment = { name = "socialpush", href = "https://example.com/", caption = "{*actor*} used socialpush" },
    action_links = { { text = "Read more", href = "https://example.com/" } } })
end

if sample then os.remove(sample) end
client:close()
env.finish()
