--- PostgreSQL: `initdb` into the data directory on the first start (a
--- before_start runbook), then the server in the foreground, probed with `pg_isready`, stopped with a fast
--- shutdown (SIGINT).
---
--- ```lua
--- local postgres = require "recipes.postgres"
--- service "db" (postgres { port = 5432, data = "data/pg", user = "postgres" })
--- ```
---
--- PostgreSQL refuses to run as root, so the service runs as `user`: its data
--- directory must be owned by that user (or creatable by it), and the
--- stack's directory reachable by it. The server binaries are found when the
--- stack loads: Debian's /usr/lib/postgresql/<version>/bin (the newest), then
--- PATH; `bin_dir` names them. PostgreSQL 13 or later (initdb --no-instructions).
---
--- The returned table is an ordinary service definition: add or override any
--- key before passing it on.

---@class PostgresOptions
---@field port? integer        TCP port, also the socket's name (default 5432)
---@field data? string         data directory, initialised when it has no PG_VERSION (default "data/pg")
---@field user? string|false   the user to run as (default "postgres"); false: luvsup's own (never root)
---@field host? string         listen_addresses ("" for the Unix socket only; default "127.0.0.1")
---@field socket_dir? string   directory of the Unix socket (default: the data directory)
---@field superuser? string    the database superuser initdb creates (default "postgres")
---@field initdb_args? string[] more initdb arguments ("--data-checksums")
---@field settings? table<string, string|number|boolean> server settings, passed as -c name=value
---@field bin_dir? string      directory of initdb, postgres and pg_isready; `*` is the major version,
---                            newest first (default "/usr/lib/postgresql/*/bin", then PATH)
---@field env? table           extra environment

local health = require "luvsup.health"
local util = require "luvsup.util"
local options = require "recipes.options"

local k_options = { "port", "data", "user", "host", "socket_dir", "superuser", "initdb_args", "settings",
  "bin_dir", "env" }

-- Debian's layout, and the major versions its `*` stands for.
local k_debian_bin = "/usr/lib/postgresql/*/bin"
local k_oldest, k_newest = 9, 40

-- Run by /bin/sh with the arguments: bin data sockets port host, then the
-- server's own arguments. The data directory was initialised by the
-- before_start runbook; the checks here catch a directory changed since.
local k_launch = [[
bin=$1 data=$2 sockets=$3 port=$4 host=$5
shift 5
if [ "$(id -u)" = 0 ]; then
  echo "postgres recipe: PostgreSQL refuses to run as root: set 'user' to an unprivileged user" >&2
  exit 78
fi
mkdir -p -- "$sockets" || exit
exec "$bin/postgres" -D "$data" -p "$port" -k "$sockets" -h "$host" "$@"
]]

-- Run by /bin/sh as the server's user, with: bin data superuser initdb_args.
-- Exits 78 with the fix when the data directory is not the user's.
local k_initdb = [[
bin=$1 data=$2 superuser=$3 initdb_args=$4
me=$(id -un)
if ! mkdir -p -- "$data" 2>/dev/null || [ ! -O "$data" ]; then
  echo "the data directory $data must be owned by $me (mkdir -p $data && chown $me $data)" >&2
  exit 78
fi
exec "$bin/initdb" -D "$data" -U "$superuser" --auth=trust -E UTF8 --no-locale --no-instructions $initdb_args
]]

local function nonempty(path)
  local f = io.open(path, "r")
  if not f then return false end
  local size = f:seek("end")
  f:close()
  return size ~= nil and size > 0
end

-- The before_start runbook: initdb into an empty data directory, as the
-- server's user (PostgreSQL refuses root); refuses the start with the fix
-- when that cannot work.
local function initdb_first(bin, data, user, superuser, initdb_args)
  return function(svc)
    if nonempty(data .. "/PG_VERSION") then return true end
    local id = exec { "id", "-u", timeout = 5 }
    local root = id and id.code == 0 and id.stdout:match("^0%s*$") ~= nil
    if root and not user then
      return false, "PostgreSQL refuses to run as root: set 'user' to an unprivileged user"
    end
    -- In "/": luvsup's own directory may be closed to the server's user.
    local argv = { "/bin/sh", "-c", k_initdb, "postgres-initdb", bin, data, superuser, initdb_args }
    if root then
      argv = { "runuser", "-u", user, "--", table.unpack(argv) }
    end
    argv.timeout, argv.cwd = 300, "/"
    log.info("postgres recipe: initialising " .. data)
    local r, err = exec(argv)
    if not r then return false, "cannot run initdb: " .. tostring(err) end
    if r.timed_out then return false, "initdb did not finish within 300s" end
    if r.code ~= 0 then
      local said = (r.stderr ~= "" and r.stderr or r.stdout):gsub("%s+$", "")
      return false, r.code == 78 and said or ("initdb failed: " .. said)
    end
    log.info("postgres recipe: initialised " .. data .. " for " .. svc.name)
    return true
  end
