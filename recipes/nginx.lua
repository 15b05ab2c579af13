--- nginx in the foreground (`daemon off;`) with a minimal generated
--- configuration serving a directory, or with a configuration of yours;
--- probed over HTTP, stopped gracefully (SIGQUIT).
---
--- ```lua
--- local nginx = require "recipes.nginx"
--- service "web" (nginx { port = 8080, root = "public" })
--- service "proxy" (nginx { port = 8443, conf = "conf/nginx.conf" })
--- ```
---
--- The generated nginx.conf is written into `prefix` at each start, with the
--- pid file, the error and access logs (logs/) and the temporary files (tmp/)
--- under the prefix too. With `conf`, luvsup watches that file: when it
--- changes, the `on_change` runbook checks it with `nginx -t` and reloads
--- nginx with SIGHUP when it is valid, or logs nginx's complaint and keeps
--- the running configuration.
---
--- The returned table is an ordinary service definition: add or override any
--- key before passing it on.

---@class NginxOptions
---@field port? integer         TCP port (default 8080)
---@field root? string          directory served by the generated configuration (default "public")
---@field bind? string          address to listen on (default "127.0.0.1")
---@field conf? string          your nginx.conf instead of the generated one (no `daemon` directive)
---@field prefix? string        nginx's prefix: generated conf, pid, logs, temporary files (default "run/nginx-<port>")
---@field workers? integer      worker_processes of the generated configuration (default 1)
---@field worker_user? string   the `user` directive: workers' user when luvsup runs as root (default nginx's, nobody)
---@field server_config? string more directives inside the generated server block
---@field health_path? string   path the probe requests (default "/")
---@field args? string[]        more nginx arguments
---@field env? table            extra environment

local health = require "luvsup.health"
local options = require "recipes.options"

local k_options = { "port", "root", "bind", "conf", "prefix", "workers", "worker_user", "server_config",
  "health_path", "args", "env" }

