--- socialpush.pipeline.media: picture/video/thumbnail arguments.
-- A media argument is {file = path}, {data = bytes, filename = ...} or {url = "https://..."},
-- each with an optional content_type and filename; a plain string is a file path. Files
-- are never read whole: uploads stream byte ranges of them. media.prepare is the one
-- preparation every provider runs: open, check, download a URL when the provider cannot
-- ingest it, check again, refuse an empty file; media.release removes a download.
local check = require "socialpush.pipeline.check"
local sign = require "socialpush.sign"

local M = {}

local MAGIC = {
  { "^\255\216\255", "image/jpeg" },
  { "^\137PNG\r\n\26\n", "image/png" },
  { "^GIF8[79]a", "image/gif" },
  { "^RIFF....WEBP", "image/webp" },
  { "^BM", "image/bmp" },
  { "^II%*%z", "image/tiff" },
  { "^MM%z%*", "image/tiff" },
  { "^....ftypqt", "video/quicktime" },
  { "^....ftyp", "video/mp4" },
  { "^\26\69\223\163", "video/webm" },
  { "^RIFF....AVI ", "video/x-msvideo" },
}

local EXT = {
  jpg = "image/jpeg", jpeg = "image/jpeg", png = "image/png", gif = "image/gif", webp = "image/webp",
  bmp = "image/bmp", tif = "image/tiff", tiff = "image/tiff", mp4 = "video/mp4", m4v = "video/mp4",
  mov = "video/quicktime", webm = "video/webm", avi = "video/x-msvideo",
}

--- The content type of the first bytes of a file, or nil.
-- syntax: ctype = media.sniff(bytes)
function M.sniff(head)
  for _, m in ipairs(MAGIC) do
    if head:find(m[1]) then return m[2] end
  end
end

-- opened media carry this metatable: open() returns them as they are
local OPENED = {}
local function opened(t) return setmetatable(t, OPENED) end

--- Whether v is a media table returned by media.open.
-- syntax: bool = media.is_opened(v)
function M.is_opened(v) return getmetatable(v) == OPENED end

local function basename(path) return (path:match("([^/]+)$")) or path end

local function from_file(op, field, t)
  local f, oerr = io.open(t.file, "rb")
  if not f then return check.fail(op, field, "cannot open %s file: %s", field, tostring(oerr)) end
  local head, rerr, code = f:read(16)
  if head == nil and code == 21 then      -- EISDIR: fopen opens a directory, reading fails
    f:close()
    return check.fail(op, field, "%s file %s is a directory", field, t.file)
  end
  local size = f:seek("end")
  f:close()
  if head == nil and rerr then return check.fail(op, field, "cannot read %s file: %s", field, tostring(rerr)) end
  if not size then return check.fail(op, field, "cannot read %s file", field) end
  local ext = t.file:match("%.(%w+)$")
  return opened { source = "file", path = t.file, size = size, filename = t.filename or basename(t.file),
    content_type = t.content_type or M.sniff(head or "") or (ext and EXT[ext:lower()]) or "application/octet-stream" }
end

local SOURCES = { "file", "data", "url" }
local KEYS = { file = true, data = true, url = true, filename = true, content_type = true }

-- the one source of a media table, or nil, msg, err
local function source_of(op, field, v)
  local found
  for _, k in ipairs(SOURCES) do
    if v[k] ~= nil then
      if found then
        return check.fail(op, field, "%s takes one of file, data or url, not %s and %s", field, found, k)
      end
      found = k
    end
  end
  if not found then return check.fail(op, field, "%s needs one of file, data or url", field) end
  for k in pairs(v) do
    if not KEYS[k] then
      return check.fail(op, field, "%s has an unknown key '%s' (file, data, url, filename, content_type)",
        field, tostring(k))
    end
  end
  for _, k in ipairs { "filename", "content_type" } do
    if v[k] ~= nil and (type(v[k]) ~= "string" or v[k] == "") then
      return check.fail(op, field, "%s.%s must be a non-empty string", field, k)
    end
  end
  if v.content_type ~= nil and not v.content_type:match("^[%w!#$&%-%^_%.%+]+/[%w!#$&%-%^_%.%+]+$") then
    return check.fail(op, field, "%s.content_type must be a media type such as image/png", field)
  end
  return found
end

--- Normalise a media argument; nil, msg, err (invalid_argument, field) when unusable.
-- syntax: m, msg, err = media.open(op, field, value)
-- m = {source = "file"|"data"|"url", path=, data=, url=, size=, filename=, content_type=}
function M.open(op, field, v)
  if type(v) == "string" then v = { file = v } end
  if type(v) ~= "table" then return check.fail(op, field, "%s must be a file path or a media table", field) end
  if getmetatable(v) == OPENED then return v end
  local src, msg, err = source_of(op, field, v)
  if not src then return nil, msg, err end
  if src == "file" then
    if type(v.file) ~= "string" or v.file == "" then return check.fail(op, field, "%s.file must be a path", field) end
    return from_file(op, field, v)
  elseif src == "data" then
    if type(v.data) ~= "string" then return check.fail(op, field, "%s.data must be a string", field) end
    local ext = v.filename and v.filename:match("%.(%w+)$")
    return opened { source = "data", data = v.data, size = #v.data, filename = v.filename or field,
      content_type = v.content_type or M.sniff(v.data:sub(1, 16)) or (ext and EXT[ext:lower()])
        or "application/octet-stream" }
  end
  local ok
  ok, msg, err = check.url(op, v, "url")
  if not ok then err.field = field; return nil, msg, err end
  local ext = v.url:match("%.(%w+)$") or v.url:match("%.(%w+)[?#]")
  return opened { source = "url", url = v.url, filename = v.filename or basename(v.url:gsub("[?#].*$", "")),
    content_type = v.content_type or (ext and EXT[ext:lower()]) }
