"""Hooks as coroutines on the real binary: when each fires and with what,
what waits for them, and that a broken hook is contained while every
service keeps being supervised."""
import json
import re
import subprocess
import time

from harness import LUVSUP, check, lines_in_order, pid_alive


def in_sequence(log, *patterns):
    """Whether the patterns match one after another (each after the previous match)."""
    at = 0
    for p in patterns:
        m = re.compile(p).search(log, at)
        if m is None:
            return False
        at = m.end()
    return True


def states(t):
    """Each service's state, from `luvsup status --json`."""
    out = subprocess.run([LUVSUP, "status", "--json"], cwd=t.path, capture_output=True, text=True,
                         timeout=30).stdout
    return {s["name"]: s["state"] for s in json.loads(out)["services"]}


def test_each_hook_fires_at_its_moment_with_its_arguments(t):
    t.stack('''
local function note(what) log.info("hook %s", what) end
service "app" {
  cmd = "echo up; sleep 0.3; exit 3",
  ready = { log = "up" },
  restart = require("luvsup.backoff").exponential { initial = 0.1, max_restarts = 1, within = 60 },
  before_start = function(svc) note("before_start " .. svc.name .. " " .. svc.state) end,
  on_start = function(svc) note("on_start pid=" .. tostring(svc.pid ~= nil)) end,
  on_ready = function(svc) note("on_ready " .. tostring(svc.ready)) end,
  on_exit = function(svc, exit)
    note(string.format("on_exit code=%s cause=%s restarts=%d uptime=%s", exit.code, exit.cause,
      exit.restarts, exit.uptime > 0.2))
  end,
  on_fatal = function(svc) note("on_fatal " .. svc.state) end,
}
''')
    run = t.run()
    run.wait_log(r"app: hook on_fatal fatal")
    log = run.log()
    check(in_sequence(log, r"app: hook before_start app", r"app: started", r"app: hook on_start pid=true",
                         r"app: hook on_ready true", r"app: hook on_exit code=3 cause=crashed restarts=0 uptime=true",
                         r"app: hook before_start", r"app: hook on_exit code=3 cause=crashed restarts=1",
                         r"app: hook on_fatal fatal"), "hooks in lifecycle order")
    check(lines_in_order(log, r"app: gave up", r"app: hook on_fatal fatal"), "on_fatal once it gave up")
    check(run.stop() == 0, "clean shutdown")


def test_before_start_refusal_backs_off_and_gives_up_with_the_reason(t):
    t.stack('''
service "app" {
  cmd = { "sleep", "1000" },
  restart = require("luvsup.backoff").exponential { initial = 0.1, max_restarts = 2, within = 60 },
  before_start = function(svc) return false, "the disk is full" end,
}
''')
    run = t.run()
    run.wait_log(r"app: gave up")
    log = run.log()
    check(log.count("refused by before_start: the disk is full") == 3, "refused three times:\n" + log)
    check("app: started" not in log, "never spawned")
    check(run.stop() == 0, "clean shutdown")


def test_a_restart_waits_for_on_exit_and_shutdown_waits_for_after_stop(t):
    t.stack('''
service "db" { cmd = { "sleep", "1000" } }
service "app" {
  cmd = "sleep 0.2; exit 1",
  depends_on = { "db" },
  restart = require("luvsup.backoff").exponential { initial = 0, max_restarts = 1, within = 60 },
  on_exit = function(svc, exit) sleep(0.5); log.info("cleanup done") end,
  after_stop = function(svc) sleep(0.4); log.info("after_stop done") end,
}
''')
    run = t.run()
    run.wait_log(r"app: started", count=2)
    check(in_sequence(run.log(), r"app: the restart waits for its on_exit hook", r"app: cleanup done",
                         r"app: started"), "the restart came after the cleanup")
    run.send(15)
    run.wait()
    check(lines_in_order(run.log(), r"app: after_stop done", r"db: stopping"),
          "db stops only after app's after_stop finished")


def test_two_waiting_hooks_run_concurrently_while_services_are_supervised(t):
    t.stack('''
service "a" { cmd = { "sleep", "1000" }, on_start = function() sleep(1.5); log.info("a slept") end }
service "b" { cmd = { "sleep", "1000" }, on_start = function() sleep(1.5); log.info("b slept") end }
service "crasher" { cmd = "exit 1", restart = require("luvsup.backoff").exponential { initial = 0.1 } }
''')
    run = t.run()
    start = time.monotonic()
    run.wait_log(r"a slept")
    run.wait_log(r"b slept")
    elapsed = time.monotonic() - start
    # Both slept 1.5 s; sequential sleeps would need 3 s. Not a timing
    # threshold on luvsup: a check that they overlapped at all.
    check(elapsed < 2.9, f"the two sleeps overlapped ({elapsed:.1f}s)")
    check(run.count(r"crasher: restarting in") >= 3, "the crasher kept being restarted meanwhile")
    check(run.stop() == 0, "clean shutdown")


