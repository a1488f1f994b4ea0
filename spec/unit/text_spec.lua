-- socialpush.text: twitter-text v3 weighted length, validity and URL extraction.
--
-- Conformance vectors are facts copied from twitter/twitter-text at commit
-- 3b8031c80efe49f16fd282a55e28eb23aef2ad85:
--   conformance/tests/validate.yml  sections WeightedTweetsWithDiscountedEmojiCounterTest
--     and UnicodeDirectionalMarkerCounterTest (run with config v3 by validate.rs), and
--     WeightedTweetsCounterTest (run with config v2);
--   conformance/tests/extract.yml   sections urls, urls_with_indices,
--     urls_with_directional_markers, tco_urls_with_params (expected URL strings);
--   conformance/tests/unicode11-emoji-test.txt (a sample: each sequence is one emoji).
-- Non-ASCII text is built from code points with U() so that invisible characters (ZWJ,
-- variation selectors, directional marks) are explicit and the file parses on Lua 5.1.
local text = require "socialpush.text"

local floor = math.floor

--- UTF-8 from code points (independent of the module under test).
local function U(...)
  local out = {}
  for _, c in ipairs { ... } do
    if c < 0x80 then
      out[#out + 1] = string.char(c)
    elseif c < 0x800 then
      out[#out + 1] = string.char(0xC0 + floor(c / 64), 0x80 + c % 64)
    elseif c < 0x10000 then
      out[#out + 1] = string.char(0xE0 + floor(c / 4096), 0x80 + floor(c / 64) % 64, 0x80 + c % 64)
    else
      out[#out + 1] = string.char(0xF0 + floor(c / 262144), 0x80 + floor(c / 4096) % 64,
        0x80 + floor(c / 64) % 64, 0x80 + c % 64)
    end
  end
  return table.concat(out)
end

--- UTF-8 from a line of hex code points ("1F468 200D 1F469").
local function H(hex)
  local cps = {}
  for h in hex:gmatch("%x+") do cps[#cps + 1] = tonumber(h, 16) end
  return U((unpack or table.unpack)(cps))
end

local rep = string.rep

-- shared texts of the conformance file
local POEM = "故人西辞黄鹤楼，烟花三月下扬州。孤帆远影碧空尽，唯见长江天际流。朱雀桥边野草花，乌衣巷口夕阳斜。"
  .. "旧时王谢堂前燕，飞入寻常百姓家。朝辞白帝彩云间，千里江陵一日还。两岸猿声啼不住，轻舟已过万重山。"
  .. "泪湿罗巾梦不成，夜深前殿按歌声。红颜未老恩先断，斜倚薰笼坐到明。独在异乡为异客，每逢佳节倍思亲。"
  .. "遥知兄弟登高处，遍插茱萸少一人。"
local MASK = U(0x1F637)                                                   -- 😷
local FAMILY = H "1F468 200D 1F469 200D 1F467 200D 1F466"                  -- 👨‍👩‍👧‍👦
local X10 = "xxxxxxxxxx-"
local HIRA = "あいうえおかきくけこ"
local PAKISTAN = H "67E 627 6A9 633 62A 627 646"                          -- پاکستان
-- the three long URLs: 747 repetitions of "somesuperlongurl" in all (from displayRangeEnd
-- 12075); the file's split among the URLs does not change any expected value
local LONG = "https://" .. rep("somesuperlongurl", 249) .. ".com/foo"
local PUNCT_PREFIX = "This is a tweet with general punctuation characters: "
-- U+2010..U+2037 part, as the file shows it (two spaces before U+2017)
local PUNCT_TAIL = " " .. H "2010 20 2011 20 2012 20 2013 20 2014 20 2015 20 2016 20 20 2017 20 2018 20 2019"
  .. " " .. H "201A 20 201B 20 201C 20 201D 20 201E 20 201F 20 2032 20 2033 20 2034 20 2035 20 2036 20 2037"

-- { description, text, weightedLength, valid, permillage, displayRangeEnd, validRangeEnd }
-- (displayRangeStart and validRangeStart are 0 in every case)
local SHARED = {
  { "Regular Tweet with url", "Hi http://test.co", 26, true, 92, 16, 16 },
  { "Just url", "http://test.co", 23, true, 82, 13, 13 },
  { "Long tweet, overflow at char index 280", "285 chars-" .. rep(X10, 25),
    285, false, 1017, 284, 279 },
  { "Long tweet with url in the middle, overflow at char index 284",
    "285 chars- http://www.twitter.com/jack " .. rep(X10, 24), 299, false, 1067, 302, 283 },
  { "Long tweet with url at the end, overflow at char index 265",
    rep(X10, 24) .. " http://www.twitter.com/jack ", 289, false, 1032, 292, 264 },
  { "10 url string, no overflow", rep("https://www.twitter.com/aloha ", 10),
    240, true, 857, 299, 299 },
  { "160 CJK char, overflow at char index 140", POEM, 320, false, 1142, 159, 139 },
  { "160 emoji char, overflow at char index 140", rep(MASK, 160), 320, false, 1142, 319, 279 },
  { "3 latin char + 160 CJK char, overflow at char index 141", "the" .. POEM,
    323, false, 1153, 162, 140 },
  { "282 chars with a normalized character within valid range but outside 280",
    "282 chars-" .. rep(X10, 24) .. "xxxxx" .. U(0x41, 0x301) .. "x", 281, false, 1003, 281, 280 },
  { "Count unicode emoji chars inside the basic multilingual plane",
    H "1F637 1F47E 1F621 1F525 1F4A9", 10, true, 35, 9, 9 },
  { "Handle long url with invalid domain labels and short url",
    "Long url with invalid domain labels and a short url: " .. LONG .. " " .. LONG .. " " .. LONG
      .. " https://validurl.com", 12079, false, 43139, 12075, 279 },
  { "Handle a 64 character domain without protocol", rep("randomurl", 7) .. "s.com",
    68, true, 242, 67, 67 },
  { "Do not allow > 140 CJK characters by virtue of CJK chars greater than 63 punycode "
    .. "encoded chars in the host", rep(HIRA, 12) .. " http://" .. rep(HIRA, 5) .. "あいう.com",
    358, false, 1278, 184, 143 },
  { "Allow > 140 CJK characters by virtue of CJK chars less than 63 punycode encoded chars "
    .. "in the host", rep(HIRA, 12) .. " http://" .. rep(HIRA, 5) .. "あい.com",
    264, true, 942, 183, 183 },
}

local V3 = {
  { "Count a mix of single byte single word, and double word unicode characters",
    "H" .. U(0x1F431, 0x263A) .. FAMILY, 7, true, 25, 14, 14 },
  { "Count unicode emoji chars outside the basic multilingual plane with skin tone modifiers",
    H "1F64B 1F3FD 1F468 200D 1F3A4", 4, true, 14, 8, 8 },
  { "Handle General Punctuation Characters with visible spaces(u2000-200A), no ZWJ/ZWNJ",
    PUNCT_PREFIX .. H "2000 2001 2002 2003 2004 2005 2006 2007 2008 2009 200A 200B" .. PUNCT_TAIL,
    110, true, 392, 109, 109 },
  { "140 family emoji", rep(FAMILY, 140), 280, true, 1000, 1539, 1539 },
  { "Unicode 10.0 emoji", "Unicode 10.0 emoji: " .. U(0x1F92A) .. "; " .. U(0x1F9D5) .. "; "
    .. U(0x1F9D5, 0x1F3FE) .. "; " .. H "1F3F4 E0067 E0062 E0065 E006E E0067 E007F",
    34, true, 121, 47, 47 },
  { "Unicode 9.0 emoji", "Unicode 9.0 emoji: " .. U(0x1F920) .. "; " .. U(0x1F483) .. "; "
    .. U(0x1F483, 0x1F3FE), 29, true, 103, 30, 30 },
  -- UnicodeDirectionalMarkerCounterTest
  { "Handle invalid characters", "ABC" .. U(0x202A, 0xFFFF) .. "ABC" .. U(0xFFFE),
    12, false, 42, 8, 3 },
  { "Tweet text containing directional characters should be considered valid",
    U(0x2066, 0x202A) .. "http://foobar." .. PAKISTAN .. "/" .. U(0x202C, 0x2069),
    31, true, 110, 25, 25 },
}

local V2 = {
  { "'Á' is normalized into 1 char", U(0x41, 0x301) .. "B", 2, true, 7, 2, 2 },
  { "שּׁ is normalized into 3 chars", "A" .. U(0xFB2C), 4, true, 14, 1, 1 },
  { "Count a mix of single byte single word, and double word unicode characters",
    "H" .. U(0x1F431, 0x263A) .. FAMILY, 16, true, 57, 14, 14 },
  { "Count unicode emoji chars outside the basic multilingual plane with skin tone modifiers",
    H "1F64B 1F3FD 1F468 200D 1F3A4", 9, true, 32, 8, 8 },
  { "Handle General Punctuation Characters with visible spaces(u2000-200A)",
    PUNCT_PREFIX .. H "2000 2001 2002 2003 2004 2005 2006 2007 2008 2009 200A 200B 200C 200D"
      .. PUNCT_TAIL, 112, true, 400, 111, 111 },
}

local function check_case(case, config)
  local n, d = text.twitter_length(case[2], config)
  assert.are.equal(case[3], n, case[1])
  assert.are.same({
    weighted_length = case[3], valid = case[4], permillage = case[5],
    display_range_start = 0, display_range_end = case[6],
    valid_range_start = 0, valid_range_end = case[7],
  }, d, case[1])
end

describe("socialpush.text conformance (twitter-text validate.yml)", function()
  for _, case in ipairs(SHARED) do
    it("v3: " .. case[1], function() check_case(case) end)
  end
  for _, case in ipairs(V3) do
    it("v3: " .. case[1], function() check_case(case) end)
  end
  for _, case in ipairs(SHARED) do
    it("v2: " .. case[1], function() check_case(case, text.config_v2) end)
  end
  for _, case in ipairs(V2) do
    it("v2: " .. case[1], function() check_case(case, text.config_v2) end)
  end
end)

-- extract.yml: text -> the URLs twitter-text extracts (which X counts as 23 each)
local TCO_SEQ = "http://t.co/pbY2NfTZ's http://t.co/2vYHpAc5; http://t.co/ulYGBYSo: "
  .. "http://t.co/8MkmHU0k+c http://t.co/TKLp64dY.x http://t.co/8t7G3ddS#a http://t.co/FNkPfmii-"
local TN = "http://tn.com.ar/show/00056158/la-estrella-del-certamen-el-turno-de-pamela-anderson"
  .. "?fb_xd_fragment#?=&cb=fe17523f223b7&relation=parent.parent&transport=fragment&type=resize"
  .. "&height=20&ackdata"
local EXTRACT = {
  { "http://example.com", { "http://example.com" } },
  { "http://ああ.com", { "http://ああ.com" } },
  { "http://あ-あ.com", { "http://あ-あ.com" } },
  { "text http://google.com", { "http://google.com" } },
  { "text http://foobar.com/#", { "http://foobar.com/#" } },
  { "text http://google.com/#foo", { "http://google.com/#foo" } },
  { "text http://google.com/#search?q=iphone%20-filter%3Alinks",
    { "http://google.com/#search?q=iphone%20-filter%3Alinks" } },
  { "text http://twitter.com/#search?q=iphone%20-filter%3Alinks",
    { "http://twitter.com/#search?q=iphone%20-filter%3Alinks" } },
  { "text http://somedomain.com/index.php?path=/abc/def/",
    { "http://somedomain.com/index.php?path=/abc/def/" } },
  { "text http://www.boingboing.net/2007/02/14/katamari_damacy_phon.html",
    { "http://www.boingboing.net/2007/02/14/katamari_damacy_phon.html" } },
  { "text http://somehost.com:3000", { "http://somehost.com:3000" } },
  { "text http://xo.com/~matthew+%ff-x", { "http://xo.com/~matthew+%ff-x" } },
  { "text http://xo.com/~matthew+%ff-,.;x", { "http://xo.com/~matthew+%ff-,.;x" } },
  { "text http://xo.com/,.;x", { "http://xo.com/,.;x" } },
  { "text http://en.wikipedia.org/wiki/Primer_(film)", { "http://en.wikipedia.org/wiki/Primer_(film)" } },
  { "text http://www.ams.org/bookstore-getitem/item=mbk-59",
    { "http://www.ams.org/bookstore-getitem/item=mbk-59" } },
  { "text http://" .. U(0x272A) .. "df.ws/ejp", { "http://" .. U(0x272A) .. "df.ws/ejp" } },
  { "test http://example.comだよね.comtest/hogehoge", { "http://example.com" } },
  { "text http://chilp.it/?77e8fd", { "http://chilp.it/?77e8fd" } },
  { "text http://x.com/oneletterdomain", { "http://x.com/oneletterdomain" } },
  { "text http://msdn.microsoft.com/ja-jp/library/system.net.httpwebrequest(v=VS.100).aspx",
    { "http://msdn.microsoft.com/ja-jp/library/system.net.httpwebrequest(v=VS.100).aspx" } },
  { "text https://www.youtube.com/watch?v=LOxOAuDHzaw&list=PLPoq910Q9jXhuH6pit_KwIsck9fEz_9U-",
    { "https://www.youtube.com/watch?v=LOxOAuDHzaw&list=PLPoq910Q9jXhuH6pit_KwIsck9fEz_9U-" } },
  { "text http://no-tld", {} },
  { "text http://tld-too-short.x", {} },
  { "(http://twitter.com", { "http://twitter.com" } },
  { "text http://word-and-a-number-8-ftw.domain.com/", { "http://word-and-a-number-8-ftw.domain.com/" } },
  { "text http://domain.com-that-you-should-have-put-a-space-after", { "http://domain.com" } },
  { "text http://foo.com?#foo text", { "http://foo.com?#foo" } },
  { "foo.com foo.net foo.org foo.edu foo.gov", { "foo.com", "foo.net", "foo.org", "foo.edu", "foo.gov" } },
  { "foo.baz foo.co.jp www.xxxxxxx.baz www.foo.co.uk wwwww.xxxxxxx foo.comm foo.somecom foo.govedu foo.jp",
    { "foo.co.jp", "www.foo.co.uk", "foo.jp" } },
  { "t.co/abcde bit.ly/abcde", { "t.co/abcde", "bit.ly/abcde" } },
  { "http://foo.jp http://fooooo.jp", { "http://foo.jp", "http://fooooo.jp" } },
  { "Go to http://example.com/a+ or http://example.com/a-", { "http://example.com/a+", "http://example.com/a-" } },
  { "Go to http://example.com/view/slug-url-?foo=bar", { "http://example.com/view/slug-url-?foo=bar" } },
  { "Go to https://en.m.wikipedia.org/wiki/Hatfield" .. U(0x2013) .. "McCoy_feud please",
    { "https://en.m.wikipedia.org/wiki/Hatfield" .. U(0x2013) .. "McCoy_feud" } },
  { "@user Try http:// example.com/path", { "example.com/path" } },
  { "これは日本語です。example.com/path/index.html中国語example.com/path한국",
    { "example.com/path/index.html", "example.com/path" } },
  { "twitter.comこれは日本語です。example.com中国語t.co/abcde한국twitter.com example2.comテストtwitter.com/abcde",
    { "twitter.com", "example.com", "t.co/abcde", "twitter.com", "example2.com", "twitter.com/abcde" } },
  { "http://twitter.com/これは日本語です。example.com中国語http://t.co/abcde한국twitter.comテストexample2.comテスト"
    .. "http://twitter.com/abcde",
    { "http://twitter.com/", "example.com", "http://t.co/abcde", "twitter.com", "example2.com",
      "http://twitter.com/abcde" } },
  { "Go to http://twitter.com/Русские_слова", { "http://twitter.com/Русские_слова" } },
  -- the file's second host is a run of a few hundred "あ" (exact count not reproduced)
  { "http://exampleこれは日本語です.com/path/index.html http://" .. rep("あ", 300) .. ".com/path/index.html",
    { "http://exampleこれは日本語です.com/path/index.html" } },
  { "twitter.jp日本語it.so中国語foo.jp it.so foo.jp", { "twitter.jp", "it.so", "foo.jp", "it.so", "foo.jp" } },
  { "Hello http://xn--はじめよう.com/index.html", {} },
  { "text http://domain-dash_2314352345_dfasd.foo-cow_4352.com", {} },
  { "MLB.tv vine.co twitch.tv t.co", { "MLB.tv", "vine.co", "twitch.tv", "t.co" } },
  { "@user Try http://" .. U(0xA0) .. "example.com/path", { "example.com/path" } },
  { "test http://sub_domain-dash.twitter.com", { "http://sub_domain-dash.twitter.com" } },
  { "test http://a.b.cd", { "http://a.b.cd" } },
  { "test http://a_b.c-d.com", { "http://a_b.c-d.com" } },
  { "test http://a-b.c.com", { "http://a-b.c.com" } },
  { "test http://twitter-dash.com", { "http://twitter-dash.com" } },
  { "http://www.bestbuy.com/site/Currie+Technologies+-+Ezip+400+Scooter/9885188.p?id=1218189013070&skuId=9885188",
    { "http://www.bestbuy.com/site/Currie+Technologies+-+Ezip+400+Scooter/9885188.p?id=1218189013070&skuId=9885188" } },
  { "test http://-leadingdash.twitter.com", {} },
  { "test http://leadingdash.-twitter.com", {} },
  { "test http://trailingdash-.twitter.com", {} },
  { "test http://trailingdash.twitter-.com", {} },
  { "test http://_leadingunderscore.twitter.com", {} },
  { "test http://leadingunderscore._twitter.com", {} },
  { "test http://trailingunderscore_.twitter.com", {} },
  { "test http://trailingunderscore.twitter_.com", {} },
  { "test http://-twitter.com", {} },
  { "test http://twitter-.com", {} },
  { "test http://twitter_underscore.com", {} },
  { "test http://twitter.c_o_m", {} },
  { "test http://www.foo.com/foo/path-with-period./", { "http://www.foo.com/foo/path-with-period./" } },
  { "test http://www.foo.org.za/foo/bar/688.1", { "http://www.foo.org.za/foo/bar/688.1" } },
  { "test http://www.foo.com/bar-path/some.stm?param1=foo;param2=P1|0||P2|0",
    { "http://www.foo.com/bar-path/some.stm?param1=foo;param2=P1|0||P2|0" } },
  { "test http://foo.com/bar/123/foo_&_bar/", { "http://foo.com/bar/123/foo_&_bar/" } },
  { "test http://www.cp.sc.edu/events/65 test", { "http://www.cp.sc.edu/events/65" } },
  { "http://www.andersondaradio.no.comunidades.net/ test test", { "http://www.andersondaradio.no.comunidades.net/" } },
  { "test ELPA" .. U(0xCD) .. "S.com", { "ELPA" .. U(0xCD) .. "S.com" } },
  { "test http://twitter.com/.", { "http://twitter.com/" } },
  { TN, { TN } },
  { "text " .. TN .. " text", { TN } },
  { "Test a ton of periods http://example.com/path" .. rep(".", 42), { "http://example.com/path" } },
  { "Test a ton of periods http://example.com/" .. rep(",", 42), { "http://example.com/" } },
  { "Test a ton of periods http://example.com/path/" .. rep("!", 42), { "http://example.com/path/" } },
  { "#test.com @test.com #http://test.com @http://test.com #t.co/abcde @t.co/abcde", {} },
  { "I really like http://t.co/pbY2NfTZ's website", { "http://t.co/pbY2NfTZ" } },
  { "Check this site out http://t.co/FNkPfmii- it's great", { "http://t.co/FNkPfmii" } },
  { "According to http://t.co/ulYGBYSo: the internet is cool", { "http://t.co/ulYGBYSo" } },
  { "I really like http://t.co/abcdefghijklmnopqrstuvwxyz0123456789",
    { "http://t.co/abcdefghijklmnopqrstuvwxyz0123456789" } },
  { "I really like http://t.co/abcdefghijklmnopqrstuvwxyz012345678901234", {} },
  { "example.comてすとですtwitter.みんなです", { "example.com", "twitter.みんな" } },
  { "http://twitter.com\nhttp://example.com\nhttp://example.com/path\nexample.com/path\nit.so\nit.so/abcde",
    { "http://twitter.com", "http://example.com", "http://example.com/path", "example.com/path", "it.so",
      "it.so/abcde" } },
  { "$http://twitter.com $twitter.com $http://t.co/abcde $t.co/abcde $t.co $TVI.CA $RBS.CA", {} },
  { "long.test.tar.bz2 test.tar.bz2 tar.bz2", {} },
  { "john.doe.gov@mail.com", {} },
  { "john.doe.jp@mail.com", {} },
  -- urls_with_indices
  { "皆さん見てください！ http://google.com", { "http://google.com" } },
  { TCO_SEQ, { "http://t.co/pbY2NfTZ", "http://t.co/2vYHpAc5", "http://t.co/ulYGBYSo",
    "http://t.co/8MkmHU0k", "http://t.co/TKLp64dY", "http://t.co/8t7G3ddS", "http://t.co/FNkPfmii" } },
  { "http://www.foo.com?referer=https://t.co/abcde http://t.co/xyzzy",
    { "http://www.foo.com?referer=https://t.co/abcde", "http://t.co/xyzzy" } },
  { "http://t.co http://t.co", { "http://t.co", "http://t.co" } },
  { "test http://xn--ls8h.XN--ls8h.la/", { "http://xn--ls8h.XN--ls8h.la/" } },
  { "test http://foobar.みんな/ http://foobar.中国/ http://foobar." .. PAKISTAN .. "/ ",
    { "http://foobar.みんな/", "http://foobar.中国/", "http://foobar." .. PAKISTAN .. "/" } },
  -- urls_with_directional_markers
  { U(0x2066, 0x202A) .. "test abcdef.com " .. PAKISTAN .. " http://twitter.com/" .. U(0x202C, 0x2069),
    { "abcdef.com", "http://twitter.com/" } },
  { "This is a test " .. U(0x2066, 0x202A) .. "twitter.com" .. U(0x202C, 0x2069) .. " " .. U(0x2066, 0x202A)
    .. "http://foobar." .. PAKISTAN .. "/" .. U(0x202C, 0x2069) .. " " .. H "642 637 631" .. " "
    .. H "641 644 633 637 64A 646" .. " " .. H "639 645 627 646",
    { "twitter.com", "http://foobar." .. PAKISTAN .. "/" } },
  -- tco_urls_with_params
  { "text https://t.co/UqIyJAJTfo?amp=1", { "https://t.co/UqIyJAJTfo?amp=1" } },
  { "text https://t.co/UqIyJAJTfo?type=js", { "https://t.co/UqIyJAJTfo?type=js" } },
  { "text https://t.co/UqIyJAJTfo?ssr=true", { "https://t.co/UqIyJAJTfo?ssr=true" } },
  { "text https://t.co/asdfdf?a=b#123", { "https://t.co/asdfdf?a=b#123" } },
  { "text https://t.co/sadfasdf?a=b&c=d", { "https://t.co/sadfasdf?a=b&c=d" } },
}

describe("socialpush.text.extract_urls conformance (twitter-text extract.yml)", function()
  for k, case in ipairs(EXTRACT) do
    it(string.format("#%d %s", k, (case[1]:sub(1, 60):gsub("\n", "\\n"))), function()
      assert.are.same(case[2], text.extract_urls(case[1]))
    end)
  end

  it("counts each extracted URL as 23", function()
    for _, case in ipairs(EXTRACT) do
      local plain = case[1]
      local n = text.twitter_length(plain, {
        max_weighted_tweet_length = 1e9, scale = 1, default_weight = 1, transformed_url_length = 23,
        emoji_parsing_enabled = false, ranges = {},
      })
      -- every code point weighs 1 here, so the length is code points - URL chars + 23 per URL
      local cps = select(2, plain:gsub("[^\128-\191]", ""))
      local url_cps = 0
      for _, u in ipairs(case[2]) do url_cps = url_cps + select(2, u:gsub("[^\128-\191]", "")) end
      assert.are.equal(cps - url_cps + 23 * #case[2], n, plain:sub(1, 60))
    end
  end)
end)

-- validate.yml section urls: the valid_url rule (SOI ~ url ~ EOI). A valid one must be
-- extracted whole; an invalid one must not be (a part of it may still be a URL).
local VALID_URLS = {
  { "http://example.com", true }, { "https://example.com/path/to/resource?search=foo&lang=en", true },
  { "http://twitter.com/#!/twitter", true }, { "HTTPS://www.ExaMPLE.COM/index.html", true },
  { "http://user:PASSW0RD@example.com:8080/login.php", true },
  { "http://sports.yahoo.com/nfl/news;_ylt=Aom0;ylu=XyZ?slug=ap-superbowlnotebook", true },
  { "http://192.168.0.1/index.html?src=asdf", true },
  { "http://[3ffe:1900:4545:3:200:f8ff:fe21:67cf]:80/index.html", true },
  { "http://test_underscore.twitter.com", true },
  { "http://example.com?foo=$bar.;baz?BAZ&c=d-#top/?stories+", true },
  { "http://" .. U(0x2603) .. ".net/", true }, { "http://example.com/Русские_слова", true },
  { "https://www.youtube.com/playlist?list=PL0ZPu8XSRTB7wZzn0mLHMvyzVFeRxbWn-", true },
  { "ftp://www.example.com/", false }, { "https://user:pass[word]@www.example.com/", false },
  { "http://domain-dash_2314352345_dfasd.foo-cow_4352.com", false },
  { "http://www.-domain4352.com/", false }, { "http://www.domain4352-.com/", false },
  { "http://" .. U(0x2603) .. "-.net/", false }, { "http://%e2%98%83.net/", false },
  { "http://256.1.2.3/", false }, { "http://en.wikipedia.org/wiki/\"#Punctuation", false },
  { "http://example.com/#anchor ", false }, { "http://test.-twitter.com", false },
}

describe("socialpush.text URLs of validate.yml (urls section)", function()
  for _, case in ipairs(VALID_URLS) do
    it((case[2] and "extracts whole: " or "does not extract whole: ") .. case[1], function()
      local urls = text.extract_urls(case[1])
      assert.are.equal(case[2], #urls == 1 and urls[1] == case[1])
    end)
  end
end)

-- sample of conformance/tests/unicode11-emoji-test.txt: each line, put between "test|"
-- and "|test" (as emoji.rs does), must be one emoji: 10 + 2
local EMOJI11 = {
  "263A FE0F", "263A", "1F476 1F3FB", "1F468 200D 2695 FE0F", "1F469 1F3FD 200D 1F52C",
  "1F46E 200D 2640 FE0F", "1F575 FE0F 200D 2642 FE0F", "1F3CC 1F3FB 200D 2640 FE0F",
  "1F46F 200D 2642 FE0F", "1F468 200D 2764 FE0F 200D 1F48B 200D 1F468",
  "1F469 200D 2764 FE0F 200D 1F468", "1F468 200D 1F469 200D 1F467 200D 1F466",
  "1F469 200D 1F469 200D 1F466", "1F468 200D 1F467 200D 1F467", "1F441 FE0F 200D 1F5E8 FE0F",
  "1F441 200D 1F5E8", "1F3F3 FE0F 200D 1F308", "1F3F4 200D 2620 FE0F", "0023 FE0F 20E3",
  "0023 20E3", "002A FE0F 20E3", "0031 FE0F 20E3", "1F1FA 1F1F8", "1F1EF 1F1F5",
  "1F3F4 E0067 E0062 E0073 E0063 E0074 E007F", "1F3F4 E0067 E0062 E0077 E006C E0073 E007F",
  "1F9B8 1F3FD 200D 2640 FE0F", "1F468 1F3FF 200D 1F9B0", "1F9B5 1F3FB", "00A9 FE0F",
  "00AE FE0F", "2122 FE0F", "203C FE0F", "1F004", "1F0CF", "1F170 FE0F", "1F9DE 200D 2642 FE0F",
  "1F93C 200D 2640 FE0F", "26F9 1F3FF 200D 2642 FE0F",
}

describe("socialpush.text emoji sequences", function()
  for _, hex in ipairs(EMOJI11) do
    it("counts " .. hex .. " once (unicode11-emoji-test.txt)", function()
      assert.are.equal(12, (text.twitter_length("test|" .. H(hex) .. "|test")))
    end)
  end

  local emoji_test = "/usr/share/unicode/emoji/emoji-test.txt"
  local f = io.open(emoji_test, "rb")
  if f then
    f:close()
    it("counts every sequence of the installed emoji-test.txt as 2 (a lone ©/® as 1)", function()
      local checked, wrong = 0, {}
      for line in io.lines(emoji_test) do
        local hex = line:match("^(%x[%x ]*%x)%s*;")
        if hex then
          local single = not hex:find(" ")
          local cp = tonumber(hex:match("%x+"), 16)
          local expect = 2
          if single and cp < 4352 then expect = 1 end
          local n = text.twitter_length(H(hex))
          checked = checked + 1
          if n ~= expect then wrong[#wrong + 1] = hex .. " -> " .. tostring(n) end
        end
      end
      assert.is_true(checked > 3000)
      assert.are.same({}, wrong)
    end)
  else
    pending("emoji-test.txt not installed (apt-get install unicode-data)")
  end
end)

describe("socialpush.text.twitter_length", function()
  it("counts the empty string as 0, not valid", function()
    local n, d = text.twitter_length("")
    assert.are.equal(0, n)
    assert.is_false(d.valid)
    assert.are.equal(0, d.permillage)
  end)

  it("accepts exactly 280 ASCII characters and rejects 281", function()
    local n, d = text.twitter_length(rep("a", 280))
    assert.are.equal(280, n)
    assert.is_true(d.valid)
    assert.are.equal(1000, d.permillage)
    n, d = text.twitter_length(rep("a", 281))
    assert.are.equal(281, n)
    assert.is_false(d.valid)
    assert.are.equal(279, d.valid_range_end)
  end)

  it("counts CJK as 2: 140 -> 280 (valid), 141 -> 282", function()
    local n, d = text.twitter_length(rep("の", 140))
    assert.are.equal(280, n)
    assert.is_true(d.valid)
    n, d = text.twitter_length(rep("の", 141))
    assert.are.equal(282, n)
    assert.is_false(d.valid)
  end)

  it("returns integers", function()
    local n, d = text.twitter_length("abc https://example.com")
    assert.are.equal(27, n)
    assert.are.equal(n, floor(n))
    if math.type then
      assert.are.equal("integer", math.type(n))
      assert.are.equal("integer", math.type(d.permillage))
    end
  end)

  it("counts a URL as 23 whatever its length, with or without a scheme", function()
    assert.are.equal(23, (text.twitter_length("https://example.com/" .. rep("a", 500))))
    assert.are.equal(23, (text.twitter_length("http://a.co")))
    assert.are.equal(23, (text.twitter_length("example.org/" .. rep("x", 100))))
    assert.are.equal(4 + 23 + 5 + 23, (text.twitter_length("see https://example.com/x and example.org")))
    -- no known TLD, not a URL
    assert.are.equal(#"example.notatld", (text.twitter_length("example.notatld")))
    -- trailing punctuation is not part of the URL
    assert.are.equal(23 + 1, (text.twitter_length("https://example.com/path.")))
  end)

  it("counts emoji sequences once: ZWJ family, flag, keycap, skin tone", function()
    assert.are.equal(2, (text.twitter_length(FAMILY)))
    assert.are.equal(2, (text.twitter_length(H "1F1EB 1F1F7")))            -- flag of France
    assert.are.equal(2, (text.twitter_length(H "31 FE0F 20E3")))             -- 1️⃣
    assert.are.equal(2, (text.twitter_length(H "1F44D 1F3FD")))              -- 👍🏽
    assert.are.equal(2, (text.twitter_length(H "1F9D1 200D 1F4BB")))         -- 🧑‍💻 (Unicode 12)
    assert.are.equal(4, (text.twitter_length(H "1F1E6 1F1E6")))              -- not a flag: 2 + 2
    assert.are.equal(1, (text.twitter_length(H "A9")))                       -- © as text
    assert.are.equal(2, (text.twitter_length(H "A9 FE0F")))                  -- ©️ as emoji
    assert.are.equal(11, (text.twitter_length(FAMILY, text.config_v2)))      -- v2: no grouping
  end)

  it("normalises to NFC before counting", function()
    assert.are.equal(1, (text.twitter_length(U(0x65, 0x301))))              -- e + acute = é
    assert.are.equal(2, (text.twitter_length(U(0x1100, 0x1161))))           -- jamo -> 가 (weight 2)
    assert.are.equal(4, (text.twitter_length(U(0x1100, 0x1161, 0x11A8, 0x1100))))   -- 각 + ᄀ
  end)

  it("returns nil, msg, err on invalid UTF-8", function()
    for _, bad in ipairs { "\255", "a\192\128", "\237\160\128", "\226\130", "\244\144\128\128", "\128" } do
      local n, msg, err = text.twitter_length(bad)
      assert.is_nil(n)
      assert.is_string(msg)
      assert.are.equal("invalid_argument", err.kind)
      assert.are.equal("message", err.field)
      assert.are.equal(msg, tostring(err))
    end
  end)

  it("raises on a non-string text or a bad config", function()
    assert.has_error(function() text.twitter_length(nil) end)
    assert.has_error(function() text.twitter_length(42) end)
    assert.has_error(function() text.twitter_length({}) end)
    assert.has_error(function() text.twitter_length("x", "v3") end)
    assert.has_error(function() text.twitter_length("x", { scale = 100 }) end)
  end)

  it("loads its tables lazily: not at require time, Unicode data only for non-ASCII text", function()
    local names = { "socialpush.text", "socialpush.text.grammar", "socialpush.text.ucd",
      "socialpush.text.idna", "socialpush.text.unicode", "socialpush.text.tlds" }
    local saved = {}
    for _, m in ipairs(names) do saved[m] = package.loaded[m]; package.loaded[m] = nil end
    local t = require "socialpush.text"
    assert.is_nil(package.loaded["socialpush.text.unicode"])
    assert.is_nil(package.loaded["socialpush.text.tlds"])
    assert.is_nil(package.loaded["socialpush.text.grammar"])
    assert.are.equal(23 + 4, (t.twitter_length("see example.com")))
    assert.is_not_nil(package.loaded["socialpush.text.tlds"])
    assert.is_nil(package.loaded["socialpush.text.unicode"])
    assert.are.equal(2, (t.twitter_length("é!")))
    assert.is_not_nil(package.loaded["socialpush.text.unicode"])
    for _, m in ipairs(names) do package.loaded[m] = saved[m] end
  end)
end)

describe("socialpush.text.twitter_valid", function()
  it("accepts a normal post", function()
    assert.is_true(text.twitter_valid("Hello " .. FAMILY .. " https://example.com"))
  end)

  it("rejects empty, too long and invalid characters with invalid_argument/message", function()
    local cases = {
      { "", "empty" },
      { rep("a", 281), "too long" },
      { rep("の", 141), "too long" },
      { "abc" .. U(0xFFFE), "U+FFFE" },
      { U(0xFEFF) .. "abc", "U+FEFF" },
    }
    for _, c in ipairs(cases) do
      local ok, msg, err = text.twitter_valid(c[1])
      assert.is_nil(ok)
      assert.truthy(msg:find(c[2], 1, true), msg)
      assert.are.equal("invalid_argument", err.kind)
      assert.are.equal("message", err.field)
    end
  end)

  it("takes a custom maximum", function()
    assert.is_true(text.twitter_valid(rep("a", 10), 10))
    local ok, msg = text.twitter_valid(rep("a", 11), 10)
    assert.is_nil(ok)
    assert.truthy(msg:find("at most 10", 1, true))
    assert.is_true(text.twitter_valid(rep("a", 1000), 25000))
  end)

  it("returns nil, msg, err on invalid UTF-8 and raises on misuse", function()
    local ok, _, err = text.twitter_valid("\255")
    assert.is_nil(ok)
    assert.are.equal("invalid_argument", err.kind)
    assert.has_error(function() text.twitter_valid(nil) end)
    assert.has_error(function() text.twitter_valid("x", 0) end)
    assert.has_error(function() text.twitter_valid("x", 1.5) end)
    assert.has_error(function() text.twitter_valid("x", "280") end)
  end)
end)

describe("socialpush.text IDNA", function()
  local ucd = require "socialpush.text.ucd"
  local idna = require "socialpush.text.idna"

  -- RFC 3492 section 7.1 samples (A), (B), (L)
  local RFC3492 = {
    { "644 64A 647 645 627 628 62A 643 644 645 648 634 639 631 628 64A 61F", "egbpdaj6bu4bxfgehfvwxn" },
    { "4ED6 4EEC 4E3A 4EC0 4E48 4E0D 8BF4 4E2D 6587", "ihqwcrb4cv8a8dqg056pqjye" },
    { "33 5E74 42 7D44 91D1 516B 5148 751F", "3B-ww4c5e180e575a65lsy2b" },
  }

  it("encodes and decodes the RFC 3492 samples", function()
    for _, v in ipairs(RFC3492) do
      local cps, n = ucd.decode_utf8(H(v[1]))
      assert.are.equal(v[2], idna.punycode_encode(cps, 1, n))
      assert.are.same(cps, idna.punycode_decode(v[2]))
    end
    assert.is_nil(idna.punycode_decode("ab-c!"))
    assert.is_nil(idna.punycode_decode("99999999999"))
  end)

  it("keeps the stored xn-- TLD forms equal to the encoder's", function()
    local tlds = require "socialpush.text.tlds"
    local want = {}
    for _, list in ipairs { tlds.country, tlds.generic } do
      for w in list:gmatch("%S+") do
        if w:find("[\128-\255]") then
          local cps, n = ucd.decode_utf8(w)
          want[#want + 1] = "xn--" .. idna.punycode_encode(cps, 1, n)
        end
      end
    end
    local got = {}
    for w in tlds.punycode:gmatch("%S+") do got[#got + 1] = w end
    assert.are.same(want, got)
    assert.truthy(tlds.punycode:find("xn--p1ai", 1, true))   -- .рф
  end)

  it("limits host labels to 63 bytes after Punycode (52 vs 53 hiragana)", function()
    assert.are.same({ "http://" .. rep(HIRA, 5) .. "あい.com" },
      text.extract_urls("http://" .. rep(HIRA, 5) .. "あい.com"))
    assert.are.same({}, text.extract_urls("http://" .. rep(HIRA, 5) .. "あいう.com"))
  end)
end)

describe("socialpush.text on long or hostile input", function()
  it("stays correct on long runs (each case is linear in its length)", function()
    assert.are.equal(10000, (text.twitter_length(rep("a", 10000))))
    assert.are.equal(10003, (text.twitter_length(rep("a.", 5000) .. "com")))
    assert.are.equal(10012, (text.twitter_length("http://" .. rep("a-", 5000) .. "b.com")))
    assert.are.equal(10000, (text.twitter_length(rep("@a", 5000))))
    assert.are.equal(9000, (text.twitter_length(rep("#a.", 3000))))
    assert.are.equal(10000, (text.twitter_length("a" .. rep(U(0x301, 0x316), 5000))))
    -- 3000 emoji joined by ZWJ, a dangling ZWJ (1) and a URL (23)
    assert.are.equal(2 + 1 + 23, (text.twitter_length(rep(U(0x1F600, 0x200D), 3000) .. "x.com")))
    -- parentheses nested deeper than the parser follows end the URL at "/"
    local deep = "http://x.com/" .. rep("(", 2000) .. "a" .. rep(")", 2000)
    assert.are.equal(23 + 4001, (text.twitter_length(deep)))
    assert.are.same({ "http://x.com/((a))" }, text.extract_urls("http://x.com/((a))"))
  end)
end)

describe("socialpush.text NFC tables", function()
  local ucd = require "socialpush.text.ucd"
  local data = require "socialpush.text.unicode"
  local path = "/usr/share/unicode/NormalizationTest.txt.bz2"
  local f = io.open(path, "rb")
  local header
  if f then
    f:close()
    local p = io.popen("bzcat " .. path .. " 2>/dev/null | head -1")
    header = p and p:read("*l")
    if p then p:close() end
  end
  local version = header and header:match("NormalizationTest%-([%d%.]+)%.txt")
  if version and version == data.ucd_version then
    it("passes NormalizationTest.txt " .. version .. " (NFC columns)", function()
      local p = assert(io.popen("bzcat " .. path))
      local checked, failed = 0, {}
      local function parse(s)
        local t = {}
        for h in s:gmatch("%x+") do t[#t + 1] = tonumber(h, 16) end
        return t
      end
      for line in p:lines() do
        if line:find("^%x") then
          local cols = {}
          for c in line:gmatch("([^;]*);") do cols[#cols + 1] = parse(c) end
          for _, pair in ipairs { { 1, 2 }, { 2, 2 }, { 3, 2 }, { 4, 4 }, { 5, 4 } } do
            local src = cols[pair[1]]
            local copy = {}
            for k = 1, #src do copy[k] = src[k] end
            local out, n = ucd.nfc(copy, #copy)
            local want = cols[pair[2]]
            local same = n == #want
            for k = 1, n do if out[k] ~= want[k] then same = false end end
            checked = checked + 1
            if not same and #failed < 5 then failed[#failed + 1] = line end
          end
        end
      end
      p:close()
      assert.is_true(checked > 90000)
      assert.are.same({}, failed)
    end)
  else
    pending("NormalizationTest.txt for UCD " .. data.ucd_version .. " not installed (unicode-data)")
  end

  it("round-trips UTF-8 and rejects what is not UTF-8", function()
    local s = "a" .. U(0xE9, 0x20AC, 0x1F600, 0x10FFFF)
    local cps, n = ucd.decode_utf8(s)
    assert.are.same({ 0x61, 0xE9, 0x20AC, 0x1F600, 0x10FFFF }, cps)
    assert.are.equal(5, n)
    assert.are.equal(s, ucd.encode_utf8(cps, 1, n))
    assert.is_nil((ucd.decode_utf8("\248\136\128\128\128")))
    assert.is_nil((ucd.decode_utf8("\224\128\128")))
  end)
end)
