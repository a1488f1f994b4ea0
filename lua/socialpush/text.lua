--- socialpush.text: X (Twitter) text rules, as twitter-text v3 counts them.
-- syntax: n, details = text.twitter_length(s [, config])
-- syntax: ok, msg, err = text.twitter_valid(s [, max])
-- syntax: urls, msg, err = text.extract_urls(s)
-- The weighted length is what X compares with 280: the text is NFC-normalised, each code
-- point weighs 1 in the light ranges (U+0000-U+10FF, U+2000-U+200D, U+2010-U+201F,
-- U+2032-U+2037) and 2 elsewhere, every emoji sequence weighs 2 once, and every URL
-- (with or without a scheme) weighs 23. See docs/text.md.
-- The parser and the Unicode tables load on first use, so requiring this is cheap.
local floor = math.floor

local M = {}

local function range(first, last, weight) return { first = first, last = last, weight = weight } end

--- twitter-text config/v3.json (the one X uses for posts).
M.config_v3 = {
  version = 3, max_weighted_tweet_length = 280, scale = 100, default_weight = 200,
  transformed_url_length = 23, emoji_parsing_enabled = true,
  ranges = { range(0, 4351, 100), range(8192, 8205, 100), range(8208, 8223, 100),
    range(8242, 8247, 100) },
}

--- twitter-text config/v2.json: v3 without emoji parsing (each code point of an emoji
-- sequence weighs on its own).
M.config_v2 = {
  version = 2, max_weighted_tweet_length = 280, scale = 100, default_weight = 200,
  transformed_url_length = 23, emoji_parsing_enabled = false,
  ranges = M.config_v3.ranges,
}

local ucd, grammar   -- loaded on first call

local function load()
  if not grammar then
    ucd = require "socialpush.text.ucd"
    grammar = require "socialpush.text.grammar"
  end
end

local function fail(op, message)
  local errors = require "socialpush.errors"
  return errors.fail { kind = "invalid_argument", field = "message", operation = op,
    message = op .. ": " .. message }
end

local function check_config(op, cfg)
  if cfg == nil then return M.config_v3 end
  if type(cfg) ~= "table" then
    error(op .. ": config must be a table, got " .. type(cfg), 3)
  end
  for _, k in ipairs { "max_weighted_tweet_length", "scale", "default_weight",
      "transformed_url_length" } do
    if type(cfg[k]) ~= "number" then error(op .. ": config." .. k .. " must be a number", 3) end
  end
  if type(cfg.ranges) ~= "table" then error(op .. ": config.ranges must be a table", 3) end
  return cfg
end

local function weight_of(c, cfg)
  local ranges = cfg.ranges
  for k = 1, #ranges do
    local r = ranges[k]
    if c >= r.first and c <= r.last then return r.weight end
  end
  return cfg.default_weight
end

local function is_invalid(c) return c == 0xFFFE or c == 0xFEFF or c == 0xFFFF end

-- Decode and normalise s; returns cps, n, original UTF-16 length, or nil, msg, err.
local function prepare(op, s)
  load()
  local cps, n = ucd.decode_utf8(s)
  if not cps then
    return fail(op, "message is not valid UTF-8 (byte " .. n .. ")")
  end
  local len16 = n
  for k = 1, n do
    if cps[k] >= 0x10000 then len16 = len16 + 1 end
  end
  if #s ~= n then cps, n = ucd.nfc(cps, n) end   -- pure ASCII is already NFC
  return cps, n, len16
end

