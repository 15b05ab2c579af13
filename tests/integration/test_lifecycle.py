"""Restarts, backoff, ordering and stopping, on real processes."""
import os
import random
import re
import signal
import time

from harness import HELPERS, check, pid_alive, tagged_pids, wait_until

FIXED_FAST = 'restart = require("luvsup.backoff").fixed { delay = 0 }'


def test_crashing_service_is_restarted_with_growing_backoff(t):
    t.stack('''
local backoff = require "luvsup.backoff"
service "crasher" {
  cmd = "echo started >> starts.txt; exit 3",
  restart = backoff.exponential { initial = 0.2, factor = 2, max = 5, jitter = 0 },
}
''')
    run = t.run()
    run.wait_log(r"crasher: restarting in 0\.8s")
    delays = [float(d) for d in re.findall(r"crasher: restarting in ([\d.]+)s", run.log())]
    check(delays[:3] == [0.2, 0.4, 0.8], f"delays {delays}")
    check("exited with code 3" in run.log(), "exit code in the log")
    run.wait_log(r"crasher: restarting in [\d.]+s \(crash-looping\)")
    run.wait_log(r"crasher: started", count=4)
    check(run.stop() == 0, "clean shutdown")
    check(t.read("starts.txt").count("started") >= 4, "restarted several times")


def test_service_survives_ten_random_sigkills(t):
    t.stack(f'''
service "victim" {{
  cmd = {{ "sleep", "1000" }},
  {FIXED_FAST},
}}
''')
    run = t.run()
    stack = t.file("stack.lua")
    seen = set()
    for i in range(10):
        pids = wait_until(lambda: [p for p in tagged_pids(stack, "victim") if p not in seen],
                          what=f"incarnation {i + 1}")
        pid = pids[0]
        seen.add(pid)
        # Let it run for a random moment, then kill it behind luvsup's back.
        time.sleep(random.uniform(0, 0.3))  # a random moment, not a synchronisation
        os.kill(pid, signal.SIGKILL)
        run.wait_log(r"victim: killed by signal KILL", count=i + 1)
    last = wait_until(lambda: [p for p in tagged_pids(stack, "victim") if p not in seen],
                      what="the 11th incarnation")
    check(len(last) == 1, f"exactly one instance: {last}")
    run.wait_log(r"victim: started \(pid", count=11)  # the log is written asynchronously
    check(run.count(r"victim: started \(pid") == 11, "exactly eleven starts")
    check(run.stop() == 0, "clean shutdown")
    check(tagged_pids(stack) == [], "nothing left")


def test_start_order_and_reverse_stop_order_by_timestamps(t):
    # Each service records when it started and when it got SIGTERM.
    svc = '''
service "{name}" {{
  cmd = [[trap 'date +%s.%N > stop-{name}; exit 0' TERM; date +%s.%N > start-{name}; while :; do sleep 0.05; done]],
  depends_on = {{ {deps} }},
}}
'''
    t.stack(svc.format(name="web", deps='"api"') + svc.format(name="api", deps='"db"')
            + svc.format(name="db", deps=""))
    run = t.run()
    for name in ("db", "api", "web"):
        t.wait_file(f"start-{name}", lambda s: s.endswith("\n"))
    check(run.stop() == 0, "clean shutdown")
    # "started" means spawned, so the services' own first instructions may race:
    # the start order is luvsup's (its log timestamps), the stop order the
    # services' own (each records when SIGTERM reached it).
    started = {m.group(2): m.group(1) for m in
               re.finditer(r"^(\S+) info (\w+): started \(pid", run.log(), re.M)}
    # Millisecond timestamps of spawns in one loop turn may be equal; the
    # log's line order below is strict.
    check(started["db"] <= started["api"] <= started["web"], f"start order {started}")
    log = run.log()
    check(log.index("db: started") < log.index("api: started") < log.index("web: started"),
          "start order in the log")
    stop = {n: float(t.read(f"stop-{n}")) for n in ("db", "api", "web")}
    check(stop["web"] < stop["api"] < stop["db"], f"stop order {stop}")


