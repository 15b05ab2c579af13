--- A static file server: Python's standard-library http.server.
---
--- ```lua
--- local static_files = require "recipes.static_files"
--- service "files" (static_files { port = 8080, dir = "public" })
--- ```
---
--- The returned table is an ordinary service definition: add or override any
--- key (`static_files { port = 8080 }` then `.env = ...`) before passing it on.

---@class StaticFilesOptions
---@field port integer       TCP port to listen on
---@field dir? string        directory to serve (default: the stack's directory)
---@field bind? string       address to bind (default "127.0.0.1")

local health = require "luvsup.health"

---@param opts StaticFilesOptions
---@return table service definition for `service "name" (...)`
return function(opts)
  assert(type(opts) == "table", "static_files: expected a table of options")
  assert(math.type(opts.port) == "integer", "static_files: 'port' must be an integer")
  local cmd = { "python3", "-u", "-m", "http.server", tostring(opts.port),
                "--bind", opts.bind or "127.0.0.1" }
  if opts.dir then
    cmd[#cmd + 1] = "--directory"
    cmd[#cmd + 1] = opts.dir
  end
  local bind = opts.bind or "127.0.0.1"
  return {
    cmd = cmd,
    -- Ready (for depends_on = { files = "healthy" }) once the port accepts;
    -- port 0 (any free port) cannot be probed, so it is ready once started.
    health = opts.port > 0 and health.tcp { port = opts.port,
      host = bind:match("^%d+%.%d+%.%d+%.%d+$") and bind ~= "0.0.0.0" and bind or "127.0.0.1" } or nil,
    -- http.server exits cleanly on KeyboardInterrupt; TERM would also do.
    stop = { signal = "INT", timeout = 5 },
  }
end
