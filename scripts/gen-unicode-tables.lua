#!/usr/bin/env lua
--- Generates lua/socialpush/text/unicode.lua: the Unicode data socialpush.text needs
-- (NFC normalisation, general-category classes for the URL/hashtag grammar, emoji
-- properties, RGI flags), as compact flat arrays, so the library never reads a file at
-- run time.
--
-- Input: Debian's `unicode-data` package (apt-get install unicode-data), i.e.
--   /usr/share/unicode/UnicodeData.txt, CompositionExclusions.txt,
--   DerivedNormalizationProps.txt, emoji/emoji-data.txt, emoji/emoji-sequences.txt
-- usage: lua scripts/gen-unicode-tables.lua [UNICODE_DIR] [OUT_FILE]
-- Runs on lua5.1, 5.3, 5.4 and LuaJIT.
local UDIR = arg[1] or "/usr/share/unicode"
local OUT = arg[2] or "lua/socialpush/text/unicode.lua"

local function lines(path)
  local f = assert(io.open(path, "rb"), "cannot open " .. path .. " (apt-get install unicode-data)")
  local s = f:read("*a")
  f:close()
  local out = {}
  for l in s:gmatch("[^\n]*") do out[#out + 1] = l end
  return out
end

local function hex(s) return tonumber(s, 16) end

-- UnicodeData.txt -------------------------------------------------------------------
local gc, ccc, decomp = {}, {}, {}    -- gc/ccc by code point; decomp[cp] = {a, b}
local first_of_range
for _, l in ipairs(lines(UDIR .. "/UnicodeData.txt")) do
  if l ~= "" then
    local f = {}
    for field in (l .. ";"):gmatch("([^;]*);") do f[#f + 1] = field end
    local cp, name, cat, cls, dm = hex(f[1]), f[2], f[3], tonumber(f[4]), f[6]
    if name:find(", First>$") then
      first_of_range = cp
    else
      local lo = cp
      if name:find(", Last>$") then lo = first_of_range end
      for c = lo, cp do
        gc[c] = cat
        if cls ~= 0 then ccc[c] = cls end
      end
      if dm ~= "" and not dm:find("^<") then
        local parts = {}
        for h in dm:gmatch("%x+") do parts[#parts + 1] = hex(h) end
        assert(#parts == 1 or #parts == 2, "canonical decomposition longer than 2: " .. f[1])
        decomp[cp] = parts
      end
    end
  end
end

local exclusions = {}
for _, l in ipairs(lines(UDIR .. "/CompositionExclusions.txt")) do
  local h = l:match("^(%x+)%s")
  if h then exclusions[#exclusions + 1] = hex(h) end
end
table.sort(exclusions)

local function version_of(path, pat)
  for _, l in ipairs(lines(path)) do
    local v = l:match(pat)
    if v then return v end
  end
  error("no version in " .. path)
end
local ucd_version = version_of(UDIR .. "/DerivedNormalizationProps.txt",
  "DerivedNormalizationProps%-([%d%.]+)%.txt")

-- emoji -----------------------------------------------------------------------------
local function prop_ranges(path, prop)
  local set = {}
  for _, l in ipairs(lines(path)) do
    local a, b, p = l:match("^(%x+)%.%.(%x+)%s*;%s*([%w_]+)")
    if not a then
      a, p = l:match("^(%x+)%s*;%s*([%w_]+)")
      b = a
    end
    if a and p == prop then
      for c = hex(a), hex(b) do set[c] = true end
    end
  end
  return set
end
local emoji_data = UDIR .. "/emoji/emoji-data.txt"
local emoji_version = version_of(emoji_data, "Emoji Version ([%d%.]+)")
local ext_pict = prop_ranges(emoji_data, "Extended_Pictographic")
local emb = prop_ranges(emoji_data, "Emoji_Modifier_Base")

local flags = {}
for _, l in ipairs(lines(UDIR .. "/emoji/emoji-sequences.txt")) do
  local a, b = l:match("^(%x+) (%x+)%s*;%s*RGI_Emoji_Flag_Sequence")
  if a then
    flags[#flags + 1] = string.char(hex(a) - 0x1F1E6 + 65, hex(b) - 0x1F1E6 + 65)
  end
end
table.sort(flags)

-- range builders ----------------------------------------------------------------------
local MAXCP = 0x10FFFF

local function ranges_of(pred)
  local out, start = {}, nil
  for c = 0, MAXCP + 1 do
    local yes = c <= MAXCP and pred(c)
    if yes and not start then start = c end
    if not yes and start then
      out[#out + 1] = start
      out[#out + 1] = c - 1
      start = nil
    end
  end
  return out
end

local function class_ranges()   -- start, end, class triples for ccc ~= 0
  local out, start, cur = {}, nil, 0
  for c = 0, MAXCP + 1 do
    local v = (c <= MAXCP and ccc[c]) or 0
    if v ~= cur then
      if cur ~= 0 then
        out[#out + 1] = start
        out[#out + 1] = c - 1
        out[#out + 1] = cur
      end
      start, cur = c, v
    end
  end
  return out
end

local function cat_in(prefixes)
  return function(c)
    local g = gc[c]
    if not g then return false end
    for _, p in ipairs(prefixes) do
      if g == p or g:sub(1, 1) == p then return true end
    end
    return false
  end
end

-- writer ------------------------------------------------------------------------------
local buf = {}
local function w(s) buf[#buf + 1] = s end

local function numbers(name, list, comment)
  w("  -- " .. comment .. "\n")
  w("  " .. name .. " = {\n")
  local line = "   "
  for i = 1, #list do
    local item = " " .. tostring(list[i]) .. ","
    if #line + #item > 99 then
      w(line .. "\n")
      line = "   "
    end
    line = line .. item
  end
  if line ~= "   " then w(line .. "\n") end
  w("  },\n")
end

local dflat = {}
local dcps = {}
for cp in pairs(decomp) do dcps[#dcps + 1] = cp end
table.sort(dcps)
for _, cp in ipairs(dcps) do
  local d = decomp[cp]
  dflat[#dflat + 1] = cp
  dflat[#dflat + 1] = d[1]
  dflat[#dflat + 1] = d[2] or 0
end

w("--- Unicode data for socialpush.text. GENERATED by scripts/gen-unicode-tables.lua from\n")
w("-- Debian's unicode-data package (UCD " .. ucd_version .. ", emoji " .. emoji_version .. "). Do not edit.\n")
w("-- Flat arrays: decomp = {cp, first, second_or_0, ...} (canonical, one level);\n")
w("-- ccc = {start, end, class, ...}; the others are {start, end, ...} ranges.\n")
w("return {\n")
w(string.format("  ucd_version = %q,\n  emoji_version = %q,\n", ucd_version, emoji_version))
numbers("decomp", dflat, "canonical decomposition mappings (UnicodeData.txt field 5)")
numbers("exclusions", exclusions, "CompositionExclusions.txt (script-specific and post-composition)")
numbers("ccc", class_ranges(), "Canonical_Combining_Class ~= 0")
numbers("letter_mark", ranges_of(cat_in { "L", "M" }), "General_Category L* and M*")
numbers("digit", ranges_of(cat_in { "Nd" }), "General_Category Nd")
numbers("punct", ranges_of(cat_in { "P" }), "General_Category P*")
numbers("ext_pict", ranges_of(function(c) return ext_pict[c] end), "Extended_Pictographic")
numbers("emoji_modifier_base", ranges_of(function(c) return emb[c] end), "Emoji_Modifier_Base")
w("  -- RGI_Emoji_Flag_Sequence (emoji-sequences.txt), as region letter pairs\n")
w("  flags = \"\"\n")
for k = 1, #flags, 40 do
  w("    .. \"" .. table.concat(flags, "", k, math.min(k + 39, #flags)) .. "\"\n")
end
w("  ,\n")
w("}\n")

local f = assert(io.open(OUT, "wb"))
f:write(table.concat(buf))
f:close()
io.stderr:write(string.format("wrote %s: %d decompositions, %d flags (UCD %s, emoji %s)\n",
  OUT, #dcps, #flags, ucd_version, emoji_version))
