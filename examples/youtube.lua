--- examples/youtube.lua: upload a video, create a playlist, add the video to it and put
-- the playlist on the channel as a section.
--
-- With YOUTUBE_ACCESS_TOKEN set it talks to YouTube (an OAuth 2.0 token with the
-- youtube.upload and youtube scopes) and uploads YOUTUBE_VIDEO (a file path, required
-- then) as a private video; the channel section is only added when
-- YOUTUBE_ADD_SECTION=1. Without a token it starts the local sandbox and uses its fixture
-- account and a generated file, so it runs with no network and no account.
-- SOCIALPUSH_RESUME_DIR (optional): where an interrupted upload keeps its session, so
-- running the script again resumes it.
--
-- From the source tree:
--   make build && LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='build/lua5.4/?.so;;' \
--     lua5.4 examples/youtube.lua
local socialpush = require "socialpush"

local function fail(what, msg, err)
  io.stderr:write(what, " failed: ", tostring(msg), " (kind ", tostring(err and err.kind), ")\n")
  os.exit(1)
end

-- a small file that looks like an MP4 (sandbox runs only: YouTube would not accept it)
local function sample_video(size)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write("\0\0\0\32ftypisom\0\0\2\0isomiso2avc1mp41", string.rep("\0", size - 32))
  f:close()
  return path
end

local token = os.getenv("YOUTUBE_ACCESS_TOKEN")
local sb, opts, creds, video, sandboxed
if token and token ~= "" then
  video = os.getenv("YOUTUBE_VIDEO") or fail("setup", "set YOUTUBE_VIDEO to a video file")
  opts, creds = {}, { access_token = token }
else
  sb = assert(require("socialpush.sandbox").start { autostop = true })
  opts, creds = sb:options(), sb:accounts().youtube
  video, sandboxed = sample_video(600 * 1024), true
  print("no YOUTUBE_ACCESS_TOKEN: using the sandbox on port " .. sb.port)
end
opts.resume_dir = os.getenv("SOCIALPUSH_RESUME_DIR")
local shown = false
opts.on_progress = function(p)   -- every request body being sent: show the media chunks
  if not p.total or p.total < 64 * 1024 then return end
  if p.sent < p.total then shown = false
  elseif not shown then
    shown = true
    print(("  sent a chunk of %d bytes"):format(p.total))
  end
end

local client = socialpush.new(opts)
local yt = client:youtube(creds)

-- 1. the video (resumable upload, 256 KiB chunks here to show several of them)
local v, msg, err = yt:video {
  video = { file = video },
  title = "Uploaded with socialpush",
  description = "A resumable upload from Lua.",
  tags = { "socialpush", "lua" },
  privacy = "private",
  made_for_kids = false,
  chunk_size = 256 * 1024,
}
if not v then fail("video", msg, err) end
print("video:    " .. v.post_id .. "  " .. v.post_location)

-- 2. a playlist, 3. the video in it
local pl
pl, msg, err = yt:playlist { title = "socialpush examples", description = "Made by examples/youtube.lua",
  privacy = "private" }
if not pl then fail("playlist", msg, err) end
print("playlist: " .. pl.post_id .. "  " .. pl.post_location)

local item
item, msg, err = yt:playlist_video { playlist_id = pl.post_id, video_id = v.post_id, position = 0 }
if not item then fail("playlist_video", msg, err) end
print("item:     " .. item.post_id .. "  " .. item.post_location)

-- 4. the playlist as a channel section (changes the channel page: opt-in on a real account)
if sandboxed or os.getenv("YOUTUBE_ADD_SECTION") == "1" then
  local sec
  sec, msg, err = yt:channel_section { type = "singlePlaylist", playlist_ids = { pl.post_id } }
  if not sec then fail("channel_section", msg, err) end
  print("section:  " .. sec.post_id .. "  " .. tostring(sec.post_location))
end

-- a refusal, caught before any byte is sent
local _, bad_msg, bad = yt:playlist { title = "<b>no markup</b>" }
print("refused:  " .. bad.kind .. " (" .. bad.field .. "): " .. bad_msg)

client:close()
if sandboxed then
  os.remove(video)
  sb:stop()
end