def test_runaway_hooks_are_stopped_and_reported_while_services_carry_on(t):
    t.stack('''
service "loop" { cmd = { "sleep", "1000" }, on_start = function() while true do end end }
service "pcall" {
  cmd = { "sleep", "1000" },
  on_start = function() while true do pcall(function() while true do end end) end end,
}
service "inner" {
  cmd = { "sleep", "1000" },
  on_start = function()
    local co = coroutine.wrap(function() while true do end end)
    pcall(co)
    while true do end
  end,
}
service "fine" { cmd = { "sleep", "1000" }, on_start = function() log.info("fine hook ran") end }
''')
    run = t.run()
    for name in ("loop", "pcall", "inner"):
        run.wait_log(rf"{name}: on_start failed: .*stack\.lua:\d+: Lua code exceeded its instruction budget")
    run.wait_log(r"fine: fine hook ran")
    now = states(t)
    for name in ("loop", "pcall", "inner", "fine"):
        check(now[name] == "running", f"{name} runs: {now}")
    check(run.stop() == 0, "clean shutdown")


def test_a_raising_hook_is_logged_with_a_traceback_and_blocking_calls_name_the_alternative(t):
    t.stack('''
service "app" {
  cmd = { "sleep", "1000" },
  on_start = function()
    local ok, err = pcall(os.execute, "true")
    log.warn("os.execute: %s", err)
    local x = nil
    return x.field
  end,
}
''')
    run = t.run()
    run.wait_log(r"app: on_start failed: .*stack\.lua:8: attempt to index a nil value")
    check("stack traceback" in run.log(), "traceback logged")
    check(re.search(r"os\.execute: .*blocks the supervisor", run.log()), "os.execute names the alternative")
    check(run.stop() == 0, "clean shutdown")


def test_hook_restarts_go_through_the_backoff(t):
    t.stack('''
service "app" {
  cmd = { "sleep", "1000" },
  restart = require("luvsup.backoff").exponential { initial = 0.2, factor = 2, max_restarts = 3, within = 60 },
  on_start = function(svc) sleep(0.05); svc:restart() end,
}
''')
    run = t.run()
    run.wait_log(r"app: gave up", timeout=30)
    delays = [float(d) for d in re.findall(r"app: restarting in ([\d.]+)s", run.log())]
    check(len(delays) == 3 and delays[0] < delays[1] < delays[2], f"backed off: {delays}")
    check(run.count(r"app: restarting \(asked by a hook\)") >= 3, "restarts asked by the hook")
    check(run.stop() == 0, "clean shutdown")


def test_before_start_waiting_on_its_own_service_gets_an_error_not_a_deadlock(t):
    t.stack('''
service "app" {
  cmd = { "sleep", "1000" },
  restart = require("luvsup.backoff").exponential { initial = 0.1, max_restarts = 0, within = 60 },
  before_start = function(svc) svc:wait("healthy") end,
}
''')
    run = t.run()
    run.wait_log(r'app: before_start failed: .*svc:wait\("healthy"\) on app inside its own app: before_start would never return')
    check(run.stop() == 0, "clean shutdown")


def test_a_hook_of_a_removed_service_is_cancelled_and_its_sleep_never_ends(t):
    stack = '''
service "keep" { cmd = { "sleep", "1000" }, on_start = function() sleep(1); log.info("keep hook done") end }
service "gone" { cmd = { "sleep", "1000" }, on_start = function() sleep(1); log.info("gone hook done") end }
'''
    t.stack(stack)
    run = t.run()
    run.wait_log(r"gone: started")
    run.wait_log(r"keep: started")
    t.stack(stack.split("\n")[1] + "\nstack { on_reload = function(plan) log.info('reloaded: removed %s', plan.removed[1]) end }\n")
    run.wait_log(r"reloaded: removed gone")
    run.wait_log(r"keep: keep hook done")
    check("gone hook done" not in run.log(), "the removed service's hook was cancelled")
    check(run.stop() == 0, "clean shutdown")


def test_on_unhealthy_decides_while_the_service_keeps_running(t):
    t.stack('''
local health = require "luvsup.health"
service "app" {
  cmd = { "sleep", "1000" },
  health = health.exec { cmd = { "false" }, interval = 0.2, retries = 2, start_period = 0 },
  on_unhealthy = function(svc, result)
    sleep(0.3)
    log.info("deciding after %d failures: %s", result.failures, svc.state)
    return nil
  end,
}
''')
    run = t.run()
    run.wait_log(r"app: deciding after 2 failures: running")
    run.wait_log(r"app: on_unhealthy chose nothing: it keeps running")
    pid = int(re.search(r"app: started \(pid (\d+)\)", run.log()).group(1))
    check(pid_alive(pid), "not restarted")
    check(run.count(r"app: started") == 1, "started once")
    check(run.stop() == 0, "clean shutdown")
