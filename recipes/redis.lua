--- Redis, run in the foreground with its settings on the command line (no
--- configuration file), probed with `redis-cli ping`.
---
--- ```lua
--- local redis = require "recipes.redis"
--- service "cache" (redis { port = 6379, dir = "data/redis", maxmemory = "100mb" })
--- ```
---
--- The returned table is an ordinary service definition: add or override any
--- key before passing it on.

---@class RedisOptions
---@field port? integer            TCP port (default 6379)
---@field dir? string              working directory for RDB/AOF files, created if missing (default "data/redis")
---@field bind? string             addresses to listen on, space-separated (default "127.0.0.1")
---@field password? string         requirepass; the probe authenticates with it (REDISCLI_AUTH)
---@field maxmemory? string|integer memory limit ("100mb"); default none
---@field maxmemory_policy? string eviction policy with maxmemory ("allkeys-lru"); default Redis's
---@field save? string|false       RDB snapshot rule (`--save`), false or "" for none (default Redis's own)
---@field appendonly? boolean      keep an append-only file (default false)
---@field args? string[]           more redis-server arguments ("--loglevel", "warning")
---@field env? table               extra environment

local health = require "luvsup.health"
local options = require "recipes.options"

local k_options = { "port", "dir", "bind", "password", "maxmemory", "maxmemory_policy", "save", "appendonly",
  "args", "env" }

-- Creates the data directory (redis-server refuses a missing --dir), then
-- becomes redis-server: "$0" is the directory, "$@" the server's arguments.
local k_launch = 'mkdir -p -- "$0" && exec redis-server "$@"'

---@param opts RedisOptions
---@return table service definition for `service "name" (...)`
return function(opts)
  local o = options.check("redis", opts, k_options)
  local port = o:port("port", 6379)
  local dir = o:string("dir", "data/redis")
  local bind = o:string("bind", "127.0.0.1")
  local password = o:string("password")
  local maxmemory = o:string("maxmemory")
  local policy = o:string("maxmemory_policy")
  local save = o:raw("save")
  if save == false then save = "" end
  if save ~= nil and type(save) ~= "string" then o:fail("save", "must be a string like \"3600 1\", \"\" or false") end
  local appendonly = o:boolean("appendonly", false)
  if policy and not maxmemory then o:fail("maxmemory_policy", "needs 'maxmemory'") end

  local cmd = { "/bin/sh", "-c", k_launch, dir, "--port", tostring(port), "--dir", dir,
    "--appendonly", appendonly and "yes" or "no" }
  local function add(...)
    for _, a in ipairs { ... } do cmd[#cmd + 1] = a end
  end
  add("--bind")
  for address in bind:gmatch("%S+") do add(address) end
  if save ~= nil then add("--save", save) end
  if maxmemory then add("--maxmemory", maxmemory) end
  if policy then add("--maxmemory-policy", policy) end
  if password then add("--requirepass", password) end
  for _, a in ipairs(o:list("args")) do add(a) end

  local env = o:env("env")
  -- The probe's redis-cli reads the password from here (with -a it would warn
  -- on every probe).
  if password then env.REDISCLI_AUTH = password end

  local host = options.probe_host(bind:match("%S+"))
  return {
    cmd = cmd,
    env = env,
    health = health.exec {
      "redis-cli", "-h", host, "-p", tostring(port), "ping",
      timeout = 2,
      -- Loading a large dataset answers LOADING for a while: not a failure
      -- until the first PONG.
      start_period = 120,
      -- redis-cli exits 0 on error replies too (LOADING, NOAUTH): only PONG passes.
      verdict = function(r)
        if not r.ok then return false, r.error end
        if r.output:find("PONG", 1, true) then return true end
        local answer = r.output:gsub("%s+$", ""):gsub("%s*\n%s*", "; ")
        return false, "redis-cli ping answered: " .. answer
      end,
    },
    -- SIGTERM: Redis saves (when it persists) and exits 0.
    stop = { signal = "TERM", timeout = 10 },
  }
end