-- The twitter-text parse (its TextMetrics): weights, validity and UTF-16 ranges.
local function measure(cps, n, len16, cfg)
  grammar.begin(cps, n)
  local urls = grammar.urls()
  local max_units = cfg.max_weighted_tweet_length * cfg.scale
  local weighted, offset, valid_offset = 0, 0, 0
  local ok, bad = true, nil
  local function add_offset(k)
    offset = offset + k
    if ok and weighted <= max_units then valid_offset = valid_offset + k end
  end
  local u, i = 1, 1
  while i <= n do
    local url = urls[u]
    if url and url[1] == i then
      weighted = weighted + cfg.transformed_url_length * cfg.scale
      add_offset(url[2] - url[1] + 1)     -- twitter-text counts code points here
      i = url[2] + 1
      u = u + 1
    else
      local e = cfg.emoji_parsing_enabled and grammar.emoji_end(i)
      if e and e - i > 1 then
        weighted = weighted + cfg.default_weight
        for k = i, e - 1 do add_offset(cps[k] >= 0x10000 and 2 or 1) end
        i = e
      else
        local c = cps[i]
        if ok and is_invalid(c) then ok, bad = false, c end
        weighted = weighted + weight_of(c, cfg)
        add_offset(c >= 0x10000 and 2 or 1)
        i = i + 1
      end
    end
  end
  local length = floor(weighted / cfg.scale)
  local max = cfg.max_weighted_tweet_length
  local shift = len16 - offset                       -- what NFC changed, in UTF-16 units
  return length, {
    weighted_length = length,
    valid = ok and length <= max,
    permillage = floor(length * 1000 / max),
    display_range_start = 0,
    display_range_end = offset + shift - 1,
    valid_range_start = 0,
    valid_range_end = valid_offset + shift - 1,
  }, bad, urls
end

local function empty_details()
  return { weighted_length = 0, valid = false, permillage = 0, display_range_start = 0,
    display_range_end = 0, valid_range_start = 0, valid_range_end = 0 }
end

--- Weighted length of s as X counts it (twitter-text v3 "weightedLength"), and details:
-- {weighted_length, valid (1..280 and no U+FFFE/U+FEFF/U+FFFF), permillage,
--  display_range_start/end, valid_range_start/end (UTF-16 indices, inclusive)}.
-- Invalid UTF-8 returns nil, msg, err (invalid_argument, field "message").
-- syntax: n, details = text.twitter_length(s [, config])
function M.twitter_length(s, config)
  local op = "text.twitter_length"
  if type(s) ~= "string" then error(op .. ": string expected, got " .. type(s), 2) end
  local cfg = check_config(op, config)
  local cps, n, len16 = prepare(op, s)
  if not cps then return nil, n, len16 end
  if n == 0 then return 0, empty_details() end
  local length, details = measure(cps, n, len16, cfg)
  return length, details
end

--- true when X accepts s as post text: not empty, weighted length at most max (default
-- 280) and no invalid character; else nil, msg, err (invalid_argument, field "message").
-- syntax: ok, msg, err = text.twitter_valid(s [, max])
function M.twitter_valid(s, max)
  local op = "text.twitter_valid"
  if type(s) ~= "string" then error(op .. ": string expected, got " .. type(s), 2) end
  if max ~= nil and (type(max) ~= "number" or max < 1 or max ~= floor(max)) then
    error(op .. ": max must be a positive integer", 2)
  end
  local cfg = M.config_v3
  if max then
    cfg = {}
    for k, v in pairs(M.config_v3) do cfg[k] = v end
    cfg.max_weighted_tweet_length = max
  end
  local cps, n, len16 = prepare(op, s)
  if not cps then return nil, n, len16 end
  if n == 0 then return fail(op, "message is empty") end
  local length, _, bad = measure(cps, n, len16, cfg)
  if bad then
    return fail(op, string.format("message contains a character X rejects (U+%04X)", bad))
  end
  if length > cfg.max_weighted_tweet_length then
    return fail(op, string.format("message is too long (%d weighted characters, at most %d)",
      length, cfg.max_weighted_tweet_length))
  end
  return true
end

--- The URLs X counts as 23 characters each, as strings of the NFC-normalised text.
-- syntax: urls, msg, err = text.extract_urls(s)
function M.extract_urls(s)
  local op = "text.extract_urls"
  if type(s) ~= "string" then error(op .. ": string expected, got " .. type(s), 2) end
  local cps, n, err = prepare(op, s)
  if not cps then return nil, n, err end
  local out = {}
  if n == 0 then return out end
  grammar.begin(cps, n)
  for _, u in ipairs(grammar.urls()) do
    out[#out + 1] = ucd.encode_utf8(cps, u[1], u[2])
  end
  return out
end

return M
