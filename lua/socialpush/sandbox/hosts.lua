--- Host names served by the sandbox (pure data, shared by the Lua helper and
-- the nginx side). Every name here is in the generated certificate and gets a
-- connect_to entry; `wildcards` are in the certificate only.
local M = {}

M.control = "sandbox.socialpush.test"
M.media = "media.socialpush.test"
M.other = "other.socialpush.test"

--- every host, in connect_to order (control first)
M.all = {
  "sandbox.socialpush.test",
  "api.x.com",
  "api.twitter.com",
  "upload.twitter.com",
  "x.com",                    -- OAuth 2 authorization dialog
  "twitter.com",              -- (its legacy host)
  "graph.facebook.com",
  "graph-video.facebook.com",
  "rupload.facebook.com",
  "api.facebook.com",
  "www.facebook.com",         -- Facebook Login dialog
  "api.linkedin.com",
  "www.linkedin.com",
  "api.pinterest.com",
  "api-sandbox.pinterest.com",
  "www.pinterest.com",        -- OAuth dialog
  "pinterest-media-upload.s3-accelerate.amazonaws.com",
  "www.googleapis.com",
  "youtube.googleapis.com",
  "oauth2.googleapis.com",
  "accounts.google.com",      -- OAuth dialog
  "sandbox.api.oneall.com",
  "media.socialpush.test",
  "other.socialpush.test",
}

--- extra certificate names (no connect_to entry: curl needs one per host)
M.wildcards = { "*.api.oneall.com" }

return M
