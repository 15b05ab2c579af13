"""Readiness without probes, on the real binary: the sd_notify protocol
(READY=1, STATUS=, WATCHDOG=1 kept alive and missed) through a small helper
that sends datagrams as sd_notify(3) does and through systemd-notify(1), the
s6 readiness descriptor, a ready log line, and the systemd variables luvsup
inherited never reaching a child.

Every test but test_inherited_systemd_variables_do_not_reach_children sets
`ready = {...}` or `watchdog` in the stack, keys the DSL gains in the health
work (issue 3)."""
import os
import shutil
import stat

from harness import HELPERS, check, tagged_pids, wait_until

NOTIFY = os.path.join(HELPERS, "notify_ready")


def fd_target(pid, fd):
    try:
        return os.readlink(f"/proc/{pid}/fd/{fd}")
    except OSError:
        return None


def lua_cmd(*args):
    return "{ " + ", ".join(f'"{a}"' for a in args) + " }"


def test_notify_ready_and_status_text(t):
    # One datagram of two lines: Lua's "\\n" reaches the helper as backslash-n.
    cmd = lua_cmd(NOTIFY, "send=STATUS=Starting", "sleep=0.1",
                  r"send=READY=1\\nSTATUS=Accepting connections", "send=STATUS=Accepting connections", "wait")
    t.stack(f'''
service "db" {{
  cmd = {cmd},
  ready = {{ notify = true }},
}}
''')
    run = t.run()
    run.wait_log(r"db: ready \(notify\)")
    run.wait_log(r"db: status: Accepting connections")
    log = run.log()
    check(log.index("db: status: Starting") < log.index("db: ready (notify)"), log)
    check(run.count(r"db: status: Accepting connections") == 1, "an unchanged STATUS is logged once")
    sock = t.file(".luvsup/notify/db.sock")
    check(stat.S_ISSOCK(os.stat(sock).st_mode), "the socket is under the state directory")
    check(stat.S_IMODE(os.stat(t.file(".luvsup/notify")).st_mode) == 0o700, "its directory is private")
    check(run.stop() == 0, run.log())
    check(not os.path.exists(sock), "the socket is removed when the service is gone")
    check(not os.path.exists(t.file(".luvsup/notify")), "and its directory at shutdown")


def test_systemd_notify_makes_a_service_ready(t):
    tool = shutil.which("systemd-notify")
    if tool is None:
        print("SKIP: systemd-notify is not installed")
        return
    t.stack(f'''
service "app" {{
  cmd = [[{tool} --ready --status="serving from a child process"; exec sleep 1000]],
  ready = {{ notify = true }},
}}
''')
    run = t.run()
    run.wait_log(r"app: ready \(notify\)")
    run.wait_log(r"app: status: serving from a child process")
    check(run.stop() == 0, run.log())


def test_watchdog_kept_alive_is_quiet_and_a_silent_one_is_missed(t):
    t.stack(f'''
service "alive" {{
  cmd = {lua_cmd(NOTIFY, "send=READY=1", "watchdog")},
  ready = {{ notify = true }},
  watchdog = 2,
}}
service "silent" {{
  cmd = {lua_cmd(NOTIFY, "send=READY=1", "wait")},
  ready = {{ notify = true }},
  watchdog = 3,
}}
''')
    run = t.run()
    run.wait_log(r"alive: ready \(notify\)")
    run.wait_log(r"silent: watchdog missed \(no WATCHDOG=1 for 3s\)")
    # By now "alive" has been ready for more than one of its watchdog periods.
    check(run.count(r"alive: watchdog missed") == 0, run.log())
    check(run.count(r"alive: exited") == 0, "the helper found WATCHDOG_USEC (it exits 3 without)")
    check(run.stop() == 0, run.log())


def test_watchdog_usec_reaches_the_service(t):
    t.stack(f'''
service "svc" {{
  cmd = {lua_cmd(NOTIFY, "env=env.txt", "wait")},
  ready = {{ notify = true }},
  watchdog = 2.5,
}}
''')
    run = t.run()
    text = t.wait_file("env.txt", lambda s: s.endswith("END\n"))
    check("WATCHDOG_USEC=2500000\n" in text, text)
    check(f"NOTIFY_SOCKET={os.path.realpath(t.file('.luvsup/notify/svc.sock'))}\n" in text or
          f"NOTIFY_SOCKET={t.file('.luvsup/notify/svc.sock')}\n" in text, text)
    check("WATCHDOG_PID=(unset)" in text, text)
    check(run.stop() == 0, run.log())


def test_fd_readiness(t):
    t.stack(f'''
service "s6style" {{
  cmd = {lua_cmd(NOTIFY, "sleep=0.1", "fd=5", "wait")},
  ready = {{ fd = 5 }},
}}
''')
    run = t.run()
    run.wait_log(r"s6style: ready \(fd\)")
    check(run.count(r"s6style: exited") == 0, run.log())
    check(run.stop() == 0, run.log())


