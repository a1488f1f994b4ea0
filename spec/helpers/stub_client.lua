-- The stub client of the provider unit specs: what the pipeline needs of a client
-- (request, now, sleep, timeout), with requests recorded and answered from a queue.
--
--   local stub = require "helpers.stub_client"
--   local c = stub { {status = 201, body = {id = "1"}}, {fail = {kind = "timeout", message = "t"}} }
--   -- c.sent: the request tables; c.slept: the sleeps (virtual: never waited, c.clock moves)
--
-- A response: status (default 200), headers (names lower-cased; default content-type JSON
-- when body is a table or json is given), body (a string, or a table sent as JSON), json
-- (a table sent as JSON), retry_after (else computed from a Retry-After header, as
-- client:request does), fail = {kind=, message=, ...} (returned as nil, msg, err).
-- A request with a sink ({file=}) gets its body written to that file. An unstubbed request
-- raises, so "nothing was sent" is checked by queueing nothing.
local json = require "socialpush.json"
local errors = require "socialpush.errors"
local time = require "socialpush.time"

return function(responses, opts)
  responses = responses or {}
  opts = opts or {}
  local c = { sent = {}, slept = {}, clock = opts.clock or 0, timeout = opts.timeout or 60 }
  for k, v in pairs(opts) do if c[k] == nil then c[k] = v end end
  function c.request(self, req)
    self.sent[#self.sent + 1] = req
    local r = table.remove(responses, 1)
    if r == nil then error("unstubbed request: " .. tostring(req.method) .. " " .. tostring(req.url), 2) end
    if r.fail then
      local e = errors.new(r.fail)
      for k, v in pairs(r.fail) do if e[k] == nil then e[k] = v end end
      return nil, e.message, e
    end
    local headers = {}
    for k, v in pairs(r.headers or {}) do headers[k:lower()] = v end
    local body = r.json or r.body
    if type(body) == "table" then
      body = assert(json.encode(body))
      headers["content-type"] = headers["content-type"] or "application/json; charset=UTF-8"
    end
    body = body or ""
    if req.sink then
      local f = assert(io.open(req.sink.file, "wb"))
      f:write(body)
      f:close()
      body = ""
    end
    return { status = r.status or 200, headers = headers, body = body,
      retry_after = r.retry_after or time.retry_after(headers["retry-after"], os.time()) }
  end
  function c.now(self) return self.clock end
  function c.sleep(self, s)
    self.slept[#self.slept + 1] = s
    self.clock = self.clock + s
  end
  return c
end
