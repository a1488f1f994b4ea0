--- socialpush.check: input checks made before any byte is sent.
-- Each check returns true, or nil, msg, err with kind "invalid_argument" and `field` set.
local errors = require "socialpush.errors"

local M = {}

--- nil, msg, err for bad input.
-- syntax: return check.fail(op, field, fmt, ...)
function M.fail(op, field, fmt, ...)
  local msg = op .. ": " .. (select("#", ...) > 0 and fmt:format(...) or fmt)
  return errors.fail { kind = "invalid_argument", operation = op, field = field, message = msg }
end
local fail = M.fail

--- Number of UTF-8 characters in s, or nil when s is not valid UTF-8.
function M.utf8_len(s)
  local n, i, len = 0, 1, #s
  while i <= len do
    local c = s:byte(i)
    local extra
    if c < 0x80 then extra = 0
    elseif c >= 0xC2 and c <= 0xDF then extra = 1
    elseif c >= 0xE0 and c <= 0xEF then extra = 2
    elseif c >= 0xF0 and c <= 0xF4 then extra = 3
    else return nil end
    for j = i + 1, i + extra do
      local d = s:byte(j)
      if not d or d < 0x80 or d > 0xBF then return nil end
    end
    i = i + extra + 1
    n = n + 1
  end
  return n
end

--- A string field: required (non-empty) or optional, with limits in characters or bytes.
-- syntax: ok, msg, err = check.text(op, args, field, {required=, max=, max_bytes=, forbid=pattern})
function M.text(op, args, field, rules)
  rules = rules or {}
  local v = args[field]
  if v == nil then
    if rules.required then return fail(op, field, "%s is required", field) end
    return true
  end
  if type(v) ~= "string" then return fail(op, field, "%s must be a string, got %s", field, type(v)) end
  if rules.required and not v:find("%S") then return fail(op, field, "%s is empty", field) end
  local n = M.utf8_len(v)
  if not n then return fail(op, field, "%s is not valid UTF-8", field) end
  if rules.max and n > rules.max then
    return fail(op, field, "%s is %d characters, the limit is %d", field, n, rules.max)
  end
  if rules.max_bytes and #v > rules.max_bytes then
    return fail(op, field, "%s is %d bytes, the limit is %d", field, #v, rules.max_bytes)
  end
  if rules.forbid and v:find(rules.forbid) then
    return fail(op, field, "%s contains a character the provider refuses", field)
  end
  return true
end

--- An id that goes into a URL path: digits, letters, '_', '-', '.', ':' only; no '/', '..' or spaces.
-- syntax: ok, msg, err = check.id(op, args, field, {required=})
function M.id(op, args, field, rules)
  local v = args[field]
  if v == nil then
    if rules == nil or rules.required ~= false then return fail(op, field, "%s is required", field) end
    return true
  end
  if type(v) == "number" and v == math.floor(v) and v >= 0 and v < 2 ^ 53 then
    v = ("%.0f"):format(v)
    args[field] = v
  end
  if type(v) ~= "string" then return fail(op, field, "%s must be a string id, got %s", field, type(v)) end
  if v == "" or #v > 256 or v:find("[^%w_%-%.:]") or v:find("..", 1, true) then
    return fail(op, field, "%s is not a well-formed id", field)
  end
  return true
end

--- A value among a fixed set.
-- syntax: ok, msg, err = check.one_of(op, args, field, {"a", "b"})
function M.one_of(op, args, field, set)
  local v = args[field]
  if v == nil then return true end
  for _, s in ipairs(set) do if v == s then return true end end
  return fail(op, field, "%s must be one of %s", field, table.concat(set, ", "))
end

--- A list (array table) with at most max elements.
function M.list(op, args, field, max)
  local v = args[field]
  if v == nil then return true end
  if type(v) ~= "table" then return fail(op, field, "%s must be a list", field) end
  if max and #v > max then return fail(op, field, "%s has %d items, the limit is %d", field, #v, max) end
  return true
end

--- An http(s) URL.
function M.url(op, args, field, rules)
  local v = args[field]
  if v == nil then
    if rules and rules.required then return fail(op, field, "%s is required", field) end
    return true
  end
  if type(v) ~= "string" or not v:match("^[hH][tT][tT][pP][sS]?://[^%s/?#]+[^%s]*$") then
    return fail(op, field, "%s must be an http(s) URL", field)
  end
  return true
end

--- A shallow copy of an argument table (operations never change the caller's table).
-- syntax: t2 = check.copy(t)
function M.copy(t)
  if type(t) ~= "table" then return t end
  local out = {}
  for k, v in pairs(t) do out[k] = v end
  return out
end

--- Whether url is https on one of hosts (a set of lower-case host names; port 443 and no
-- user info allowed): where upload URLs handed out by a provider may send our bytes.
-- syntax: ok = check.https_host(url, {["www.linkedin.com"] = true})
function M.https_host(url, hosts)
  if type(url) ~= "string" then return false end
  local authority = url:match("^[hH][tT][tT][pP][sS]://([^/?#]+)")
  if not authority or authority:find("@", 1, true) then return false end
  return hosts[(authority:lower():gsub(":443$", ""))] == true
end

--- Run checks in order; the first failure wins.
-- syntax: ok, msg, err = check.all(op, args, { {check.text, "message", {required=true}}, ... })
function M.all(op, args, list)
  if type(args) ~= "table" then error(op .. ": arguments must be a table", 3) end
  for _, c in ipairs(list) do
    local ok, msg, err = c[1](op, args, c[2], c[3])
    if not ok then return nil, msg, err end
  end
  return true
end

return M
