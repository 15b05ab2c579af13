"""Health checks and readiness on real processes: tcp and exec probes,
unhealthy restarts with backoff, the fallback, depends_on healthy and
start_timeout."""
import os
import re

from harness import check, free_port, lines_in_order, pid_alive, wait_until

# A TCP listener that waits for an optional flag file before it listens, and
# notes each connection it accepts in conns.txt.
LISTENER = '''
import os, socket, sys, time
port = int(sys.argv[1])
while len(sys.argv) > 2 and not os.path.exists(sys.argv[2]):
    time.sleep(0.05)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(16)
print("listening", flush=True)
while True:
    c, _ = s.accept()
    with open("conns.txt", "a") as f:
        f.write("x\\n")
    c.close()
'''


def listener(t, port, flag=None):
    t.write("listener.py", LISTENER)
    args = f'"python3", "listener.py", "{port}"' + (f', "{flag}"' if flag else "")
    return "{ " + args + " }"


def test_tcp_probe_gates_a_healthy_dependent(t):
    port = free_port()
    t.stack(f'''
local health = require "luvsup.health"
service "db" {{
  cmd = {listener(t, port, "go")},
  health = health.tcp {{ port = {port}, start_interval = 0.1, start_period = 600 }},
}}
service "web" {{
  cmd = {{ "sleep", "1000" }},
  depends_on = {{ db = "healthy" }},
}}
''')
    run = t.run()
    run.wait_log(r"db: health probe failed \(not counted in the start period\): connection refused")
    check("web: started" not in run.log(), "web waits for db to be ready")
    t.write("go", "")
    run.wait_log(r"web: started")
    check(re.search(rf"db: healthy \(tcp 127\.0\.0\.1:{port} in \d+ms\)", run.log()), "healthy line")
    check(lines_in_order(run.log(), r"db: healthy", r"db: ready \(probe\)", r"web: started"), "order")
    check(run.stop() == 0, "clean shutdown")


def test_exec_probe_that_hangs_is_killed_with_its_group_at_its_timeout(t):
    t.stack('''
local health = require "luvsup.health"
service "app" {
  cmd = { "sleep", "1000" },
  health = health.exec { cmd = "sleep 300 & echo $! > probe_child.pid; sleep 300", timeout = 0.5,
                         interval = 0.5, retries = 100 },
}
''')
    run = t.run()
    run.wait_log(r"app: health probe failed \(1/100\): timed out after 0\.5s \(killed\)")
    child = int(t.wait_file("probe_child.pid", lambda s: s.strip() != "").strip())
    wait_until(lambda: not pid_alive(child), what="the probe's background child killed with its group")
    check(run.count(r"app: started") == 1, "a failing probe below its retries restarts nothing")
    check(run.stop() == 0, "clean shutdown")


def test_exec_probe_leaves_no_background_process_behind(t):
    t.stack('''
local health = require "luvsup.health"
service "app" {
  cmd = { "sleep", "1000" },
  health = health.exec { cmd = "sleep 300 & echo $! > bg.pid", start_interval = 0.1 },
}
''')
    run = t.run()
    run.wait_log(r"app: healthy \(exec exit 0 in \d+ms\)")
    child = int(t.wait_file("bg.pid", lambda s: s.strip() != "").strip())
    wait_until(lambda: not pid_alive(child), what="the probe's background process killed")
    check(run.stop() == 0, "clean shutdown")


def test_exec_probe_output_is_in_the_failure(t):
    t.stack('''
local health = require "luvsup.health"
service "app" {
  cmd = { "sleep", "1000" },
  health = health.exec { cmd = "echo 'disk full' >&2; exit 4", start_interval = 0.1, retries = 5 },
}
''')
    run = t.run()
    run.wait_log(r"app: health probe failed \(1/5\): exited with code 4: disk full")
    check(run.stop() == 0, "clean shutdown")


def test_a_service_failing_its_probe_is_restarted_with_growing_backoff(t):
    t.stack('''
local health = require "luvsup.health"
local backoff = require "luvsup.backoff"
service "app" {
  cmd = { "sleep", "1000" },
  health = health.exec { cmd = "exit 1", interval = 0.1, start_interval = 0.1, retries = 2 },
  restart = backoff.exponential { initial = 0.2, factor = 2, jitter = 0 },
}
''')
    run = t.run()
    run.wait_log(r"app: restarting in 0\.8s")
    delays = [float(d) for d in re.findall(r"app: restarting in ([\d.]+)s", run.log())]
    check(delays[:3] == [0.2, 0.4, 0.8], f"delays {delays}")
    check(run.count(r"app: unhealthy after 2 failures: exited with code 1") >= 3, "unhealthy lines")
    check(run.count(r"app: restarting: unhealthy") >= 3, "restart reason")
    check(run.stop() == 0, "clean shutdown")