def test_service_ignoring_sigterm_is_killed_after_its_stop_timeout(t):
    t.stack(f'''
service "stubborn" {{
  cmd = {{ "{HELPERS}/ignore_term" }},
  stop = {{ timeout = "500ms" }},
}}
''')
    run = t.run()
    run.wait_log(r"stubborn: started")
    wait_until(lambda: "ready" in t.service_log("stubborn").decode(errors="replace"),
               what="the helper to ignore TERM")
    rc = run.stop()
    check(rc == 1, f"an unclean shutdown exits 1, got {rc}")
    check(re.search(r"stubborn: still running 0\.5s after SIGTERM; sending SIGKILL", run.log()),
          "SIGKILL logged")
    check(tagged_pids(t.file("stack.lua")) == [], "nothing left")


def test_restart_budget_leads_to_fatal(t):
    t.stack('''
local backoff = require "luvsup.backoff"
service "flaky" {
  cmd = { "false" },
  restart = backoff.fixed { delay = 0.05, max_restarts = 3, within = 60 },
}
service "steady" { cmd = { "sleep", "1000" } }
''')
    run = t.run()
    run.wait_log(r"flaky: gave up: .*\(fatal\)")
    check(run.count(r"flaky: started") == 4, "first start plus three restarts")
    run.wait_log(r"steady: started")
    check(run.stop() == 0, "the rest of the stack stops cleanly")


def test_oneshot_completes_and_is_not_restarted(t):
    t.stack('''
service "migrate" { cmd = "echo migrated > migrated.txt", oneshot = true }
service "app" { cmd = { "sleep", "1000" }, depends_on = { "migrate" } }
''')
    run = t.run()
    run.wait_log(r"migrate: completed")
    run.wait_log(r"app: started")
    check(run.count(r"migrate: started") == 1, "run once")
    check(t.read("migrated.txt").strip() == "migrated", "the task ran")
    check(run.stop() == 0, "clean")


def test_missing_command_is_reported_and_backs_off(t):
    t.stack('''
service "ghost" { cmd = { "/nonexistent/bin/ghostd", "--serve" } }
''')
    run = t.run()
    run.wait_log(r"ghost: spawn failed: .*/nonexistent/bin/ghostd.*No such file or directory")
    run.wait_log(r"ghost: restarting in", count=2)
    # The default backoff doubles: two attempts take about 1 s, never a hot loop.
    check(run.count(r"ghost: spawn failed") <= 3, "no hot loop")
    check(run.stop() == 0, "clean")


def test_non_executable_command_is_reported(t):
    t.write("notexec.sh", "#!/bin/sh\necho hi\n", mode=0o644)
    t.stack('service "noexec" { cmd = { "./notexec.sh" } }\n')
    run = t.run()
    run.wait_log(r"noexec: spawn failed: .*notexec\.sh.*Permission denied")
    run.stop()


def test_second_sigint_kills_at_once(t):
    t.stack(f'''
service "slow" {{ cmd = {{ "{HELPERS}/ignore_term" }}, stop = {{ timeout = 300 }} }}
''')
    run = t.run()
    wait_until(lambda: "ready" in t.service_log("slow").decode(errors="replace"), what="ready")
    run.send(signal.SIGINT)
    run.wait_log(r"slow: stopping")
    run.send(signal.SIGINT)
    rc = run.wait(timeout=15)
    check(rc == 1, f"killed services make an unclean exit, got {rc}")
    check("second interrupt" in run.log(), "second interrupt logged")
    check(tagged_pids(t.file("stack.lua")) == [], "nothing left")


def test_default_restart_policy_restarts_after_about_a_second(t):
    t.stack('service "once" { cmd = "sleep 0.2; exit 1" }\n')
    run = t.run()
    m = run.wait_log(r"once: restarting in ([\d.]+)s")[0]
    delay = float(m.group(1))
    check(0.85 <= delay <= 1.15, f"first delay 1 s +- 10 % jitter, got {delay}")
    run.stop()
