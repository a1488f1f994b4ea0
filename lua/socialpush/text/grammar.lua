--- socialpush.text.grammar: finds the URLs X counts as 23 characters, the way
-- twitter-text's parser does (twitter/twitter-text parser/src/twitter_text.pest, commit
-- 3b8031c80efe49f16fd282a55e28eb23aef2ad85): a left-to-right scan that tries, at each
-- position, a URL, then a hashtag, a mention and a cashtag (those only consume text, so
-- that no URL starts inside them), then one character or emoji sequence.
-- Each rule below is a hand translation of the PEG rule of the same name: ordered
-- choice, greedy repetition, no backtracking into a repetition. Results are memoised
-- per position, and the mutually recursive domain rules are evaluated right to left
-- over a domain-shaped region first, so recursion depth stays constant.
-- Private to socialpush.text: begin(cps, n) sets the text, then urls() and emoji_end(i).
local ucd = require "socialpush.text.ucd"
local idna = require "socialpush.text.idna"

local M = {}

-- the text being scanned and the per-text memo tables (reset by begin())
local C, N
local m_emoji, m_dc, m_udc, m_tld, m_sl, m_sub, m_longer, m_usl, m_usub, m_ulonger, m_paren
local region, uregion, low, ulow

-- character classes ----------------------------------------------------------------------

local function set_of(s)
  local t = {}
  for k = 1, #s do t[s:byte(k)] = true end
  return t
end

local PUNCT_CHAR = set_of("-_!\"#$%&'()*+,./\\:;<=>?@[]^`{|}~")
local PATH_PUNCT = set_of("!*';:,.$%[]~|&@")
PATH_PUNCT[0x2013] = true
local QUERY_PUNCT = set_of("!?*'();:$%[].,~|@")
local QUERY_END = set_of("-_&=/+")
local USER_INVALID_PREFIX = set_of("!#$%&*")
local SUB_DELIMS = set_of("!$&'()*+,;=")
local HASHTAG_SPECIAL = {
  [0x5F] = true, [0x200C] = true, [0x200D] = true, [0xA67E] = true, [0x05BE] = true,
  [0x05F3] = true, [0x05F4] = true, [0xFF5E] = true, [0x301C] = true, [0x309B] = true,
  [0x309C] = true, [0x30A0] = true, [0x30FB] = true, [0x3003] = true, [0x0F0B] = true,
  [0x0F0C] = true, [0x00B7] = true,
}
local SPACE = {
  [0x20] = true, [0x85] = true, [0xA0] = true, [0x1680] = true, [0x180E] = true,
  [0x2028] = true, [0x2029] = true, [0x202F] = true, [0x205F] = true, [0x3000] = true,
}
for c = 9, 13 do SPACE[c] = true end
for c = 0x2000, 0x200A do SPACE[c] = true end

local AT, FULL_AT, HASH, FULL_HASH, DOLLAR = 0x40, 0xFF20, 0x23, 0xFF03, 0x24
local DOT, DASH, UNDERSCORE, SLASH, COLON = 0x2E, 0x2D, 0x5F, 0x2F, 0x3A
local ZWJ, VS15, VS16, KEYCAP = 0x200D, 0xFE0E, 0xFE0F, 0x20E3

local function invalid(c) return c == 0xFFFE or c == 0xFEFF or c == 0xFFFF end
local function alpha(c) return c ~= nil and ((c >= 65 and c <= 90) or (c >= 97 and c <= 122)) end
local function digit(c) return c ~= nil and c >= 48 and c <= 57 end
local function alnum(c) return alpha(c) or digit(c) end
local function hexd(c)
  return digit(c) or (c ~= nil and ((c >= 65 and c <= 70) or (c >= 97 and c <= 102)))
end
local function cyrillic(c) return c ~= nil and c >= 0x400 and c <= 0x4FF end
local function latin_accent(c)
  return c ~= nil and c >= 0xC0 and (c <= 0xD6 or (c >= 0xD8 and c <= 0xF6)
    or (c >= 0xF8 and c <= 0x24F) or c == 0x253 or c == 0x254 or c == 0x256 or c == 0x257
    or c == 0x259 or c == 0x25B or c == 0x263 or c == 0x268 or c == 0x26F or c == 0x272
    or c == 0x289 or c == 0x28B or c == 0x2BB or (c >= 0x300 and c <= 0x36F)
    or (c >= 0x1E00 and c <= 0x1EFF))
