-- The luvsup demo: `make demo` runs it; Ctrl-C stops it in reverse order.
--
-- A one-shot setup task, a static web server that waits for it and is probed
-- over HTTP, a visitor that starts only once the server is healthy, a clock,
-- and a flaky worker that crashes every few seconds so you can watch the
-- backoff grow (1 s, 2 s, 4 s ...) and the crash-looping state appear.
--
-- Edit this file while the demo runs (change the clock's message, say):
-- luvsup reloads it and restarts only the service you changed.
local backoff = require "luvsup.backoff"
local health = require "luvsup.health"

stack { name = "demo" }

service "setup" {
  cmd = [[echo "preparing the site"; date > site/built-at.txt; echo "done"]],
  oneshot = true,
}

service "web" {
  cmd = { "python3", "-u", "-m", "http.server", "8080", "--bind", "127.0.0.1", "--directory", "site" },
  depends_on = { setup = "completed" },
  health = health.http { url = "http://127.0.0.1:8080/built-at.txt", expect_body = "%d",
                         interval = 5, start_interval = "200ms" },
  stop = { signal = "INT", timeout = 5 },
}

service "visitor" {
  cmd = { "python3", "-u", "-c", [[
import time, urllib.request
while True:
    page = urllib.request.urlopen("http://127.0.0.1:8080/built-at.txt").read()
    print("the site was built at", page.decode().strip())
    time.sleep(3)
]] },
  depends_on = { web = "healthy" },
}

service "clock" {
  cmd = [[while :; do echo "tick $(date +%T)"; sleep 2; done]],
}

service "flaky" {
  cmd = [[echo "working on job $$"; sleep 2; echo "job $$ failed: out of luck" >&2; exit 1]],
  restart = backoff.exponential { initial = 1, factor = 2, max = 16 },
}
