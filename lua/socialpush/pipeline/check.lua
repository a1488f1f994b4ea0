--- socialpush.pipeline.check: input checks made before any byte is sent.
-- Each check returns true, or nil, msg, err with kind "invalid_argument" and `field` set.
-- Checks take (op, args, field, rules) so that lists of them run through check.all.
local errors = require "socialpush.errors"
local json = require "socialpush.json"

local M = {}

--- nil, msg, err for bad input.
-- syntax: return check.fail(op, field, fmt, ...)
function M.fail(op, field, fmt, ...)
  local msg = op .. ": " .. (select("#", ...) > 0 and fmt:format(...) or fmt)
  return errors.fail { kind = "invalid_argument", operation = op, field = field, message = msg }
end
local fail = M.fail

--- Number of UTF-8 characters in s, or nil when s is not valid UTF-8 (the JSON codec's
-- strict rules: no overlongs, no surrogates, nothing above U+10FFFF).
-- syntax: n = check.utf8_len(s)
function M.utf8_len(s)
  return (json.utf8_len(s))
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

--- Whether t is a list: only the keys 1..#t (or marked with json.array).
-- syntax: bool = check.is_list(t)
function M.is_list(t)
  if type(t) ~= "table" then return false end
  if getmetatable(t) == json.array_mt then return true end
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n == #t
end

--- A list (array table) with at most max elements.
-- syntax: ok, msg, err = check.list(op, args, field [, max])
function M.list(op, args, field, max)
  local v = args[field]
  if v == nil then return true end
  if not M.is_list(v) then return fail(op, field, "%s must be a list", field) end
  if max and #v > max then return fail(op, field, "%s has %d items, the limit is %d", field, #v, max) end
  return true
end

--- A boolean.
-- syntax: ok, msg, err = check.boolean(op, args, field)
function M.boolean(op, args, field)
  local v = args[field]
  if v ~= nil and type(v) ~= "boolean" then return fail(op, field, "%s must be a boolean", field) end
  return true
end

--- An integer in [min, max] (defaults 0 and 2^31 - 1).
-- syntax: ok, msg, err = check.integer(op, args, field [, {min=, max=}])
function M.integer(op, args, field, rules)
  local v = args[field]
  if v == nil then return true end
  local lo, hi = rules and rules.min or 0, rules and rules.max or 2 ^ 31 - 1
  if type(v) ~= "number" or v ~= v or v % 1 ~= 0 or v < lo or v > hi then
    return fail(op, field, "%s must be an integer in %d..%d", field, lo, hi)
  end
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
  for _, c in ipairs(list) do
    local ok, msg, err = c[1](op, args, c[2], c[3])
    if not ok then return nil, msg, err end
  end
  return true
end

-- Levenshtein distance (small strings: argument names)
local function distance(a, b)
  local prev = {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    local cur = { [0] = i }
    for j = 1, #b do
      local cost = a:byte(i) == b:byte(j) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev = cur
  end
  return prev[#b]
end

--- The known name closest to an unknown one (at most 2 edits away), or nil.
-- syntax: name = check.closest(name, known_set)
function M.closest(name, known)
  local best, best_d
  for k in pairs(known) do
    local d = distance(name, k)
    if d <= 2 and (not best_d or d < best_d or (d == best_d and k < best)) then best, best_d = k, d end
  end
  return best
end

--- Every key of args is a known argument name (a set); `extra` is a table of string keys.
-- syntax: ok, msg, err = check.names(op, args, known_set)
function M.names(op, args, known)
  for k in pairs(args) do
    if not known[k] then
      local name = tostring(k)
      if type(k) ~= "string" then
        return fail(op, name, "arguments are named: %s is not an argument name", name)
      end
      local near = M.closest(k, known)
      return fail(op, name, "unknown argument '%s'%s (provider parameters without an argument of"
        .. " their own go in extra = {...})", name, near and (" (did you mean '" .. near .. "'?)") or "")
    end
  end
  local extra = args.extra
  if extra ~= nil then
    if type(extra) ~= "table" then return fail(op, "extra", "extra must be a table") end
    for k in pairs(extra) do
      if type(k) ~= "string" or k == "" then
        return fail(op, "extra", "extra keys must be parameter names (strings)")
      end
    end
  end
  return true
end

return M