--- socialpush.text.ucd: lookups over the generated Unicode tables (socialpush.text.unicode),
-- built on first use. Private to socialpush.text.
-- Everything here takes and returns code points (integers); no bit operators, no utf8
-- library, so it runs on Lua 5.1 to 5.4 and LuaJIT.
local floor = math.floor

local M = {}

local U            -- the generated data module, loaded by load()
local CCC          -- cp -> canonical combining class (only non-zero entries)
local DECOMP       -- cp -> {a} or {a, b}
local COMPOSE      -- a -> {b -> composite}
local UNSTABLE     -- cp -> true when a text holding it may change under NFC
local FLAGS        -- "AC" .. -> true (RGI flag region pairs)

-- Hangul syllable composition constants (Unicode 15, section 3.12)
local SBASE, LBASE, VBASE, TBASE = 0xAC00, 0x1100, 0x1161, 0x11A7
local LCOUNT, VCOUNT, TCOUNT = 19, 21, 28
local NCOUNT = VCOUNT * TCOUNT
local SCOUNT = LCOUNT * NCOUNT

local function load()
  if U then return end
  U = require "socialpush.text.unicode"
  CCC, DECOMP, COMPOSE, UNSTABLE, FLAGS = {}, {}, {}, {}, {}
  local r = U.ccc
  for k = 1, #r, 3 do
    for c = r[k], r[k + 1] do
      CCC[c] = r[k + 2]
      UNSTABLE[c] = true
    end
  end
  local excluded = {}
  for _, c in ipairs(U.exclusions) do excluded[c] = true end
  local d = U.decomp
  for k = 1, #d, 3 do
    local cp, a, b = d[k], d[k + 1], d[k + 2]
    if b == 0 then
      DECOMP[cp] = { a }
      UNSTABLE[cp] = true          -- singleton: never recomposed (Full_Composition_Exclusion)
    else
      DECOMP[cp] = { a, b }
      if excluded[cp] or CCC[cp] or CCC[a] then
        UNSTABLE[cp] = true        -- excluded or non-starter decomposition
      else
        local t = COMPOSE[a]
        if not t then t = {}; COMPOSE[a] = t end
        t[b] = cp
        UNSTABLE[b] = true         -- may combine with what precedes it (NFC_QC=Maybe)
      end
    end
  end
  for c = VBASE, VBASE + VCOUNT - 1 do UNSTABLE[c] = true end
  for c = TBASE + 1, TBASE + TCOUNT - 1 do UNSTABLE[c] = true end
  local f = U.flags
  for k = 1, #f, 2 do FLAGS[f:sub(k, k + 1)] = true end
end
-- one-shot table building: LuaJIT's trace compiler costs more than it saves here
if jit and jit.off then jit.off(load, true) end
M.load = load

--- Binary search in a flat {start, end, ...} range array.
local function in_ranges(r, c)
  local lo, hi = 1, #r / 2
  while lo <= hi do
    local mid = floor((lo + hi) / 2)
    local s = r[2 * mid - 1]
    if c < s then
      hi = mid - 1
    elseif c > r[2 * mid] then
      lo = mid + 1
    else
      return true
    end
  end
  return false
end

-- General categories (non-ASCII only; callers handle ASCII themselves) ------------------

function M.is_letter_mark(c) load(); return in_ranges(U.letter_mark, c) end
function M.is_digit(c) load(); return in_ranges(U.digit, c) end
function M.is_punct(c) load(); return in_ranges(U.punct, c) end
function M.ccc(c) load(); return CCC[c] or 0 end

-- Emoji ----------------------------------------------------------------------------------

function M.is_ext_pict(c) load(); return in_ranges(U.ext_pict, c) end
function M.is_modifier_base(c) load(); return in_ranges(U.emoji_modifier_base, c) end

--- Whether two regional indicators form an RGI flag.
function M.is_flag(a, b)
  load()
  return FLAGS[string.char(a - 0x1F1E6 + 65, b - 0x1F1E6 + 65)] == true
end

-- NFC ------------------------------------------------------------------------------------

local function decompose(c, out, n)
  if c >= SBASE and c < SBASE + SCOUNT then
    local s = c - SBASE
    out[n + 1] = LBASE + floor(s / NCOUNT)
    out[n + 2] = VBASE + floor((s % NCOUNT) / TCOUNT)
    n = n + 2
    local t = s % TCOUNT
    if t ~= 0 then
      n = n + 1
      out[n] = TBASE + t
    end
    return n
  end
  local d = DECOMP[c]
  if not d then
    out[n + 1] = c
    return n + 1
  end
  n = decompose(d[1], out, n)
  if d[2] then n = decompose(d[2], out, n) end
  return n
end

local function compose_pair(a, b)
  if a >= LBASE and a < LBASE + LCOUNT and b >= VBASE and b < VBASE + VCOUNT then
    return SBASE + ((a - LBASE) * VCOUNT + (b - VBASE)) * TCOUNT
  end
  if a >= SBASE and a < SBASE + SCOUNT and (a - SBASE) % TCOUNT == 0
      and b > TBASE and b < TBASE + TCOUNT then
    return a + (b - TBASE)
  end
  local t = COMPOSE[a]
  return t and t[b]
