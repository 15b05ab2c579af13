"""Hot reload on the real binary: edits to the stack file or a module it
requires apply exactly what changed; SIGHUP without a terminal reloads."""
import os
import re
import signal

from harness import HELPERS, check, pid_alive, tagged_pids, wait_until

FAST = 'restart = require("luvsup.backoff").fixed { delay = 0.1 }'


def save(t, text, name="stack.lua"):
    """Saves like most editors do: write a temporary file, rename it over the old one."""
    tmp = t.file(name + ".tmp")
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, t.file(name))


def pid_of(run, service, count=1):
    """The pid of the count-th start of `service` in luvsup's log."""
    matches = run.wait_log(rf"{service}: started \(pid (\d+)\)", count=count)
    return int(matches[count - 1].group(1))


def sleeper(name, seconds, extra=""):
    return f'service "{name}" {{ cmd = {{ "sleep", "{seconds}" }}, {extra} }}\n'


def test_cmd_change_restarts_only_that_service_after_a_rename_replace_save(t):
    t.stack(sleeper("api", 1000) + sleeper("cache", 1001))
    run = t.run()
    api, cache = pid_of(run, "api"), pid_of(run, "cache")
    save(t, sleeper("api", 1002) + sleeper("cache", 1001))
    run.wait_log(r"reload: ~api \(cmd changed: restarted\)")
    new_api = pid_of(run, "api", count=2)
    check(new_api != api and not pid_alive(api), "api restarted")
    check(pid_alive(cache) and tagged_pids(t.file("stack.lua"), "cache") == [cache], "cache untouched")
    check(run.count(r"cache: started") == 1, "cache started once")
    # A second rename-replace save: the watch on the directory still works.
    save(t, sleeper("api", 1003) + sleeper("cache", 1001))
    run.wait_log(r"reload: ~api \(cmd changed: restarted\)", count=2)
    check(run.stop() == 0, "clean shutdown")


def test_policy_only_change_keeps_the_pid(t):
    t.stack(sleeper("cache", 1000, 'restart = "always"'))
    run = t.run()
    pid = pid_of(run, "cache")
    t.write("stack.lua", sleeper("cache", 1000, 'restart = "on-failure", stop = { timeout = 3 }'))
    run.wait_log(rf"reload: ~cache \(restart, stop changed: kept pid {pid}\)")
    check(pid_alive(pid), "same process")
    check(run.count(r"cache: stopping") == 0, "never stopped")
    check(run.stop() == 0, "clean shutdown")


def test_added_service_starts_after_its_dependency_and_removed_one_is_gone(t):
    t.stack(sleeper("keep", 1000) + sleeper("old", 1001))
    run = t.run()
    old = pid_of(run, "old")
    stack = t.file("stack.lua")
    save(t, sleeper("keep", 1000) + sleeper("db", 1002) +
         sleeper("web", 1003, 'depends_on = { "db" }'))
    run.wait_log(r"reload: \+db \+web -old")
    run.wait_log(r"old: removed from the stack")
    check(not pid_alive(old) and tagged_pids(stack, "old") == [], "old's processes are gone")
    pid_of(run, "web")
    log = run.log()
    check(log.index("db: started") < log.index("web: started"), "db before web")
    check(run.count(r"keep: started") == 1, "keep untouched")
    check(run.stop() == 0, "clean shutdown")


def test_editing_a_required_recipe_module_reloads(t):
    t.write("recipes/sleeper.lua", 'return function(n) return { cmd = { "sleep", tostring(n) } } end\n')
    t.stack('local sleeper = require "recipes.sleeper"\n'
            'service "a" (sleeper(1000))\n'
            'service "b" { cmd = { "sleep", "1001" } }\n')
    run = t.run()
    b = pid_of(run, "b")
    pid_of(run, "a")
    save(t, 'return function(n) return { cmd = { "sleep", tostring(n + 5) } } end\n',
         name="recipes/sleeper.lua")
    run.wait_log(r"reload: ~a \(cmd changed: restarted\)")
    wait_until(lambda: "1005" in open(f"/proc/{pid_of(run, 'a', count=2)}/cmdline").read(),
               what="a runs the new command")
    check(pid_alive(b), "b untouched")
    check(run.stop() == 0, "clean shutdown")


def test_editing_an_env_file_restarts_its_service(t):
    t.write("app.env", "GREETING=hello\n")
    t.stack(sleeper("s", 1000, 'env_file = "app.env"') + sleeper("other", 1001))
    run = t.run()
    pid_of(run, "s")
    save(t, "GREETING=bonjour\n", name="app.env")
    run.wait_log(r"reload: ~s \(env changed: restarted\)")
    pid = pid_of(run, "s", count=2)
    check(b"GREETING=bonjour" in open(f"/proc/{pid}/environ", "rb").read().split(b"\0"), "new env")
    check(run.count(r"other: started") == 1, "other untouched")
    check(run.stop() == 0, "clean shutdown")


def test_a_burst_of_saves_reloads_once(t):
    t.stack(sleeper("s", 1000) + sleeper("other", 999))
    run = t.run()
    pid_of(run, "s")
    for i in range(1, 11):
        t.write("stack.lua", sleeper("s", 1000 + i) + sleeper("other", 999))
    run.wait_log(r"reload: ~s \(cmd changed: restarted\)")
    pid = pid_of(run, "s", count=2)
    wait_until(lambda: "1010" in open(f"/proc/{pid}/cmdline").read(), what="the last save applied")
    # A forced reload now finds nothing left to do: the burst was one reload.
    run.send(signal.SIGHUP)
    run.wait_log(r"reload: no changes")
    reloads = run.count(r"info reload: ")
    check(reloads == 2, f"one reload for the burst, then the forced one: {reloads}")
    check(run.stop() == 0, "clean shutdown")