-- Run by /bin/sh with the arguments: prefix root conf head tail, then nginx's
-- own. With no conf, writes head, the absolute root and tail as the prefix's
-- nginx.conf (nginx resolves relative paths against its prefix, not against
-- the working directory, so both are made absolute here).
local k_launch = [[
prefix=$1 root=$2 conf=$3 head=$4 tail=$5
shift 5
mkdir -p -- "$prefix/logs" "$prefix/tmp" || exit
prefix=$(cd -- "$prefix" && pwd) || exit
if [ -z "$conf" ]; then
  if ! abs=$(cd -- "$root" 2>/dev/null && pwd); then
    echo "nginx recipe: the root directory $root does not exist (in $PWD)" >&2
    exit 78
  fi
  conf=$prefix/nginx.conf
  printf '%s%s%s' "$head" "$abs" "$tail" > "$conf" || exit
fi
case $conf in /*) ;; *) conf=$PWD/$conf ;; esac
exec nginx -p "$prefix/" -c "$conf" -g "daemon off;" "$@"
]]

local k_types = [[
  types {
    text/html html htm; text/css css; text/plain txt; text/xml xml;
    application/javascript js mjs; application/json json; application/wasm wasm;
    application/pdf pdf; image/png png; image/jpeg jpg jpeg; image/gif gif;
    image/svg+xml svg; image/webp webp; image/x-icon ico; font/woff woff; font/woff2 woff2;
  }
  default_type application/octet-stream;
]]

-- The generated configuration, split around the root directory, which the
-- launch script inserts once it is made absolute.
local function generated_conf(o)
  local head = {
    "# Written by luvsup's nginx recipe at each start: edits here are lost.",
    "worker_processes " .. o.workers .. ";",
  }
  if o.worker_user then head[#head + 1] = "user " .. o.worker_user .. ";" end
  for _, line in ipairs {
    "pid logs/nginx.pid;",
    "error_log logs/error.log warn;",
    "error_log stderr warn;",
    "events { worker_connections 1024; }",
    "http {",
    k_types .. "  access_log logs/access.log;",
    "  client_body_temp_path tmp/client_body;",
    "  proxy_temp_path tmp/proxy;",
    "  fastcgi_temp_path tmp/fastcgi;",
    "  uwsgi_temp_path tmp/uwsgi;",
    "  scgi_temp_path tmp/scgi;",
    "  sendfile on;",
    "  server {",
    string.format("    listen %s:%d;", o.bind, o.port),
    "    server_name _;",
    "    index index.html;",
    "    root \"",
  } do head[#head + 1] = line end
  local tail = {
    "\";",
    "    location / { try_files $uri $uri/ =404; }",
  }
  if o.server_config then tail[#tail + 1] = o.server_config end
  tail[#tail + 1] = "  }"
  tail[#tail + 1] = "}"
  tail[#tail + 1] = ""
  -- The root's quote opens at the end of head and closes at the start of tail.
  return table.concat(head, "\n"), table.concat(tail, "\n")
end

-- The on_change runbook: `nginx -t` on the changed configuration, then
-- SIGHUP (nginx re-reads it and replaces its workers gracefully) when valid.
-- Relative paths are the service's: nginx -t runs in the running master's
-- working directory.
local function reload_on_change(prefix)
  return function(svc, path)
    if not svc.pid or svc.pid <= 0 then
      log.info(path .. " changed; nginx is not running, so the new configuration applies at its next start")
      return
    end
    local cwd = exec { "readlink", "/proc/" .. svc.pid .. "/cwd", timeout = 5 }
    local dir = cwd and cwd.code == 0 and cwd.stdout:gsub("\n$", "") or nil
    local r, err = exec { "nginx", "-t", "-q", "-p", prefix .. "/", "-c", path, "-g", "daemon off;",
      cwd = dir, timeout = 30 }
    if not r then
      log.error("cannot check " .. path .. ": " .. tostring(err))
    elseif r.code ~= 0 then
      log.error(string.format("nginx -t rejected %s; keeping the running configuration: %s", path,
        (r.stderr:gsub("%s+$", ""))))
    else
      log.info(path .. " is valid (nginx -t); reloading nginx (SIGHUP)")
      svc:signal("HUP")
    end
  end
end

---@param opts NginxOptions
---@return table service definition for `service "name" (...)`
return function(opts)
  local o = options.check("nginx", opts, k_options)
  opts = o.opts
  local c = {
    port = o:port("port", 8080),
    root = o:string("root", "public"),
    bind = o:string("bind", "127.0.0.1"),
    conf = o:string("conf"),
    workers = o:integer("workers", 1, 1, 1024),
    worker_user = o:string("worker_user"),
    server_config = o:string("server_config"),
  }
  c.prefix = o:string("prefix", "run/nginx-" .. c.port)
  local path = o:string("health_path", "/")
  if path:sub(1, 1) ~= "/" then o:fail("health_path", string.format("must start with '/', got %q", path)) end
  if c.conf and (opts.root or opts.workers or opts.worker_user or opts.server_config) then
    o:fail("conf", "replaces the generated configuration: drop root, workers, worker_user and server_config, " ..
      "or drop conf")
  end
  if c.bind:find("[%s;\"]") then o:fail("bind", string.format("must be an address, got %q", c.bind)) end

  local head, tail = "", ""
  if not c.conf then head, tail = generated_conf(c) end
  local cmd = { "/bin/sh", "-c", k_launch, "nginx-recipe", c.prefix, c.root, c.conf or "", head, tail }
  for _, a in ipairs(o:list("args")) do cmd[#cmd + 1] = a end

  return {
    cmd = cmd,
    env = o:env("env"),
    -- Any answer short of a server error means nginx serves: a 404 or 403
    -- for "/" is the content's business, not a reason to restart nginx.
    health = health.http {
      url = string.format("http://%s:%d%s", options.probe_host(c.bind), c.port, path),
      expect_status = "200-499",
      timeout = 2,
      start_period = 10,
    },
    -- SIGQUIT: finish the requests in flight, then exit.
    stop = { signal = "QUIT", timeout = 15 },
    watch = c.conf and { c.conf } or nil,
    on_change = c.conf and reload_on_change(c.prefix) or nil,
  }
end
