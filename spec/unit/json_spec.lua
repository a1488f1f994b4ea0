-- socialpush.json: API, exact numbers, array detection, errors, depth limits,
-- generated round trips and a differential check against lua-cjson.
local json = require "socialpush.json"
local cjson = require "cjson"
local errors = require "socialpush.errors"
local H = require "spec_helpers"

local has_int = math.type ~= nil -- Lua 5.3+: integer subtype
local TWO53 = 9007199254740992

local mtype = H.mtype

local same = H.same

local function assert_same(expected, actual)
  local ok, why = same(expected, actual)
  assert(ok, why)
end

-- ours (socialpush.json) against theirs (lua-cjson, which only has doubles).
-- tol = 0: numbers must agree exactly, except that an integer beyond 2^53
-- (integer or decimal string on our side) must equal cjson's rounded double.
-- tol > 0: relative tolerance (cjson prints at most 14 significant digits).
-- Metatables are ignored; json.null equals cjson.null.
local function agrees(ours, theirs, tol, path)
  path = path or "$"
  if type(ours) == "string" and type(theirs) == "number" then
    if not ours:match("^%-?%d+$") or math.abs(tonumber(ours)) <= TWO53 then
      return false, path .. ": string " .. ours .. " for a number"
    end
    ours = tonumber(ours)
  end
  if type(ours) ~= type(theirs) then
    return false, path .. ": " .. type(ours) .. " vs " .. type(theirs)
  end
  if type(ours) == "number" then
    if ours == theirs then return true end
    if mtype(ours) == "integer" and math.abs(ours) > TWO53 and ours + 0.0 == theirs then
      return true
    end
    if tol > 0 and math.abs(ours - theirs) <= tol * math.max(math.abs(ours), math.abs(theirs)) then
      return true
    end
    return false, path .. (": %.17g vs %.17g"):format(ours, theirs)
  end
  if type(ours) == "table" then
    for k, v in next, ours do
      local ok, why = agrees(v, rawget(theirs, k), tol, path .. "[" .. tostring(k) .. "]")
      if not ok then return false, why end
    end
    for k in next, theirs do
      if rawget(ours, k) == nil then return false, path .. ": extra key " .. tostring(k) end
    end
    return true
  end
  if ours ~= theirs then return false, path .. ": " .. tostring(ours) .. " vs " .. tostring(theirs) end
  return true
end

