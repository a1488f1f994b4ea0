--- Publish the same post to all five networks at once (client:all runs them concurrently
-- on one connection pool). Credentials come from the environment (see examples/_env.lua);
-- with none set, a local sandbox is started and its fixture accounts are used.
--   lua5.4 examples/all.lua "Hello from socialpush!" [https://example.com/]
local env = dofile(((arg and arg[0] or ""):match("^(.*/)") or "./") .. "_env.lua")

local message = arg[1] or ("Hello from socialpush! " .. os.date("!%Y-%m-%d %H:%M:%S"))
local link = arg[2] or "https://example.com/"
local client, acc = env.setup { "facebook", "twitter", "linkedin", "pinterest", "youtube" }
local picture = env.sample("picture")

local fb, tw, li = client:facebook(acc.facebook), client:twitter(acc.twitter), client:linkedin(acc.linkedin)
local pin, yt = client:pinterest(acc.pinterest), client:youtube(acc.youtube)

local jobs = {
  { "facebook", function() return fb:page_post { page_id = acc.facebook.page_id, message = message, link = link } end },
  { "x", function() return tw:post { message = message .. " " .. link } end },
  { "linkedin", function() return li:post { message = message, link = link } end },
  { "pinterest", function() return pin:pin { board_id = acc.pinterest.board_id, picture = picture,
    title = message:sub(1, 100), description = message, link = link } end },
  -- YouTube publishes videos, not text posts: the closest is a playlist carrying the message
  { "youtube", function() return yt:playlist { title = message:sub(1, 100), description = link } end },
}

local fns = {}
for i, j in ipairs(jobs) do fns[i] = j[2] end
local out = client:all(fns)

local failed = 0
for i, r in ipairs(out) do
  if not env.report(jobs[i][1], r[1], r[2]) then failed = failed + 1 end
end
os.remove(picture)
client:close()
env.finish()
os.exit(failed == 0 and 0 or 1)
