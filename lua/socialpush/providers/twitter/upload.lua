--- socialpush.providers.twitter.upload: X's v2 media upload (one-shot pictures; chunked
-- videos: initialize, append segments, finalize, STATUS polling until processed).
-- Segments are idempotent: the client re-sends a broken one (dropped connection, 429/503
-- with Retry-After) and nothing before it; initialize is never re-sent after an ambiguous
-- failure. With client.resume_dir the session and the next segment survive a restart. Uses
-- the handle's methods (h:api, h:data_id, h:call) of socialpush.providers.twitter.
local pipeline = require "socialpush.pipeline"
local media = require "socialpush.pipeline.media"
local upload = require "socialpush.pipeline.upload"
local poll = require "socialpush.pipeline.poll"
local errors = require "socialpush.errors"

local M = {
  chunk_size = 4 * 1024 * 1024,   -- APPEND segments (v2 limit unconfirmed; xurl uses 4 MB)
  max_polls = 1000,               -- STATUS polls per upload (the timeout bounds them too)
}

-- POST /2/media/metadata: alt text of a media
local function set_alt_text(h, op, id, description)
  local url, msg, err = h:api(op, "/media/metadata")
  if not url then return nil, msg, err end
  return h:call { operation = op, method = "POST", url = url, idempotent = true,
    json = { id = id, metadata = { alt_text = { text = description } } } }
end

--- One-shot picture upload (+ alt text). Returns {id=, raw=} or nil, msg, err.
-- syntax: up, msg, err = upload.picture(h, op, m, description)
function M.picture(h, op, m, description)
  local url, msg, err = h:api(op, "/media/upload")
  if not url then return nil, msg, err end
  local res
  res, msg, err = h:call { operation = op, method = "POST", url = url, idempotent = false,
    progress = { phase = "upload", total = m.size },
    multipart = {
      { name = "media_category", data = "tweet_image" },
      { name = "media_type", data = m.content_type },
      media.part("media", m),
    } }
  if not res then return nil, msg, err end
  local id
  id, msg, err = h:data_id(op, res)
  if not id then return nil, msg, err end
  if description and description:find("%S") then
    local mres
    mres, msg, err = set_alt_text(h, op, id, description)
    if not mres then return nil, msg, err end
  end
  return { id = id, raw = res.json }
end

-- INITIALIZE: a new session in st.data
local function initialize(h, op, m, st)
  local url, msg, err = h:api(op, "/media/upload/initialize")
  if not url then return nil, msg, err end
  local res
  res, msg, err = h:call { operation = op, method = "POST", url = url, idempotent = false,
    json = { media_type = m.content_type, total_bytes = m.size, media_category = "tweet_video" } }
  if not res then return nil, msg, err end
  local id, data, derr = h:data_id(op, res)
  if not id then return nil, data, derr end
  st.data = { id = id, next = 0, expires_at = os.time() + (tonumber(data.expires_after_secs) or 86400) }
  st:save()
  return true
end

-- APPEND every segment from st.data.next; "gone" when the first one finds no session
local function append(h, op, m, st, chunk, resumed)
  local s = st.data
  local from = tonumber(s.next) or 0
  for offset, length, i in upload.chunks(m.size, chunk, from * chunk) do
    local seg = from + i
    local url, msg, err = h:api(op, "/media/upload/" .. s.id .. "/append")
    if not url then return nil, msg, err end
    local res
    res, msg, err = h:call { operation = op, method = "POST", idempotent = true, url = url,
      progress = { phase = "upload", base = offset, total = m.size },
      multipart = { { name = "segment_index", data = tostring(seg) }, media.part("media", m, offset, length) } }
    if not res then
      local gone = err.kind == "not_found" or err.kind == "invalid_argument"
      if resumed and seg == from and gone then return "gone" end
      return nil, msg, err
    end
    s.next = seg + 1
    st:save()
  end
  return true
end