-- ---------------------------------------------------------------------------
-- seeded generator (Park-Miller: exact in doubles and integers alike)
-- ---------------------------------------------------------------------------
local function generator(seed)
  local g = {}
  local state = seed
  local function rnd(n) -- 0 .. n-1
    state = (state * 16807) % 2147483647
    return state % n
  end
  g.rnd = rnd

  local function utf8char(cp)
    if cp < 0x80 then return string.char(cp) end
    if cp < 0x800 then
      return string.char(0xC0 + math.floor(cp / 64), 0x80 + cp % 64)
    end
    if cp < 0x10000 then
      return string.char(0xE0 + math.floor(cp / 4096), 0x80 + math.floor(cp / 64) % 64, 0x80 + cp % 64)
    end
    return string.char(0xF0 + math.floor(cp / 262144), 0x80 + math.floor(cp / 4096) % 64,
      0x80 + math.floor(cp / 64) % 64, 0x80 + cp % 64)
  end
  g.utf8char = utf8char

  local specials = { '"', "\\", "/", "\b", "\f", "\n", "\r", "\t", "\0", "\1", "\31", "\127", " " }
  function g.string(maxlen)
    local out = {}
    for i = 1, rnd(maxlen + 1) do
      local k = rnd(10)
      if k < 4 then
        out[i] = string.char(0x20 + rnd(95))
      elseif k == 4 then
        out[i] = specials[1 + rnd(#specials)]
      elseif k == 5 then
        out[i] = utf8char(0x80 + rnd(0x800 - 0x80))
      elseif k == 6 then
        local cp = 0x800 + rnd(0x10000 - 0x800)
        if cp >= 0xD800 and cp <= 0xDFFF then cp = cp - 0x800 end
        out[i] = utf8char(cp)
      elseif k == 7 then
        out[i] = utf8char(0x10000 + rnd(0x110000 - 0x10000))
      else
        out[i] = string.char(0x61 + rnd(26))
      end
    end
    return table.concat(out)
  end

  -- an integer the running Lua holds exactly and the codec keeps as a number
  function g.int()
    local k = rnd(4)
    if k == 0 then return rnd(200) - 100 end
    if k == 1 then return rnd(2147483647) - 1073741823 end
    local v
    if has_int then
      v = rnd(2147483647) * 4294967296 + rnd(2147483647) -- up to ~2^62, integer arithmetic
    else
      v = rnd(67108864) * 134217728 + rnd(134217728)      -- below 2^53
    end
    if rnd(2) == 0 then v = -v end
    return v
  end

  local zero = 0.0
  local fixed = { 0.1, 0.5, -1.5, 1 / 3, math.pi, 1e300, -1e-300, 5e-324, 2.2250738585072014e-308,
    1.7976931348623157e308, 0.30000000000000004, 123456.789, 1e21, 1e22, 1e23, 2 ^ 60, -(2 ^ 63),
    4.35, 0.07, 99.99, 1e-7, -zero }
  function g.float()
    local k = rnd(4)
    if k == 0 then return fixed[1 + rnd(#fixed)] * 1.0 end
    if k == 1 then return (rnd(2000000) - 1000000) / 100 end -- prices
    local m = (rnd(67108864) * 67108864 + rnd(67108864)) / 4503599627370496 -- 52 random bits
    local x = m * 10 ^ (rnd(40) - 20)
    if rnd(2) == 0 then x = -x end
    if has_int and x == math.floor(x) then x = x + 0.5 end
    return x * 1.0 -- a float on 5.3+ (and -0.0 stays -0.0)
  end

  local function value(depth)
    local k = rnd(depth < 4 and 12 or 8)
    if k == 0 then return json.null end
    if k == 1 then return rnd(2) == 1 end
    if k == 2 or k == 3 then return g.int() end
    if k == 4 then return g.float() end
    if k <= 7 then return g.string(12) end
    if k <= 9 then
      local t = json.array()
      for i = 1, rnd(6) do t[i] = value(depth + 1) end
      return t
    end
    local t = {}
    for _ = 1, rnd(6) do t[g.string(6)] = value(depth + 1) end
    return t
  end
  g.value = function() return value(0) end

  -- a container, so every document is an object or an array
  function g.doc()
    local t = {}
    for _ = 1, 1 + rnd(5) do t[g.string(8)] = value(1) end
    return t
  end
  return g
end

local function readfile(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

-- anchor documents and the YouTube Discovery document
local function real_documents()
  local docs = {}
  local dir = H.shared("anchors/data")
  for _, name in ipairs(H.listdir(dir)) do
    if name:match("%.json$") then docs[#docs + 1] = { name = name, text = H.read(dir .. "/" .. name) } end
  end
  local disc = readfile(H.shared("specs/youtube/youtube.v3.discovery.json"))
  if disc then docs[#docs + 1] = { name = "youtube.v3.discovery.json", text = disc } end
  return docs
end

-- ===========================================================================

describe("socialpush.json", function()
  describe("module", function()
    it("is the core's json table and has the documented API", function()
      assert.are.equal(require("socialpush.core").json, json)
      assert.is_function(json.encode)
      assert.is_function(json.decode)
      assert.is_function(json.array)
      assert.is_table(json.array_mt)
    end)

    it("has null as a light userdata NULL, equal to cjson.null", function()
      assert.are.equal("userdata", type(json.null))
      assert.is_true(rawequal(json.null, cjson.null))
      assert.are.equal("null", json.encode(json.null))
      assert.are.equal("null", json.encode(cjson.null))
      assert.are.equal("[null,1]", json.encode(json.array { cjson.null, 1 }))
    end)
  end)

  describe("decode", function()
    local vectors = {
      { "true", true },
      { "false", false },
      { " \t\r\n 1 \n", 1 },
      { '"x"', "x" },
      { '""', "" },
      { '"\\"\\\\\\/\\b\\f\\n\\r\\t"', '"\\/\b\f\n\r\t' },
      { '"\\u0000"', "\0" },
      { '"\\u00e9\\u20AC"', "\195\169\226\130\172" },
      { '"\\ud83d\\ude00"', "\240\159\152\128" },
      { '"\240\159\152\128 caf\195\169"', "\240\159\152\128 caf\195\169" },
      { "-1", -1 },
      { "0", 0 },
      { "-12.5e-1", -1.25 },
      { "1E2", 100.0 },
    }
    for _, v in ipairs(vectors) do
      local name = v[1]:gsub("[%c\128-\255]", function(c) return "\\" .. c:byte() end)
      it("reads " .. name, function()
        assert_same(v[2], json.decode(v[1]))
      end)
    end

    it("gives json.null for null, in arrays and objects alike", function()
      assert.are.equal(json.null, json.decode("null"))
      local t = json.decode('{"a":null,"b":[null,1,null]}')
      assert.are.equal(json.null, t.a)
      assert.are.equal(json.null, t.b[1])
      assert.are.equal(json.null, t.b[3])
      assert.are.equal(3, #t.b)
    end)

    it("marks decoded arrays with json.array_mt and leaves objects plain", function()
      local t = json.decode('{"a":[],"b":{},"c":[1,[2]]}')
      assert.are.equal(json.array_mt, getmetatable(t.a))
      assert.are.equal(json.array_mt, getmetatable(t.c))
      assert.are.equal(json.array_mt, getmetatable(t.c[2]))
      assert.is_nil(getmetatable(t))
      assert.is_nil(getmetatable(t.b))
      assert.are.equal("[]", json.encode(t.a))
      assert.are.equal("{}", json.encode(t.b))
    end)

    it("keeps the last of duplicate keys", function()
      assert.are.equal("c", json.decode('{"a":"b","a":"c"}').a)
    end)

    it("builds long arrays and objects (more than one stack chunk)", function()
      local parts, obj = {}, {}
      for i = 1, 5000 do
        parts[i] = tostring(i)
        obj[i] = ('"k%d":%d'):format(i, i)
      end
      local a = json.decode("[" .. table.concat(parts, ",") .. "]")
      assert.are.equal(5000, #a)
      for i = 1, 5000 do assert.are.equal(i, a[i]) end
      local o = json.decode("{" .. table.concat(obj, ",") .. "}")
      for i = 1, 5000 do assert.are.equal(i, o["k" .. i]) end
      -- wide and deep at once: parents hold many pending values while children nest
      local wide = "[" .. table.concat(parts, ",", 1, 3000) .. ","
      local doc = wide .. wide .. string.rep("[", 990) .. string.rep("]", 990) .. "]]"
      local v = assert(json.decode(doc))
      assert.are.equal(3001, #v)
      assert.are.equal(3001, #v[3001])
    end)

    it("unescapes strings longer than its stack buffer", function()
      local raw = string.rep("a\\n\\u00e9/", 3000)
      local s = json.decode('"' .. raw .. '"')
      assert.are.equal(string.rep("a\n\195\169/", 3000), s)
      local t = json.decode('["' .. raw .. '","x\\ty","' .. raw .. '"]')
      assert.are.equal(s, t[1])
      assert.are.equal("x\ty", t[2])
      assert.are.equal(s, t[3])
    end)

    it("rejects what lenient parsers accept", function()
      local bad = { "nan", "NaN", "inf", "-Infinity", "0x10", "+1", "01", "1.", ".5", "1e", "[1,]",
        '{"a":1,}', "'a'", "[1] /* c */", '"\t"', "\239\187\191{}", "{a:1}", "[1 2]", '"\\x41"',
        '"\\U0041"', "tru", "nul", "[", "{", '"', "", "   " }
      for _, s in ipairs(bad) do
        local v, msg, err = json.decode(s)
        assert.is_nil(v, s)
        assert.matches("^json%.decode: .* at byte %d+$", msg)
        assert.are.equal("decode", err.kind)
      end
    end)

    it("rejects invalid UTF-8 and lone surrogates", function()
      local bad = { '"\255"', '"\192\128"', '"\237\160\128"', '"\244\144\128\128"', '"\128"',
        '"\195"', '"\195x"', '"\\ud800"', '"\\udc00"', '"\\ud800\\u0041"', '"\\ud800x"',
        '"\\udc00\\ud800"', '{"\\ud800":1}', '{"\255":1}' }
      for _, s in ipairs(bad) do
        local v, msg, err = json.decode(s)
        assert.is_nil(v, s)
        assert.are.equal("decode", err.kind)
        assert.matches("at byte %d+$", msg)
      end
    end)

    it("names the byte offset in the message and in err.offset", function()
      local v, msg, err = json.decode('{"abc": [1, 2, x]}')
      assert.is_nil(v)
      assert.are.equal("json.decode: unexpected character 'x' at byte 16", msg)
      assert.are.equal(16, err.offset)
      assert.are.equal("decode", err.kind)
      assert.are.equal(msg, err.message)
      assert.are.equal(msg, tostring(err))
      assert.is_true(errors.is(err, "decode"))
      v, msg = json.decode('[1, 2] 3')
      assert.is_nil(v)
      assert.are.equal("json.decode: unexpected character '3' at byte 8", msg)
      v, msg = json.decode('["a\1"]')
      assert.is_nil(v)
      assert.are.equal("json.decode: control character in string at byte 4", msg)
      v, msg = json.decode('[1e999]')
      assert.is_nil(v)
      assert.are.equal("json.decode: number out of range at byte 2", msg)
    end)

    it("reports truncated documents at their end, at every cut", function()
      for _, doc in ipairs(real_documents()) do
        if #doc.text < 10000 then
          local text = doc.text:gsub("%s+$", "")
          for n = 0, #text - 1 do
            local cut = text:sub(1, n)
            local v, msg, err = json.decode(cut)
            assert(v == nil, doc.name .. " cut at " .. n .. " decoded")
            assert(err.offset == n + 1, doc.name .. " cut at " .. n .. ": " .. msg)
            assert(msg:find("unexpected end of input", 1, true), msg)
          end
        end
      end
    end)

    it("raises on a non-string argument", function()
      for _, arg in ipairs { 12, true, {}, json.null } do
        local ok, err = pcall(json.decode, arg)
        assert.is_false(ok)
        assert.matches("bad argument #1 .*string expected, got " .. type(arg), err)
      end
      local ok, err = pcall(json.decode)
      assert.is_false(ok)
      assert.matches("string expected, got no value", err)
    end)

    it("accepts 1000 levels of nesting and refuses 1001 cleanly", function()
      local v = json.decode(string.rep("[", 1000) .. string.rep("]", 1000))
      local depth = 0
      while type(v) == "table" do depth = depth + 1; v = v[1] end
      assert.are.equal(1000, depth)
      local o = json.decode(string.rep('{"a":', 1000) .. "1" .. string.rep("}", 1000))
      assert.is_table(o)
      local r, msg, err = json.decode(string.rep("[", 1001) .. string.rep("]", 1001))
      assert.is_nil(r)
      assert.are.equal("json.decode: nesting deeper than 1000 at byte 1001", msg)
      assert.are.equal("decode", err.kind)
      r, msg = json.decode(string.rep('{"a":', 1001) .. "1" .. string.rep("}", 1001))
      assert.is_nil(r)
      assert.matches("nesting deeper than 1000 at byte 5001$", msg)
      r, msg = json.decode(string.rep("[", 100000))
      assert.is_nil(r)
      assert.matches("nesting deeper than 1000", msg)
    end)
  end)

  describe("numbers", function()
    it("decodes int64 lexemes exactly (Lua 5.3+) or as strings beyond 2^53 (5.1, LuaJIT)", function()
      local t = json.decode("[1455952740635586573, 9223372036854775807, -9223372036854775808, " ..
        "9007199254740992, -9007199254740992, 9007199254740993, 18446744073709551616, " ..
        "-9223372036854775809, 123]")
      if has_int then
        assert.are.equal(1455952740635586573, t[1])
        assert.are.equal(math.maxinteger, t[2])
        assert.are.equal(math.mininteger, t[3])
        assert.are.equal(9007199254740993, t[6])
        for i = 1, 6 do assert.are.equal("integer", math.type(t[i])) end
        assert.are.equal("integer", math.type(t[9]))
      else
        assert.are.equal("1455952740635586573", t[1])
        assert.are.equal("9223372036854775807", t[2])
        assert.are.equal("-9223372036854775808", t[3])
        assert.are.equal(TWO53, t[4])
        assert.are.equal(-TWO53, t[5])
        assert.are.equal("9007199254740993", t[6])
      end
      assert.are.equal("18446744073709551616", t[7])
      assert.are.equal("-9223372036854775809", t[8])
      assert.are.equal(123, t[9])
    end)

    it("round-trips int64 extremes as integers", function()
      local texts = { "1455952740635586573", "9223372036854775807", "-9223372036854775808", "0", "-1" }
      for _, s in ipairs(texts) do
        local v = json.decode(s)
        if has_int then
          assert.are.equal("integer", math.type(v))
          assert.are.equal(s, json.encode(v))
        end
        assert.are.equal(s, json.encode(json.decode(json.encode(v))):gsub('"', ""), s)
      end
    end)

    it("decodes float lexemes as floats", function()
      for s, x in pairs { ["1.5"] = 1.5, ["1e3"] = 1000, ["1.0"] = 1, ["-0.0"] = 0, ["2E-2"] = 0.02,
                          ["123.456e-789"] = 0, ["0.1"] = 0.1, ["1e22"] = 1e22, ["1e23"] = 1e23 } do
        local v = json.decode(s)
        assert.are.equal(x, v)
        assert.are.equal("float", mtype(v), s)
      end
      assert.are.equal(-math.huge, 1 / json.decode("-0.0"))
    end)

    it("refuses numbers that overflow a double", function()
      for _, s in ipairs { "1e309", "-1e309", "1.5e+9999", "123123e100000" } do
        local v, msg, err = json.decode(s)
        assert.is_nil(v)
        assert.are.equal("json.decode: number out of range at byte 1", msg)
        assert.are.equal("decode", err.kind)
      end
    end)

    it("encodes integers exactly and floats in their shortest exact form", function()
      local vectors = {
        { 0, "0" }, { -1, "-1" }, { 123456789012, "123456789012" }, { 1.5, "1.5" },
        { 0.1, "0.1" }, { -0.25, "-0.25" }, { 1e300, "1e+300" }, { 1e-10, "1e-10" },
        { 0.30000000000000004, "0.30000000000000004" }, { 123456.789, "123456.789" },
        { 2 ^ 60, "1.152921504606847e+18" }, { 5e-324, "4.94065645841247e-324" },
      }
      if has_int then
        vectors[#vectors + 1] = { math.maxinteger, "9223372036854775807" }
        vectors[#vectors + 1] = { math.mininteger, "-9223372036854775808" }
        vectors[#vectors + 1] = { 100.0, "100.0" }
        vectors[#vectors + 1] = { 2.0 ^ 53, "9007199254740992.0" }
      else
        vectors[#vectors + 1] = { 100.0, "100" }
        vectors[#vectors + 1] = { 2 ^ 53, "9007199254740992" }
        vectors[#vectors + 1] = { 2 ^ 53 + 2, "9007199254740994.0" }
      end
      for _, v in ipairs(vectors) do
        assert.are.equal(v[2], json.encode(v[1]))
      end
    end)

    it("round-trips floats bit for bit, -0 included", function()
      local zero = 0.0
      local xs = { 0.1, 1 / 3, math.pi, -math.pi, 1e-300, 5e-324, 2.2250738585072014e-308,
        1.7976931348623157e308, 0.30000000000000004, 123456789.123, 1e21, 1e22, 1e23, 2 ^ 53 + 2,
        2 ^ 63, -(2 ^ 64), 4.35, 0.07, -zero, 1e-5, 9.999999999999999e-5 }
      local g = generator(7)
      for _ = 1, 2000 do xs[#xs + 1] = g.float() end
      for _, x in ipairs(xs) do
        local s = assert(json.encode(x))
        local y = json.decode(s)
        assert_same(x, y)
        assert(s:find("[%.e]") or (not has_int and math.abs(x) <= TWO53), s)
      end
    end)

    it("refuses NaN and infinities", function()
      for _, x in ipairs { 0 / 0, math.huge, -math.huge } do
        local s, msg, err = json.encode({ a = { x } })
        assert.is_nil(s)
        assert.matches("^json%.encode: cannot encode [%-%w]+ at %$%.a%[1%]$", msg)
        assert.are.equal("invalid_argument", err.kind)
      end
      local s, msg = json.encode({ [math.huge] = 1 })
      assert.is_nil(s)
      assert.matches("table key inf", msg)
    end)
  end)

  describe("encode", function()
    it("writes scalars", function()
      assert.are.equal("true", json.encode(true))
      assert.are.equal("false", json.encode(false))
      assert.are.equal("null", json.encode(nil))
      assert.are.equal('"x"', json.encode("x"))
    end)

    it("escapes quote, backslash and controls only; keeps / and UTF-8", function()
      assert.are.equal('"a\\"b\\\\c/d"', json.encode('a"b\\c/d'))
      assert.are.equal('"\\b\\f\\n\\r\\t\\u0000\\u0001\\u001f\127"', json.encode("\b\f\n\r\t\0\1\31\127"))
      local text = "caf\195\169 \240\159\152\128 \226\130\172"
      assert.are.equal('"' .. text .. '"', json.encode(text))
      local long = string.rep('ab"\n\195\169', 5000)
      assert.are.equal(long, json.decode(json.encode(long)))
    end)

    it("refuses invalid UTF-8 and UTF-8-encoded surrogates, in values and keys", function()
      for _, s in ipairs { "\255", "a\192\128", "\237\160\128", "\237\191\191", "\244\144\128\128",
                           "\195", "\195x", "\128", "\248\136\128\128\128" } do
        local r, msg, err = json.encode({ s })
        assert.is_nil(r)
        assert.matches("invalid UTF%-8", msg)
        assert.are.equal("invalid_argument", err.kind)
        r, msg = json.encode({ [s] = 1 })
        assert.is_nil(r)
        assert.matches("invalid UTF%-8", msg)
      end
    end)

    it("encodes tables with keys 1..n as arrays, others as objects", function()
      assert.are.equal("[1,2,3]", json.encode({ 1, 2, 3 }))
      assert.are.equal('["a",{"b":[true]}]', json.encode({ "a", { b = { true } } }))
      assert.are.equal("{}", json.encode({}))
      local t = {}
      for i = 10, 1, -1 do t[i] = i end -- keys in the hash part, out of order
      assert.are.equal("[1,2,3,4,5,6,7,8,9,10]", json.encode(t))
      assert.are.equal('{"1":1,"3":3}', json.encode({ [1] = 1, [3] = 3 }, { sort_keys = true }))
      assert.are.equal('{"1":"a","2":"b","x":1}', json.encode({ "a", "b", x = 1 }, { sort_keys = true }))
      assert.are.equal('{"2":1}', json.encode({ [2] = 1 }))
      assert.are.equal('{"-1":1,"0":2}', json.encode({ [-1] = 1, [0] = 2 }, { sort_keys = true }))
      assert.are.equal('{"1.5":1}', json.encode({ [1.5] = 1 }))
    end)

    it("refuses keys that are not strings or numbers", function()
      for _, k in ipairs { true, {}, print, coroutine.create(function() end) } do
        local s, msg, err = json.encode({ [k] = 1 })
        assert.is_nil(s)
        assert.matches("cannot encode a table key of type", msg)
        assert.are.equal("invalid_argument", err.kind)
        s = json.encode({ [k] = 1 }, { sort_keys = true })
        assert.is_nil(s)
      end
    end)

    it("encodes json.array tables as arrays, holes as null", function()
      assert.are.equal("[]", json.encode(json.array {}))
      assert.are.equal("[1,null,3]", json.encode(json.array { 1, nil, 3 }))
      assert.are.equal('[null,null,null,null,"x"]', json.encode(json.array { [5] = "x" }))
      local t = json.array {}
      for i = 20, 1, -2 do t[i] = i end
      assert.are.equal("[null,2,null,4,null,6,null,8,null,10,null,12,null,14,null,16,null,18,null,20]",
        json.encode(t))
    end)

    it("refuses a json.array with other keys, or one far too sparse", function()
      local s, msg, err = json.encode(json.array { 1, 2, x = 3 })
      assert.is_nil(s)
      assert.matches("not a positive integer", msg)
      assert.are.equal("invalid_argument", err.kind)
      s, msg = json.encode(json.array { [0] = 1 })
      assert.is_nil(s)
      assert.matches("not a positive integer", msg)
      s, msg = json.encode(json.array { [1e6] = 1 })
      assert.is_nil(s)
      assert.matches("too sparse", msg)
    end)

    it("sorts keys by bytes with sort_keys, deterministically", function()
      local t = { b = 1, a = { z = 1, y = json.array { { d = 1, c = 2 } } }, ["\195\169"] = 2, A = 3, [""] = 0 }
      local s = json.encode(t, { sort_keys = true })
      assert.are.equal('{"":0,"A":3,"a":{"y":[{"c":2,"d":1}],"z":1},"b":1,"\195\169":2}', s)
      for _ = 1, 20 do
        local copy = json.decode(s)
        assert.are.equal(s, json.encode(copy, { sort_keys = true }))
      end
      assert.are.equal("[3,1,2]", json.encode({ 3, 1, 2 }, { sort_keys = true }))
      assert.are.equal('{"10":1,"9":2}', json.encode({ [10] = 1, [9] = 2 }, { sort_keys = true }))
    end)

    it("checks its options", function()
      assert.has_error(function() json.encode({}, { sortkeys = true }) end,
        "bad argument #2 to 'encode' (unknown option 'sortkeys')")
      assert.has_error(function() json.encode({}, "sort") end)
      assert.has_error(function() json.encode() end)
      assert.are.equal("{}", json.encode({}, {}))
      assert.are.equal("{}", json.encode({}, nil))
    end)

    it("refuses values JSON cannot hold, naming where they are", function()
      local cases = {
        { print, "cannot encode a function$" },
        { { a = { 1, 2, print } }, "cannot encode a function at %$%.a%[3%]$" },
        { json.array { 1, coroutine.create(function() end) }, "cannot encode a thread at %$%[2%]$" },
        { { f = io.stdout }, "cannot encode a userdata at %$%.f$" },
      }
      for _, c in ipairs(cases) do
        local s, msg, err = json.encode(c[1])
        assert.is_nil(s)
        assert.matches("^json%.encode: " .. c[2], msg)
        assert.are.equal("invalid_argument", err.kind)
        assert.is_true(errors.is(err, "invalid_argument"))
        s = json.encode(c[1], { sort_keys = true })
        assert.is_nil(s)
      end
    end)

    it("refuses cycles", function()
      local a = {}
      a.self = a
      local s, msg, err = json.encode(a)
      assert.is_nil(s)
      assert.matches("cycle", msg)
      assert.are.equal("invalid_argument", err.kind)
      local b = json.array {}
      local c = { list = b }
      b[1] = c
      assert.is_nil((json.encode(c)))
      assert.is_nil((json.encode(c, { sort_keys = true })))
      -- a shared table that is not a cycle is fine
      local shared = { 1 }
      assert.are.equal('{"x":[1],"y":[1]}', json.encode({ x = shared, y = shared }, { sort_keys = true }))
    end)

    it("accepts 1000 levels of nesting and refuses 1001", function()
      local t = {}
      for _ = 2, 1000 do t = { t } end
      local s = assert(json.encode(t))
      assert.are.equal(string.rep("[", 999) .. "{}" .. string.rep("]", 999), s)
      local r, msg, err = json.encode({ t })
      assert.is_nil(r)
      assert.matches("nesting deeper than 1000", msg)
      assert.are.equal("invalid_argument", err.kind)
      assert.is_nil((json.encode({ t }, { sort_keys = true })))
    end)

    it("reads tables raw: no metamethod runs", function()
      local function boom() error("metamethod called") end
      local t = setmetatable({}, { __index = boom, __newindex = boom, __pairs = boom, __len = boom,
                                   __ipairs = boom })
      rawset(t, "a", 1)
      assert.are.equal('{"a":1}', json.encode(t))
      assert.are.equal('{"a":1}', json.encode(t, { sort_keys = true }))
      local arr = setmetatable({}, { __index = boom, __len = boom })
      rawset(arr, 1, "x")
      assert.are.equal('["x"]', json.encode(arr))
    end)

    it("stays correct when finalizers encode and decode during a call", function()
      local hits = 0
      local function fin()
        hits = hits + 1
        assert(json.encode({ z = { 1, 2, 3 }, y = "finalizer" }, { sort_keys = true }))
        assert(json.decode('{"a":[1,2,{"b":"c"}]}'))
      end
      local function garbage(n)
        for _ = 1, n do
          if newproxy then
            local p = newproxy(true)
            getmetatable(p).__gc = fin
          else
            setmetatable({}, { __gc = fin })
          end
        end
      end
      local g = generator(99)
      local doc = g.doc()
      local expect = json.encode(doc, { sort_keys = true })
      for _ = 1, 40 do
        garbage(200)
        assert.are.equal(expect, json.encode(doc, { sort_keys = true }))
        assert_same(json.decode(expect), json.decode(expect))
      end
      collectgarbage()
      assert.is_true(hits > 0)
    end)
  end)

  describe("json.array", function()
    it("marks and returns its argument, or a new table", function()
      local t = {}
      assert.are.equal(t, json.array(t))
      assert.are.equal(json.array_mt, getmetatable(t))
      assert.are.equal(t, json.array(t)) -- marking twice is fine
      local n = json.array()
      assert.are.equal(json.array_mt, getmetatable(n))
      assert.are.equal("[]", json.encode(n))
    end)

    it("raises on a non-table or a table with another metatable", function()
      assert.has_error(function() json.array(5) end)
      assert.has_error(function() json.array("x") end)
      assert.has_error(function() json.array(setmetatable({}, {})) end)
    end)

    it("lets [] and {} round-trip", function()
      local v = json.decode('{"a":[],"b":{},"c":[[],{}]}')
      assert.are.equal('{"a":[],"b":{},"c":[[],{}]}', json.encode(v, { sort_keys = true }))
    end)
  end)

  describe("round trip of generated values", function()
    it("decode(encode(v)) equals v for 500 seeded documents", function()
      local g = generator(20240605)
      for i = 1, 500 do
        local v = g.doc()
        local s = assert(json.encode(v))
        local back = json.decode(s)
        local ok, why = same(v, back)
        assert(ok, "document " .. i .. ": " .. tostring(why) .. "\n" .. s)
        local sorted = assert(json.encode(v, { sort_keys = true }))
        assert.are.equal(sorted, json.encode(back, { sort_keys = true }))
        assert.are.equal(#s, #sorted)
      end
    end)

    it("keeps scalars at the top level too", function()
      local g = generator(5)
      for _ = 1, 300 do
        local v = g.value()
        assert_same(v, json.decode(assert(json.encode(v))))
      end
    end)
  end)

  describe("agrees with lua-cjson", function()
    it("on generated documents, both ways", function()
      cjson.encode_number_precision(14)
      local g = generator(31337)
      for i = 1, 300 do
        local v = g.doc()
        local s = assert(json.encode(v))
        -- cjson reads our text to the same values (exact, big ints rounded)
        local ok, why = agrees(json.decode(s), cjson.decode(s), 0)
        assert(ok, "document " .. i .. " (cjson reading ours): " .. tostring(why))
        -- we read cjson's text (14 significant digits) back to v
        local c = cjson.encode(v)
        ok, why = agrees(json.decode(c), v, 1e-13)
        assert(ok, "document " .. i .. " (reading cjson's): " .. tostring(why))
      end
    end)

    it("on the anchor documents and the YouTube Discovery document", function()
      local docs = real_documents()
      assert.is_true(#docs >= 5)
      for _, doc in ipairs(docs) do
        local ours, theirs = json.decode(doc.text), cjson.decode(doc.text)
        local ok, why = agrees(ours, theirs, 0)
        assert(ok, doc.name .. ": " .. tostring(why))
        -- re-encoded by us, still the same document for cjson
        ok, why = agrees(json.decode(json.encode(ours)), cjson.decode(json.encode(ours)), 0)
        assert(ok, doc.name .. " re-encoded: " .. tostring(why))
        assert_same(ours, json.decode(json.encode(ours)))
      end
    end)

    it("keeps the big ids that cjson rounds", function()
      local text = '{"id":1455952740635586573,"max":9223372036854775807,"n":42}'
      local ours, theirs = json.decode(text), cjson.decode(text)
      assert(agrees(ours, theirs, 0))
      assert.are_not.equal("1455952740635586573", ("%.0f"):format(theirs.id)) -- cjson rounds
      if has_int then
        assert.are.equal(text, json.encode(ours, { sort_keys = true }))
      else
        assert.are.equal("1455952740635586573", ours.id)
        assert.are.equal('{"id":"1455952740635586573","max":"9223372036854775807","n":42}',
          json.encode(ours, { sort_keys = true }))
      end
    end)
  end)

  describe("regressions", function()
    it("keeps an escaped string split across the stack buffer intact", function()
      local s = string.rep("x", 4094) .. "\\u00e9" .. string.rep("y", 10)
      assert.are.equal(string.rep("x", 4094) .. "\195\169" .. string.rep("y", 10), json.decode('"' .. s .. '"'))
    end)
  end)
end)
