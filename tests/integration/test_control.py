"""The control socket and the control commands, end to end against a running
luvsup on real processes."""
import json
import os
import re
import signal
import socket
import stat
import subprocess
import threading

from harness import (DEFAULT_TIMEOUT, HELPERS, LUVSUP, check, free_port, pid_alive, tagged_pids,
                     wait_until)

NOBODY = 65534
FAST = 'restart = require("luvsup.backoff").fixed { delay = 0 }'

TWO_SERVICES = '''
service "db" { cmd = { "sleep", "1000" } }
service "web" {
  cmd = "trap 'echo got USR1 >> usr1.txt' USR1; while true; do echo web says hi; sleep 0.2; done",
  depends_on = { "db" },
}
'''


def ctl(t, *args, cwd=None, env=None, preexec_fn=None, timeout=DEFAULT_TIMEOUT, binary=LUVSUP):
    """Runs a control command; returns the CompletedProcess."""
    full_env = dict(os.environ)
    full_env.pop("LUVSUP_SOCKET", None)
    full_env.update(env or {})
    return subprocess.run([binary, *args], cwd=cwd or t.path, capture_output=True, text=True,
                          env=full_env, timeout=timeout, preexec_fn=preexec_fn)


def status(t, *names, **kw):
    proc = ctl(t, "status", "--json", *names, **kw)
    check(proc.returncode == 0, f"status --json failed: {proc.stderr}")
    return {s["name"]: s for s in json.loads(proc.stdout)["services"]}


def wait_state(t, name, state, **kw):
    return wait_until(lambda: status(t, **kw)[name]["state"] == state and status(t, **kw)[name],
                      what=f"{name} {state}")


def start_stack(t, text=TWO_SERVICES, *args):
    t.stack(text)
    run = t.run(*args)
    run.wait_log(r"control socket: ")
    return run


def sock_path(t):
    return t.file(".luvsup/control.sock")


