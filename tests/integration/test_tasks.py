"""Scheduled tasks on the real binary: a task every second runs again and
again, a run due while the previous one goes is skipped, a scheduled oneshot
is started on schedule, failures and timeouts are logged and the schedule goes
on, and a reload keeps, re-arms or cancels tasks."""
import os
import re

from harness import check


def save(t, text, name="stack.lua"):
    """Saves like most editors do: write a temporary file, rename it over the old one."""
    tmp = t.file(name + ".tmp")
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, t.file(name))


def test_a_task_every_second_runs_repeatedly(t):
    t.stack('task "tick" { every = "1s", run = function(task) log.info("tick from " .. task.name .. " in " .. task.dir) end }\n'
            'service "idle" { cmd = { "sleep", "1000" } }\n')
    run = t.run()
    run.wait_log(r"task tick: every 1s, next run at \d\d:\d\d:\d\d")
    run.wait_log(r"task tick: finished in", count=3)
    check(run.count(rf"tick from tick in {re.escape(os.path.realpath(t.path))}\n") >= 3,
          "the task gets its name and the stack's directory, and its log lines are in luvsup's log")
    check(run.count(r"skipped this run") == 0, "a quick task is never skipped")
    check(run.stop() == 0, "clean shutdown")


def test_a_run_due_while_the_previous_one_goes_is_skipped(t):
    t.stack('task "slow" { every = "1s", run = function() sleep(2.5); log.info("slow done") end }\n'
            'service "idle" { cmd = { "sleep", "1000" } }\n')
    run = t.run()
    run.wait_log(r"task slow: started")
    run.wait_log(r"task slow: still running since \d\d:\d\d:\d\d; skipped this run")
    run.wait_log(r"task slow: finished in")
    run.wait_log(r"task slow: started", count=2)
    log = run.log()
    first_done = log.index("task slow: finished in")
    check(log.count("task slow: started", 0, first_done) == 1, "no second run while the first one went")
    check(run.stop() == 0, "clean shutdown")


def test_a_scheduled_oneshot_starts_on_its_schedule_and_not_with_the_stack(t):
    t.stack('service "job" { cmd = "echo job ran", oneshot = true, every = "1s" }\n'
            'service "idle" { cmd = { "sleep", "1000" } }\n')
    run = t.run()
    run.wait_log(r"job: every 1s, next run at")
    run.wait_log(r"idle: started")
    run.wait_log(r"job: completed", count=2)
    log = run.log()
    check(log.index("job: scheduled start (every 1s)") < log.index("job: started"),
          "the first start comes from the schedule, not from the stack's start")
    t.wait_file("logs/job.log", lambda s: s.count("job ran") >= 2)
    check(run.stop() == 0, "clean shutdown")


def test_a_failing_task_is_logged_with_its_traceback_and_runs_again(t):
    t.stack('task "bad" {\n  every = "1s",\n  run = function() error("disk full") end,\n}\n'
            'service "idle" { cmd = { "sleep", "1000" } }\n')
    run = t.run()
    run.wait_log(r"task bad.*disk full")
    run.wait_log(r"task bad: started", count=2)
    check("stack.lua:3" in run.log(), "the error names the stack file's line")
    check(run.stop() == 0, "clean shutdown")


def test_a_task_over_its_timeout_is_cancelled(t):
    t.stack('task "hang" { every = "1s", timeout = "500ms", run = function() sleep(60) end }\n'
            'service "idle" { cmd = { "sleep", "1000" } }\n')
    run = t.run()
    run.wait_log(r"task hang.*timed out")
    run.wait_log(r"task hang: started", count=2)
    check(run.stop() == 0, "clean shutdown")


def test_a_reload_cancels_a_removed_tasks_run_and_re_arms_a_changed_schedule(t):
    idle = 'service "idle" { cmd = { "sleep", "1000" } }\n'
    t.stack('task "slow" { every = "1s", run = function() sleep(60) end }\n'
            'task "tick" { every = "1h", run = function() end }\n' + idle)
    run = t.run()
    run.wait_log(r"task slow: started")
    run.wait_log(r"task tick: every 1h, next run at")
    save(t, 'task "tick" { every = "1s", run = function() end }\n' + idle)
    run.wait_log(r"task slow: removed from the stack; its run in flight is cancelled")
    run.wait_log(r"task tick: schedule changed to every 1s")
    run.wait_log(r"task tick: finished in")
    check(run.stop() == 0, "clean shutdown")


def test_check_reports_a_bad_cron_expression_with_its_line(t):
    t.stack('service "idle" { cmd = { "sleep", "1000" } }\n'
            'task "nightly" {\n  cron = "0 25 * * *",\n  run = function() end,\n}\n')
    code, _, err = t.check()
    check(code != 0, "the stack is refused")
    check("stack.lua:3: task 'nightly': key 'cron': hour field: 25 is out of range 0-23" in err,
          f"the error names the line, the task and the field: {err!r}")
