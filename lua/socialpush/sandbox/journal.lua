--- Request journal of the sandbox (nginx side): masking of secrets and the
-- store (one JSON document per request in a lua_shared_dict).
local cjson = require("cjson")

local M = {}

local meta = ngx.shared.socialpush_sandbox_meta
local store = ngx.shared.socialpush_sandbox_journal

-- headers whose whole value is secret; value: keep the auth scheme
local SECRET_HEADERS = {
  authorization = true,
  ["proxy-authorization"] = true,
  cookie = false,
  ["x-api-key"] = false,
}

-- query/form parameter names whose value is secret (plus any "*_secret")
local SECRET_PARAMS = {
  access_token = true, appsecret_proof = true, sig = true, session_key = true,
  client_secret = true, refresh_token = true, oauth_signature = true,
  password = true, fb_exchange_token = true,
  -- OAuth flows: codes, PKCE, request tokens and verifiers, tokens being revoked/debugged
  code = true, code_verifier = true, code_challenge = true, oauth_token = true,
  oauth_verifier = true, denied = true, token = true, input_token = true, id_token = true,
}

--- mask one header value
-- syntax: v = journal.mask_header(lowercase_name, value)
function M.mask_header(name, value)
  local keep_scheme = SECRET_HEADERS[name]
  if keep_scheme == nil then return value end
  if keep_scheme then
    local scheme = value:match("^%s*([%w%-_]+)%s+%S")
    if scheme then return scheme .. " ***" end
  end
  return "***"
end

--- true when a parameter name holds a secret
-- syntax: yes = journal.secret_param(name)
function M.secret_param(name)
  name = name:lower()
  return SECRET_PARAMS[name] == true or name:sub(-7) == "_secret"
end

--- mask secret values inside a raw query (or form) string, keeping the rest
-- syntax: s = journal.mask_query(raw)
function M.mask_query(raw)
  if raw == nil or raw == "" then return "" end
  local parts = {}
  for pair in (raw .. "&"):gmatch("([^&]*)&") do
    local k, v = pair:match("^([^=]*)=(.*)$")
    if k and v ~= "" and M.secret_param(ngx.unescape_uri(k)) then
      pair = k .. "=***"
    end
    parts[#parts + 1] = pair
  end
  return table.concat(parts, "&")
end

--- lowercased request headers, secrets masked, repeats joined with ", "
-- syntax: t = journal.masked_headers()
function M.masked_headers()
  local out = {}
  local h = ngx.req.get_headers(0)
  for k, v in pairs(h) do
    local name = k:lower()
    if type(v) == "table" then v = table.concat(v, ", ") end
    out[name] = M.mask_header(name, v)
  end
  return out
end

--- add one entry (a table); returns its seq
-- syntax: seq = journal.add(entry)
function M.add(entry)
  local seq = meta:incr("journal_seq", 1, 0)
  entry.seq = seq
  local ok, err = store:set("r" .. seq, cjson.encode(entry))
  if not ok then ngx.log(ngx.ERR, "sandbox journal full, entry dropped: ", err) end
  return seq
end

local function match_field(want, have)
  if want == nil or want == "" then return true end
  if have == nil then return false end
  if want:sub(-1) == "*" then
    return have:sub(1, #want - 1) == want:sub(1, -2)
  end
  return have == want
end
M.match_field = match_field

--- journal entries (decoded) after the last reset, oldest first
-- syntax: list = journal.list{host=, method=, path=, since=}
function M.list(filter)
  filter = filter or {}
  local first = meta:get("journal_first") or 1
  local last = meta:get("journal_seq") or 0
  local since = tonumber(filter.since)
  if since and since + 1 > first then first = since + 1 end
  local method = filter.method and filter.method:upper()
  local host = filter.host and filter.host:lower()
  local out = {}
  for seq = first, last do
    local s = store:get("r" .. seq)
    if s then
      local e = cjson.decode(s)
      if match_field(host, e.host) and match_field(method, e.method)
        and match_field(filter.path, e.path) then
        out[#out + 1] = e
      end
    end
  end
  return out
end

--- forget every entry (seq numbers keep increasing)
-- syntax: journal.clear()
function M.clear()
  store:flush_all()
  store:flush_expired()
  meta:set("journal_first", (meta:get("journal_seq") or 0) + 1)
end

return M