def raw_client(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(DEFAULT_TIMEOUT)
    s.connect(path)
    return s


def exchange(s, line):
    """Sends one raw line; returns the next reply line as JSON."""
    s.sendall(line if isinstance(line, bytes) else line.encode())
    data = b""
    while not data.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed; got {data!r}")
        data += chunk
    return json.loads(data.split(b"\n")[0])


def test_status_shows_a_table_and_documented_json(t):
    run = start_stack(t)
    wait_state(t, "web", "running")
    proc = ctl(t, "status")
    check(proc.returncode == 0, proc.stderr)
    lines = proc.stdout.splitlines()
    check(lines[0].split() == ["NAME", "STATE", "PID", "UPTIME", "RESTARTS", "LAST", "EXIT",
                               "HEALTH", "REASON"], lines[0])
    check(lines[1].split()[:2] == ["db", "running"] and lines[2].split()[:2] == ["web", "running"],
          proc.stdout)
    check("\033[" not in proc.stdout, "no colors when stdout is not a terminal")
    reply = json.loads(ctl(t, "status", "--json").stdout)
    check(reply["v"] == 1 and reply["ok"] is True and reply["error"] is None, reply)
    check(reply["stack"]["pid"] == run.pid and reply["stack"]["name"] == "stack", reply["stack"])
    web = {s["name"]: s for s in reply["services"]}["web"]
    check(set(web) == {"name", "state", "pid", "uptime", "restarts", "wanted", "held_down",
                       "reason", "last_exit", "health"}, sorted(web))
    check(web["pid"] in tagged_pids(t.file("stack.lua"), "web"), "the pid is the service's")
    check(web["health"] == {"status": None, "since": None, "failures": 0, "last_error": None,
                            "latency": None, "ready": True}, web)
    check(reply["stack"]["last_reload"] is None, "no reload yet")
    only = status(t, "db")
    check(list(only) == ["db"], "status NAME limits the services")
    with open("/dev/full", "w") as full:
        failed = subprocess.run([LUVSUP, "status", "--json"], cwd=t.path, stdout=full,
                                stderr=subprocess.PIPE, text=True, timeout=DEFAULT_TIMEOUT)
    check(failed.returncode == 1 and "cannot write the status" in failed.stderr,
          f"a status that cannot be written fails: {failed.returncode} {failed.stderr}")
    check(run.stop() == 0, "clean shutdown")


def test_stop_is_not_undone_by_the_policy_and_start_clears_it(t):
    run = start_stack(t, f'''
service "web" {{ cmd = {{ "sleep", "1000" }}, {FAST} }}
service "crasher" {{ cmd = "exit 1", {FAST} }}
''')
    wait_state(t, "web", "running")
    proc = ctl(t, "stop", "web")
    check(proc.returncode == 0 and "web: stopping" in proc.stdout, proc.stdout + proc.stderr)
    web = status(t)["web"]
    check(web["state"] == "stopped", f"stop returns once the service has stopped: {web}")
    check(web["held_down"] and web["wanted"] == "down", web)
    check("stopped by the user" in web["reason"], web)
    # Time passes (the crasher restarts five more times): web stays down.
    seen = run.count(r"crasher: started")
    run.wait_log(r"crasher: started", count=seen + 5)
    check(status(t)["web"]["state"] == "stopped", "not restarted by its policy")
    check(tagged_pids(t.file("stack.lua"), "web") == [], "no web process")
    check(ctl(t, "start", "web").returncode == 0, "start")
    web = wait_state(t, "web", "running")
    check(not web["held_down"], web)
    first = web["pid"]
    check(ctl(t, "restart", "web").returncode == 0, "restart")
    wait_until(lambda: status(t)["web"]["pid"] not in (None, first), what="a new web pid")
    check(not pid_alive(first), "the old process is gone")
    check(ctl(t, "stop", "--all").returncode == 0, "stop --all")
    wait_until(lambda: all(s["state"] == "stopped" for s in status(t).values()), what="all stopped")
    check(ctl(t, "start", "--all").returncode == 0, "start --all")
    wait_state(t, "web", "running")
    check(run.stop() == 0, "clean shutdown")


def test_pid_and_signal_reach_the_main_process(t):
    run = start_stack(t)
    web = wait_state(t, "web", "running")
    proc = ctl(t, "pid", "web")
    check(proc.returncode == 0 and proc.stdout.strip() == str(web["pid"]), proc.stdout + proc.stderr)
    # The shell has set its trap once it prints (a USR1 before would kill it).
    t.wait_file("logs/web.log", lambda text: "web says hi" in text)
    proc = ctl(t, "signal", "web", "USR1")
    check(proc.returncode == 0 and f"(pid {web['pid']})" in proc.stdout, proc.stdout + proc.stderr)
    t.wait_file("usr1.txt", lambda text: "got USR1" in text)
    check(ctl(t, "signal", "web", "SIGUSR1").returncode == 0, "SIG prefix accepted")
    proc = ctl(t, "signal", "web", "NOPE")
    check(proc.returncode == 1 and "unknown signal 'NOPE'" in proc.stderr, proc.stderr)
    ctl(t, "stop", "web")
    wait_state(t, "web", "stopped")
    proc = ctl(t, "pid", "web")
    check(proc.returncode == 1 and "service 'web' is not running (stopped)" in proc.stderr, proc.stderr)
    proc = ctl(t, "signal", "web", "HUP")
    check(proc.returncode == 1 and "is not running" in proc.stderr, proc.stderr)
    check(run.stop() == 0, "clean shutdown")


def test_errors_name_unknown_services(t):
    run = start_stack(t)
    for args in (["status", "nope"], ["stop", "nope", "web"], ["pid", "ghost"]):
        proc = ctl(t, *args)
        check(proc.returncode == 1, f"{args}: exit {proc.returncode}")
        check("unknown service" in proc.stderr, proc.stderr)
    check(status(t)["web"]["state"] != "stopped", "a failed stop changes nothing")
    proc = ctl(t, "stop")
    check(proc.returncode == 2 and "stop needs service names or --all" in proc.stderr, proc.stderr)
    check(run.stop() == 0, "clean shutdown")


def test_shutdown_stops_the_stack_and_returns_when_it_is_down(t):
    run = start_stack(t)
    wait_state(t, "web", "running")
    proc = ctl(t, "shutdown")
    check(proc.returncode == 0 and "stack stopped" in proc.stdout, proc.stdout + proc.stderr)
    check(run.wait() == 0, "luvsup exits cleanly")
    check(tagged_pids(t.file("stack.lua")) == [], "nothing left")
    check(not os.path.exists(sock_path(t)), "the socket is removed")
    proc = ctl(t, "status")
    check(proc.returncode == 3, f"exit {proc.returncode}")
    check(proc.stderr.strip() == "luvsup: no luvsup is running for stack.lua (no socket at "
          ".luvsup/control.sock); start one with `luvsup run stack.lua`", proc.stderr)


def test_the_socket_is_found_from_elsewhere_by_flag_environment_or_stack(t):
    run = start_stack(t)
    elsewhere = t.file("sub")
    os.makedirs(elsewhere)
    check(ctl(t, "status", cwd=elsewhere).returncode == 3, "no stack.lua in sub/")
    check(ctl(t, "status", "-s", sock_path(t), cwd=elsewhere).returncode == 0, "-s PATH")
    check(ctl(t, "status", cwd=elsewhere, env={"LUVSUP_SOCKET": sock_path(t)}).returncode == 0,
          "LUVSUP_SOCKET")
    check(ctl(t, "status", "-f", t.file("stack.lua"), cwd=elsewhere).returncode == 0, "-f STACK")
    proc = ctl(t, "status", "-s", t.file("none.sock"), cwd=elsewhere)
    check(proc.returncode == 3 and "no luvsup is running at" in proc.stderr, proc.stderr)
    check(run.stop() == 0, "clean shutdown")


def test_the_stack_control_key_and_run_s_choose_the_socket(t):
    t.stack('stack { control = "ctl/x.sock" }\nservice "a" { cmd = { "sleep", "1000" } }\n')
    run = t.run()
    run.wait_log(r"control socket: .*/ctl/x\.sock")
    check(stat.S_IMODE(os.stat(t.file("ctl")).st_mode) == 0o700, "a private directory")
    check(ctl(t, "status").returncode == 0, "the client reads the key from the stack")
    check(run.stop() == 0, "clean shutdown")
    run = t.run("-s", "other.sock")
    run.wait_log(r"control socket: .*/other\.sock")
    check(ctl(t, "status", "-s", "other.sock").returncode == 0, "run -s")
    check(run.stop() == 0, "clean shutdown")


def test_a_long_socket_path_falls_back_to_a_short_one(t):
    deep = os.path.join("d" * 60, "e" * 60)
    t.write(os.path.join(deep, "stack.lua"), 'service "a" { cmd = { "sleep", "1000" } }\n')
    t.stacks.add(t.file(os.path.join(deep, "stack.lua")))
    run = t.run(stack=os.path.join(deep, "stack.lua"))
    match = run.wait_log(r"control socket: (\S+)")[0]
    path = match.group(1)
    check(path.startswith(f"/tmp/luvsup-{os.getuid()}/") and path.endswith(".sock"), path)
    check(len(path) <= 107, path)
    check(stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700, "a private directory")
    proc = ctl(t, "status", cwd=t.file(deep))
    check(proc.returncode == 0 and "running" in proc.stdout, proc.stdout + proc.stderr)
    check(run.stop() == 0, "clean shutdown")
    check(not os.path.exists(path), "the socket is removed")


def test_socket_permissions_and_a_client_with_another_uid(t):
    run = start_stack(t)
    sock = sock_path(t)
    check(stat.S_IMODE(os.stat(t.file(".luvsup")).st_mode) == 0o700, "the directory is 0700")
    check(stat.S_IMODE(os.stat(sock).st_mode) == 0o600, "the socket is 0600")
    as_nobody = lambda: os.setuid(NOBODY)  # noqa: E731
    luvsup = t.reachable_by_all(LUVSUP)
    check(stat.S_IMODE(os.stat(t.file(".luvsup")).st_mode) == 0o700, "still 0700")
    proc = ctl(t, "status", "-s", sock, cwd="/", preexec_fn=as_nobody, binary=luvsup)
    check(proc.returncode == 4 and "permission denied" in proc.stderr, proc.stderr)
    # Even with the file permissions opened up, the uid check refuses the client.
    os.chmod(t.path, 0o755)
    os.chmod(t.file(".luvsup"), 0o755)
    os.chmod(sock, 0o666)
    proc = ctl(t, "stop", "web", "-s", sock, cwd="/", preexec_fn=as_nobody, binary=luvsup)
    check(proc.returncode == 4, f"exit {proc.returncode}: {proc.stderr}")
    check(f"permission denied: uid {NOBODY} may not control this stack" in proc.stderr, proc.stderr)
    run.wait_log(rf"control: refused a client with uid {NOBODY}")
    check(status(t)["web"]["state"] == "running", "the refused request changed nothing")
    check(run.stop() == 0, "clean shutdown")


def test_malformed_requests_get_error_replies_and_change_nothing(t):
    run = start_stack(t)
    s = raw_client(sock_path(t))
    cases = [
        (b"this is not json\n", "malformed JSON"),
        (b"[1, 2]\n", "a request is a JSON object"),
        (b'{"cmd":"status"}\n', "missing 'v'"),
        (b'{"v":2,"cmd":"status"}\n', "unsupported protocol version"),
        (b'{"v":1,"id":9,"cmd":"explode"}\n', "unknown command 'explode'"),
        (b'{"v":1,"cmd":"stop"}\n', "needs either service names"),
        (b'{"v":1,"cmd":"stop","services":["ghost"]}\n', "unknown service 'ghost'"),
        (b'{"v":1,"cmd":"status","bogus":1}\n', "unknown key 'bogus'"),
        (b'{"v":1,"cmd":"status","services":"web"}\n', "'services' expects an array"),
        (b'\xff\xfe{"v":1}\n', "malformed JSON"),
        (b"x" * (70 * 1024) + b"\n", "request too long"),
    ]
    for line, error in cases:
        reply = exchange(s, line)
        check(reply["v"] == 1 and reply["ok"] is False and error in reply["error"],
              f"{line[:40]!r}: {reply}")
    check(exchange(s, b'{"v":1,"id":9,"cmd":"explode"}\n')["id"] == 9, "the id is echoed")
    # The same connection still works, and so does the supervisor.
    reply = exchange(s, b'{"v":1,"id":"last","cmd":"status"}\n')
    check(reply["ok"] and reply["id"] == "last" and len(reply["services"]) == 2, reply)
    s.close()
    check(all(v["state"] == "running" for v in status(t).values()), "nothing was disturbed")
    check(run.stop() == 0, "clean shutdown")


def test_many_concurrent_clients_all_get_answers(t):
    run = start_stack(t)
    wait_state(t, "web", "running")
    results = []
    lock = threading.Lock()

    def client():
        proc = ctl(t, "status", "--json", timeout=DEFAULT_TIMEOUT * 3)
        with lock:
            results.append(proc.returncode == 0 and len(json.loads(proc.stdout)["services"]) == 2)

    threads = [threading.Thread(target=client) for _ in range(40)]
    # And raw clients that connect, hold the connection and never send.
    idle = [raw_client(sock_path(t)) for _ in range(20)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    check(len(results) == 40 and all(results), f"{results.count(False)} failures")
    for s in idle:
        s.close()
    check(run.stop() == 0, "clean shutdown")


def test_logs_shows_the_last_lines_interleaved_and_follows(t):
    run = start_stack(t, '''
service "one" { cmd = "for i in 1 2 3 4 5; do echo one-$i; sleep 0.05; done; exec sleep 1000" }
service "two" { cmd = "for i in 1 2 3 4 5; do echo two-$i; sleep 0.05; done; exec sleep 1000" }
service "ticker" { cmd = "i=0; while true; do i=$((i+1)); echo tick-$i; sleep 0.1; done" }
''')
    t.wait_file("logs/one.log", lambda text: "one-5" in text)
    t.wait_file("logs/two.log", lambda text: "two-5" in text)
    proc = ctl(t, "logs", "-n", "3", "one")
    check(proc.returncode == 0, proc.stderr)
    lines = proc.stdout.splitlines()
    check(len(lines) == 3 and lines[-1].endswith("| one-5") and not lines[0].startswith("one "),
          proc.stdout)
    proc = ctl(t, "logs", "-n", "6", "one", "two")
    lines = proc.stdout.splitlines()
    check(len(lines) == 6, proc.stdout)
    check(all(line.startswith(("one | ", "two | ")) for line in lines), proc.stdout)
    stamps = [line.split(" | ", 1)[1][:23] for line in lines]
    check(stamps == sorted(stamps), "interleaved by timestamp")
    follower = subprocess.Popen([LUVSUP, "logs", "-f", "-n", "0", "ticker"], cwd=t.path,
                                stdout=subprocess.PIPE, text=True)
    try:
        got = [follower.stdout.readline() for _ in range(3)]
        check(all("tick-" in line for line in got), got)
        numbers = [int(line.rsplit("tick-", 1)[1]) for line in got]
        check(numbers == list(range(numbers[0], numbers[0] + 3)), f"consecutive: {numbers}")
    finally:
        follower.kill()
        follower.wait()
    check(run.stop() == 0, "clean shutdown")


def follow_request(path):
    s = raw_client(path)
    s.sendall(b'{"v":1,"id":1,"cmd":"logs","follow":true,"lines":0}\n')
    return s


def test_clients_that_disconnect_during_logs_f_cost_nothing(t):
    run = start_stack(t, '''
service "chatty" { cmd = "while true; do echo line; sleep 0.01; done" }
''')
    for _ in range(30):
        s = follow_request(sock_path(t))
        s.recv(100)  # the reply has started to arrive
        s.close()
    proc = subprocess.Popen([LUVSUP, "logs", "-f", "chatty"], cwd=t.path, stdout=subprocess.PIPE)
    proc.stdout.readline()
    proc.kill()
    proc.wait()
    reply = exchange(raw_client(sock_path(t)), b'{"v":1,"cmd":"status"}\n')
    check(reply["ok"] and reply["services"][0]["state"] == "running", reply)
    check(run.count(r"dropped") == 0, "a client that left is not 'dropped': it just goes")
    check(run.stop() == 0, "clean shutdown")


def test_a_logs_f_client_that_stops_reading_is_dropped_with_a_notice(t):
    run = start_stack(t, '''
service "flood" { cmd = "head -c 40000000 /dev/zero | tr '\\\\0' x | fold -w 400; exec sleep 1000",
                  log = { max_size = "4M", keep = 1 } }
service "steady" { cmd = { "sleep", "1000" } }
''')
    stalled = follow_request(sock_path(t))
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    run.wait_log(r"control: dropped `logs -f` client pid \d+ \(stopped reading")
    run.wait_log(r"event stream: dropped a subscriber that stopped reading")
    reply = exchange(raw_client(sock_path(t)), b'{"v":1,"cmd":"status"}\n')
    check(reply["ok"] and all(s["state"] == "running" for s in reply["services"]), reply)
    stalled.close()
    check(run.stop() == 0, "clean shutdown")


def test_a_stop_is_remembered_across_a_restart_of_luvsup(t):
    run = start_stack(t)
    wait_state(t, "web", "running")
    check(ctl(t, "stop", "web").returncode == 0, "stop")
    wait_state(t, "web", "stopped")
    desired = json.loads(t.read(".luvsup/desired.json"))
    check(desired == {"v": 1, "stopped": ["web"]}, desired)
    check(run.stop() == 0, "clean shutdown")
    run = t.run()
    run.wait_log(r"web: stays stopped \(stopped with `luvsup stop`")
    run.wait_log(r"db: started")
    web = status(t)["web"]
    check(web["state"] == "stopped" and web["held_down"], web)
    check(run.count(r"web: started") == 0, "web was not started")
    check(ctl(t, "start", "web").returncode == 0, "start")
    wait_state(t, "web", "running")
    check(json.loads(t.read(".luvsup/desired.json"))["stopped"] == [], "start cleared it")
    check(run.stop() == 0, "clean shutdown")


def test_a_stale_socket_is_replaced_and_a_second_luvsup_refused(t):
    run = start_stack(t)
    run.wait_log(r"db: started")
    second = t.run()
    check(second.wait() == 1, "the second luvsup exits non-zero")
    check(f"already supervised by luvsup pid {run.pid}" in second.log(), second.log())
    check(ctl(t, "status").returncode == 0, "the first one's socket is untouched")
    run.send(signal.SIGKILL)
    run.wait()
    check(os.path.exists(sock_path(t)), "a crashed luvsup leaves its socket")
    check(ctl(t, "status").returncode == 3, "a stale socket means not running")
    again = t.run()
    again.wait_log(r"control: replacing the stale socket")
    again.wait_log(r"web: started")
    check(ctl(t, "status").returncode == 0, "the new luvsup answers")
    check(again.stop() == 0, "clean shutdown")


def test_a_socket_path_that_is_not_a_socket_stops_the_run(t):
    t.stack('stack { control = "taken" }\nservice "a" { cmd = { "sleep", "1000" } }\n')
    t.write("taken", "a regular file\n")
    run = t.run()
    check(run.wait() == 1, "luvsup fails")
    check("exists and is not a socket; not replacing it" in run.log(), run.log())
    check(tagged_pids(t.file("stack.lua")) == [], "nothing was started")


def detach(t, *args):
    return subprocess.run([LUVSUP, "run", "--detach", *args, "stack.lua"], cwd=t.path,
                          capture_output=True, text=True, timeout=DEFAULT_TIMEOUT * 2)


def test_run_detach_returns_once_the_stack_is_up(t):
    t.stack(f'''
service "db" {{ cmd = {{ "sleep", "1000" }} }}
service "orphaner" {{ cmd = [[{HELPERS}/double_fork daemon.pid; exec sleep 1000]], depends_on = {{ "db" }} }}
service "broken" {{ cmd = {{ "/nonexistent/binary" }} }}
''')
    proc = detach(t)
    check(proc.returncode == 0, proc.stdout + proc.stderr)
    check("is up in the background" in proc.stdout and "2 services running, 1 failed (broken)"
          in proc.stdout, proc.stdout)
    reply = json.loads(ctl(t, "status", "--json").stdout)
    daemon_pid = reply["stack"]["pid"]
    try:
        states = {s["name"]: s["state"] for s in reply["services"]}
        check(states["db"] == "running" and states["orphaner"] == "running", states)
        check(os.path.exists(sock_path(t)), "the socket is ready when run returns")
        check(os.getsid(daemon_pid) != os.getsid(0), "not in the caller's session")
        check(os.getsid(daemon_pid) != daemon_pid, "not a session leader: it cannot get a terminal")
        # The subreaper flag is set in the final process: the orphan is its child.
        orphan = int(t.wait_file("daemon.pid", lambda text: text.strip().isdigit()).strip())

        def parent_of_orphan():
            with open(f"/proc/{orphan}/stat") as f:
                return int(f.read().rsplit(")", 1)[1].split()[1])

        # Its parent exits just after the pid file appears; then luvsup adopts it.
        wait_until(lambda: parent_of_orphan() == daemon_pid, what="luvsup to adopt the orphan")
        log = t.wait_file("logs/luvsup.log", lambda text: "db: started" in text)
        check("control socket:" in log, log)
    finally:
        shut = ctl(t, "shutdown")
    check(shut.returncode == 0, shut.stderr)
    wait_until(lambda: not pid_alive(daemon_pid), what="the background luvsup to exit")


def test_run_detach_reports_why_it_failed(t):
    t.stack('service "a" { cmd = { "sleep", "1000" } }\n')
    first = t.run()
    first.wait_log(r"a: started")
    proc = detach(t)
    check(proc.returncode == 1, f"exit {proc.returncode}")
    check(f"already supervised by luvsup pid {first.pid}" in proc.stderr and "logs/luvsup.log"
          in proc.stderr, proc.stderr)
    check(first.stop() == 0, "clean shutdown")
    t.stack('stack { control = "taken" }\nservice "a" { cmd = { "sleep", "1000" } }\n')
    t.write("taken", "not a socket\n")
    proc = detach(t)
    check(proc.returncode == 1, f"exit {proc.returncode}")
    check("failed" not in proc.stdout and "control socket:" in proc.stderr and
          "not a socket" in proc.stderr, proc.stderr)


def test_commands_still_find_luvsup_while_the_stack_file_is_broken(t):
    run = start_stack(t)
    t.write("stack.lua", "service 'web' {  -- an edit in progress\n")
    proc = ctl(t, "status")
    check(proc.returncode == 0 and "web" in proc.stdout, proc.stdout + proc.stderr)
    check(run.stop() == 0, "clean shutdown")



def test_run_detach_does_not_wait_for_a_service_blocked_by_a_stopped_dependency(t):
    t.stack('''
service "db" { cmd = { "sleep", "1000" } }
service "web" { cmd = { "sleep", "1000" }, depends_on = { "db" } }
''')
    os.makedirs(t.file(".luvsup"))
    t.write(".luvsup/desired.json", '{"v":1,"stopped":["db"]}\n')
    proc = detach(t)
    try:
        check(proc.returncode == 0, proc.stdout + proc.stderr)
        check("0 services running, 1 waiting for a stopped or failed dependency (web)" in proc.stdout,
              proc.stdout)
        web = status(t)["web"]
        check(web["state"] == "starting" and "waiting for db (started), stopped by the user"
              in web["reason"], web)
    finally:
        ctl(t, "shutdown")


def test_reload_applies_a_change_and_reports_a_broken_stack(t):
    run = start_stack(t, TWO_SERVICES, "--no-watch")
    wait_state(t, "web", "running")
    db_pid = status(t)["db"]["pid"]
    t.stack(TWO_SERVICES.replace('"web"', '"www"'))
    proc = ctl(t, "reload")
    check(proc.returncode == 0, proc.stderr)
    check("reload: +www -web" in proc.stdout, proc.stdout)
    wait_state(t, "www", "running")
    check(status(t)["db"]["pid"] == db_pid, "an unchanged service keeps its pid")
    t.stack(TWO_SERVICES + "service 'broken' { comand = 'x' }\n")
    proc = ctl(t, "reload")
    check(proc.returncode == 1, f"exit {proc.returncode}")
    check(re.search(r"stack\.lua:\d+: service 'broken': unknown key 'comand'", proc.stderr), proc.stderr)
    last = json.loads(ctl(t, "status", "--json").stdout)["stack"]["last_reload"]
    check(last["ok"] is False and last["trigger"] == "luvsup reload" and "comand" in last["message"],
          last)
    check(status(t)["www"]["state"] == "running", "a broken reload keeps the running stack")
    check(run.stop() == 0, "clean shutdown")


def test_status_shows_health_and_readiness(t):
    port = free_port()
    start_stack(t, f'''
local health = require "luvsup.health"
service "api" {{
  cmd = {{ "python3", "-m", "http.server", "{port}", "--bind", "127.0.0.1" }},
  health = health.http {{ url = "http://127.0.0.1:{port}/", interval = 1, start_interval = "100ms" }},
}}
''')
    t.runs[0].wait_log(r"api: healthy \(http 200")
    api = json.loads(ctl(t, "status", "--json").stdout)["services"][0]
    check(api["health"]["status"] == "healthy" and api["health"]["ready"] is True, api)
    check(api["health"]["failures"] == 0 and api["health"]["last_error"] is None, api)
    last = api["health"]["last"]
    check(last["ok"] is True and last["status"] == 200 and last["timed_out"] is False, last)
    check("Directory listing" in last["output"] and len(last["output"]) <= 512, last)
    check(isinstance(api["health"]["latency"], float) and isinstance(api["health"]["since"], float),
          api)
    table = ctl(t, "status").stdout
    check(re.search(r"^api\s+running.*healthy", table, re.M), table)


def test_check_plan_shows_what_a_reload_would_do_without_doing_it(t):
    run = start_stack(t, TWO_SERVICES, "--no-watch")
    wait_state(t, "web", "running")
    before = status(t)
    t.stack(TWO_SERVICES.replace("web says hi", "web says hello")
            + 'service "extra" { cmd = { "sleep", "1000" } }\n')
    code, out, err = t.check("stack.lua", "--plan")
    check(code == 0, err)
    check("stack.lua: ok: stack 'stack', 3 services" in out, out)
    check(re.search(r"^plan: \+extra ~web \(cmd changed: would restart\)$", out, re.M), out)
    after = status(t)
    check(set(after) == {"db", "web"}, f"nothing was added: {sorted(after)}")
    check(after["web"]["pid"] == before["web"]["pid"], "nothing was restarted")
    check(run.count(r"reload:") == 0, "nothing was reloaded")
    t.stack(TWO_SERVICES)
    code, out, _ = t.check("stack.lua", "--plan")
    check(code == 0 and "plan: no changes" in out, out)
    t.write("other/stack.lua", 'service "solo" { cmd = { "sleep", "1000" } }\n')
    code, _, err = t.check("other/stack.lua", "--plan", "-s", sock_path(t))
    check(code == 1 and "this luvsup runs " + os.path.realpath(t.file("stack.lua")) in err,
          f"a plan of another stack file is refused: exit {code}: {err}")
    check(run.stop() == 0, "clean shutdown")
    code, _, err = t.check("stack.lua", "--plan")
    check(code == 3 and "no luvsup is running for stack.lua" in err, f"exit {code}: {err}")


def test_a_guessed_socket_of_another_stack_is_refused_and_the_right_one_found(t):
    # Two stacks in one directory: "a" keeps the default state directory (and
    # so the socket a client guesses first), "b" has its own.
    t.stack('service "only_a" { cmd = { "sleep", "1000" } }\n', name="a.lua")
    t.stack('stack { state_dir = ".b" }\nservice "only_b" { cmd = { "sleep", "1000" } }\n',
            name="b.lua")
    run_a = t.run(stack="a.lua")
    run_b = t.run(stack="b.lua")
    run_a.wait_log(r"control socket: ")
    run_b.wait_log(r"control socket: ")
    check(list(status(t, "--file", "b.lua")) == ["only_b"], "b's client reaches b, not a")
    check(list(status(t, "--file", "a.lua")) == ["only_a"], "a's client reaches a")
    proc = ctl(t, "stop", "--all", "--file", "b.lua")
    check(proc.returncode == 0, proc.stderr)
    check(status(t, "--file", "a.lua")["only_a"]["state"] == "running", "a was not touched")
    s = raw_client(t.file(".luvsup/control.sock"))
    reply = exchange(s, json.dumps({"v": 1, "cmd": "stop", "all": True,
                                    "stack": os.path.realpath(t.file("b.lua"))}) + "\n")
    check(reply["ok"] is False and reply["error"].startswith("this socket serves another stack: "),
          reply)
    check(status(t, "--file", "a.lua")["only_a"]["state"] == "running", "a refused request does nothing")
    check(run_a.stop() == 0 and run_b.stop() == 0, "clean shutdowns")
