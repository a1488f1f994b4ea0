--- socialpush.sandbox: start, drive and stop the local provider sandbox
-- (nginx + lua-nginx-module on loopback, HTTPS with a CA generated at start).
-- Runs in the caller's interpreter (Lua 5.1 ... 5.4, LuaJIT); talks to the
-- sandbox's control API with the curl CLI, never with socialpush's own
-- transport, and does not load socialpush.core. See docs/sandbox.md.
--
--   local sb = require("socialpush.sandbox").start()
--   local client = socialpush.new(sb:options())
--   ... sb:requests{host = "api.x.com"} ... sb:fault{path = "/2/tweets", status = 503}
--   sb:stop()
local json = require("socialpush.sandbox.minijson")
local hosts = require("socialpush.sandbox.hosts")
local conf = require("socialpush.sandbox.conf")

local M = {}

M.json = json

local SAFE_PATH = "^[%w%._%-/+,@=~]+$"
local START_TRIES = 12
local PORT_MIN, PORT_MAX = 20000, 32000

-- shell and file helpers -----------------------------------------------------

local function q(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- Every command runs without the caller's preload/sanitizer environment: under
-- an ASan test run (LD_PRELOAD=libasan, detect_leaks=1) LeakSanitizer would
-- change the exit codes of mktemp, openssl, curl ... and nginx would run
-- instrumented. No subshell: its own exit would be checked too.
local CLEAN = "unset LD_PRELOAD ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS MSAN_OPTIONS TSAN_OPTIONS; "

-- run a shell command; returns its output (stdout+stderr) and exit code
local function run(cmd)
  local p = io.popen(CLEAN .. "{ " .. cmd .. "\n} 2>&1; echo \"__rc=$?\"")
  local out = p:read("*a")
  p:close()
  local body, rc = out:match("^(.-)__rc=(%d+)%s*$")
  if not body then return out, -1 end
  return body, tonumber(rc)
end

local function execute(cmd)
  return os.execute(CLEAN .. cmd)
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function write_file(path, s, mode)
  local f, err = io.open(path, "wb")
  if not f then return nil, err end
  f:write(s)
  f:close()
  if mode then run("chmod " .. mode .. " " .. q(path)) end
  return true
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

local function sleep(seconds)
  execute("sleep " .. seconds)
end

local function tmpdir()
  local t = os.getenv("TMPDIR")
  if t and t ~= "" then return (t:gsub("/+$", "")) end
  return "/tmp"
end

local function last_file()
  return tmpdir() .. "/socialpush-sandbox.last"
end

-- a process that exists and is not a zombie
local function alive(pid)
  local stat = read_file("/proc/" .. pid .. "/stat")
  if not stat then return false end
  local state = stat:match("^%d+ %b() (%a)")
  return state ~= nil and state ~= "Z" and state ~= "X"
end

-- the nginx master started for this dir
local function is_ours(pid, dir)
  local cmd = read_file("/proc/" .. pid .. "/cmdline")
  return cmd ~= nil and cmd:find(dir .. "/nginx.conf", 1, true) ~= nil
end

local function random_int(lo, hi)
  local f = io.open("/dev/urandom", "rb")
  local seed = 0
  if f then
    local b = f:read(4)
    f:close()
    for i = 1, #b do seed = seed * 256 + b:byte(i) end
  else
    seed = os.time() + math.floor(os.clock() * 1e6)
  end
  return lo + seed % (hi - lo + 1)
end

-- ports in use on this machine (any TCP state), from /proc/net/tcp{,6}
local function used_ports()
  local used = {}
  for _, f in ipairs({ "/proc/net/tcp", "/proc/net/tcp6" }) do
    local s = read_file(f)
    if s then
      for port in s:gmatch("\n%s*%d+: %x+:(%x+) ") do used[tonumber(port, 16)] = true end
    end
  end
  return used
end

local function pick_port(tried)
  local used = used_ports()
  for _ = 1, 200 do
    local p = random_int(PORT_MIN, PORT_MAX)
    if not used[p] and not tried[p] then return p end
  end
  return random_int(PORT_MIN, PORT_MAX)
end

local function ipv6_loopback()
  local s = read_file("/proc/net/if_inet6")
  return s ~= nil and s:find("00000000000000000000000000000001", 1, true) ~= nil
end

-- where things are ---------------------------------------------------------------

local function dirname(p)
  return p:match("^(.*)/[^/]*$") or "."
end

local function absolute(p)
  if p:sub(1, 1) == "/" then return p end
  local out, rc = run("cd " .. q(p) .. " && pwd -P")
  if rc ~= 0 then return nil, out end
  return (out:gsub("%s+$", ""))
end

--- the directory that holds socialpush/sandbox.lua (for nginx's lua_package_path)
-- syntax: dir = sandbox.lua_dir()
function M.lua_dir()
  for template in package.path:gmatch("[^;]+") do
    local f = template:gsub("%?", "socialpush/sandbox")
    if f:sub(-#"socialpush/sandbox.lua") == "socialpush/sandbox.lua" and exists(f) then
      local d = f:sub(1, -#"socialpush/sandbox.lua" - 1)
      d = d:gsub("/+$", "")
      if d == "" then d = "." end
      return absolute(d)
    end
  end
  return nil, "socialpush/sandbox.lua not found on package.path"
end

local function find_nginx()
  local env = os.getenv("SOCIALPUSH_NGINX")
  if env and env ~= "" then return env end
  if exists("/usr/sbin/nginx") then return "/usr/sbin/nginx" end
  local out, rc = run("command -v nginx")
  if rc == 0 then return (out:gsub("%s+$", "")) end
  return nil, "nginx not found (install nginx and libnginx-mod-http-lua, or set SOCIALPUSH_NGINX)"
end

local function find_modules()
  local dirs = { os.getenv("SOCIALPUSH_NGINX_MODULES"), "/usr/lib/nginx/modules",
    "/usr/share/nginx/modules", "/usr/lib64/nginx/modules", "/usr/local/nginx/modules" }
  for i = 1, 5 do
    local d = dirs[i]
    if d and d ~= "" and exists(d .. "/ngx_http_lua_module.so") then
      local lines = {}
      if exists(d .. "/ndk_http_module.so") then
        lines[1] = "load_module " .. d .. "/ndk_http_module.so;"
      end
      lines[#lines + 1] = "load_module " .. d .. "/ngx_http_lua_module.so;"
      return table.concat(lines, "\n")
    end
  end
  return nil, "ngx_http_lua_module.so not found (install libnginx-mod-http-lua, "
    .. "or set SOCIALPUSH_NGINX_MODULES)"
end

local CPATHS = {
  "/usr/lib/x86_64-linux-gnu/lua/5.1/?.so", "/usr/lib/aarch64-linux-gnu/lua/5.1/?.so",
  "/usr/local/lib/lua/5.1/?.so", "/usr/lib64/lua/5.1/?.so", "/usr/lib/lua/5.1/?.so",
}

-- certificates ---------------------------------------------------------------------

local function openssl_cnf()
  local san = {}
  for _, h in ipairs(hosts.all) do san[#san + 1] = "DNS:" .. h end
  for _, h in ipairs(hosts.wildcards) do san[#san + 1] = "DNS:" .. h end
  san[#san + 1] = "IP:127.0.0.1"
  san[#san + 1] = "IP:::1"
  return table.concat({
    "[req]", "distinguished_name = dn", "prompt = no", "[dn]", "CN = unused",
    "[v3_ca]",
    "basicConstraints = critical, CA:TRUE, pathlen:0",
    "keyUsage = critical, keyCertSign, cRLSign",
    "subjectKeyIdentifier = hash",
    "[v3_server]",
    "basicConstraints = critical, CA:FALSE",
    "keyUsage = critical, digitalSignature",
    "extendedKeyUsage = serverAuth",
    "subjectKeyIdentifier = hash",
    "authorityKeyIdentifier = keyid",
    "subjectAltName = " .. table.concat(san, ", "),
    "",
  }, "\n")
end

local function make_certs(dir)
  local ok, err = write_file(dir .. "/openssl.cnf", openssl_cnf())
  if not ok then return nil, err end
  local ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
  local serial = string.format("0x%x%07x", random_int(1, 0x7ffffff), random_int(0, 0xfffffff))
  local cmd = table.concat({
    "cd " .. q(dir),
    "umask 077",
    "openssl req -x509 " .. ec .. " -keyout ca.key -out ca.pem -days 365"
      .. " -subj '/CN=socialpush sandbox CA' -config openssl.cnf -extensions v3_ca",
    "openssl req -new " .. ec .. " -keyout server.key -out server.csr"
      .. " -subj '/CN=sandbox.socialpush.test' -config openssl.cnf",
    "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial " .. serial
      .. " -days 365 -out server.pem -extfile openssl.cnf -extensions v3_server",
    "chmod 644 ca.pem server.pem",
  }, " && ")
  local out, rc = run(cmd)
  if rc ~= 0 then return nil, "openssl failed: " .. out end
  return true
end

-- the object -----------------------------------------------------------------------

local Sandbox = {}
Sandbox.__index = Sandbox

local function connect_to(port)
  local t = {}
  for i, h in ipairs(hosts.all) do t[i] = h .. ":443:127.0.0.1:" .. port end
  return t
end

local function new_object(info)
  local sb = setmetatable({
    port = info.port, ca_file = info.ca_file, dir = info.dir, pid = info.pid,
    connect_to = connect_to(info.port), created_dir = info.created_dir,
  }, Sandbox)
  return sb
end

--- the JSON line describing a running sandbox (as printed by `sandbox/run start`)
-- syntax: s = sb:json_line()
function Sandbox:json_line()
  local cts = {}
  for i, c in ipairs(self.connect_to) do cts[i] = json.encode(c) end
  return string.format('{"port":%d,"ca_file":%s,"connect_to":[%s],"pid":%d,"dir":%s}',
    self.port, json.encode(self.ca_file), table.concat(cts, ","), self.pid or 0,
    json.encode(self.dir))
end

--- client options: merge into socialpush.new{...}
-- syntax: t = sb:options()   -- {ca_file=, connect_to={...}}
function Sandbox:options()
  local cts = {}
  for i, c in ipairs(self.connect_to) do cts[i] = c end
  return { ca_file = self.ca_file, connect_to = cts }
end

--- curl CLI arguments that reach the sandbox (shell-quoted, for io.popen)
-- syntax: s = sb:curl_args()
function Sandbox:curl_args()
  local parts = { "--noproxy '*'", "--cacert " .. q(self.ca_file) }
  for _, c in ipairs(self.connect_to) do parts[#parts + 1] = "--connect-to " .. q(c) end
  return table.concat(parts, " ")
end

--- URL of a path on the control/test host
-- syntax: url = sb:url("/echo")
function Sandbox:url(path)
  return "https://" .. hosts.control .. (path or "/")
end

local function urlencode(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

--- one control API call; returns status, decoded body (or nil, msg)
-- syntax: status, body = sb:control(method, path, body_table)
function Sandbox:control(method, path, body)
  local cmd = { "curl -sS --noproxy '*' --max-time 30 --cacert", q(self.ca_file),
    "--connect-to", q(hosts.control .. ":443:127.0.0.1:" .. self.port),
    "-X", method, "-o - -w '\\n%{http_code}'" }
  if body ~= nil then
    cmd[#cmd + 1] = "-H 'Content-Type: application/json' --data-binary " .. q(json.encode(body))
  end
  cmd[#cmd + 1] = q(self:url(path))
  local out, rc = run(table.concat(cmd, " "))
  local text, code = out:match("^(.*)\n(%d%d%d)$")
  if rc ~= 0 or not code or code == "000" then
    return nil, "sandbox control " .. method .. " " .. path .. " failed: " .. out:gsub("%s+$", "")
  end
  local v, err = json.decode(text)
  if v == nil then return nil, "sandbox control: bad JSON answer: " .. tostring(err) end
  return tonumber(code), v
end

local function checked(self, method, path, body)
  local status, v = self:control(method, path, body)
  if not status then return nil, v end
  if status >= 400 then
    local msg = type(v) == "table" and type(v.error) == "table" and v.error.message
    return nil, "sandbox: " .. tostring(msg or status)
  end
  return v
end

--- journal entries, oldest first (filter: {host=, method=, path=, since=};
-- path may end with * for a prefix)
-- syntax: list = sb:requests(filter)   -- or nil, msg
function Sandbox:requests(filter)
  local qs = {}
  for _, k in ipairs({ "host", "method", "path", "since" }) do
    if filter and filter[k] ~= nil then qs[#qs + 1] = k .. "=" .. urlencode(filter[k]) end
  end
  local v, err = checked(self, "GET", "/_/journal" .. (#qs > 0 and "?" .. table.concat(qs, "&") or ""))
  if not v then return nil, err end
  return v.requests
end

--- add a fault rule; returns its id. Invalid rules raise.
-- syntax: id = sb:fault{host=, method=, path=, nth=, times=, status=, body=, headers=,
--   retry_after=, delay_ms=, drop_after_bytes=, malformed=, oversized_bytes=}
function Sandbox:fault(rule)
  if type(rule) ~= "table" then error("sb:fault: rule table expected", 2) end
  local status, v = self:control("POST", "/_/faults", rule)
  if not status then return nil, v end
  if status == 400 then error("sb:fault: " .. tostring(v.error and v.error.message), 2) end
  if status ~= 200 then return nil, "sandbox: fault rule refused (" .. status .. ")" end
  return v.id
end

--- fault rules with their counters (matched, fired)
-- syntax: list = sb:faults()
function Sandbox:faults()
  local v, err = checked(self, "GET", "/_/faults")
  if not v then return nil, err end
  return v.faults
end

--- clear journal, fault rules, provider state and modes
-- syntax: ok = sb:reset()
function Sandbox:reset()
  local v, err = checked(self, "POST", "/_/reset", json.decode("{}"))
  if not v then return nil, err end
  return true
end

--- set behaviour switches, e.g. {facebook = "historic"}; returns current modes
-- syntax: modes = sb:mode{facebook = "historic" | "today"}
function Sandbox:mode(t)
  if type(t) ~= "table" then error("sb:mode: table expected", 2) end
  return checked(self, "POST", "/_/mode", t)
end

local function deep_copy(t)
  if type(t) ~= "table" then return t end
  local out = {}
  for k, v in pairs(t) do out[k] = deep_copy(v) end
  return out
end

--- the accounts fixture (a fresh copy)
-- syntax: t = sb:accounts()
function Sandbox:accounts()
  return deep_copy(require("socialpush.sandbox.accounts"))
end

--- stop nginx (idempotent); removes the scratch directory when the sandbox
-- created it (mktemp) unless keep = true
-- syntax: ok = sb:stop()
function Sandbox:stop()
  if self.stopped then return true end
  self.stopped = true
  local pid = self.pid or tonumber(read_file(self.dir .. "/nginx.pid") or "")
  if pid and alive(pid) and is_ours(pid, self.dir) then
    local children = run("pgrep -P " .. pid)
    execute("kill -TERM " .. pid .. " 2>/dev/null")
    for _ = 1, 100 do
      if not alive(pid) then break end
      sleep(0.05)
    end
    if alive(pid) then
      execute("kill -KILL " .. pid .. " 2>/dev/null")
      for child in children:gmatch("%d+") do
        execute("kill -KILL " .. child .. " 2>/dev/null")
      end
    end
  end
  if self.created_dir and not self.keep and self.dir:match(SAFE_PATH)
    and exists(self.dir .. "/.created-by-sandbox") then
    execute("rm -rf " .. q(self.dir))
  end
  return true
end

-- start ------------------------------------------------------------------------------

local function check_opts(opts)
  if opts == nil then return {} end
  if type(opts) ~= "table" then error("sandbox.start: options table expected", 3) end
  if opts.port ~= nil and (type(opts.port) ~= "number" or opts.port < 1 or opts.port > 65535
    or opts.port ~= math.floor(opts.port)) then
    error("sandbox.start: port must be an integer in 1..65535", 3)
  end
  if opts.dir ~= nil and (type(opts.dir) ~= "string" or not opts.dir:match(SAFE_PATH)) then
    error("sandbox.start: dir must be a path of [A-Za-z0-9._/+,@=~-] characters", 3)
  end
  for _, name in ipairs(opts.providers or {}) do
    if type(name) ~= "string" or not name:match("^[%w_%.%-]+$") then
      error("sandbox.start: providers must be module names", 3)
    end
  end
  if opts.lua_path ~= nil and (type(opts.lua_path) ~= "string" or opts.lua_path:find("[\"\n;]")) then
    error("sandbox.start: lua_path must be a single ?.lua template", 3)
  end
  return opts
end

local function make_dir(opts)
  if opts.dir then
    local _, rc = run("mkdir -p " .. q(opts.dir))
    if rc ~= 0 then return nil, "cannot create " .. opts.dir end
    local d, err = absolute(opts.dir)
    if not d then return nil, err end
    if not d:match(SAFE_PATH) then return nil, "unsupported characters in " .. d end
    return d, false
  end
  local out, rc = run("mktemp -d " .. q(tmpdir() .. "/socialpush-sandbox.XXXXXXXX"))
  if rc ~= 0 then return nil, "mktemp failed: " .. out end
  local d = out:gsub("%s+$", "")
  if not d:match(SAFE_PATH) then
    execute("rmdir " .. q(d) .. " 2>/dev/null")
    return nil, "unsupported characters in " .. d
  end
  if not opts.keep then write_file(d .. "/.created-by-sandbox", "") end
  return d, true
end

local function render_conf(dir, port, opts, luadir, modules, ipv6)
  local lua_path = luadir .. "/?.lua;" .. luadir .. "/?/init.lua"
  if opts.lua_path then lua_path = opts.lua_path .. ";" .. lua_path end
  local provs = {}
  for i, p in ipairs(opts.providers or {}) do provs[i] = string.format("%q", p) end
  local user = ""
  local id = run("id -u")
  if id:match("^0%s*$") then user = "user root;" end
  local text = conf.render({
    MODULES = modules, USER = user, DIR = dir, PORT = port,
    LUA_PATH = lua_path, LUA_CPATH = table.concat(CPATHS, ";"),
    INIT = string.format("{ dir = %q, port = %d, providers = { %s } }", dir, port,
      table.concat(provs, ", ")),
    LISTEN6 = ipv6 and ("listen [::1]:" .. port .. " ssl http2 ipv6only=on;") or "",
  })
  return text
end

local function wait_ready(sb)
  local pid
  for _ = 1, 250 do
    pid = tonumber(read_file(sb.dir .. "/nginx.pid") or "")
    if pid then break end
    sleep(0.02)
  end
  if not pid then return nil, "nginx wrote no pid file" end
  sb.pid = pid
  for _ = 1, 50 do
    local status, v = sb:control("GET", "/_/ping")
    if status == 200 and type(v) == "table" and v.ok == true then return true end
    if not alive(pid) then break end
    sleep(0.05)
  end
  return nil, "sandbox did not answer /_/ping"
end

local function tail(path, n)
  local s = read_file(path) or ""
  local lines = {}
  for line in s:gmatch("[^\n]+") do lines[#lines + 1] = line end
  return table.concat(lines, "\n", math.max(1, #lines - n + 1))
end

local function on_collect(fn)
  if newproxy then -- luacheck: ignore (Lua 5.1 / LuaJIT)
    local p = newproxy(true) -- luacheck: ignore
    getmetatable(p).__gc = fn
    return p
  end
  return setmetatable({}, { __gc = fn })
end

-- sandboxes stopped when this Lua state closes
local autostopped = {}

local function watchdog(sb)
  -- stops nginx when this process exits even if finalizers never run
  local d = q(sb.dir)
  local script = table.concat({
    "p=$1",
    "while kill -0 $p 2>/dev/null; do sleep 0.5; done",
    "n=$(cat " .. d .. "/nginx.pid 2>/dev/null)",
    "if [ -n \"$n\" ] && grep -q " .. q(sb.dir .. "/nginx.conf") .. " /proc/$n/cmdline 2>/dev/null;"
      .. " then kill -TERM $n; fi",
    "sleep 2; if [ -f " .. d .. "/.created-by-sandbox ]; then rm -rf " .. d .. "; fi",
  }, "; ")
  -- $PPID of the shell os.execute runs is this Lua process
  execute("sh -c " .. q(script) .. " socialpush-sandbox-watchdog $PPID </dev/null >/dev/null 2>&1 &")
end

--- start a sandbox. opts: port (default: a free one), dir (default: mktemp -d),
-- providers (extra plug-in module names), lua_path (extra ?.lua template for
-- nginx), autostop (stop when this Lua process exits), keep (keep the mktemp
-- dir), record (false: do not write $TMPDIR/socialpush-sandbox.last), ipv6
-- (false: do not also listen on [::1])
-- syntax: sb = sandbox.start{port=, dir=, providers=, lua_path=, autostop=, keep=, record=, ipv6=}
--   -- or nil, msg
function M.start(opts)
  opts = check_opts(opts)
  local nginx, nerr = find_nginx()
  if not nginx then return nil, nerr end
  local modules, merr = find_modules()
  if not modules then return nil, merr end
  local luadir, lerr = M.lua_dir()
  if not luadir then return nil, lerr end
  local dir, created = make_dir(opts)
  if not dir then return nil, created end
  local fail = function(msg)
    if created and not opts.keep then execute("rm -rf " .. q(dir)) end
    return nil, msg
  end
  local old = tonumber(read_file(dir .. "/nginx.pid") or "")
  if old and alive(old) and is_ours(old, dir) then
    return fail("a sandbox is already running in " .. dir .. " (pid " .. old .. ")")
  end
  run("mkdir -p " .. q(dir .. "/tmp") .. " && rm -f " .. q(dir .. "/nginx.pid"))
  local ok, err = make_certs(dir)
  if not ok then return fail(err) end

  local ipv6 = opts.ipv6 ~= false and ipv6_loopback()
  local tried, last_err, port = {}, nil, opts.port
  for _ = 1, START_TRIES do
    port = port or pick_port(tried)
    tried[port] = true
    write_file(dir .. "/nginx.conf", render_conf(dir, port, opts, luadir, modules, ipv6))
    local out, rc = run(q(nginx) .. " -p " .. q(dir .. "/") .. " -c " .. q(dir .. "/nginx.conf")
      .. " -e " .. q(dir .. "/error.log"))
    if rc == 0 then
      local sb = new_object({ port = port, ca_file = dir .. "/ca.pem", dir = dir,
        created_dir = created })
      sb.keep = opts.keep
      sb.owned = true
      local rok, rerr = wait_ready(sb)
      if not rok then
        sb:stop()
        return fail(rerr .. "\n" .. tail(dir .. "/error.log", 20))
      end
      write_file(dir .. "/sandbox.json", sb:json_line() .. "\n")
      if opts.record ~= false and not write_file(last_file(), dir .. "\n") then
        io.stderr:write("sandbox: cannot write ", last_file(), "; stop it with --dir ", dir, "\n")
      end
      if opts.autostop then
        sb.autostop = on_collect(function() sb:stop() end)
        autostopped[#autostopped + 1] = sb
        watchdog(sb)
      end
      return sb
    end
    last_err = out
    local in_use = out:find("in use", 1, true) ~= nil
    if ipv6 and not in_use and out:find("[::1]", 1, true) then
      ipv6 = false -- IPv6 loopback unusable here: same port, 127.0.0.1 only
    elseif in_use and not opts.port then
      port = nil   -- lost a race for this port: pick another
    else
      break
    end
  end
  return fail("nginx failed to start: " .. tostring(last_err):gsub("%s+$", ""))
end

--- attach to a running sandbox from its JSON line (or the decoded table)
-- syntax: sb = sandbox.attach(json_line_or_table)   -- or nil, msg
function M.attach(info)
  if type(info) == "string" then
    local v, err = json.decode(info)
    if type(v) ~= "table" then return nil, "sandbox.attach: bad JSON line: " .. tostring(err) end
    info = v
  end
  if type(info) ~= "table" then error("sandbox.attach: JSON line or table expected", 2) end
  if type(info.port) ~= "number" or type(info.ca_file) ~= "string" then
    return nil, "sandbox.attach: port and ca_file are required"
  end
  local sb = new_object({ port = info.port, ca_file = info.ca_file,
    dir = info.dir or dirname(info.ca_file), pid = info.pid })
  local status = sb:control("GET", "/_/ping")
  if status ~= 200 then return nil, "sandbox.attach: no sandbox answers on port " .. info.port end
  return sb
end

--- the sandbox recorded in dir/sandbox.json (default: the most recent start)
-- syntax: sb = sandbox.from_dir(dir)   -- or nil, msg
function M.from_dir(dir)
  dir = dir or (read_file(last_file()) or ""):gsub("%s+$", "")
  if dir == "" then return nil, "no sandbox recorded in " .. last_file() end
  local line = read_file(dir .. "/sandbox.json")
  if not line then return nil, "no sandbox.json in " .. dir end
  local info = json.decode(line)
  if type(info) ~= "table" then return nil, "bad sandbox.json in " .. dir end
  local sb = new_object(info)
  sb.created_dir = exists(dir .. "/.created-by-sandbox")
  return sb
end

-- command line -------------------------------------------------------------------------

local USAGE = [==[
usage: sandbox/run start [--port N] [--dir D] [--provider MODULE]... [--keep]
       sandbox/run stop [--dir D]
       sandbox/run status [--dir D]]==]

--- the `sandbox/run` command; returns the exit code
-- syntax: code = sandbox.cli(args)
function M.cli(args)
  local cmd = args[1]
  local opts, providers = {}, {}
  local i = 2
  while i <= #args do
    local a = args[i]
    if a == "--port" then opts.port = tonumber(args[i + 1]); i = i + 1
    elseif a == "--dir" then opts.dir = args[i + 1]; i = i + 1
    elseif a == "--provider" then providers[#providers + 1] = args[i + 1]; i = i + 1
    elseif a == "--keep" then opts.keep = true
    else io.stderr:write("unknown argument ", tostring(a), "\n", USAGE, "\n") return 2 end
    i = i + 1
  end
  if #providers > 0 then opts.providers = providers end
  if cmd == "start" then
    local ok, sb, err = pcall(M.start, opts)
    if not ok then err = sb; sb = nil end
    if not sb then io.stderr:write("sandbox: ", tostring(err), "\n") return 1 end
    io.stdout:write(sb:json_line(), "\n")
    return 0
  elseif cmd == "stop" or cmd == "status" then
    local dir = opts.dir and absolute(opts.dir) or nil
    local sb, err = M.from_dir(dir)
    if not sb then
      io.stderr:write("sandbox: ", err, "\n")
      return cmd == "stop" and 0 or 1
    end
    local running = sb.pid and alive(sb.pid) and is_ours(sb.pid, sb.dir)
    if cmd == "status" then
      if not running then io.stderr:write("sandbox: not running (", sb.dir, ")\n") return 1 end
      io.stdout:write(sb:json_line(), "\n")
      return 0
    end
    sb:stop()
    io.stderr:write("sandbox: stopped (", sb.dir, ")\n")
    return 0
  end
  io.stderr:write(USAGE, "\n")
  return 2
end

return M
