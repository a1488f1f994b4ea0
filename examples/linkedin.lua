--- Publish on LinkedIn: a text post, a post with a picture, a link (article) on a company page.
--
-- With LINKEDIN_ACCESS_TOKEN set it talks to LinkedIn itself (LINKEDIN_AUTHOR =
-- urn:li:person:…, LINKEDIN_COMPANY = urn:li:organization:… or its id, optional
-- LINKEDIN_VERSION = YYYYMM, LINKEDIN_PICTURE = a file path or an https URL); otherwise it
-- starts the local sandbox and uses its fixture accounts.
--
--   make build
--   LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='build/lua5.4/?.so;;' lua5.4 examples/linkedin.lua
local socialpush = require "socialpush"

local token = os.getenv("LINKEDIN_ACCESS_TOKEN")
local options, creds, picture, sb = {}, nil, nil, nil   -- luacheck: ignore 311
if token and token ~= "" then
  creds = { access_token = token, author = os.getenv("LINKEDIN_AUTHOR"), company = os.getenv("LINKEDIN_COMPANY"),
    version = os.getenv("LINKEDIN_VERSION") }
  local p = os.getenv("LINKEDIN_PICTURE")
  if p and p ~= "" then picture = p:match("^https?://") and { url = p } or { file = p } end
else
  sb = assert(require("socialpush.sandbox").start { autostop = true })
  options = sb:options()
  local accounts = sb:accounts()
  creds = accounts.linkedin
  picture = { url = accounts.media.picture }
  print("using the sandbox on port " .. sb.port)
end

local client = socialpush.new(options)
local li = client:linkedin(creds)

local function show(what, res, msg, err)
  if res then
    print(("%-14s %s  %s"):format(what, res.post_id, res.post_location))
  else
    print(("%-14s failed (%s): %s"):format(what, err and err.kind or "?", msg))
  end
end

show("post", li:post { message = "Hello from socialpush! #lua" })
if picture then
  show("picture post", li:post { message = "A picture from socialpush", picture = picture,
    description = "The socialpush test picture" })
end
if creds.company then
  show("company post", li:company_post { message = "Company news", link = "https://www.lua.org/",
    title = "The Programming Language Lua", description = "Lua is a powerful, efficient, lightweight language." })
end
-- a refusal: the same text twice is a duplicate
show("duplicate", li:post { message = "Hello from socialpush! #lua" })

client:close()
if sb then sb:stop() end
