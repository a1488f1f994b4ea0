--- socialpush.transport.curl: the libcurl transport under socialpush.client.
-- A thin adapter over socialpush.core.http (one curl multi handle per client). Any
-- transport with the same interface can replace it (an OpenResty cosocket one, a stub
-- in specs):
--   t = transport.new(opts)        opts: timeout, connect_timeout, ca_file, proxy,
--                                  connect_to, user_agent, max_body
--   h, msg, err = t:start(req)     req: {method, url, headers, body, timeout, max_body};
--                                  nil, msg, err (invalid_argument) when nothing was sent
--   list, running = t:step(wait)   runs transfers, waits up to wait seconds for activity
--                                  (a plain sleep when nothing runs); list = the handles
--                                  that finished (read-only)
--   res | nil, msg, err = h:result([close])   (close true: and close it)
--                                  h:done(), h:cancel(), h:progress(), h:close()
--   t:running()                    requests in flight;  t:now()   monotonic seconds
--   t:close()
local http = require("socialpush.core").http

local M = {}

local T = {}
T.__index = T

-- returned by step when nothing finished, so an idle loop allocates nothing
local EMPTY = setmetatable({}, { __newindex = function() error("read-only list", 2) end })

--- Create a transport (one libcurl multi handle).
-- syntax: t = transport.new{timeout=, connect_timeout=, ca_file=, proxy=, connect_to=, user_agent=, max_body=}
function M.new(opts)
  return setmetatable({ engine = http.new(opts) }, T)
end

--- Start a request; the returned handle is already in flight.
-- syntax: h, msg, err = t:start{method=, url=, headers=, body=, timeout=, max_body=}
function T:start(req)
  return self.engine:add(req)
end

--- Run transfers; wait up to wait seconds when nothing finished yet.
-- syntax: finished, running = t:step(wait)
function T:step(wait)
  local running, finished = self.engine:step(wait)
  if not running then error("socialpush.transport.curl: " .. tostring(finished), 2) end
  return finished or EMPTY, running
end

--- Number of requests in flight.
-- syntax: n = t:running()
function T:running()
  return self.engine:running()
end

--- Monotonic clock in seconds.
-- syntax: s = t:now()
function T.now()
  return http.now()
end

--- Close the transport; in-flight requests end as cancelled. Idempotent.
-- syntax: t:close()
function T:close()
  self.engine:close()
end

M.now = http.now
return M
