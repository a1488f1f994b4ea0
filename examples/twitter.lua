-- X (Twitter): a post, a picture with alt text, a video, then a reply with the picture.
--
-- Credentials from the environment: X_CONSUMER_KEY, X_CONSUMER_SECRET, X_ACCESS_TOKEN,
-- X_ACCESS_TOKEN_SECRET (OAuth 1.0a user context) or X_BEARER_TOKEN (OAuth 2 user token);
-- X_PICTURE / X_VIDEO name local files to upload. With no credentials set it starts the
-- local sandbox and uses its accounts and media (nothing leaves the machine).
--
-- From the source tree:
--   lua5.4 -e 'package.path="lua/?.lua;lua/?/init.lua;"..package.path
--     package.cpath="build/lua5.4/?.so;"..package.cpath' examples/twitter.lua
local socialpush = require "socialpush"

local env = os.getenv
local creds, picture, video, sb
if env("X_CONSUMER_KEY") or env("X_BEARER_TOKEN") then
  creds = {
    consumer_key = env("X_CONSUMER_KEY"), consumer_secret = env("X_CONSUMER_SECRET"),
    token = env("X_ACCESS_TOKEN"), token_secret = env("X_ACCESS_TOKEN_SECRET"),
    bearer_token = env("X_BEARER_TOKEN"),
  }
  picture = env("X_PICTURE") and { file = env("X_PICTURE") }
  video = env("X_VIDEO") and { file = env("X_VIDEO") }
else
  sb = assert(require("socialpush.sandbox").start { autostop = true })
  local accounts = sb:accounts()
  creds = accounts.twitter
  picture = { url = accounts.media.picture }   -- X cannot fetch URLs: socialpush downloads it
  video = { url = accounts.media.video }
  print("no X_* credentials: using the sandbox on port " .. sb.port)
end

local client = socialpush.new(sb and sb:options() or {})
local x = client:x(creds)                        -- same as client:twitter(creds)
local stamp = os.date("!%Y-%m-%d %H:%M:%S")

local function report(what, res, msg, err)
  if res then
    print(("%-8s %s %s %s"):format(what, res.object, res.post_id, res.post_location or ""))
  else
    print(("%-8s failed: %s (kind %s)"):format(what, msg, err and err.kind))
  end
  return res
end

local post = report("post", x:post { message = "Hello from socialpush, " .. stamp })

local pic
if picture then
  pic = report("picture", x:picture { picture = picture, description = "The socialpush logo" })
end

if video then
  report("video", x:video { video = video, message = "A video from socialpush, " .. stamp })
end

if post and pic then
  report("reply", x:post { message = "And a picture", attachments = { pic.post_id }, reply_to = post.post_id })
end

-- refusals come back as nil, msg, err with a stable kind
report("too long", x:post { message = ("x"):rep(281) })

client:close()
if sb then sb:stop() end
