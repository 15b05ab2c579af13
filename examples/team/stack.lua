-- A small team's stack as it runs day to day: `luvsup run examples/team/stack.lua`.
--
--   ui        http://127.0.0.1:5000   the dashboard page
--   backend   http://127.0.0.1:5001   the JSON API, probed on /health
--   learning  http://127.0.0.1:5002   lessons from the backend; starts once it is healthy
--   files     http://127.0.0.1:8080   python3 -m http.server on files/
--
-- Every port can be moved with an environment variable (UI_PORT, BACKEND_PORT,
-- LEARNING_PORT, FILES_PORT). Set ALERT_WEBHOOK to a Slack, Discord or generic
-- webhook URL to be told when a service gives up. Python's standard library only.
local health = require "luvsup.health"

local function port(name, default)
  local v = os.getenv(name)
  return v and tonumber(v) or default
end

local ui_port = port("UI_PORT", 5000)
local backend_port = port("BACKEND_PORT", 5001)
local learning_port = port("LEARNING_PORT", 5002)
local files_port = port("FILES_PORT", 8080)
local backend_url = "http://127.0.0.1:" .. backend_port

-- A runbook for services that own a port: when the port is taken, free it if
-- the holder is a stale process of this very service (left over by a crashed
-- worker, say); refuse the start with the reason when it is anything else:
-- an unrelated process is never killed.
local function free_own_port(number)
  return function(svc)
    local held = port_in_use(number)
    if not held then return true end
    if held.service ~= svc.name then
      return false, string.format("port %d is held by pid %s%s, not by a stale %s process", number,
        tostring(held.pid or "?"), held.service and (" of service " .. held.service) or "", svc.name)
    end
    log.warn(string.format("port %d is held by a stale %s process (pid %d); stopping it", number, svc.name, held.pid))
    exec { "kill", "-TERM", tostring(held.pid), timeout = 5 }
    -- The start waits for this hook (hook_timeout, 5 s by default): give the
    -- stale process 3 s to exit, then kill it.
    for _ = 1, 30 do
      if not port_in_use(number) then
        log.info(string.format("port %d is free again", number))
        return true
      end
      sleep(0.1)
    end
    exec { "kill", "-KILL", tostring(held.pid), timeout = 5 }
    sleep(0.2)
    if port_in_use(number) then
      return false, string.format("port %d is still held by pid %d after SIGKILL", number, held.pid)
    end
    return true
  end
end

stack {
  name = "team",
  defaults = {
    -- Tell the team when a service gave up restarting.
    on_fatal = function(svc)
      local webhook = os.getenv("ALERT_WEBHOOK")
      if not webhook or webhook == "" then
        log.info(svc.name .. " gave up; ALERT_WEBHOOK is not set, so nobody is notified")
        return
      end
      local ok, err = notify { webhook = webhook, text = string.format("team: %s gave up after %d restarts",
        svc.name, svc.restarts), fields = { service = svc.name, state = svc.state } }
      if not ok then log.warn("could not notify: " .. tostring(err)) end
    end,
  },
}

service "backend" {
  cmd = { "python3", "-u", "backend/app.py" },
  env = { BACKEND_PORT = backend_port },
  health = health.http { url = backend_url .. "/health", interval = 5, start_interval = "200ms" },
  before_start = free_own_port(backend_port),
}

service "learning" {
  cmd = { "python3", "-u", "learning/app.py" },
  env = { LEARNING_PORT = learning_port, BACKEND_URL = backend_url },
  depends_on = { backend = "healthy" },
  health = health.http { url = "http://127.0.0.1:" .. learning_port .. "/health", interval = 5,
    start_interval = "200ms" },
}

service "ui" {
  cmd = { "python3", "-u", "ui/app.py" },
  env = { UI_PORT = ui_port, BACKEND_URL = backend_url, LEARNING_URL = "http://127.0.0.1:" .. learning_port },
  health = health.http { url = "http://127.0.0.1:" .. ui_port .. "/", interval = 10, start_interval = "200ms" },
}

service "files" {
  cmd = { "python3", "-u", "-m", "http.server", tostring(files_port), "--bind", "127.0.0.1", "--directory", "files" },
  health = health.tcp { port = files_port },
  stop = { signal = "INT", timeout = 5 },
}
