-- The service and stack keys of the DSL: their schema, and one checker per key
-- that validates a value and returns it normalised for the C++ loader.
--
-- A checker is `fn(value, c)`; `c` is the service being checked (c.dir, c.name,
-- c.log_dir, c.line) and `c:fail(message, subkey?)` raises a DSL error that
-- names the file, line, service and key. One `c` serves every service of a
-- load in turn: a checker must not keep it past its call.

local util = require "luvsup.util"
local backoff = require "luvsup.backoff"
local envfile = require "luvsup.envfile"
local health = require "luvsup.health"
local tasks = require "luvsup.tasks"

local M = {}

-- Accepted keys, in the order the man page documents them. Tests check that
-- luvsup-stack(5) documents every one.
M.schema = {
  service = { "cmd", "cwd", "env", "env_file", "user", "group", "umask", "limits", "stdin",
    "success_codes", "depends_on", "restart", "stop", "log", "autostart", "oneshot", "health", "ready",
    "watchdog", "start_timeout", "on_unhealthy", "before_start", "on_start", "on_ready", "on_exit",
    "on_crash_loop", "on_fatal", "after_stop", "on_change", "hook_timeout", "every", "cron", "watch" },
  stack = { "name", "logs", "state_dir", "control", "defaults", "on_reload" },
  log = { "file", "stderr", "max_size", "keep", "max_line", "stall_timeout" },
  stop = { "signal", "timeout" },
  limits = { "as", "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice",
    "nofile", "nproc", "rss", "rtprio", "sigpending", "stack" },
  restart = { "always", "on-failure", "never" },
  conditions = { "started", "healthy", "completed" },
  ready = { "log", "notify", "fd" },
  health = {},  -- filled below from lua/luvsup/health.lua
  task = tasks.task_keys,
}

