--- Example sandbox provider plug-in (a template; not loaded by default).
--
-- A provider plug-in is a module socialpush.sandbox.providers.<name> with a
-- `register(server)` function. To load it, add its module name to the
-- `providers` registry table in socialpush/sandbox/server.lua (the built-in
-- providers), or pass it at start time:
--   require("socialpush.sandbox").start{providers = {"socialpush.sandbox.providers.example"}}
--   sandbox/run start --provider socialpush.sandbox.providers.example
--
-- It runs inside nginx (LuaJIT, lua-nginx-module): it may use ngx.*, cjson
-- and the `server` helpers, never socialpush.core. State must live in
-- server.state (a lua_shared_dict, cleared by /_/reset), not in upvalues.
--
-- Routes: server.route(host(s), method(s), pattern, handler, opts)
--   host      "api.x.com", a list of hosts, or "*" (hosts must be in
--             socialpush/sandbox/hosts.lua to get a certificate + connect_to)
--   method    "GET", {"POST", "PUT"} or "ANY" (GET routes also answer HEAD)
--   pattern   Lua pattern matched against the whole raw path (no query);
--             captures are passed to the handler after req
--   handler   function(req, ...) that sends exactly one response with
--             server.json(status, value, headers) or server.send(status, body, headers)
--   opts      {stream = true}: the body is not read before the handler; use
--             req:stream(fn) for large uploads
--
-- The request: req.method, req.host, req.path (raw), req.query (raw),
-- req.http_version, req:header(name), req:args(), req:content_type(),
-- req:body(limit), req:json(limit), req:form(limit), req:params(),
-- req:multipart(limit) -> {{name=, filename=, content_type=, headers=, data=}, by_name=},
-- req:stream(fn) -> bytes, sha256; req.body_size / req.body_sha256 once read.
--
-- Credentials (return info or nil, reason): server.auth.bearer(req, provider),
-- server.auth.oauth1(req), server.auth.appsecret_proof(req, required),
-- server.auth.basic(req) / server.auth.oneall(req), server.auth.legacy(req).
-- Other helpers: server.accounts(), server.mode("facebook"),
-- server.array(t) (JSON array even when empty), server.raw(text) (verbatim
-- JSON, e.g. int64 ids), server.on_reset(fn).
local M = {}

--- syntax: example.register(server)
function M.register(server)
  local H = server.CONTROL_HOST

  -- POST /example/notes  (Bearer token of any provider; JSON {"text": "..."})
  server.route(H, "POST", "/example/notes", function(req)
    local who, reason = server.auth.bearer(req)
    if not who then
      return server.json(401, { error = { message = "bad token", reason = reason } })
    end
    local body, err = req:json(65536)
    if type(body) ~= "table" or type(body.text) ~= "string" or body.text == "" then
      return server.json(400, { error = { message = err or "text is required" } })
    end
    local id = server.state.incr("example:next")
    server.state.set("example:note:" .. id, { id = tostring(id), text = body.text,
      provider = who.provider })
    return server.json(201, { id = tostring(id) }, { Location = "/example/notes/" .. id })
  end)

  -- GET /example/notes/<id>
  server.route(H, "GET", "/example/notes/(%d+)", function(_, id)
    local note = server.state.get("example:note:" .. id)
    if not note then return server.json(404, { error = { message = "no such note" } }) end
    return server.json(200, note)
  end)

  -- GET /example/notes -> {"data": [...]} (an empty list stays a JSON array)
  server.route(H, "GET", "/example/notes", function()
    local data = server.array()
    for _, k in ipairs(server.state.keys("example:note:")) do
      data[#data + 1] = server.state.get(k)
    end
    return server.json(200, { data = data })
  end)
end

return M
