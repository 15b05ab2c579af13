"""Per-service file watches on the real binary: saving a watched file runs
the service's on_change hook with the file's path, unwatched files do
nothing, a change while the hook runs runs it again afterwards, and a stopped
service's hook does not run."""
import os

from harness import check

HUP_SERVICE = '''service "web" {{
  cmd = [[echo ready; while :; do sleep 0.1; done]],
  watch = {{ "conf/app.conf" }},
  on_change = function(svc, path)
    log.info("on_change for " .. path)
    sleep(1)
    log.info("on_change done for " .. path)
  end,{extra}
}}
'''


def save(t, name, text):
    tmp = t.file(name + ".tmp")
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, t.file(name))


def test_saving_a_watched_file_runs_on_change_with_its_path(t):
    t.write("conf/app.conf", "v1\n")
    t.write("conf/other.conf", "v1\n")
    t.stack(HUP_SERVICE.format(extra=""))
    run = t.run()
    run.wait_log(r"web: started")
    t.wait_file("logs/web.log", lambda s: "ready" in s)
    t.write("conf/other.conf", "v2\n")
    save(t, "conf/app.conf", "v2\n")
    conf = os.path.realpath(t.file("conf/app.conf"))
    run.wait_log(rf"web: {conf} changed")
    run.wait_log(rf"on_change for {conf}")
    t.write("conf/app.conf", "v3\n")  # an in-place write, while the hook still runs
    run.wait_log(rf"on_change done for {conf}")
    run.wait_log(rf"on_change done for {conf}", count=2)
    log = run.log()
    check(log.index("on_change done for") < log.index("on_change for", log.index("on_change for") + 1),
          "the second run waited for the first")
    check(run.count(r"other\.conf") == 0, "an unwatched file of the same directory does nothing")
    check(run.stop() == 0, "clean shutdown")


def test_a_watched_file_of_a_service_that_is_not_running_runs_no_hook(t):
    t.write("conf/app.conf", "v1\n")
    t.stack(HUP_SERVICE.format(extra="\n  autostart = false,") + 'service "idle" { cmd = { "sleep", "1000" } }\n')
    run = t.run()
    run.wait_log(r"idle: started")
    save(t, "conf/app.conf", "v2\n")
    run.wait_log(r"web: not running \(stopped\); on_change does not run for .*app\.conf")
    check(run.count(r"on_change for") == 0, "the hook did not run")
    check(run.stop() == 0, "clean shutdown")


def test_on_change_can_reload_the_service_with_sighup(t):
    t.write("conf/app.conf", "v1\n")
    t.stack('''service "web" {
  cmd = [[trap 'echo reloading' HUP; echo ready; while :; do sleep 0.1; done]],
  watch = "conf/app.conf",
  on_change = function(svc, path) svc:signal("HUP") end,
}
''')
    run = t.run()
    t.wait_file("logs/web.log", lambda s: "ready" in s)
    save(t, "conf/app.conf", "v2\n")
    t.wait_file("logs/web.log", lambda s: "reloading" in s)
    check(run.count(r"web: started \(pid") == 1, "reloaded in place, not restarted")
    check(run.stop() == 0, "clean shutdown")
