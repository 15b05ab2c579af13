-- Scheduled work in the stack DSL: stack-level tasks and the keys that put a
-- service on a schedule or a file watch.
--
--   task "checkpoint" { every = "1h", run = function() exec { "sqlite3", "app.db", "PRAGMA wal_checkpoint;" } end }
--   service "report" { cmd = { "./report.sh" }, oneshot = true, cron = "0 3 * * 1-5" }
--   service "web" { cmd = { "nginx" }, watch = { "nginx.conf" }, on_change = function(svc, path) ... end }
--
-- Like dsl.lua, every mistake stops the load with file:line, the task or
-- service, the key and a suggestion.

local util = require "luvsup.util"
local schedule = require "luvsup.schedule"

local M = {}

-- Accepted keys of `task "name" { ... }`, in the order luvsup-stack(5) documents them.
M.task_keys = { "every", "cron", "run", "timeout" }
local task_key_set = {}
for _, k in ipairs(M.task_keys) do task_key_set[k] = true end

-- Names people reach for, mapped to ours.
M.aliases = {
  interval = "every", period = "every", repeat_every = "every", frequency = "every",
  schedule = "cron", crontab = "cron", at = "cron", when = "cron",
  fn = "run", func = "run", ["function"] = "run", action = "run", handler = "run", cmd = "run", command = "run",
  time_limit = "timeout", max_time = "timeout", deadline = "timeout",
}

-- Service keys this module checks (spec.lua lists them in its schema).
M.service_aliases = {
  interval = "every", schedule = "cron", crontab = "cron", watch_files = "watch", watches = "watch",
  reload_on_change = "watch", files = "watch",
}

local function callable(v)
  if type(v) == "function" then return true end
  local mt = getmetatable(v)
  return type(mt) == "table" and mt.__call ~= nil
end

-- The checked schedule of `every` or `cron`; fail(message) raises with the
-- whole message after the task or service name.
local function check_every(v, fail)
  local s, err = schedule.every(v)
  if not s then fail("key 'every' " .. err) end
  return s
end

local function check_cron(v, fail)
  local s, err = schedule.cron(v)
  if not s then fail("key 'cron'" .. (err:match("^expects") and " " or ": ") .. err) end
  return s
end

-- Service keys: checkers in the shape spec.lua uses, fn(value, c).
function M.every(v, c)
  return check_every(v, function(message) c:fail(message, nil, true) end)
end

function M.cron(v, c)
  return check_cron(v, function(message) c:fail(message, nil, true) end)
end

function M.watch(v, c)
  if type(v) == "string" then v = { v } end
  if type(v) ~= "table" or #v == 0 then
    c:fail(string.format("expects a file path or a non-empty list of them, got %s",
      type(v) == "table" and "an empty table" or type(v)))
  end
  local out = {}
  for i, p in ipairs(v) do
    if type(p) ~= "string" or p == "" then
      c:fail(string.format("element %d expects a file path (string), got %s", i, type(p)))
    end
    out[i] = util.resolve(c.dir, p)
  end
  return out
end

---Finishes a service's schedule keys after spec.lua checked them: `every` or
---`cron` need oneshot = true, not both, and make autostart default to false.
---@param out table the normalised service
---@param body table the service's keys with the defaults merged
---@param c table the service's checker (c.key, c:fail)
function M.finish_service(out, body, c)
  local s = out.every or out.cron
  if not s then return end
  if out.every and out.cron then
    c.key = "cron"
    c:fail("conflicts with 'every': use one of them")
  end
  local key = out.every and "every" or "cron"
  out.every, out.cron = nil, nil
  if not out.oneshot then
    c.key = key
    c:fail("needs oneshot = true: a scheduled service runs to completion each time")
  end
  out.schedule = s
  if body.autostart == nil then out.autostart = false end
end

---Declares `task "name"`; returns the function that takes its body.
---@param loader table the DSL's loader (file, fail, key_line)
---@param name any
---@param line integer
function M.declare(loader, name, line)
  loader.tasks = loader.tasks or {}
  loader.task_by_name = loader.task_by_name or {}
  return loader:declare("task", name, line, loader.tasks, loader.task_by_name, "every = ..., run = ...")
end

-- Checks one task and returns it normalised for the C++ reader
-- (src/lua/task_reader.cpp).
local function check_task(loader, entry)
  local function fail(message, key)
    loader:fail(loader:key_line(entry.line, key), string.format("task '%s': %s", entry.name, message))
  end
  local body = entry.body
  if not body then
    fail(string.format("has no body: task \"%s\" { every = ..., run = function() ... end }", entry.name))
  end
  for k in pairs(body) do
    if not task_key_set[k] then
      fail(string.format("unknown key '%s'%s", tostring(k),
        util.did_you_mean(tostring(k), M.task_keys, M.aliases)), tostring(k))
    end
  end
  local out = { name = entry.name, source_file = loader.path, source_line = entry.line }
  if body.every ~= nil and body.cron ~= nil then
    fail("key 'cron' conflicts with 'every': use one of them", "cron")
  elseif body.every ~= nil then
    out.schedule = check_every(body.every, function(m) fail(m, "every") end)
  elseif body.cron ~= nil then
    out.schedule = check_cron(body.cron, function(m) fail(m, "cron") end)
  else
    fail("needs a schedule: every = \"1h\" or cron = \"0 3 * * *\"")
  end
  if body.run == nil then
    fail("missing required key 'run' (the function to run)")
  end
  if not callable(body.run) then
    fail(string.format("key 'run' expects a function, got %s", type(body.run)), "run")
  end
  -- run(task) gets the task's name and the stack file's directory (for
  -- relative paths, as a service's cwd defaults to it).
  local run, info = body.run, { name = entry.name, dir = loader.dir }
  out.run = function() return run(info) end
  out.timeout = 0.0
  if body.timeout ~= nil then
    local d, err = util.duration(body.timeout)
    if not d then fail("key 'timeout' " .. err, "timeout") end
    if d <= 0 then fail("key 'timeout' must be above 0", "timeout") end
    out.timeout = d
  end
  return out
end

---The checked tasks of a loaded stack file, in declaration order.
---@param loader table
---@return table[]
function M.check_all(loader)
  local out = {}
  for i, entry in ipairs(loader.tasks or {}) do
    out[i] = check_task(loader, entry)
  end
  return out
end

return M
