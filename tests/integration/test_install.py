"""`make install PREFIX=...` gives a binary that finds its Lua library without
the source tree."""
import os
import subprocess

from harness import BUILD, ROOT, check


def test_installed_binary_runs_a_stack_from_another_directory(t):
    prefix = t.file("prefix")
    proc = subprocess.run(["make", "-s", "install", f"PREFIX={prefix}", f"BUILD={os.path.relpath(BUILD, ROOT)}"],
                          cwd=ROOT, capture_output=True, text=True)
    check(proc.returncode == 0, proc.stdout + proc.stderr)
    for path in ("bin/luvsup", "share/luvsup/lua/luvsup/backoff.lua", "share/man/man1/luvsup.1",
                 "share/man/man5/luvsup-stack.5"):
        check(os.path.exists(os.path.join(prefix, path)), f"installed {path}")
    elsewhere = t.file("elsewhere")
    os.makedirs(elsewhere)
    with open(os.path.join(elsewhere, "stack.lua"), "w") as f:
        f.write('local backoff = require "luvsup.backoff"\n'
                'service "hello" { cmd = "echo hi", oneshot = true, restart = backoff.fixed { delay = 1 } }\n')
    env = {k: v for k, v in os.environ.items() if k != "LUVSUP_DATA_DIR"}
    proc = subprocess.run([os.path.join(prefix, "bin/luvsup"), "check", "stack.lua"], cwd=elsewhere,
                          capture_output=True, text=True, env=env)
    check(proc.returncode == 0, proc.stdout + proc.stderr)
    check("1. hello" in proc.stdout, proc.stdout)
