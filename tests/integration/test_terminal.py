"""In a terminal: service output interleaved with colored prefixes, --quiet,
and SIGHUP (the terminal closed) stopping the stack."""
import os
import pty
import re
import signal
import subprocess
import time

from harness import LUVSUP, check, tagged_pids, wait_until


def spawn_in_pty(t, args):
    """Runs luvsup with a pty as its controlling terminal and stdout."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([LUVSUP, *args], cwd=t.path, stdin=slave, stdout=slave,
                            stderr=open(t.file("luvsup.stderr"), "wb"), start_new_session=True,
                            preexec_fn=lambda: __import__("fcntl").ioctl(0, __import__("termios").TIOCSCTTY, 0))
    os.close(slave)
    return proc, master


def read_pty(master, buf, pattern, timeout=20):
    deadline = time.monotonic() + timeout
    while not re.search(pattern, buf.decode(errors="replace")):
        if time.monotonic() > deadline:
            raise AssertionError(f"no {pattern!r} on the terminal: {buf[-2000:]!r}")
        import select
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                buf += os.read(master, 65536)
            except OSError:
                break
    return buf


STACK = '''
service "alpha" { cmd = "while :; do echo alpha-says-hi; sleep 0.1; done" }
service "beta" { cmd = "while :; do echo beta-says-hi >&2; sleep 0.1; done" }
'''


def test_terminal_shows_interleaved_colored_output_and_sighup_stops(t):
    t.stack(STACK)
    proc, master = spawn_in_pty(t, ["run", "stack.lua"])
    buf = read_pty(master, b"", r"alpha.*alpha-says-hi")
    buf = read_pty(master, buf, r"beta.*beta-says-hi")
    check(b"\x1b[" in buf, "colored prefixes on a terminal")
    # The terminal goes away: SIGHUP stops the stack.
    proc.send_signal(signal.SIGHUP)
    rc = proc.wait(timeout=30)
    os.close(master)
    check(rc == 0, f"clean stop on SIGHUP, got {rc}")
    check(tagged_pids(t.file("stack.lua")) == [], "nothing left")
    # The logs still hold the output.
    check(b"alpha-says-hi" in open(t.file("logs/alpha.log"), "rb").read(), "alpha log")


def test_quiet_keeps_service_output_off_the_terminal(t):
    t.stack(STACK)
    proc, master = spawn_in_pty(t, ["run", "--quiet", "stack.lua"])
    wait_until(lambda: os.path.exists(t.file("logs/alpha.log")) and
               open(t.file("logs/alpha.log"), "rb").read().count(b"alpha-says-hi") >= 3,
               what="alpha output in its log")
    import select
    buf = b""
    while select.select([master], [], [], 0.1)[0]:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        buf += chunk
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    os.close(master)
    check(b"alpha-says-hi" not in buf, f"no service output with --quiet: {buf[-500:]!r}")


def test_sighup_without_a_terminal_reloads_instead_of_stopping(t):
    t.stack('service "s" { cmd = { "sleep", "1000" } }\n')
    run = t.run()
    run.wait_log(r"s: started")
    run.send(signal.SIGHUP)
    run.wait_log(r"SIGHUP: reloading")
    check(run.proc.poll() is None, "still running")
    check(run.stop() == 0, "clean")


def test_losing_stderr_is_not_fatal(t):
    # luvsup's stderr is a pipe whose reader goes away: every log write fails
    # with EPIPE, and supervision goes on.
    t.stack('''
local backoff = require "luvsup.backoff"
service "crasher" { cmd = "echo run >> runs.txt; exit 1", restart = backoff.fixed { delay = 0.1 } }
''')
    proc = subprocess.Popen([LUVSUP, "run", "--log-level", "debug", "stack.lua"], cwd=t.path,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    proc.stderr.close()
    try:
        wait_until(lambda: os.path.exists(t.file("runs.txt")) and
                   open(t.file("runs.txt")).read().count("run") >= 5,
                   what="restarts while stderr is gone")
        check(proc.poll() is None, "luvsup still running")
        proc.send_signal(signal.SIGTERM)
        check(proc.wait(timeout=30) == 0, "clean shutdown")
    finally:
        if proc.poll() is None:
            proc.kill()
    check(tagged_pids(t.file("stack.lua")) == [], "nothing left")
