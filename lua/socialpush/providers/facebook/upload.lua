--- socialpush.providers.facebook.upload: Graph's legacy resumable video upload on
-- graph-video (POST /{target}/videos with upload_phase start -> transfer... -> finish).
--
-- The server chooses every chunk window: each transfer sends bytes [start_offset,
-- end_offset) and the answer names the next window. A refusal with subcode 1363037
-- carries error_data {start_offset, end_offset} to continue from; the other resumable
-- subcodes (php-graph-sdk's list) re-send the same chunk. Transfer chunks are idempotent,
-- so the client re-sends a broken one (transport failure, 429/503 with Retry-After) from
-- the same acknowledged offset; start and finish are never re-sent after an ambiguous
-- failure. With client.resume_dir the session and offsets survive a restart; a saved
-- session the server no longer knows starts over, once.
local pipeline = require "socialpush.pipeline"
local media = require "socialpush.pipeline.media"
local upload = require "socialpush.pipeline.upload"
local errors = require "socialpush.errors"
local json = require "socialpush.json"

local M = {}

local RESYNC = 1363037
local RESEND = { [1363030] = true, [1363019] = true, [1363033] = true, [1363021] = true, [1363041] = true }
local TRANSFER_EXPECT = { 200, 201, 400 }     -- 400s are read for resume offsets first
local RESEND_WAIT = 1                         -- seconds before re-sending a chunk Facebook asked for

-- integer offsets of a {start_offset, end_offset} table (strings in practice)
local function offsets(t)
  if type(t) == "string" then t = json.decode(t) end
  if type(t) ~= "table" then return nil end
  local s, e = tonumber(t.start_offset), tonumber(t.end_offset)
  if not s or not e or s % 1 ~= 0 or e % 1 ~= 0 or s < 0 or e < s then return nil end
  return s, e
end

-- a call spec of one phase: the operation's spec (url, ctx) with the phase's fields
local function phase(base, t)
  local spec = { operation = base.operation, url = base.url, ctx = base.ctx, method = "POST" }
  for k, v in pairs(t) do spec[k] = v end
  return spec
end

local function fail(h, op, kind, status, detail)
  return errors.fail { kind = kind, provider = h.name, operation = op, status = status, detail = detail }
end

local function start(h, base, m)
  local res, msg, err = h:call(phase(base, { idempotent = false,
    form = { { "upload_phase", "start" }, { "file_size", ("%.0f"):format(m.size) } } }))
  if not res then return nil, msg, err end
  local j = res.json
  local s, e = offsets(j)
  if not s or j.upload_session_id == nil or j.video_id == nil then
    return fail(h, base.operation, "decode", res.status, "the start reply lacks video_id, upload_session_id or offsets")
  end
  return { video_id = tostring(j.video_id), upload_session_id = tostring(j.upload_session_id),
    start_offset = s, end_offset = e }
end

-- one transfer: true on progress (s updated), false to go on from s, or nil, msg, err
local function transfer(h, base, m, s)
  local a, b = s.start_offset, s.end_offset
  if b > m.size then
    return fail(h, base.operation, "provider", nil,
      ("the server asked for bytes %d-%d of a %d-byte video"):format(a, b, m.size))
  end
  local spec = phase(base, { idempotent = true, expect = TRANSFER_EXPECT,
    progress = { phase = "upload", base = a, total = m.size }, multipart = {
      { name = "upload_phase", data = "transfer" },
      { name = "upload_session_id", data = s.upload_session_id },
      { name = "start_offset", data = ("%.0f"):format(a) },
      media.part("video_file_chunk", m, a, b - a),
    } })
  local res, msg, err = h:call(spec)
  if not res then return nil, msg, err end
  if res.status ~= 400 then
    local ns, ne = offsets(res.json)
    if not ns then return fail(h, base.operation, "decode", res.status, "the transfer reply lacks offsets") end
    s.start_offset, s.end_offset = ns, ne
    return ns > a
  end
  local e = type(res.json) == "table" and type(res.json.error) == "table" and res.json.error or {}
  local sub = tonumber(e.error_subcode)
  if sub == RESYNC then
    local ns, ne = offsets(e.error_data)
    if ns then
      s.start_offset, s.end_offset = ns, ne       -- the server's offsets, whatever ours were
      return false
    end
  elseif RESEND[sub] then
    h.client:sleep(RESEND_WAIT)
    return false
  end
  return pipeline.refuse(h, spec, res)
end

local function finish(h, base, s, meta)
  local form = { { "upload_phase", "finish" }, { "upload_session_id", s.upload_session_id } }
  local keys = {}
  for k in pairs(meta) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do form[#form + 1] = { k, meta[k] } end
  local res, msg, err = h:call(phase(base, { idempotent = false, form = form }))
  if not res then return nil, msg, err end
  if type(res.json) ~= "table" or res.json.success ~= true then
    return fail(h, base.operation, "provider", res.status, "finish did not answer success")
  end
  return res.json
end

-- start (unless resuming) and transfer every window; "restart" when a resumed session is unknown
local function send(h, base, m, st, stalls_max)
  local resumed = st.data.upload_session_id ~= nil
  local s = st.data
  if not resumed then
    local msg, err
    s, msg, err = start(h, base, m)
    if not s then return nil, msg, err end
    st.data = s
    st:save()
  end
  local stalls = 0
  while s.start_offset < s.end_offset do
    local progressed, msg, err = transfer(h, base, m, s)
    if progressed == nil then
      if resumed and err and not err.retryable and err.kind ~= "auth" then return "restart" end
      return nil, msg, err
    end
    resumed = false
    stalls = progressed and 0 or stalls + 1
    if stalls > stalls_max then
      return fail(h, base.operation, "provider", nil, "the video upload makes no progress")
    end
    st:save()
  end
  return true
end

--- Upload media m with the resumable protocol. base: the operation's call spec (operation,
-- url, ctx); meta: finish parameters (title, description, published, extra). Returns
-- {video_id=, raw=} or nil, msg, err.
-- syntax: up, msg, err = upload.resumable(h, base, m, meta, max_stalls)
function M.resumable(h, base, m, meta, stalls_max)
  local st = upload.state(h.client, upload.key(base.operation, m, base.url))
  local sent, msg, err
  for _ = 1, 2 do
    sent, msg, err = send(h, base, m, st, stalls_max)
    if sent ~= "restart" then break end
    st:clear()                       -- a saved session the server no longer knows: start again
  end
  if sent ~= true then return nil, msg, err end
  local raw
  raw, msg, err = finish(h, base, st.data, meta)
  if not raw then
    if err and not err.retryable and err.kind ~= "timeout" then st:clear() end
    return nil, msg, err
  end
  local id = st.data.video_id
  st:clear()
  return { video_id = id, raw = { id = id, success = raw.success } }
end

return M
