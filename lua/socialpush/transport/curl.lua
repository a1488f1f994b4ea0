--- socialpush.transport.curl: the libcurl transport under socialpush.client.
-- The transport object is the C engine itself (socialpush.core.http, one curl multi
-- handle per client): every method below is one C call, with no Lua layer between
-- the client and libcurl. Any transport with the same interface can replace it (an
-- OpenResty cosocket one, a stub in specs):
--   t = transport.new(opts)        opts: timeout, connect_timeout, ca_file, proxy,
--                                  connect_to, user_agent, max_body
--   h, msg, err = t:start(req)     req: {method, url, headers, body, timeout, max_body,
--                                  sink}; nil, msg, err (invalid_argument) when nothing
--                                  was sent. start must not keep req itself (the client
--                                  refills one table per request)
--   list, running = t:step(wait)   runs transfers, waits up to wait seconds for activity
--                                  (a plain sleep when nothing runs); list = the handles
--                                  that finished (read-only); raises on a multi error
--   res | nil, msg, err = h:result([close])   (close true: and close it)
--                                  h:done(), h:cancel(), h:progress(), h:close()
--   t:running()                    requests in flight;  t:now()   monotonic seconds
--   t:close()                      in-flight requests end as cancelled; idempotent
local http = require("socialpush.core").http

local M = {}

--- Create a transport (one libcurl multi handle).
-- syntax: t = transport.new{timeout=, connect_timeout=, ca_file=, proxy=, connect_to=, user_agent=, max_body=}
function M.new(opts)
  return http.new(opts)
end

M.now = http.now
return M
