--- socialpush.pipeline.poll: waiting for a provider to finish processing (X media STATUS,
-- Pinterest media status): one loop, bounded by a number of polls and a deadline, whose
-- waits never block the client's other jobs.
local errors = require "socialpush.errors"

local M = {}

local unpack = table.unpack or unpack   -- luacheck: ignore 143
local pack = table.pack or function(...) return { n = select("#", ...), ... } end

--- Poll until step says it is done. step(n) (n = 0, 1, ...) returns "done", ... (the values
-- run returns), or "wait", seconds, state (poll again after that long), or nil, msg, err.
-- A timeout error (kind timeout, detail naming the state) ends it when the next wait would
-- pass the deadline (opts.timeout seconds from the start, default the client's timeout)
-- or after opts.max_polls waits.
-- syntax: ... = poll.run(client, {operation=, provider=, what=, timeout=, max_polls=}, step)
function M.run(client, opts, step)
  local deadline = client:now() + (opts.timeout or client.timeout or 60)
  local max_polls = opts.max_polls or 1000
  local n = 0
  while true do
    local r = pack(step(n))
    if r[1] == "done" then return unpack(r, 2, r.n) end
    if r[1] == nil then return nil, r[2], r[3] end
    local delay = tonumber(r[2]) or 1
    if delay < 0 then delay = 0 end
    if client:now() + delay > deadline or n >= max_polls then
      return errors.fail { kind = "timeout", provider = opts.provider, operation = opts.operation,
        detail = ("%s still %s after %d status checks"):format(opts.what or "processing", tostring(r[3]), n) }
    end
    if delay > 0 then client:sleep(delay) end
    n = n + 1
  end
end

return M
