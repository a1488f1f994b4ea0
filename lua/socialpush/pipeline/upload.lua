--- socialpush.pipeline.upload: what every chunked or resumable upload protocol shares.
-- Chunk iteration over a media's bytes, and (when the client has a resume_dir) a small
-- state file so that a restarted process resumes an upload instead of starting again.
local json = require "socialpush.json"
local sign = require "socialpush.sign"

local M = {}

--- Iterate over [offset, length) chunks of size bytes, starting at `from`.
-- syntax: for offset, length, index in upload.chunks(size, chunk [, from]) do ... end
function M.chunks(size, chunk, from)
  local offset, index = from or 0, -1
  return function()
    if offset >= size then return nil end
    local o = offset
    local len = math.min(chunk, size - o)
    offset = o + len
    index = index + 1
    return o, len, index
  end
end

local function state_path(client, key)
  local dir = client.resume_dir
  if not dir then return nil end
  return dir .. "/socialpush-" .. sign.hex(sign.sha256(key)):sub(1, 32) .. ".json"
end

--- Upload state kept across processes when client.resume_dir is set.
-- syntax: st = upload.state(client, key); st.data.offset = n; st:save(); st:clear()
-- key names the upload (provider, operation, file path, size); st.data is {} when new.
function M.state(client, key)
  local path = state_path(client, key)
  local st = { path = path, data = {} }
  if path then
    local f = io.open(path, "rb")
    if f then
      local v = json.decode(f:read("*a") or "")
      f:close()
      if type(v) == "table" and v.key == key then st.data = v.state or {} end
    end
  end
  function st.save(self)
    if not self.path then return end
    local tmp = self.path .. ".tmp"
    local f = io.open(tmp, "wb")
    if not f then return end
    f:write((json.encode { key = key, state = self.data }))
    f:close()
    os.rename(tmp, self.path)
  end
  function st.clear(self)
    if self.path then os.remove(self.path) end
    self.data = {}
  end
  return st
end

--- The key of an upload of media m for an operation: its file (a downloaded URL by its
-- URL), size and what else makes it another upload (chunk size, metadata).
-- syntax: key = upload.key(operation, m [, extra])
function M.key(operation, m, extra)
  local source = m.origin or m.path or m.url or sign.hex(sign.sha256(m.data or ""))
  return table.concat({ operation, source, tostring(m.size), extra or "" }, "|")
end

return M
