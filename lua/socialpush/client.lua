--- socialpush.client: the client object, its low-level request call, the retry policy
-- and the job scheduler that runs many requests on one transport (one curl multi handle).
--
-- Outside a job a call blocks until its request is done, driving every other job
-- meanwhile; inside a job (client:spawn, client:all) a call yields to the scheduler.
-- client:poll() never blocks. See docs/transport.md.
local errors = require "socialpush.errors"

local M = {}

local pack = table.pack or function(...) return { n = select("#", ...), ... } end
local unpack = table.unpack or unpack   -- luacheck: ignore 143
-- the per-request path runs these many times: locals, not global lookups
local type, next, pairs, ipairs, error, tostring = type, next, pairs, ipairs, error, tostring
local getmetatable, setmetatable = getmetatable, setmetatable
local co_running, co_resume, co_yield = coroutine.running, coroutine.resume, coroutine.yield
local co_isyieldable, co_create = coroutine.isyieldable, coroutine.create

local Client = {}
local client_mt = { __index = Client }
local Job = {}
local job_mt = { __index = Job }

local YIELD = {}   -- what a job yields when it registered what it waits for
local DONE = {}    -- first value a job's coroutine returns when its function returned
local MAX_SLICE = 1.0            -- longest single wait inside the loop (seconds)
local BACKOFF_BASE, BACKOFF_MAX = 0.25, 10

local OPTIONS = {
  timeout = "number", connect_timeout = "number", retries = "number", ca_file = "string",
  proxy = "string", connect_to = "table", on_progress = "function", max_body = "number",
  user_agent = "string", identities = { table = true, ["function"] = true },
  resume_dir = "string", transport = "table",
}

local REQUEST_FIELDS = {
  method = "string", url = "string", headers = "table", body = { string = true, table = true },
  timeout = "number", max_body = "number", idempotent = "boolean", retries = "number",
  on_progress = "function", operation = "string", sink = "table",
}

-- common methods already in upper case (the rest go through string.upper)
local UPPER = { GET = true, POST = true, PUT = true, PATCH = true, DELETE = true, HEAD = true,
  OPTIONS = true }
-- methods a repeat cannot change the effect of (RFC 9110 section 9.2.2)
local IDEMPOTENT = { GET = true, HEAD = true, PUT = true, DELETE = true, OPTIONS = true, TRACE = true }
local RETRY_STATUS = { [408] = true, [429] = true, [500] = true, [502] = true, [503] = true, [504] = true }

local fields_ok = require("socialpush.core").check_fields

local function check_fields(t, spec, what, level)
  local k, got, why = fields_ok(t, spec)
  if why == "unknown" then
    error(("%s: unknown option '%s'"):format(what, tostring(k)), level + 1)
  elseif why then
    error(("%s: option '%s' has the wrong type (%s)"):format(what, tostring(k), got), level + 1)
  end
end

local function check_positive(v, name, level, integer)
  if v ~= nil and (v <= 0 or v ~= v or (integer and v % 1 ~= 0)) then
    error(("socialpush.new: option '%s' must be a positive %s"):format(name,
      integer and "integer" or "number"), level + 1)
  end
end

--- Seconds to wait from a Retry-After value: delta-seconds or an HTTP-date.
-- syntax: seconds = client.retry_after(value [, now_epoch])   -- nil when absent or invalid
local MONTHS = { Jan = 1, Feb = 2, Mar = 3, Apr = 4, May = 5, Jun = 6, Jul = 7, Aug = 8,
  Sep = 9, Oct = 10, Nov = 11, Dec = 12 }

local function days_from_civil(y, m, d)   -- days since 1970-01-01 (proleptic Gregorian)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = math.floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

function M.retry_after(v, now)
  if type(v) ~= "string" then return nil end
  v = v:match("^%s*(.-)%s*$")
  if v:match("^%d+$") then return tonumber(v) end
  local d, mon, y, hh, mm, ss = v:match("^%a+, (%d%d?) (%a%a%a) (%d%d%d%d) (%d%d):(%d%d):(%d%d) GMT$")
  if not d then      -- RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
    d, mon, y, hh, mm, ss = v:match("^%a+, (%d%d)%-(%a%a%a)%-(%d%d) (%d%d):(%d%d):(%d%d) GMT$")
    if y then y = tonumber(y) + (tonumber(y) < 70 and 2000 or 1900) end
  end
  if not d then      -- asctime: Sun Nov  6 08:49:37 1994
    mon, d, hh, mm, ss, y = v:match("^%a+ (%a%a%a) +(%d%d?) (%d%d):(%d%d):(%d%d) (%d%d%d%d)$")
  end
  local m = mon and MONTHS[mon]
  if not m then return nil end
  local t = days_from_civil(tonumber(y), m, tonumber(d)) * 86400 + tonumber(hh) * 3600
    + tonumber(mm) * 60 + tonumber(ss)
  local delta = t - (now or os.time())
  return delta > 0 and delta or 0
