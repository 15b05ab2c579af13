--- A Python web application behind uvicorn (ASGI), gunicorn (WSGI) or plain
--- `python3 SCRIPT PORT`, probed over HTTP on its health path with a TCP
--- fallback.
---
--- ```lua
--- local python_app = require "recipes.python_app"
--- service "api" (python_app { module = "app:app", port = 5001, cwd = "backend" })
--- service "web" (python_app { server = "gunicorn", module = "web.wsgi:application", port = 5000 })
--- service "tool" (python_app { server = "python", script = "app.py", port = 5002 })
--- ```
---
--- uvicorn and gunicorn are not part of Python: install them (Debian:
--- apt-get install uvicorn gunicorn, or pip in a virtualenv whose bin/ is in
--- PATH or given as `python`'s directory).
---
--- The returned table is an ordinary service definition: add or override any
--- key before passing it on.

---@class PythonAppOptions
---@field port? integer          TCP port (default 5001)
---@field server? "uvicorn"|"gunicorn"|"python" what runs the app (default "uvicorn")
---@field module? string         the app for uvicorn and gunicorn, "module:attribute" (default "app:app")
---@field script? string         the script for server = "python", run as `python3 SCRIPT PORT` (default "app.py")
---@field bind? string           address to listen on (default "127.0.0.1"; not passed to server = "python")
---@field workers? integer       worker processes for uvicorn and gunicorn (default theirs: 1)
---@field path? string           the health path (default "/health")
---@field python? string         the interpreter for server = "python" (default "python3")
---@field args? string[]         more arguments for the server
---@field cwd? string            working directory (default the stack's directory)
---@field env? table             extra environment (PYTHONUNBUFFERED=1 is set)

local health = require "luvsup.health"
local options = require "recipes.options"

local k_options = { "port", "server", "module", "script", "bind", "workers", "path", "python", "args", "cwd",
  "env" }

---@param opts PythonAppOptions
---@return table service definition for `service "name" (...)`
return function(opts)
  local o = options.check("python_app", opts, k_options)
  opts = o.opts
  local port = o:port("port", 5001)
  local server = o:choice("server", "uvicorn", { "uvicorn", "gunicorn", "python" })
  local bind = o:string("bind", "127.0.0.1")
  local workers = o:integer("workers", nil, 1, 1024)
  local path = o:string("path", "/health")
  if path:sub(1, 1) ~= "/" then o:fail("path", string.format("must start with '/', got %q", path)) end
  local cwd = o:string("cwd")

  local cmd
  if server == "python" then
    if opts.module or opts.workers or opts.bind then
      o:fail(opts.module and "module" or opts.workers and "workers" or "bind",
        "is for uvicorn and gunicorn; server = \"python\" runs `python3 SCRIPT PORT` (use 'script' and 'args')")
    end
    cmd = { o:string("python", "python3"), "-u", o:string("script", "app.py"), tostring(port) }
  else
    if opts.script or opts.python then
      o:fail(opts.script and "script" or "python", string.format(
        "is for server = \"python\"; %s runs 'module' (\"module:attribute\")", server))
    end
    local module = o:string("module", "app:app")
    if not module:match("^[%w_.]+:[%w_.()]+$") then
      o:fail("module", string.format("must be \"module:attribute\" like \"app:app\", got %q", module))
    end
    if server == "uvicorn" then
      cmd = { "uvicorn", module, "--host", bind, "--port", tostring(port) }
      if workers then cmd[#cmd + 1], cmd[#cmd + 2] = "--workers", tostring(workers) end
    else
      cmd = { "gunicorn", "--bind", bind .. ":" .. port, "--access-logfile", "-" }
      if workers then cmd[#cmd + 1], cmd[#cmd + 2] = "--workers", tostring(workers) end
      cmd[#cmd + 1] = module
    end
  end
  for _, a in ipairs(o:list("args")) do cmd[#cmd + 1] = a end

  local env = o:env("env")
  if env.PYTHONUNBUFFERED == nil then env.PYTHONUNBUFFERED = "1" end
  local host = options.probe_host(bind)

  return {
    cmd = cmd,
    cwd = cwd,
    env = env,
    -- The app's own health path; while it never answered, a port that
    -- accepts counts the app healthy with a warning (a missing /health is
    -- a wrong probe, not a dead app).
    health = health.http {
      url = string.format("http://%s:%d%s", host, port, path),
      timeout = 2,
      start_period = 30,
      fallback = health.tcp { host = host, port = port },
    },
    -- TERM: uvicorn and gunicorn finish the requests in flight; python3 exits.
    stop = { signal = "TERM", timeout = 10 },
  }
end