def test_a_broken_file_keeps_the_stack_and_a_fixed_one_applies(t):
    t.stack(sleeper("s", 1000))
    run = t.run()
    pid = pid_of(run, "s")
    save(t, 'service "s" { cmd = { "sleep", "1001" }\n')
    run.wait_log(r"reload failed: stack\.lua:\d+: .*; keeping the running stack")
    check(pid_alive(pid), "still running")
    save(t, 'service "s" { cmd = { "sleep", "1001" }, bogus = 1 }\n')
    run.wait_log(r"reload failed: stack\.lua:1: service 's': unknown key 'bogus'", count=1)
    save(t, sleeper("s", 1001))
    run.wait_log(r"reload: ~s \(cmd changed: restarted\)")
    pid_of(run, "s", count=2)
    check(run.stop() == 0, "clean shutdown")


def test_a_cycle_or_a_runaway_loop_changes_nothing(t):
    t.stack(sleeper("a", 1000))
    run = t.run()
    pid = pid_of(run, "a")
    save(t, sleeper("a", 1000, 'depends_on = { "b" }') + sleeper("b", 1001, 'depends_on = { "a" }'))
    run.wait_log(r"reload failed: stack\.lua:1: .*cycle.*; keeping the running stack")
    save(t, "while true do end\n")
    # Two loads (the first try and the retry) each run until the load budget stops them.
    run.wait_log(r"reload failed: .*instruction budget.*; keeping the running stack", timeout=60)
    check(pid_alive(pid) and run.count(r"b: started") == 0, "nothing changed")
    check(run.stop() == 0, "clean shutdown")


def test_sighup_without_a_terminal_reloads_and_no_watch_ignores_edits(t):
    t.stack(sleeper("s", 1000))
    run = t.run("--no-watch", preexec_fn=os.setsid)
    pid = pid_of(run, "s")
    t.write("stack.lua", sleeper("s", 1001))
    run.send(signal.SIGHUP)
    run.wait_log(r"SIGHUP: reloading")
    # Had the watcher applied the edit, this reload would find no changes.
    run.wait_log(r"reload: ~s \(cmd changed: restarted\)")
    check(run.count(r"reload \(file change\)") == 0 and run.count(r"watching ") == 0, "no watcher")
    check(pid_of(run, "s", count=2) != pid, "restarted")
    check(run.proc.poll() is None, "SIGHUP did not stop the stack")
    check(run.stop() == 0, "clean shutdown")


def test_a_fatal_service_is_revived_by_a_fix(t):
    t.stack('service "job" { cmd = "exit 1", restart = "never" }\n')
    run = t.run()
    run.wait_log(r"job: gave up: .*\(fatal\)")
    save(t, 'service "job" { cmd = { "sleep", "1000" }, restart = "never" }\n')
    run.wait_log(r"reload: ~job \(cmd changed: started again\)")
    pid_of(run, "job", count=2)
    check(run.stop() == 0, "clean shutdown")


def test_a_dependent_with_restart_true_restarts_with_its_dependency(t):
    deps = '''
service "api" { cmd = { "sleep", "1001" }, depends_on = { db = { condition = "started", restart = true } } }
service "batch" { cmd = { "sleep", "1002" }, depends_on = { "db" } }
'''
    t.stack(sleeper("db", 1000) + deps)
    run = t.run()
    api, batch = pid_of(run, "api"), pid_of(run, "batch")
    save(t, sleeper("db", 1003) + deps)
    run.wait_log(r"reload: ~db \(cmd changed: restarted\) ~api \(db restarted: restarted\)")
    new_api = pid_of(run, "api", count=2)
    check(new_api != api, "api restarted")
    check(pid_alive(batch) and run.count(r"batch: started") == 1, "batch kept its process")
    check(run.stop() == 0, "clean shutdown")


def test_a_reload_during_a_start_uses_the_new_definition(t):
    gate = f'service "gate" {{ cmd = "while [ ! -f go ]; do sleep 0.05; done", oneshot = true }}\n'
    t.stack(gate + 'service "web" { cmd = { "sleep", "1000" }, depends_on = { gate = "completed" } }\n')
    run = t.run()
    run.wait_log(r"gate: started")
    save(t, gate + 'service "web" { cmd = { "sleep", "1001" }, depends_on = { gate = "completed" } }\n')
    run.wait_log(r"reload: ~web \(cmd changed: applied\)")
    t.write("go", "")
    pid = pid_of(run, "web")
    check("1001" in open(f"/proc/{pid}/cmdline").read(), "the new command")
    check(run.count(r"web: started") == 1, "started once")
    check(run.stop() == 0, "clean shutdown")


def test_a_reload_during_a_stop_brings_the_service_back_once_it_is_gone(t):
    slow = f'service "slow" {{ cmd = {{ "{HELPERS}/ignore_term" }}, stop = {{ timeout = 1 }} }}\n'
    t.stack(slow + sleeper("other", 1000))
    run = t.run()
    first = pid_of(run, "slow")
    save(t, sleeper("other", 1000))
    run.wait_log(r"reload: -slow")
    run.wait_log(r"slow: stopping")
    save(t, slow + sleeper("other", 1000))
    run.wait_log(r"reload: \+slow")
    run.wait_log(r"slow: still running 1s after SIGTERM; sending SIGKILL")
    second = pid_of(run, "slow", count=2)
    check(second != first and not pid_alive(first), "a new process after the old one died")
    check(run.count(r"slow: removed from the stack") == 0, "never dropped")
    check(tagged_pids(t.file("stack.lua"), "slow") == [second], "exactly one instance")
    check(run.stop() == 1, "slow needs SIGKILL at shutdown too")
