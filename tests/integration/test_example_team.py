"""examples/team runs as shipped (on free ports): the backend becomes healthy,
the learning API starts after it, the UI and the file server answer; the
backend's before_start runbook frees its port from a stale process of its own
service and refuses the start when an unrelated process holds it."""
import os
import shutil
import socket
import subprocess
import sys
import urllib.request

from harness import ROOT, check, free_port, pid_alive, stack_hash, wait_until
from test_control import ctl

LISTENER = "import socket, sys, time\n" \
           "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n" \
           "s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen(); print('listening', flush=True); time.sleep(1000)\n"


def get(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.status, r.read().decode()


def start_team(t):
    team = os.path.join(t.path, "team")
    shutil.copytree(os.path.join(ROOT, "examples", "team"), team,
                    ignore=shutil.ignore_patterns("logs", ".luvsup", "__pycache__"))
    ports = {name: free_port() for name in ("UI_PORT", "BACKEND_PORT", "LEARNING_PORT", "FILES_PORT")}
    env = {name: str(port) for name, port in ports.items()}
    env["ALERT_WEBHOOK"] = ""
    t.stacks.add(os.path.join(team, "stack.lua"))
    run = t.run(stack="team/stack.lua", env=env)
    return team, ports, run


def squat(port, env=None):
    """A process that listens on `port` (with `env` added to its environment)."""
    proc = subprocess.Popen([sys.executable, "-c", LISTENER, str(port)], stdout=subprocess.PIPE,
                            env=dict(os.environ, **(env or {})), start_new_session=True)
    check(proc.stdout.readline().strip() == b"listening", "the squatter listens")
    return proc


def test_the_team_stack_comes_up_healthy_in_order(t):
    team, ports, run = start_team(t)
    run.wait_log(r"backend: healthy \(http 200")
    run.wait_log(r"learning: healthy \(http 200")
    run.wait_log(r"ui: healthy \(http 200")
    run.wait_log(r"files: healthy \(tcp")
    log = run.log()
    check(log.index("backend: healthy") < log.index("learning: started"), "learning waits for a healthy backend")
    status, page = get(f"http://127.0.0.1:{ports['UI_PORT']}/")
    check(status == 200 and "Team dashboard" in page and "Learn about onboarding checklist" in page,
          "the UI shows what the backend and the learning API say")
    status, text = get(f"http://127.0.0.1:{ports['FILES_PORT']}/README.txt")
    check(status == 200 and "Files the team shares" in text, "the file server serves files/")
    check(run.stop() == 0, "clean shutdown")


def test_the_backend_runbook_frees_its_port_from_a_stale_process_of_its_own(t):
    team, ports, run = start_team(t)
    port = ports["BACKEND_PORT"]
    run.wait_log(r"backend: healthy \(http 200")
    check(ctl(t, "stop", "backend", cwd=team).returncode == 0, "luvsup stop backend")
    run.wait_log(r"backend: stopped")
    tag = f"{stack_hash(os.path.join(team, 'stack.lua'))}/backend"
    stale = squat(port, {"LUVSUP_SERVICE": tag})
    try:
        check(ctl(t, "start", "backend", cwd=team).returncode == 0, "luvsup start backend")
        run.wait_log(rf"port {port} is held by a stale backend process \(pid {stale.pid}\); stopping it")
        run.wait_log(r"backend: healthy \(http 200", count=2)
        wait_until(lambda: stale.poll() is not None, what="the stale process gone")
    finally:
        if stale.poll() is None:
            stale.kill()
        stale.wait()
    check(run.stop() == 0, "clean shutdown")


def test_the_backend_runbook_refuses_to_start_over_an_unrelated_process(t):
    team, ports, run = start_team(t)
    port = ports["BACKEND_PORT"]
    run.wait_log(r"backend: healthy \(http 200")
    check(ctl(t, "stop", "backend", cwd=team).returncode == 0, "luvsup stop backend")
    run.wait_log(r"backend: stopped")
    other = squat(port)
    try:
        check(ctl(t, "start", "backend", cwd=team).returncode == 0, "luvsup start backend")
        run.wait_log(rf"port {port} is held by pid {other.pid}, not by a stale backend process")
        check(other.poll() is None and pid_alive(other.pid), "the unrelated process is left alone")
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass  # still its listener
    finally:
        other.kill()
        other.wait()
    check(run.stop() == 0, "clean shutdown")