end

--- Check a media's type and size against a provider's limits.
-- syntax: ok, msg, err = media.check(op, field, m, {types = {...}, max_size = bytes, min_size = bytes})
function M.check(op, field, m, limits)
  if limits.types and m.content_type then
    local ok = false
    for _, t in ipairs(limits.types) do if t == m.content_type then ok = true; break end end
    if not ok then
      return check.fail(op, field, "%s type %s is not accepted (accepted: %s)", field, m.content_type,
        table.concat(limits.types, ", "))
    end
  end
  if m.size and limits.max_size and m.size > limits.max_size then
    return check.fail(op, field, "%s is %d bytes, the limit is %d", field, m.size, limits.max_size)
  end
  if m.size and limits.min_size and m.size < limits.min_size then
    return check.fail(op, field, "%s is %d bytes, the minimum is %d", field, m.size, limits.min_size)
  end
  return true
end

--- A request body (or multipart part source) for bytes [offset, offset+length) of a media.
-- syntax: body = media.range(m, offset, length)
function M.range(m, offset, length)
  offset = offset or 0
  length = length or (m.size - offset)
  if m.source == "data" then return m.data:sub(offset + 1, offset + length) end
  return { file = m.path, offset = offset, length = length }
end

--- A multipart part carrying bytes [offset, offset+length) of a media.
-- syntax: part = media.part(name, m [, offset, length])
function M.part(name, m, offset, length)
  local part = { name = name, filename = m.filename, content_type = m.content_type }
  local body = M.range(m, offset, length)
  if type(body) == "string" then
    part.data = body
  elseif body.offset == 0 and body.length == m.size then
    part.file = body.file
  else
    -- a chunk of a file (bounded by the protocol's chunk size): read just that range
    local f = assert(io.open(body.file, "rb"))
    f:seek("set", body.offset)
    part.data = f:read(body.length) or ""
    f:close()
  end
  return part
end

--- Base64 of a whole media (small pictures for APIs that want inline data).
-- syntax: s = media.base64(m)
function M.base64(m)
  if m.source == "data" then return sign.base64(m.data) end
  local f = assert(io.open(m.path, "rb"))
  local s = f:read("*a")
  f:close()
  return sign.base64(s)
end

--- Make a URL media usable as bytes: download it (streamed to a temporary file).
-- syntax: m, msg, err = media.fetch(client, op, field, m [, max_size])
function M.fetch(client, op, field, m, max_size)
  if m.source ~= "url" then return m end
  local path = os.tmpname()
  local res, msg, err = client:request { method = "GET", url = m.url, sink = { file = path },
    max_body = max_size or 4 * 1024 ^ 3 }
  if not res then os.remove(path); return nil, msg, err end
  if res.status ~= 200 then
    os.remove(path)
    return check.fail(op, field, "%s URL answered HTTP %d", field, res.status)
  end
  local got, omsg, oerr = from_file(op, field, { file = path, filename = m.filename,
    content_type = m.content_type or (res.headers["content-type"] or ""):match("^[%w%-%./+]+") })
  if not got then os.remove(path); return nil, omsg, oerr end
  got.temporary = true
  return got
end

--- Remove a temporary download made by fetch (nothing for other media).
-- syntax: media.release(m)
function M.release(m)
  if m and m.temporary and m.path then os.remove(m.path) end
end

--- The one media preparation of every provider: open the argument, check it against
-- limits ({types=, max_size=, min_size=}); with download = true a URL is downloaded (the
-- provider cannot ingest URLs) and checked again; nonempty refuses 0 bytes. The caller
-- releases the result with media.release once sent.
-- syntax: m, msg, err = media.prepare(client, op, field, value, limits [, {download=, nonempty=, required=}])
function M.prepare(client, op, field, value, limits, opts)
  opts = opts or {}
  if value == nil then
    if opts.required == false then return false end
    return check.fail(op, field, "%s is required", field)
  end
  local m, msg, err = M.open(op, field, value)
  if not m then return nil, msg, err end
  local ok
  if m.source ~= "url" or not opts.lazy_url then
    ok, msg, err = M.check(op, field, m, limits)
    if not ok then return nil, msg, err end
  end
  if m.source == "url" and opts.download then
    local url = m.url
    m, msg, err = M.fetch(client, op, field, m, limits.max_size)
    if not m then return nil, msg, err end
    m.origin = url
    ok, msg, err = M.check(op, field, m, limits)
    if not ok then M.release(m); return nil, msg, err end
  end
  if opts.nonempty and m.size == 0 then
    M.release(m)
    return check.fail(op, field, "%s is empty", field)
  end
  return m
end

return M
