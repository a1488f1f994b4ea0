--- Small JSON codec used by the sandbox's Lua helper (socialpush.sandbox),
-- which runs in the caller's interpreter (5.1 ... 5.4, LuaJIT) and must not
-- depend on socialpush.core (the code under test) nor on lua-cjson.
-- Not a general-purpose codec: enough for the control API's answers.
local M = {}

--- decoded JSON null
M.null = setmetatable({}, { __tostring = function() return "null" end })

--- metatable marking a table to encode as an array (e.g. an empty one)
M.array_mt = {}

local escapes = {
  ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
}

local function encode_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return escapes[c] or string.format("\\u%04x", c:byte())
  end) .. '"'
end

local function is_array(t)
  if getmetatable(t) == M.array_mt then return true end
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  if n == 0 then return false end
  for i = 1, n do
    if t[i] == nil then return false end
  end
  return true
end

local encode_value

local function encode_table(t, depth)
  if depth > 100 then error("minijson: nesting too deep", 0) end
  local out = {}
  if is_array(t) then
    for i = 1, #t do out[i] = encode_value(t[i], depth + 1) end
    return "[" .. table.concat(out, ",") .. "]"
  end
  local keys = {}
  for k in pairs(t) do
    if type(k) ~= "string" then error("minijson: non-string key", 0) end
    keys[#keys + 1] = k
  end
  table.sort(keys)
  for i, k in ipairs(keys) do
    out[i] = encode_string(k) .. ":" .. encode_value(t[k], depth + 1)
  end
  return "{" .. table.concat(out, ",") .. "}"
end

encode_value = function(v, depth)
  local tv = type(v)
  if v == nil or v == M.null then return "null"
  elseif tv == "boolean" then return tostring(v)
  elseif tv == "number" then
    if v ~= v or v == math.huge or v == -math.huge then
      error("minijson: cannot encode NaN or infinity", 0)
    end
    if v == math.floor(v) and v >= -2^53 and v <= 2^53 then
      return string.format("%d", v)
    end
    return string.format("%.17g", v)
  elseif tv == "string" then return encode_string(v)
  elseif tv == "table" then return encode_table(v, depth)
  end
  error("minijson: cannot encode a " .. tv, 0)
end

--- encode a Lua value (objects get sorted keys)
-- syntax: s = minijson.encode(value)
function M.encode(v)
  return encode_value(v, 0)
end

-- decoder ---------------------------------------------------------------

local function utf8_char(cp)
  if cp < 0x80 then return string.char(cp)
  elseif cp < 0x800 then
    return string.char(0xC0 + math.floor(cp / 0x40), 0x80 + cp % 0x40)
  elseif cp < 0x10000 then
    return string.char(0xE0 + math.floor(cp / 0x1000),
      0x80 + math.floor(cp / 0x40) % 0x40, 0x80 + cp % 0x40)
  end
  return string.char(0xF0 + math.floor(cp / 0x40000),
    0x80 + math.floor(cp / 0x1000) % 0x40,
    0x80 + math.floor(cp / 0x40) % 0x40, 0x80 + cp % 0x40)
end

local unescapes = {
  ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f",
  n = "\n", r = "\r", t = "\t",
}

local function fail(s, pos, what)
  error(string.format("minijson: %s at byte %d", what, pos), 0)
end

local function skip(s, pos)
  return s:find("[^ \t\r\n]", pos) or #s + 1
end

local decode_value

local function decode_string(s, pos)
  local buf = {}
  local i = pos + 1
  while true do
    local j = s:find('["\\]', i)
    if not j then fail(s, pos, "unterminated string") end
    buf[#buf + 1] = s:sub(i, j - 1)
    if s:sub(j, j) == '"' then return table.concat(buf), j + 1 end
    local c = s:sub(j + 1, j + 1)
    if c == "u" then
      local hex = s:match("^%x%x%x%x", j + 2)
      if not hex then fail(s, j, "bad \\u escape") end
      local cp = tonumber(hex, 16)
      i = j + 6
      if cp >= 0xD800 and cp <= 0xDBFF then
        local lo = s:match("^\\u(%x%x%x%x)", i)
        local low = lo and tonumber(lo, 16)
        if low and low >= 0xDC00 and low <= 0xDFFF then
          cp = 0x10000 + (cp - 0xD800) * 0x400 + (low - 0xDC00)
          i = i + 6
        end
      end
      buf[#buf + 1] = utf8_char(cp)
    elseif unescapes[c] then
      buf[#buf + 1] = unescapes[c]
      i = j + 2
    else
      fail(s, j, "bad escape")
    end
  end
end

local function decode_number(s, pos)
  local num = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
  if not num then fail(s, pos, "bad number") end
  local v = tonumber(num)
  if not v then fail(s, pos, "bad number") end
  if math.type and not num:find("[.eE]") then
    v = math.tointeger(v) or v
  end
  return v, pos + #num
end

local function decode_array(s, pos, depth)
  local out = setmetatable({}, M.array_mt)
  pos = skip(s, pos + 1)
  if s:sub(pos, pos) == "]" then return out, pos + 1 end
  while true do
    local v
    v, pos = decode_value(s, pos, depth + 1)
    out[#out + 1] = v
    pos = skip(s, pos)
    local c = s:sub(pos, pos)
    if c == "]" then return out, pos + 1 end
    if c ~= "," then fail(s, pos, "expected ',' or ']'") end
    pos = pos + 1
  end
end

local function decode_object(s, pos, depth)
  local out = {}
  pos = skip(s, pos + 1)
  if s:sub(pos, pos) == "}" then return out, pos + 1 end
  while true do
    pos = skip(s, pos)
    if s:sub(pos, pos) ~= '"' then fail(s, pos, "expected a key") end
    local k
    k, pos = decode_string(s, pos)
    pos = skip(s, pos)
    if s:sub(pos, pos) ~= ":" then fail(s, pos, "expected ':'") end
    local v
    v, pos = decode_value(s, pos + 1, depth + 1)
    out[k] = v
    pos = skip(s, pos)
    local c = s:sub(pos, pos)
    if c == "}" then return out, pos + 1 end
    if c ~= "," then fail(s, pos, "expected ',' or '}'") end
    pos = pos + 1
  end
end

decode_value = function(s, pos, depth)
  if depth > 200 then fail(s, pos, "nesting too deep") end
  pos = skip(s, pos)
  local c = s:sub(pos, pos)
  if c == "{" then return decode_object(s, pos, depth)
  elseif c == "[" then return decode_array(s, pos, depth)
  elseif c == '"' then return decode_string(s, pos)
  elseif c == "-" or c:match("%d") then return decode_number(s, pos)
  elseif s:sub(pos, pos + 3) == "true" then return true, pos + 4
  elseif s:sub(pos, pos + 4) == "false" then return false, pos + 5
  elseif s:sub(pos, pos + 3) == "null" then return M.null, pos + 4
  end
  fail(s, pos, "unexpected character")
end

--- decode a JSON text; null becomes minijson.null, arrays get array_mt
-- syntax: value = minijson.decode(s)   -- or nil, msg
function M.decode(s)
  if type(s) ~= "string" then return nil, "minijson: not a string" end
  local ok, v, pos = pcall(decode_value, s, 1, 0)
  if not ok then return nil, v end
  if skip(s, pos) <= #s then return nil, "minijson: trailing data at byte " .. pos end
  return v
end

return M