-- FINALIZE: the reply's data (processing_info)
local function finalize(h, op, st)
  local s = st.data
  local url, msg, err = h:api(op, "/media/upload/" .. s.id .. "/finalize")
  if not url then return nil, msg, err end
  local res
  res, msg, err = h:call { operation = op, method = "POST", idempotent = true, url = url }
  if not res then
    if err.kind == "invalid_argument" or err.kind == "not_found" then st:clear() end
    return nil, msg, err
  end
  local id, data, derr = h:data_id(op, res)
  if not id then return nil, data, derr end
  if id ~= s.id then return pipeline.no_id(h, op, res, "the uploaded media id") end
  s.finalized = true
  st:save()
  return { data = data, res = res }
end

-- the session of an upload: resumed from st when it is still valid
local function session(h, op, m, st)
  local s = st.data
  if s.id and (type(s.id) ~= "string" or (tonumber(s.expires_at) or 0) <= os.time()) then st:clear() end
  if st.data.id then return true, true end
  local ok, msg, err = initialize(h, op, m, st)
  if not ok then return nil, msg, err end
  return true, false
end

-- INITIALIZE (unless resuming), APPEND every segment, FINALIZE; a saved session the server
-- no longer knows starts over, once. Returns {data=, res=} of finalize.
local function transfer(h, op, m, st, chunk)
  for _ = 1, 2 do
    local ok, resumed, err = session(h, op, m, st)
    if not ok then return nil, resumed, err end
    if st.data.finalized then
      return { data = { id = st.data.id, processing_info = { state = "pending", check_after_secs = 0 } } }
    end
    local r, msg
    r, msg, err = append(h, op, m, st, chunk, resumed)
    if r == true then return finalize(h, op, st) end
    if r ~= "gone" then return nil, msg, err end
    st:clear()
  end
  return errors.fail { kind = "provider", provider = h.name, operation = op,
    detail = "the upload session was lost twice" }
end

-- STATUS polling until succeeded/failed, honouring check_after_secs, bounded by the
-- client's timeout. Returns the final state and the last reply (nil before any poll).
local function await_processing(h, op, id, fin, wait)
  local data = fin.data
  local info = type(data.processing_info) == "table" and data.processing_info or nil
  local last = fin.res
  return poll.run(h.client, { operation = op, provider = h.name, what = "media " .. id, max_polls = M.max_polls },
    function(n)
      if n > 0 then
        local url, msg, err = h:api(op, "/media/upload")
        if not url then return nil, msg, err end
        local res
        res, msg, err = h:call { operation = op, method = "GET", url = url, idempotent = true,
          query = { { "media_id", id }, { "command", "STATUS" } } }
        if not res then return nil, msg, err end
        local rdata = type(res.json) == "table" and res.json.data
        if type(rdata) ~= "table" then return pipeline.no_id(h, op, res, "data") end
        info = type(rdata.processing_info) == "table" and rdata.processing_info or nil
        last = res
      end
      local state = info and info.state
      if state == "pending" or state == "in_progress" then
        if not wait then return "done", state, last end
        return "wait", tonumber(info.check_after_secs) or 1, state
      end
      if state == "failed" then return pipeline.refuse(h, { operation = op }, last) end
      if state ~= nil and state ~= "succeeded" then
        return errors.fail { kind = "decode", provider = h.name, operation = op, status = last and last.status,
          detail = "unknown processing state " .. tostring(state) }
      end
      return "done", "succeeded", last
    end)
end

--- Chunked video upload and processing. opts: chunk_size, wait (false: return once
-- finalized). Returns {id=, state=, raw=} or nil, msg, err; a timeout keeps the saved
-- session (a later call resumes it), other failures of processing clear it.
-- syntax: up, msg, err = upload.video(h, op, m, {chunk_size=, wait=})
function M.video(h, op, m, opts)
  local chunk = opts.chunk_size or M.chunk_size
  local st = upload.state(h.client, upload.key(op, m, tostring(chunk)))
  local fin, msg, err = transfer(h, op, m, st, chunk)
  if not fin then return nil, msg, err end
  local id = st.data.id
  local state, last
  state, last, err = await_processing(h, op, id, fin, opts.wait ~= false)
  if not state then
    if err.kind ~= "timeout" then st:clear() end
    return nil, last, err
  end
  if state == "succeeded" then st:clear() end
  return { id = id, state = state, raw = last and last.json or fin.data }
end

return M