-- The keys of health probes: the schedule of the top-level probe, then the
-- keys of each probe kind, each once.
do
  local seen = {}
  local function add(k)
    if not seen[k] then seen[k] = true; M.schema.health[#M.schema.health + 1] = k end
  end
  for _, k in ipairs(health.schedule_keys) do add(k) end
  for _, kind in ipairs { "http", "tcp", "exec", "all", "any" } do
    for _, k in ipairs(health.kind_keys[kind]) do add(k) end
  end
end

-- Names people reach for from other supervisors, mapped to ours.
M.aliases = {
  command = "cmd", exec = "cmd", args = "cmd", argv = "cmd", run = "cmd",
  workdir = "cwd", working_dir = "cwd", workingdir = "cwd", dir = "cwd", directory = "cwd",
  environment = "env", vars = "env", envfile = "env_file", env_files = "env_file", dotenv = "env_file",
  depends = "depends_on", requires = "depends_on", after = "depends_on", needs = "depends_on",
  dependencies = "depends_on", depends_on_services = "depends_on",
  restart_policy = "restart", backoff = "restart", restarts = "restart",
  logfile = "log", log_file = "log", logs = "log", output = "log", stdout = "log",
  stop_signal = "stop", kill_signal = "stop", stopsignal = "stop",
  rlimits = "limits", ulimit = "limits", ulimits = "limits",
  one_shot = "oneshot", auto_start = "autostart", enabled = "autostart",
  healthcheck = "health", health_check = "health", healthchecks = "health", probe = "health",
  readiness = "ready", ready_check = "ready", notify = "ready", startup_timeout = "start_timeout",
  start_wait = "start_timeout", on_health_failure = "on_unhealthy", unhealthy = "on_unhealthy",
  pre_start = "before_start", prestart = "before_start", exec_start_pre = "before_start",
  on_started = "on_start", post_start = "on_start", on_healthy = "on_ready", on_crash = "on_exit",
  on_exited = "on_exit", on_stop = "after_stop", post_stop = "after_stop", on_give_up = "on_fatal",
  on_failed = "on_fatal", on_failure = "on_fatal", hooks_timeout = "hook_timeout",
  exit_codes = "success_codes", ok_codes = "success_codes", username = "user", uid = "user", gid = "group",
}
for k, v in pairs(tasks.service_aliases) do M.aliases[k] = v end

local function set_of(list)
  local s = {}
  for _, v in ipairs(list) do s[v] = true end
  return s
end

M.service_keys = set_of(M.schema.service)
M.stack_keys = set_of(M.schema.stack)
local log_keys, stop_keys = set_of(M.schema.log), set_of(M.schema.stop)
local limit_names, conditions = set_of(M.schema.limits), set_of(M.schema.conditions)
local ready_keys = set_of(M.schema.ready)

-- Signal names luvsup accepts, without "SIG"; the C++ loader maps them to numbers.
M.signals = { "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "IOT", "BUS", "FPE", "KILL", "USR1",
  "SEGV", "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN",
  "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "POLL", "PWR", "SYS" }
local signal_set = set_of(M.signals)

local function is_array(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n == #t
end

local function expect(c, v, want, what, subkey)
  if type(v) ~= want then
    c:fail(string.format("expects %s, got %s", what, type(v)), subkey)
  end
  return v
end

local function check_subkeys(c, t, allowed, list, key)
  for k in pairs(t) do
    if not allowed[k] then
      c:fail(string.format("unknown key '%s.%s'%s", key, tostring(k),
        util.did_you_mean(tostring(k), list)), tostring(k), true)
    end
  end
end

local function duration(c, v, subkey)
  local d, err = util.duration(v)
  if not d then c:fail(err, subkey) end
  return d
end

local function env_string(v)
  if type(v) == "string" then return v end
  if math.type(v) == "integer" then return string.format("%d", v) end
  if math.type(v) == "float" then return string.format("%.14g", v) end
  return v
end

function M.cmd(v, c)
  if type(v) == "string" then
    if v:match("^%s*$") then c:fail("is an empty command") end
    return { "/bin/sh", "-c", v }
  end
  expect(c, v, "table", "a list of strings (argv) or a string run by /bin/sh -c")
  if #v == 0 or not is_array(v) then
    c:fail("expects a non-empty list of strings (argv) or a string run by /bin/sh -c")
  end
  local argv = {}
  for i, a in ipairs(v) do
    if type(a) == "string" then
      argv[i] = a
    elseif math.type(a) ~= nil then
      argv[i] = env_string(a)
    else
      c:fail(string.format("element %d expects a string, got %s", i, type(a)))
    end
  end
  return argv
end

function M.cwd(v, c)
  return util.resolve(c.dir, expect(c, v, "string", "a string (directory path)"))
end

function M.env(v, c)
  expect(c, v, "table", "a table of NAME = value")
  local out = {}
  for _, k in ipairs(util.sorted_keys(v)) do
    local val = v[k]
    if type(k) ~= "string" or k == "" or k:find("=", 1, true) then
      c:fail(string.format("has a bad variable name %s (use NAME = \"value\")", tostring(k)))
    end
    if type(val) ~= "string" and math.type(val) == nil then
      c:fail(string.format("variable '%s' expects a string or number, got %s", k, type(val)))
    end
    out[#out + 1] = { k, env_string(val) }
  end
  return out
end

function M.env_file(v, c)
  local files = type(v) == "table" and v or { v }
  local out = {}
  for _, f in ipairs(files) do
    expect(c, f, "string", "a string (path of a KEY=VALUE file) or a list of them")
    local path = util.resolve(c.dir, f)
    local parsed, err = envfile.read(path)
    if not parsed then c:fail(err) end
    c.files[#c.files + 1] = path
    for _, kv in ipairs(parsed) do out[#out + 1] = kv end
  end
  return out
end

function M.user(v, c)
  expect(c, v, "string", "a string (user name)")
  if v == "" then c:fail("is empty") end
  return v
end

function M.group(v, c)
  expect(c, v, "string", "a string (group name)")
  if v == "" then c:fail("is empty") end
  return v
end

-- A number's decimal digits are read as octal, so `umask = 0022` (which Lua
-- reads as 22) means 022, like the string "022".
function M.umask(v, c)
  local s
  if math.type(v) == "integer" and v >= 0 then
    s = string.format("%d", v)
  elseif type(v) == "string" then
    s = v:gsub("^0o", "")
  else
    c:fail(string.format("expects an octal mode like 0022 or \"022\", got %s", type(v)))
  end
  if not s:match("^[0-7]+$") or tonumber(s, 8) > 511 then
    c:fail(string.format("expects an octal mode from 000 to 777, got %s", tostring(v)))
  end
  return tonumber(s, 8)
end

local function limit_value(c, v, name)
  if v == "unlimited" or v == "infinity" then return -1 end
  if math.type(v) == "integer" and v >= 0 then return v end
  if math.type(v) == "float" and v >= 0 and v == math.floor(v) and v < 2 ^ 62 then return math.floor(v) end
  c:fail(string.format("expects a whole number >= 0, \"unlimited\" or {soft, hard}, got %s",
    type(v) == "string" and string.format("%q", v) or type(v)), name)
end

function M.limits(v, c)
  expect(c, v, "table", "a table of name = number | \"unlimited\" | {soft, hard}")
  local out = {}
  for _, raw in ipairs(util.sorted_keys(v)) do
    local name = tostring(raw):lower():gsub("^rlimit_", "")
    if not limit_names[name] then
      c:fail(string.format("unknown limit '%s' in 'limits'%s", tostring(raw), util.did_you_mean(name,
        M.schema.limits, { files = "nofile", open_files = "nofile", memory = "as", processes = "nproc" })),
        tostring(raw), true)
    end
    local val, soft, hard = v[raw], nil, nil
    if type(val) == "table" then
      soft = limit_value(c, val.soft or val[1], name)
      hard = limit_value(c, val.hard or val[2] or val.soft or val[1], name)
    else
      soft = limit_value(c, val, name)
      hard = soft
    end
    if hard ~= -1 and (soft == -1 or soft > hard) then
      c:fail("has a soft limit above its hard limit", name)
    end
    out[#out + 1] = { name = name, soft = soft, hard = hard }
  end
  return out
end

function M.stdin(v, c)
  return util.resolve(c.dir, expect(c, v, "string", "a string (file path)"))
end

function M.success_codes(v, c)
  if math.type(v) == "integer" then v = { v } end
  expect(c, v, "table", "a list of exit codes (0-255)")
  if #v == 0 or not is_array(v) then c:fail("expects a non-empty list of exit codes (0-255)") end
  for _, code in ipairs(v) do
    if math.type(code) ~= "integer" or code < 0 or code > 255 then
      c:fail("expects exit codes from 0 to 255, got " .. tostring(code))
    end
  end
  return { table.unpack(v) }
end

function M.depends_on(v, c)
  if type(v) == "string" then v = { v } end
  expect(c, v, "table", "a list of service names or a table of name = condition")
  local out, seen = {}, {}
  local function add(name, cond)
    if type(name) ~= "string" then
      c:fail("expects service names (strings), got " .. type(name))
    end
    -- { condition = "healthy", restart = true }: restart with the dependency.
    local restart = false
    if type(cond) == "table" then
      for k in pairs(cond) do
        if k ~= "condition" and k ~= "restart" then
          c:fail(string.format("has an unknown key '%s'%s", tostring(k),
            util.did_you_mean(tostring(k), { "condition", "restart" })), name)
        end
      end
      if cond.restart ~= nil and type(cond.restart) ~= "boolean" then
        c:fail("expects restart = true or false, got " .. type(cond.restart), name)
      end
      restart, cond = cond.restart or false, cond.condition or "started"
    end
    if not conditions[cond] then
      c:fail(string.format("condition %s for '%s' must be \"started\", \"healthy\" or \"completed\"%s",
        type(cond) == "string" and string.format("%q", cond) or type(cond), name,
        type(cond) == "string" and util.did_you_mean(cond, M.schema.conditions) or ""))
    end
    if name == c.name then c:fail("depends_on names the service itself", nil, true) end
    if not seen[name] then
      seen[name] = true
      out[#out + 1] = { name = name, condition = cond, restart = restart }
    end
  end
  for _, name in ipairs(v) do add(name, "started") end
  for _, k in ipairs(util.sorted_keys(v)) do
    if math.type(k) ~= "integer" then add(k, v[k]) end
  end
  return out
end

local function callable(v)
  if type(v) == "function" then return true end
  local mt = getmetatable(v)
  return type(mt) == "table" and mt.__call ~= nil
end

function M.restart(v, c)
  if type(v) == "string" then
    local p, err = c.loader:named_policy(v)
    if not p then c:fail(err) end
    return p
  end
  if not callable(v) then
    c:fail(string.format("expects \"always\", \"on-failure\", \"never\", a backoff policy " ..
      "(backoff.exponential{...}) or a function(svc, exit), got %s", type(v)))
  end
  return v
end

local function signal(c, v)
  if math.type(v) == "integer" then
    if v < 1 or v > 64 then c:fail("expects a signal number from 1 to 64, got " .. v, "signal") end
    return v
  end
  if type(v) ~= "string" then
    c:fail("expects a signal name like \"TERM\" or a number, got " .. type(v), "signal")
  end
  local name = v:upper():gsub("^SIG", "")
  if not signal_set[name] then
    c:fail(string.format("unknown signal %q%s", v, util.did_you_mean(name, M.signals)), "signal")
  end
  return name
end

function M.stop(v, c)
  expect(c, v, "table", "a table { signal = \"TERM\", timeout = 10 }")
  check_subkeys(c, v, stop_keys, M.schema.stop, "stop")
  return {
    signal = v.signal ~= nil and signal(c, v.signal) or "TERM",
    timeout = v.timeout ~= nil and duration(c, v.timeout, "timeout") or 10.0,
  }
end

local function log_path(c, v, subkey)
  if type(v) ~= "string" or v == "" then
    c:fail(string.format("expects a string (file path), got %s", type(v)), subkey)
  end
  return util.resolve(c.dir, v)
end

local function size(c, v, subkey)
  local s, err = util.size(v)
  if not s then c:fail(err, subkey) end
  return s
end

local function count(c, v, subkey, min)
  if math.type(v) ~= "integer" or v < min then
    c:fail(string.format("expects a whole number >= %d, got %s", min, tostring(v)), subkey)
  end
  return v
end

function M.log(v, c)
  local out = { file = c.log_dir .. "/" .. c.name .. ".log", separate_stderr = false, stderr_file = "",
    max_size = 10 * 1024 * 1024, keep = 5, max_line = 64 * 1024, stall_timeout = 30.0 }
  if v == nil then return out end
  if type(v) == "string" then v = { file = v } end
  expect(c, v, "table", "a string (file path) or a table { file = ..., max_size = ..., keep = ... }")
  check_subkeys(c, v, log_keys, M.schema.log, "log")
  if v.file ~= nil then out.file = log_path(c, v.file, "file") end
  if v.stderr == true then
    out.separate_stderr = true
  elseif type(v.stderr) == "string" then
    out.separate_stderr, out.stderr_file = true, log_path(c, v.stderr, "stderr")
  elseif v.stderr ~= nil and v.stderr ~= false then
    c:fail("expects true (tagged in the same file) or a file path, got " .. type(v.stderr), "stderr")
  end
  if v.max_size ~= nil then out.max_size = size(c, v.max_size, "max_size") end
  if v.keep ~= nil then out.keep = count(c, v.keep, "keep", 0) end
  if v.max_line ~= nil then
    out.max_line = size(c, v.max_line, "max_line")
    if out.max_line < 80 then c:fail("must be at least 80 bytes", "max_line") end
  end
  if v.stall_timeout ~= nil then out.stall_timeout = duration(c, v.stall_timeout, "stall_timeout") end
  return out
end

function M.autostart(v, c)
  return expect(c, v, "boolean", "true or false")
end

function M.oneshot(v, c)
  return expect(c, v, "boolean", "true or false")
end

function M.health(v, c)
  if not health.is_probe(v) then
    c:fail(string.format("expects a probe (health.http{}, health.tcp{}, health.exec{}, health.all{}, " ..
      "health.any{}) or a function, got %s", type(v)))
  end
  return health.normalise(v, function(message, subkey, full)
    if full then
      local named = message:gsub("^unknown key '[^']*'", function() return "unknown key 'health." .. subkey .. "'" end)
      c:fail(named, subkey, true)
    end
    c:fail(message, subkey)
  end)
end

function M.ready(v, c)
  expect(c, v, "table", "a table { log = \"pattern\" }, { notify = true } or { fd = N }")
  check_subkeys(c, v, ready_keys, M.schema.ready, "ready")
  local n = 0
  for _ in pairs(v) do n = n + 1 end
  if n ~= 1 then
    c:fail("expects exactly one of { log = \"pattern\" }, { notify = true } or { fd = N }")
  end
  local out = { log_pattern = "", notify = false, fd = -1 }
  if v.log ~= nil then
    out.log_pattern = health.check_pattern(function(message) c:fail(message, "log") end, v.log, "log")
    if out.log_pattern == "" then c:fail("expects a non-empty Lua pattern", "log") end
  elseif v.notify ~= nil then
    if v.notify ~= true then c:fail("expects true (the service speaks sd_notify)", "notify") end
    out.notify = true
  else
    if math.type(v.fd) ~= "integer" or v.fd < 3 or v.fd > 1023 then
      c:fail(string.format("expects a descriptor number from 3 to 1023 (0-2 are stdin, stdout and " ..
        "stderr), got %s", tostring(v.fd)), "fd")
    end
    out.fd = v.fd
  end
  return out
end

function M.watchdog(v, c)
  local d = duration(c, v)
  if d <= 0 then c:fail("must be above 0") end
  return d
end

function M.start_timeout(v, c)
  local d = duration(c, v)
  if d <= 0 then c:fail("must be above 0") end
  return d
end

function M.on_unhealthy(v, c)
  if not callable(v) then
    c:fail(string.format("expects a function(svc, result) returning \"restart\", \"wait\" or nil, got %s", type(v)))
  end
  return v
end

-- The other hooks, with the arguments each gets (for the message).
local hook_signatures = {
  before_start = "function(svc) returning false, reason to refuse the start",
  on_start = "function(svc)", on_ready = "function(svc)", on_exit = "function(svc, exit)",
  on_crash_loop = "function(svc)", on_fatal = "function(svc)", after_stop = "function(svc)",
  on_change = "function(svc, path)",
}
for hook, signature in pairs(hook_signatures) do
  M[hook] = function(v, c)
    if not callable(v) then
      c:fail(string.format("expects a %s, got %s", signature, type(v)))
    end
    return v
  end
end

function M.hook_timeout(v, c)
  local d = duration(c, v)
  if d <= 0 then c:fail("must be above 0") end
  return d
end

-- every, cron and watch are checked by lua/luvsup/tasks.lua.
M.every, M.cron, M.watch = tasks.every, tasks.cron, tasks.watch

return M