end

-- The probe: pg_isready on the socket ("$0" is the socket directory), as
-- the superuser (the server logs a connection as an unknown role).
local k_probe = 'case $0 in /*) d=$0 ;; *) d=$PWD/$0 ;; esac; exec "$1" -h "$d" -p "$2" -U "$3" -d postgres'

local function executable(path)
  local f = io.open(path, "r")
  if f then f:close() end
  return f ~= nil
end

local function has_server(dir)
  return executable(dir .. "/postgres") and executable(dir .. "/initdb") and executable(dir .. "/pg_isready")
end

-- The directory of the server binaries: `pattern` with its `*` replaced by
-- each major version, newest first; then, for the default pattern, PATH.
local function find_bin_dir(pattern, search_path)
  if pattern:find("*", 1, true) then
    for v = k_newest, k_oldest, -1 do
      local dir = pattern:gsub("%*", tostring(v))
      if has_server(dir) then return dir end
    end
  elseif has_server(pattern) then
    return pattern
  end
  if search_path then
    for dir in (os.getenv("PATH") or ""):gmatch("[^:]+") do
      if has_server(dir) then return dir end
    end
  end
  return nil
end

---@param opts PostgresOptions
---@return table service definition for `service "name" (...)`
return function(opts)
  local o = options.check("postgres", opts, k_options)
  opts = o.opts
  local port = o:port("port", 5432)
  local data = o:string("data", "data/pg")
  local user = o:raw("user")
  if user == nil then user = "postgres" end
  if user ~= false and (type(user) ~= "string" or user == "") then
    o:fail("user", "must be a user name, or false to run as luvsup's own user")
  end
  local host = o:raw("host")
  if host == nil then host = "127.0.0.1" end
  if type(host) ~= "string" then o:fail("host", "must be a string of addresses (\"\" for the socket only)") end
  local sockets = o:string("socket_dir", data)
  local superuser = o:string("superuser", "postgres")
  local initdb_args = o:list("initdb_args")
  for i, a in ipairs(initdb_args) do
    if a:find("%s") then
      o:fail("initdb_args", string.format("element %d has a space: give one argument per element", i))
    end
  end
  local settings = o:map("settings")
  local bin_dir = o:string("bin_dir", k_debian_bin)
  local bin = find_bin_dir(bin_dir, opts.bin_dir == nil)
  if not bin then
    error(string.format("postgres: no PostgreSQL server found in %s%s (it needs initdb, postgres and " ..
      "pg_isready): install it (Debian: apt-get install postgresql) or set 'bin_dir'", bin_dir,
      opts.bin_dir == nil and " or PATH" or ""), 2)
  end

  -- The hook runs in luvsup's directory and the server changes into its data
  -- directory: both get absolute paths, relative ones being the stack file's.
  local base = options.stack_dir()
  if base then data, sockets = util.resolve(base, data), util.resolve(base, sockets) end
  local cmd = { "/bin/sh", "-c", k_launch, "postgres-recipe", bin, data, sockets, tostring(port), host }
  for _, kv in ipairs(settings) do
    cmd[#cmd + 1] = "-c"
    cmd[#cmd + 1] = kv[1] .. "=" .. kv[2]
  end

  return {
    cmd = cmd,
    user = user or nil,
    env = o:env("env"),
    health = health.exec {
      "/bin/sh", "-c", k_probe, sockets, bin .. "/pg_isready", tostring(port), superuser,
      timeout = 5,
      -- The first start runs initdb, and a start after a crash replays the
      -- WAL: neither counts against the server until it first answers.
      start_period = 300,
    },
    -- SIGINT is PostgreSQL's fast shutdown: roll back the sessions, checkpoint, exit.
    stop = { signal = "INT", timeout = 60 },
    before_start = initdb_first(bin, data, user, superuser, table.concat(initdb_args, " ")),
    -- initdb takes a while on a busy machine; the start waits for it.
    hook_timeout = 300,
  }
end
