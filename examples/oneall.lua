--- Push through a OneAll site (socialpush.oneall).
--
-- With a real site:
--   ONEALL_SUBDOMAIN=mysite ONEALL_PUBLIC_KEY=... ONEALL_PRIVATE_KEY=... \
--   ONEALL_IDENTITY_TOKEN=<identity_token> [ONEALL_RESOURCE=twitter/post] [ONEALL_PAGE_ID=...] \
--   [ONEALL_MESSAGE="Hello"] lua5.4 examples/oneall.lua
-- With none of them set it starts the local sandbox and uses its accounts fixture, and
-- also shows a queued YouTube upload whose result arrives at a callback_url.
--
-- From the source tree: make build && lua5.4 examples/oneall.lua

-- find the modules of the source tree when socialpush is not installed
if not pcall(require, "socialpush") then
  local root = (arg and arg[0] or ""):match("^(.*)/examples/[^/]*$") or "."
  local flavour = rawget(_G, "jit") and "luajit" or ("lua" .. _VERSION:match("%d+%.%d+"))
  package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
  package.cpath = root .. "/build/" .. flavour .. "/?.so;" .. package.cpath
end
local socialpush = require "socialpush"
local oneall = require "socialpush.providers.oneall"

local function show(label, res, msg, err)
  if res then
    print(("%-22s %s %s id=%s %s%s"):format(label, res.provider, res.object, tostring(res.post_id),
      res.post_location or "", res.status and (" [" .. res.status .. " job " .. tostring(res.job_id) .. "]") or ""))
  else
    print(("%-22s error kind=%s: %s"):format(label, err and err.kind or "?", msg))
  end
  return res
end

local env = os.getenv
if env("ONEALL_PUBLIC_KEY") and env("ONEALL_PRIVATE_KEY") and env("ONEALL_IDENTITY_TOKEN") then
  local client = socialpush.new { timeout = 60 }
  local oa = client:oneall { subdomain = env("ONEALL_SUBDOMAIN"), base_url = env("ONEALL_BASE_URL"),
    public_key = env("ONEALL_PUBLIC_KEY"), private_key = env("ONEALL_PRIVATE_KEY") }
  local resource = env("ONEALL_RESOURCE") or "twitter/post"
  local args = { message = env("ONEALL_MESSAGE") or "Hello from socialpush" }
  if resource:find("/page/", 1, true) then args.page_id = env("ONEALL_PAGE_ID") end
  local res = show(resource, oa:push(env("ONEALL_IDENTITY_TOKEN"), resource, args))
  os.exit(res and 0 or 1)
end

-- no credentials: the sandbox
local sandbox = require "socialpush.sandbox"
local sb = assert(sandbox.start { autostop = true, record = false })
local acc = sb:accounts()
local client = socialpush.new(sb:options())
local oa = client:oneall(acc.oneall)          -- subdomain "sandbox": https://sandbox.api.oneall.com
local id = acc.oneall.identities              -- one identity token per provider

show("facebook/page/post", oa:push(id.facebook, "facebook/page/post",
  { page_id = acc.facebook.page_id, message = "Hello World!", link = "https://example.com/" }))

local pic = show("twitter/picture", oa:push(id.twitter, "twitter/picture",
  { picture = { url = acc.media.picture }, description = "socialpush logo" }))
if pic then
  show("twitter/post", oa:push(id.twitter, "twitter/post",
    { message = "With a picture", attachments = { pic.post_id } }))
end

show("pinterest pin", oa:push(id.pinterest, "pinterest/board/" .. acc.pinterest.board_id .. "/pin",
  { description = "Offices", picture = { url = acc.media.picture }, link = "https://example.com/" }))

-- media must be a URL: OneAll downloads it (nothing is sent for a file)
show("file media", oa:push(id.twitter, "twitter/picture", { picture = { file = "/etc/hostname" } }))
-- Facebook removed posting to profiles (today's mode of the sandbox)
show("facebook/post", oa:push(id.facebook, "facebook/post", { message = "Hello" }))

-- asynchronous: OneAll queues the video and POSTs the result to callback_url
local queued = show("youtube/video", oa:push(id.youtube, "youtube/video",
  { video = { url = acc.media.video }, title = "Holiday", callback_url = sb:url("/callbacks/example") }))
if queued then
  for _ = 1, 50 do                           -- at most ~5 s
    local _, v = sb:control("GET", "/_/oneall/callbacks?name=example")
    if v and v.callbacks[1] then
      show("callback", oneall.parse_callback(v.callbacks[1].body))
      break
    end
    client:sleep(0.1)
  end
end
sb:stop()
