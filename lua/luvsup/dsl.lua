-- The stack DSL: runs a stack file, validates what it declares and returns
-- plain, normalised data for the C++ loader (src/lua/stack_loader.cpp).
--
--   stack { name = "aurora", logs = "logs", defaults = { stop = { timeout = 5 } } }
--   service "backend" { cmd = { "python3", "app.py" }, depends_on = { "cache" } }
--
-- `service` and `stack` exist only while a stack file runs (they are globals of
-- its environment). The first mistake stops the load with a message that names
-- the file, the line, the service and the key:
--   stack.lua:12: service 'web': unknown key 'comand'; did you mean 'cmd'?

local util = require "luvsup.util"
local spec = require "luvsup.spec"
local backoff = require "luvsup.backoff"
local tasks = require "luvsup.tasks"

local M = {}

---The accepted keys, as data: M.schema.service, .stack, .log, .stop, .limits.
M.schema = spec.schema

---Process limits of a service: a number sets both soft and hard limits.
---@alias LimitValue integer|"unlimited"|{[1]: integer|"unlimited", [2]: integer|"unlimited"}

---@class StopDef
---@field signal? string|integer stop signal: "TERM", "SIGTERM" or 15 (default "TERM")
---@field timeout? Duration seconds to wait before SIGKILL (default 10)

---@class LogDef
---@field file? string log file (default "<logs>/<name>.log"); relative to the stack file
---@field stderr? boolean|string true: stderr tagged "err" in the same file; a path: its own file
---@field max_size? Size rotate above this size; 0 = never (default "10MB")
---@field keep? integer rotated files kept (default 5)
---@field max_line? Size longer lines are split (default "64KiB")
---@field stall_timeout? Duration how long a stuck write may hold output (default 30)

---@class LimitsDef
---@field as? LimitValue
---@field core? LimitValue
---@field cpu? LimitValue
---@field data? LimitValue
---@field fsize? LimitValue
---@field locks? LimitValue
---@field memlock? LimitValue
---@field msgqueue? LimitValue
---@field nice? LimitValue
---@field nofile? LimitValue
---@field nproc? LimitValue
---@field rss? LimitValue
---@field rtprio? LimitValue
---@field sigpending? LimitValue
---@field stack? LimitValue