end
local function letter_mark(c)
  if c == nil then return false end
  if c < 128 then return alpha(c) end
  return ucd.is_letter_mark(c)
end
local function decimal(c)
  if c == nil then return false end
  if c < 128 then return digit(c) end
  return ucd.is_digit(c)
end
local function user_char(c) return alnum(c) or c == UNDERSCORE end
local function is_at(c) return c == AT or c == FULL_AT end
local function is_hash(c) return c == HASH or c == FULL_HASH end

-- emoji ------------------------------------------------------------------------------------
-- UTS #51 sequences: keycap, RGI flag, and elements (Extended_Pictographic base with
-- U+FE0F or a skin tone, or a tag sequence) joined by ZWJ. Each counts once.

local function is_ri(c) return c ~= nil and c >= 0x1F1E6 and c <= 0x1F1FF end
local function is_modifier(c) return c ~= nil and c >= 0x1F3FB and c <= 0x1F3FF end
local function is_tag(c) return c ~= nil and c >= 0xE0020 and c <= 0xE007E end

local function element_end(i)
  local c = C[i]
  if c == nil or c < 0xA9 or not ucd.is_ext_pict(c) then return nil end
  local j = i + 1
  local d = C[j]
  if d == VS16 then
    j = j + 1
  elseif is_modifier(d) and ucd.is_modifier_base(c) then
    j = j + 1
  end
  if is_tag(C[j]) then
    local k = j
    while is_tag(C[k]) do k = k + 1 end
    if C[k] == 0xE007F then j = k + 1 end
  end
  return j
end

