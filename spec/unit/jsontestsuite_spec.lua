-- JSONTestSuite (nst/JSONTestSuite @ 1ef36fa0, VECTORS.md §3.13): every y_
-- file decodes and round-trips, every n_ file is refused with a byte offset,
-- and every i_ file does what docs/json.md says, asserted file by file.
local json = require "socialpush.json"
local H = require "spec_helpers"

local dir = H.shared("specs/jsontestsuite/test_parsing")


local same = H.same

local files = { y = {}, n = {}, i = {} }
for _, name in ipairs(H.listdir(dir)) do
  local kind = name:match("^([yni])_.*%.json$")
  if kind then files[kind][#files[kind] + 1] = name end
end

local function read(name)
  return H.read(dir .. "/" .. name)
end

local A = json.array
local function nested(depth)
  local v = A {}
  for _ = 2, depth do v = A { v } end
  return v
end

-- the i_ policy (docs/json.md): { true, value } accepted with that value,
-- { false, message pattern, offset } refused with that message and offset
local policy = {
  -- numbers: underflow rounds to 0.0; overflow of a double is refused;
  -- integers beyond the exact range keep their digits as a string
  ["i_number_double_huge_neg_exp.json"] = { true, A { 0.0 } },
  ["i_number_real_underflow.json"] = { true, A { 0.0 } },
  ["i_number_huge_exp.json"] = { false, "number out of range", 2 },
  ["i_number_neg_int_huge_exp.json"] = { false, "number out of range", 2 },
  ["i_number_pos_double_huge_exp.json"] = { false, "number out of range", 2 },
  ["i_number_real_neg_overflow.json"] = { false, "number out of range", 2 },
  ["i_number_real_pos_overflow.json"] = { false, "number out of range", 2 },
  ["i_number_too_big_neg_int.json"] = { true, A { "-123123123123123123123123123123" } },
  ["i_number_too_big_pos_int.json"] = { true, A { "100000000000000000000" } },
  ["i_number_very_big_negative_int.json"] =
    { true, A { "-237462374673276894279832749832423479823246327846" } },
  -- lone surrogates in \u escapes are refused
  ["i_object_key_lone_2nd_surrogate.json"] = { false, "lone surrogate", 3 },
  ["i_string_1st_surrogate_but_2nd_missing.json"] = { false, "lone surrogate", 3 },
  ["i_string_1st_valid_surrogate_2nd_invalid.json"] = { false, "lone surrogate", 3 },
  ["i_string_incomplete_surrogate_and_escape_valid.json"] = { false, "lone surrogate", 3 },
  ["i_string_incomplete_surrogate_pair.json"] = { false, "lone surrogate", 3 },
  ["i_string_incomplete_surrogates_escape_valid.json"] = { false, "lone surrogate", 3 },
  ["i_string_invalid_lonely_surrogate.json"] = { false, "lone surrogate", 3 },
  ["i_string_invalid_surrogate.json"] = { false, "lone surrogate", 3 },
  ["i_string_inverted_surrogates_U+1D11E.json"] = { false, "lone surrogate", 3 },
  ["i_string_lone_second_surrogate.json"] = { false, "lone surrogate", 3 },
  -- invalid UTF-8 (overlong, surrogate, out of range, truncated, Latin-1) is refused
  ["i_string_UTF-8_invalid_sequence.json"] = { false, "invalid UTF%-8", 8 },
  ["i_string_UTF8_surrogate_U+D800.json"] = { false, "invalid UTF%-8", 3 },
  ["i_string_invalid_utf-8.json"] = { false, "invalid UTF%-8", 3 },
  ["i_string_iso_latin_1.json"] = { false, "invalid UTF%-8", 3 },
  ["i_string_lone_utf8_continuation_byte.json"] = { false, "invalid UTF%-8", 3 },
  ["i_string_not_in_unicode_range.json"] = { false, "invalid UTF%-8", 3 },
  ["i_string_overlong_sequence_2_bytes.json"] = { false, "invalid UTF%-8", 3 },
  ["i_string_overlong_sequence_6_bytes.json"] = { false, "invalid UTF%-8", 3 },
  ["i_string_overlong_sequence_6_bytes_null.json"] = { false, "invalid UTF%-8", 3 },
  ["i_string_truncated-utf-8.json"] = { false, "invalid UTF%-8", 3 },
  -- only UTF-8 input, and no byte order mark
  ["i_string_UTF-16LE_with_BOM.json"] = { false, "unexpected byte 0xFF", 1 },
  ["i_string_utf16BE_no_BOM.json"] = { false, "unexpected byte 0x00", 1 },
  ["i_string_utf16LE_no_BOM.json"] = { false, "unexpected byte 0x00", 2 },
  ["i_structure_UTF-8_BOM_empty_object.json"] = { false, "unexpected byte 0xEF", 1 },
  -- nesting up to 1000 levels is accepted
  ["i_structure_500_nested_arrays.json"] = { true, nested(500) },
}

describe("JSONTestSuite", function()
  it("is the corpus of VECTORS.md §3.13", function()
    assert.are.equal(95, #files.y)
    assert.are.equal(188, #files.n)
    assert.are.equal(35, #files.i)
  end)

  describe("y_ files decode and round-trip", function()
    for _, name in ipairs(files.y) do
      it(name, function()
        local text = read(name)
        local v, msg = json.decode(text)
        assert(v ~= nil, msg)
        local out = assert(json.encode(v))
        local ok, why = same(v, json.decode(out))
        assert(ok, why)
        local sorted = assert(json.encode(v, { sort_keys = true }))
        assert.are.equal(sorted, json.encode(json.decode(sorted), { sort_keys = true }))
      end)
    end
  end)

  describe("n_ files are refused with a byte offset", function()
    for _, name in ipairs(files.n) do
      it(name, function()
        local text = read(name)
        local v, msg, err = json.decode(text)
        assert.is_nil(v)
        assert.is_string(msg)
        local off = tonumber(msg:match("^json%.decode: .+ at byte (%d+)$"))
        assert(off, msg)
        assert.are.equal("decode", err.kind)
        assert.are.equal(off, err.offset)
        assert(off >= 1 and off <= #text + 1, msg)
      end)
    end
  end)

  describe("i_ files follow the documented policy", function()
    it("covers every i_ file and nothing else", function()
      local seen = {}
      for _, name in ipairs(files.i) do
        assert(policy[name], "no policy for " .. name)
        seen[name] = true
      end
      for name in pairs(policy) do assert(seen[name], "policy for a missing file " .. name) end
    end)

    for _, name in ipairs(files.i) do
      local p = policy[name]
      if p then
        it(name .. (p[1] and " is accepted" or " is refused"), function()
          local v, msg, err = json.decode(read(name))
          if p[1] then
            assert(v ~= nil, msg)
            local ok, why = same(p[2], v)
            assert(ok, why)
          else
            assert.is_nil(v)
            assert.matches("^json%.decode: " .. p[2] .. ".* at byte " .. p[3] .. "$", msg)
            assert.are.equal("decode", err.kind)
            assert.are.equal(p[3], err.offset)
          end
        end)
      end
    end
  end)
end)
