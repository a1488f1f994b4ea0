--- Fault rules of the sandbox (nginx side): validation, storage in a
-- lua_shared_dict, matching (access phase) and the canned fault responses.
local cjson = require("cjson.safe")
local journal = require("socialpush.sandbox.journal")

local M = {}

local meta = ngx.shared.socialpush_sandbox_meta

local MAX_DELAY_MS = 600000

-- field -> checker(value) returning the normalised value or nil, message
local function int_min(min)
  return function(v)
    if type(v) ~= "number" or v ~= math.floor(v) or v < min then
      return nil, "must be an integer >= " .. min
    end
    return v
  end
end

local FIELDS = {
  host = function(v)
    if type(v) ~= "string" or v == "" then return nil, "must be a host name" end
    return v:lower()
  end,
  method = function(v)
    if type(v) ~= "string" or not v:match("^%a+$") then return nil, "must be a method" end
    return v:upper()
  end,
  path = function(v)
    if type(v) ~= "string" or v:sub(1, 1) ~= "/" then return nil, "must start with /" end
    return v
  end,
  nth = int_min(1),
  times = int_min(1),
  status = function(v)
    if type(v) ~= "number" or v ~= math.floor(v) or v < 200 or v > 599 then
      return nil, "must be an integer in 200..599"
    end
    return v
  end,
  body = function(v)
    if type(v) == "string" then return v end
    if type(v) == "table" then return cjson.encode(v) end
    return nil, "must be a string or a JSON object"
  end,
  headers = function(v)
    if type(v) ~= "table" then return nil, "must be an object" end
    for k, x in pairs(v) do
      if type(k) ~= "string" or not k:match("^[%w%-_]+$") then return nil, "bad header name" end
      if type(x) ~= "string" and type(x) ~= "number" then return nil, "bad header value" end
      if type(x) == "string" and x:find("[\r\n]") then return nil, "bad header value" end
    end
    return v
  end,
  retry_after = function(v)
    if type(v) == "number" and v >= 0 then return v end
    if type(v) == "string" and v ~= "" and not v:find("[\r\n]") then return v end
    return nil, "must be seconds or an HTTP date"
  end,
  delay_ms = function(v)
    if type(v) ~= "number" or v < 0 or v > MAX_DELAY_MS then
      return nil, "must be a number in 0.." .. MAX_DELAY_MS
    end
    return v
  end,
  drop_after_bytes = int_min(0),
  malformed = function(v)
    if type(v) ~= "boolean" then return nil, "must be a boolean" end
    return v
  end,
  oversized_bytes = int_min(0),
}

--- validate a decoded rule; returns the normalised rule or nil, message
-- syntax: rule = faults.validate(t)
function M.validate(t)
  if type(t) ~= "table" then return nil, "a fault rule must be a JSON object" end
  local rule = {}
  for k, v in pairs(t) do
    local check = FIELDS[k]
    if not check then return nil, "unknown field '" .. tostring(k) .. "'" end
    if v ~= cjson.null then
      local nv, err = check(v)
      if nv == nil then return nil, k .. " " .. err end
      rule[k] = nv
    end
  end
  local bodies = 0
  for _, k in ipairs({ "body", "malformed", "oversized_bytes" }) do
    if rule[k] ~= nil and rule[k] ~= false then bodies = bodies + 1 end
  end
  if bodies > 1 then return nil, "body, malformed and oversized_bytes exclude each other" end
  return rule
end

local cache_version, cache_rules = -1, {}

