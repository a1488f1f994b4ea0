--- Control API of the sandbox (host sandbox.socialpush.test, paths /_/...;
-- never journaled, never subject to fault rules).
local journal = require("socialpush.sandbox.journal")
local faults = require("socialpush.sandbox.faults")

local M = {}

--- syntax: control.register(server)
function M.register(server)
  local H = server.CONTROL_HOST

  server.route(H, "GET", "/_/ping", function()
    return server.json(200, { ok = true, port = server.config.port })
  end)

  server.route(H, "GET", "/_/journal", function(req)
    local a = req:args()
    local list = journal.list({
      host = type(a.host) == "string" and a.host or nil,
      method = type(a.method) == "string" and a.method or nil,
      path = type(a.path) == "string" and a.path or nil,
      since = a.since,
    })
    return server.json(200, { requests = server.array(list) })
  end)

  server.route(H, "DELETE", "/_/journal", function()
    journal.clear()
    return server.json(200, { ok = true })
  end)

  server.route(H, "POST", "/_/reset", function()
    server.reset()
    return server.json(200, { ok = true })
  end)

  server.route(H, "POST", "/_/faults", function(req)
    local t, err = req:json(1024 * 1024)
    if t == nil then return server.fail(400, err) end
    local rule, verr = faults.validate(t)
    if not rule then return server.fail(400, verr) end
    return server.json(200, { id = faults.add(rule) })
  end)

  server.route(H, "GET", "/_/faults", function()
    return server.json(200, { faults = server.array(faults.list()) })
  end)

  server.route(H, "DELETE", "/_/faults", function()
    faults.remove(nil)
    return server.json(200, { ok = true })
  end)

  server.route(H, "DELETE", "/_/faults/(%d+)", function(_, id)
    if not faults.remove(tonumber(id)) then return server.fail(404, "no fault rule " .. id) end
    return server.json(200, { ok = true })
  end)

  local function modes()
    local t = {}
    for name in pairs(server.MODES) do t[name] = server.mode(name) end
    return t
  end

  server.route(H, "POST", "/_/mode", function(req)
    local t, err = req:json(65536)
    if type(t) ~= "table" then return server.fail(400, err or "expected a JSON object") end
    for name, value in pairs(t) do
      if not (server.MODES[name] and server.MODES[name][value]) then
        return server.fail(400, "bad mode " .. tostring(name) .. "=" .. tostring(value))
      end
    end
    for name, value in pairs(t) do server.set_mode(name, value) end
    return server.json(200, modes())
  end)

  server.route(H, "GET", "/_/mode", function()
    return server.json(200, modes())
  end)

  server.route(H, "GET", "/_/accounts", function()
    return server.json(200, server.accounts())
  end)

  -- run the OAuth 1.0a verifier on a described request:
  -- {"method":, "url": "https://host/path?query", "authorization":, "body":, "content_type":}
  server.route(H, "POST", "/_/verify/oauth1", function(req)
    local t, err = req:json(1024 * 1024)
    if type(t) ~= "table" or type(t.url) ~= "string" or type(t.method) ~= "string" then
      return server.fail(400, err or "method and url are required")
    end
    local host, path, query = t.url:match("^https://([^/?#]+)([^?#]*)%??([^#]*)$")
    if not host then return server.fail(400, "url must be https://host/path[?query]") end
    local headers = { authorization = t.authorization, ["content-type"] = t.content_type }
    local fake = {
      method = t.method:upper(), host = host:lower(), path = path ~= "" and path or "/",
      query = query,
    }
    function fake.header(_, name) return headers[name:lower()] end
    function fake.content_type()
      local ct = t.content_type
      return ct and (ct:match("^%s*([^;%s]+)") or ""):lower() or nil
    end
    function fake.body() return type(t.body) == "string" and t.body or "" end
    local info, reason = server.auth.oauth1(fake)
    return server.json(200, { ok = info ~= nil, reason = reason })
  end)
end

return M