local function emoji_at(i)
  local c = C[i]
  if c == nil then return nil end
  if c < 0xA9 then
    if digit(c) or c == HASH or c == 0x2A then
      local j = i + 1
      if C[j] == VS16 then j = j + 1 end
      if C[j] == KEYCAP then return j + 1 end
    end
    return nil
  end
  if is_ri(c) then
    if is_ri(C[i + 1]) and ucd.is_flag(c, C[i + 1]) then return i + 2 end
    return i + 1
  end
  local j = element_end(i)
  if not j then return nil end
  local starts = nil
  while C[j] == ZWJ do
    local k = element_end(j + 1)
    if not k then break end
    starts = starts or {}
    starts[#starts + 1] = j + 1
    j = k
  end
  if starts then    -- a chain ends at the same place from each of its elements
    for _, s in ipairs(starts) do m_emoji[s] = j end
  end
  return j
end

--- End (exclusive) of the emoji sequence starting at i in the current text, or nil.
local function emoji_end(i)
  local v = m_emoji[i]
  if v == nil then
    v = emoji_at(i) or false
    m_emoji[i] = v
  end
  return v or nil
end
M.emoji_end = function(i) return emoji_end(i) end

-- text = !invalid_char ~ (emoji | ANY)
local function text_end(i)
  local c = C[i]
  if c == nil or invalid(c) then return nil end
  return emoji_end(i) or i + 1
end

-- non_punctuation = !(punctuation_char | space | PUNCTUATION) ~ text
local function np_end(i)
  local c = C[i]
  if c == nil or SPACE[c] then return nil end
  if c < 128 then
    if PUNCT_CHAR[c] then return nil end
  elseif ucd.is_punct(c) then
    return nil
  end
  return text_end(i)
end

-- run = x ~ ("-"? ~ x)*, maximal; memoised for every start inside the run
local function run_end(i, memo, step)
  local v = memo[i]
  if v ~= nil then return v or nil end
  local j = step(i)
  if not j then
    memo[i] = false
    return nil
  end
  local starts = { i }
  while true do
    local s, k = j, step(j)
    if not k and C[j] == DASH then
      s = j + 1
      k = step(s)
    end
    if not k then break end
    local known = memo[s]
    if known then j = known; break end
    starts[#starts + 1] = s
    j = k
  end
  for _, s in ipairs(starts) do memo[s] = j end
  return j
end

-- domain_char = (non_punctuation ~ ("-"? ~ non_punctuation)+) | non_punctuation
local function dc_end(i) return run_end(i, m_dc, np_end) end

-- uwp_domain_char: the same over alphanumeric | latin_accent
local function ua_step(i)
  local c = C[i]
  if alnum(c) or latin_accent(c) then return i + 1 end
  return nil
end
local function udc_end(i) return run_end(i, m_udc, ua_step) end

-- punycode_host = ^"xn" ~ "--" ~ ("-" | alphanumeric)+
local function punycode_host_end(i)
  local a, b = C[i], C[i + 1]
  if (a == 120 or a == 88) and (b == 110 or b == 78) and C[i + 2] == DASH and C[i + 3] == DASH then
    local j = i + 4
    while C[j] == DASH or alnum(C[j]) do j = j + 1 end
    if j > i + 4 then return j end
  end
  return nil
end

-- domain_segment = punycode_host | (domain_char ~ ("-"? ~ domain_char)*)+
local function domain_segment_end(i) return punycode_host_end(i) or dc_end(i) end

-- subdomain_char = (domain_char ~ "_"? ~ domain_char) | domain_char
local function subdomain_char_end(i)
  local j = dc_end(i)
  if not j then return nil end
  if C[j] == UNDERSCORE then
    local k = dc_end(j + 1)
    if k then return k end
  end
  return j
end

-- subdomain_segment = punycode_host | subdomain_char+
local function subdomain_segment_end(i)
  local p = punycode_host_end(i)
  if p then return p end
  local j = subdomain_char_end(i)
  if not j then return nil end
  while true do
    local k = subdomain_char_end(j)
    if not k then break end
    j = k
  end
  return j
end

local function subdomain_chars_end(i)   -- subdomain_char*
  local j = i
  while true do
    local k = subdomain_char_end(j)
    if not k then return j end
    j = k
  end
end

-- tld = tld_list ~ !invalid_tld_suffix (the list as a trie: longest match, ASCII
-- case-insensitive; invalid_tld_suffix = 'a'..'z' | '0'..'9' | "@")
local TLD

local function load_tlds()
  if TLD then return end
  local data = require "socialpush.text.tlds"
  local root = {}
  local byte = string.byte
  for _, list in ipairs { data.country, data.generic, data.punycode } do
    for word in list:gmatch("%S+") do
      local cps, n
      if word:find("[\128-\255]") then
        cps, n = ucd.decode_utf8(word)
      else
        cps, n = { byte(word, 1, -1) }, #word
      end
      local node = root
      for k = 1, n do
        local c = cps[k]
        local nxt = node[c]
        if not nxt then nxt = {}; node[c] = nxt end
        node = nxt
      end
      node.term = true
    end
  end
  TLD = root
end
-- one-shot table building: LuaJIT's trace compiler costs more than it saves here
if jit and jit.off then jit.off(load_tlds, true) end

local function tld_end(i)
  local v = m_tld[i]
  if v ~= nil then return v or nil end
  local node, j, last = TLD, i, nil
  while true do
    local c = C[j]
    if c == nil then break end
    if c >= 65 and c <= 90 then c = c + 32 end
    node = node[c]
    if not node then break end
    j = j + 1
    if node.term then last = j end
  end
  if last then
    local c = C[last]
    if c and ((c >= 97 and c <= 122) or digit(c) or c == AT) then last = nil end
  end
  m_tld[i] = last or false
  return last
end

-- sl_domain = (domain_segment ~ "." ~ &tld) ~
--             !((domain_segment ~ "." ~ &tld) | "." ~ &tld | longer_domain)
-- longer_domain = subdomain ~ ("." ~ subdomain)* ~ "." ~ sl_domain
-- subdomain = !sl_domain ~ subdomain_segment
-- and the uwp_ twins, whose lookahead ends in uwp_sl_domain instead of longer_domain.
local function make_domain_rules(segment, sub_segment, m_s, m_b, m_l, uwp)
  local sl, sub, longer
  function sub(i)
    local v = m_b[i]
    if v ~= nil then return v or nil end
    local r = nil
    if not sl(i) then r = sub_segment(i) end
    m_b[i] = r or false
    return r
  end
  function sl(i)
    local v = m_s[i]
    if v ~= nil then return v or nil end
    local r = nil
    local j = segment(i)
    if j and C[j] == DOT and tld_end(j + 1) then
      j = j + 1
      local k = segment(j)
      local blocked = (k and C[k] == DOT and tld_end(k + 1))
        or (C[j] == DOT and tld_end(j + 1))
      if not blocked then
        if uwp then blocked = sl(j) else blocked = longer(j) end
      end
      if not blocked then r = j end
    end
    m_s[i] = r or false
    return r
  end
  -- ("." ~ subdomain)* from p: the same end from every position it passes, so memoised
  -- for all of them (keeps longer_domain linear over many labels)
  local m_rep = {}
  local function rep_end(p)
    local seen, j = {}, p
    while true do
      local known = m_rep[j]
      if known then j = known; break end
      seen[#seen + 1] = j
      if C[j] ~= DOT then break end
      local k = sub(j + 1)
      if not k then break end
      j = k
    end
    for _, q in ipairs(seen) do m_rep[q] = j end
    return j
  end
  function longer(i)
    local v = m_l[i]
    if v ~= nil then return v or nil end
    local r = nil
    local j = sub(i)
    if j then
      j = rep_end(j)
      if C[j] == DOT then r = sl(j + 1) end
    end
    m_l[i] = r or false
    return r
  end
  return sl, sub, longer
end

local sl, sub, longer, usl, usub, ulonger

local function uwp_sub_char_end(i)   -- uwp_subdomain_char
  local j = udc_end(i)
  if not j then return nil end
  if C[j] == UNDERSCORE then
    local k = udc_end(j + 1)
    if k then return k end
  end
  return j
end

local function uwp_sub_segment_end(i)   -- uwp_subdomain_char+
  local j = uwp_sub_char_end(i)
  if not j then return nil end
  while true do
    local k = uwp_sub_char_end(j)
    if not k then break end
    j = k
  end
  return j
end

-- first index >= i outside a run of characters a domain can hold; right-to-left once
local function domain_char(c)
  if c == DASH or c == UNDERSCORE or c == DOT then return true end
  if SPACE[c] or invalid(c) then return false end
  if c < 128 then return not PUNCT_CHAR[c] end
  return not ucd.is_punct(c)
end
local function uwp_char(c)
  return c == DASH or c == UNDERSCORE or c == DOT or alnum(c) or latin_accent(c)
end
local function regions(ok)
  local r = {}
  r[N + 1] = N + 1
  for k = N, 1, -1 do
    if ok(C[k]) then r[k] = r[k + 1] else r[k] = k end
  end
  return r
end

-- evaluate sl/sub/longer at every position of i's region, right to left
local function warm(i, uwp)
  local reg, lows, f1, f2, f3
  if uwp then
    if not uregion then uregion = regions(uwp_char) end
    reg, lows, f1, f2, f3 = uregion, ulow, usl, usub, ulonger
  else
    if not region then region = regions(domain_char) end
    reg, lows, f1, f2, f3 = region, low, sl, sub, longer
  end
  local r = reg[i]
  local from = lows[r] and (lows[r] - 1) or r
  for k = from, i, -1 do
    f1(k); f2(k); f3(k)
  end
  if not lows[r] or i < lows[r] then lows[r] = i end
end

-- domain = (sl_domain | longer_domain) ~ tld
local function domain_end(i)
  warm(i, false)
  local j = sl(i) or longer(i)
  return j and tld_end(j)
end

-- uwp_domain = (uwp_sl_domain | uwp_longer_domain) ~ tld
local function uwp_domain_end(i)
  if not (alnum(C[i]) or latin_accent(C[i])) then return nil end
  warm(i, true)
  local j = usl(i) or ulonger(i)
  return j and tld_end(j)
end

-- hosts --------------------------------------------------------------------------------

local function dec_octet_end(i)
  local a, b, c = C[i], C[i + 1], C[i + 2]
  if a == 50 and b == 53 and c and c >= 48 and c <= 53 then return i + 3 end
  if a == 50 and b and b >= 48 and b <= 52 and digit(c) then return i + 3 end
  if a == 49 and digit(b) and digit(c) then return i + 3 end
  if a and a >= 49 and a <= 57 and digit(b) then return i + 2 end
  if digit(a) then return i + 1 end
  return nil
end

local function ipv4_end(i)
  local j = dec_octet_end(i)
  for _ = 1, 3 do
    if not j or C[j] ~= DOT then return nil end
    j = dec_octet_end(j + 1)
  end
  return j
end

local function h16_end(i)
  local j = i
  while j < i + 4 and hexd(C[j]) do j = j + 1 end
  if j > i then return j end
  return nil
end

local function h16c_end(i)   -- h16_ = h16 ~ ":"
  local j = h16_end(i)
  if j and C[j] == COLON then return j + 1 end
  return nil
end

local function h16c_rep(i, min, max)   -- h16_{min,max}, greedy
  local j, n = i, 0
  while n < max do
    local k = h16c_end(j)
    if not k then break end
    j, n = k, n + 1
  end
  if n < min then return nil end
  return j
end

local function ls32_end(i)
  local j = h16c_end(i)
  local k = j and h16_end(j)
  if k then return k end
  return ipv4_end(i)
end

local function dcolon(j)
  if j and C[j] == COLON and C[j + 1] == COLON then return j + 2 end
  return nil
end

local function ipv6_end(i)
  local j = h16c_rep(i, 6, 6)
  j = j and ls32_end(j)
  if j then return j end
  j = dcolon(i)
  j = j and h16c_rep(j, 5, 5)
  j = j and ls32_end(j)
  if j then return j end
  for pre = 1, 4 do      -- h16_{0,pre} ~ "::" ~ h16_{4-pre+1} ~ ls32
    j = dcolon(h16c_rep(i, 0, pre))
    j = j and h16c_rep(j, 5 - pre, 5 - pre)
    j = j and ls32_end(j)
    if j then return j end
  end
  j = dcolon(h16c_rep(i, 0, 5))
  j = j and ls32_end(j)
  if j then return j end
  j = dcolon(h16c_rep(i, 0, 6))
  j = j and h16_end(j)
  if j then return j end
  return dcolon(h16c_rep(i, 0, 7))
end

local function ip_literal_end(i)
  if C[i] ~= 0x5B then return nil end
  local j = ipv6_end(i + 1)
  if j and C[j] == 0x5D then return j + 1 end
  return nil
end

local function is_tco(i)   -- the literal "t.co"
  return C[i] == 116 and C[i + 1] == DOT and C[i + 2] == 99 and C[i + 3] == 111
end

-- host = !"t.co" ~ domain | ipv4_address | ip_literal
local function host_end(i)
  if not is_tco(i) then
    local j = domain_end(i)
    if j then return j end
  end
  return ipv4_end(i) or ip_literal_end(i)
end

-- url parts ------------------------------------------------------------------------------

-- protocol = ^"http" ~ (^"s")? ~ "://"
local function protocol_end(i)
  local a, b, c, d = C[i], C[i + 1], C[i + 2], C[i + 3]
  if not ((a == 104 or a == 72) and (b == 116 or b == 84) and (c == 116 or c == 84)
      and (d == 112 or d == 80)) then
    return nil
  end
  local j = i + 4
  if C[j] == 115 or C[j] == 83 then j = j + 1 end
  if C[j] == COLON and C[j + 1] == SLASH and C[j + 2] == SLASH then return j + 3 end
  return nil
end

-- userinfo = (unreserved | pct_encoded | sub_delims | ":")* ~ "@"
local function userinfo_end(i)
  local j = i
  while true do
    local c = C[j]
    if c == nil then return nil end
    if alnum(c) or c == DASH or c == DOT or c == UNDERSCORE or c == 0x7E or cyrillic(c)
        or SUB_DELIMS[c] or c == COLON then
      j = j + 1
    elseif c == 0x25 and hexd(C[j + 1]) then
      j = j + 2
    else
      break
    end
  end
  if C[j] == AT then return j + 1 end
  return nil
end

-- port = ":" ~ '1'..'9' ~ ASCII_DIGIT*
local function port_end(i)
  if C[i] ~= COLON then return nil end
  local c = C[i + 1]
  if not (c and c >= 49 and c <= 57) then return nil end
  local j = i + 2
  while digit(C[j]) do j = j + 1 end
  return j
end

local general_path_end

-- url_path_end = alphanumeric | "=" | "_" | "-" | "+" | cyrillic_char | latin_accent
--              | url_balanced_parens
local MAX_PAREN_DEPTH = 16
local parens_end
local function path_end_char(i, depth)
  local c = C[i]
  if c == nil then return nil end
  if alnum(c) or c == 0x3D or c == UNDERSCORE or c == DASH or c == 0x2B or cyrillic(c)
      or latin_accent(c) then
    return i + 1
  end
  if c ~= 0x28 or depth > MAX_PAREN_DEPTH then return nil end
  local v = m_paren[i]
  if v == nil then
    v = parens_end(i, depth) or false
    m_paren[i] = v
  end
  return v or nil
end

-- url_balanced_parens (memoised per position by path_end_char: without it the two
-- alternatives re-parse every nested group, exponentially)
function parens_end(i, depth)
  -- balanced_paren_path_text = "(" ~ url_general_path+ ~ ")"
  local function balanced(k)
    if C[k] ~= 0x28 then return nil end
    local j = general_path_end(k + 1, depth + 1)
    if not j then return nil end
    while true do
      local m = general_path_end(j, depth + 1)
      if not m then break end
      j = m
    end
    if C[j] == 0x29 then return j + 1 end
    return nil
  end
  local j = balanced(i)
  if j then return j end
  -- "(" ~ url_general_path* ~ balanced_paren_path_text ~ url_general_path* ~ ")"
  j = i + 1
  while true do
    local m = general_path_end(j, depth + 1)
    if not m then break end
    j = m
  end
  j = balanced(j)
  if not j then return nil end
  while true do
    local m = general_path_end(j, depth + 1)
    if not m then break end
    j = m
  end
  if C[j] == 0x29 then return j + 1 end
  return nil
end

-- url_general_path = url_path_end | path_punctuation
function general_path_end(i, depth)
  local j = path_end_char(i, depth or 0)
  if j then return j end
  if C[i] and PATH_PUNCT[C[i]] then return i + 1 end
  return nil
end

-- segment = (url_general_path+ ~ &"/") | end_path
-- end_path = (url_path_end | (path_punctuation+ ~ &url_path_end))+
local function segment_end(i)
  local j = i
  while true do
    local k = general_path_end(j)
    if not k then break end
    j = k
  end
  if j > i and C[j] == SLASH then return j end
  j = i
  while true do
    local k = path_end_char(j, 0)
    if k then
      j = k
    else
      local p = j
      while C[p] and PATH_PUNCT[C[p]] do p = p + 1 end
      if p > j and path_end_char(p, 0) then j = p else break end
    end
  end
  if j > i then return j end
  return nil
end

-- path = "/" ~ ((segment ~ ("/" ~ segment)*) ~ "/"?)?
local function path_end(i)
  if C[i] ~= SLASH then return nil end
  local j = i + 1
  local k = segment_end(j)
  if not k then return j end
  j = k
  while C[j] == SLASH do
    local s = segment_end(j + 1)
    if not s then break end
    j = s
  end
  if C[j] == SLASH then j = j + 1 end
  return j
end

local function query_end_char(c) return alnum(c) or (c ~= nil and QUERY_END[c] == true) end

-- query_char = query_end_char | query_punctuation_char+ ~ &query_end_char
local function query_char_end(j, fragment)
  local c = C[j]
  if query_end_char(c) or (fragment and c == HASH) then return j + 1 end
  local p = j
  while C[p] and QUERY_PUNCT[C[p]] do p = p + 1 end
  if p > j and (query_end_char(C[p]) or (fragment and C[p] == HASH)) then return p end
  return nil
end

-- query = "?" ~ query_char+ | "?" ~ &"#"
local function query_end(i)
  if C[i] ~= 0x3F then return nil end
  local j = i + 1
  while true do
    local k = query_char_end(j, false)
    if not k then break end
    j = k
  end
  if j > i + 1 or C[i + 1] == HASH then return j end
  return nil
end

-- fragment = "#" ~ fragment_char*   (fragment_end = query_end_char | "#")
local function fragment_end(i)
  if C[i] ~= HASH then return nil end
  local j = i + 1
  while true do
    local k = query_char_end(j, true)
    if not k then break end
    j = k
  end
  return j
end

local function no_word_after(j)   -- !(alphanumeric | cyrillic_char | latin_accent)
  local c = C[j]
  return not (alnum(c) or cyrillic(c) or latin_accent(c))
end

-- tco_url = (protocol ~ "t.co" ~ "/" ~ alphanumeric{1,40} ~ (query ~ fragment?)? ~ !word)
--         | protocol ~ "t.co" ~ "/"? ~ !word
local function tco_url_end(p)
  if not is_tco(p) then return nil end
  local q = p + 4
  if C[q] == SLASH then
    local j = q + 1
    while j < q + 41 and alnum(C[j]) do j = j + 1 end
    if j > q + 1 then
      local k = query_end(j)
      if k then j = fragment_end(k) or k end
      if no_word_after(j) then return j end
    end
  end
  local j = q
  if C[j] == SLASH then j = j + 1 end
  if no_word_after(j) then return j end
  return nil
end

local function tail_end(j)   -- port? ~ path? ~ query? ~ fragment?
  j = port_end(j) or j
  j = path_end(j) or j
  j = query_end(j) or j
  return fragment_end(j) or j
end

-- url = tco_url | normal_url; normal_url = protocol ~ userinfo? ~ host ~ port? ~ path? ...
-- Returns end, host start, host end (inclusive).
local function url_end(i)
  local p = protocol_end(i)
  if not p then return nil end
  local e = tco_url_end(p)
  if e then return e, p, p + 3 end
  local u = userinfo_end(p) or p
  local h = host_end(u)
  if not h then return nil end
  return tail_end(h), u, h - 1
end

-- uwp = invalid_preceding_url_chars ~ uwp_domain | url_without_protocol
-- Returns end, and for url_without_protocol also the domain span.
local function uwp_end(i)
  local c = C[i]
  local k
  if c == UNDERSCORE or c == DASH or c == DOT then k = i + 1 else k = protocol_end(i) end
  if k then
    local e = uwp_domain_end(k)
    if e then return e end
  end
  local d = uwp_domain_end(i)
  if not d then return nil end
  return tail_end(d), i, d - 1
end

-- hashtags, mentions, cashtags (consumed so that no URL starts inside them) -----------------

-- hashtag_text = !("\u{fe0f}" | "\u{20e3}") ~
--                (hashtag_special* ~ hashtag_letter_or_mark+ ~ hashtag_special*)+
local function hashtag_text_end(i)
  local c = C[i]
  if c == nil or c == VS16 or c == KEYCAP then return nil end
  local j, letters = i, false
  while true do
    c = C[j]
    if letter_mark(c) then
      letters = true
    elseif not (c and (HASHTAG_SPECIAL[c] or decimal(c))) then
      break
    end
    j = j + 1
  end
  if letters then return j end
  return nil
end

local function hashtag_end(i)
  if is_hash(C[i]) then return hashtag_text_end(i + 1) end
  return nil
end

-- possible_hashtag = "\u{fe0e}" | "\u{fe0f}" ~ hashtag | invalid_hashtag_start | hashtag
-- invalid_hashtag_start = (("&" | letter_or_mark) ~ hashtag_prefix ~ &hashtag_text)
--                       | hashtag_prefix ~ protocol ~ subdomain_char*
local function possible_hashtag(i)
  local c = C[i]
  if c == VS15 then return i + 1 end
  if c == VS16 then
    local e = hashtag_end(i + 1)
    if e then return e end
  end
  if is_hash(C[i + 1]) and (c == 0x26 or letter_mark(c)) and hashtag_text_end(i + 2) then
    return i + 2
  end
  if is_hash(c) then
    local p = protocol_end(i + 1)
    if p then return subdomain_chars_end(p) end
    return hashtag_end(i)
  end
  return nil
end

-- user_token = user_prefix ~ user_char{1, 20}
local function user_token_end(i)
  if not is_at(C[i]) then return nil end
  local j = i + 1
  while j <= i + 20 and user_char(C[j]) do j = j + 1 end
  if j > i + 1 then return j end
  return nil
end

-- possible_mention = list | user   (see the pest file for the alternatives of user)
local function possible_mention(i)
  local c = C[i]
  local at_here, at_next = is_at(c), is_at(C[i + 1])
  if not (at_here or at_next or i == 1) then return nil end
  local t = user_token_end(i)
  if t then
    -- list = listname ~ list_slug; list_slug = "/" ~ ASCII_ALPHA ~ (alnum | "_" | "-"){,24}
    if C[t] == SLASH and alpha(C[t + 1]) then
      local j = t + 2
      while j < t + 27 and (alnum(C[j]) or C[j] == UNDERSCORE or C[j] == DASH) do j = j + 1 end
      return j
    end
  end
  if at_here then
    local p = protocol_end(i + 1)
    if p then return subdomain_chars_end(p) end                 -- user_prefix ~ protocol ~ ...
    if t then
      local j, more = t, false
      while true do                                              -- user_token ~ user_token+
        local k = user_token_end(j)
        if not k then break end
        j, more = k, true
      end
      if more then return j end
      local d = C[t]                                             -- user_token ~ invalid_suffix
      if is_at(d) or latin_accent(d) or d == DASH then return t + 1 end
      if d == COLON and C[t + 1] == SLASH and C[t + 2] == SLASH then return t + 3 end
    end
  end
  -- rt_prefix ~ username; rt_prefix = !(user_char | "+" | "~" | "." | "-") | SOI ~ ^"rt" ~ ":"?
  if not (user_char(c) or c == 0x2B or c == 0x7E or c == DOT or c == DASH) then
    if t then return t end
  elseif i == 1 and (c == 114 or c == 82) and (C[2] == 116 or C[2] == 84) then
    local j = 3
    if C[j] == COLON then j = 4 end
    local e = user_token_end(j)
    if e then return e end
  end
  -- user_invalid_prefix ~ user_token
  local k
  if user_char(c) or USER_INVALID_PREFIX[c] or is_at(c) then
    k = i + 1
  else
    k = protocol_end(i)
  end
  if k then
    local e = user_token_end(k)
    if e then return e end
  end
  return t    -- username
end

-- cashtag_token = "$" ~ ASCII_ALPHA{1,6} ~ ((\".\" | \"_\")? ~ ASCII_ALPHA{1,2})? ~ !(digit | alpha)
local function cashtag_token_end(i)
  if C[i] ~= DOLLAR then return nil end
  local j = i + 1
  while j < i + 7 and alpha(C[j]) do j = j + 1 end
  if j == i + 1 then return nil end
  local k = j
  if C[k] == DOT or C[k] == UNDERSCORE then k = k + 1 end
  local m = k
  while m < k + 2 and alpha(C[m]) do m = m + 1 end
  if m > k then j = m end
  if alnum(C[j]) then return nil end
  return j
end

-- possible_cashtag = invalid_cashtag_start | (cashtag ~ cashtag_token*)
-- invalid_cashtag_start = (!space ~ text) ~ cashtag_token
--                       | cashtag_prefix ~ protocol ~ subdomain_char*
local function possible_cashtag(i)
  local c = C[i]
  if not SPACE[c] then
    local t = text_end(i)
    if t and C[t] == DOLLAR then
      local e = cashtag_token_end(t)
      if e then return e end
    end
  end
  if c ~= DOLLAR then return nil end
  local p = protocol_end(i + 1)
  if p then return subdomain_chars_end(p) end
  local j = cashtag_token_end(i)
  if not j then return nil end
  while true do
    local k = cashtag_token_end(j)
    if not k then return j end
    j = k
  end
end

-- validation (twitter-text validate_url: UTS #46 ToASCII with DNS lengths, < 4096 bytes) --

local MAX_URL_LENGTH = 4096

local function bytes(i, j)
  local n = 0
  for k = i, j do n = n + ucd.utf8_size(C[k]) end
  return n
end

local function valid_url(s, e, hs, he, has_scheme)
  local alen = idna.ascii_length(C, hs, he, ucd)
  if not alen then return false end
  local prefix = has_scheme and 0 or #"https://"
  return prefix + bytes(s, e - 1) - bytes(hs, he) + alen < MAX_URL_LENGTH
end

-- the scan ---------------------------------------------------------------------------------

--- Set the text (code points cps[1..n]) for urls() and emoji_end().
function M.begin(cps, n)
  load_tlds()
  C, N = cps, n
  m_emoji, m_dc, m_udc, m_tld, m_paren = {}, {}, {}, {}, {}
  m_sl, m_sub, m_longer, m_usl, m_usub, m_ulonger = {}, {}, {}, {}, {}, {}
  region, uregion, low, ulow = nil, nil, {}, {}
  sl, sub, longer = make_domain_rules(domain_segment_end, subdomain_segment_end,
    m_sl, m_sub, m_longer, false)
  usl, usub, ulonger = make_domain_rules(udc_end, uwp_sub_segment_end,
    m_usl, m_usub, m_ulonger, true)
end

--- The URLs of the current text that X replaces by a t.co link: an array of
-- {first, last} code point index pairs, in order.
function M.urls()
  local out = {}
  local i = 1
  while i <= N do
    local c = C[i]
    local e, hs, he, has_scheme
    -- possible_url = !(user_prefix | hashtag_prefix | cashtag_prefix) ~ (url | uwp)
    if not (is_at(c) or is_hash(c) or c == DOLLAR) then
      e, hs, he = url_end(i)
      if e then
        has_scheme = true
      else
        e, hs, he = uwp_end(i)
        has_scheme = false
      end
    end
    if e and hs and valid_url(i, e, hs, he, has_scheme) then
      out[#out + 1] = { i, e - 1 }
    end
    e = e or possible_hashtag(i) or possible_mention(i) or possible_cashtag(i)
    if e then
      i = e
    else
      i = text_end(i) or i + 1   -- invalid_char | text
    end
  end
  return out
end

return M
