--- Publish on Pinterest: a board, an image pin on it, and a video pin.
--
-- With PINTEREST_ACCESS_TOKEN set it talks to Pinterest itself (PINTEREST_BASE_URL =
-- https://api-sandbox.pinterest.com/v5 for Pinterest's own sandbox, PINTEREST_PICTURE_URL,
-- PINTEREST_VIDEO = a file path or an https URL); otherwise it starts the local sandbox and
-- uses its fixture account.
--
--   make build
--   LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='build/lua5.4/?.so;;' lua5.4 examples/pinterest.lua
local socialpush = require "socialpush"

local token = os.getenv("PINTEREST_ACCESS_TOKEN")
local options, creds, picture, video, sb = {}, nil, nil, nil, nil   -- luacheck: ignore 311
if token and token ~= "" then
  local base = os.getenv("PINTEREST_BASE_URL")
  creds = { access_token = token, base_url = base ~= "" and base or nil }
  picture = os.getenv("PINTEREST_PICTURE_URL")
  picture = picture and picture ~= "" and { url = picture } or nil
  local v = os.getenv("PINTEREST_VIDEO")
  if v and v ~= "" then video = v:match("^https?://") and { url = v } or { file = v } end
else
  sb = assert(require("socialpush.sandbox").start { autostop = true })
  options = sb:options()
  local accounts = sb:accounts()
  creds = accounts.pinterest
  picture, video = { url = accounts.media.picture }, { url = accounts.media.video }
  print("using the sandbox on port " .. sb.port)
end

local client = socialpush.new(options)
local pin = client:pinterest(creds)

local function show(what, res, msg, err)
  if res then
    print(("%-10s %s  %s"):format(what, res.post_id, res.post_location or "-"))
  else
    print(("%-10s failed (%s): %s"):format(what, err and err.kind or "?", msg))
  end
  return res
end

local name = "socialpush " .. os.date("!%Y-%m-%d %H:%M:%S")
local board = show("board", pin:board { name = name, description = "Made by examples/pinterest.lua",
  privacy = "SECRET" })
if board and picture then
  show("pin", pin:pin { board_id = board.post_id, picture = picture, title = "A picture",
    description = "Pinned by socialpush", link = "https://www.lua.org/", alt_text = "The test picture" })
end
if board and video then
  show("video pin", pin:pin { board_id = board.post_id, video = video, title = "A video", thumbnail = picture })
end
-- a refusal: a board name that is taken
show("duplicate", pin:board { name = name })

client:close()
if sb then sb:stop() end