end

--------------------------------------------------------------------------- client

-- OpenResty (added for the cosocket transport): inside nginx, in a phase where cosockets
-- work, requests go through socialpush.transport.openresty so that they never block the
-- worker; everywhere else through libcurl. An explicit opts.transport always wins.
local function default_transport()
  if type(rawget(_G, "ngx")) == "table" then
    local openresty = require("socialpush.transport.openresty")
    if openresty.usable() then return openresty end
  end
  return require("socialpush.transport.curl")
end

-- client metatables: the plain one, and one per set of methods an upper layer adds
-- (socialpush's entry module adds the provider constructors) without writing into Client
local client_mts = setmetatable({ [client_mt] = true }, { __mode = "k" })
local derived = setmetatable({}, { __mode = "k" })

local function class_of(methods)
  if methods == nil then return client_mt end
  local mt = derived[methods]
  if mt then return mt end
  local index = setmetatable({}, { __index = Client })
  for k, v in pairs(methods) do if Client[k] == nil then index[k] = v end end
  mt = { __index = index, __tostring = client_mt.__tostring, __gc = client_mt.__gc, __close = client_mt.__close }
  derived[methods], client_mts[mt] = mt, true
  return mt
end

--- Create a client. Unknown options or wrong types raise. methods: extra methods the
-- client gets (the entry module's provider constructors); the client's own win.
-- syntax: client = socialpush.new{timeout=, connect_timeout=, retries=, ca_file=, proxy=,
--   connect_to=, on_progress=, max_body=, user_agent=, identities=, resume_dir=, transport=}
function M.new(opts, methods)
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then error("socialpush.new: options table expected", 2) end
  check_fields(opts, OPTIONS, "socialpush.new", 2)
  check_positive(opts.timeout, "timeout", 2)
  check_positive(opts.connect_timeout, "connect_timeout", 2)
  check_positive(opts.max_body, "max_body", 2, true)
  if opts.retries ~= nil and (opts.retries < 0 or opts.retries % 1 ~= 0) then
    error("socialpush.new: option 'retries' must be a non-negative integer", 2)
  end
  local transport = opts.transport or default_transport()
  local t = transport.new {
    timeout = opts.timeout, connect_timeout = opts.connect_timeout, ca_file = opts.ca_file,
    proxy = opts.proxy, connect_to = opts.connect_to, user_agent = opts.user_agent,
    max_body = opts.max_body,
  }
  return setmetatable({
    timeout = opts.timeout or 60,
    retries = opts.retries or 3,
    on_progress = opts.on_progress,
    identities = opts.identities,
    resume_dir = opts.resume_dir,
    _t = t,
    _closed = false,
    _njobs = 0,                              -- jobs not done
    _by_co = setmetatable({}, { __mode = "k" }),
    _waiting = {},                           -- handle -> job waiting for it
    _sleepers = {},                          -- list of jobs with .wake_at
    _ready = {},                             -- jobs to resume at the next step
    _cond = {},                              -- job -> true: waiting for its .cond()
    _watch = {},                             -- handle -> progress record
    _req = {},                               -- the request table handed to t:start
  }, class_of(methods))
end

local function check(self, level)
  if self._closed == false then return end      -- an open client: one field read
  if not client_mts[getmetatable(self)] then
    error("socialpush: method called on something that is not a client (use ':')", (level or 2) + 1)
  end
  error("socialpush: attempt to use a closed client", (level or 2) + 1)
end

function client_mt.__tostring(self)
  return self._closed and "socialpush.client (closed)" or "socialpush.client"
end

--- Monotonic clock of the client's transport, seconds.
-- syntax: s = client:now()
function Client:now()
  return self._t:now()
end

-- the job of this client running the current coroutine, when it may yield
local function current_job(self)
  local co, main = co_running()
  if co == nil or main then return nil end
  local job = self._by_co[co]
  if job and co_isyieldable and not co_isyieldable() then return nil end
  return job
end

------------------------------------------------------------------------ scheduler

local function finish(self, job, results, err)
  if job.status == "done" then return end
  job.status, job.results, job.error = "done", results, err
  self._njobs = self._njobs - 1
  self._by_co[job.co] = nil
  for _, f in ipairs(job.on_done) do f(job) end
  for w in pairs(self._cond) do          -- wake jobs whose condition may now hold
    if w.cond() then
      self._cond[w] = nil
      self._ready[#self._ready + 1] = w
    end
  end
end

local function resume(self, job, ...)
  if job.status == "done" then return end
  job.wait = nil
  local ok, tag, results = co_resume(job.co, ...)
  if not ok then
    job.traceback = debug.traceback(job.co, tostring(tag))
    finish(self, job, nil, tag == nil and "job failed" or tag)
  elseif tag == DONE then
    finish(self, job, results)
  elseif tag ~= YIELD then               -- a plain coroutine.yield(): run again next step
    job.wait = "ready"
    self._ready[#self._ready + 1] = job
  end
end

local function report_progress(self, h, rec)
  local sent, total, received, rtotal = h:progress()
  if sent == rec.sent and received == rec.received then return end
  rec.sent, rec.received = sent, received
  local p = { operation = rec.operation, sent = sent, total = total, received = received,
    received_total = rtotal }
  if rec.cb then rec.cb(p) end
  if self.on_progress then self.on_progress(p) end
end

-- seconds the next step may wait: until the next sleeper or deadline, at most MAX_SLICE
local function slice(self, deadline)
  if #self._ready > 0 then return 0 end
  local sleepers = self._sleepers
  if not deadline and #sleepers == 0 then return MAX_SLICE end
  local now, wait = self._t:now(), MAX_SLICE
  if deadline and deadline - now < wait then wait = deadline - now end
  for i = 1, #sleepers do
    local at = sleepers[i].wake_at
    if at - now < wait then wait = at - now end
  end
  return wait > 0 and wait or 0
end

-- one turn of the loop: transfers, progress, finished handles, due sleepers, ready jobs
local function step(self, wait)
  local finished, running = self._t:step(wait)
  if next(self._watch) then
    local watched = {}
    for h, rec in pairs(self._watch) do watched[#watched + 1] = { h, rec } end
    for _, w in ipairs(watched) do report_progress(self, w[1], w[2]) end
  end
  local waiting = self._waiting
  for i = 1, #finished do
    local h = finished[i]
    local job = waiting[h]
    if job then
      waiting[h] = nil
      resume(self, job)
    end
  end
  if #self._sleepers > 0 then
    local now, keep, due = self._t:now(), {}, {}
    for _, job in ipairs(self._sleepers) do
      if job.wake_at <= now then due[#due + 1] = job else keep[#keep + 1] = job end
    end
    self._sleepers = keep
    for _, job in ipairs(due) do resume(self, job) end
  end
  if #self._ready > 0 then
    local ready = self._ready
    self._ready = {}
    for _, job in ipairs(ready) do resume(self, job) end
  end
  return running
end

-- drive the loop until cond() holds (or the deadline passes, when given)
local function drive(self, cond, deadline)
  while not cond() do
    if deadline and self._t:now() >= deadline then return end
    -- transfers running at the step's end still run: only when none did, jobs the
    -- step resumed may have started new ones, so the transport is asked again
    local running = step(self, slice(self, deadline))
    if not deadline and running == 0 and #self._ready == 0 and #self._sleepers == 0
       and self._t:running() == 0 and not cond() then
      error("socialpush: nothing left to wait for (a job waits on itself?)", 3)
    end
  end
end

-- block (outside a job) or yield (inside one) until cond() holds
local function wait_until(self, cond)
  if cond() then return end
  local job = current_job(self)
  if not job then return drive(self, cond) end
  while not cond() do
    job.wait, job.cond = "cond", cond
    self._cond[job] = true
    co_yield(YIELD)
  end
end

--- Wait seconds without blocking other jobs (inside a job it yields; outside it drives them).
-- syntax: client:sleep(seconds)
function Client:sleep(seconds)
  check(self)
  if type(seconds) ~= "number" then error("client:sleep: seconds expected", 2) end
  if seconds <= 0 then return end
  local job = current_job(self)
  local at = self._t:now() + seconds
  if job then
    job.wait, job.wake_at = "sleep", at
    self._sleepers[#self._sleepers + 1] = job
    co_yield(YIELD)
  else
    drive(self, function() return self._t:now() >= at end, at)
  end
end

-- the result of a started handle, waiting for it as the caller's context allows
local function await(self, h, spec)
  if self.on_progress or spec.on_progress then
    self._watch[h] = { operation = spec.operation or "request", cb = spec.on_progress }
  end
  local job = current_job(self)
  if job then
    job.wait = h
    self._waiting[h] = job
    co_yield(YIELD)
  else
    drive(self, function() return h:done() end)
  end
  local rec = self._watch[h]
  if rec then
    report_progress(self, h, rec)
    self._watch[h] = nil
  end
  return h:result(true)                    -- and closes it
end

------------------------------------------------------------------------- requests

local function backoff(attempt, cap)
  local d = BACKOFF_BASE * 2 ^ attempt
  d = d / 2 + math.random() * d / 2
  if d > BACKOFF_MAX then d = BACKOFF_MAX end
  if d > cap then d = cap end
  return d
end

-- seconds to wait before another attempt, or nil when this outcome is final
local function retry_delay(self, idempotent, res, err, attempt, retries)
  if attempt >= retries then return nil end
  if err then
    local kind = err.kind
    if kind ~= "transport" and kind ~= "timeout" and kind ~= "tls" then return nil end
    -- a certificate that failed verification will fail again; a broken handshake may not
    if kind == "tls" and err.curl_code ~= 35 then return nil end
    if err.sent == false or idempotent then return backoff(attempt, self.timeout) end
    return nil                      -- it may have reached the server: never re-send
  end
  local st = res.status
  if (st == 429 or st == 503) and res.retry_after then
    -- refused before processing: safe for any method, if the wait fits the timeout
    if res.retry_after > self.timeout then return nil end
    return res.retry_after
  end
  if idempotent and RETRY_STATUS[st] then return backoff(attempt, self.timeout) end
  return nil
end

--- The low-level HTTP call under every provider module. A non-2xx status is a response.
-- syntax: res, msg, err = client:request{method=, url=, headers=, body=, timeout=, max_body=,
--   idempotent=, retries=, sink=, on_progress=, operation=}
-- res = {status, headers, header_list, body, body_bytes, http_version, reused, timings,
--   retry_after, attempts}; headers: lower-case names, repeats joined with ", ";
--   header_list: every {name, value} in order. body: a string, {file=, offset=, length=}
--   or {multipart = {{name=, data= | file=, filename=, content_type=}, ...}}
function Client:request(spec)
  check(self)
  if type(spec) ~= "table" then error("client:request: table expected", 2) end
  check_fields(spec, REQUEST_FIELDS, "client:request", 2)
  if spec.url == nil then error("client:request: url expected", 2) end
  local method = spec.method or "GET"
  if not UPPER[method] then method = method:upper() end
  local idempotent = spec.idempotent
  if idempotent == nil then idempotent = IDEMPOTENT[method] or false end
  local retries = spec.retries or self.retries
  local req = self._req                 -- one table per client: start copies what it needs
  local attempt = 0
  while true do
    req.method, req.url, req.headers, req.body = method, spec.url, spec.headers, spec.body
    req.timeout, req.max_body, req.sink = spec.timeout, spec.max_body, spec.sink
    local h, msg, err = self._t:start(req)
    req.headers, req.body, req.sink = nil, nil, nil      -- hold no caller data
    if not h then return nil, msg, err end        -- nothing was sent
    local res
    res, msg, err = await(self, h, spec)
    local ra = res and res.headers["retry-after"]
    if ra then res.retry_after = M.retry_after(ra) end
    local delay = retry_delay(self, idempotent, res, err, attempt, retries)
    attempt = attempt + 1
    if not delay then
      if res then
        res.attempts = attempt
        return res
      end
      err.attempts = attempt
      return nil, msg, err
    end
    if delay > 0 then self:sleep(delay) end
  end
end

----------------------------------------------------------------------------- jobs

local function new_job(self, f, args)
  local job = setmetatable({ client = self, status = "running", on_done = {} }, job_mt)
  job.co = co_create(function()
    return DONE, pack(f(unpack(args, 1, args.n)))
  end)
  self._by_co[job.co] = job
  self._njobs = self._njobs + 1
  return job
end

--- Run f(...) as a job on the client's transport; returns at f's first wait.
-- syntax: job = client:spawn(f, ...)
function Client:spawn(f, ...)
  check(self)
  if type(f) ~= "function" then error("client:spawn: function expected", 2) end
  local job = new_job(self, f, pack(...))
  resume(self, job)
  return job
end

--- Whether the job has finished (returned, raised or was cancelled).
-- syntax: bool = job:done()
function Job:done()
  return self.status == "done"
end

--- The job's return values, waiting for them (yielding inside a job, else driving the loop).
-- Re-raises the error when the job's function raised.
-- syntax: ... = job:result()
function Job:result()
  local client = self.client
  if self.status ~= "done" then
    check(client)
    if current_job(client) == self then error("job:result: a job cannot wait for itself", 2) end
    wait_until(client, function() return self.status == "done" end)
  end
  if self.error ~= nil then error(self.error, 0) end
  return unpack(self.results, 1, self.results.n)
end

--- Cancel the job: its in-flight request is cancelled and its result becomes
-- nil, msg, err (kind cancelled). Returns false when it had already finished.
-- syntax: bool = job:cancel()
function Job:cancel()
  local client = self.client
  if self.status == "done" then return false end
  local w = self.wait
  if type(w) == "userdata" or type(w) == "table" and w ~= self then
    client._waiting[w] = nil
    client._watch[w] = nil
    w:cancel()
    w:close()
  elseif w == "sleep" then
    for i, j in ipairs(client._sleepers) do
      if j == self then table.remove(client._sleepers, i) break end
    end
  elseif w == "ready" then
    for i, j in ipairs(client._ready) do
      if j == self then table.remove(client._ready, i) break end
    end
  end
  client._cond[self] = nil
  for _, child in ipairs(self.children or {}) do child:cancel() end
  finish(client, self, pack(errors.fail { kind = "cancelled", message = "job cancelled" }))
  if coroutine.close and coroutine.status(self.co) == "suspended" then
    coroutine.close(self.co)          -- 5.4: runs the job's pending to-be-closed variables
  end
  return true
end

--- Run functions concurrently (at most concurrency at once) and return their results in
-- order: out[i] = table.pack(fns[i]()) (a list with its n field). If one raises, the
-- others are cancelled and the error is raised.
-- syntax: out = client:all({f1, f2, ...} [, {concurrency = N}])
function Client:all(fns, opts)
  check(self)
  if type(fns) ~= "table" then error("client:all: list of functions expected", 2) end
  local n = #fns
  for i = 1, n do
    if type(fns[i]) ~= "function" then error("client:all: element " .. i .. " is not a function", 2) end
  end
  local limit = opts and opts.concurrency or n
  if type(limit) ~= "number" or limit < 1 or limit % 1 ~= 0 then
    error("client:all: concurrency must be a positive integer", 2)
  end
  local jobs, started, active, failed = {}, 0, 0, nil
  local parent = current_job(self)
  if parent then parent.children = jobs end
  local function on_done(job)
    active = active - 1
    if job.error ~= nil and not failed then failed = job end
  end
  local NOARGS = { n = 0 }
  while true do
    while started < n and active < limit and not failed do
      started = started + 1
      active = active + 1
      local job = new_job(self, fns[started], NOARGS)
      job.on_done[1] = on_done
      jobs[started] = job
      resume(self, job)
    end
    if failed or (started == n and active == 0) then break end
    wait_until(self, function()
      return failed ~= nil or active == 0 or (started < n and active < limit)
    end)
  end
  if parent then parent.children = nil end
  if failed then
    for _, job in ipairs(jobs) do job:cancel() end
    error(failed.error, 0)
  end
  local out = {}
  for i = 1, n do out[i] = jobs[i].results end
  return out
end

--- Progress every job without blocking: one non-waiting turn of the loop.
-- syntax: running = client:poll()   -- jobs still running
function Client:poll()
  check(self)
  step(self, 0)
  return self._njobs
end

--- Close the client: running jobs are cancelled, the transport closed. Idempotent.
-- syntax: client:close()
function Client:close()
  if not client_mts[getmetatable(self)] then error("client:close: not a client", 2) end
  if self._closed then return end
  local jobs = {}
  for _, job in pairs(self._waiting) do jobs[#jobs + 1] = job end
  for _, job in ipairs(self._sleepers) do jobs[#jobs + 1] = job end
  for _, job in ipairs(self._ready) do jobs[#jobs + 1] = job end
  for job in pairs(self._cond) do jobs[#jobs + 1] = job end
  for _, job in ipairs(jobs) do job:cancel() end
  self._closed = true
  self._t:close()
end

client_mt.__gc = function(self) if not self._closed then self._t:close() end end
client_mt.__close = Client.close

M.Client = Client
return M