end

-- stable sort of d[i..j] (all non-starters) by combining class: insertion sort for the
-- usual short runs, a decorated table.sort for long ones (Zalgo text)
local function reorder(d, i, j)
  if j - i < 16 then
    for k = i + 1, j do
      local c = d[k]
      local cc = CCC[c]
      local m = k - 1
      while m >= i and CCC[d[m]] > cc do
        d[m + 1] = d[m]
        m = m - 1
      end
      d[m + 1] = c
    end
    return
  end
  local t = {}
  for k = i, j do t[#t + 1] = { CCC[d[k]], k, d[k] } end
  table.sort(t, function(a, b)
    if a[1] ~= b[1] then return a[1] < b[1] end
    return a[2] < b[2]
  end)
  for k = 1, #t do d[i + k - 1] = t[k][3] end
end

--- NFC of the code points cps[1..n]. Returns cps itself (unchanged) when the text is
-- already stable under NFC, else a new array; second value is the new count.
function M.nfc(cps, n)
  load()
  local needed = false
  for i = 1, n do
    if UNSTABLE[cps[i]] then needed = true; break end
  end
  if not needed then return cps, n end
  -- 1. full canonical decomposition
  local d, m = {}, 0
  for i = 1, n do m = decompose(cps[i], d, m) end
  -- 2. canonical ordering: stable sort by combining class inside each run of non-starters
  local run = 1
  while run <= m do
    if CCC[d[run]] then
      local j = run
      while j < m and CCC[d[j + 1]] do j = j + 1 end
      if j > run then reorder(d, run, j) end
      run = j + 1
    else
      run = run + 1
    end
  end
  -- 3. canonical composition (UAX #15 sample algorithm)
  local starter_pos = 1
  local starter = d[1]
  local last_class = CCC[starter] or 0
  if last_class ~= 0 then last_class = 256 end   -- no starter yet: block everything
  local w = 2
  for i = 2, m do
    local c = d[i]
    local cc = CCC[c] or 0
    local comp = compose_pair(starter, c)
    if comp and (last_class < cc or last_class == 0) then
      d[starter_pos] = comp
      starter = comp
    else
      if cc == 0 then
        starter_pos = w
        starter = c
      end
      last_class = cc
      d[w] = c
      w = w + 1
    end
  end
  for i = w, m do d[i] = nil end
  return d, w - 1
end

-- UTF-8 ------------------------------------------------------------------------------------

local byte = string.byte

--- Strict UTF-8 decoding (no overlongs, surrogates or values above U+10FFFF).
-- Returns an array of code points and its length, or nil and the offending byte offset.
-- syntax: cps, n = ucd.decode_utf8(s)
function M.decode_utf8(s)
  local cps, n = {}, 0
  local i, len = 1, #s
  if not s:find("[\128-\255]") then
    for k = 1, len do cps[k] = byte(s, k) end
    return cps, len
  end
  while i <= len do
    local c = byte(s, i)
    local cp, size, lo, hi
    if c < 0x80 then
      cp, size = c, 1
    elseif c >= 0xC2 and c <= 0xDF then
      cp, size, lo, hi = c - 0xC0, 2, 0x80, 0xBF
    elseif c >= 0xE0 and c <= 0xEF then
      cp, size, lo, hi = c - 0xE0, 3, 0x80, 0xBF
      if c == 0xE0 then lo = 0xA0 elseif c == 0xED then hi = 0x9F end
    elseif c >= 0xF0 and c <= 0xF4 then
      cp, size, lo, hi = c - 0xF0, 4, 0x80, 0xBF
      if c == 0xF0 then lo = 0x90 elseif c == 0xF4 then hi = 0x8F end
    else
      return nil, i
    end
    for k = 1, size - 1 do
      local b = byte(s, i + k)
      if not b or b < lo or b > hi then return nil, i end
      lo, hi = 0x80, 0xBF
      cp = cp * 64 + (b - 0x80)
    end
    n = n + 1
    cps[n] = cp
    i = i + size
  end
  return cps, n
end

local char = string.char

--- UTF-8 encoding of cps[i..j].
-- syntax: s = ucd.encode_utf8(cps, i, j)
function M.encode_utf8(cps, i, j)
  local out = {}
  for k = i, j do
    local c = cps[k]
    if c < 0x80 then
      out[#out + 1] = char(c)
    elseif c < 0x800 then
      out[#out + 1] = char(0xC0 + floor(c / 64), 0x80 + c % 64)
    elseif c < 0x10000 then
      out[#out + 1] = char(0xE0 + floor(c / 4096), 0x80 + floor(c / 64) % 64, 0x80 + c % 64)
    else
      out[#out + 1] = char(0xF0 + floor(c / 262144), 0x80 + floor(c / 4096) % 64,
        0x80 + floor(c / 64) % 64, 0x80 + c % 64)
    end
  end
  return table.concat(out)
end

--- Number of UTF-8 bytes of the code point c.
function M.utf8_size(c)
  if c < 0x80 then return 1 elseif c < 0x800 then return 2 elseif c < 0x10000 then return 3 end
  return 4
end

return M
