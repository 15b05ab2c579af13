"""The demo stack of `make demo` works as shipped: a copy of examples/demo
runs, its web server becomes healthy over HTTP, the visitor that waits for it
starts, and Ctrl-C stops everything cleanly."""
import os
import shutil
import signal

from harness import ROOT, check


def test_demo_stack_runs_as_shipped(t):
    demo = os.path.join(t.path, "demo")
    shutil.copytree(os.path.join(ROOT, "examples", "demo"), demo,
                    ignore=shutil.ignore_patterns("logs", ".luvsup", "built-at.txt"))
    t.stacks.add(os.path.join(demo, "stack.lua"))
    run = t.run(stack="demo/stack.lua")
    run.wait_log(r"setup: completed")
    run.wait_log(r"web: healthy \(http 200")
    run.wait_log(r"visitor: started")
    run.wait_log(r"flaky: restarting in")
    t.wait_file("demo/logs/visitor.log", lambda s: "the site was built at" in s)
    check(run.stop(signal.SIGINT) == 0, "Ctrl-C stops the demo cleanly")