def test_ready_log_line(t):
    t.stack('''
service "web" {
  cmd = [[echo "starting up"; echo "not yet: port pending"; echo "listening on port 8080"; exec sleep 1000]],
  ready = { log = "^listening on port %d+$" },
}
''')
    run = t.run()
    run.wait_log(r"web: ready \(log\)")
    check(run.count(r"web: ready") == 1, run.log())
    check(run.stop() == 0, run.log())


def test_a_restarted_service_gets_a_fresh_socket_and_is_ready_again(t):
    t.stack(f'''
local backoff = require "luvsup.backoff"
service "flaky" {{
  cmd = {{ "/bin/sh", "-c", "{NOTIFY} send=READY=1; exit 1" }},
  ready = {{ notify = true }},
  restart = backoff.exponential {{ initial = 0.1, max = 0.1 }},
}}
''')
    run = t.run()
    run.wait_log(r"flaky: ready \(notify\)", count=3)
    check(run.stop() == 0, run.log())
    check(not os.path.exists(t.file(".luvsup/notify/flaky.sock")), "no socket is left behind")


def test_descriptors_and_oversized_datagrams_do_not_confuse_luvsup(t):
    t.stack(f'''
service "odd" {{
  cmd = {lua_cmd(NOTIFY, "big", "sendfd=STATUS=with a descriptor", "send=READY=1", "wait")},
  ready = {{ notify = true }},
}}
''')
    run = t.run()
    run.wait_log(r"odd: ready \(notify\)")
    log = run.log()
    check("odd: ignored a notify message of 8192 bytes" in log, log)
    check(log.index("odd: ignored a notify message") < log.index("odd: ready (notify)"),
          "the oversized READY=1 did not count")
    check("odd: status: with a descriptor" in log, log)
    # The helper passed its stdout, the service's log pipe: luvsup must hold
    # only its own read end of that pipe, not the copy it received.
    child = wait_until(lambda: tagged_pids(t.file("stack.lua"), "odd"), what="the service's pid")[0]
    pipe = os.readlink(f"/proc/{child}/fd/1")
    held = [n for n in os.listdir(f"/proc/{run.pid}/fd") if fd_target(run.pid, n) == pipe]
    check(len(held) == 1, f"luvsup holds {len(held)} descriptors of {pipe}")
    check(run.stop() == 0, run.log())


def test_a_notify_socket_that_cannot_be_made_fails_the_spawn_clearly(t):
    t.write(".luvsup/notify", "a file where the socket directory should be")
    t.stack(f'''
service "db" {{
  cmd = {lua_cmd(NOTIFY, "send=READY=1", "wait")},
  ready = {{ notify = true }},
  restart = "never",
}}
''')
    run = t.run()
    run.wait_log(r"db: spawn failed: notify socket: .*\.luvsup/notify is not a directory")
    run.stop()


def test_inherited_systemd_variables_do_not_reach_children(t):
    t.stack(f'''
service "child" {{
  cmd = {lua_cmd(NOTIFY, "env=env.txt", "wait")},
}}
''')
    inherited = {"NOTIFY_SOCKET": "/run/systemd/notify", "LISTEN_PID": "1", "LISTEN_FDS": "2",
                 "LISTEN_FDNAMES": "a:b", "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}
    run = t.run(env=inherited)
    text = t.wait_file("env.txt", lambda s: s.endswith("END\n"))
    for name in inherited:
        check(f"{name}=(unset)\n" in text, f"{name} leaked: {text}")
    check(run.stop() == 0, run.log())


def test_stopping_is_logged(t):
    t.stack(f'''
service "leaving" {{
  cmd = {lua_cmd(NOTIFY, "send=READY=1", "send=STOPPING=1", "wait")},
  ready = {{ notify = true }},
}}
''')
    run = t.run()
    run.wait_log(r"leaving: says it is stopping \(STOPPING=1\)")
    check(run.stop() == 0, run.log())


def test_a_service_running_as_another_user_reaches_its_socket(t):
    if os.geteuid() != 0:
        print("SKIP: switching users needs root")
        return
    notify = t.reachable_by_all(NOTIFY)  # with the test's directory, reachable for nobody
    t.stack(f'''
service "owned" {{
  cmd = {lua_cmd(notify, "send=STATUS=as nobody", "send=READY=1", "wait")},
  user = "nobody",
  ready = {{ notify = true }},
}}
''')
    run = t.run()
    run.wait_log(r"owned: ready \(notify\)")
    check("owned: status: as nobody" in run.log(), run.log())
    check(run.stop() == 0, run.log())


def test_a_service_that_closes_its_readiness_fd_without_a_newline_is_named(t):
    t.stack('''
service "mute" {
  cmd = [[exec 5>&-; exec sleep 1000]],
  ready = { fd = 5 },
}
''')
    run = t.run()
    run.wait_log(r"mute: closed its readiness descriptor without writing a newline")
    check(run.count(r"mute: ready") == 0, run.log())
    check(run.stop() == 0, run.log())
