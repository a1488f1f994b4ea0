--- Media files served by media.socialpush.test, generated at start (nginx
-- side, LuaJIT `bit`): a 64x64 RGB PNG and a ~300 KiB file with an MP4
-- `ftyp` box (not playable: ftyp + mdat of deterministic bytes).
local bit = require("bit")

local M = {}

local function be32(n)
  return string.char(bit.band(bit.rshift(n, 24), 255), bit.band(bit.rshift(n, 16), 255),
    bit.band(bit.rshift(n, 8), 255), bit.band(n, 255))
end

local crc_table = {}
for i = 0, 255 do
  local c = i
  for _ = 1, 8 do
    if bit.band(c, 1) == 1 then
      c = bit.bxor(0xEDB88320, bit.rshift(c, 1))
    else
      c = bit.rshift(c, 1)
    end
  end
  crc_table[i] = c
end

local function crc32(s)
  local c = 0xFFFFFFFF
  for i = 1, #s do
    c = bit.bxor(crc_table[bit.band(bit.bxor(c, s:byte(i)), 255)], bit.rshift(c, 8))
  end
  return bit.bxor(c, 0xFFFFFFFF)
end

local function adler32(s)
  local a, b = 1, 0
  for i = 1, #s do
    a = (a + s:byte(i)) % 65521
    b = (b + a) % 65521
  end
  return b * 65536 + a
end

local function chunk(kind, data)
  return be32(#data) .. kind .. data .. be32(crc32(kind .. data))
end

-- zlib stream made of stored (uncompressed) deflate blocks
local function zlib_stored(data)
  local out = { "\120\1" }
  local pos, n = 1, #data
  repeat
    local len = math.min(65535, n - pos + 1)
    local final = (pos + len > n) and 1 or 0
    local nlen = 65535 - len
    out[#out + 1] = string.char(final, len % 256, math.floor(len / 256),
      nlen % 256, math.floor(nlen / 256))
    out[#out + 1] = data:sub(pos, pos + len - 1)
    pos = pos + len
  until pos > n
  out[#out + 1] = be32(adler32(data))
  return table.concat(out)
end

--- a valid w x h RGB PNG (a colour gradient)
-- syntax: bytes = media.png(w, h)
function M.png(w, h)
  local rows = {}
  for y = 0, h - 1 do
    local row = { "\0" }
    for x = 0, w - 1 do
      row[#row + 1] = string.char((x * 4) % 256, (y * 4) % 256, 128)
    end
    rows[#rows + 1] = table.concat(row)
  end
  local ihdr = be32(w) .. be32(h) .. string.char(8, 2, 0, 0, 0)
  return "\137PNG\r\n\26\n" .. chunk("IHDR", ihdr)
    .. chunk("IDAT", zlib_stored(table.concat(rows))) .. chunk("IEND", "")
end

--- bytes with an MP4 ftyp box and an mdat box of deterministic filler
-- syntax: bytes = media.mp4(total_size)
function M.mp4(total)
  local ftyp = be32(32) .. "ftypisom" .. be32(0x200) .. "isomiso2avc1mp41"
  local n = total - #ftyp - 8
  local out, state = {}, 12345
  local block = {}
  for i = 1, 4096 do
    state = (state * 69069 + 1) % 4294967296
    block[i] = string.char(math.floor(state / 16777216))
  end
  local s = table.concat(block)
  local left = n
  while left > 0 do
    local k = math.min(left, #s)
    out[#out + 1] = k == #s and s or s:sub(1, k)
    left = left - k
  end
  return ftyp .. be32(n + 8) .. "mdat" .. table.concat(out)
end

M.picture = M.png(64, 64)
M.video = M.mp4(300 * 1024)

return M