def test_a_wrong_primary_probe_with_a_passing_tcp_fallback_is_not_restarted(t):
    port = free_port()
    t.stack(f'''
local health = require "luvsup.health"
service "api" {{
  cmd = {listener(t, port)},
  health = health.http {{ url = "http://127.0.0.1:{port}/wrong-endpoint", interval = 0.1,
                          start_interval = 0.1, retries = 1, start_period = 600,
                          fallback = health.tcp {{ port = {port} }} }},
}}
''')
    run = t.run()
    run.wait_log(r"api: the health probe looks broken \(.*\) but its fallback passes: counting the service healthy")
    run.wait_log(rf"api: healthy \(fallback tcp 127\.0\.0\.1:{port} in \d+ms\)")
    # The start period ended with the first pass; ten more rounds, each a
    # connection to the listener, are far past `retries`.
    t.wait_file("conns.txt", lambda s: s.count("x") >= 12)
    check(run.count(r"api: started") == 1, "never restarted")
    check("unhealthy" not in run.log(), "never unhealthy")
    check(run.count(r"the health probe looks broken") == 1, "the warning is logged once")
    check(run.stop() == 0, "clean shutdown")


def test_start_timeout_blocks_the_dependent_until_its_dependency_is_ready(t):
    port = free_port()
    t.stack(f'''
local health = require "luvsup.health"
service "db" {{
  cmd = {listener(t, port, "go")},
  health = health.tcp {{ port = {port}, start_interval = 0.1, start_period = 600 }},
}}
service "web" {{
  cmd = {{ "sleep", "1000" }},
  depends_on = {{ db = "healthy" }},
  start_timeout = 0.5,
}}
''')
    run = t.run()
    run.wait_log(r"web: dependency 'db' not ready within 0\.5s; it starts once its dependencies are ready \(blocked\)")
    check("web: started" not in run.log(), "not started while blocked")
    t.write("go", "")
    run.wait_log(r"web: started")
    check(run.stop() == 0, "clean shutdown")


def test_a_fatal_dependency_fails_the_dependent_with_its_reason(t):
    t.stack(f'''
local health = require "luvsup.health"
service "db" {{ cmd = "sleep 0.3; exit 2", restart = "never", health = health.tcp({free_port()}) }}
service "web" {{ cmd = {{ "sleep", "1000" }}, depends_on = {{ db = "healthy" }} }}
''')
    run = t.run()
    run.wait_log(r"web: dependency 'db' is fatal \(restart is \"never\"\); it starts once its dependencies "
                 r"are ready \(blocked\)")
    check("web: started" not in run.log(), "not started")
    check(run.stop() == 0, "clean shutdown")


def test_completed_waits_for_a_oneshot_to_exit_0(t):
    t.stack('''
service "migrate" { cmd = "test -e go || sleep 0.2; test -e go", oneshot = true,
                    restart = require("luvsup.backoff").fixed { delay = 0.1 } }
service "web" { cmd = { "sleep", "1000" }, depends_on = { migrate = "completed" } }
''')
    run = t.run()
    run.wait_log(r"migrate: exited with code 1")
    check("web: started" not in run.log(), "web waits for the oneshot")
    t.write("go", "")
    run.wait_log(r"web: started")
    check(lines_in_order(run.log(), r"migrate: completed", r"web: started"), "order")
    check(run.stop() == 0, "clean shutdown")


def test_python_http_server_is_probed_and_gates_its_dependent(t):
    port = free_port()
    t.write("public/index.html", "hi\n")
    t.stack(f'''
local static_files = require "recipes.static_files"
service "files" (static_files {{ port = {port}, dir = "public" }})
service "client" {{
  cmd = {{ "python3", "-c", "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:{port}/index.html').read())" }},
  depends_on = {{ files = "healthy" }},
  oneshot = true,
}}
''')
    run = t.run()
    run.wait_log(r"client: completed")
    check(lines_in_order(run.log(), rf"files: healthy \(tcp 127\.0\.0\.1:{port} in \d+ms\)", r"client: started"),
          "the client starts once the server accepts")
    check(b"hi" in t.service_log("client"), "the client fetched the page")
    check(run.stop() == 0, "clean shutdown")


def test_a_raising_on_unhealthy_hook_is_logged_with_its_traceback_and_restarts(t):
    t.stack('''
local health = require "luvsup.health"
service "app" {
  cmd = { "sleep", "1000" },
  health = health.exec { cmd = "exit 1", start_interval = 0.1, retries = 1 },
  on_unhealthy = function(svc, result) error("hook broke on " .. result.error) end,
}
''')
    run = t.run()
    run.wait_log(r"app: on_unhealthy failed, so it is restarted \(the default\): .*stack\.lua:6: "
                 r"hook broke on exited with code 1")
    check("stack traceback" in run.log(), "the traceback is logged")
    run.wait_log(r"app: started", count=2)
    check(run.stop() == 0, "clean shutdown")


def test_a_runaway_verdict_is_stopped_and_never_restarts_the_service(t):
    t.stack('''
local health = require "luvsup.health"
service "app" {
  cmd = { "sleep", "1000" },
  health = health.exec { cmd = "true", start_interval = 0.1, interval = 0.1, retries = 1,
                         verdict = function(r) while true do end end },
}
''')
    run = t.run()
    run.wait_log(r"app: health check failed to judge: .*instruction budget", count=3)
    check("unhealthy" not in run.log(), "a broken health check is not a failing service")
    check(run.count(r"app: started") == 1, "never restarted")
    check(run.stop() == 0, "clean shutdown")
