--- socialpush.pipeline.form: parameter lists, application/x-www-form-urlencoded bodies and
-- query strings (RFC 3986 percent-encoding), the way every provider sends them.
-- A parameter set is a map (sent sorted, so requests are deterministic) or a list of
-- {name, value} pairs (sent in order, repeats allowed). Values: strings, numbers, booleans
-- ("true"/"false"), tables (as JSON text); nil values are left out.
local json = require "socialpush.json"
local sign = require "socialpush.sign"

local M = {}

local pct = sign.percent_encode

--- The {name, value} pair list of a map or a pair list (a pair list is returned as is).
-- syntax: list = form.pairs_of(t)
function M.pairs_of(t)
  if t == nil then return {} end
  if type(t[1]) == "table" then return t end
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  local out = {}
  for i, k in ipairs(keys) do out[i] = { k, t[k] } end
  return out
end

--- The text sent for a parameter value; nil, msg when a table cannot be encoded as JSON.
-- syntax: s, msg = form.scalar(v)
function M.scalar(v)
  if v == true then return "true" elseif v == false then return "false" end
  if type(v) == "table" then return json.encode(v) end
  return tostring(v)
end

--- The parameters as {name, text} pairs (values made text, nils dropped); nil, msg, name
-- when a value cannot be encoded.
-- syntax: list, msg, name = form.texts(t)
function M.texts(t)
  local out = {}
  for _, kv in ipairs(M.pairs_of(t)) do
    if kv[2] ~= nil then
      local s, msg = M.scalar(kv[2])
      if not s then return nil, msg, kv[1] end
      out[#out + 1] = { kv[1], s }
    end
  end
  return out
end

--- application/x-www-form-urlencoded text of {name, text} pairs.
-- syntax: s = form.encode_texts(list)
function M.encode_texts(list)
  local out = {}
  for i, kv in ipairs(list) do out[i] = pct(kv[1]) .. "=" .. pct(kv[2]) end
  return table.concat(out, "&")
end

--- application/x-www-form-urlencoded text of a parameter set; nil, msg, name when a value
-- cannot be encoded.
-- syntax: s, msg, name = form.encode(t)
function M.encode(t)
  local list, msg, name = M.texts(t)
  if not list then return nil, msg, name end
  return M.encode_texts(list)
end

--- url with the parameters appended to its query; nil, msg, name when a value cannot be encoded.
-- syntax: url, msg, name = form.with_query(url, t)
function M.with_query(url, t)
  local q, msg, name = M.encode(t)
  if not q then return nil, msg, name end
  if q == "" then return url end
  return url .. (url:find("?", 1, true) and "&" or "?") .. q
end

--- The decoded pairs of a form-encoded text (e.g. OAuth 1.0a token answers): a map of the
-- last value of each name.
-- syntax: t = form.decode(s)
function M.decode(s)
  local out = {}
  for part in tostring(s or ""):gmatch("[^&]+") do
    local k, v = part:match("^([^=]*)=?(.*)$")
    local function un(x)
      return (x:gsub("+", " "):gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
    end
    out[un(k)] = un(v)
  end
  return out
end

return M
