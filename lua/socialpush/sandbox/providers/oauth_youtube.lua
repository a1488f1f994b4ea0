--- Sandbox emulation of YouTube's channels.list, the identity call of the Google token flow
-- (providers/oauth_google.lua): GET /youtube/v3/channels?part=id,snippet,contentDetails
-- &mine=true (or id=CHANNEL) on www.googleapis.com and youtube.googleapis.com. The
-- channel id is the account of a YouTube token set (DESIGN §7).
--
-- Listed after youtube.lua among the built-in plug-ins: if youtube.lua gets its own
-- channels route (own-post lookups), that one answers instead.
-- - Bearer token (fixture or issued) else 401 as youtube.lua answers (required/authError).
-- - Issued tokens need youtube, youtube.readonly, youtube.force-ssl or youtubepartner
--   (youtube.upload alone → 403 insufficientPermissions [doc: channels.list scopes]).
-- - part required; exactly one filter (mine, id) [doc].
local oauth = require("socialpush.sandbox.oauth")

local M = {}

local HOSTS = { "www.googleapis.com", "youtube.googleapis.com" }
local G = "https://www.googleapis.com/auth/"
local READ = { G .. "youtube", G .. "youtube.readonly", G .. "youtube.force-ssl", G .. "youtubepartner" }
local PARTS = { id = true, snippet = true, contentDetails = true, statistics = true, status = true,
  brandingSettings = true, contentOwnerDetails = true, localizations = true, topicDetails = true,
  auditDetails = true }

local function gerror(server, status, reason, message, extra)
  local e = { message = message, domain = (extra and extra.domain) or "global", reason = reason }
  local headers
  if extra then e.location, e.locationType, headers = extra.location, extra.location_type, extra.headers end
  local names = { [400] = "INVALID_ARGUMENT", [401] = "UNAUTHENTICATED", [403] = "PERMISSION_DENIED" }
  return server.json(status, { error = { code = status, message = (extra and extra.top) or message,
    errors = server.array({ e }), status = names[status] } }, headers)
end

local function unauthorized(server, reason)
  if reason == "missing" then
    return gerror(server, 401, "required", "Login Required.", { location = "Authorization",
      location_type = "header", headers = { ["WWW-Authenticate"] = 'Bearer realm="https://accounts.google.com/"' } })
  end
  return gerror(server, 401, "authError", "Invalid Credentials", { location = "Authorization",
    location_type = "header", top = "Request had invalid authentication credentials. Expected OAuth 2 access token,"
      .. " login cookie or other valid authentication credential. See"
      .. " https://developers.google.com/identity/sign-in/web/devconsole-project.",
    headers = { ["WWW-Authenticate"] = 'Bearer realm="https://accounts.google.com/", error="invalid_token"' } })
end

local function channel(server, parts)
  local fixture, p = server.accounts().youtube, server.accounts().profiles.youtube
  local c = { kind = "youtube#channel", etag = "Sbx" .. fixture.channel_id, id = fixture.channel_id }
  if parts.snippet then
    c.snippet = { title = p.title, description = "", customUrl = "@socialpushsandbox",
      publishedAt = "2020-01-01T00:00:00Z",
      thumbnails = { default = { url = "https://yt3.ggpht.com/sandbox=s88", width = 88, height = 88 } },
      localized = { title = p.title, description = "" } }
  end
  if parts.contentDetails then
    c.contentDetails = { relatedPlaylists = { likes = "", uploads = "UU" .. fixture.channel_id:sub(3) } }
  end
  if parts.statistics then
    c.statistics = { viewCount = "0", subscriberCount = "0", hiddenSubscriberCount = false, videoCount = "0" }
  end
  if parts.status then
    c.status = { privacyStatus = "public", isLinked = true, longUploadsStatus = "allowed" }
  end
  return c
end

local function list(server, req)
  local who, reason = server.auth.bearer(req, "youtube")
  if not who then return unauthorized(server, reason) end
  if not oauth.has_any_scope(who, READ) then
    return gerror(server, 403, "insufficientPermissions", "Insufficient Permission",
      { top = "Request had insufficient authentication scopes." })
  end
  local a = req:args()
  local part = type(a.part) == "string" and a.part or nil
  if not part or part == "" then
    return gerror(server, 400, "required", "Required parameter: part",
      { location = "part", location_type = "parameter" })
  end
  local parts = {}
  for x in part:gmatch("[^,%s]+") do
    if not PARTS[x] then
      return gerror(server, 400, "unknownPart", x, { domain = "youtube.part", location = "part",
        location_type = "parameter" })
    end
    parts[x] = true
  end
  local mine, id = a.mine == "true", type(a.id) == "string" and a.id or nil
  if (mine and id) or (not mine and not id) then
    return gerror(server, 400, "missingRequiredParameter", "No filter selected. Expected one of: mySubscribers,"
      .. " forUsername, mine, managedByMe, categoryId, forHandle, id", { domain = "youtube.parameter",
      location = "parameters.", location_type = "other" })
  end
  local items = server.array()
  local own = server.accounts().youtube.channel_id
  if mine then
    items[1] = channel(server, parts)
  else
    for x in id:gmatch("[^,]+") do
      if x == own then items[#items + 1] = channel(server, parts) end
    end
  end
  return server.json(200, { kind = "youtube#channelListResponse", etag = "SbxChannels" .. #items,
    pageInfo = { totalResults = #items, resultsPerPage = 5 }, items = items })
end

--- syntax: oauth_youtube.register(server)
function M.register(server)
  server.route(HOSTS, "GET", "/youtube/v3/channels", function(req) return list(server, req) end)
end

return M
