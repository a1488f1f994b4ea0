--- socialpush.sign: encodings, digests, HMAC, OAuth 1.0a, PKCE, appsecret_proof, legacy sig.
-- Byte strings in and out. Wrong argument types raise; malformed input data
-- returns nil, msg, err (err.kind == "invalid_argument"). Implemented in C
-- (socialpush.core.sign) except the small compositions at the end.
--
-- syntax: s = sign.percent_encode(bytes)        RFC 3986, unreserved kept, uppercase hex
-- syntax: s, msg, err = sign.percent_decode(s)  '+' stays '+'
-- syntax: s, msg, err = sign.form_decode(s)     '+' is a space
-- syntax: s = sign.base64(bytes)  s = sign.base64url(bytes) (no padding)
-- syntax: bytes, msg, err = sign.base64_decode(s)  either alphabet, padding optional
-- syntax: s = sign.hex(bytes)                   lowercase
-- syntax: d = sign.sha256(s)  sign.sha1(s)  sign.md5(s)   raw digests
-- syntax: d = sign.hmac_sha1(key, data)  sign.hmac_sha256(key, data)   raw
-- syntax: bytes = sign.random(n)                CSPRNG, 0 <= n <= 1 MiB
-- syntax: r, msg, err = sign.oauth1{method=, url=, params=, consumer_key=, consumer_secret=,
--   token=, token_secret=, nonce=, timestamp=, realm=, version=, callback=, verifier=,
--   signature_method=}   r = {header=, signature=, base_string=, nonce=, timestamp=}
-- syntax: header, msg, err = sign.oauth1_header{...}   the same, only r.header (cheaper)
--   oauth_version=1.0 is added unless version = false (what X sends); nonce and timestamp
--   are generated unless given. A protocol parameter given in params (oauth_version,
--   oauth_nonce, oauth_timestamp, oauth_callback, oauth_verifier, and oauth_consumer_key /
--   oauth_token / oauth_signature_method equal to the request's) replaces the computed one,
--   so nothing is signed twice; an oauth_signature, or one that contradicts the request, is
--   refused (invalid_argument, field "params").
-- syntax: hex = sign.legacy_sig(params, secret)
local core = require("socialpush.core").sign

local M = {}
for k, v in pairs(core) do M[k] = v end

local function check_string(v, n, fname)
  if type(v) ~= "string" then
    error(("bad argument #%d to '%s' (string expected, got %s)"):format(n, fname, type(v)), 3)
  end
end

--- A new PKCE pair (RFC 7636): 32 random bytes as base64url, and its S256 challenge.
-- syntax: verifier, challenge = sign.pkce()
function M.pkce()
  local verifier = core.base64url(core.random(32))
  return verifier, core.base64url(core.sha256(verifier))
end

--- The S256 code_challenge of a code_verifier (43-128 unreserved characters).
-- syntax: challenge = sign.pkce_challenge(verifier)
function M.pkce_challenge(verifier)
  check_string(verifier, 1, "pkce_challenge")
  if #verifier < 43 or #verifier > 128 or verifier:find("[^%w%-%._~]") then
    error("bad argument #1 to 'pkce_challenge' (a code_verifier is 43 to 128 characters"
      .. " of A-Z a-z 0-9 - . _ ~)", 2)
  end
  return core.base64url(core.sha256(verifier))
end

--- Facebook appsecret_proof: lowercase hex HMAC-SHA256 of the access token keyed by the
-- app secret; with time (unix seconds) the message is token .. "|" .. time.
-- syntax: proof = sign.appsecret_proof(access_token, app_secret [, time])
function M.appsecret_proof(token, secret, time)
  check_string(token, 1, "appsecret_proof")
  check_string(secret, 2, "appsecret_proof")
  local msg = token
  if time ~= nil then
    if type(time) == "number" and time >= 0 and time % 1 == 0 then
      time = ("%d"):format(time)
    elseif type(time) ~= "string" or not time:find("^%d+$") then
      error("bad argument #3 to 'appsecret_proof' (unix time in seconds expected)", 2)
    end
    msg = token .. "|" .. time
  end
  return core.hex(core.hmac_sha256(secret, msg))
end

return M
