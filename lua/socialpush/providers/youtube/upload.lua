--- socialpush.providers.youtube.upload: the resumable upload protocol of videos.insert.
-- The upload follows the server, never its own idea of progress: every 308 carries
-- "Range: bytes=0-N" and the next chunk starts at N+1 (Google may persist less than was
-- sent: it keeps whole 256 KiB units). A broken chunk (transport error, 5xx, 429) is
-- followed by a status query (PUT, "Content-Range: bytes */total", no body) and the upload
-- goes on from the offset that reports; a 404 on the session URI starts a new session
-- (once). With client.resume_dir the session URI and offset are kept in a state file so
-- another process resumes the same session.
--
-- One retry policy: this loop is the only one that repeats a chunk or a status query
-- (their requests carry retries = 0, so the client does not retry inside it), at most
-- max_recoveries times per upload, waiting Retry-After or a capped backoff, then asking the
-- session for its offset (also after a 503 with Retry-After: the status query is exact).
local errors = require "socialpush.errors"
local check = require "socialpush.pipeline.check"
local media = require "socialpush.pipeline.media"

local M = {
  chunk_unit = 262144,     -- every chunk but the last: a multiple of 256 KiB
  max_recoveries = 5,      -- broken chunks resumed per upload before giving up
  max_stalls = 3,          -- chunks in a row the server kept none of
  -- hosts a session URI may point to (the bearer token is sent there)
  session_hosts = { ["www.googleapis.com"] = true, ["youtube.googleapis.com"] = true },
}

-- decimal text of a byte count (exact on 5.1/LuaJIT doubles too)
local function n2s(n) return ("%.0f"):format(n) end

--- Whether a session URI may get the token: https on a Google host (session_hosts) or the
-- handle's configured api_host.
-- syntax: ok = upload.session_ok(h, uri)
function M.session_ok(h, uri)
  if check.https_host(uri, M.session_hosts) then return true end
  local base = h.creds and h.creds.api_host or h.api_host
  local own = type(base) == "string" and base:match("^https://([^/?#]+)")
  return own ~= nil and own ~= false and check.https_host(uri, { [own:lower()] = true })
end

-- the offset after "Range: bytes=0-N" (0 when absent), or nil when unreadable
local function next_offset(res)
  local r = res.headers and res.headers["range"]
  if r == nil then return 0 end
  local last = r:match("^%s*bytes%s*=%s*0%-(%d+)%s*$")
  return last and tonumber(last) + 1 or nil
end

local function fail(h, op, msg, status)
  return errors.fail { kind = "provider", provider = h.name, operation = op, status = status,
    message = op .. ": " .. msg }
end

local function initiate(h, op, u)
  local m = u.media
  local res, msg, err = h:call {
    operation = op, method = "POST", url = u.url, query = u.query,
    headers = { { "X-Upload-Content-Length", n2s(m.size) },
      { "X-Upload-Content-Type", m.content_type or "application/octet-stream" } },
    json = u.meta, content_type = "application/json; charset=UTF-8",
    idempotent = true,            -- creates a session, not a video: safe to repeat
    expect = { 200, 201 },
  }
  if not res then return nil, msg, err end
  local loc = res.headers["location"]
  if not M.session_ok(h, loc) then
    return fail(h, op, "the upload session URI is missing or not an https URL on a Google host", res.status)
  end
  return loc
end

local function put_chunk(h, op, uri, m, offset, len)
  return h:call {
    operation = op, method = "PUT", url = uri,
    headers = { { "Content-Range", "bytes " .. n2s(offset) .. "-" .. n2s(offset + len - 1) .. "/" .. n2s(m.size) } },
    body = media.range(m, offset, len), content_type = m.content_type,
    idempotent = false,           -- after a broken chunk: ask the server, never re-send blindly
    retries = 0, expect = { 200, 201, 308 },
    progress = { phase = "upload", base = offset, total = m.size },
  }
end

local function status_query(h, op, uri, total)
  return h:call {
    operation = op, method = "PUT", url = uri,
    headers = { { "Content-Range", "bytes */" .. n2s(total) } }, body = "",
    idempotent = true, retries = 0, expect = { 200, 201, 308 },
  }
end

-- failures after which the session may still be fine: ask it where it stands
local function recoverable(err)
  local k = err.kind
  return k == "transport" or k == "timeout" or k == "server" or (k == "rate_limited" and err.status == 429)
end

-- the wait before recovery n, or nil when it does not fit the client's timeout
local function recovery_wait(client, err, n)
  local wait = err.retry_after or math.min(0.5 * 2 ^ (n - 1), 8)
  if wait > client.timeout then return nil end
  return wait
end

--- Upload u.media through a resumable session; returns the final response (200/201 with
-- the video resource). u = {url=, meta=, query=, media=, state= (upload.state; data =
-- {session=, total=, offset=}), chunk=}. The state is kept on failure so that a later call
-- (another process with the same resume_dir) resumes the session.
-- syntax: res, msg, err = upload.upload(h, op, u)
function M.upload(h, op, u)
  local client, m, st = h.client, u.media, u.state
  local total = m.size
  local uri, offset, ask = nil, 0, false
  local d = st.data
  if d.session and d.total == total and M.session_ok(h, d.session) then
    uri, offset, ask = d.session, d.offset or 0, true   -- resume: the server says from where
  elseif d.session then
    st:clear()
  end
  local restarted, recoveries, stalls = false, 0, 0
  while true do
    if not uri then
      local loc, msg, err = initiate(h, op, u)
      if not loc then return nil, msg, err end
      uri, offset = loc, 0
      st.data = { session = uri, total = total, offset = 0 }
      st:save()
    end
    local queried = ask
    local res, msg, err
    if ask then
      ask = false
      res, msg, err = status_query(h, op, uri, total)
    else
      res, msg, err = put_chunk(h, op, uri, m, offset, math.min(u.chunk, total - offset))
    end
    if res and res.status ~= 308 then
      st:clear()
      return res
    elseif res then
      local nxt = next_offset(res)
      if not nxt or nxt > total then return fail(h, op, "unreadable Range in a 308 reply", 308) end
      if queried or nxt > offset then stalls = 0 else stalls = stalls + 1 end
      if stalls > M.max_stalls then return fail(h, op, "the server keeps none of the bytes sent", 308) end
      offset = nxt
      st.data.offset = offset
      st:save()
      if offset >= total and queried then return fail(h, op, "upload complete but not finalised", 308) end
      if offset >= total then ask = true end          -- all bytes held but not finished
    elseif err.status == 404 and not restarted then
      restarted, uri = true, nil                      -- session expired: start again, once
      st:clear()
    elseif recoverable(err) then
      recoveries = recoveries + 1
      local wait = recoveries <= M.max_recoveries and recovery_wait(client, err, recoveries)
      if not wait then return nil, msg, err end
      if wait > 0 then client:sleep(wait) end
      ask = true              -- Google's procedure: ask the session where it stands, go on from there
    else
      return nil, msg, err
    end
  end
end

return M
