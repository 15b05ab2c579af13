"""`make install PREFIX=...` gives a binary that finds its Lua library without
the source tree."""
import os
import signal
import subprocess

from harness import BUILD, ROOT, check, wait_until


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
                'local static_files = require "recipes.static_files"\n'
                'service "hello" { cmd = "echo hi > hello.txt", oneshot = true,\n'
                '                  restart = backoff.fixed { delay = 1 } }\n'
                'service "files" (static_files { port = 0 })\n')
    env = {k: v for k, v in os.environ.items() if k != "LUVSUP_DATA_DIR"}
    binary = os.path.join(prefix, "bin/luvsup")
    proc = subprocess.run([binary, "check", "stack.lua"], cwd=elsewhere, capture_output=True, text=True,
                          env=env)
    check(proc.returncode == 0, proc.stdout + proc.stderr)
    check("1. hello, files" in proc.stdout, proc.stdout)
    # `run` from that directory: the library, recipes included, comes from the prefix.
    log_path = os.path.join(elsewhere, "luvsup.stderr")
    with open(log_path, "wb") as log:
        run = subprocess.Popen([binary, "run", "--log-level", "debug", "stack.lua"], cwd=elsewhere,
                               env=env, stdout=subprocess.DEVNULL, stderr=log)
    try:
        def logged():
            with open(log_path) as f:
                text = f.read()
            return "hello: completed" in text and "files: started" in text
        wait_until(logged, what="the oneshot to complete and the recipe's service to start")
        run.send_signal(signal.SIGTERM)
        rc = run.wait(timeout=30)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    check(rc == 0, f"clean run, got {rc}")
    check(os.path.exists(os.path.join(elsewhere, "hello.txt")), "the oneshot ran")
