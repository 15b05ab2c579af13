--- SQLite maintenance as scheduled tasks, through the sqlite3 command-line
--- program: a WAL checkpoint, an integrity check (logged, and posted to a
--- webhook when one is given) and a backup with `.backup` into a dated file,
--- keeping the newest few.
---
--- ```lua
--- local sqlite = require "recipes.sqlite"
--- local db = sqlite { db = "data/app.db", backup_dir = "backups", keep = 7 }
--- task "app-checkpoint" (db.checkpoint)
--- task "app-integrity" (db.integrity)
--- task "app-backup" (db.backup)
--- ```
---
--- Each field is an ordinary task body: declare the ones you want, change
--- its schedule or timeout first if you like. A schedule option is a
--- duration ("1h", every) or a cron expression ("0 3 * * *", "@daily").
--- Relative paths are relative to the stack file's directory.

---@class SqliteOptions
---@field db string                the database file (required)
---@field checkpoint? string|number schedule of `PRAGMA wal_checkpoint(TRUNCATE)` (default "1h")
---@field integrity? string|number schedule of `PRAGMA integrity_check` (default "@daily")
---@field backup? string|number    schedule of the backup (default "0 3 * * *")
---@field backup_dir? string       where backups go (default "backups")
---@field keep? integer            backups kept, the newest (default 7)
---@field notify? string           webhook URL told when the integrity check fails
---@field sqlite3? string          the sqlite3 program (default "sqlite3", found on PATH)
---@field busy_timeout? integer    milliseconds sqlite3 waits for a lock (default 5000)

local options = require "recipes.options"
local util = require "luvsup.util"

local k_options = { "db", "checkpoint", "integrity", "backup", "backup_dir", "keep", "notify", "sqlite3",
  "busy_timeout" }

-- A schedule option as task keys: a cron expression has spaces or starts
-- with "@"; anything else is a duration for `every`.
local function schedule(o, key, default)
  local v = o:raw(key)
  if v == nil then v = default end
  if type(v) == "string" and (v:find("%s") or v:sub(1, 1) == "@") then
    return "cron", v
  end
  if type(v) ~= "string" and math.type(v) == nil then
    -- Level 4: this function, the recipe, then the stack file's line.
    error(string.format("sqlite: '%s' must be a duration (\"1h\") or a cron expression (\"0 3 * * *\"), got %s",
      key, type(v)), 4)
  end
  return "every", v
end

-- The file name of a backup of `db` taken at `time`: "app-20261201-030000.db".
local function backup_name(db, time)
  local stem = db:match("([^/]*)$"):gsub("%.[^.]*$", "")
  return string.format("%s-%s.db", stem, os.date("%Y%m%d-%H%M%S", time))
end

---@param opts SqliteOptions
---@return {checkpoint: table, integrity: table, backup: table} task bodies
return function(opts)
  local o = options.check("sqlite", opts, k_options)
  local db = o:string("db")
  if not db then o:fail("db", "is required: the database file") end
  local backup_dir = o:string("backup_dir", "backups")
  local keep = o:integer("keep", 7, 1, 10000)
  local webhook = o:string("notify")
  local program = o:string("sqlite3", "sqlite3")
  local busy = o:integer("busy_timeout", 5000, 0, 3600000)

  -- Runs one statement or dot-command on the database; returns its output,
  -- or nil and what went wrong.
  local function sql(t, statement, timeout)
    local r, err = exec { program, "-batch", "-bail", "-cmd", ".timeout " .. busy, util.resolve(t.dir, db),
      statement, timeout = timeout, cwd = t.dir }
    if not r then return nil, err end
    if r.timed_out then return nil, string.format("sqlite3 timed out after %ss", timeout) end
    if r.code ~= 0 then
      return nil, string.format("sqlite3 exited with %s: %s", tostring(r.code or ("signal " .. tostring(r.signal))),
        (r.stderr or ""):gsub("%s+$", ""))
    end
    return r.stdout or ""
  end

  local tasks = {}

  local kind, when = schedule(o, "checkpoint", "1h")
  tasks.checkpoint = { [kind] = when, timeout = "5m", run = function(t)
    local out, err = sql(t, "PRAGMA wal_checkpoint(TRUNCATE);", 240)
    if not out then
      log.error(string.format("sqlite: checkpoint of %s failed: %s", db, err))
      return
    end
    -- busy|log frames|checkpointed frames; busy = 1: a reader kept it from finishing.
    if out:match("^1|") then
      log.warn(string.format("sqlite: checkpoint of %s could not finish (the database is busy): %s", db,
        (out:gsub("%s+$", ""))))
    else
      log.info(string.format("sqlite: checkpointed %s (%s)", db, (out:gsub("%s+$", ""))))
    end
  end }

  kind, when = schedule(o, "integrity", "@daily")
  tasks.integrity = { [kind] = when, timeout = "30m", run = function(t)
    local out, err = sql(t, "PRAGMA integrity_check;", 1500)
    local result = out and out:gsub("%s+$", "")
    if result == "ok" then
      log.info(string.format("sqlite: integrity check of %s: ok", db))
      return
    end
    local problem = result or err
    log.error(string.format("sqlite: integrity check of %s failed: %s", db, problem))
    if webhook then
      local ok, nerr = notify { webhook = webhook, text = string.format("SQLite integrity check of %s failed", db),
        fields = { database = db, result = problem:sub(1, 1000) } }
      if not ok then log.warn("sqlite: could not notify " .. webhook .. ": " .. tostring(nerr)) end
    end
  end }

  kind, when = schedule(o, "backup", "0 3 * * *")
  tasks.backup = { [kind] = when, timeout = "1h", run = function(t)
    local dir = util.resolve(t.dir, backup_dir)
    local made, merr = exec { "mkdir", "-p", "--", dir, timeout = 10 }
    if not made or made.code ~= 0 then
      log.error(string.format("sqlite: cannot create %s: %s", dir, merr or (made.stderr or "")))
      return
    end
    local file = dir .. "/" .. backup_name(db, os.time())
    local _, err = sql(t, string.format(".backup '%s'", file:gsub("'", "''")), 3000)
    if err then
      log.error(string.format("sqlite: backup of %s failed: %s", db, err))
      os.remove(file)
      return
    end
    log.info(string.format("sqlite: backed up %s to %s", db, file))
    -- Keep the newest `keep` backups of this database; the dated names sort by time.
    local listing = exec { "ls", "-1", "--", dir, timeout = 10 }
    if not listing or listing.code ~= 0 then return end
    local stem = backup_name(db, 0):match("^(.*)%-%d+%-%d+%.db$")
    local pattern = "^" .. stem:gsub("%p", "%%%0") .. "%-%d%d%d%d%d%d%d%d%-%d%d%d%d%d%d%.db$"
    local backups = {}
    for name in listing.stdout:gmatch("[^\n]+") do
      if name:match(pattern) then backups[#backups + 1] = name end
    end
    table.sort(backups)
    for i = 1, #backups - keep do
      os.remove(dir .. "/" .. backups[i])
      log.info(string.format("sqlite: removed the old backup %s/%s", dir, backups[i]))
    end
  end }

  return tasks
end