local function rules()
  local v = meta:get("fault_version") or 0
  if v ~= cache_version then
    local list = {}
    local ids = cjson.decode(meta:get("fault_ids") or "[]") or {}
    for _, id in ipairs(ids) do
      local s = meta:get("fault:" .. id)
      if s then list[#list + 1] = cjson.decode(s) end
    end
    cache_version, cache_rules = v, list
  end
  return cache_rules
end

--- store a validated rule; returns its id
-- syntax: id = faults.add(rule)
function M.add(rule)
  local id = meta:incr("fault_next", 1, 0)
  rule.id = id
  meta:set("fault:" .. id, cjson.encode(rule))
  local ids = cjson.decode(meta:get("fault_ids") or "[]") or {}
  ids[#ids + 1] = id
  meta:set("fault_ids", cjson.encode(ids))
  meta:incr("fault_version", 1, 0)
  return id
end

--- rules with their counters (matched = matching requests seen, fired)
-- syntax: list = faults.list()
function M.list()
  local out = {}
  for _, r in ipairs(rules()) do
    local copy = {}
    for k, v in pairs(r) do copy[k] = v end
    copy.matched = meta:get("fault_n:" .. r.id) or 0
    copy.fired = meta:get("fault_f:" .. r.id) or 0
    out[#out + 1] = copy
  end
  return out
end

--- remove one rule (id) or all of them (nil); returns true if something went
-- syntax: faults.remove(id)
function M.remove(id)
  local ids = cjson.decode(meta:get("fault_ids") or "[]") or {}
  local keep, found = {}, false
  for _, x in ipairs(ids) do
    if id == nil or x == id then
      found = true
      meta:delete("fault:" .. x)
      meta:delete("fault_n:" .. x)
      meta:delete("fault_f:" .. x)
    else
      keep[#keep + 1] = x
    end
  end
  meta:set("fault_ids", #keep > 0 and cjson.encode(keep) or "[]")
  meta:incr("fault_version", 1, 0)
  return found
end

--- find the rule that fires for this request (counting every matching rule)
-- syntax: rule = faults.match(host, method, path)   -- or nil
function M.match(host, method, path)
  local chosen
  for _, r in ipairs(rules()) do
    if journal.match_field(r.host, host) and journal.match_field(r.method, method)
      and journal.match_field(r.path, path) then
      local k = meta:incr("fault_n:" .. r.id, 1, 0)
      local nth = r.nth or 1
      local times = r.times or (r.nth and 1) or math.huge
      if not chosen and k >= nth and k < nth + times then
        chosen = r
        meta:incr("fault_f:" .. r.id, 1, 0)
      end
    end
  end
  return chosen
end

--- true when the rule answers by itself (else the route handler runs)
-- syntax: yes = faults.responds(rule)
function M.responds(rule)
  return rule.status ~= nil or rule.body ~= nil or rule.malformed == true
    or rule.oversized_bytes ~= nil or rule.retry_after ~= nil
end

local CHUNK = 65536

-- a body of exactly n bytes; valid JSON when n >= 12
local function send_oversized(n)
  local head, tail = "", ""
  if n >= 12 then head, tail = '{"data":"', '"}' end
  local fill = n - #head - #tail
  ngx.header["Content-Length"] = n
  ngx.print(head)
  local block = string.rep("x", CHUNK)
  while fill > 0 do
    local k = fill < CHUNK and fill or CHUNK
    ngx.print(k == CHUNK and block or block:sub(1, k))
    fill = fill - k
    local ok = ngx.flush(true)
    if not ok then return end
  end
  ngx.print(tail)
end

--- send the rule's response (content phase; the body was read already)
-- syntax: faults.respond(rule)
function M.respond(rule)
  local status = rule.status or (rule.retry_after ~= nil and 429) or 200
  ngx.status = status
  ngx.header["Content-Type"] = "application/json; charset=UTF-8"
  ngx.header["X-Sandbox-Fault"] = tostring(rule.id)
  if rule.retry_after ~= nil then ngx.header["Retry-After"] = tostring(rule.retry_after) end
  for k, v in pairs(rule.headers or {}) do ngx.header[k] = tostring(v) end
  if status == 204 or status == 304 then return ngx.send_headers() end
  if rule.oversized_bytes then return send_oversized(rule.oversized_bytes) end
  local body = rule.body
  if rule.malformed then
    body = '{"error":{"message":"sandbox malformed body","code":' .. status .. ',"trunc'
  elseif body == nil then
    body = cjson.encode({ error = { message = "sandbox fault " .. rule.id,
      status = status, sandbox_fault = rule.id } })
  end
  ngx.header["Content-Length"] = #body
  ngx.print(body)
end

return M
