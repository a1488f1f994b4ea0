--- socialpush.text.idna: Punycode (RFC 3492) and the part of UTS #46 ToASCII that
-- twitter-text uses to validate URL hosts (transitional processing, VerifyDnsLength).
-- Private to socialpush.text. Works on code point arrays; arithmetic only.
local floor = math.floor
local char, concat = string.char, table.concat

local M = {}

local BASE, TMIN, TMAX, SKEW, DAMP = 36, 1, 26, 38, 700
local INITIAL_BIAS, INITIAL_N = 72, 128
local MAXINT = 2147483647

local function adapt(delta, numpoints, first)
  if first then delta = floor(delta / DAMP) else delta = floor(delta / 2) end
  delta = delta + floor(delta / numpoints)
  local k = 0
  while delta > floor(((BASE - TMIN) * TMAX) / 2) do
    delta = floor(delta / (BASE - TMIN))
    k = k + BASE
  end
  return k + floor(((BASE - TMIN + 1) * delta) / (delta + SKEW))
end

local function threshold(k, bias)
  if k <= bias then return TMIN end
  if k >= bias + TMAX then return TMAX end
  return k - bias
end

local function digit_char(d)   -- 0..25 -> a..z, 26..35 -> 0..9
  if d < 26 then return char(97 + d) end
  return char(22 + d)
end

--- Punycode-encode the code points cps[i..j] (no "xn--" prefix).
-- syntax: s = idna.punycode_encode(cps, i, j)
function M.punycode_encode(cps, i, j)
  local out = {}
  local b = 0
  for k = i, j do
    if cps[k] < 128 then
      out[#out + 1] = char(cps[k])
      b = b + 1
    end
  end
  local h = b
  if b > 0 then out[#out + 1] = "-" end
  local total = j - i + 1
  local n, delta, bias = INITIAL_N, 0, INITIAL_BIAS
  while h < total do
    local m = MAXINT
    for k = i, j do
      local c = cps[k]
      if c >= n and c < m then m = c end
    end
    delta = delta + (m - n) * (h + 1)
    n = m
    for k = i, j do
      local c = cps[k]
      if c < n then delta = delta + 1 end
      if c == n then
        local q, kk = delta, BASE
        while true do
          local t = threshold(kk, bias)
          if q < t then break end
          out[#out + 1] = digit_char(t + (q - t) % (BASE - t))
          q = floor((q - t) / (BASE - t))
          kk = kk + BASE
        end
        out[#out + 1] = digit_char(q)
        bias = adapt(delta, h + 1, h == b)
        delta = 0
        h = h + 1
      end
    end
    delta = delta + 1
    n = n + 1
  end
  return concat(out)
end

local function digit_value(c)
  if c >= 48 and c <= 57 then return c - 22 end       -- 0..9 -> 26..35
  if c >= 65 and c <= 90 then return c - 65 end
  if c >= 97 and c <= 122 then return c - 97 end
  return nil
end

--- Decode a Punycode label body (bytes, no "xn--"); returns an array of code points or nil.
-- syntax: cps = idna.punycode_decode(s)
function M.punycode_decode(s)
  local out = {}
  local len = #s
  local basic_end = 0
  for k = len, 1, -1 do
    if s:byte(k) == 45 then basic_end = k; break end
  end
  for k = 1, basic_end - 1 do
    local c = s:byte(k)
    if c >= 128 then return nil end
    out[#out + 1] = c
  end
  local n, i, bias = INITIAL_N, 0, INITIAL_BIAS
  local pos = basic_end + 1
  while pos <= len do
    local oldi, w, k = i, 1, BASE
    while true do
      if pos > len then return nil end
      local d = digit_value(s:byte(pos))
      if not d then return nil end
      pos = pos + 1
      i = i + d * w
      if i > MAXINT then return nil end
      local t = threshold(k, bias)
      if d < t then break end
      w = w * (BASE - t)
      k = k + BASE
    end
    local count = #out + 1
    bias = adapt(i - oldi, count, oldi == 0)
    n = n + floor(i / count)
    i = i % count
    if n > 0x10FFFF or (n >= 0xD800 and n <= 0xDFFF) then return nil end
    table.insert(out, i + 1, n)
    i = i + 1
  end
  return out
end

local function is_mark_start(c, ucd)
  return c >= 0x300 and ucd.ccc(c) ~= 0
end

--- Length in bytes of the ASCII (ToASCII) form of the host cps[i..j], or nil when ToASCII
-- fails (bad Punycode label, label starting or ending with "-", or with a combining mark)
-- or the result breaks DNS length limits (a label of 0 or more than 63 bytes, a name of
-- more than 253). Approximations: ASCII is lower-cased but other characters are not
-- mapped (UTS #46 mapping table), and Bidi and ContextJ rules are not checked.
-- syntax: n = idna.ascii_length(cps, i, j, ucd)
function M.ascii_length(cps, i, j, ucd)
  if cps[j] == 46 then j = j - 1 end          -- one trailing dot is allowed
  local total, labels = 0, 0
  local s = i
  while s <= j + 1 do
    local e = s
    while e <= j and cps[e] ~= 46 do e = e + 1 end
    local n, ascii = e - s, true
    for k = s, e - 1 do
      if cps[k] >= 128 then ascii = false; break end
    end
    if n == 0 then return nil end
    if ascii then
      local lower = {}
      for k = s, e - 1 do
        local c = cps[k]
        if c >= 65 and c <= 90 then c = c + 32 end
        lower[#lower + 1] = char(c)
      end
      local label = concat(lower)
      if label:sub(1, 4) == "xn--" then
        local dec = M.punycode_decode(label:sub(5))
        if not dec or #dec == 0 then return nil end
        for _, c in ipairs(dec) do
          if c >= 65 and c <= 90 then return nil end      -- would have been mapped
        end
        if dec[1] == 45 or dec[#dec] == 45 or is_mark_start(dec[1], ucd) then return nil end
      elseif label:sub(1, 1) == "-" or label:sub(-1) == "-" then
        return nil
      end
    else
      -- Punycode spends at least one byte per code point: longer labels cannot fit (and
      -- the encoder is quadratic in the label length)
      if n > 59 then return nil end
      if cps[s] == 45 or cps[e - 1] == 45 or is_mark_start(cps[s], ucd) then return nil end
      n = 4 + #M.punycode_encode(cps, s, e - 1)
    end
    if n > 63 then return nil end
    total = total + n
    labels = labels + 1
    s = e + 1
  end
  total = total + labels - 1
  if total > 253 then return nil end
  return total
end

return M