---The body of `service "name" { ... }`.
---@class ServiceDef
---@field cmd string|string[] argv, or a string run by /bin/sh -c (required)
---@field cwd? string working directory (default: the stack file's directory)
---@field env? table<string, string|number> variables added to the inherited environment
---@field env_file? string|string[] KEY=VALUE file(s); `env` overrides them
---@field user? string user name to run as
---@field group? string group name to run as
---@field umask? integer|string octal: 0022 or "022"
---@field limits? LimitsDef resource limits
---@field stdin? string file opened as standard input (default "/dev/null")
---@field success_codes? integer[] exit codes that mean success (default {0})
---@field depends_on? string[]|table<string, "started"|"healthy"|"completed">
---@field restart? RestartPolicy "always" (default), "on-failure", "never", a backoff policy or a function
---@field stop? StopDef
---@field log? string|LogDef
---@field autostart? boolean start with the stack (default true)
---@field oneshot? boolean a task that runs to completion (default restart: on failure, 3 times within 60 s)
---@field health? table|function a probe from luvsup.health, or a function returning ok[, error]
---@field ready? {log?: string, notify?: boolean, fd?: integer} a readiness signal besides the probe
---@field watchdog? Duration WATCHDOG=1 expected this often (needs ready = { notify = true })
---@field start_timeout? Duration how long it waits for its dependencies before it is blocked (default 60)
---@field on_unhealthy? fun(svc: table, result: table): "restart"|"wait"|nil what unhealthy does (default restart)
---@field before_start? fun(svc: table): boolean?, string? runs before each start; false refuses it
---@field on_start? fun(svc: table) after each spawn
---@field on_ready? fun(svc: table) when it becomes ready
---@field on_exit? fun(svc: table, exit: table) when its main process exited; a restart waits for it
---@field on_crash_loop? fun(svc: table) when it enters crash-looping
---@field on_fatal? fun(svc: table) when its restart policy gives up
---@field after_stop? fun(svc: table) after it stopped; the stop waits for it
---@field on_change? fun(svc: table, path: string) when a file of its `watch` list changes
---@field hook_timeout? Duration how long before_start, on_exit and after_stop may hold it up (default 5)
---@field every? Duration a oneshot started once per period (not with the stack unless autostart is set)
---@field cron? string a oneshot started at the times of a cron expression
---@field watch? string|string[] files whose change runs on_change(svc, path)

---The table given to `stack { ... }`.
---@class StackDef
---@field name? string stack name (default: the stack file's name without ".lua")
---@field logs? string log directory (default "logs" beside the stack file)
---@field state_dir? string state directory (default ".luvsup" beside the stack file)
---@field control? string control socket (default "<state_dir>/control.sock")
---@field defaults? ServiceDef keys applied to every service that does not set them (hooks too)
---@field on_reload? fun(plan: table) after each reload: plan.added, plan.removed, plan.changed

local DslError = { __tostring = function(e) return e.message end }

local function raise(message)
  error(setmetatable({ message = message }, DslError), 0)
end

-- Loads one stack file. See M.load.
local Loader = {}
Loader.__index = Loader

-- The line, at or after `from`, where `key =` appears before the next
-- `service` call; `from` when it cannot be found.
function Loader:key_line(from, key)
  if not key or not self.source then return from end
  if not self.lines then
    -- Split only when a message needs it: a load without mistakes never does.
    self.lines = {}
    for line in (self.source .. "\n"):gmatch("([^\n]*)\n") do self.lines[#self.lines + 1] = line end
  end
  local pat = "%f[%w_]" .. key:gsub("%p", "%%%0") .. "%s*=%f[^=]"
  local quoted = "%[%s*[\"']" .. key:gsub("%p", "%%%0") .. "[\"']%s*%]%s*=%f[^=]"
  for i = from, #self.lines do
    local line = self.lines[i]
    if i > from and (line:match("^%s*service%s*[%(\"'%[]") or line:match("^%s*task%s*[%(\"'%[]")) then break end
    if line:find(pat) or line:find(quoted) then return i end
  end
  return from
end

-- Checks one service key at a time; fail() raises a located DSL error.
local Check = {}
Check.__index = Check

function Check:fail(message, subkey, full)
  local from_defaults = self.origin[self.key] == "defaults"
  local line = from_defaults and self.loader.stack_line or self.line
  line = self.loader:key_line(line, self.key)
  if subkey then line = self.loader:key_line(line, subkey) end
  local where = from_defaults and string.format("stack defaults (for service '%s')", self.name)
    or string.format("service '%s'", self.name)
  if not full then
    message = string.format("key '%s%s' %s", self.key, subkey and ("." .. subkey) or "", message)
  end
  raise(string.format("%s:%d: %s: %s", self.loader.file, line, where, message))
end

function Loader:fail(line, message)
  raise(string.format("%s:%d: %s", self.file, line, message))
end

-- Declares `kind "name" { ... }` (a service or a task) at `line`: checks the
-- name, refuses a second one of that name, records the entry in `list` and
-- `by_name`, and returns the function that takes the body. `example` shows
-- the body's keys in messages ("cmd = ...").
function Loader:declare(kind, name, line, list, by_name, example)
  if type(name) ~= "string" then
    self:fail(line, string.format("%s expects a name: %s \"name\" { %s }, got %s", kind, kind,
      kind == "service" and "..." or example, type(name)))
  end
  if not name:find("^[%a_][%w_%-]*$") then
    self:fail(line, string.format("bad %s name %q: use letters, digits, '_' and '-', " ..
      "starting with a letter or '_'", kind, name))
  end
  local first = by_name[name]
  if first then
    self:fail(line, string.format("duplicate %s '%s' (first defined at line %d)", kind, name, first.line))
  end
  -- The body's slot is sized here; the function captures two upvalues.
  local entry = { name = name, line = line, kind = kind, example = example, body = nil }
  by_name[name] = entry
  list[#list + 1] = entry
  return function(body)
    if type(body) ~= "table" then
      self:fail(entry.line, string.format("%s '%s': expects a table of keys: %s \"%s\" { %s }, got %s",
        entry.kind, entry.name, entry.kind, entry.name, entry.example, type(body)))
    end
    entry.body = body
  end
end

function Loader:stack(def, line)
  if self.stack_line then
    self:fail(line, string.format("stack: stack{} may be called once (first called at line %d)", self.stack_line))
  end
  self.stack_line = line
  if type(def) ~= "table" then
    self:fail(line, "stack: expects a table: stack { name = ..., logs = ... }, got " .. type(def))
  end
  local function bad(key, message)
    self:fail(self:key_line(line, key), string.format("stack: key '%s' %s", key, message))
  end
  for k in pairs(def) do
    if not spec.stack_keys[k] then
      self:fail(self:key_line(line, tostring(k)), string.format("stack: unknown key '%s'%s", tostring(k),
        util.did_you_mean(tostring(k), spec.schema.stack, { log = "logs", log_dir = "logs", state = "state_dir" })))
    end
  end
  if def.on_reload ~= nil and type(def.on_reload) ~= "function" then
    bad("on_reload", "expects a function(plan), got " .. type(def.on_reload))
  end
  for _, k in ipairs { "name", "logs", "state_dir", "control" } do
    if def[k] ~= nil and (type(def[k]) ~= "string" or def[k] == "") then
      bad(k, "expects a non-empty string, got " .. type(def[k]))
    end
  end
  if def.defaults ~= nil then
    if type(def.defaults) ~= "table" then
      bad("defaults", "expects a table of service keys, got " .. type(def.defaults))
    end
    for k in pairs(def.defaults) do
      if not spec.service_keys[k] then
        self:fail(self:key_line(line, tostring(k)), string.format("stack: defaults: unknown key '%s'%s",
          tostring(k), util.did_you_mean(tostring(k), spec.schema.service, spec.aliases)))
      end
    end
  end
  self.def = def
end

-- The policy a restart name stands for, or nil and an error for a bad name.
-- Every service of the load that names it, or takes the default, shares one
-- table: a policy is never written to (backoff decides from its fields, and no
-- hook sees it), and a shared table is fingerprinted once, not per service.
function Loader:named_policy(name)
  local p = self.named_policies[name]
  if p == nil then
    local err
    p, err = backoff.named(name)
    if p == nil then return nil, err end
    self.named_policies[name] = p
  end
  return p
end

-- The default policy of a oneshot service, shared as named_policy's are.
function Loader:oneshot_policy()
  self.oneshot_default = self.oneshot_default or backoff.oneshot_default()
  return self.oneshot_default
end

-- A service key's place in the schema.
local schema_order = {}
for i, k in ipairs(spec.schema.service) do schema_order[k] = i end

-- Inserts service key k into keys[1..n], which is in the schema's order;
-- returns the new count. An insertion sort: a service sets few keys.
local function add_key(keys, n, k)
  local order = schema_order[k]
  local i = n
  while i > 0 and schema_order[keys[i]] > order do keys[i + 1] = keys[i]; i = i - 1 end
  keys[i + 1] = k
  return n + 1
end

-- Tables whose keys a service merges with the defaults' instead of replacing.
local merged_tables = { env = true, stop = true, log = true, limits = true }

-- Read-only stand-ins that never leave this file: nothing to iterate, no
-- origins.
local no_list = {}
local no_origin = {}

-- The values of keys a service leaves unset, made once per load: the C++
-- reader (src/lua/stack_loader.cpp) only reads a normalised service, so its
-- services share them. Per load, not per module, so that a caller of M.load
-- who writes to a result cannot change another load's.
local function unset_values()
  return { list = {}, codes = { 0 }, stop = { signal = "TERM", timeout = 10.0 },
    ready = { log_pattern = "", notify = false, fd = -1 } }
end

-- env_file first, then env; a name set in env replaces the env_file value.
local function merged_env(env_file, env)
  local out, index = {}, {}
  for _, kv in ipairs(env_file or no_list) do
    if index[kv[1]] then out[index[kv[1]]] = kv else out[#out + 1] = kv; index[kv[1]] = #out end
  end
  for _, kv in ipairs(env or no_list) do
    if index[kv[1]] then out[index[kv[1]]] = kv else out[#out + 1] = kv; index[kv[1]] = #out end
  end
  return out
end

function Loader:check_service(entry)
  local body = entry.body
  if not body then
    self:fail(entry.line, string.format("service '%s': has no body: service \"%s\" { cmd = ... }",
      entry.name, entry.name))
  end
  local c = self.check
  c.name, c.line, c.origin = entry.name, entry.line, no_origin
  -- The keys it sets (every one known), and `log`, which has defaults of its
  -- own, in the schema's order: the order of the checks, so of which mistake
  -- is reported first. keys[n + 1 ...] are left over from earlier services.
  local keys, n = self.keys, 0
  for k in pairs(body) do
    if not schema_order[k] then
      c.key = tostring(k)
      c:fail(string.format("unknown key '%s'%s", tostring(k),
        util.did_you_mean(tostring(k), spec.schema.service, spec.aliases)), nil, true)
    end
    n = add_key(keys, n, k)
  end
  if self.has_defaults then
    local merged = {}
    for k, v in pairs(body) do merged[k] = v end
    c.origin = {}
    for k, v in pairs(self.defaults) do
      if merged[k] == nil then
        merged[k], c.origin[k] = v, "defaults"
        n = add_key(keys, n, k)
      elseif merged_tables[k] and type(v) == "table" and type(merged[k]) == "table" then
        local m = {}
        for dk, dv in pairs(v) do m[dk] = dv end
        for sk, sv in pairs(merged[k]) do m[sk] = sv end
        merged[k] = m
      end
    end
    body = merged
  end
  if body.cmd == nil then
    c.key = "cmd"
    c:fail("missing required key 'cmd'", nil, true)
  end
  if body.log == nil then n = add_key(keys, n, "log") end
  -- Every field the C++ reader reads, with its default: the table is sized once.
  local unset = self.unset
  local out = { name = entry.name, source_file = self.path, source_line = entry.line, cwd = self.dir,
    stdin = "/dev/null", success_codes = unset.codes, depends_on = unset.list, stop = unset.stop,
    limits = unset.list, autostart = true, oneshot = false, ready = unset.ready, watchdog = 0.0,
    start_timeout = 60.0, env = unset.list, argv = unset.list, log = unset.list }
  for i = 1, n do
    local k = keys[i]
    c.key = k
    out[k] = spec[k](body[k], c)
  end
  if body.env ~= nil or body.env_file ~= nil then
    out.env = merged_env(body.env_file ~= nil and out.env_file, body.env ~= nil and out.env)
    out.env_file = nil
  end
  out.argv, out.cmd = out.cmd, nil
  if body.watchdog ~= nil and not out.ready.notify then
    c.key = "watchdog"
    c:fail("needs ready = { notify = true }: the service sends WATCHDOG=1 over NOTIFY_SOCKET")
  end
  out.restart = out.restart or (out.oneshot and self:oneshot_policy() or self.always_policy)
  tasks.finish_service(out, body, c)
  return out, c.origin
end

function Loader:finish()
  local def = self.def or {}
  self.name = def.name or util.stem(self.path)
  self.log_dir = util.resolve(self.dir, def.logs or "logs")
  self.state_dir = util.resolve(self.dir, def.state_dir or ".luvsup")
  self.control = def.control and util.resolve(self.dir, def.control) or ""
  self.defaults = def.defaults or {}
  self.has_defaults = next(self.defaults) ~= nil
  self.always_policy = self:named_policy("always")
  -- One checker serves every service in turn (check_service points it at
  -- its service); origins[i] says which keys of service i came from defaults.
  self.check = setmetatable({ loader = self, dir = self.dir, log_dir = self.log_dir, files = self.files,
    name = nil, line = nil, origin = nil, key = nil }, Check)
  self.keys = {}  -- check_service's list of a service's keys, reused
  self.unset = unset_values()
  local services, origins = {}, {}
  for i, entry in ipairs(self.services) do
    services[i], origins[i] = self:check_service(entry)
  end
  for i, svc in ipairs(services) do
    for _, dep in ipairs(svc.depends_on) do
      if not self.by_name[dep.name] then
        local c = self.check
        c.name, c.line, c.origin, c.key = self.services[i].name, self.services[i].line, origins[i], "depends_on"
        local names = {}
        for _, e in ipairs(self.services) do names[#names + 1] = e.name end
        c:fail(string.format("depends_on names unknown service '%s'%s", dep.name,
          util.did_you_mean(dep.name, names)), dep.name, true)
      end
    end
  end
  local files, seen = {}, {}
  for _, f in ipairs(self.files) do
    if not seen[f] then files[#files + 1], seen[f] = f, true end
  end
  return {
    name = self.name, file = self.path, dir = self.dir, log_dir = self.log_dir,
    state_dir = self.state_dir, control = self.control, services = services, loaded_files = files,
    on_reload = def.on_reload,
    tasks = tasks.check_all(self),
  }
end

local function starts_with(s, prefix)
  return prefix ~= nil and prefix ~= "" and s:sub(1, #prefix) == prefix
end

---Loads a stack file. `opts.file` is the path as the user gave it (used in
---messages), `opts.path` its absolute real path, `opts.dir` its directory,
---`opts.data_dir` luvsup's data directory (modules required from there or
---from the stack's directory are listed in `loaded_files`).
---Returns the stack as plain data, or nil and "file:line: message".
---@param opts {file: string, path: string, dir: string, data_dir?: string}
---@return table|nil stack
---@return string|nil error
function M.load(opts)
  local self = setmetatable({ file = opts.file, path = opts.path, dir = opts.dir, services = {},
    by_name = {}, files = { opts.path }, named_policies = {} }, Loader)
  local f, err = io.open(opts.path, "r")
  if not f then
    return nil, string.format("%s: cannot read stack file: %s", opts.file, err)
  end
  local source = f:read("a")
  f:close()
  self.source = source

  local env = setmetatable({
    service = function(name)
      local line = debug.getinfo(2, "l").currentline or 0
      return self:declare("service", name, line, self.services, self.by_name, "cmd = ...")
    end,
    stack = function(def)
      local line = debug.getinfo(2, "l").currentline or 0
      self:stack(def, line)
    end,
    task = function(name)
      local line = debug.getinfo(2, "l").currentline or 0
      return tasks.declare(self, name, line)
    end,
  }, { __index = _G })
  local chunk, lerr = load(source, "@" .. opts.file, "t", env)
  if not chunk then
    return nil, lerr
  end
  -- Record the Lua files the stack requires from its own directory or ours.
  local searcher = package.searchers[2]
  package.searchers[2] = function(name)
    local loader, path = searcher(name)
    if type(loader) == "function" and type(path) == "string" and
        (starts_with(path, opts.dir .. "/") or starts_with(path, opts.data_dir)) then
      self.files[#self.files + 1] = path
    end
    return loader, path
  end
  local ok, result = xpcall(function()
    chunk()
    -- Hooks defined in the stack file run later in this environment: there
    -- `service("name")` looks a service up instead of declaring one.
    env.service, env.stack = rawget(_G, "service"), nil
    return self:finish()
  end, function(e)
    if getmetatable(e) == DslError then return e.message end
    if type(e) == "string" then return e end
    local mt = getmetatable(e)
    if type(mt) == "table" and mt.__tostring then return tostring(e) end
    return string.format("%s: error object is a %s value", opts.file, type(e))
  end)
  package.searchers[2] = searcher
  if not ok then
    return nil, result
  end
  return result
end

return M
